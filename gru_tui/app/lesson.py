"""The app in a lesson (SPEC §13): as the teacher, whose state goes out on every change, or as
a student following a teacher or a recording.

- :class:`Teacher` sends the app's state (core/lesson.py) to the server the app presents on
  (``--teach-fd``: a socket the server hands it) and writes it to a recording (``--record``),
  and drops markers (``M``). From the server it hears how the class is doing.
- :class:`Follower` shows every state its feed brings while it follows; ``f`` breaks away to
  explore from there and ``f`` again jumps to the latest state. A feed is a :class:`LiveFeed`
  (the server's socket, ``--follow-fd``) or a :class:`ReplayFeed` (``gru-tui replay``); tests
  hand one a socket pair or a recording, no server needed.

A student's app only reads what the server sends; the one thing it says back is whether it
follows or explores, which the teacher sees counted.
"""

from __future__ import annotations

import json
import secrets
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gru_tui.app.screens import DiagramScreen, ParametersScreen, WorkedScreen
from gru_tui.core.channel import Channel
from gru_tui.core.lesson import (
    MAX_MESSAGE,
    Layers,
    LessonState,
    kind,
    message,
    newer,
    note,
    parse_state,
    read_message,
)
from gru_tui.core.recording import Recording, RecordingWriter, clock
from gru_tui.errors import InputError

if TYPE_CHECKING:
    from gru_tui.app.app import GruTuiApp

# The views a state names and how this app shows them: a dialog over the main screen, or a
# panel of the main screen that one of the app's actions switches.
VIEW_SCREENS = {screen.VIEW: screen for screen in (WorkedScreen, ParametersScreen,
                                                        DiagramScreen)}
PANEL_VIEWS = {"memory": "toggle_memory", "strips": "toggle_strips"}
REPLAY_RATES = (1, 2, 4, 8, 16)
STATUS_LIMIT = 1 << 16  # bytes of one line of the server's status
FOLLOWING, EXPLORING = b"following\n", b"exploring\n"  # what a student's app tells its server


def open_views(app: GruTuiApp) -> set[str]:
    """The names of the views open in the app."""
    views = {screen.VIEW for screen in app.screen_stack if getattr(screen, "VIEW", "")}
    return views | {name for name in PANEL_VIEWS if getattr(app.main, name)}


def show_views(app: GruTuiApp, wanted: frozenset[str], renew: bool) -> None:
    """Open the views of `wanted` this app knows and close the others; `renew` closes the
    dialogs first (they were drawn for another run), else they redraw."""
    for name, action in PANEL_VIEWS.items():
        if getattr(app.main, name) != (name in wanted):
            getattr(app, f"action_{action}")()
    for name, screen_class in VIEW_SCREENS.items():
        open_screen = next((s for s in app.screen_stack if isinstance(s, screen_class)), None)
        if open_screen is not None and (renew or name not in wanted):
            while open_screen in app.screen_stack:  # with whatever was opened over it
                app.pop_screen()
            open_screen = None
        if open_screen is not None:
            open_screen.refresh_body()
        elif name in wanted:
            app.push_screen(screen_class())


# -- the teacher ----------------------------------------------------------------------------


@dataclass
class Teaching:
    """Where a teacher's app sends its states: the server it presents on, a recording."""

    server: socket.socket | None = None
    recording: RecordingWriter | None = None


