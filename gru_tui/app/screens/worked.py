"""The worked example (`w`): every gate's computation for the selected unit at step t."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from gru_tui.app.messages import ExplorerChanged
from gru_tui.app.screens.info import InfoScreen
from gru_tui.render.worked import worked_header, worked_model

STACKED_BELOW = 120  # columns under which the models' computations stack


class WorkedScreen(InfoScreen):
    """Like the seed slides' "GRU Calculation (3D Vector Example)", for every shown model
    (or the `models` given); ←/→ step and ↑/↓ choose the unit without closing it. `gate`
    marks one gate's step (and scrolls to it): the cell diagram opens it so."""

    BINDINGS = [
        Binding("escape,q,w", "dismiss", "Close"),
        Binding("left", "move(-1)", "Step back"),
        Binding("right", "move(1)", "Step forward"),
        Binding("up,comma", "unit(-1)", "Previous unit"),
        Binding("down,full_stop", "unit(1)", "Next unit"),
    ]
    TITLE = "Worked example"
    VIEW = "worked"

    def __init__(self, models: tuple[str, ...] = (), gate: str | None = None) -> None:
        super().__init__()
        self.models = models
        self.gate = gate

    @property
    def shown(self) -> tuple[str, ...]:
        return self.models or self.explorer.visible

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog worked") as scroll:
            scroll.border_title = self.TITLE
            scroll.border_subtitle = "←/→ step · ↑/↓ unit · escape closes"
            yield Static(worked_header(self.explorer), id="worked-header")
            stacked = "stacked" if self.app.size.width < STACKED_BELOW else ""
            with Horizontal(id="worked-models", classes=stacked):
                for model in self.shown:
                    yield Static(worked_model(self.explorer, model, self.gate),
                                 id=f"worked-{model}", classes="worked-model")

    def on_mount(self) -> None:
        if self.gate is not None:
            self.call_after_refresh(self._scroll_to_gate)

    def _scroll_to_gate(self) -> None:
        """Bring the marked gate's step into view: its line in the first model's text."""
        model = self.shown[0]
        static = self.query_one(f"#worked-{model}", Static)
        scroll = self.query_one(VerticalScroll)
        options = self.app.console.options.update_width(max(static.content_size.width, 1))
        lines = self.app.console.render_lines(worked_model(self.explorer, model, self.gate),
                                              options, pad=False)
        row = next((k for k, line in enumerate(lines)
                    if any("▶ Step" in segment.text for segment in line)), 0)
        top = static.region.y - scroll.region.y + scroll.scroll_offset.y  # in scroll's content
        scroll.scroll_to(y=max(top + row - 1, 0), animate=False)

    def refresh_body(self) -> None:
        shown = self.shown
        if len(self.query(".worked-model")) != len(shown) or not all(
                self.query(f"#worked-{model}") for model in shown):  # other models now
            self.refresh(recompose=True)
            return
        self.query_one("#worked-header", Static).update(worked_header(self.explorer))
        for model in shown:
            self.query_one(f"#worked-{model}", Static).update(
                worked_model(self.explorer, model, self.gate))

    def on_explorer_changed(self, _: ExplorerChanged) -> None:
        self.refresh_body()

    def action_move(self, delta: int) -> None:
        self.app.edit(self.explorer.move, delta)  # type: ignore[attr-defined]

    def action_unit(self, delta: int) -> None:
        self.app.edit(self.explorer.choose_unit, delta)  # type: ignore[attr-defined]
