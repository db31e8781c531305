"""`gru-tui serve ssh`: an SSH server where every connection gets its own app (SPEC §9).

Each session runs `app_command(app_args)` as its own process on its own pseudo-terminal
(pty_app.PtyApp), sized like the client's window and following its resizes. Nothing else is
offered: no shell, no command execution, no SFTP/SCP, no port, agent or X11 forwarding.

Who may enter: the public keys of an authorized_keys file (re-read when it changes, so a
teacher can add a student during the lesson), or anyone with an explicit --open.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import gc
import logging
import os
import re
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gru_tui.errors import InputError
from gru_tui.serve.lesson import NO_LINK, Lesson
from gru_tui.serve.pty_app import TERMINAL_RESET, PtyApp
from gru_tui.serve.shared import (
    Throttled,
    app_command,
    app_size,
    duration,
    log,
    plural,
    printable,
    served_args,
    weights_dir_line,
)

try:
    import asyncssh
except ImportError:  # the [serve] extra is not installed: run_ssh_server says so
    asyncssh = None

_ServerBase = asyncssh.SSHServer if asyncssh else object
_SessionBase = asyncssh.SSHServerSession if asyncssh else object

DEFAULT_PORT = 2222
DEFAULT_MAX_SESSIONS = 40
DEFAULT_IDLE_TIMEOUT = 3600.0  # seconds without a key from the student; 0 = never
KEEPALIVE_S, KEEPALIVE_COUNT = 30, 4  # a vanished laptop is noticed within about 2 minutes
LOGIN_TIMEOUT_S = 60
# Connections not logged in yet, at most: past these a new one is closed at once, so idle or
# half-open connections cannot use up the server's file descriptors and lock the class out.
# Per address, more than a class: a whole room behind one school NAT address logs in at once.
MAX_WAITING, MAX_WAITING_PER_ADDRESS = 96, 48
HOST_KEY_NAME = "ssh_host_ed25519_key"
DEFAULT_SIZE = (80, 24)

# The client's environment requests honoured (everything else the client sends is ignored).
_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_LANG = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_COLORTERM = re.compile(r"[A-Za-z0-9_.-]{1,32}")
# The teacher's own terminal, locale and session variables never reach a student's app.
_DROPPED_ENV = ("TERM", "COLORTERM", "COLUMNS", "LINES", "LANG", "LANGUAGE", "NO_COLOR",
                "FORCE_COLOR", "CLICOLOR_FORCE", "DISPLAY", "WAYLAND_DISPLAY", "TMUX", "STY",
                "VTE_VERSION", "WT_SESSION", "TEXTUAL")
_DROPPED_PREFIXES = ("LC_", "SSH_", "TEXTUAL_", "TERM_PROGRAM", "KITTY_", "XDG_SESSION")

# What the client reads when it asks for something this server does not do.
NEEDS_TERMINAL = ("gru-tui: this server only shows the gru-tui app in a terminal; "
                  "connect without a command and with a terminal: {how}")
CLASS_FULL = ("gru-tui: sorry, the class is full ({n} running); "
              "please try again in a moment.")
IDLE_END = "gru-tui: the session ended after {idle} without a key pressed. Connect again any time."
NO_PTY = ("gru-tui: the teacher's list of keys gives yours no terminal (no-pty), and the app "
          "needs one.")
SERVER_STOPPED = "gru-tui: the teacher stopped the server. Goodbye!"


# ---- host key and authorized keys ------------------------------------------------------------


def default_host_key_path() -> Path:
    """$XDG_DATA_HOME/gru-tui/ssh_host_ed25519_key (default ~/.local/share/gru-tui/...)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gru-tui" / HOST_KEY_NAME


