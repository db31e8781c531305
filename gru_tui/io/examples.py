"""The trained models shipped with gru-tui (`--example NAME`), read like any weight file.

Each example is a safetensors file in ``gru_tui/examples/`` holding a GRU and an LSTM trained
by ``gru_tui/examples/train.py`` on one memory task, and the preset its inputs come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from gru_tui.errors import InputError


@dataclass(frozen=True)
class Example:
    name: str
    preset: str  # the inputs the models were trained on (a held-out seed)
    summary: str

    @property
    def path(self) -> Path:
        return Path(str(files("gru_tui.examples").joinpath(f"{self.name}.safetensors")))


EXAMPLES: dict[str, Example] = {
    e.name: e
    for e in (
        Example("delay", "pulses", "a GRU and an LSTM trained to repeat each input 3 steps later"),
        Example("hold", "pulses", "a GRU and an LSTM trained to hold the latest pulse until the "
                "next one"),
    )
}


def example(name: str) -> Example:
    if name not in EXAMPLES:
        raise InputError(f"unknown example {name!r}; choose from {', '.join(EXAMPLES)}")
    return EXAMPLES[name]


def example_layers(name: str, models: tuple[str, ...] = ()) -> tuple:
    """The example's recurrent layers, one per model (all of them when `models` is empty)."""
    from gru_tui.io.weights import read_layers

    layers = {layer.kind: layer for layer in read_layers(example(name).path)}
    for model in models:
        if model not in layers:
            raise InputError(f"--example {name} has no {model}; it holds "
                             f"{' and '.join(layers)}")
    return tuple(layers[m] for m in (models or tuple(layers)))
