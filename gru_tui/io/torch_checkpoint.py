"""torch.save checkpoints (.pt, .pth, .bin, .ckpt) read without torch and without running
anything from the file (SPEC §4).

torch ≥ 1.6 writes a zip archive. ``<root>/data.pkl`` pickles the saved object; in it every
tensor is a call of ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)`` and
every storage a persistent id ``('storage', torch.FloatStorage, key, location, numel)`` whose
bytes are the entry ``<root>/data/<key>``, in the order ``<root>/byteorder`` names.

The pickle is run by the C unpickler with a ``find_class`` that imports nothing: it answers
from a fixed table of this module's own functions and tags, the globals torch's
``weights_only=True`` admits for tensors (the rebuild functions, OrderedDict, torch.Size, the
typed storages and dtypes). Every other global is one of two things:

- known to run code, open files or reach into objects (os.system, subprocess.*,
  builtins.eval / exec / getattr / open, pickle.loads, torch.load, any dunder attribute, …):
  the file is refused with one line before anything is called. A weight file never needs
  them, so naming one is an attack or a broken file, and the user should hear it rather than
  see the file load and trust it elsewhere;
- anything else (the classes of a Lightning module's hyper-parameters, argparse.Namespace,
  numpy scalars, torch.device, …): the inert :class:`_Foreign`, never imported, whose calls,
  items and state are absorbed and dropped. Only tensors are taken out of a checkpoint.

Tensors are named by their key path through dicts, lists and tuples, joined with ".":
``{"state_dict": {"rnn.weight_ih_l0": t}}`` gives ``state_dict.rnn.weight_ih_l0``, a list item
its index (``optimizer_states.0.state.0.exp_avg``), a top-level state dict its own keys. A
dict's int keys are written in decimal, unprintable characters of str keys escaped (``\\x1b``);
a value under any other kind of key is skipped. An object reached twice (a state dict saved
under two names) is listed once, at its first name.

Before the pickle runs it is walked opcode by opcode (``pickletools.genops``, nothing built)
to bound its operations, its memo indices and how deeply it nests; storages are checked
against their entries and the bytes of all of them, and of all tensors built from them,
against :data:`~gru_tui.io.layers.MAX_FILE_BYTES` before a byte is read. Every problem is an
:class:`InputError` of one line naming the file and the place.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import pickletools
import re
import reprlib
import struct
import zipfile
from pathlib import Path

import numpy as np

from gru_tui.errors import InputError
from gru_tui.io.files import open_regular
from gru_tui.io.layers import MAX_FILE_BYTES, first_line, size_text

MAX_PICKLE_BYTES = 64 << 20
MAX_PICKLE_OPS = 1_000_000  # ~30 per tensor; the unpickler builds at most one object each
MAX_DEPTH = 100  # a tuple nested 10⁶ deep crashes the interpreter when it is hashed
MAX_DIRECTORY_BYTES = 16 << 20  # zipfile keeps ~8 bytes per byte of its central directory
MAX_TENSORS = 100_000
MAX_KEY_CHARS = 1000

# torch.save(..., _use_new_zipfile_serialization=False) and torch < 1.6 start with this
# pickled magic number (protocol 2, LONG1 of 0x1950a86a20f9469cfc6c).
LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

# torch's dtype name → the numpy type its bytes hold (bfloat16: the upper half of a float32)
NUMPY_TYPES = {
    "float64": "f8", "float32": "f4", "float16": "f2", "bfloat16": "u2",
    "int64": "i8", "int32": "i4", "int16": "i2", "int8": "i1",
    "uint64": "u8", "uint32": "u4", "uint16": "u2", "uint8": "u1", "bool": "b1",
    "complex128": "c16", "complex64": "c8",
}
STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64",
}
_DTYPE_NAME = re.compile(r"(?:b?float|u?int|complex|q?u?int|bits)\d\w*|bool")
_STORAGE_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")

# Globals refused outright (see the module's docstring): whole modules, builtins by name,
# and names that load, evaluate or run things wherever they live.
DANGEROUS_MODULES = frozenset({
    "os", "posix", "nt", "subprocess", "_posixsubprocess", "sys", "importlib", "runpy",
    "shutil", "socket", "ctypes", "code", "codeop", "pty", "pickle", "_pickle", "marshal",
    "shelve", "dill", "cloudpickle", "joblib", "webbrowser", "multiprocessing", "signal",
    "types", "operator", "functools", "inspect", "pdb", "timeit", "asyncio", "threading",
    "_thread", "io", "_io", "tempfile", "glob", "zipimport", "pkgutil", "site", "platform",
    "pydoc",
})
DANGEROUS_BUILTINS = frozenset({
    "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr",
    "globals", "locals", "vars", "breakpoint", "input", "exit", "quit", "help",
})
DANGEROUS_NAMES = frozenset({
    "eval", "exec", "execfile", "compile", "system", "popen", "Popen", "spawn", "__import__",
    "getattr", "setattr", "delattr", "load", "loads", "runstring", "run_path", "run_module",
})

_MUTATORS = frozenset({"APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD"})
_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"})
_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})
# each opcode's stack effect (pickletools' own table): pops to a mark?, items popped below
# it (or without one), objects pushed
_EFFECTS = {
    op.name: (pickletools.markobject in op.stack_before,
              op.stack_before.index(pickletools.markobject)
              if pickletools.markobject in op.stack_before else len(op.stack_before),
              len(op.stack_after))
    for op in pickletools.opcodes
}


# -- what the unpickler may build -------------------------------------------------------------


class _Sealed:
    """The objects handed to the unpickler ignore BUILD's state, so nothing later in the
    pickle changes them."""

    __slots__ = ()

    def __setstate__(self, state) -> None:
        pass


class _Foreign(_Sealed):
    """Every global outside the table: a class never imported; calling, filling or building
    it gives more of the same and runs nothing."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __call__(self, *args, **kwargs) -> _Foreign:
        return _Foreign()

    def __setitem__(self, key, value) -> None:  # SETITEMS into a dict subclass
        pass

    def append(self, item) -> None:  # APPENDS into a list subclass
        pass

    def extend(self, items) -> None:
        pass

    def add(self, item) -> None:  # ADDITEMS into a set subclass
        pass