def load_host_key(path: Path | None):
    """The server's key: read from `path` (default: the data directory), made there the first
    time (ed25519, mode 0600). Returns (key, path, created)."""
    chosen = path is not None
    path = Path(path).expanduser() if chosen else default_host_key_path()
    if not path.exists() and not path.is_symlink():
        if not chosen:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        elif not path.parent.is_dir():
            raise InputError(f"--host-key {path}: the folder {path.parent} does not exist")
        key = asyncssh.generate_private_key("ssh-ed25519", comment="gru-tui host key")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as error:
            raise InputError(f"cannot create the host key {path}: {error.strerror}") from None
        with os.fdopen(fd, "wb") as file:
            file.write(key.export_private_key())
        os.chmod(path, 0o600)
        with contextlib.suppress(OSError):
            Path(f"{path}.pub").write_bytes(key.export_public_key())
        return key, path, True
    if path.is_dir():
        raise InputError(f"host key {path} is a folder, not a key file")
    try:
        mode = path.stat().st_mode & 0o777
    except OSError as error:
        raise InputError(f"cannot read the host key {path}: {error.strerror}") from None
    if mode & 0o077:
        raise InputError(f"host key {path} can be read by other users (mode {mode:04o}): "
                         f"run chmod 600 {path}")
    try:
        key = asyncssh.read_private_key(path)
    except OSError as error:
        raise InputError(f"cannot read the host key {path}: {error.strerror}") from None
    except (asyncssh.KeyImportError, ValueError) as error:
        reason = str(error).rstrip(".")
        if "passphrase" in reason.lower():
            reason = "it is protected by a passphrase, which a server cannot type"
        raise InputError(f"host key {path} is not a private key gru-tui can use: "
                         f"{reason}") from None
    return key, path, False


def default_authorized_keys_path() -> Path:
    return Path.home() / ".ssh" / "authorized_keys"


# authorized_keys options (sshd(8), AUTHORIZED_KEYS FILE FORMAT) whose restriction holds here
# (this server never offers forwarding of any kind, the agent, X11, a user rc or a tunnel;
# asyncssh checks from=; expiry-time and no-pty are checked below), or that restrict nothing.
# A line with any other option (command=, cert-authority, principals=, verify-required, or
# one unknown) is refused, not loaded without it.
HONOURED_OPTIONS = frozenset({
    "agent-forwarding", "no-agent-forwarding", "port-forwarding", "no-port-forwarding",
    "x11-forwarding", "no-x11-forwarding", "user-rc", "no-user-rc", "permitopen",
    "permitlisten", "tunnel", "from", "expiry-time", "pty", "no-pty", "restrict",
    "no-touch-required", "environment",
})
_OPTION = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+')
_EXPIRY = re.compile(r"(\d{8})(\d{4}|\d{6})?(Z?)")


@dataclass(frozen=True)
class KeyEntry:
    """An authorized key that matched: its comment, and its line's options that apply."""

    comment: str
    pty: bool = True  # False with no-pty, or restrict without pty
    expires: float | None = None  # seconds since the epoch (expiry-time)

    @property
    def expired(self) -> bool:
        return self.expires is not None and time.time() >= self.expires


