"""GruTuiApp: the app's actions over the headless Explorer, and its one path for edits."""

from __future__ import annotations

import io
import time
from pathlib import Path

from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.timer import Timer

from gru_tui.app.keys import KEYS, bindings
from gru_tui.app.screens import (
    HelpScreen,
    LoadScreen,
    MainScreen,
    OffsetsScreen,
    ParametersScreen,
    PresetScreen,
    ValueScreen,
    WorkedScreen,
)
from gru_tui.app.widgets import MemoryPanel, ModelPanel, Panel, StatusBar
from gru_tui.core.explorer import TARGET_TITLES, Explorer
from gru_tui.core.scenario import Scenario
from gru_tui.core.session import save_session, session_text
from gru_tui.errors import InputError, escaped

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # steps per second when playing
# A served app over SSH writes nothing on the server: what the student can do instead.
SERVED_SCREENSHOT = ("Not saved: this app runs on the teacher's machine, which it never "
                     "writes on. Take a screenshot with your own computer's tools.")
SERVED_SESSION = ("Not saved on the teacher's machine: the session is on your clipboard, if "
                  "your terminal allows it. Paste it into a file and open it with gru-tui "
                  "--session FILE.")
MAX_CLIPBOARD_CHARS = 100_000  # OSC 52: terminals cap what they take
SERVED_SESSION_TOO_LONG = ("Not saved on the teacher's machine, and too long for your "
                           f"clipboard (over {MAX_CLIPBOARD_CHARS:,} characters).")


class GruTuiApp(App[None]):
    """Step through a GRU, an LSTM and a simple RNN, edit inputs, see every gate."""

    CSS_PATH = "app.tcss"
    TITLE = "gru-tui"
    BINDINGS = bindings()

    def __init__(self, scenario: Scenario | None = None, *, t: int = 0, unit: int = 0,
                 visible: tuple[str, ...] = (), served: bool = False,
                 weights_dir: Path | None = None, **kwargs) -> None:
        """`served`: the app runs for a student on the teacher's machine (`gru-tui serve`),
        which it never writes on, and where `l` reads only the shipped examples and the files
        under `weights_dir`."""
        super().__init__(**kwargs)
        self.explorer = Explorer(scenario or Scenario(), t=t, unit=unit, visible=visible)
        self.served = served
        self.weights_dir = weights_dir
        self.speed = 2
        self._player: Timer | None = None

    # -- layout ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        self.main = MainScreen()
        return self.main

    # -- keeping the screen in step with the explorer ------------------------------------

    def changed(self) -> None:
        """The explorer has changed: the widgets showing what changed redraw."""
        self.main.sync()

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notice of the app and its screens: plain text (a file name is not markup)
        with control characters escaped, so a name with a newline stays one line."""
        super().notify(escaped(message), title=title, severity=severity, timeout=timeout,
                       markup=markup)

    def edit(self, change, *args) -> bool:
        """Run a change of the explorer; a refused one becomes a notice and the last good
        state stays. Every screen changes the model through here."""
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
        self.edit(self.explorer.nudge, delta)

    def action_zero(self) -> None:
        self.edit(self.explorer.zero)

    def action_randomise(self) -> None:
        self.edit(self.explorer.randomise)

    def action_type_value(self) -> None:
        ex = self.explorer
        where = f"{TARGET_TITLES[ex.target]}[{ex.component + 1}]"

        def done(text: str | None) -> None:
            if text is not None:
                self.edit(ex.set_value, text)

        self.push_screen(ValueScreen(where, ex.value), done)

    def action_insert_step(self) -> None:
        self.edit(self.explorer.insert_step)

    def action_delete_step(self) -> None:
        self.edit(self.explorer.delete_step)

    def action_presets(self) -> None:
        def done(name: str | None) -> None:
            if name:
                self.edit(self.explorer.load_preset, name)

        self.push_screen(PresetScreen(), done)

    # -- actions: models ----------------------------------------------------------------------

    def action_reseed(self) -> None:
        if self.edit(self.explorer.reseed):
            self.notify(f"Weights from seed {self.explorer.scenario.seed}", timeout=2)

    def action_toggle_reset(self) -> None:
        self.edit(self.explorer.toggle_reset)

    def action_toggle_z(self) -> None:
        self.edit(self.explorer.toggle_z_weights)

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

        self.push_screen(LoadScreen(self.explorer.scenario.seed, self.served, self.weights_dir),
                         done)

    def action_toggle_model(self, model: str) -> None:
        if self.edit(self.explorer.toggle_model, model):
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
        if self.edit(self.explorer.toggle_keep_gates):
            self.notify("Keep gates open: GRU z and LSTM f biases ±2" if
                        self.explorer.keep_gates_open else "Keep gates as the weights have them",
                        timeout=2)

    def action_scale_u(self, factor: float) -> None:
        self.edit(self.explorer.scale_recurrent, factor)  # the status line shows the scale

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

    # In a browser (`gru-tui serve web`) files go to the student as downloads, and over SSH
    # nothing is written at all: the server's disk is neither the student's nor a place for a
    # whole class's files.

    def action_screenshot(self) -> None:
        if self.is_web or self.served:
            self.deliver_screenshot()
            return
        path = Path(self.save_screenshot()).resolve()
        self.notify(f"Saved {path}", title="Screenshot")

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """ctrl+s, and Textual's Screenshot command: in a browser, the SVG opens in a new tab
        (to see or save); a served app over SSH writes nothing, and says what to do instead."""
        if self.served and not self.is_web:
            self.notify(SERVED_SCREENSHOT, title="Screenshot", timeout=10)
            return None
        key = super().deliver_screenshot(filename, path, time_format)
        if self.is_web:
            self.notify("Opened in a new browser tab", title="Screenshot")
        return key

    def action_save_session(self) -> None:
        path = Path(f"gru-tui-session-{time.strftime('%Y%m%d-%H%M%S')}.json")
        if self.is_web or self.served:
            try:
                text = session_text(self.explorer)
            except InputError as error:
                self.notify(str(error), severity="warning")
                return
            if self.is_web:
                self.deliver_text(io.StringIO(text), save_filename=path.name,
                                  mime_type="application/json")
                self.notify(f"Sent {path.name} to your browser as a download", title="Session")
            else:
                self._copy_session(text)
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

    def _copy_session(self, text: str) -> None:
        """A served session over SSH: to the student's clipboard (OSC 52), not to a file."""
        if len(text) > MAX_CLIPBOARD_CHARS:
            self.notify(SERVED_SESSION_TOO_LONG, title="Session", timeout=10)
            return
        self.copy_to_clipboard(text)
        self.notify(SERVED_SESSION, title="Session", timeout=10)

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
