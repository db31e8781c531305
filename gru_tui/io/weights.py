"""Recurrent layers from weight files (SPEC §4): PyTorch state dicts in .safetensors or .npz,
and ONNX models (.onnx, read by :mod:`gru_tui.io.onnx_layers` with the optional onnx package).

Loading never executes code from the file: .safetensors through the safetensors library,
.npz through ``np.load(allow_pickle=False)``, so a pickled or object array is refused, never
unpickled. Every problem is an :class:`InputError` of one line naming the file and the tensor.

PyTorch names its tensors ``weight_ih_l{k}[_reverse]``, ``weight_hh_l{k}[_reverse]``,
``bias_ih_l{k}[_reverse]``, ``bias_hh_l{k}[_reverse]`` (nn.GRU / nn.LSTM / nn.RNN) and
``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (nn.GRUCell / nn.LSTMCell /
nn.RNNCell), under any module prefix. The kind comes from the rows: g·H with g = 3 (GRU),
4 (LSTM), 1 (simple RNN), H being the columns of weight_hh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gru_tui.engine.cells import CELLS, Cell
from gru_tui.engine.init import PYTORCH_GATES, rows_in_order
from gru_tui.errors import InputError

MAX_FILE_BYTES = 1 << 30
KINDS_BY_GATES = {3: "gru", 4: "lstm", 1: "rnn"}
ROLES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
CONVENTIONS = {"gru": "reset after", "lstm": "standard", "rnn": "tanh"}
_NAME = re.compile(r"^(?P<prefix>(?:.*\.)?)(?P<role>weight_ih|weight_hh|weight_hr|bias_ih|bias_hh)"
                   r"(?:_l(?P<layer>\d+)(?P<reverse>_reverse)?)?$")
_PICKLED = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle")
_KERAS = (".keras", ".h5", ".hdf5")


@dataclass(frozen=True, eq=False)
class Layer:
    """One recurrent layer found in a file, with its tensors as stored.

    ``tensors`` holds weight_ih, weight_hh and optionally bias_ih, bias_hh (and, for an ONNX
    LSTM, peepholes: P's 3·H values in ONNX's order i, o, f), their gate rows in ``order``
    (None: PyTorch's). ``reset`` is where the file's GRU places its reset gate. ``initial_h``
    and ``initial_c`` are an ONNX node's stored initial states for this direction
    ([batch, H]): `gru-tui` and `gru-tui step` start from their first row unless --h0 / --c0
    are given (Scenario.initial_states); a cell from ``cell()`` starts from the caller's.
    """

    name: str
    kind: str  # gru, lstm or rnn
    direction: str  # forward or reverse
    input_size: int  # D
    hidden_size: int  # H
    convention: str
    parameters: int  # values the file really holds for this layer
    path: str = ""
    tensors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    order: tuple[str, ...] | None = None  # gate order of the stacked rows; None: PyTorch's
    reset: str = "after"  # a GRU's reset placement in its framework
    framework: str = "PyTorch"
    initial_h: np.ndarray | None = field(default=None, repr=False)
    initial_c: np.ndarray | None = field(default=None, repr=False)

    @property
    def reverse(self) -> bool:
        """True when the layer runs from the last input to the first: feed it xs[::-1]."""
        return self.direction == "reverse"

    def cell(self, dtype: str = "float64", **conventions) -> Cell:
        """The engine's cell for this layer; a GRU runs with its framework's reset placement
        (PyTorch: "after"; ONNX: by linear_before_reset) unless `conventions` say otherwise."""
        cls = CELLS[self.kind]
        order = self.order or PYTORCH_GATES[self.kind]
        rows = len(cls.GATES) * self.hidden_size
        zeros = np.zeros(rows, dtype=np.float32)
        W, U = self.tensors["weight_ih"], self.tensors["weight_hh"]
        b_i = self.tensors.get("bias_ih", zeros)
        b_h = self.tensors.get("bias_hh", zeros)
        W, U, b_i, b_h = (rows_in_order(a, order, cls.GATES) for a in (W, U, b_i, b_h))
        if self.kind == "gru":
            conventions = {"reset": self.reset, **conventions}
        if "peepholes" in self.tensors:  # ONNX's P, rows i, o, f → the engine's (3, H) i, f, o
            peepholes = rows_in_order(self.tensors["peepholes"], ("i", "o", "f"), ("i", "f", "o"))
            conventions = {"peepholes": peepholes.reshape(3, self.hidden_size), **conventions}
        source = f"{Path(self.path).name}: {self.name}" if self.path else self.name
        cell = cls(W, U, b_i, b_h, dtype=dtype, source=source, **conventions)
        cell.reverse = self.reverse
        return cell

    def describe(self, index: int) -> dict:
        """The layer as `inspect --json` lists it."""
        return {"index": index, "name": self.name, "kind": self.kind,
                "direction": self.direction, "input_size": self.input_size,
                "hidden_size": self.hidden_size, "convention": self.convention,
                "parameters": self.parameters}


def read_layers(path: str | Path) -> list[Layer]:
    """Every recurrent layer of a PyTorch state dict in a .safetensors or .npz file, of the
    GRU / LSTM / RNN nodes of an .onnx model, or of a Keras .keras / .h5 file."""
    path = Path(path)
    if path.suffix.lower() == ".onnx":
        from gru_tui.io.onnx_layers import read_onnx_layers

        check_file(path)
        return read_onnx_layers(path)
    if path.suffix.lower() in _KERAS:
        from gru_tui.io.keras_layers import read_keras_layers

        check_file(path)
        return read_keras_layers(path)
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
    kind = KINDS_BY_GATES[rows // H]
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
            and rows // hh.shape[1] in KINDS_BY_GATES:
        return hh.shape
    for g in (3, 4, 1):  # the likeliest reading of the rows of weight_ih
        if rows % g == 0:
            return (rows, rows // g)
    return (rows, rows)  # pragma: no cover - g = 1 always divides


def check_values(path: Path, key: str, array: np.ndarray) -> None:
    if array.dtype.kind != "f":
        raise InputError(f"{path}: {key} holds {array.dtype} values, expected floats")
    if array.size == 0:
        raise InputError(f"{path}: {key} has shape {array.shape}, which holds no values")
    if not np.isfinite(array).all():
        raise InputError(f"{path}: {key} holds NaN or inf")


def select_layer(layers: list[Layer], layer: str | int | None) -> Layer:
    """The layer named or indexed (as `inspect` lists them); default: the first forward."""
    if layer is None:
        return next((item for item in layers if not item.reverse), layers[0])
    names = ", ".join(item.name for item in layers)
    if isinstance(layer, int) or (isinstance(layer, str) and layer.strip().isdigit()):
        index = int(layer)
        if 0 <= index < len(layers):
            return layers[index]
        raise InputError(f"no layer {index}; the file has {len(layers)} "
                         f"(0..{len(layers) - 1}): {names}")
    for item in layers:
        if item.name == layer:
            return item
    raise InputError(f"no layer {layer!r}; the file has: {names}")


def load_layer(path: str | Path, layer: str | int | None = None) -> Layer:
    """One layer of a file (see :func:`select_layer`)."""
    return select_layer(read_layers(path), layer)


# -- reading the files ----------------------------------------------------------------------


def read_tensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors or .npz file, by name, in the file's order."""
    size, head = check_file(path)
    suffix = path.suffix.lower()
    if suffix in _PICKLED:
        raise InputError(f"{path} is a pickle (torch.save); gru-tui never unpickles: save "
                         "the state dict with safetensors.torch.save_file")
    if suffix == ".npz" or (suffix != ".safetensors" and head.startswith(b"PK")):
        return _read_npz(path)
    if suffix == ".safetensors" or _looks_like_safetensors(head, size):
        return _read_safetensors(path)
    raise InputError(f"{path} is not a .safetensors or .npz file")


def check_file(path: Path) -> tuple[int, bytes]:
    """The size and first 8 bytes of a weight file that exists, is not empty and not huge."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a file")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror or error}") from None
    if size == 0:
        raise InputError(f"{path} is empty")
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path} is {_size(size)}; gru-tui reads weight files up to "
                         f"{_size(MAX_FILE_BYTES)}")
    return size, head


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


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    import zipfile

    tensors = {}
    try:
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


def _size(count: int) -> str:
    return f"{count / 2**20:.0f} MiB" if count >= 2**20 else f"{count:,} bytes"


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 120 else line[:117] + "..."
