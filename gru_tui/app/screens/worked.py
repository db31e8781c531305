"""The worked example (`w`): every gate's computation for the selected unit at step t."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from gru_tui.app.screens.info import InfoScreen
from gru_tui.app.themes import app_palette
from gru_tui.render.worked import worked_columns, worked_header

STACKED_BELOW = 120  # columns under which the models' computations stack
COLUMN_GAP = 2  # cells between two models' columns (.worked-model's right padding)


class WorkedScreen(InfoScreen):
    """Like the seed slides' "GRU Calculation (3D Vector Example)", for every shown model,
    side by side with their steps on the same rows; ←/→ step and ↑/↓ choose the unit without
    closing it (they never scroll: page up / page down do)."""

    BINDINGS = [
        Binding("escape,q,w", "dismiss", "Close"),
        Binding("left", "move(-1)", "Step back", priority=True),
        Binding("right", "move(1)", "Step forward", priority=True),
        Binding("up,comma", "unit(-1)", "Previous unit", priority=True),
        Binding("down,full_stop", "unit(1)", "Next unit", priority=True),
    ]
    TITLE = "Worked example"

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog worked") as scroll:
            scroll.border_title = self.TITLE
            scroll.border_subtitle = "←/→ step · ↑/↓ unit · escape closes"
            yield Static(worked_header(self.explorer), id="worked-header")
            with Horizontal(id="worked-models", classes="" if self.side_by_side else "stacked"):
                for model in self.explorer.visible:
                    yield Static(id=f"worked-{model}", classes="worked-model")

    @property
    def side_by_side(self) -> bool:
        return self.app.size.width >= STACKED_BELOW

    def on_mount(self) -> None:
        self.refresh_body()

    def on_resize(self) -> None:
        self.refresh_body()

    def refresh_body(self) -> None:
        ex = self.explorer
        self.query_one("#worked-header", Static).update(worked_header(ex))
        models = ex.visible
        width = self.query_one("#worked-models").content_size.width or self.app.size.width - 4
        if self.side_by_side:
            column = width // len(models) - COLUMN_GAP
            columns = worked_columns(ex, models, column, app_palette(self.app))
        else:  # one below the other: nothing to line up with
            columns = {m: worked_columns(ex, (m,), width, app_palette(self.app))[m] for m in models}
        for model in models:
            self.query_one(f"#worked-{model}", Static).update(columns[model])

    def action_move(self, delta: int) -> None:
        if self.app.edit(self.explorer.move, delta):  # type: ignore[attr-defined]
            self.refresh_body()

    def action_unit(self, delta: int) -> None:
        if self.app.edit(self.explorer.choose_unit, delta):  # type: ignore[attr-defined]
            self.refresh_body()