class _Dict(_Sealed, dict):
    """collections.OrderedDict and defaultdict; the state dict's ``_metadata`` is dropped."""

    __slots__ = ()


class _Tag(_Sealed):
    """A dtype or storage type named in the pickle: torch.float32, torch.FloatStorage."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: str | None) -> None:
        self.dtype = dtype  # torch's name; None for torch.UntypedStorage (bytes)


class _Storage(_Sealed):
    """A persistent id resolved: the zip entry of a storage and what the pickle declares."""

    __slots__ = ("dtype", "entry", "nbytes")

    def __init__(self, entry: zipfile.ZipInfo, dtype: str | None, nbytes: int) -> None:
        self.entry, self.dtype, self.nbytes = entry, dtype, nbytes


class _Tensor(_Sealed):
    """A tensor as the pickle describes it; checked and read only after unpickling."""

    __slots__ = ("dtype", "offset", "size", "storage", "stride")

    def __init__(self, storage, offset, size, stride, dtype=None) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride
        self.dtype = dtype  # a _Tag (torch._utils._rebuild_tensor_v3), else the storage's


class _Safe(_Sealed):
    """One of this module's functions as the pickle sees it. A bare function would not do:
    BUILD could rewrite its ``__defaults__`` for every later file."""

    __slots__ = ("function",)

    def __init__(self, function) -> None:
        self.function = function

    def __call__(self, *args):
        return self.function(*args)


def _rebuild_tensor(storage, storage_offset, size, stride, *_grad_hooks_metadata):
    """torch._utils._rebuild_tensor_v2 (and the older _rebuild_tensor)."""
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, *_metadata):
    """torch._utils._rebuild_tensor_v3: bytes of an UntypedStorage and a dtype."""
    return _Tensor(storage, storage_offset, size, stride, dtype)


def _rebuild_parameter(data, *_grad_hooks_state):
    """torch._utils._rebuild_parameter(_with_state): an nn.Parameter is its tensor."""
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    """torch._tensor._rebuild_from_type_v2: a tensor with Python attributes, kept without."""
    return func(*args) if func in (REBUILD_TENSOR, REBUILD_TENSOR_V3) else _Foreign()


def _defaultdict(default_factory=None, *args):
    return _Dict(*args)


def _size(dims=()):
    return tuple(dims)


REBUILD_TENSOR, REBUILD_TENSOR_V3 = _Safe(_rebuild_tensor), _Safe(_rebuild_tensor_v3)
SAFE_GLOBALS = {
    "torch._utils._rebuild_tensor": REBUILD_TENSOR,
    "torch._utils._rebuild_tensor_v2": REBUILD_TENSOR,
    "torch._utils._rebuild_tensor_v3": REBUILD_TENSOR_V3,
    "torch._utils._rebuild_parameter": _Safe(_rebuild_parameter),
    "torch._utils._rebuild_parameter_with_state": _Safe(_rebuild_parameter),
    "torch._tensor._rebuild_from_type_v2": _Safe(_rebuild_from_type_v2),
    "collections.OrderedDict": _Dict,  # a class: BUILD on it fails on _Sealed.__setstate__
    "collections.defaultdict": _Safe(_defaultdict),
    "torch.Size": _Safe(_size),
    "torch.UntypedStorage": _Tag(None),
    "torch.storage.UntypedStorage": _Tag(None),
    **{f"torch.{name}": _Tag(dtype) for name, dtype in STORAGE_DTYPES.items()},
}


# -- reading ----------------------------------------------------------------------------------


def read_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of a torch.save zip archive by its key path, in the file's order.

    float16, float32 and float64 come as stored, bfloat16 widened to float32 (exactly),
    integer and bool tensors as themselves; other dtypes (float8, quantized) are refused.
    """
    path = Path(path)
    where = shown(path)
    try:
        with _open_regular(path, where) as handle:
            head = handle.read(len(LEGACY_MAGIC))
            if not head.startswith(b"PK"):
                raise InputError(_not_zip(where, shown(path.name, 80), head))
            handle.seek(0)
            with _open_zip(handle, where) as archive:
                return _read_archive(archive, where)
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{where} does not fit in memory") from None
    except Exception as error:
        raise InputError(f"{where} is not a readable torch.save checkpoint "
                         f"({shown(first_line(error))})") from None


