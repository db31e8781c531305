"""The app's state and every action on it, with no user interface: the headless core.

An :class:`Explorer` holds a :class:`Scenario` (settings, inputs, initial states), one trace
per model, a cursor at step t and a selected component to edit. Every action changes the
scenario and recomputes only what it affects: an input edit at step t redoes steps t..T; a
change of initial state, weights or conventions redoes the whole (short) run.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from gru_tui.core.examples import EXAMPLES
from gru_tui.core.presets import PRESETS, keep_gates_open
from gru_tui.core.scenario import DEFAULT_MODELS, MODELS, Scenario
from gru_tui.engine import Trace
from gru_tui.errors import InputError

TARGETS = ("x", "h0", "c0")  # what the component cursor edits
TARGET_TITLES = {"x": "x_t", "h0": "h_0", "c0": "C_0"}
MAX_EDIT = 1e4  # larger values saturate every gate; the app refuses them
MAX_STEPS = 10_000
SCALE_RANGE = (1e-3, 1e3)  # the U scale's keys and dialog stay within this


@dataclass
class Explorer:
    """Everything the app shows, and the actions of SPEC §6 and beyond."""

    scenario: Scenario = field(default_factory=Scenario)
    t: int = 0  # 0-based cursor; shown as t + 1
    target: str = "x"
    component: int = 0
    unit: int = 0  # the hidden unit the worked example and the timeline follow
    visible: tuple[str, ...] = ()
    preset: str | None = None  # the preset the inputs came from, until they are edited
    traces: dict[str, Trace] = field(init=False, repr=False)
    edits: int = field(default=0, init=False)  # counts every change of the traces
    serial: int = field(default_factory=itertools.count().__next__, init=False)  # which one

    def __post_init__(self) -> None:
        models = self.scenario.models
        self.visible = tuple(m for m in (self.visible or models) if m in MODELS)
        if self.scenario.inputs is None:
            self.preset = self.scenario.preset_name
        self.scenario = dataclasses.replace(
            self.scenario,
            # every model is computed; `visible` says which are shown (loaded: the file's)
            models=self.scenario.models if self.scenario.weights else MODELS,
            # a reverse layer's inputs in processing order, last first
            inputs=self.scenario.inputs_array()[:: -1 if self.scenario.reverse else 1],
            preset=None,
            steps=None,
            **dict(zip(("h0", "c0"), self._states(self.scenario), strict=True)),
        )
        self._rng = np.random.default_rng(self.scenario.seed + 1)
        self._rebuild()
        self.t = min(max(self.t, 0), self.steps - 1)
        self.unit = min(max(self.unit, 0), self.hidden_size - 1)

    @staticmethod
    def _states(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
        h0, c0 = scenario.initial_states()
        H = scenario.hidden_size
        zeros = np.zeros(H)
        return (zeros if h0 is None else np.asarray(h0, float),
                zeros.copy() if c0 is None else np.asarray(c0, float))

    # -- reading ---------------------------------------------------------------------------

    @property
    def steps(self) -> int:
        return len(self.scenario.inputs)

    @property
    def input_size(self) -> int:
        return self.scenario.input_size

    @property
    def hidden_size(self) -> int:
        return self.scenario.hidden_size

    @property
    def xs(self) -> np.ndarray:
        return self.scenario.inputs

    def target_vector(self, target: str | None = None) -> np.ndarray:
        """The vector a target edits: x_t at the cursor, h_0 or C_0."""
        target = target or self.target
        if target == "x":
            return self.scenario.inputs[self.t]
        return self.scenario.h0 if target == "h0" else self.scenario.c0

    @property
    def value(self) -> float:
        return float(self.target_vector()[self.component])

    # -- moving ---------------------------------------------------------------------------

    def go(self, t: int) -> None:
        """Move the cursor to step t (0-based), clamped to the run."""
        self.t = min(max(t, 0), self.steps - 1)

    def move(self, delta: int) -> None:
        self.go(self.t + delta)

    def choose_component(self, delta: int) -> None:
        """↑/↓: the previous or next component, moving on to the next target at the ends."""
        order = [(target, k) for target in self._targets()
                 for k in range(len(self.target_vector(target)))]
        index = order.index((self.target, self.component)) + delta
        self.target, self.component = order[index % len(order)]

    def choose_unit(self, delta: int) -> None:
        """The previous or next hidden unit, wrapping around."""
        self.unit = (self.unit + delta) % self.hidden_size

    def choose_target(self, target: str) -> None:
        if target not in self._targets():
            raise InputError(f"{TARGET_TITLES.get(target, target)} is not editable here")
        self.target = target
        self.component = min(self.component, len(self.target_vector()) - 1)

    def _targets(self) -> tuple[str, ...]:
        return TARGETS if "lstm" in self.visible else TARGETS[:2]

    # -- editing values ------------------------------------------------------------------

    def set_value(self, value: float | str) -> None:
        """Type an exact value into the selected component; refused unless finite and sane."""
        where = f"{TARGET_TITLES[self.target]}[{self.component + 1}]"
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{where}: {str(value)[:20]!r} is not a number") from None
        if not math.isfinite(number):
            raise InputError(f"{where}: {value} is not a finite number")
        if abs(number) > MAX_EDIT:
            raise InputError(f"{where}: {number:g} is beyond ±{MAX_EDIT:g}, where every gate "
                             "saturates; kept the old value")
        self._write(self.target, self.component, number)

    def nudge(self, delta: float) -> None:
        self.set_value(round(self.value + delta, 10))

    def zero(self) -> None:
        self._write(self.target, self.component, 0.0)

    def randomise(self) -> None:
        """A fresh uniform ±1 value for every component of the selected vector."""
        vector = self.target_vector().copy()
        vector[:] = np.round(self._rng.uniform(-1, 1, size=len(vector)), 4)
        self._write_vector(self.target, vector)

    def _write(self, target: str, component: int, number: float) -> None:
        vector = self.target_vector(target).copy()
        vector[component] = number
        self._write_vector(target, vector)

    def _write_vector(self, target: str, vector: np.ndarray) -> None:
        self.edits += 1
        if target == "x":
            self.preset = None
            inputs = self.scenario.inputs.copy()
            inputs[self.t] = vector
            self.scenario = dataclasses.replace(self.scenario, inputs=inputs)
            for trace in self.traces.values():
                trace.update(inputs, start=self.t)
        else:
            self.scenario = dataclasses.replace(self.scenario, **{target: vector})
            for trace in self.traces.values():
                trace.update(**{target: vector})

    # -- editing the sequence --------------------------------------------------------------

    def insert_step(self) -> None:
        """A copy of x_t inserted after step t; the cursor moves onto it."""
        if self.steps >= MAX_STEPS:
            raise InputError(f"the sequence already has {MAX_STEPS} steps")
        inputs = np.insert(self.scenario.inputs, self.t + 1, self.scenario.inputs[self.t], axis=0)
        self._replace_inputs(inputs, start=self.t + 1)
        self.t += 1

    def delete_step(self) -> None:
        """Remove step t; the last remaining step stays."""
        if self.steps == 1:
            raise InputError("the sequence needs at least one step")
        inputs = np.delete(self.scenario.inputs, self.t, axis=0)
        self._replace_inputs(inputs, start=self.t)
        self.t = min(self.t, self.steps - 1)

    def load_preset(self, name: str, steps: int | None = None) -> None:
        """Replace the inputs by a preset, starting from the states the same preset starts
        from on the command line (zeros; the slides' on the built-in example; a file's
        stored ones); the cursor goes to t = 1."""
        if name not in PRESETS:
            raise InputError(f"unknown preset {name!r}")
        preset = dataclasses.replace(self.scenario, inputs=None, preset=name, steps=steps,
                                     preset_width=self.input_size, h0=None, c0=None)
        h0, c0 = self._states(preset)
        inputs = preset.inputs_array()
        self.edits += 1
        self.scenario = dataclasses.replace(self.scenario, inputs=inputs, h0=h0, c0=c0)
        for trace in self.traces.values():
            trace.update(inputs, h0=h0, c0=c0)
        self.t = 0
        self.preset = name

    def _replace_inputs(self, inputs: np.ndarray, start: int) -> None:
        self.edits += 1
        self.preset = None
        self.scenario = dataclasses.replace(self.scenario, inputs=inputs)
        for trace in self.traces.values():
            trace.update(inputs, start=start)

    # -- changing the models ---------------------------------------------------------------

    def reseed(self, seed: int | None = None) -> None:
        """New random weights: the next seed, or the one given."""
        if self.scenario.weights:
            raise InputError("the weights come from a file: there is no seed to change")
        self._change(seed=self.scenario.seed + 1 if seed is None else seed)

    def with_weights(self, layers: tuple = (), example: str | None = None) -> Explorer:
        """A new explorer running other weights: a file's layers, a shipped example's (on its
        preset), or random ones from the current seed (no layers). The inputs stay when D
        does, else the preset is drawn again at the new D; h_0 and C_0 stay when H does."""
        old = self.scenario
        given = old.inputs[::-1] if old.reverse else old.inputs  # back in the given order
        kinds = tuple(layer.kind for layer in layers)
        gru = next((layer for layer in layers if layer.kind == "gru"), None)
        D = layers[0].input_size if layers else old.input_size
        H = layers[0].hidden_size if layers else old.hidden_size
        preset = EXAMPLES[example].preset if example else self.preset
        inputs = given if old.input_size == D and not example else None
        scenario = Scenario(
            models=kinds or MODELS,
            hidden=None if layers else H,
            seed=old.seed,
            dtype=old.dtype,
            reset=gru.reset if gru is not None else old.reset,
            z_weights="old" if layers else old.z_weights,
            inputs=inputs,
            preset=None if inputs is not None else preset or "sine",
            steps=None if example or inputs is not None else len(given),
            preset_width=D,
            h0=old.h0 if old.hidden_size == H and not example else None,  # an example's own
            c0=old.c0 if old.hidden_size == H and not example else None,
            bias_offsets=() if layers else old.bias_offsets,
            recurrent_scale=old.recurrent_scale,
            weights=layers,
            example=example,
        )
        visible = kinds or tuple(m for m in self.visible if m in MODELS) or DEFAULT_MODELS
        return Explorer(scenario, t=0 if example else self.t, unit=self.unit, visible=visible)

    def set_reset(self, placement: str) -> None:
        self._change(reset=placement, models=("gru",))

    def toggle_reset(self) -> None:
        self.set_reset("after" if self.scenario.reset == "before" else "before")

    def toggle_z_weights(self) -> None:
        self._change(z_weights="new" if self.scenario.z_weights == "old" else "old",
                     models=("gru",))

    def set_bias_offset(self, model: str, gate: str, offset: float) -> None:
        """Add `offset` to one gate's input bias (e.g. the LSTM forget bias +1)."""
        kept = tuple(o for o in self.scenario.bias_offsets if o[:2] != (model, gate))
        self._change(bias_offsets=(*kept, (model, gate, float(offset))) if offset else kept,
                     models=(model,))

    def bias_offset(self, model: str, gate: str) -> float:
        return sum(v for m, g, v in self.scenario.bias_offsets if (m, g) == (model, gate))

    def set_recurrent_scale(self, scale: float) -> None:
        """Multiply every U by `scale` (kept to six significant digits)."""
        self._change(recurrent_scale=float(f"{float(scale):.6g}"))

    def scale_recurrent(self, factor: float) -> None:
        """Multiply the U scale by `factor`, within SCALE_RANGE."""
        scale = self.scenario.recurrent_scale * factor
        self.set_recurrent_scale(min(max(scale, SCALE_RANGE[0]), SCALE_RANGE[1]))

    @property
    def keep_gates_open(self) -> bool:
        """True when the GRU's and the LSTM's keep gates have the memory view's offsets."""
        offsets = keep_gates_open(self.scenario.z_weights)
        return all(self.bias_offset(model, gate) == value for model, gate, value in offsets)

    def toggle_keep_gates(self) -> None:
        """Open the keep gates as training does (GRU z, LSTM f: ±2 on the bias), or close
        them back to the weights' own biases."""
        opening = not self.keep_gates_open
        for model, gate, value in keep_gates_open(self.scenario.z_weights):
            self.set_bias_offset(model, gate, value if opening else 0.0)

    def toggle_model(self, model: str) -> None:
        """Show or hide a model; one always stays."""
        if model not in self.scenario.models:
            raise InputError(f"the loaded weights hold no {model}: only "
                             f"{' and '.join(self.scenario.models)}")
        if model in self.visible:
            if len(self.visible) == 1:
                raise InputError("one model must stay visible")
            self.visible = tuple(m for m in self.visible if m != model)
            if self.target == "c0" and "lstm" not in self.visible:
                self.choose_target("h0")
        else:
            self.visible = tuple(m for m in MODELS if m in (*self.visible, model))

    def _change(self, models: tuple[str, ...] = MODELS, **changes) -> None:
        """New settings; rebuild the cells they touch and rerun those models."""
        self.scenario = dataclasses.replace(self.scenario, **changes)
        if "seed" in changes:
            self._rng = np.random.default_rng(self.scenario.seed + 1)
        self._rebuild(models)

    def _rebuild(self, models: tuple[str, ...] = MODELS) -> None:
        self.edits += 1
        scenario = self.scenario
        if not hasattr(self, "traces"):
            self.traces = {}
        for model in (m for m in models if m in scenario.models):
            self.traces[model] = scenario.cell(model).run(scenario.inputs, scenario.h0,
                                                          scenario.c0)
