"""The main screen: the status line, the inputs and model panels, the memory panel and the
timeline, laid out again on every resize by the layout planner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Container, Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static

from gru_tui.app.layout import MIN_HEIGHT, MIN_WIDTH, Content, Plan, plan_layout
from gru_tui.app.themes import PROJECTOR_THEME
from gru_tui.app.widgets import (
    InputPanel,
    MemoryPanel,
    ModelPanel,
    StatusBar,
    StepCounter,
    Timeline,
)
from gru_tui.core.scenario import MODELS
from gru_tui.render.theme import MODEL_TITLES

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
    plan: reactive[Plan] = reactive(Plan(small=False), repaint=False)
    mode: reactive[str] = reactive("bars", repaint=False)  # the plan's, for a quick look
    notes: reactive[bool] = reactive(False, repaint=False)
    strip_rows: reactive[int] = reactive(1, repaint=False)
    strips: reactive[bool] = reactive(False, repaint=False)
    memory: reactive[bool] = reactive(False, repaint=False)
    solo: reactive[str] = reactive("", repaint=False)  # one model at a time: the one shown

    def compose(self) -> ComposeResult:
        S = MainScreen
        yield StatusBar(id="status").data_bind(S.t, S.runs, S.shown, S.plan)
        with Container(id="panels"):
            with Horizontal(id="top"):
                yield InputPanel(id="inputs").data_bind(S.t, S.selection, S.runs, S.shown,
                                                        S.plan)
                yield StepCounter(id="counter").data_bind(S.t, S.runs)
            with Container(id="models"):  # no scroll bindings to shadow ←/→ and home/end
                for model in MODELS:
                    yield ModelPanel(model).data_bind(S.t, S.unit, S.runs, S.shown, S.plan)
        yield MemoryPanel(id="memory").data_bind(S.t, S.runs, S.shown, S.plan)
        yield Timeline(id="timeline").data_bind(S.t, S.unit, S.runs, S.shown, S.plan)
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
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.lay_out())

    def on_resize(self) -> None:
        self.lay_out()

    @property
    def projector(self) -> bool:
        return self.app.theme == PROJECTOR_THEME

    def show_models(self) -> None:
        """Show the visible models' panels; one model at a time, the one chosen (solo)."""
        visible = self.app.explorer.visible
        if self.solo not in visible:
            self.solo = visible[0]
        single = self.plan.single
        for k, model in enumerate(visible):
            panel = self.query_one(f"#panel-{model}", ModelPanel)
            after = (*visible[k + 1:], "")[0]
            panel.hint = f"tab: {MODEL_TITLES[after]}" if single and after else ""
        for model in MODELS:
            self.query_one(f"#panel-{model}").display = model in visible and (
                not single or model == self.solo)
        self.lay_out()

    def next_panel(self, delta: int) -> None:
        """tab / shift+tab with one model at a time: inputs, then each model in turn."""
        order = ["inputs", *(f"panel-{m}" for m in self.app.explorer.visible)]
        focused = self.app.focused
        here = order.index(focused.id) if focused is not None and focused.id in order else 0
        target = order[(here + delta) % len(order)]
        if target != "inputs":
            self.solo = target.removeprefix("panel-")
            self.show_models()
        self.query_one(f"#{target}").focus()

    def lay_out(self) -> None:
        width, height = self.size
        ex = self.app.explorer
        plan = plan_layout(width, height, Content(
            shown=tuple(m for m in MODELS if m in ex.visible), hidden=ex.hidden_size,
            inputs=ex.input_size, models_run=len(ex.traces), strips=self.strips,
            memory=self.memory, projector=self.projector, steps=ex.steps))
        self.set_class(plan.small, "too-small")
        if plan.small:
            self.query_one("#too-small", Static).update(
                f"Make the terminal larger: gru-tui needs {MIN_WIDTH}×{MIN_HEIGHT}, "
                f"this one is {width}×{height}. (q quits)")
            return
        self.set_class(plan.wide, "wide")
        self.set_class(plan.across and not plan.wide, "across")
        self.query_one("#top").styles.width = plan.inputs_width if plan.wide else "100%"
        self.query_one(StepCounter).display = plan.counter
        changed = plan.single != self.plan.single
        self.plan = plan
        self.notes, self.mode, self.strip_rows = plan.notes, plan.mode, plan.strip_rows
        if changed:
            self.show_models()