class AuthorizedKeys:
    """The keys of an OpenSSH authorized_keys file (from=, expiry-time and no-pty honoured),
    re-read when the file changes; a change that breaks the file keeps the keys read before.
    A line whose options this server cannot honour is refused (logged), not loaded without
    them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[float, int] | None = None
        self._keys = None
        self._comments: dict[bytes, str] = {}
        self.count = 0

    def load(self) -> None:
        """Read the file now (InputError when it is missing, unreadable or has no key)."""
        where = f"authorized keys {self.path}"
        try:
            stat = self.path.stat()
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise InputError(f"{where} does not exist: give --authorized-keys FILE with the "
                             "students' public keys, or --open to let anyone in") from None
        except IsADirectoryError:
            raise InputError(f"{where} is a folder, not a file") from None
        except OSError as error:
            raise InputError(f"cannot read {where}: {error.strerror}") from None
        comments: dict[bytes, str] = {}
        accepted: list[str] = []
        for number, line in enumerate(text.splitlines(), start=1):
            found = _line_key(line)
            if found is None:
                continue
            key, options = found
            refusal = _refused_option(options)
            if refusal is None:
                try:
                    asyncssh.import_authorized_keys(line)
                except (ValueError, asyncssh.KeyImportError) as error:
                    refusal = str(error)
            if refusal is not None:
                log(f"{where} line {number} ({printable(key.get_comment() or '?')}) refused: "
                    f"{printable(refusal, 120)}; that key may not enter")
                continue
            comments[key.public_data] = key.get_comment() or ""
            accepted.append(line)
        if not comments:
            raise InputError(f"{where} holds no public key this server accepts (one OpenSSH "
                             "public key a line, as in id_ed25519.pub)")
        self._keys = asyncssh.import_authorized_keys("\n".join(accepted))
        self._comments, self.count = comments, len(comments)
        self._stamp = (stat.st_mtime, stat.st_size)

    def refresh(self) -> None:
        """Re-read the file if it changed since the last read."""
        try:
            stat = self.path.stat()
        except OSError:
            return
        if (stat.st_mtime, stat.st_size) == self._stamp:
            return
        try:
            self.load()
            log(f"re-read {self.path}: {plural(self.count, 'key')}")
        except InputError as error:
            self._stamp = (stat.st_mtime, stat.st_size)
            log(f"kept the keys read before: {error}")

    def match(self, key, client_host: str, client_addr: str) -> KeyEntry | None:
        """The key's entry if a line of the file lets it in from there, else None."""
        options = None if self._keys is None else self._keys.validate(key, client_host,
                                                                      client_addr)
        if options is None:
            return None
        given = {name.lower(): value for name, value in options.items()}
        no_pty = "no-pty" in given or ("restrict" in given and "pty" not in given)
        expiries = [_expiry(value) for value in given.get("expiry-time", [])]
        return KeyEntry(self._comments.get(key.public_data, ""), pty=not no_pty,
                        expires=min(expiries, default=None))


def _line_key(line: str):
    """(the public key, the options before it) of one authorized_keys line, or None."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    words = line.split()
    for start in range(min(len(words), 8)):
        try:
            return asyncssh.import_public_key(" ".join(words[start:])), " ".join(words[:start])
        except (asyncssh.KeyImportError, ValueError):
            continue
    return None


def _refused_option(options: str) -> str | None:
    """Why a line with these options may not be loaded, or None when each is honoured."""
    for option in _OPTION.findall(options):
        name, _, value = option.partition("=")
        if name.lower() not in HONOURED_OPTIONS:
            return f"its option {name} is not one gru-tui can honour"
        if name.lower() == "expiry-time" and _expiry(value.strip('"')) is None:
            return f"expiry-time={value} is not a time (YYYYMMDD[HHMM[SS]][Z])"
    return None


def _expiry(value: str) -> float | None:
    """An expiry-time as sshd reads it (local time, or UTC with Z), in seconds since the
    epoch; None when it is not one."""
    match = _EXPIRY.fullmatch(value.strip('"'))
    if match is None:
        return None
    try:
        moment = time.strptime((match[1] + (match[2] or "")).ljust(14, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return calendar.timegm(moment) if match[3] else time.mktime(moment)


# ---- sessions --------------------------------------------------------------------------------


class LoginGate:
    """Connections waiting to log in, in all and per address. Past either cap a new one is
    refused at once; the first refusal of a flood is logged, and how many followed when the
    flood is over (nothing waits any more), never a line per attempt."""

    def __init__(self, total: int = MAX_WAITING, per_address: int = MAX_WAITING_PER_ADDRESS):
        self.total, self.per_address = total, per_address
        self.waiting: dict[str, int] = {}
        self.refused = 0

    def admit(self, address: str) -> bool:
        count = self.waiting.get(address, 0)
        if count >= self.per_address or sum(self.waiting.values()) >= self.total:
            if not self.refused:
                log(f"refusing connections: {count} from {address} and "
                    f"{sum(self.waiting.values())} in all are waiting to log in (at most "
                    f"{self.per_address} per address, {self.total} in all)")
            self.refused += 1
            return False
        self.waiting[address] = count + 1
        return True

    def leave(self, address: str) -> None:
        """A connection admitted has logged in or gone."""
        self.waiting[address] -= 1
        if not self.waiting[address]:
            del self.waiting[address]
        if not self.waiting and self.refused:
            log(f"refused {plural(self.refused, 'connection')} while the limit was reached")
            self.refused = 0


@dataclass
class ServerConfig:
    host: str
    port: int
    app_args: list[str]
    authorized: AuthorizedKeys | None  # None: --open
    max_sessions: int
    idle_timeout: float
    lesson: Lesson | None = None  # --present, --follow: every app follows the teacher
    weights_dir: Path | None = None  # what a student's l may open, besides the examples


@dataclass
class _State:
    config: ServerConfig
    sessions: set[_Session] = field(default_factory=set)  # those holding a slot (an app)
    connections: set = field(default_factory=set)
    gate: LoginGate = field(default_factory=LoginGate)
    stopping: bool = False
    served: int = 0
    ended: int = 0

    def session_ended(self) -> None:
        """Every 10 sessions, and when the class empties, collect the cycles the ended SSH
        connections leave behind, so the server's memory stays flat over a day of lessons."""
        self.ended += 1
        if not self.sessions or self.ended % 10 == 0:
            asyncio.get_running_loop().call_soon(gc.collect)


