"""The worked example (`w`): every gate's computation for the selected unit at step t."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from gru_tui.app.messages import ExplorerChanged
from gru_tui.app.screens.info import InfoScreen
from gru_tui.app.themes import app_palette
from gru_tui.render.worked import worked_columns, worked_header

STACKED_BELOW = 120  # columns under which the models' computations stack
COLUMN_GAP = 2  # cells between two models' columns (.worked-model's right padding)


class WorkedScreen(InfoScreen):
    """Like the seed slides' "GRU Calculation (3D Vector Example)", for every shown model
    (or the `models` given), side by side with their steps on the same rows; ←/→ step and
    ↑/↓ choose the unit without closing it (they never scroll: page up / page down do).
    `gate` marks one gate's step (and scrolls to it): the cell diagram opens it so."""

    BINDINGS = [
        Binding("escape,q,w", "dismiss", "Close"),
        Binding("left", "move(-1)", "Step back", priority=True),
        Binding("right", "move(1)", "Step forward", priority=True),
        Binding("up,comma", "unit(-1)", "Previous unit", priority=True),
        Binding("down,full_stop", "unit(1)", "Next unit", priority=True),
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

    @property
    def side_by_side(self) -> bool:
        return self.app.size.width >= STACKED_BELOW

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog worked") as scroll:
            scroll.border_title = self.TITLE
            scroll.border_subtitle = "←/→ step · ↑/↓ unit · escape closes"
            yield Static(worked_header(self.explorer), id="worked-header")
            with Horizontal(id="worked-models", classes="" if self.side_by_side else "stacked"):
                for model in self.shown:
                    yield Static(id=f"worked-{model}", classes="worked-model")

    def on_mount(self) -> None:
        self.refresh_body()
        if self.gate is not None:
            self.call_after_refresh(self._scroll_to_gate)

    def on_resize(self) -> None:
        self.refresh_body()

    def _scroll_to_gate(self) -> None:
        """Bring the marked gate's step into view: its line in the first model's column."""
        static = self.query_one(f"#worked-{self.shown[0]}", Static)
        scroll = self.query_one(VerticalScroll)
        options = self.app.console.options.update_width(max(static.content_size.width, 1))
        lines = self.app.console.render_lines(static.content, options, pad=False)
        row = next((k for k, line in enumerate(lines)
                    if any("▶ Step" in segment.text for segment in line)), 0)
        top = static.region.y - scroll.region.y + scroll.scroll_offset.y  # in scroll's content
        scroll.scroll_to(y=max(top + row - 1, 0), animate=False)

    def refresh_body(self) -> None:
        ex, models = self.explorer, self.shown
        if len(self.query(".worked-model")) != len(models) or not all(
                self.query(f"#worked-{model}") for model in models):  # other models now
            self.refresh(recompose=True)
            self.call_after_refresh(self.refresh_body)
            return
        self.query_one("#worked-header", Static).update(worked_header(ex))
        width = self.query_one("#worked-models").content_size.width or self.app.size.width - 4
        colours = app_palette(self.app)
        if self.side_by_side:
            column = width // len(models) - COLUMN_GAP
            columns = worked_columns(ex, models, column, colours, self.gate)
        else:  # one below the other: nothing to line up with
            columns = {m: worked_columns(ex, (m,), width, colours, self.gate)[m] for m in models}
        for model in models:
            self.query_one(f"#worked-{model}", Static).update(columns[model])

    def on_explorer_changed(self, _: ExplorerChanged) -> None:
        self.refresh_body()

    def action_move(self, delta: int) -> None:
        self.app.edit(self.explorer.move, delta)  # type: ignore[attr-defined]

    def action_unit(self, delta: int) -> None:
        self.app.edit(self.explorer.choose_unit, delta)  # type: ignore[attr-defined]