class Teacher:
    """Sends the app's state whenever it changes, to the server and into the recording."""

    def __init__(self, app: GruTuiApp, teaching: Teaching) -> None:
        self.app = app
        self.socket = teaching.server
        self.recording = teaching.recording
        self.server: Channel | None = None
        self.lesson = secrets.token_hex(8)  # a new id for every lesson
        self.seq = 0
        self.last: dict | None = None
        self.status: dict = {}  # the server's last word on the class
        self.refused = ""

    def start(self) -> None:
        if self.socket is not None:
            self.server = Channel(self.socket, self._status, self._server_gone, STATUS_LIMIT)
        self.app.screen_change_signal.subscribe(self.app, lambda _screen: self.changed())
        self.send()
        self.show()

    def changed(self) -> None:
        """The app's state may have changed: it goes out once the teacher's own screen shows
        it, the teacher's frame first (changes within one frame go out as one). A screen
        that closes takes its waiting callbacks with it; the change of screen calls here
        again."""
        self.app.call_after_refresh(self.send)

    def send(self) -> None:
        """Send the app's state on, if it changed."""
        try:
            state = self.app.lesson_state()
        except InputError as error:  # a state that cannot be written down
            if str(error) != self.refused:
                self.refused = str(error)
                self.app.notify(f"Not shared with the class: {error}", severity="warning",
                                markup=False)
            return
        if state == self.last:
            return
        self.last = state
        if self.server is not None:
            self._send(state=state)
        if self.recording is not None:
            self.recording.state(state)

    def mark(self, text: str) -> None:
        """A marker with a note: into the recording, and to the class as a notice."""
        self.send()  # the state it marks first
        text = note(text)
        if self.recording is not None:
            self.recording.marker(text)
        if self.server is not None:
            self._send(replaceable=False, marker=text)
        self.app.notify(text or "(no note)", title="Marker", markup=False)

    def _send(self, replaceable: bool = True, **body) -> None:
        self.seq += 1
        self.server.send(message(self.lesson, self.seq, **body), replaceable)

    def _status(self, lines: list[bytes]) -> None:
        try:
            status = json.loads(lines[-1])
        except ValueError:
            return
        if isinstance(status, dict):
            self.status = status
            self.show()

    def _server_gone(self) -> None:
        self.server = None
        self.status = {"gone": True}
        self.show()

    def show(self) -> None:
        """The teacher's part of the status line: who follows, the relay, the recording, how
        to join (last: a narrow line cuts it first)."""
        status = self.status
        parts = []
        if status.get("gone"):
            parts.append("the server has stopped")
        elif self.socket is not None:
            following, exploring = status.get("following", 0), status.get("exploring", 0)
            parts.append(f"{following} following · {exploring} exploring")
            if status.get("servers", 1) > 1:
                parts.append(f"{status['servers']} servers")
            if status.get("relay"):
                parts.append(f"relay {status['relay']}")
        if self.recording is not None:
            parts.append(f"● rec {self.recording.path.name}")
        if not status.get("gone") and self.socket is not None and status.get("connect"):
            parts.append(str(status["connect"]))
        self.app.show_lesson(" · ".join(parts))

    def stop(self) -> None:
        if self.recording is not None:
            self.recording.close()
        if self.server is not None:
            self.server.close()


# -- a student --------------------------------------------------------------------------------