def app_environment(term: str | None, client_env: dict[str, str]) -> dict[str, str]:
    """The app's environment: the server's, less the teacher's terminal and session, plus the
    client's TERM, and its COLORTERM and LANG when sent and sane."""
    env = {name: value for name, value in os.environ.items()
           if name not in _DROPPED_ENV and not name.startswith(_DROPPED_PREFIXES)}
    env["TERM"] = term if term and _TERM.fullmatch(term) else "xterm-256color"
    lang = client_env.get("LANG", "")
    env["LANG"] = lang if _LANG.fullmatch(lang) else "C.UTF-8"
    colorterm = client_env.get("COLORTERM", "")
    if _COLORTERM.fullmatch(colorterm):
        env["COLORTERM"] = colorterm
    env["PYTHONUTF8"] = "1"  # the app speaks UTF-8 to the terminal whatever the locale
    return env


class _Session(_SessionBase):
    """One SSH session channel: one app, or a one-line refusal."""

    def __init__(self, server: _Server) -> None:
        self.server = server
        self.state = server.state
        self.chan = None
        self.refusal: str | None = None
        self.app: PtyApp | None = None
        self.link = NO_LINK  # the app's link to the lesson, when there is one
        self.started = 0.0
        self.last_input = 0.0
        self.ending = False
        self.closed = False
        self.slowed = False
        self.why = ""
        self._idle_timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task | None = None

    # asyncssh's callbacks

    def connection_made(self, chan) -> None:
        self.chan = chan

    def pty_requested(self, term_type, term_size, term_modes) -> bool:
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.refusal = f"a command ({command[:40]!r})"
        return True  # accepted only to answer with the explanation and a non-zero status

    def subsystem_requested(self, subsystem: str) -> bool:
        self.server.note(f"refused the {subsystem[:20]!r} subsystem (file transfer is not offered)")
        return False

    def session_started(self) -> None:
        try:
            self._begin()
        except Exception as error:  # a session's failure is only that session's
            self.server.note(f"session failed to start: {error}")
            self._close(1)

    def data_received(self, data: bytes, datatype) -> None:
        if self.app is not None and not self.ending:
            self.last_input = time.monotonic()
            self.app.write(data)

    def eof_received(self) -> bool:
        return True  # the client's input ended: the app goes on until it quits or the link drops

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        if self.app is not None and width > 0 and height > 0:
            self.app.resize(width, height, pixwidth, pixheight)

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass  # signals from the client are not passed on

    def pause_writing(self) -> None:
        if self.app is not None:
            self.app.pause_output()

    def resume_writing(self) -> None:
        if self.app is not None:
            self.app.resume_output()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_idle()
        if self.app is not None and self.app.running and not self.ending:
            self.ending = True
            self.why = "connection dropped" if exc else "connection closed"
            asyncio.get_running_loop().create_task(self._stop_app())

    # the session's course

    def _begin(self) -> None:
        terminal = self.chan.get_terminal_type()
        if self.refusal is not None or terminal is None:
            what = self.refusal or "no terminal (ssh -T)"
            self.server.note(f"refused {what}: only the app in a terminal is offered")
            self._refuse(NEEDS_TERMINAL.format(how=self.server.how_to_connect()))
            return
        if not self.server.pty_allowed:
            self.server.note("refused: the key's authorized_keys line says no-pty")
            self._refuse(NO_PTY)
            return
        if self.state.stopping:
            self._refuse(SERVER_STOPPED)
            return
        limit = self.state.config.max_sessions
        if len(self.state.sessions) >= limit:
            self.server.note(f"refused: the class is full ({plural(limit, 'session')})")
            self._refuse(CLASS_FULL.format(n=plural(limit, "session")))
            return
        self.state.sessions.add(self)
        self._task = asyncio.get_running_loop().create_task(self._start_app(terminal))

    async def _start_app(self, terminal: str) -> None:
        columns, rows, *_ = self.chan.get_terminal_size()
        if columns <= 0 or rows <= 0:
            columns, rows = DEFAULT_SIZE
        env = app_environment(terminal, dict(self.chan.get_environment()))
        config = self.state.config
        if config.lesson:
            self.link = config.lesson.student()
        self.app = PtyApp(
            app_command([*config.app_args, *served_args(config.weights_dir), *self.link.args]),
            env, columns, rows, on_output=self._output, on_exit=self._app_exited,
            pass_fds=self.link.pass_fds, pause_input=self._pause_input,
            resume_input=self.chan.resume_reading)
        try:
            await self.app.start()
        except Exception as error:  # OSError, or the child's set-up failing
            self.state.sessions.discard(self)
            self.app = None
            self.link.close()
            self.server.note(f"could not start the app: {error}")
            self._refuse("gru-tui: the app could not be started on the server, sorry.")
            return
        self.link.started()
        self.started = self.last_input = time.monotonic()
        self.state.served += 1
        columns, rows = app_size(columns, rows)
        self.server.note(f"connect ({columns}×{rows}, {printable(terminal, 32)}, "
                         f"{len(self.state.sessions)}/{self.state.config.max_sessions} sessions)")
        if self.closed or self.ending:  # the client left, or the server stopped, meanwhile
            if not self.ending:
                self.ending, self.why = True, "connection closed"
            await self._stop_app()
            return
        self._arm_idle(self.state.config.idle_timeout)

    def _pause_input(self) -> None:
        """The app is behind on the student's keys: stop reading the channel, so SSH's flow
        control holds the client back, until the keys waiting have gone in."""
        self.chan.pause_reading()
        if not self.slowed:
            self.slowed = True
            self.server.note("slowed: keys arrive faster than the app takes them")

    def _output(self, data: bytes) -> None:
        if not self.closed:
            try:
                self.chan.write(data)
            except Exception:  # the channel is closing: the app's end is on its way
                self.closed = True

    def _app_exited(self, status: int) -> None:
        if self.ending:
            return  # ended from here: end() or _stop_app() finishes the session
        self.ending = True
        self.why = "quit" if status == 0 else f"the app exited with status {status}"
        self._finish(status)

    async def _stop_app(self) -> None:
        """The client is gone: end the app's process group and reap it."""
        if self.app is not None:
            await self.app.stop()
        self._finish(None)

    async def end(self, message: str, why: str, status: int = 1) -> None:
        """End the session from the server's side: stop the app, tell the student why."""
        if self._task is not None and not self._task.done():  # an app still starting
            with contextlib.suppress(Exception):
                await self._task
        if self.app is None:
            return
        if self.ending:  # already on its way out (quit, or the client left): see it through
            await self.app.stop()
            return
        self.ending, self.why = True, why
        await self.app.stop()
        if not self.closed:
            with contextlib.suppress(Exception):
                self.chan.write(TERMINAL_RESET + b"\r\n" + message.encode() + b"\r\n")
        self._finish(status)
        with contextlib.suppress(Exception):  # let the message and the status reach the client
            await asyncio.wait_for(self.chan.wait_closed(), 3)

    def _finish(self, status: int | None) -> None:
        self._cancel_idle()
        self.link.close()
        if self in self.state.sessions:
            self.state.sessions.discard(self)
            lasted = duration(time.monotonic() - self.started) if self.started else "0s"
            self.server.note(f"disconnect after {lasted}: {self.why} "
                             f"({plural(len(self.state.sessions), 'session')} left)")
            self.state.session_ended()
        if status is not None:
            self._close(status)

    def _refuse(self, message: str) -> None:
        end = "\r\n" if self.chan.get_terminal_type() else "\n"
        with contextlib.suppress(Exception):
            self.chan.write_stderr((message + end).encode())
        self._close(1)

    def _close(self, status: int) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self.chan.exit(status)

    def _arm_idle(self, delay: float) -> None:
        if self.state.config.idle_timeout > 0:
            self._idle_timer = asyncio.get_running_loop().call_later(delay, self._idle_check)

    def _cancel_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _idle_check(self) -> None:
        timeout = self.state.config.idle_timeout
        # a student following a lesson is busy while the teacher is
        left = max(self.last_input, self.link.last_followed) + timeout - time.monotonic()
        if left > 0:
            self._arm_idle(left)
            return
        message = IDLE_END.format(idle=duration(timeout))
        asyncio.get_running_loop().create_task(self.end(message, f"idle for {duration(timeout)}"))