def is_torch_archive(path: Path) -> bool:
    """True for a zip laid out as torch.save or torch.jit.save writes one."""
    try:
        with _open_regular(path, shown(path)) as handle, _open_zip(handle, "") as archive:
            return _root(archive.namelist()) is not None
    except Exception:
        return False


def printable(text: str) -> str:
    """`text` with control and other unprintable characters escaped as Python writes them."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown(text: object, limit: int = 200) -> str:
    """`text` fit for a one-line message: unprintable characters escaped, long text cut."""
    line = printable(str(text)[:limit + 1])
    return line if len(line) <= limit else line[:limit - 3] + "..."


def _open_regular(path: Path, where: str):
    """A regular file of weights opened for reading: not empty, not huge; FIFOs, devices and
    directories refused unread."""
    handle, size = open_regular(path, where)
    problem = None
    if size == 0:
        problem = f"{where} is empty"
    elif size > MAX_FILE_BYTES:
        problem = (f"{where} is {size_text(size)}; gru-tui reads weight files up to "
                   f"{size_text(MAX_FILE_BYTES)}")
    if problem:
        handle.close()
        raise InputError(problem)
    return handle


def _not_zip(where: str, name: str, head: bytes) -> str:
    if head.startswith(LEGACY_MAGIC):
        return (f"{where} is a legacy torch.save file (torch < 1.6 or "
                "_use_new_zipfile_serialization=False), which gru-tui does not read: save it "
                f'again with torch.save(torch.load("{name}", weights_only=True), "{name}")')
    if head[:1] == b"\x80" and head[1:2] in (b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"):
        return (f"{where} is a plain pickle, not a torch.save zip archive; gru-tui never "
                'unpickles one: torch.save(model.state_dict(), "model.pt")')
    return f"{where} is not a torch.save checkpoint (a zip archive holding data.pkl)"


def _open_zip(handle, where: str) -> zipfile.ZipFile:
    """The zip, once its central directory is known to be of a size worth parsing."""
    directory = _directory_bytes(handle)
    if directory > MAX_DIRECTORY_BYTES:
        raise InputError(f"{where}: its zip directory is {size_text(directory)}; gru-tui "
                         f"reads up to {size_text(MAX_DIRECTORY_BYTES)}")
    return zipfile.ZipFile(handle)


def _directory_bytes(handle) -> int:
    """The central directory's size as zipfile will read it: from the end record found as
    zipfile finds it (last 22 bytes, else the last one in the final 64 KiB), or its zip64
    version just before; 0 when there is none (zipfile then says what is wrong)."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    start = max(size - (1 << 16) - 22, 0)
    handle.seek(start)
    tail = handle.read()
    if tail[-22:-18] == b"PK\x05\x06" and tail[-2:] == b"\0\0":
        end = len(tail) - 22
    else:
        end = tail.rfind(b"PK\x05\x06")
        if end < 0 or len(tail) - end < 22:
            return 0
    directory = struct.unpack_from("<L", tail, end + 12)[0]
    locator = start + end - 20
    if locator >= 56:
        handle.seek(locator - 56)
        record = handle.read(76)
        if record[:4] == b"PK\x06\x06" and record[56:60] == b"PK\x06\x07":
            directory = struct.unpack_from("<Q", record, 40)[0]
    handle.seek(0)
    return directory


