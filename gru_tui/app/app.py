"""GruTuiApp: the app's actions over the headless Explorer, and its one path for edits."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.timer import Timer

from gru_tui.app.keys import (
    ACTIONS,
    KEY_ACTIONS,
    MAIN,
    REPLAY_ACTIONS,
    WHILE_FOLLOWING,
    action_name,
    bindings,
    keys_working_on,
)
from gru_tui.app.lesson import Follower, LiveFeed, ReplayFeed, Teacher, Teaching, open_views
from gru_tui.app.messages import ExplorerChanged
from gru_tui.app.screens import (
    DiagramScreen,
    HelpScreen,
    LabScreen,
    LoadScreen,
    MainScreen,
    NoteScreen,
    OffsetsScreen,
    ParametersScreen,
    PresetScreen,
    ValueScreen,
    WorkedScreen,
)
from gru_tui.app.themes import PROJECTOR, PROJECTOR_THEME
from gru_tui.app.widgets import MemoryPanel, ModelPanel, StatusBar
from gru_tui.core.explorer import TARGET_TITLES, Explorer
from gru_tui.core.lesson import lesson_state
from gru_tui.core.scenario import Scenario
from gru_tui.core.session import save_session, session_text
from gru_tui.errors import InputError, escaped
from gru_tui.render.svg import offline_svg

if TYPE_CHECKING:
    from gru_tui.core.lab import Lab

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # steps per second when playing
NOTICE_EVERY_S = 2.0  # a follower's "press f" notice, at most this often
# A served app over SSH writes nothing on the server: what the student can do instead.
SERVED_SCREENSHOT = ("Not saved: this app runs on the teacher's machine, which it never "
                     "writes on. Take a screenshot with your own computer's tools.")
SERVED_SESSION = ("Not saved on the teacher's machine: the session is on your clipboard, if "
                  "your terminal allows it. Paste it into a file and open it with gru-tui "
                  "--session FILE.")
MAX_CLIPBOARD_CHARS = 100_000  # OSC 52: terminals cap what they take
SERVED_SESSION_TOO_LONG = ("Not saved on the teacher's machine, and too long for your "
                           f"clipboard (over {MAX_CLIPBOARD_CHARS:,} characters).")


def saved_path(kind: str, suffix: str, folder: Path = Path()) -> Path:
    """gru-tui-<kind>-<yyyymmdd>-<hhmmss><suffix> in `folder`: one style for every file the
    app saves (screenshots, sessions); a second one within the same second gets -2, -3, …"""
    stem = f"gru-tui-{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, copy = folder / f"{stem}{suffix}", 2
    while path.exists():
        path, copy = folder / f"{stem}-{copy}{suffix}", copy + 1
    return path


class GruTuiApp(App[None]):
    """Step through a GRU, an LSTM and a simple RNN, edit inputs, see every gate. With a
    `lab`, the training lab's screen opens first, over the main screen (`gru-tui lab`)."""

    CSS_PATH = "app.tcss"
    TITLE = "gru-tui"
    BINDINGS = bindings()

    def __init__(self, scenario: Scenario | None = None, *, t: int = 0, unit: int = 0,
                 visible: tuple[str, ...] = (), lab: Lab | None = None,
                 teach: Teaching | None = None, follow: LiveFeed | ReplayFeed | None = None,
                 served: bool = False, weights_dir: Path | None = None,
                 projector: bool = False, **kwargs) -> None:
        """`lab`: open the training lab first (gru-tui lab); `teach`: where this app, the
        teacher's, sends its state; `follow`: the feed of the teacher's (or a recording's)
        states this app follows (SPEC §13); `served`: the app runs for a student on the
        teacher's machine (`gru-tui serve`), which it never writes on, and where `l` reads
        only the shipped examples and the files under `weights_dir`; `projector`: start in
        projector mode (P)."""
        super().__init__(**kwargs)
        self.explorer = Explorer(scenario or Scenario(), t=t, unit=unit, visible=visible)
        self.served = served
        self.weights_dir = weights_dir
        self.speed = 2
        self._player: Timer | None = None
        self.lab = lab
        self.teacher: Teacher | None = None
        self.follower: Follower | None = None
        self._lesson = (teach, follow)
        self._noticed = 0.0
        self.register_theme(PROJECTOR)
        self._theme_before = ""  # the theme projector mode replaced
        if projector:
            self.action_projector()

    # -- layout ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        self.main = MainScreen()
        return self.main

    def on_mount(self) -> None:
        if self.lab is not None:
            self.push_screen(LabScreen(self.lab))

    def on_ready(self) -> None:
        """The first frame is up: take up the lesson's roles, if any."""
        teach, follow = self._lesson
        if teach is not None:
            self.teach(teach)
        if follow is not None:
            self.follow(follow)

    # -- keeping the screen in step with the explorer ------------------------------------

    def changed(self) -> None:
        """The explorer has changed: the widgets showing what changed redraw, and a screen
        over the main one (the cell diagram, the worked example) is told."""
        self.main.sync()
        if self.screen is not self.main:
            self.screen.post_message(ExplorerChanged())
        self.lesson_changed()

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notice of the app and its screens: plain text (a file name is not markup)
        with control characters escaped, so a name with a newline stays one line."""
        super().notify(escaped(message), title=title, severity=severity, timeout=timeout,
                       markup=markup)

    def edit(self, change, *args) -> bool:
        """Run a change of the explorer; a refused one becomes a notice and the last good
        state stays. Every screen changes the model through here."""
        if self.following:
            self._notice_following()
            return False
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
            self.stop_playing()
            return
        if self.explorer.t == self.explorer.steps - 1:
            self.explorer.go(0)
        self._player = self.set_interval(1 / SPEEDS[self.speed], self._tick)
        self.show_playing()

    def action_speed(self, delta: int) -> None:
        self.speed = min(max(self.speed + delta, 0), len(SPEEDS) - 1)
        if self._player is not None:
            self._player.stop()
            self._player = self.set_interval(1 / SPEEDS[self.speed], self._tick)
        self.show_playing()
        speed = SPEEDS[self.speed]
        self.notify(f"{speed:g} step{'' if speed == 1 else 's'} per second", timeout=1.5)

    def _tick(self) -> None:
        self.explorer.move(1)
        if self.explorer.t == self.explorer.steps - 1:
            self.stop_playing()
        self.changed()

    def stop_playing(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player = None
        self.show_playing()

    def show_playing(self, speed: float | None = None) -> None:
        """"▶ 2/s" in the status line: this app's speed of play, or a teacher's `speed`."""
        if speed is None:
            speed = SPEEDS[self.speed] if self._player else 0
        self.main.query_one(StatusBar).playing = f"{speed:g}/s" if speed else ""
        self.lesson_changed()

    def play_at(self, speed: float) -> None:
        """Play at the speed nearest `speed` steps per second (a teacher's, left playing)."""
        self.speed = min(range(len(SPEEDS)), key=lambda k: abs(SPEEDS[k] - speed))
        if self._player is None:
            self.action_play()

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
            if example:
                running = f"example {example}"
            elif layers:
                running = explorer.traces[explorer.visible[0]].cell.source
            else:
                running = f"random weights from seed {explorer.scenario.seed}"
            self.use_explorer(explorer)
            self.notify(f"Running {running}", title="Weights")

        self.push_screen(LoadScreen(self.explorer.scenario.seed, self.served, self.weights_dir),
                         done)

    def use_explorer(self, explorer: Explorer) -> None:
        """Show another explorer (other weights, a teacher's new run, the lab's models)."""
        self.stop_playing()
        self.explorer = explorer
        for panel in self.main.query(ModelPanel):
            panel.vector = 0  # H may have changed
        self.main.show_models()
        self.changed()

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
        self.lesson_changed()

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
        self.lesson_changed()

    # -- actions: views and files -----------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(getattr(self.screen, "KEY_SCREEN", MAIN)))

    def action_worked(self) -> None:
        self.push_screen(WorkedScreen())

    def action_diagram(self) -> None:
        if isinstance(self.screen, DiagramScreen):
            self.pop_screen()
        else:
            self.push_screen(DiagramScreen())

    def action_parameters(self) -> None:
        self.push_screen(ParametersScreen())

    # In a browser (`gru-tui serve web`) files go to the student as downloads, and over SSH
    # nothing is written at all: the server's disk is neither the student's nor a place for a
    # whole class's files.

    def screenshot_svg(self) -> str:
        """The screen as an SVG that renders the same offline (render.svg)."""
        return offline_svg(self.export_screenshot())

    def action_screenshot(self) -> None:
        if self.served and not self.is_web:
            self.notify(SERVED_SCREENSHOT, title="Screenshot", timeout=10)
            return
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
        path = saved_path("session", ".json")
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

    # -- a lesson (SPEC §13) -----------------------------------------------------------------

    def teach(self, teaching: Teaching) -> None:
        """Send this app's state, on every change, where `teaching` says."""
        self.teacher = Teacher(self, teaching)
        self.teacher.start()

    def follow(self, feed: LiveFeed | ReplayFeed) -> None:
        """Follow the states of `feed`, from now on."""
        self.follower = Follower(self, feed)
        self.follower.start()
        self.refresh_bindings()

    @property
    def following(self) -> bool:
        return self.follower is not None and self.follower.following

    def lesson_state(self) -> dict:
        """The state a teacher's students follow: the explorer, the open views, play."""
        return lesson_state(self.explorer, open_views(self),
                            SPEEDS[self.speed] if self._player else 0)

    def lesson_changed(self) -> None:
        """Something a teacher's students follow may have changed."""
        if self.teacher is not None:
            self.teacher.changed()

    def show_lesson(self, text: str) -> None:
        """The lesson's part of the status line."""
        self.main.query_one(StatusBar).lesson = text

    def check_action(self, action: str, parameters: tuple) -> bool:
        """While following, only the keys that leave the state alone work (and a recording's
        own: space, < >, [ ]); the others fall through to `on_key`, which says why."""
        if action in REPLAY_ACTIONS:
            return self.following and self.follower.replay
        return not (self.following and action in ACTIONS and action not in WHILE_FOLLOWING)

    def on_key(self, event: events.Key) -> None:
        actions = KEY_ACTIONS.get(event.key, ())
        if self.following and actions and not any(self.check_action(name, ())
                                                  for name in actions):
            self._notice_following()

    def _notice_following(self) -> None:
        if time.monotonic() - self._noticed > NOTICE_EVERY_S:
            self._noticed = time.monotonic()
            self.notify(f"Following {self.follower.leader}: press f to explore on your own",
                        timeout=3)

    def action_follow(self) -> None:
        if self.follower is None:
            self.notify("f follows a teacher: open a lesson a teacher presents (gru-tui "
                        "serve ... --present), or a recording (gru-tui replay FILE)", timeout=4)
            return
        self.follower.toggle()

    def action_mark(self) -> None:
        if self.teacher is None:
            self.notify("M drops a marker into a lesson: present one (gru-tui serve ... "
                        "--present) or record one (gru-tui --record FILE)", timeout=4)
            return

        def done(text: str | None) -> None:
            if text is not None:
                self.teacher.mark(text)

        self.push_screen(NoteScreen(), done)

    def action_replay_play(self) -> None:
        self.follower.feed.toggle_play()

    def action_replay_speed(self, delta: int) -> None:
        self.follower.feed.speed(delta)

    def action_marker(self, delta: int) -> None:
        self.follower.feed.jump_marker(delta)

    def on_unmount(self) -> None:
        for role in (self.teacher, self.follower):
            if role is not None:
                role.stop()

    def _copy_session(self, text: str) -> None:
        """A served session over SSH: to the student's clipboard (OSC 52), not to a file."""
        if len(text) > MAX_CLIPBOARD_CHARS:
            self.notify(SERVED_SESSION_TOO_LONG, title="Session", timeout=10)
            return
        self.copy_to_clipboard(text)
        self.notify(SERVED_SESSION, title="Session", timeout=10)
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
        """The command palette: the actions of the key registry that work on `screen`, plus
        Textual's own."""
        yield from super().get_system_commands(screen)
        for key in keys_working_on(getattr(screen, "KEY_SCREEN", MAIN)):
            if key.builtin or not self.check_action(action_name(key), ()):
                continue  # Textual's own, or not now (a recording's keys without one)
            yield SystemCommand(f"{key.description}  ({key.shown or key.keys})",
                                key.group, self._palette_callback(key.action))

    def _palette_callback(self, action: str):
        async def run() -> None:
            await self.run_action(action)

        return run