class _Server(_ServerBase):
    """One client connection: authentication, and the refusal of everything but sessions."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.conn = None
        self.peer = "?"
        self.peer_host = ""
        self.username = "?"
        self.who = ""
        self.tried_key = False
        self.expired_key = False
        self.pty_allowed = True
        self.authed = False
        self.waiting = False  # counted by the login gate

    def how_to_connect(self) -> str:
        """The ssh command line for this server, as the client reached it."""
        sockname = self.conn.get_extra_info("sockname") if self.conn else None
        address, port = (sockname[0], sockname[1]) if sockname else ("HOST", 22)
        if ":" in str(address):
            address = f"[{address}]"
        return f"ssh -t {'' if port == 22 else f'-p {port} '}{address}"

    def note(self, message: str) -> None:
        """A log line naming this client."""
        who = f"{self.username} ({self.who})" if self.who else self.username
        log(f"{who} from {self.peer}: {message}")

    def connection_made(self, conn) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.peer_host = str(peer[0])
        self.peer = f"{peer[0]}:{peer[1]}"
        if not self.state.gate.admit(self.peer_host):
            conn.abort()  # logged by the gate, once a flood
            return
        self.waiting = True
        self.state.connections.add(conn)

    def _leave_gate(self) -> None:
        if self.waiting:
            self.waiting = False
            self.state.gate.leave(self.peer_host)

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self.conn)
        was_waiting = self.waiting
        self._leave_gate()
        if was_waiting and not self.authed and not self.state.stopping:
            if self.expired_key:
                self.note("refused: the key's expiry-time in authorized keys has passed")
            elif self.tried_key:
                self.note("refused: no authorized key")
            elif exc is not None:
                log(f"connection from {self.peer} ended before login: {_reason(exc)}")

    def begin_auth(self, username: str) -> bool:
        self.username = printable(username, 32) or "?"
        authorized = self.state.config.authorized
        if authorized is None:
            self.who = "--open"
            return False  # --open: no authentication at all
        authorized.refresh()
        return True

    def auth_completed(self) -> None:
        self.authed = True
        self._leave_gate()

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key) -> bool:
        self.tried_key = True
        authorized = self.state.config.authorized
        entry = authorized.match(key, self.peer_host, self.peer_host) if authorized else None
        if entry is None:
            return False
        if entry.expired:
            self.expired_key = True
            return False
        self.who = printable(entry.comment) or key.get_fingerprint()
        self.pty_allowed = entry.pty
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def session_requested(self):
        if self.state.stopping:
            return False
        return _Session(self)

    def connection_requested(self, dest_host, dest_port, orig_host, orig_port):
        self.note("refused port forwarding (-L/-D)")
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                                        "gru-tui offers no port forwarding")

    def server_requested(self, listen_host, listen_port):
        self.note("refused remote port forwarding (-R)")
        return False

    def unix_connection_requested(self, dest_path):
        self.note("refused socket forwarding")
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                                        "gru-tui offers no socket forwarding")

    def unix_server_requested(self, listen_path):
        self.note("refused socket forwarding")
        return False


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__


# ---- the server ------------------------------------------------------------------------------


def _hosts_hint(host: str) -> str:
    """How students name this machine: the address listened on, or this machine's name/IP."""
    if host not in ("", "0.0.0.0", "::"):
        return host
    names = [socket.gethostname()]
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))  # no packet is sent: it only picks the route
        address = probe.getsockname()[0]
        if address not in names and not address.startswith("127."):
            names.append(address)
    return " or ".join(names)


