"""The main screen: the status line, the inputs and model panels, the memory panel and the
timeline, laid out again on every resize by the layout planner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static

from gru_tui.app.layout import MIN_HEIGHT, MIN_WIDTH, Content, plan_layout
from gru_tui.app.widgets import InputPanel, MemoryPanel, ModelPanel, StatusBar, Timeline
from gru_tui.core.scenario import MODELS

if TYPE_CHECKING:
    from gru_tui.app.app import GruTuiApp


class MainScreen(Screen):
    """Holds what the widgets show, as reactives copied from the explorer by :meth:`sync`;
    each widget is bound to the ones it draws (see widgets.base.View)."""

    app: GruTuiApp
    t: reactive[int] = reactive(0, repaint=False)
    unit: reactive[int] = reactive(0, repaint=False)
    selection: reactive[tuple[str, int]] = reactive(("x", 0), repaint=False)
    runs: reactive[tuple[int, int]] = reactive((0, 0), repaint=False)
    shown: reactive[tuple[str, ...]] = reactive((), repaint=False)
    mode: reactive[str] = reactive("bars")
    notes: reactive[bool] = reactive(False)
    strip_rows: reactive[int] = reactive(1)
    strips: reactive[bool] = reactive(False)
    memory: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        S = MainScreen
        yield StatusBar(id="status").data_bind(S.t, S.runs, S.shown)
        with Horizontal(id="panels"):
            yield InputPanel(id="inputs").data_bind(S.t, S.selection, S.runs, S.shown,
                                                    S.mode, S.strip_rows)
            with VerticalScroll(id="models", can_focus=False):
                for model in MODELS:
                    yield ModelPanel(model).data_bind(S.t, S.unit, S.runs, S.mode, S.notes,
                                                      S.strip_rows)
        yield MemoryPanel(id="memory").data_bind(S.t, S.runs, S.shown)
        yield Timeline(id="timeline").data_bind(S.t, S.unit, S.runs, S.shown)
        yield Static(id="too-small")
        yield Footer()

    def sync(self) -> None:
        """Copy the explorer's state into the reactives: widgets showing what changed redraw."""
        ex = self.app.explorer
        self.t, self.unit = ex.t, ex.unit
        self.selection = (ex.target, ex.component)
        self.runs = (ex.serial, ex.edits)
        self.shown = ex.visible

    def on_mount(self) -> None:
        self.sync()
        self.show_models()
        self.query_one(InputPanel).focus()

    def on_resize(self) -> None:
        self.lay_out()

    def show_models(self) -> None:
        visible = self.app.explorer.visible
        for model in MODELS:
            self.query_one(f"#panel-{model}").display = model in visible
        self.lay_out()

    def lay_out(self) -> None:
        width, height = self.size
        ex = self.app.explorer
        plan = plan_layout(width, height, Content(
            shown=tuple(m for m in MODELS if m in ex.visible), hidden=ex.hidden_size,
            inputs=ex.input_size, models_run=len(ex.traces), strips=self.strips,
            memory=self.memory))
        self.set_class(plan.small, "too-small")
        if plan.small:
            self.query_one("#too-small", Static).update(
                f"Make the terminal larger: gru-tui needs {MIN_WIDTH}×{MIN_HEIGHT}, "
                f"this one is {width}×{height}. (q quits)")
            return
        self.set_class(plan.wide, "wide")
        self.notes, self.mode, self.strip_rows = plan.notes, plan.mode, plan.strip_rows