def _root(names: list[str]) -> str | None:
    """The folder holding data.pkl (torch names it after the file), if there is one."""
    for name in names:
        folder, _, rest = name.partition("/")
        if rest == "data.pkl" and folder:
            return folder
    return None


def _read_archive(archive: zipfile.ZipFile, where: str) -> dict[str, np.ndarray]:
    names = archive.namelist()
    for name in names:
        if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name):
            raise InputError(f"{where}: zip entry {shown(name)!r} points outside the archive")
    root = _root(names)
    if root is None:
        raise InputError(f"{where} is not a torch.save checkpoint (a zip archive holding "
                         "data.pkl)")
    if f"{root}/constants.pkl" in names or any(n.startswith(f"{root}/code/") for n in names):
        raise InputError(f"{where} is a TorchScript archive (torch.jit.save); gru-tui reads "
                         'state dicts: torch.save(model.state_dict(), "model.pt")')
    entries = {info.filename: info for info in archive.infolist()}
    order = _byte_order(archive, entries, root, where)
    label = f"{root}/data.pkl"
    info = entries[label]
    if info.file_size > MAX_PICKLE_BYTES:
        raise InputError(f"{where}: {shown(label)} is {size_text(info.file_size)}; gru-tui "
                         f"reads pickles up to {size_text(MAX_PICKLE_BYTES)}")
    data = archive.read(info)  # zipfile stops at the file_size just checked
    _scan(data, f"{where}: {shown(label)}")
    unpickler = _Unpickler(data, where, entries, root)
    tensors = _tensors(unpickler.load(), where)
    return _materialize(archive, tensors, order, where)


def _byte_order(archive, entries, root: str, where: str) -> str:
    if f"{root}/byteorder" not in entries:
        return "<"  # written since torch 1.10; older files come from little-endian machines
    with archive.open(entries[f"{root}/byteorder"]) as entry:
        text = entry.read(16).strip().decode("latin-1")
    if text not in ("little", "big"):
        raise InputError(f"{where}: {shown(root)}/byteorder says {shown(text)}, expected "
                         "little or big")
    return "<" if text == "little" else ">"


