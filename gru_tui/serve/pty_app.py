"""One student's app in its own pseudo-terminal, driven from an asyncio loop (POSIX only).

The app runs as the leader of a new session whose controlling terminal is the pty's slave end,
so the kernel does what a terminal does: a new window size (TIOCSWINSZ on the master) sends
SIGWINCH to the app, and a hang-up reaches its whole process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import termios
from collections.abc import Callable

from gru_tui.serve.shared import app_size

# What a terminal must be told when the app was stopped from outside and could not restore it:
# mouse and paste modes off, keyboard protocol popped, autowrap on, colours reset, cursor shown,
# main screen back (the escapes Textual itself sends when it exits).
TERMINAL_RESET = (b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l"
                  b"\x1b[?2004l\x1b[?2048l\x1b[?1004l\x1b[<u\x1b[?7h\x1b[0m\x1b[?25h\x1b[?1049l")
HANGUP_GRACE_S = 2.0  # after SIGHUP, this long before SIGKILL
READ_SIZE = 65536
# Keys the pty has not taken yet: past this the client is asked to pause (SSH flow control),
# so a flood costs at most this, plus what the channel's window lets through meanwhile.
MAX_PENDING_INPUT = 1 << 20


def set_window_size(fd: int, columns: int, rows: int, xpixels: int = 0, ypixels: int = 0) -> None:
    """TIOCSWINSZ, the size capped by app_size: the kernel sends SIGWINCH to the terminal's
    foreground process group."""
    columns, rows = app_size(columns, rows)
    clamp = lambda value: max(0, min(int(value), 0xFFFF))  # noqa: E731
    size = struct.pack("HHHH", rows, columns, clamp(xpixels), clamp(ypixels))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, size)


def _take_terminal() -> None:  # in the child, after setsid: stdin (the slave) becomes its tty
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyApp:
    """A process on a fresh pty: output goes to `on_output`, `on_exit(status)` once it is over.

    `pause_output` / `resume_output` stop and restart reading the master (back-pressure from
    a slow client: the app then blocks on its own writes instead of the server buffering).
    `pass_fds` are open in the app too (a lesson's socket). The other way, `pause_input()`
    is called when MAX_PENDING_INPUT keys wait for the app, and `resume_input()` once they
    have all gone in (back-pressure on a flooding client).
    """

    def __init__(self, command: list[str], env: dict[str, str], columns: int, rows: int,
                 on_output: Callable[[bytes], None], on_exit: Callable[[int], None],
                 pass_fds: tuple[int, ...] = (),
                 pause_input: Callable[[], None] = lambda: None,
                 resume_input: Callable[[], None] = lambda: None) -> None:
        self.command = command
        self.pass_fds = pass_fds
        self.env = env
        self.size = (columns, rows)
        self.on_output = on_output
        self.on_exit = on_exit
        self.pause_input = pause_input
        self.resume_input = resume_input
        self.input_paused = False
        self.process: asyncio.subprocess.Process | None = None
        self.master = -1
        self._pending = bytearray()  # input the pty did not take yet
        self._reading = False
        self._paused = False
        self._output_done: asyncio.Future[None] | None = None
        self._waiter: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        master, slave = os.openpty()
        try:
            set_window_size(slave, *self.size)
            self.process = await asyncio.create_subprocess_exec(
                *self.command, stdin=slave, stdout=slave, stderr=slave, env=self.env,
                start_new_session=True, preexec_fn=_take_terminal, close_fds=True,
                pass_fds=self.pass_fds)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)  # only the app holds the slave now: its exit makes the master EOF
        self.master = master
        os.set_blocking(master, False)
        self._output_done = self._loop.create_future()
        self._start_reading()
        self._waiter = self._loop.create_task(self._wait())

    async def _wait(self) -> None:
        assert self.process is not None and self._output_done is not None
        status = await self.process.wait()
        # The app is gone: what it wrote is still in the master, up to EOF (EIO on Linux). A
        # grandchild keeping the slave open must not keep the session alive: 1 s at most.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._output_done), 1.0)
        self._close_master()
        self.on_exit(status if status >= 0 else 128 - status)

    def _start_reading(self) -> None:
        if self.master >= 0 and not self._reading and not self._paused and self._loop:
            self._loop.add_reader(self.master, self._readable)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._reading and self._loop:
            self._loop.remove_reader(self.master)
            self._reading = False

    def _readable(self) -> None:
        try:
            data = os.read(self.master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: every slave fd is closed, the app has ended
            data = b""
        if not data:
            self._stop_reading()
            if self._output_done and not self._output_done.done():
                self._output_done.set_result(None)
            return
        self.on_output(data)

    def pause_output(self) -> None:
        self._paused = True
        self._stop_reading()

    def resume_output(self) -> None:
        self._paused = False
        self._start_reading()

    def write(self, data: bytes) -> None:
        """Keys from the client: to the master, buffered while the pty's input queue is full."""
        if self.master < 0:
            return
        waiting = bool(self._pending)
        self._pending += data
        if len(self._pending) >= MAX_PENDING_INPUT and not self.input_paused:
            self.input_paused = True
            self.pause_input()
        if not waiting:
            self._flush()

    def _flush(self) -> None:
        try:
            while self._pending:
                written = os.write(self.master, self._pending)
                del self._pending[:written]
        except BlockingIOError:
            pass
        except OSError:
            self._pending.clear()
        if self._loop and self.master >= 0:
            if self._pending:
                self._loop.add_writer(self.master, self._flush)
            else:
                self._loop.remove_writer(self.master)
        if self.input_paused and not self._pending:
            self.input_paused = False
            self.resume_input()

    def resize(self, columns: int, rows: int, xpixels: int = 0, ypixels: int = 0) -> None:
        self.size = (columns, rows)
        if self.master >= 0:
            with contextlib.suppress(OSError):
                set_window_size(self.master, columns, rows, xpixels, ypixels)

    async def stop(self, grace: float = HANGUP_GRACE_S) -> None:
        """End the app's process group: SIGHUP, then SIGKILL after `grace`; reap it."""
        if self.process is None:
            return
        self._signal_group(signal.SIGHUP)
        try:
            await asyncio.wait_for(asyncio.shield(self.process.wait()), grace)
        except TimeoutError:
            self._signal_group(signal.SIGKILL)
            await self.process.wait()
        if self._waiter is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._waiter

    def _signal_group(self, signum: int) -> None:
        if self.process is None or self.process.returncode is not None:
            return  # reaped: its pid (the group's id) may belong to someone else by now
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def _close_master(self) -> None:
        if self.master < 0:
            return
        self._stop_reading()
        if self._loop:
            self._loop.remove_writer(self.master)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self.master = -1
        self._pending.clear()
