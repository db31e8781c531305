r"""What to run: which models, their weights and conventions, the inputs and initial states.

Shared by `gru-tui step`, the app and session files, so all start from the same built-in
example and refuse the same bad settings. Refusals are :class:`SettingError`\s in the
domain's words ("hidden size must be …"); the command line and session files name the
setting their own way (``--hidden``, ``"hidden"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gru_tui.core.presets import PRESETS, SLIDE_C0, SLIDE_H0, preset_chunks
from gru_tui.engine import CELLS, Cell, Trace, random_cell
from gru_tui.engine.activations import HARD_SIGMOID
from gru_tui.engine.trace import BLOCK
from gru_tui.errors import InputError, SettingError
from gru_tui.io.inputs import check_width

if TYPE_CHECKING:
    from gru_tui.io.layers import Layer

MODELS = tuple(CELLS)  # gru, lstm, rnn
DEFAULT_MODELS = ("gru", "lstm")
DEFAULT_INPUT_SIZE = 3
DEFAULT_HIDDEN = 3
MAX_WEIGHT_BYTES = 1 << 30
CHUNK_VALUES = 1 << 22  # per stored array of a chunked run: 32 MiB in float64


@dataclass(frozen=True)
class Scenario:
    """Settings for a run, checked on creation."""

    models: tuple[str, ...] = DEFAULT_MODELS
    hidden: int | None = None  # None: from --h0, else 3
    seed: int = 0
    dtype: str = "float64"
    reset: str = "before"
    z_weights: str = "old"
    # the GRU's and LSTM's gates: "sigmoid" or "hard_sigmoid" (a loaded Keras layer's own
    # form); None: the weights' own, σ for random ones
    recurrent_activation: str | None = None
    inputs: np.ndarray | None = field(default=None, repr=False)  # explicit rows [T, D]
    preset: str | None = None  # None with no inputs: the built-in example ("slides")
    steps: int | None = None
    preset_width: int = DEFAULT_INPUT_SIZE  # D of a preset's rows
    h0: np.ndarray | None = field(default=None, repr=False)
    c0: np.ndarray | None = field(default=None, repr=False)
    bias_offsets: tuple[tuple[str, str, float], ...] = ()  # (model, gate letter, added to b_i)
    recurrent_scale: float = 1.0  # multiplies every U
    # loaded layers, one per model in `models` order: --weights FILE, or --example NAME's
    weights: tuple[Layer, ...] = field(default=(), repr=False)
    example: str | None = None  # the shipped example the weights come from

    def __post_init__(self) -> None:
        for model in self.models:
            if model not in MODELS:
                raise InputError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
        if not self.models:
            raise SettingError("no model chosen; {models} takes gru, lstm or rnn")
        if len(set(self.models)) != len(self.models):
            raise SettingError("{models} repeats a model: "
                               + SettingError.quote(", ".join(self.models)))
        _positive("hidden", self.hidden)
        if self.recurrent_activation not in (None, "sigmoid", "hard_sigmoid"):
            raise InputError(f"unknown recurrent activation {self.recurrent_activation!r}; "
                             "choose sigmoid or hard_sigmoid")
        if self.weights:
            self._check_weights()
        _positive("steps", self.steps)
        if self.seed < 0:
            raise SettingError(f"{{seed}} must be 0 or more, got {self.seed}")
        if self.inputs is not None and self.preset is not None:
            raise SettingError("{inputs} and {preset} both give inputs; choose one")
        if self.inputs is not None and self.steps is not None:
            raise SettingError(f"{{steps}} applies to presets; {{inputs}} already has "
                               f"{len(self.inputs)} rows")
        if self.preset is not None and self.preset not in PRESETS:
            raise InputError(f"unknown preset {self.preset!r}; choose from {', '.join(PRESETS)}")
        H = self.hidden_size
        for setting, state in (("h0", self.h0), ("c0", self.c0)):
            if state is not None and len(state) != H:
                raise SettingError(f"{{{setting}}} has {len(state)} values, the hidden state "
                                   f"has {H}")
        for model, gate, offset in self.bias_offsets:
            if model not in CELLS or gate not in CELLS[model].GATES:
                raise InputError(f"bias offset for unknown gate {model}.{gate}")
            if not np.isfinite(offset):
                raise InputError(f"bias offset for {model}.{gate} is not a finite number")
        if not (np.isfinite(self.recurrent_scale) and self.recurrent_scale >= 0):
            raise InputError(
                f"recurrent weight scale must be 0 or more, got {self.recurrent_scale}"
            )
        # every model's W, U, b_i and b_h in float64, all of them, before any is drawn
        gates = sum(len(CELLS[model].GATES) for model in self.models)
        weight_bytes = gates * H * (self.input_size + H + 2) * 8
        if weight_bytes > MAX_WEIGHT_BYTES:
            raise SettingError(f"{{hidden}} {H} needs {weight_bytes / 2**30:.1f} GiB of weights "
                               f"for {SettingError.quote(', '.join(self.models))}; gru-tui "
                               "stops at 1 GiB")

    def _check_weights(self) -> None:
        """Loaded layers are the models, one each (the CLI checks its other options)."""
        kinds = tuple(layer.kind for layer in self.weights)
        if self.models != kinds:
            extra = ", ".join(m for m in self.models if m not in kinds)
            raise SettingError(f"the weights hold {' and '.join(kinds)} layers only"
                               + (f"; drop {extra} from {{models}}" if extra else ""))
        shapes = {(layer.input_size, layer.hidden_size) for layer in self.weights}
        if len(shapes) > 1:
            raise InputError("the loaded layers differ in D or H; load one at a time")

    def layer(self, model: str) -> Layer | None:
        """The loaded layer that runs `model`, if the weights come from a file."""
        return next((layer for layer in self.weights if layer.kind == model), None)

    @property
    def builtin(self) -> bool:
        """True for the built-in example of SPEC §2 (the slides' values)."""
        return (self.inputs is None and self.preset_name == "slides"
                and (not self.weights or self.example == "slides"))

    @property
    def reverse(self) -> bool:
        """True when the loaded layer runs from the last input to the first."""
        return any(layer.reverse for layer in self.weights)

    @property
    def preset_name(self) -> str:
        return self.preset or "slides"

    @property
    def input_size(self) -> int:
        if self.weights:
            return self.weights[0].input_size
        return self.preset_width if self.inputs is None else self.inputs.shape[1]

    @property
    def hidden_size(self) -> int:
        if self.weights:
            return self.weights[0].hidden_size
        if self.hidden is not None:
            return self.hidden
        return len(self.h0) if self.h0 is not None else DEFAULT_HIDDEN

    @property
    def total_steps(self) -> int:
        if self.inputs is not None:
            return len(self.inputs)
        return self.steps or PRESETS[self.preset_name].steps

    def cells(self) -> dict[str, Cell]:
        """One cell per model, in --model order. Every model draws its weights from --seed."""
        return {model: self.cell(model) for model in self.models}

    def cell(self, model: str) -> Cell:
        """One model's cell with this scenario's conventions, offsets and scale."""
        conventions = {"reset": self.reset, "z_weights": self.z_weights} if model == "gru" else {}
        if self.recurrent_activation is not None and model != "rnn":
            conventions["recurrent_activation"] = self.recurrent_activation
        layer = self.layer(model)
        if layer is not None:
            cell = layer.cell(self.dtype, **conventions)
        else:
            if conventions.get("recurrent_activation") == "hard_sigmoid":
                conventions["recurrent_activation"] = HARD_SIGMOID
            cell = random_cell(model, self.input_size, self.hidden_size, self.seed, self.dtype,
                               **conventions)
        offsets = [(gate, value) for m, gate, value in self.bias_offsets if m == model and value]
        if not offsets and self.recurrent_scale == 1.0:
            return cell
        # In float64 first, then saturated at the cell's largest finite value: the engine's
        # promise (finite, warning-free) holds for finite weights, whatever the scale or sum.
        b_i = cell.b_i.astype(np.float64)
        H = self.hidden_size
        with np.errstate(over="ignore"):
            for gate, value in offsets:
                k = cell.GATES.index(gate)
                b_i[k * H : (k + 1) * H] += value
            U = cell.U.astype(np.float64) * self.recurrent_scale
        limit = np.finfo(cell.dtype).max
        return cell.replace(U=np.clip(U, -limit, limit), b_i=np.clip(b_i, -limit, limit))

    def initial_states(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(h0, c0): as given; the slides' states on the built-in example; an ONNX node's
        stored initial_h / initial_c (their first batch row) for a layer loaded with them;
        else zeros (None)."""
        h0, c0 = self.h0, self.c0
        stored = self.weights[0].initial_h if len(self.weights) == 1 else None
        if h0 is None and stored is not None:
            h0 = np.asarray(stored[0], dtype=np.float64)
        stored_c = self.weights[0].initial_c if len(self.weights) == 1 else None
        if c0 is None and stored_c is not None:
            c0 = np.asarray(stored_c[0], dtype=np.float64)
        if self.builtin and self.hidden_size == len(SLIDE_H0):
            h0 = SLIDE_H0 if h0 is None else h0
            c0 = SLIDE_C0 if c0 is None else c0
        return h0, c0

    @property
    def chunk_steps(self) -> int:
        """Steps per window of a streamed run: 4096, fewer (down to 256) for wide models."""
        steps = min(4096, CHUNK_VALUES // (4 * self.hidden_size))
        return max(BLOCK, steps // BLOCK * BLOCK)  # whole projection blocks: exact chunks

    def input_chunks(self, chunk: int | None = None) -> Iterator[np.ndarray]:
        """The inputs, at most `chunk` rows at a time."""
        chunk = chunk or self.chunk_steps
        if self.inputs is not None:
            check_width(self.inputs, self.input_size, "--inputs", "the model takes")
            for start in range(0, len(self.inputs), chunk):
                yield self.inputs[start : start + chunk]
        else:
            yield from preset_chunks(self.preset_name, self.input_size, self.total_steps,
                                     self.seed, chunk)

    def inputs_array(self) -> np.ndarray:
        """All inputs as one [T, D] array."""
        return np.concatenate(list(self.input_chunks(max(self.total_steps, 1))))

    def run_in_chunks(self, chunk: int | None = None) -> Iterator[tuple[int, dict[str, Trace]]]:
        """(offset, traces) for successive windows of steps; memory stays constant.

        A reverse layer takes the inputs from the last to the first: its traces come in that
        processing order, each step with the x it consumed.
        """
        cells = self.cells()
        h0, c0 = self.initial_states()
        states = {model: (h0, c0) for model in cells}
        offset = 0
        chunks = self.input_chunks(chunk)
        if self.reverse:
            backwards = self.inputs_array()[::-1]
            size = chunk or self.chunk_steps
            chunks = (backwards[start : start + size] for start in range(0, len(backwards), size))
        for xs in chunks:
            traces = {}
            for model, cell in cells.items():
                trace = cell.run(xs, *states[model])
                traces[model] = trace
                states[model] = (trace.hs[-1], trace.cs[-1] if trace.cs is not None else None)
            yield offset, traces
            offset += len(xs)


def _positive(setting: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise SettingError(f"{{{setting}}} must be a positive integer, got {value}")
