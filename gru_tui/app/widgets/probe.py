"""The training lab's view of its models on the probe sequence: each model's gates at the
probe step (the main screen's rows, from render.panels) and their memory profiles (render.timeline),
drawn from a :class:`ProbeView` the lab screen hands over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.console import Group
from rich.text import Text
from textual.widget import Widget

from gru_tui.core.explorer import Explorer
from gru_tui.core.lab import Lab
from gru_tui.engine import MemoryProfile, memory_profile
from gru_tui.render.lab import probe_heading
from gru_tui.render.panels import model_rows
from gru_tui.render.timeline import memory_rows
from gru_tui.render.vectors import SYMBOL_WIDTH

INLINE_CELL = 9  # columns per unit from which a vector's units fit on one row with values


@dataclass
class ProbeView:
    """The lab's models with their weights of one moment, run on the probe sequence: an
    explorer per hidden size (the models of one size share it), their memory profiles and
    their readouts ŷ [T, O]."""

    explorers: list[Explorer]
    profiles: dict[str, MemoryProfile]
    predictions: dict[str, np.ndarray]
    target: np.ndarray  # y [T, O]
    mask: np.ndarray  # [T]

    @classmethod
    def of(cls, lab: Lab, t: int) -> ProbeView:
        """Run the lab's current models on its probe (costs a memory profile per model)."""
        groups: dict[int, list[str]] = {}
        for model in lab.models:
            groups.setdefault(lab.hidden_sizes[model], []).append(model)
        explorers = [Explorer(lab.scenario(models), t=t) for models in groups.values()]
        probe = lab.probe()
        return cls(explorers,
                   {m: memory_profile(ex.traces[m]) for ex in explorers for m in ex.traces},
                   {m: lab.predict(m, probe.x[None])[0] for m in lab.models},
                   probe.y, probe.mask)

    def explorer(self, model: str) -> Explorer:
        return next(ex for ex in self.explorers if model in ex.traces)

    def go(self, t: int) -> None:
        for ex in self.explorers:
            ex.go(t)


class ProbeRows(Widget):
    """Rows of rich Text, one terminal line each, made for the width they are drawn at (so
    the height Textual asks for is counted at the width it asks about)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view: ProbeView | None = None

    def rows(self, width: int) -> list[Text]:
        raise NotImplementedError

    def render(self) -> Group:
        return Group(*self.rows(self.content_size.width))

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self.rows(width))

    def on_resize(self) -> None:
        self.refresh(layout=True)


class ProbeGates(ProbeRows):
    """One model's vectors at the probe step, under its readout and the target there."""

    def __init__(self, model: str, **kwargs) -> None:
        super().__init__(id=f"probe-{model}", classes="probe-gates", **kwargs)
        self.model = model

    def rows(self, width: int) -> list[Text]:
        view, dark = self.view, self.app.current_theme.dark
        if view is None:
            return [Text("…")]
        ex = view.explorer(self.model)
        t = ex.t
        room = (width - SYMBOL_WIDTH) // ex.hidden_size
        mode = "inline" if room >= INLINE_CELL else "strips"  # else heat strips
        heading = probe_heading(self.model, t, ex.steps, view.predictions[self.model][t],
                                view.target[t], bool(view.mask[t]), dark)
        return [heading, *model_rows(ex, self.model, width, mode, dark=dark)]


class ProbeMemory(ProbeRows):
    """‖∂h_T/∂x_t‖ on the probe for every model, a block per hidden size."""

    def rows(self, width: int) -> list[Text]:
        if self.view is None:
            return []
        dark = self.app.current_theme.dark
        return [row for ex in self.view.explorers
                for row in memory_rows(ex, self.view.profiles, width, dark, key_hints=False)]
