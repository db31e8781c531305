"""The recurrent layers of PyTorch state dicts (SPEC §4): saved as .safetensors or .npz, or
by torch.save (.pt, .pth, .bin, .ckpt, read by :mod:`gru_tui.io.torch_checkpoint`).

Loading never executes code from the file: .safetensors through the safetensors library,
.npz through ``np.load(allow_pickle=False)``, so a pickled or object array is refused, never
unpickled; a torch.save checkpoint through an unpickler that builds tensors only. Every
problem is an :class:`InputError` of one line naming the file and the tensor.

PyTorch names its tensors ``weight_ih_l{k}[_reverse]``, ``weight_hh_l{k}[_reverse]``,
``bias_ih_l{k}[_reverse]``, ``bias_hh_l{k}[_reverse]`` (nn.GRU / nn.LSTM / nn.RNN) and
``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (nn.GRUCell / nn.LSTMCell /
nn.RNNCell), under any module prefix. The kind comes from the rows: g·H with g = 3 (GRU),
4 (LSTM), 1 (simple RNN), H being the columns of weight_hh.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from gru_tui.engine.gates import KIND_BY_GATE_COUNT
from gru_tui.errors import InputError
from gru_tui.io.layers import (
    FileBudget,
    Layer,
    check_file,
    check_values,
    check_zip_member,
    first_line,
)
from gru_tui.io.torch_checkpoint import is_torch_archive, read_checkpoint

CONVENTIONS = {"gru": "reset after", "lstm": "standard", "rnn": "tanh"}
_NAME = re.compile(r"^(?P<prefix>(?:.*\.)?)(?P<role>weight_ih|weight_hh|weight_hr|bias_ih|bias_hh)"
                   r"(?:_l(?P<layer>\d+)(?P<reverse>_reverse)?)?$")
_TORCH = (".pt", ".pth", ".bin", ".ckpt")
_PICKLED = (".pkl", ".pickle")


def read_pytorch_layers(path: Path) -> list[Layer]:
    """Every recurrent layer of a PyTorch state dict in a .safetensors or .npz file."""
    tensors = read_tensors(path)
    groups: dict[tuple[str, int | None, bool], dict[str, tuple[str, np.ndarray]]] = {}
    prefixes: list[str] = []
    for key, array in tensors.items():
        match = _NAME.match(key)
        if match is None:
            continue
        prefix = match["prefix"]
        if prefix not in prefixes:
            prefixes.append(prefix)
        layer = None if match["layer"] is None else int(match["layer"])
        group = groups.setdefault((prefix, layer, bool(match["reverse"])), {})
        group[match["role"]] = (key, array)
    if not groups:
        raise InputError(f"{path} holds no recurrent layer (no PyTorch weight_ih / weight_hh "
                         "tensors)")
    order = sorted(groups, key=lambda g: (prefixes.index(g[0]), -1 if g[1] is None else g[1],
                                          g[2]))
    return [_layer(path, *spec, groups[spec]) for spec in order]


def _layer(path: Path, prefix: str, number: int | None, reverse: bool,
           group: dict[str, tuple[str, np.ndarray]]) -> Layer:
    suffix = "" if number is None else f"_l{number}" + ("_reverse" if reverse else "")
    if "weight_hr" in group:
        raise InputError(f"{path}: {group['weight_hr'][0]} is an LSTM projection (proj_size), "
                         "which gru-tui does not run")
    for role in ("weight_ih", "weight_hh"):
        if role not in group:
            raise InputError(f"{path}: {prefix}{role}{suffix} is missing")
    ih_key, ih = group["weight_ih"]
    hh_key, hh = group["weight_hh"]
    for key, array in group.values():
        check_values(path, key, array)
    if ih.ndim != 2:
        raise InputError(f"{path}: {ih_key} has shape {ih.shape}, expected 2 dimensions")
    rows = ih.shape[0]
    expected_hh = _expected_hh(rows, hh)
    if hh.shape != expected_hh:
        raise InputError(f"{path}: {hh_key} has shape {hh.shape}, expected {expected_hh}")
    H = hh.shape[1]
    kind = KIND_BY_GATE_COUNT[rows // H]
    biases = [role for role in ("bias_ih", "bias_hh") if role in group]
    if len(biases) == 1:
        other = "bias_hh" if biases[0] == "bias_ih" else "bias_ih"
        raise InputError(f"{path}: {prefix}{other}{suffix} is missing")
    for role in biases:
        key, bias = group[role]
        if bias.shape != (rows,):
            raise InputError(f"{path}: {key} has shape {bias.shape}, expected ({rows},)")
    if number is None:
        name = prefix[:-1] if prefix else "cell"
    else:
        name = f"{prefix}l{number}" + ("_reverse" if reverse else "")
    return Layer(
        name=name, kind=kind, direction="reverse" if reverse else "forward",
        input_size=ih.shape[1], hidden_size=H, convention=CONVENTIONS[kind],
        parameters=sum(int(array.size) for _, array in group.values()), path=str(path),
        tensors={role: array for role, (_, array) in group.items()},
    )


def _expected_hh(rows: int, hh: np.ndarray) -> tuple[int, int]:
    """The shape weight_hh should have next to a weight_ih of `rows` rows."""
    if hh.ndim == 2 and hh.shape[0] == rows and hh.shape[1] > 0 and rows % hh.shape[1] == 0 \
            and rows // hh.shape[1] in KIND_BY_GATE_COUNT:
        return hh.shape
    for g in (3, 4, 1):  # the likeliest reading of the rows of weight_ih
        if rows % g == 0:
            return (rows, rows // g)
    return (rows, rows)  # pragma: no cover - g = 1 always divides


# -- reading the files ----------------------------------------------------------------------


def read_tensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors, .npz or torch.save file, by name, in the file's order
    (a checkpoint's nested tensors by their key path, "state_dict.rnn.weight_ih_l0")."""
    size, head = check_file(path)
    suffix = path.suffix.lower()
    if suffix in _TORCH or (head.startswith(b"PK") and is_torch_archive(path)):
        return read_checkpoint(path)
    if suffix in _PICKLED:
        raise InputError(f"{path} is a pickle; gru-tui never unpickles one: save the state "
                         'dict with torch.save(model.state_dict(), "model.pt")')
    if suffix == ".npz" or (suffix != ".safetensors" and head.startswith(b"PK")):
        return _read_npz(path, head)
    if suffix == ".safetensors" or _looks_like_safetensors(head, size):
        return _read_safetensors(path)
    raise InputError(f"{path} is not a .safetensors or .npz file")


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    return len(head) == 8 and 0 < int.from_bytes(head, "little") <= size - 8


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    try:
        from safetensors import safe_open
    except ImportError:  # pragma: no cover - a core dependency
        raise InputError("reading .safetensors needs the safetensors package") from None
    tensors = {}
    try:
        with safe_open(str(path), framework="numpy") as handle:
            for key in handle.keys():  # noqa: SIM118 - safe_open has no __iter__
                try:
                    tensor = handle.get_tensor(key)
                    if tensor.dtype.name == "bfloat16":  # numpy with ml_dtypes loaded
                        tensor = tensor.astype(np.float32)  # exact
                    tensors[key] = tensor
                except Exception as error:  # bfloat16, which numpy lacks, is read below
                    bfloat16 = _bfloat16(path, key)
                    if bfloat16 is None:
                        raise InputError(f"{path}: {key} cannot be read "
                                         f"({first_line(error)})") from None
                    tensors[key] = bfloat16
    except InputError:
        raise
    except Exception as error:
        raise InputError(f"{path} is not a readable .safetensors file "
                         f"({first_line(error)})") from None
    return tensors