def _scan(data: bytes, where: str) -> None:
    """Follow the pickle's opcodes without building anything, as pickletools.dis does,
    keeping for each stack item how deeply the object it stands for nests."""
    try:
        _follow(data, where)
    except InputError:
        raise
    except (ValueError, IndexError, KeyError) as error:  # not a pickle the unpickler takes
        raise InputError(f"{where} is not a valid pickle ({shown(first_line(error))})"
                         ) from None


def _follow(data: bytes, where: str) -> None:
    stack: list[int] = []  # how deeply the object of each stack item nests
    marks: list[int] = []  # where each MARK stands in it
    memo: dict[int, int] = {}
    for count, (op, arg, _position) in enumerate(pickletools.genops(data), 1):
        if count > MAX_PICKLE_OPS:
            raise InputError(f"{where} has more than {MAX_PICKLE_OPS:,} pickle operations")
        name = op.name
        to_mark, below, pushes = _EFFECTS[name]
        if name in _PUTS:
            index = len(memo) if name == "MEMOIZE" else arg
            if index > MAX_PICKLE_OPS:  # the unpickler would size its memo to twice that
                raise InputError(f"{where} uses memo index {index:,}, beyond its "
                                 f"{MAX_PICKLE_OPS:,} operations")
            memo[index] = stack[-1]
            continue
        if name in _GETS:
            stack.append(memo[arg])
            continue
        if name == "MARK":
            marks.append(len(stack))
            continue
        if not (to_mark or below):  # a number, a string, an empty container, a global…
            stack += [0] * pushes
            continue
        items = -1  # the deepest popped item, but the lowest
        if to_mark:
            start = marks.pop()
            items = max(stack[start:], default=-1)
            del stack[start:]
        lowest = -1
        if below:
            fence = marks[-1] if marks else 0
            if len(stack) - below < fence:
                if name == "POP" and len(stack) == fence and marks:  # POP takes a bare mark
                    marks.pop()
                    continue
                raise IndexError("the pickle pops from an empty stack")
            lowest, *above = stack[-below:]
            items = max(items, *above) if above else items
            del stack[-below:]
        # a container filled by APPENDS, SETITEMS, BUILD… nests one deeper than its items
        depth = max(lowest, items + 1) if name in _MUTATORS else 1 + max(items, lowest)
        if depth > MAX_DEPTH:
            raise InputError(f"{where} nests objects more than {MAX_DEPTH} levels deep")
        stack += [depth] * pushes


class _Unpickler(pickle.Unpickler):
    """The C unpickler with globals from :data:`SAFE_GLOBALS` and storages from the zip."""

    def __init__(self, data: bytes, file: str, entries: dict[str, zipfile.ZipInfo],
                 root: str) -> None:
        super().__init__(io.BytesIO(data))
        self.file, self.where = file, f"{file}: {shown(root)}/data.pkl"
        self.entries, self.root = entries, root
        self.storages: dict[str, _Storage] = {}
        self.declared = 0  # bytes of all storages named so far

    def find_class(self, module: str, name: str):
        full = f"{module}.{name}"
        if full in SAFE_GLOBALS:
            return SAFE_GLOBALS[full]
        if module == "torch" and (name.endswith("Storage") or _DTYPE_NAME.fullmatch(name)):
            return _Tag(name.removesuffix("Storage") if name.endswith("Storage") else name)
        if _dangerous(module, name):
            raise InputError(f"{self.where} asks for {shown(full)}, which could run code; "
                             "refused, nothing from the file was run")
        return _Foreign

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _Tag) and isinstance(pid[3], str)
                and type(pid[4]) is int and pid[4] >= 0):
            raise InputError(f"{self.where} refers to {shown(reprlib.repr(pid))}, which is "
                             "not a storage of this archive")
        _, tag, key, _location, numel = pid  # the location (cpu, cuda:0, …) does not matter
        if not (isinstance(key, str) and _STORAGE_KEY.fullmatch(key)):
            raise InputError(f"{self.where} refers to storage {shown(key, 80)!r}, which is not "
                             "an entry name")
        name = f"{self.root}/data/{key}"
        itemsize = 1 if tag.dtype is None else _itemsize(tag.dtype)
        nbytes = numel * itemsize
        known = self.storages.get(key)
        if known is not None:
            if (known.dtype, known.nbytes) != (tag.dtype, nbytes):
                raise InputError(f"{self.where} declares storage {key} twice, differently")
            return known
        self.declared += nbytes
        if self.declared > MAX_FILE_BYTES:
            raise InputError(f"{self.where} declares more than {size_text(MAX_FILE_BYTES)} "
                             "of storages; gru-tui reads weight files up to "
                             f"{size_text(MAX_FILE_BYTES)}")
        entry = self.entries.get(name)
        if entry is None:
            raise InputError(f"{self.where} refers to {shown(name)}, which the archive does "
                             "not hold")
        if nbytes > entry.file_size:
            raise InputError(f"{self.file}: {shown(name)} holds "
                             f"{entry.file_size:,} bytes but its storage claims {nbytes:,}")
        self.storages[key] = _Storage(entry, tag.dtype, nbytes)
        return self.storages[key]