def _banner(config: ServerConfig, port: int, key, key_path: Path, created: bool) -> list[str]:
    fingerprint = key.get_fingerprint()
    port_flag = "" if port == 22 else f"-p {port} "
    made = "made now, kept in" if created else "from"
    lines = [f"gru-tui: SSH server on {config.host}:{port}, host key {fingerprint}",
             f"  host key ({key.get_algorithm()}) {made} {key_path}",
             f"  students connect with: ssh {port_flag}{_hosts_hint(config.host)}",
             f"  when ssh asks about the host key, its fingerprint must read {fingerprint}"]
    if config.authorized is None:
        lines += ["  WARNING: --open: ANYONE who can reach this port gets a session, no key "
                  "needed. Use it only on a network you trust."]
    else:
        lines += [f"  who may enter: {plural(config.authorized.count, 'key')} in "
                  f"{config.authorized.path} (re-read when it changes)"]
    idle = (f"idle sessions end after {duration(config.idle_timeout)}"
            if config.idle_timeout > 0 else "no idle timeout")
    lines += [f"  at most {plural(config.max_sessions, 'session')} at once, {idle}",
              f"  every app starts as: gru-tui {' '.join(config.app_args)}".rstrip(),
              f"  {weights_dir_line(config.weights_dir)}; nothing is saved on this machine",
              "  Ctrl+C stops the server and every session."]
    return lines


