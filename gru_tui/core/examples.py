"""The examples shipped with gru-tui (`--example NAME`): a GRU and an LSTM each, and the
preset their inputs come from.

``delay`` and ``hold`` are safetensors files in ``gru_tui/examples/``, trained by
``gru_tui/examples/train.py`` on a memory task and read like any weight file. ``slides`` is
made here: the seeded random weights of the built-in example, with input biases chosen so
that its first step gives the gate values the seed slides print.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from gru_tui.core.presets import SLIDE_C0, SLIDE_H0, SLIDE_X
from gru_tui.engine import TABLES, random_cell
from gru_tui.errors import InputError
from gru_tui.io.layers import Layer
from gru_tui.io.weights import read_layers, read_metadata

# The seed slides' printed results for their worked example (x_1, h_0, C_0 of SPEC §2). They
# give no o_t and no GRU candidate: those keep the random weights' values.
SLIDE_GATES = {
    "gru": {"r": (0.58, 0.73, 0.45), "z": (0.66, 0.42, 0.51)},
    "lstm": {"f": (0.65, 0.42, 0.78), "i": (0.53, 0.71, 0.48), "g": (0.32, -0.54, 0.67)},
}


@dataclass(frozen=True)
class Example:
    name: str
    preset: str  # the inputs the models were trained on (a held-out seed)
    summary: str
    make: Callable[[], tuple] | None = None  # makes the layers; None: read from the file

    @property
    def path(self) -> Path:
        """The safetensors file of a trained example."""
        return Path(str(files("gru_tui.examples").joinpath(f"{self.name}.safetensors")))

    def layers(self) -> tuple:
        return self.make() if self.make else tuple(read_layers(self.path))

    def metadata(self) -> dict[str, str]:
        """What the trained example's file records: its task, inputs, held-out errors."""
        return {} if self.make else read_metadata(self.path)


def example(name: str) -> Example:
    if name not in EXAMPLES:
        raise InputError(f"unknown example {name!r}; choose from {', '.join(EXAMPLES)}")
    return EXAMPLES[name]


def example_layers(name: str, models: tuple[str, ...] = ()) -> tuple:
    """The example's recurrent layers, one per model (all of them when `models` is empty)."""
    layers = {layer.kind: layer for layer in example(name).layers()}
    for model in models:
        if model not in layers:
            raise InputError(f"--example {name} has no {model}; it holds "
                             f"{' and '.join(layers)}")
    return tuple(layers[m] for m in (models or tuple(layers)))


def slides_layers() -> tuple:
    """The built-in example's GRU and LSTM (seed 0), each gate the slides print moved onto
    its printed value at t = 1 by its input bias: b_i += target pre-activation − current."""
    layers = []
    for kind, targets in SLIDE_GATES.items():
        cell = random_cell(kind, 3, 3, seed=0)
        first = cell.run(SLIDE_X[None], SLIDE_H0, SLIDE_C0 if kind == "lstm" else None)
        b_i = cell.b_i.copy()
        for letter, values in targets.items():
            values = np.array(values)
            wanted = np.arctanh(values) if letter == "g" else np.log(values / (1 - values))
            k = cell.GATES.index(letter)
            b_i[3 * k : 3 * k + 3] += wanted - first[f"{TABLES[kind].gate(letter).name}_pre"][0]
        tensors = {"weight_ih": cell.W, "weight_hh": cell.U, "bias_ih": b_i, "bias_hh": cell.b_h}
        layers.append(Layer(
            name=f"slides.{kind}", kind=kind, direction="forward", input_size=3, hidden_size=3,
            convention="reset before" if kind == "gru" else "standard",
            parameters=sum(int(t.size) for t in tensors.values()), tensors=tensors,
            order=cell.GATES, reset="before", framework="the slides"))
    return tuple(layers)


EXAMPLES: dict[str, Example] = {
    e.name: e
    for e in (
        Example("delay", "pulses", "a GRU and an LSTM trained to repeat each input 3 steps later"),
        Example("hold", "pulses", "a GRU and an LSTM trained to hold the latest pulse until the "
                "next one"),
        Example("slides", "slides", "the built-in example with biases set so that t = 1 gives "
                "the slides' printed gates", make=slides_layers),
    )
}
