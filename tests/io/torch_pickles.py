"""torch.save archives written by hand, opcode by opcode, for tests that need no torch.

A state dict's pickle is what torch 2.13 writes (see ``pickletools.dis`` of any ckpt_*.pt
fixture): a dict whose values are ``torch._utils._rebuild_tensor_v2((persistent storage id),
offset, size, stride, False, OrderedDict())``; the storages are zip entries
``<root>/data/<key>``. Traps are more opcodes put among the items. The classes below run
code when a plain unpickler meets them, which the tests show before feeding them to gru-tui.
"""

from __future__ import annotations

import os
import pickle
import struct
import zipfile
from math import prod

import numpy as np


def global_(module: str, name: str) -> bytes:
    """GLOBAL: the unpickler's find_class(module, name)."""
    return b"c" + f"{module}\n{name}\n".encode()


def text(value: str) -> bytes:
    data = value.encode("utf-8", "surrogatepass")
    return b"X" + struct.pack("<I", len(data)) + data


def integer(value: int) -> bytes:
    if -(2**31) <= value < 2**31:
        return b"J" + struct.pack("<i", value)
    data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(data)]) + data  # LONG1


def tuple_of(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def call(function: bytes, *args: bytes) -> bytes:
    """REDUCE: function(*args)."""
    return function + tuple_of(*args) + b"R"


def storage_id(key: str, numel: int, storage: str = "FloatStorage",
               module: str = "torch") -> bytes:
    """BINPERSID of ('storage', torch.<storage>, key, 'cpu', numel)."""
    return tuple_of(text("storage"), global_(module, storage), text(key), text("cpu"),
                    integer(numel)) + b"Q"


def tensor(key: str, size: tuple[int, ...], stride: tuple[int, ...] | None = None,
           offset: int = 0, numel: int | None = None, storage: str = "FloatStorage") -> bytes:
    """torch._utils._rebuild_tensor_v2 of storage `key` (contiguous unless told)."""
    if stride is None:
        stride = tuple(prod(size[i + 1:]) for i in range(len(size)))
    numel = prod(size) if numel is None else numel
    return call(global_("torch._utils", "_rebuild_tensor_v2"),
                storage_id(key, numel, storage), integer(offset),
                tuple_of(*map(integer, size)), tuple_of(*map(integer, stride)), b"\x89",
                call(global_("collections", "OrderedDict")))


def dict_of(items: list[tuple[str, bytes]]) -> bytes:
    return b"}(" + b"".join(text(key) + value for key, value in items) + b"u"


def pickled(ops: bytes) -> bytes:
    return b"\x80\x02" + ops + b"."


def embedded(obj) -> bytes:
    """The opcodes Python's own pickler writes for `obj` (protocol 2), to put among others."""
    data = pickle.dumps(obj, protocol=2)
    assert data[:2] == b"\x80\x02" and data[-1:] == b"."
    return data[2:-1]


def write_archive(path, data_pkl: bytes, storages: dict[str, bytes], root: str = "archive",
                  byteorder: bytes | None = b"little", extra: dict[str, bytes] | None = None):
    """A zip laid out as torch.save lays it out."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{root}/data.pkl", data_pkl)
        archive.writestr(f"{root}/version", b"3\n")
        if byteorder is not None:
            archive.writestr(f"{root}/byteorder", byteorder)
        for key, data in storages.items():
            archive.writestr(f"{root}/data/{key}", data)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def gru_state(D: int = 3, H: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"weight_ih_l0": rng.uniform(-1, 1, (3 * H, D)).astype(np.float32),
            "weight_hh_l0": rng.uniform(-1, 1, (3 * H, H)).astype(np.float32),
            "bias_ih_l0": rng.uniform(-1, 1, 3 * H).astype(np.float32),
            "bias_hh_l0": rng.uniform(-1, 1, 3 * H).astype(np.float32)}


def state_items(state: dict[str, np.ndarray]) -> tuple[list[tuple[str, bytes]], dict[str, bytes]]:
    """The dict items and storages of a float32 state dict, one storage per tensor."""
    items, storages = [], {}
    for index, (key, array) in enumerate(state.items()):
        items.append((key, tensor(str(index), array.shape)))
        storages[str(index)] = array.astype("<f4").tobytes()
    return items, storages


def state_archive(path, state: dict[str, np.ndarray], extra_items=(), **options):
    """A state dict of float32 tensors with more (key, opcodes) items after its own."""
    items, storages = state_items(state)
    return write_archive(path, pickled(dict_of([*items, *extra_items])), storages, **options)


class WritesOnReduce:
    """Unpickled plainly, runs a shell command that creates the marker."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


class WritesOnSetstate:
    """Unpickled plainly, creates the marker when it is given its state (BUILD)."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __setstate__(self, state) -> None:
        open(state["marker"], "w").close()


class WritesOnInit:
    """Unpickled plainly by INST or OBJ, creates the marker named by its argument."""

    def __init__(self, marker) -> None:
        open(marker, "w").close()
