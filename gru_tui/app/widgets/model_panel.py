"""One model's panel: its gates, candidate and states at step t."""

from __future__ import annotations

from rich.console import Group
from textual.reactive import reactive

from gru_tui.app.widgets.base import Panel
from gru_tui.render.panels import model_rows, model_vectors
from gru_tui.render.theme import MODEL_TITLES, VectorInfo


class ModelPanel(Panel):
    """The vectors of one model; ↑/↓ move a row cursor over them (in bars mode over every
    unit, which then becomes the selected unit)."""

    row: reactive[int] = reactive(0)

    def __init__(self, model: str, **kwargs) -> None:
        super().__init__(id=f"panel-{model}", classes="model", **kwargs)
        self.model = model
        self.border_title = MODEL_TITLES[model]

    @property
    def vectors(self) -> tuple[VectorInfo, ...]:
        return model_vectors(self.model)

    def cursor(self) -> tuple[int, int | None]:
        """(vector index, unit) under the row cursor."""
        if self.mode == "bars":
            H = self.explorer.hidden_size
            return self.row // H, self.row % H
        return self.row, None

    def move_row(self, delta: int) -> None:
        H = self.explorer.hidden_size
        count = len(self.vectors) * (H if self.mode == "bars" else 1)
        self.row = (self.row + delta) % count
        _, unit = self.cursor()
        if unit is not None:
            self.explorer.unit = unit

    def watch_mode(self, old: str, new: str) -> None:
        H = self.explorer.hidden_size
        if old == "bars" and new != "bars":
            self.row //= H
        elif new == "bars" and old != "bars":
            self.row = self.row * H + self.explorer.unit

    def watch_runs(self) -> None:
        if self.model == "gru" and "gru" in self.explorer.traces:  # a loaded layer: one model
            cell = self.explorer.traces["gru"].cell
            subtitle = f"reset {cell.reset} · z {cell.z_weights}"
            if self.border_subtitle != subtitle:  # setting it always redraws the border
                self.border_subtitle = subtitle

    def render(self) -> Group:
        ex = self.explorer
        if self.model not in ex.traces:  # hidden: the loaded weights have no such layer
            return Group()
        return Group(*model_rows(ex, self.model, self.content_size.width, self.mode,
                                 notes=self.notes, strip_rows=self.strip_rows, dark=self.dark,
                                 cursor=self.cursor(), focused=self.has_focus))