def _bfloat16(path: Path, key: str) -> np.ndarray | None:
    """A bfloat16 tensor of a safetensors file as float32 (exact), or None if it is not one.

    The header is JSON after its 8-byte length; the library has already checked it."""
    import json

    with path.open("rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        entry = json.loads(handle.read(length)).get(key, {})
        if entry.get("dtype") != "BF16":
            return None
        start, stop = entry["data_offsets"]
        handle.seek(8 + length + start)
        raw = np.frombuffer(handle.read(stop - start), dtype="<u2")
    return (raw.astype(np.uint32) << 16).view(np.float32).reshape(entry["shape"])


def _read_npz(path: Path, head: bytes) -> dict[str, np.ndarray]:
    import zipfile

    tensors = {}
    try:
        if head.startswith(b"\x93NUMPY"):
            raise InputError(f"{path} is one .npy array, not an .npz archive")
        if head.startswith(b"PK"):
            _check_npz_sizes(path)
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise InputError(f"{path} is not an .npz archive")
            for key in archive.files:
                try:
                    value = archive[key]
                    if not isinstance(value, np.ndarray):
                        raise InputError(f"{path}: {key} is not a NumPy array")
                    tensors[key] = value
                except ValueError as error:
                    if "allow_pickle" in str(error) or "Object arrays" in str(error):
                        raise InputError(f"{path}: {key} is a pickled object array; gru-tui "
                                         "never unpickles") from None
                    raise InputError(f"{path}: {key} cannot be read ({first_line(error)})"
                                     ) from None
                except InputError:
                    raise
                except Exception as error:
                    raise InputError(f"{path}: {key} cannot be read ({first_line(error)})"
                                     ) from None
    except InputError:
        raise
    except ValueError as error:
        if "pickle" in str(error):
            raise InputError(f"{path} holds pickled data, not an .npz archive; gru-tui never "
                             "unpickles") from None
        raise InputError(f"{path} is not a readable .npz file ({first_line(error)})") from None
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise InputError(f"{path} is not a readable .npz file ({first_line(error)})") from None
    except Exception as error:
        raise InputError(f"{path} is not a readable .npz file ({first_line(error)})") from None
    return tensors


def _check_npz_sizes(path: Path) -> None:
    """Every member's size, as its .npy header declares it (numpy allocates that before it
    reads a byte), summed against the file's budget before any member is read."""
    import zipfile

    budget = FileBudget(path)
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            budget.check_time()
            check_zip_member(path, info)
            key = info.filename.removesuffix(".npy")
            with archive.open(info) as member:
                if member.read(6) != b"\x93NUMPY":  # np.load returns such a member's bytes
                    budget.take(info.file_size, f"{key} ({info.file_size:,} bytes)")
                    continue
                member.seek(0)
                try:
                    major, _ = np.lib.format.read_magic(member)
                    read_header = (np.lib.format.read_array_header_1_0 if major == 1
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(member)
                except Exception as error:  # a header numpy cannot parse, of any kind
                    raise InputError(f"{path}: {key} cannot be read ({first_line(error)})"
                                     ) from None
            budget.take(max(math.prod(shape), 0) * dtype.itemsize, f"{key} of shape {shape}")
def read_metadata(path: Path) -> dict[str, str]:
    """The free-text metadata a .safetensors file keeps in its header (the examples record
    their task and held-out errors there); {} for other files."""
    path = Path(path)
    size, head = check_file(path)
    if not (path.suffix.lower() == ".safetensors" or _looks_like_safetensors(head, size)):
        return {}
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as handle:
            return dict(handle.metadata() or {})
    except Exception as error:
        raise InputError(f"{path} is not a readable .safetensors file "
                         f"({first_line(error)})") from None
