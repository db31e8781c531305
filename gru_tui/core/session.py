"""Session files: everything needed to reopen the app as it was, or replay it with `step`.

A session is one JSON object: the shown models, weights source (a seed, the shipped example's
name, or the weight file's absolute path and layer, read again on opening), conventions, bias
offsets and U scale, dtype, the inputs and initial states, and the cursor. `gru-tui --session
FILE` reopens it; `gru-tui step --session FILE --json` replays the same numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gru_tui.core.examples import example_layers
from gru_tui.core.scenario import DEFAULT_MODELS, Scenario
from gru_tui.errors import InputError, SettingError
from gru_tui.io.files import read_bytes
from gru_tui.io.inputs import load_json
from gru_tui.io.weights import load_layer

FORMAT = "gru-tui session"
VERSION = 1
# A refused setting is named by its field in the file.
FIELD_NAMES = {setting: f'"{setting}"' for setting in
               ("models", "hidden", "seed", "inputs", "h0", "c0")}


@dataclass(frozen=True)
class Session:
    scenario: Scenario
    t: int = 0  # 0-based cursor
    unit: int = 0


def session_dict(scenario: Scenario, models: tuple[str, ...], t: int = 0,
                 unit: int = 0) -> dict[str, Any]:
    """The JSON object of a session; `models` are the models shown."""
    inputs = scenario.inputs_array()
    h0, c0 = scenario.initial_states()
    zeros = [0.0] * scenario.hidden_size
    if scenario.example is not None:
        source: dict[str, Any] = {"example": scenario.example}
    elif scenario.weights:
        source = {"weights": [{"file": str(Path(layer.path).resolve()), "layer": layer.name}
                              for layer in scenario.weights]}
    else:
        source = {"seed": scenario.seed}
    return {
        "format": FORMAT,
        "version": VERSION,
        "models": list(models),
        "hidden": scenario.hidden_size,
        **source,
        "dtype": scenario.dtype,
        "gru_reset": scenario.reset,
        "z_weights": scenario.z_weights,
        "bias_offsets": [list(offset) for offset in scenario.bias_offsets],
        "recurrent_scale": scenario.recurrent_scale,
        **({"recurrent_activation": scenario.recurrent_activation}
           if scenario.recurrent_activation else {}),
        "inputs": inputs.tolist(),
        "h0": zeros if h0 is None else np.asarray(h0, float).tolist(),
        "c0": zeros if c0 is None else np.asarray(c0, float).tolist(),
        "t": t + 1,
        "unit": unit + 1,
    }


def explorer_session(explorer) -> dict[str, Any]:
    """The explorer's session as the JSON object of a session file."""
    data = session_dict(explorer.scenario, explorer.visible, explorer.t, explorer.unit)
    if explorer.scenario.reverse:  # the explorer holds them in processing order, last first
        data["inputs"] = data["inputs"][::-1]
    return data


def session_text(explorer) -> str:
    """The explorer's session as the JSON text of a session file."""
    return json.dumps(explorer_session(explorer), indent=1) + "\n"


def save_session(explorer, path: str | Path) -> Path:
    """Write the explorer's session as JSON; returns the path."""
    text = session_text(explorer)
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path


def load_session(path: str | Path) -> Session:
    """Read a session file; any problem is an InputError naming the file and the field."""
    path = Path(path)
    where = f"--session {path}"
    try:
        text = read_bytes(path, where).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{where} cannot be read: {error}") from None
    try:
        data = load_json(text, where, parse_constant=refuse_constant)
    except InputError:
        raise
    except ValueError as error:  # NaN or Infinity
        raise InputError(f"{where}: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{where} is not a gru-tui session file (no \"format\": \"{FORMAT}\")")
    if data.get("version") != VERSION:
        raise InputError(f"{where} has version {data.get('version')!r}; this gru-tui reads "
                         f"version {VERSION}")
    return session_from_fields(data, where)