def _watch_children_without_threads(loop: asyncio.AbstractEventLoop) -> None:
    """On Python 3.11 asyncio waits for each app in a thread of its own; Linux's pidfds do it
    in the loop (3.12 does that by itself)."""
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # a kernel before 5.3
        return
    watcher = asyncio.PidfdChildWatcher()
    watcher.attach_loop(loop)
    asyncio.set_child_watcher(watcher)


async def _serve(config: ServerConfig, key, key_path: Path, created: bool) -> int:
    loop = asyncio.get_running_loop()

    throttled = Throttled()  # "Too many open files" comes once a second while it lasts

    def on_error(_loop: asyncio.AbstractEventLoop, context: dict) -> None:
        throttled(f"internal error: {context.get('exception') or context.get('message')}")

    loop.set_exception_handler(on_error)
    _watch_children_without_threads(loop)
    state = _State(config)
    stop = asyncio.Event()
    stopped_by: list[int] = []

    def ask_stop(signum: int) -> None:
        stopped_by.append(signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, ask_stop, signum)
    try:
        acceptor = await asyncssh.create_server(
            lambda: _Server(state), config.host or None, config.port,
            server_host_keys=[key], server_version="gru_tui",
            public_key_auth=True, password_auth=False, kbdint_auth=False,
            host_based_auth=False, gss_host=None, allow_pty=True, line_editor=False,
            agent_forwarding=False, x11_forwarding=False, sftp_factory=None, allow_scp=False,
            encoding=None, keepalive_interval=KEEPALIVE_S, keepalive_count_max=KEEPALIVE_COUNT,
            login_timeout=LOGIN_TIMEOUT_S)
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(f"cannot listen on {config.host}:{config.port}: {reason}") from None
    port = acceptor.get_port()
    config.port = port
    for line in _banner(config, port, key, key_path, created):
        print(line, file=sys.stderr)
    sys.stderr.flush()
    if config.lesson:
        port_flag = "" if port == 22 else f"-p {port} "
        await config.lesson.start(f"ssh {port_flag}{_hosts_hint(config.host)}")

    await stop.wait()
    state.stopping = True
    acceptor.close()
    if config.lesson:
        await config.lesson.stop()
    log(f"stopping: ending {plural(len(state.sessions), 'session')}")
    await asyncio.gather(*(session.end(SERVER_STOPPED, "the server stopped")
                           for session in list(state.sessions)), return_exceptions=True)
    for conn in list(state.connections):
        conn.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(acceptor.wait_closed(), 5)
    log(f"gru-tui: server stopped ({plural(state.served, 'session')} served)")
    return 130 if stopped_by and stopped_by[0] == signal.SIGINT else 0