def _dangerous(module: str, name: str) -> bool:
    parts = [*module.split("."), *name.split(".")]
    if parts[0] in ("builtins", "__builtin__"):
        return len(parts) != 2 or parts[1] in DANGEROUS_BUILTINS
    return (parts[0] in DANGEROUS_MODULES or any(part in DANGEROUS_NAMES for part in parts)
            or any(part.startswith("__") for part in parts[1:]))


def _itemsize(dtype: str) -> int:
    """Bytes per element as stored; 1 for a dtype gru-tui does not read (refused later)."""
    return np.dtype(NUMPY_TYPES[dtype]).itemsize if dtype in NUMPY_TYPES else 1


def _tensors(root, where: str) -> dict[str, _Tensor]:
    """Every tensor reachable through dicts, lists and tuples, by key path, depth first in
    the file's order; each object once (the pickle's memo can make a graph of them)."""
    found: dict[str, _Tensor] = {}
    seen: set[int] = set()
    parts: list[str | int] = []

    def visit(value, depth: int) -> None:  # depth ≤ MAX_DEPTH: recursion is safe
        if isinstance(value, _Tensor):
            if id(value) not in seen:
                seen.add(id(value))
                _add(found, _key(parts, where), value, where)
            return
        if isinstance(value, dict):
            items = ((k, v) for k, v in value.items() if type(k) in (str, int))
        elif isinstance(value, list | tuple):
            items = enumerate(value)
        else:
            return  # numbers, strings, stand-ins: no tensors
        if not value or id(value) in seen:
            return
        seen.add(id(value))
        if depth == MAX_DEPTH:
            raise InputError(f"{where} nests objects more than {MAX_DEPTH} levels deep")
        for part, item in items:
            parts.append(part)
            visit(item, depth + 1)
            parts.pop()

    visit(root, 0)
    return found


def _add(found: dict[str, _Tensor], key: str, tensor: _Tensor, where: str) -> None:
    if key in found:
        raise InputError(f"{where}: two tensors are named {shown(key)}")
    if len(found) == MAX_TENSORS:
        raise InputError(f"{where} holds more than {MAX_TENSORS:,} tensors")
    found[key] = tensor


def _key(parts: list[str | int], where: str) -> str:
    """The parts joined with ".", each str's unprintable characters escaped; bounded before
    anything long is joined."""
    texts = []
    length = -1
    for part in parts:
        if type(part) is str and len(part) > MAX_KEY_CHARS:
            length = len(part)
            break
        texts.append(printable(part) if type(part) is str else str(part))
        length += len(texts[-1]) + 1
    if length > MAX_KEY_CHARS:
        raise InputError(f"{where} names a tensor with more than {MAX_KEY_CHARS:,} "
                         "characters")
    return ".".join(texts)


