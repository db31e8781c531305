"""A lesson on a server (SPEC §13): the teacher's states, fanned out to every student's app.

With ``--present`` the server's own terminal runs the teacher's app (its log goes to a file):
the app sends its state over a socket pair on every change, and hears back how many follow.
With ``--follow redis://…`` the states come from another server's teacher through Redis
(serve/relay.py); with ``--relay redis://…`` this server's teacher's states also go there.

Every student's app gets a socket pair of its own (``--follow-fd``), written by a
core.channel.Channel: a student who reads slowly skips to the latest state and holds up no
one. What a student's app sends back is read only for one word, "following" or
"exploring", which is counted for the teacher; nothing a student sends reaches the teacher's
state or anyone else's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gru_tui.core.channel import Channel
from gru_tui.core.lesson import MAX_MESSAGE, kind, message, newer, read_message
from gru_tui.core.recording import check_new
from gru_tui.errors import InputError
from gru_tui.serve.pty_app import TERMINAL_RESET
from gru_tui.serve.shared import app_command, log, plural

STATUS_DELAY_S = 0.1  # the teacher's status line: changes within this long are sent as one
MODE_LIMIT = 64  # bytes of a line from a student's app ("following" / "exploring")
TEACHER_LEFT = "the teacher has left"
SERVER_STOPPED = "the server has stopped"
TEACHER_GRACE_S = 5.0  # after SIGHUP, this long before the teacher's app is killed


@dataclass
class LessonOptions:
    """What `serve ssh` / `serve web` were told about a lesson."""

    present: bool = False
    record: str | None = None
    relay: str | None = None  # redis://… to publish to (with --present)
    follow: str | None = None  # redis://… to follow
    log: str | None = None

    @property
    def active(self) -> bool:
        return self.present or self.follow is not None

    def checked(self, app_args: list[str]) -> Lesson | None:
        """The lesson these options ask for (None: no lesson), after checking them against
        each other and the machine (InputError)."""
        alone = [flag for flag, value in (("--record", self.record), ("--relay", self.relay),
                                          ("--log", self.log)) if value is not None]
        if alone and not self.present:
            raise InputError(f"{alone[0]} goes with --present (the teacher's app in this "
                             "terminal)")
        if self.present and self.follow is not None:
            raise InputError("--present leads a lesson, --follow follows another server's: "
                             "choose one")
        if "--record" in app_args:
            raise InputError("--record after -- would make every student's app record: give "
                             "--record FILE before --, with --present")
        if not self.active:
            return None
        record = str(check_new(self.record)) if self.record is not None else None
        address = None
        if self.relay is not None or self.follow is not None:
            from gru_tui.serve.relay import need_redis, relay_address

            flag, url = ("--relay", self.relay) if self.relay is not None else ("--follow",
                                                                                 self.follow)
            address = relay_address(url, flag)
            need_redis(flag)
        if self.present and not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise InputError("--present makes this terminal the teacher's app: run the "
                             "server in a terminal")
        log_path = Path(self.log).expanduser() if self.log else default_log_path()
        return Lesson(app_args, present=self.present, record=record, relay=address,
                      log_path=log_path if self.present else None)


def default_log_path() -> Path:
    """$XDG_STATE_HOME/gru-tui/serve-DATE.log (default ~/.local/state/gru-tui/…)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "gru-tui" / f"serve-{time.strftime('%Y%m%d-%H%M%S')}.log"


class StudentLink:
    """One student's app in the lesson: the server's end of its socket pair."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self._ours, self._theirs = socket.socketpair()
        self.args = ["--follow-fd", str(self._theirs.fileno())]
        self.pass_fds = (self._theirs.fileno(),)
        self.channel: Channel | None = None
        self.following = True
        self.last_followed = 0.0  # when it last got a state while following (monotonic)

    def send(self, line: bytes, what: str) -> None:
        """A message of kind `what`; a newer state replaces one this app has not read yet."""
        if self.channel is not None:
            self.channel.send(line, replaceable=what == "state")
            if self.following:
                self.last_followed = time.monotonic()

    def started(self) -> None:
        """The app runs and holds its end: the lesson's latest goes to it at once."""
        self._theirs.close()
        self.channel = Channel(self._ours, self._said, lambda: None, MODE_LIMIT)
        self.lesson.links.add(self)
        for line, what in self.lesson.catch_up():
            self.send(line, what)
        self.lesson.class_changed()

    def _said(self, lines: list[bytes]) -> None:
        following = {b"following": True, b"exploring": False}.get(lines[-1].strip())
        if following is not None and following != self.following:
            self.following = following
            self.lesson.class_changed()

    def close(self) -> None:
        self._theirs.close()
        if self.channel is not None:
            self.channel.close()
        else:
            self._ours.close()
        if self in self.lesson.links:
            self.lesson.links.discard(self)
            self.lesson.class_changed()


