"""What every weight reader shares: the :class:`Layer` it returns, and the checks of files and
tensors. This module imports no reader; the readers (pytorch_layers, onnx_layers,
keras_layers) import it, and :mod:`gru_tui.io.weights` chooses among them.
"""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gru_tui.engine.activations import HARD_SIGMOID, SIGMOID
from gru_tui.engine.cells import CELLS, Cell
from gru_tui.engine.gates import ONNX_PEEPHOLES, PEEPHOLES, TABLES, rows_in_order
from gru_tui.errors import InputError
from gru_tui.io.files import regular_file_size, size_text

MAX_FILE_BYTES = 1 << 30
MAX_TENSOR_BYTES = 1 << 30  # all the tensors decoded from one file, together
WALK_SECONDS = 10.0  # walking one file's structure (groups, graphs, folded constants)


@dataclass(frozen=True, eq=False)
class Layer:
    """One recurrent layer found in a file, with its tensors as stored.

    ``tensors`` holds weight_ih, weight_hh and optionally bias_ih, bias_hh (and, for an ONNX
    LSTM, peepholes: P's 3·H values in ONNX's order i, o, f), their gate rows in ``order``
    (engine letters; None: PyTorch's). ``reset`` is where the file's GRU places its reset gate.
    ``initial_h`` and ``initial_c`` are an ONNX node's stored initial states for this
    direction ([batch, H]): `gru-tui` and `gru-tui step` start from their first row unless
    --h0 / --c0 are given (Scenario.initial_states); a cell from ``cell()`` starts from the
    caller's. Initial states the model takes as inputs are not stored: runs start from zeros.

    A GRU's or LSTM's gates squash with ``recurrent_activation`` (an engine name). Where the
    file does not say which, ``activations_assumed`` says whose defaults gave it ("Keras 2.2
    defaults"), and the user may choose otherwise; ``hard_sigmoid`` is what choosing
    "hard_sigmoid" means for this layer: the form of the Keras that wrote it.
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
    recurrent_activation: str = SIGMOID
    activations_assumed: str = ""
    hard_sigmoid: str = HARD_SIGMOID

    @property
    def reverse(self) -> bool:
        """True when the layer runs from the last input to the first: feed it xs[::-1]."""
        return self.direction == "reverse"

    def cell(self, dtype: str = "float64", **conventions) -> Cell:
        """The engine's cell for this layer; a GRU runs with its framework's reset placement
        (PyTorch: "after"; ONNX: by linear_before_reset) and its gates with the layer's
        recurrent activation unless `conventions` say otherwise (recurrent_activation=
        "sigmoid" or "hard_sigmoid": this layer's Keras' form, or an engine name)."""
        table = TABLES[self.kind]
        order = self.order or table.order("pytorch")
        zeros = np.zeros(len(table.gates) * self.hidden_size, dtype=np.float32)
        W, U = self.tensors["weight_ih"], self.tensors["weight_hh"]
        b_i = self.tensors.get("bias_ih", zeros)
        b_h = self.tensors.get("bias_hh", zeros)
        W, U, b_i, b_h = (rows_in_order(a, order, table.letters) for a in (W, U, b_i, b_h))
        if self.kind == "gru":
            conventions = {"reset": self.reset, **conventions}
        if self.kind != "rnn":
            conventions = {**conventions, "recurrent_activation": self.gate_activation(
                conventions.get("recurrent_activation", self.recurrent_activation))}
        if "peepholes" in self.tensors:  # ONNX's P, rows i, o, f → the engine's (3, H) i, f, o
            peepholes = rows_in_order(self.tensors["peepholes"], ONNX_PEEPHOLES, PEEPHOLES)
            conventions = {"peepholes": peepholes.reshape(3, self.hidden_size), **conventions}
        source = f"{Path(self.path).name}: {self.name}" if self.path else self.name
        cell = CELLS[self.kind](W, U, b_i, b_h, dtype=dtype, source=source, **conventions)
        cell.reverse = self.reverse
        return cell

    def gate_activation(self, choice: str) -> str:
        """The engine's recurrent activation for a choice: "hard_sigmoid" is this layer's."""
        return self.hard_sigmoid if choice == "hard_sigmoid" else choice

    def describe(self, index: int) -> dict:
        """The layer as `inspect --json` lists it."""
        return {"index": index, "name": self.name, "kind": self.kind,
                "direction": self.direction, "input_size": self.input_size,
                "hidden_size": self.hidden_size, "convention": self.convention,
                "parameters": self.parameters,
                "recurrent_activation": None if self.kind == "rnn" else self.recurrent_activation,
                "activations_assumed": self.activations_assumed or None}


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


# -- checks every reader makes ---------------------------------------------------------------


def check_file(path: Path) -> tuple[int, bytes]:
    """The size and first 8 bytes of a weight file that exists, is not empty and not huge."""
    size = regular_file_size(path, str(path))
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise InputError(f"{path} cannot be read: {error.strerror or error}") from None
    if size == 0:
        raise InputError(f"{path} is empty")
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path} is {size_text(size)}; gru-tui reads weight files up to "
                         f"{size_text(MAX_FILE_BYTES)}")
    return size, head


class FileBudget:
    """What reading one weight file may cost: its decoded tensors up to MAX_TENSOR_BYTES in
    all, each taken from the budget before it is read (by its declared size), and
    WALK_SECONDS for walking its structure."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.used = 0
        self.deadline = time.monotonic() + WALK_SECONDS

    def take(self, nbytes: int, what: str) -> None:
        """Count `nbytes` more, refused beyond the bound."""
        self.used += nbytes
        if self.used > MAX_TENSOR_BYTES:
            raise InputError(f"{self.path}: {what} brings the file's tensors to "
                             f"{size_text(self.used)}; gru-tui reads up to "
                             f"{size_text(MAX_TENSOR_BYTES)} of tensors from one file")

    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    def check_time(self) -> None:
        """Refused once the walk has taken longer than its bound."""
        if self.expired():
            raise InputError(f"{self.path}: walking its structure took more than "
                             f"{WALK_SECONDS:g} s; gru-tui gives up there")


def check_zip_member(path: Path, info: zipfile.ZipInfo) -> None:
    """A member stored or deflated: zipfile unpacks those a bounded chunk at a time, but
    bzip2 and LZMA a whole read at once, however much that grows."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        method = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}.get(
            info.compress_type, f"method {info.compress_type}")
        raise InputError(f"{path}: {info.filename} is compressed with {method}; gru-tui "
                         "unpacks stored and deflated members only")


def check_values(path: Path, key: str, array: np.ndarray) -> None:
    """A tensor of finite floats, not empty."""
    if array.dtype.kind != "f":
        raise InputError(f"{path}: {key} holds {array.dtype} values, expected floats")
    if array.size == 0:
        raise InputError(f"{path}: {key} has shape {array.shape}, which holds no values")
    if not np.isfinite(array).all():
        raise InputError(f"{path}: {key} holds NaN or inf")


def first_line(error: BaseException) -> str:
    """An exception's first line, at most 120 characters: for "cannot be read (…)" messages."""
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 120 else line[:117] + "..."
