"""The worked example (`w`): every gate's computation for the selected unit at step t."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from gru_tui.app.screens.info import InfoScreen
from gru_tui.render.worked import worked_header, worked_model

STACKED_BELOW = 120  # columns under which the models' computations stack


class WorkedScreen(InfoScreen):
    """Like the seed slides' "GRU Calculation (3D Vector Example)", for every shown model;
    ←/→ step and ↑/↓ choose the unit without closing it."""

    BINDINGS = [
        Binding("escape,q,w", "dismiss", "Close"),
        Binding("left", "move(-1)", "Step back"),
        Binding("right", "move(1)", "Step forward"),
        Binding("up,comma", "unit(-1)", "Previous unit"),
        Binding("down,full_stop", "unit(1)", "Next unit"),
    ]
    TITLE = "Worked example"
    VIEW = "worked"

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog worked") as scroll:
            scroll.border_title = self.TITLE
            scroll.border_subtitle = "←/→ step · ↑/↓ unit · escape closes"
            yield Static(worked_header(self.explorer), id="worked-header")
            stacked = "stacked" if self.app.size.width < STACKED_BELOW else ""
            with Horizontal(id="worked-models", classes=stacked):
                for model in self.explorer.visible:
                    yield Static(worked_model(self.explorer, model), id=f"worked-{model}",
                                 classes="worked-model")

    def refresh_body(self) -> None:
        self.query_one("#worked-header", Static).update(worked_header(self.explorer))
        for model in self.explorer.visible:
            self.query_one(f"#worked-{model}", Static).update(worked_model(self.explorer,
                                                                             model))

    def action_move(self, delta: int) -> None:
        if self.app.edit(self.explorer.move, delta):  # type: ignore[attr-defined]
            self.refresh_body()

    def action_unit(self, delta: int) -> None:
        if self.app.edit(self.explorer.choose_unit, delta):  # type: ignore[attr-defined]
            self.refresh_body()
