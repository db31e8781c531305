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
from gru_tui.app.themes import PROJECTOR, PROJECTOR_THEME
from gru_tui.app.widgets import MemoryPanel, ModelPanel, StatusBar
from gru_tui.core.explorer import TARGET_TITLES, Explorer
from gru_tui.core.scenario import Scenario
from gru_tui.core.session import save_session, session_text
from gru_tui.errors import InputError
from gru_tui.render.svg import offline_svg

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # steps per second when playing


def saved_path(kind: str, suffix: str, folder: Path = Path()) -> Path:
    """gru-tui-<kind>-<yyyymmdd>-<hhmmss><suffix> in `folder`: one style for every file the
    app saves (screenshots, sessions); a second one within the same second gets -2, -3, …"""
    stem = f"gru-tui-{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, copy = folder / f"{stem}{suffix}", 2
    while path.exists():
        path, copy = folder / f"{stem}-{copy}{suffix}", copy + 1
    return path


class GruTuiApp(App[None]):
    """Step through a GRU, an LSTM and a simple RNN, edit inputs, see every gate."""

    CSS_PATH = "app.tcss"
    TITLE = "gru-tui"
    BINDINGS = bindings()

    def __init__(self, scenario: Scenario | None = None, *, t: int = 0, unit: int = 0,
                 visible: tuple[str, ...] = (), projector: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.explorer = Explorer(scenario or Scenario(), t=t, unit=unit, visible=visible)
        self.speed = 2
        self._player: Timer | None = None
        self.register_theme(PROJECTOR)
        self._theme_before = ""  # the theme projector mode replaced
        if projector:
            self.action_projector()

    # -- layout ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        self.main = MainScreen()
        return self.main

    # -- keeping the screen in step with the explorer ------------------------------------

    def changed(self) -> None:
        """The explorer has changed: the widgets showing what changed redraw."""
        self.main.sync()

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
        self.push_screen(ValueScreen(f"{TARGET_TITLES[ex.target]}[{ex.component + 1}]",
                                     ex.value))  # it sets the value through edit()

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
                panel.vector = 0
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

    # In a browser (`gru-tui serve web`) files go to the student as downloads: the server's
    # disk is neither theirs nor a place for a whole class's files.

    def screenshot_svg(self) -> str:
        """The screen as an SVG that renders the same offline (render.svg)."""
        return offline_svg(self.export_screenshot())

    def action_screenshot(self) -> None:
        svg, path = self.screenshot_svg(), saved_path("screenshot", ".svg")
        if self.is_web:
            self.deliver_text(io.StringIO(svg), save_filename=path.name, open_method="browser",
                              mime_type="image/svg+xml")  # a new tab, to see or save
            self.notify("Opened in a new browser tab", title="Screenshot")
            return
        try:
            path.write_text(svg, encoding="utf-8")
        except OSError as error:
            self.notify(f"Could not write {path}: {error.strerror}", severity="error")
            return
        self.notify(f"Saved {path.resolve()}", title="Screenshot")

    def action_save_session(self) -> None:
        path = saved_path("session", ".json")
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

    def action_projector(self) -> None:
        """Projector mode on or off: its theme, or back to the one it replaced (the main
        screen lays itself out again for a new theme)."""
        if self.theme == PROJECTOR_THEME:
            self.theme = self._theme_before or "textual-dark"
        else:
            self._theme_before, self.theme = self.theme, PROJECTOR_THEME

    def action_focus_next(self) -> None:
        if self.screen is self.main and self.main.plan.single:
            self.main.next_panel(1)  # one model at a time: tab shows the next one
        else:
            super().action_focus_next()

    def action_focus_previous(self) -> None:
        if self.screen is self.main and self.main.plan.single:
            self.main.next_panel(-1)
        else:
            super().action_focus_previous()

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