def _materialize(archive: zipfile.ZipFile, tensors: dict[str, _Tensor], order: str,
                 where: str) -> dict[str, np.ndarray]:
    """The tensors as numpy arrays, once each is known to lie inside its storage and all
    of them to fit the file-size limit (the storages were bounded as they were declared).
    A storage's bytes are read once and dropped after its last tensor."""
    decoded = 0
    users: dict[int, int] = {}
    for key, tensor in tensors.items():
        itemsize = _check(key, tensor, where)
        decoded += math.prod(tensor.size) * itemsize
        if decoded > MAX_FILE_BYTES:
            raise InputError(f"{where} declares more than {size_text(MAX_FILE_BYTES)} of "
                             "tensors; gru-tui reads weight files up to "
                             f"{size_text(MAX_FILE_BYTES)}")
        users[id(tensor.storage)] = users.get(id(tensor.storage), 0) + 1
    buffers: dict[int, bytes] = {}
    arrays = {}
    for key, tensor in tensors.items():
        storage = tensor.storage
        if id(storage) not in buffers:
            buffers[id(storage)] = _storage_bytes(archive, storage, where)
        arrays[key] = _array(tensor, buffers[id(storage)], order)
        users[id(storage)] -= 1
        if not users[id(storage)]:
            del buffers[id(storage)]
    return arrays


def _check(key: str, tensor: _Tensor, where: str) -> int:
    """The bytes per element of the tensor's array, once its view is known to fit."""
    storage = tensor.storage
    if not isinstance(storage, _Storage):
        raise InputError(f"{where}: {shown(key)} has no storage in the archive")
    dtype = _dtype(tensor)
    if dtype not in NUMPY_TYPES:
        raise InputError(f"{where}: {shown(key)} holds torch.{shown(dtype or 'untyped')} "
                         "values, which gru-tui does not read (floats, integers and bool "
                         "only)")
    size, stride, offset = tensor.size, tensor.stride, tensor.offset
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)
            and len(size) <= 32 and all(type(n) is int and n >= 0 for n in (*size, *stride))
            and type(offset) is int and offset >= 0):
        raise InputError(f"{where}: {shown(key)} has a malformed size, stride or offset")
    itemsize = np.dtype(NUMPY_TYPES[dtype]).itemsize
    if 0 not in size:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
        if (last + 1) * itemsize > storage.nbytes:
            raise InputError(f"{where}: {shown(key)} reaches past the end of its storage "
                             f"({shown(storage.entry.filename)}, {storage.nbytes:,} bytes)")
    return 4 if dtype == "bfloat16" else itemsize


def _dtype(tensor: _Tensor) -> str | None:
    return tensor.dtype.dtype if isinstance(tensor.dtype, _Tag) else tensor.storage.dtype


def _storage_bytes(archive: zipfile.ZipFile, storage: _Storage, where: str) -> bytes:
    with archive.open(storage.entry) as entry:
        data = entry.read(storage.nbytes)
    if len(data) != storage.nbytes:
        raise InputError(f"{where}: {shown(storage.entry.filename)} ends after {len(data):,} "
                         f"of its {storage.nbytes:,} bytes")
    return data


def _array(tensor: _Tensor, data: bytes, order: str) -> np.ndarray:
    dtype = _dtype(tensor)
    stored = np.dtype(NUMPY_TYPES[dtype]).newbyteorder(order)
    if 0 in tensor.size:
        array = np.zeros(tensor.size, stored.newbyteorder("="))
    else:
        view = np.ndarray(tensor.size, dtype=stored, buffer=data,
                          offset=tensor.offset * stored.itemsize,
                          strides=tuple(s * stored.itemsize for s in tensor.stride))
        array = view.astype(stored.newbyteorder("="))  # a copy in the machine's order
    if dtype == "bfloat16":  # the upper 16 bits of a float32: widened exactly
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array