class Follower:
    """A student's app in a lesson: shows the feed's states while following."""

    def __init__(self, app: GruTuiApp, feed: LiveFeed | ReplayFeed) -> None:
        self.app = app
        self.feed = feed
        self.following = True
        self.latest: LessonState | None = None  # the teacher's, followed or not
        self.ended = ""  # why the lesson ended, once it has
        self._shown: tuple | None = None  # (explorer, its edits, the state it was made for)
        self._refused = ""

    @property
    def replay(self) -> bool:
        return isinstance(self.feed, ReplayFeed)

    @property
    def leader(self) -> str:
        return "the recording" if self.replay else "the teacher"

    def start(self) -> None:
        self.feed.start(self)
        self.show()

    def receive(self, state: LessonState) -> None:
        """The feed's next state: shown while following."""
        self.latest, self.ended = state, ""
        if self.following:
            self._apply(state)
        self.show()

    def refuse(self, error: ValueError) -> None:
        """A state that cannot be shown here (a weight file missing on this machine): the
        last one stays, with a notice (once per reason)."""
        if str(error) != self._refused:
            self._refused = str(error)
            self.app.notify(f"Could not follow {self.leader}: {error}", severity="warning",
                            markup=False)

    def marker(self, text: str, title: str = "The teacher's marker") -> None:
        self.app.notify(text or "(no note)", title=title, markup=False)

    def end(self, why: str) -> None:
        """No more states will come: the student explores on their own from here."""
        self.ended = why or "the lesson has ended"
        if self.following:
            self._break_away()
        self.app.notify(f"{self.ended[:1].upper()}{self.ended[1:]}: you are exploring on "
                        "your own.", title="Lesson", markup=False)
        self.show()

    def toggle(self) -> None:
        """`f`: break away from the leader, or jump back to its latest state."""
        if self.following:
            self._break_away(play=True)
        elif self.ended or self.latest is None:
            self.app.notify(f"There is nothing to follow: {self.ended or 'no state yet'}.",
                            markup=False)
            return
        else:
            self.following = True
            self.feed.told(True)
            self.app.refresh_bindings()
            self.app.stop_playing()
            self._apply(self.latest)
        self.show()

    def _break_away(self, play: bool = False) -> None:
        """Explore from the state shown; with `play`, go on playing if the leader was."""
        self.following = False
        self.feed.told(False)
        self.app.refresh_bindings()
        if play and self.latest is not None and self.latest.playing:
            self.app.play_at(self.latest.playing)

    def _apply(self, state: LessonState) -> None:
        """Show `state`: move the explorer when it runs the state's scenario, untouched since,
        else run a new one."""
        app = self.app
        shown = self._shown
        same = (shown is not None and shown[0] is app.explorer
                and shown[1] == app.explorer.edits and shown[2].scenario is state.scenario)
        try:
            if same:
                state.move(app.explorer)
            else:
                app.use_explorer(state.explorer())
        except ValueError as error:  # InputError, or a refusal from the engine
            self.refuse(error)
            return
        self._shown = (app.explorer, app.explorer.edits, state)
        app.changed()
        show_views(app, state.view, renew=not same)
        app.show_playing(state.playing)

    def show(self) -> None:
        """The follower's part of the status line."""
        if self.following:
            text = (self.feed.notice() if self.replay
                    else "following the teacher · f explores on your own")
        elif self.ended:
            text = f"exploring on your own ({self.ended})"
        else:
            text = f"exploring on your own — f to follow {self.leader}"
        self.app.show_lesson(text)

    def stop(self) -> None:
        self.feed.stop()


class LiveFeed:
    """The states a server sends a student's app over a socket (``--follow-fd``)."""

    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock
        self.channel: Channel | None = None
        self.follower: Follower | None = None
        self.last: dict | None = None  # the envelope of the last message taken
        self.layers = Layers()

    def start(self, follower: Follower) -> None:
        self.follower = follower
        self.channel = Channel(self.socket, self._lines, self._gone, MAX_MESSAGE)
        self.told(True)

    def told(self, following: bool) -> None:
        """Tell the server whether this student follows (it counts them for the teacher)."""
        if self.channel is not None:
            self.channel.send(FOLLOWING if following else EXPLORING)

    def _lines(self, lines: list[bytes]) -> None:
        state = None  # of a burst of lines only the last state is shown
        for line in lines:
            try:
                data = read_message(line)
            except InputError:
                continue  # the server checks what it sends; nothing else is read
            if not newer(data, self.last):
                continue
            self.last = data
            what = kind(data)
            if what == "state":
                state = data["state"]
                continue
            if state is not None:
                self._take(state)
                state = None
            if what == "marker":
                self.follower.marker(note(data["marker"]))
            elif what == "end":
                self.follower.end(note(str(data["end"])))
        if state is not None:
            self._take(state)

    def _take(self, data: dict) -> None:
        try:
            state = parse_state(data, "the teacher's state", self.follower.latest, self.layers)
        except InputError as error:
            self.follower.refuse(error)
            return
        self.follower.receive(state)

    def _gone(self) -> None:
        if not self.follower.ended:
            self.follower.end("the lesson's server has stopped")

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()