def run_ssh_server(*, host: str = "0.0.0.0", port: int = DEFAULT_PORT,
                   app_args: list[str] | None = None, authorized_keys: Path | None = None,
                   open_access: bool = False, host_key: Path | None = None,
                   max_sessions: int = DEFAULT_MAX_SESSIONS,
                   idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
                   lesson: Lesson | None = None, weights_dir: Path | None = None) -> None:
    """Serve the app over SSH until Ctrl+C (exit 130) or SIGTERM (exit 0)."""
    if asyncssh is None:
        raise InputError("install gru-tui[serve] to run the SSH server (it needs asyncssh)")
    if not hasattr(os, "openpty"):  # pragma: no cover - Windows
        raise InputError("the SSH server needs a POSIX system (Linux, macOS)")
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port} is not a port number (0–65535)")
    if max_sessions < 1:
        raise InputError(f"--max-sessions {max_sessions}: at least 1 session is needed")
    if not idle_timeout >= 0:
        raise InputError(f"--idle-timeout {idle_timeout}: seconds, 0 for no timeout")
    if open_access and authorized_keys is not None:
        raise InputError("--open lets anyone in: leave out --authorized-keys, or --open")
    authorized = None
    if not open_access:
        authorized = AuthorizedKeys(Path(authorized_keys).expanduser() if authorized_keys
                                    else default_authorized_keys_path())
        authorized.load()
    key, key_path, created = load_host_key(host_key)
    logging.getLogger("asyncssh").setLevel(logging.CRITICAL + 1)  # we log what matters
    config = ServerConfig(host=host, port=port, app_args=list(app_args or []),
                          authorized=authorized, max_sessions=max_sessions,
                          idle_timeout=float(idle_timeout), lesson=lesson,
                          weights_dir=weights_dir)
    with lesson.output() if lesson else contextlib.nullcontext():
        status = asyncio.run(_serve(config, key, key_path, created))
    if status:
        raise SystemExit(status)
