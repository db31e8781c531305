"""GruTuiApp: the main screen, its actions, and the layout that follows the terminal's size."""

from __future__ import annotations

import io
import time
from pathlib import Path

from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from gru_tui.app.keys import KEYS, bindings
from gru_tui.app.screens import (
    HelpScreen,
    LoadScreen,
    OffsetsScreen,
    ParametersScreen,
    PresetScreen,
    ValueScreen,
    WorkedScreen,
)
from gru_tui.app.widgets import (
    InputPanel,
    MemoryPanel,
    ModelPanel,
    Panel,
    StatusBar,
    Timeline,
    rows_needed,
)
from gru_tui.errors import InputError
from gru_tui.explorer import TARGET_TITLES, Explorer
from gru_tui.io.session import save_session, session_text
from gru_tui.scenario import MODELS, Scenario

MIN_WIDTH, MIN_HEIGHT = 60, 16
WIDE = 120  # columns from which the models stand side by side
SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # steps per second when playing


class GruTuiApp(App[None]):
    """Step through a GRU, an LSTM and a simple RNN, edit inputs, see every gate."""

    CSS_PATH = "app.tcss"
    TITLE = "gru-tui"
    BINDINGS = bindings()

    def __init__(self, scenario: Scenario | None = None, *, t: int = 0, unit: int = 0,
                 visible: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.explorer = Explorer(scenario or Scenario(), t=t, unit=unit, visible=visible)
        self.speed = 2
        self._player: Timer | None = None

    # -- layout ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        self.main = MainScreen()
        return self.main

    # -- keeping the screen in step with the explorer ------------------------------------

    def changed(self) -> None:
        """Redraw every panel: the explorer has changed."""
        self.main.revision += 1

    def _try(self, change, *args) -> bool:
        """Run an edit; a refused one becomes a notice and the last good state stays."""
        try:
            change(*args)
        except ValueError as error:  # InputError, or a refusal from the engine
            self.notify(str(error), title="Not changed", severity="warning")
            return False
        self.changed()
        return True

    # -- actions: moving ------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        self.explorer.move(delta)
        self.changed()

    def action_first(self) -> None:
        self.explorer.go(0)
        self.changed()

    def action_last(self) -> None:
        self.explorer.go(self.explorer.steps - 1)
        self.changed()

    def action_play(self) -> None:
        if self._player is not None:
            self._stop()
            return
        if self.explorer.t == self.explorer.steps - 1:
            self.explorer.go(0)
        self._player = self.set_interval(1 / SPEEDS[self.speed], self._tick)
        self._show_playing()

    def action_speed(self, delta: int) -> None:
        self.speed = min(max(self.speed + delta, 0), len(SPEEDS) - 1)
        if self._player is not None:
            self._player.stop()
            self._player = self.set_interval(1 / SPEEDS[self.speed], self._tick)
        self._show_playing()
        speed = SPEEDS[self.speed]
        self.notify(f"{speed:g} step{'' if speed == 1 else 's'} per second", timeout=1.5)

    def _tick(self) -> None:
        self.explorer.move(1)
        if self.explorer.t == self.explorer.steps - 1:
            self._stop()
        self.changed()

    def _stop(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player = None
        self._show_playing()

    def _show_playing(self) -> None:
        status = self.main.query_one(StatusBar)
        status.playing = f"{SPEEDS[self.speed]:g}/s" if self._player else ""

    def action_choose(self, delta: int) -> None:
        focused = self.focused
        if isinstance(focused, ModelPanel):
            focused.move_row(delta)
        else:
            self.explorer.choose_component(delta)
        self.changed()

    def action_unit(self, delta: int) -> None:
        self.explorer.choose_unit(delta)
        self.changed()

    # -- actions: editing -------------------------------------------------------------------

    def action_nudge(self, delta: float) -> None:
        self._try(self.explorer.nudge, delta)

    def action_zero(self) -> None:
        self._try(self.explorer.zero)

    def action_randomise(self) -> None:
        self._try(self.explorer.randomise)

    def action_type_value(self) -> None:
        ex = self.explorer
        where = f"{TARGET_TITLES[ex.target]}[{ex.component + 1}]"

        def done(text: str | None) -> None:
            if text is not None:
                self._try(ex.set_value, text)

        self.push_screen(ValueScreen(where, ex.value), done)

    def action_insert_step(self) -> None:
        self._try(self.explorer.insert_step)

    def action_delete_step(self) -> None:
        self._try(self.explorer.delete_step)

    def action_presets(self) -> None:
        def done(name: str | None) -> None:
            if name:
                self._try(self.explorer.load_preset, name)

        self.push_screen(PresetScreen(), done)

    # -- actions: models ----------------------------------------------------------------------

    def action_reseed(self) -> None:
        if self._try(self.explorer.reseed):
            self.notify(f"Weights from seed {self.explorer.scenario.seed}", timeout=2)

    def action_toggle_reset(self) -> None:
        self._try(self.explorer.toggle_reset)

    def action_toggle_z(self) -> None:
        self._try(self.explorer.toggle_z_weights)

    def action_offsets(self) -> None:
        self.push_screen(OffsetsScreen())

    def action_load(self) -> None:
        def done(choice: tuple[tuple, str | None] | None) -> None:
            if choice is None:
                return
            layers, example = choice
            try:
                explorer = self.explorer.with_weights(layers, example)
            except InputError as error:
                self.notify(str(error), title="Not loaded", severity="warning")
                return
            self._stop()
            self.explorer = explorer
            for panel in self.main.query(ModelPanel):
                panel.row = 0  # H may have changed
            self.main.show_models()
            self.changed()
            if example:
                running = f"example {example}"
            elif layers:
                running = explorer.traces[explorer.visible[0]].cell.source
            else:
                running = f"random weights from seed {explorer.scenario.seed}"
            self.notify(f"Running {running}", title="Weights")

        self.push_screen(LoadScreen(self.explorer.scenario.seed), done)

    def action_toggle_model(self, model: str) -> None:
        if self._try(self.explorer.toggle_model, model):
            self.main.show_models()

    def action_toggle_memory(self) -> None:
        main = self.main
        main.memory = not main.memory
        panel = main.query_one(MemoryPanel)
        panel.display = main.memory
        if main.memory:
            panel.update_profiles()
        main.lay_out()

    def action_keep_gates(self) -> None:
        if self._try(self.explorer.toggle_keep_gates):
            self.notify("Keep gates open: GRU z and LSTM f biases ±2" if
                        self.explorer.keep_gates_open else "Keep gates as the weights have them",
                        timeout=2)

    def action_scale_u(self, factor: float) -> None:
        self._try(self.explorer.scale_recurrent, factor)  # the status line shows the scale

    def action_toggle_strips(self) -> None:
        self.main.strips = not self.main.strips
        self.main.lay_out()

    # -- actions: views and files -----------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_worked(self) -> None:
        self.push_screen(WorkedScreen())

    def action_parameters(self) -> None:
        self.push_screen(ParametersScreen())

    # In a browser (`gru-tui serve web`) files go to the student as downloads: the server's
    # disk is neither theirs nor a place for a whole class's files.

    def action_screenshot(self) -> None:
        if self.is_web:
            self.deliver_screenshot()  # Textual opens the SVG in a new tab, to see or save
            self.notify("Opened in a new browser tab", title="Screenshot")
            return
        path = Path(self.save_screenshot()).resolve()
        self.notify(f"Saved {path}", title="Screenshot")

    def action_save_session(self) -> None:
        path = Path(f"gru-tui-session-{time.strftime('%Y%m%d-%H%M%S')}.json")
        if self.is_web:
            try:
                text = session_text(self.explorer)
            except InputError as error:
                self.notify(str(error), severity="warning")
                return
            self.deliver_text(io.StringIO(text), save_filename=path.name,
                              mime_type="application/json")
            self.notify(f"Sent {path.name} to your browser as a download", title="Session")
            return
        try:
            save_session(self.explorer, path)
        except InputError as error:
            self.notify(str(error), severity="warning")
            return
        except OSError as error:
            self.notify(f"Could not write {path}: {error.strerror}", severity="error")
            return
        self.notify(f"Saved {path.resolve()}", title="Session")

    def get_system_commands(self, screen: Screen):
        """The command palette: every action of the key registry, plus Textual's own."""
        yield from super().get_system_commands(screen)
        for key in KEYS:
            if key.builtin:
                continue
            yield SystemCommand(f"{key.description}  ({key.shown or key.keys})",
                                key.group, self._palette_callback(key.action))

    def _palette_callback(self, action: str):
        async def run() -> None:
            await self.run_action(action)

        return run

    def on_descendant_focus(self) -> None:
        for panel in self.main.query(Panel):
            panel.refresh()


class MainScreen(Screen):
    """The panels, laid out again on every resize: side by side when wide, stacked when
    narrow; one row per unit when there is room, units side by side or heat strips when not."""

    app: GruTuiApp
    revision: reactive[int] = reactive(0, repaint=False)  # the bound panels redraw themselves
    mode: reactive[str] = reactive("bars")
    notes: reactive[bool] = reactive(False)
    strip_rows: reactive[int] = reactive(1)
    strips: reactive[bool] = reactive(False)
    memory: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status").data_bind(MainScreen.revision)
        with Horizontal(id="panels"):
            yield InputPanel(id="inputs").data_bind(MainScreen.revision, MainScreen.mode,
                                                    MainScreen.strip_rows)
            with VerticalScroll(id="models", can_focus=False):
                for model in MODELS:
                    yield ModelPanel(model).data_bind(MainScreen.revision, MainScreen.mode,
                                                      MainScreen.notes, MainScreen.strip_rows)
        yield MemoryPanel(id="memory").data_bind(MainScreen.revision)
        yield Timeline(id="timeline").data_bind(MainScreen.revision)
        yield Static(id="too-small")
        yield Footer()

    def on_mount(self) -> None:
        self.show_models()
        self.query_one(InputPanel).focus()

    def on_resize(self) -> None:
        self.lay_out()

    def show_models(self) -> None:
        visible = self.app.explorer.visible
        for model in MODELS:
            self.query_one(f"#panel-{model}").display = model in visible
        self.query_one(InputPanel).refresh(layout=True)  # C_0 comes and goes with the LSTM
        self.lay_out()

    def lay_out(self) -> None:
        width, height = self.size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "too-small")
        if small:
            self.query_one("#too-small", Static).update(
                f"Make the terminal larger: gru-tui needs {MIN_WIDTH}×{MIN_HEIGHT}, "
                f"this one is {width}×{height}. (q quits)")
            return
        ex = self.app.explorer
        shown = [m for m in MODELS if m in ex.visible]
        timeline = len(shown) + 1
        memory = len(ex.traces) + 4 if self.memory else 0  # a row per model, 3 of text, border
        body = height - 2 - timeline - memory  # status, footer
        vectors = {m: len(ModelPanel(m).vectors) for m in shown}
        H, D = ex.hidden_size, ex.input_size
        inputs = 3 if "lstm" in shown else 2

        def fits(mode: str, wide: bool, notes: bool = False) -> bool:
            if wide:  # full borders, and the role line at the bottom unless notes
                chrome = 2 if notes or mode != "bars" else 4
                return max(rows_needed(mode, H, vectors[m], notes) + chrome
                           for m in shown) <= body
            # stacked: top borders only, the inputs first, one role line in the focused panel
            rows = sum(rows_needed(mode, H, vectors[m], notes) + 1 for m in shown)
            rows += rows_needed(mode, max(D, H), inputs) + 1 + (0 if notes else 1)
            return rows <= body

        def panel_width(wide: bool) -> int:
            return (width - 36) // len(shown) - 4 if wide else width - 2

        def mode_for(wide: bool) -> str:
            if self.strips or H > 16:
                return "strips"
            if fits("bars", wide):
                return "bars"
            if panel_width(wide) >= max(H, D) * 13 + 6:
                return "inline"
            return "strips"

        # side by side from WIDE columns, unless only stacking fits every unit's bar and value
        stacked = mode_for(False)
        wide = width >= WIDE and not (mode_for(True) == "strips" != stacked
                                      and fits(stacked, False))
        self.set_class(wide, "wide")
        self.notes = not self.strips and H <= 16 and fits("bars", wide, notes=True)
        self.mode = mode_for(wide)
        # heat strips wrap over the rows left free, so a wide layer shows all its units
        if wide:
            free = body - 3 - max(vectors.values())
            per_vector = free // max(vectors.values())
        else:
            count = sum(vectors.values()) + inputs
            per_vector = (body - len(shown) - 2 - count) // count
        per_row = max(panel_width(wide) - 22, 1)
        self.strip_rows = max(1, min(1 + per_vector, -(-max(H, D) // per_row)))