class ReplayFeed:
    """A recording played as the teacher once played it: paused at the start; space plays in
    real time, > faster; [ and ] jump between markers. The recording plays on while the
    student explores, so f rejoins where it has got to."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.follower: Follower | None = None
        self.position = 0.0  # seconds into the recording
        self.rate = 0  # index into REPLAY_RATES
        self.playing = False
        self.state = 0  # index of the state shown
        self._started = (0.0, 0.0)  # (position, monotonic time) when play last started
        self._timer = None
        self._ticker = None
        self._next = 0.0  # the time of the next state or marker, when playing
        self.marker_note = ""

    def start(self, follower: Follower) -> None:
        self.follower = follower
        self._deliver(0)

    def told(self, following: bool) -> None:
        pass  # nobody counts who follows a recording

    @property
    def app(self) -> GruTuiApp:
        return self.follower.app

    def now(self) -> float:
        """Where the replay is, in seconds."""
        if not self.playing:
            return self.position
        position, since = self._started
        return min(position + (time.monotonic() - since) * REPLAY_RATES[self.rate],
                   self.recording.duration)

    def toggle_play(self) -> None:
        if self.playing:
            self._pause()
        else:
            if self.position >= self.recording.duration:  # at the end: from the start
                self.marker_note = ""
                self._jump(0.0)
            self.playing = True
            self._started = (self.position, time.monotonic())
            self._ticker = self.app.set_interval(1.0, self.follower.show)
            self._schedule()
        self.follower.show()

    def speed(self, delta: int) -> None:
        self.position = self.now()
        self.rate = min(max(self.rate + delta, 0), len(REPLAY_RATES) - 1)
        if self.playing:
            self._started = (self.position, time.monotonic())
            self._schedule()
        self.app.notify(f"Replay ×{REPLAY_RATES[self.rate]}", timeout=1.5)
        self.follower.show()

    def jump_marker(self, delta: int) -> None:
        """The next (1) or previous (-1) marker, its note shown."""
        markers = self.recording.markers
        position = self.now()
        if delta > 0:
            ahead = [k for k, (at, _) in enumerate(markers) if at > position + 1e-6]
            number = ahead[0] if ahead else None
        else:
            behind = [k for k, (at, _) in enumerate(markers) if at < position - 1e-6]
            number = behind[-1] if behind else None
        if number is None:
            self.app.notify("No marker " + ("after" if delta > 0 else "before") + " this point",
                            timeout=2)
            return
        self._jump(markers[number][0])
        self._mark(number)
        if self.playing:
            self._started = (self.position, time.monotonic())
            self._schedule()
        self.follower.show()

    def _mark(self, number: int) -> None:
        at, text = self.recording.markers[number]
        self.marker_note = f"marker {number + 1}/{len(self.recording.markers)}: {text}"
        self.follower.marker(text, title=f"Marker {number + 1} at {clock(at)}")

    def _jump(self, at: float) -> None:
        self.position = at
        index = self.recording.state_at(at)
        if index != self.state:
            self._deliver(index)

    def _deliver(self, index: int) -> None:
        self.state = index
        self.follower.receive(self.recording.states[index][1])

    def _pause(self) -> None:
        self.position = self.now()
        self.playing = False
        for timer in (self._timer, self._ticker):
            if timer is not None:
                timer.stop()
        self._timer = self._ticker = None

    def _schedule(self) -> None:
        """A timer for the next state or marker after the current position."""
        if self._timer is not None:
            self._timer.stop()
        events = [at for at, _ in self.recording.states[self.state + 1:self.state + 2]]
        events += [at for at, _ in self.recording.markers if at > self.position]
        if not events:
            self._pause()
            self.position = self.recording.duration
            self.app.notify("End of the recording", timeout=3)
            self.follower.show()
            return
        self._next = min(events)
        delay = (self._next - self.position) / REPLAY_RATES[self.rate]
        self._timer = self.app.set_timer(max(delay, 0.0), self._advance)

    def _advance(self) -> None:
        self._timer = None
        target = max(self.now(), self._next)
        before = self.position
        self.position = target
        index = self.recording.state_at(target)
        if index != self.state:
            self._deliver(index)
        passed = [k for k, (at, _) in enumerate(self.recording.markers) if before < at <= target]
        if passed:
            self._mark(passed[-1])
        self._schedule()
        self.follower.show()

    def notice(self) -> str:
        state = "▶ ×" + str(REPLAY_RATES[self.rate]) if self.playing else "‖ space plays"
        text = f"replay {clock(self.now())} / {clock(self.recording.duration)} {state}"
        return f"{text} · {self.marker_note}" if self.marker_note else text

    def stop(self) -> None:
        self._pause()