def session_from_fields(data: dict, where: str, load=load_layer,
                        examples=example_layers) -> Session:
    """The Session a session file's fields describe (a lesson's states have them too); any
    problem is an InputError that starts with `where`. The layers named by "weights" are
    read by `load(file, layer)`, an "example"'s by `examples(name)`."""
    field = _Fields(data, where)
    shown = tuple(field.get("models", list, list(DEFAULT_MODELS)))
    weights, example = _weights(field, where, load, examples)
    weights = tuple(layer for layer in weights if layer.kind in shown) or weights
    settings = dict(
        models=tuple(layer.kind for layer in weights) or shown,
        hidden=None if weights else field.get("hidden", int),
        seed=0 if weights else field.get("seed", int, 0),
        weights=weights,
        example=example,
        dtype=field.choice("dtype", ("float64", "float32"), "float64"),
        reset=field.choice("gru_reset", ("before", "after"), "before"),
        z_weights=field.choice("z_weights", ("old", "new"), "old"),
        bias_offsets=field.offsets("bias_offsets"),
        recurrent_scale=float(field.get("recurrent_scale", (int, float), 1.0)),
        recurrent_activation=field.choice("recurrent_activation", ("sigmoid", "hard_sigmoid"),
                                          None),
        inputs=field.matrix("inputs"),
        h0=field.vector("h0"),
        c0=field.vector("c0"),
    )
    try:
        scenario = Scenario(**settings)
    except SettingError as error:  # said in the file's words
        raise InputError(f"{where}: {error.worded(FIELD_NAMES)}") from None
    except InputError as error:
        raise InputError(f"{where}: {error}") from None
    t = field.get("t", int, 1) - 1
    unit = field.get("unit", int, 1) - 1
    return Session(scenario, min(max(t, 0), scenario.total_steps - 1),
                   min(max(unit, 0), scenario.hidden_size - 1))


def _weights(field: _Fields, where: str, load, examples) -> tuple[tuple, str | None]:
    """The layers a session's "example" or "weights" names, read again from their files."""
    if "example" in field.data:
        name = field.get("example", str)
        try:
            return examples(name), name
        except InputError as error:
            raise InputError(f"{where}: {error}") from None
    if "weights" not in field.data:
        return (), None
    layers = []
    for entry in field.get("weights", list):
        if not (isinstance(entry, dict) and isinstance(entry.get("file"), str)
                and isinstance(entry.get("layer"), str)):
            raise InputError(f'{where}: each of "weights" must be {{"file": …, "layer": …}}')
        try:
            layers.append(load(entry["file"], entry["layer"]))
        except InputError as error:
            raise InputError(f"{where}: {error}") from None
    if not layers:
        raise InputError(f'{where}: "weights" lists no layer')
    return tuple(layers), None


def refuse_constant(name: str):
    """json.loads' parse_constant: NaN and Infinity are refused, not read."""
    raise ValueError(f"{name} is not a finite number")


class _Fields:
    """Typed reads of a session's fields, each refused with its name."""

    def __init__(self, data: dict, where: str) -> None:
        self.data, self.where = data, where

    def get(self, name: str, kind, default=None):
        if name not in self.data:
            if default is None and kind is not int:
                raise InputError(f"{self.where} has no \"{name}\"")
            return default
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise InputError(f"{self.where}: \"{name}\" has the wrong type")
        return value

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
        if name not in self.data:
            return default
        value = self.data[name]
        if value not in allowed:
            raise InputError(f"{self.where}: \"{name}\" must be one of {', '.join(allowed)}")
        return value

    def matrix(self, name: str) -> np.ndarray:
        rows = self.get(name, list)
        try:
            array = np.array(rows, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{self.where}: \"{name}\" must be rows of numbers") from None
        if array.ndim != 2 or array.size == 0:
            raise InputError(f"{self.where}: \"{name}\" must be a non-empty list of rows")
        if not np.isfinite(array).all():
            raise InputError(f"{self.where}: \"{name}\" holds NaN or inf")
        return array

    def offsets(self, name: str) -> tuple[tuple[str, str, float], ...]:
        """[[model, gate letter, offset], ...]"""
        offsets = []
        for entry in self.get(name, list, []):
            if (not isinstance(entry, list) or len(entry) != 3
                    or not all(isinstance(v, str) for v in entry[:2])
                    or isinstance(entry[2], bool) or not isinstance(entry[2], int | float)):
                raise InputError(f'{self.where}: each of "{name}" must be [model, gate, number]')
            offsets.append((entry[0], entry[1], float(entry[2])))
        return tuple(offsets)

    def vector(self, name: str) -> np.ndarray | None:
        if name not in self.data:
            return None
        try:
            array = np.array(self.get(name, list), dtype=np.float64)
        except (TypeError, ValueError):
            array = np.array([np.nan])
        if array.ndim != 1 or not np.isfinite(array).all():
            raise InputError(f"{self.where}: \"{name}\" must be one row of finite numbers")
        return array