class _NoLink:
    """The link of an app on a server without a lesson: nothing to pass, nothing to do."""

    args: list[str] = []
    pass_fds: tuple[int, ...] = ()
    last_followed = 0.0

    def started(self) -> None:
        pass

    def close(self) -> None:
        pass


NO_LINK = _NoLink()


class Lesson:
    """The lesson on this server: the latest state, the students' apps, the teacher's app
    (with --present) and the relay (--relay, --follow)."""

    def __init__(self, app_args: list[str], *, present: bool, record: str | None = None,
                 relay=None, log_path: Path | None = None) -> None:
        self.app_args = app_args
        self.present = present
        self.record = record
        self.address = relay
        self.log_path = log_path
        self.links: set[StudentLink] = set()
        self.latest: bytes | None = None  # the latest state message
        self.last: dict | None = None  # the envelope of the latest message taken
        self.ended: bytes | None = None  # the end message, once the lesson has ended
        self.connect = ""  # how students join, for the teacher's status line
        self.relay = None
        self.elsewhere: dict[str, tuple[int, int]] = {}  # other servers' students (--relay)
        self.relay_status = ""
        self._teacher: TeacherApp | None = None
        self._status_timer: asyncio.TimerHandle | None = None

    # -- the students' apps --------------------------------------------------------------

    def student(self) -> StudentLink:
        """A link for a student's app about to start: pass `args` and `pass_fds` to it, then
        call `started()` (or `close()` if it did not start)."""
        return StudentLink(self)

    def catch_up(self) -> Iterator[tuple[bytes, str]]:
        """What a student (or server) who joins now is sent, with its kind: the latest
        state, and the end if it came."""
        if self.latest is not None:
            yield self.latest, "state"
        if self.ended is not None:
            yield self.ended, "end"

    def counts(self) -> tuple[int, int]:
        """(following, exploring) on this server."""
        following = sum(link.following for link in self.links)
        return following, len(self.links) - following

    def class_changed(self) -> None:
        """Who follows has changed: the teacher (and the relay) hear of it soon."""
        if self._status_timer is None:
            self._status_timer = asyncio.get_running_loop().call_later(STATUS_DELAY_S,
                                                                       self._tell)

    def _tell(self) -> None:
        self._status_timer = None
        if self.relay is not None:
            self.relay.class_changed(self.counts())
        if self._teacher is not None:
            self._teacher.tell(self.status())

    def status(self) -> dict:
        """The teacher's status line: how to join, who follows, across servers, the relay."""
        following, exploring = self.counts()
        for more_following, more_exploring in self.elsewhere.values():
            following += more_following
            exploring += more_exploring
        return {"connect": self.connect, "following": following, "exploring": exploring,
                "servers": 1 + len(self.elsewhere), "relay": self.relay_status}

    def relay_said(self, status: str, reason: str = "") -> None:
        """How the relay's connection is ("ok", "lost, retrying in 4 s"), and why (for the
        log)."""
        log(f"relay {self.address.shown}: {status}" + (f" ({reason})" if reason else ""))
        if status != self.relay_status:
            self.relay_status = status
            self.class_changed()

    def other_servers(self, counts: dict[str, tuple[int, int]]) -> None:
        """The students of the servers that follow this teacher through the relay."""
        if counts != self.elsewhere:
            self.elsewhere = counts
            self.class_changed()

    # -- the teacher's states ------------------------------------------------------------

    def take(self, line: bytes, source: str, dropped=None) -> None:
        """A message from the teacher (or the relay): checked, then to every student; junk
        is dropped, and `dropped(why)` told (default: a log line)."""
        line = line.removesuffix(b"\n")
        try:
            data = read_message(line)
        except InputError as error:
            (dropped or log)(f"dropped a message from {source}: {error}")
            return
        if not newer(data, self.last):
            return
        self.last = data
        what = kind(data)
        line += b"\n"
        if what == "state":
            self.latest, self.ended = line, None
        elif what == "end":
            self.ended = line
        elif what is None:
            return  # a later version's kind: nothing to pass on
        for link in list(self.links):
            link.send(line, what)
        if self.relay is not None and self.present:
            self.relay.offer(line, what)

    def end(self, why: str) -> None:
        """The teacher is gone: the students explore on their own from here."""
        if self.ended is None:
            lesson, seq = ((self.last["lesson"], self.last["seq"] + 1) if self.last
                           else (secrets.token_hex(8), 1))
            self.take(message(lesson, seq, end=why), "the server")

    # -- running -------------------------------------------------------------------------

    @contextlib.contextmanager
    def output(self) -> Iterator[None]:
        """With --present the terminal is the teacher's: the server's banner and log go to
        the log file meanwhile (and the terminal is told where)."""
        if not self.present:
            yield
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            file = open(self.log_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        except OSError as error:
            raise InputError(f"--log {self.log_path} cannot be written: {error.strerror}"
                             ) from None
        terminal = sys.stdout, sys.stderr
        print(f"gru-tui: presenting; the server's log is {self.log_path}", flush=True)
        sys.stdout = sys.stderr = file
        try:
            yield
        finally:
            sys.stdout, sys.stderr = terminal
            file.close()
            print(f"gru-tui: the server has stopped; its log is {self.log_path}", flush=True)

    async def start(self, connect: str) -> None:
        """The server listens: the relay connects, the teacher's app starts."""
        self.connect = connect
        if self.address is not None:
            from gru_tui.serve.relay import Relay

            self.relay = Relay(self.address, self, publishing=self.present)
            self.relay.start()
        if self.present:
            self._teacher = TeacherApp(self)
            await self._teacher.start()

    async def stop(self) -> None:
        """The server stops: the teacher's app too, and the relay says the lesson ended."""
        if self._teacher is not None:
            await self._teacher.stop()
        if self.present:
            self.end(SERVER_STOPPED)
        if self.relay is not None:
            await self.relay.stop()
        if self._status_timer is not None:
            self._status_timer.cancel()


class TeacherApp:
    """The teacher's app, on the server's own terminal, and its socket pair."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.process: asyncio.subprocess.Process | None = None
        self.channel: Channel | None = None
        self._waiter: asyncio.Task | None = None
        self._terminal = termios.tcgetattr(sys.__stdin__.fileno())  # as the app found it
        self._stopping = False

    async def start(self) -> None:
        ours, theirs = socket.socketpair()
        record = ["--record", self.lesson.record] if self.lesson.record else []
        command = app_command([*self.lesson.app_args, *record,
                               "--teach-fd", str(theirs.fileno())])
        try:
            # stdin, stdout and stderr stay the server's: the terminal the teacher sees
            self.process = await asyncio.create_subprocess_exec(*command,
                                                                pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        self.channel = Channel(ours, self._lines, lambda: None, MAX_MESSAGE, self._too_long)
        self.tell(self.lesson.status())
        log(f"the teacher's app started (process {self.process.pid})")
        self._waiter = asyncio.get_running_loop().create_task(self._wait())

    def _lines(self, lines: list[bytes]) -> None:
        for line in lines:
            self.lesson.take(line, "the teacher's app")

    def _too_long(self, size: int) -> None:
        log(f"dropped a state of {size} bytes from the teacher's app (at most {MAX_MESSAGE})")

    def tell(self, status: dict) -> None:
        if self.channel is not None:
            self.channel.send(json.dumps(status).encode() + b"\n")

    async def _wait(self) -> None:
        status = await self.process.wait()
        if status != 0:  # killed or crashed: it could not give the terminal back itself
            os.write(sys.__stdout__.fileno(), TERMINAL_RESET + b"\r\n")
            termios.tcsetattr(sys.__stdin__.fileno(), termios.TCSANOW, self._terminal)
        self.channel.close()
        self.lesson.end(TEACHER_LEFT)
        students = plural(len(self.lesson.links), "student")
        log(f"the teacher's app ended (status {status}); students connected: {students}")
        if not self._stopping:
            print(f"gru-tui: the teacher's app has ended; the students explore on their own "
                  f"({students} connected). Ctrl+C stops the server.", file=sys.__stderr__,
                  flush=True)

    async def stop(self) -> None:
        self._stopping = True
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGHUP)  # a terminal's hang-up: Textual cleans up
        try:
            await asyncio.wait_for(asyncio.shield(self.process.wait()), TEACHER_GRACE_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        if self._waiter is not None:
            await self._waiter
