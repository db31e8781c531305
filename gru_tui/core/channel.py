"""Lines of a lesson over a local socket, from an asyncio loop, never blocking either side.

A teacher's app and its server, and the server and each student's app, talk over a socket
pair (AF_UNIX): one end stays in the server, the other is handed to the app as a file
descriptor. A :class:`Channel` writes lines so that a reader who falls behind (a stalled
app, a busy machine) skips to the latest state, and hands over the lines it reads as they
arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Callable

MAX_WAITING = 32  # lines other than states kept for a slow reader; older ones are dropped
CHUNK = 1 << 16


class Channel:
    """One end of a socket pair, read and written from the running loop.

    Sending never blocks: while the reader is behind, lines wait, and a new *replaceable*
    line (a state) replaces the one waiting, other lines (markers, the end) keep their turn.
    A line once started is finished, so the reader never sees half a line.

    Reading hands `on_lines` the complete lines of each read (a reader that wants only the
    latest state takes the last one); a line longer than `limit` bytes is dropped and
    `on_long(size)` told; `on_end()` is called once, when the other end has gone.
    """

    def __init__(self, sock: socket.socket, on_lines: Callable[[list[bytes]], None],
                 on_end: Callable[[], None], limit: int,
                 on_long: Callable[[int], None] = lambda size: None) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.fd = sock.fileno()
        self.loop = asyncio.get_running_loop()
        self.on_lines, self.on_end, self.on_long = on_lines, on_end, on_long
        self.limit = limit
        self.closed = False
        self._waiting: deque[tuple[bytes, bool]] = deque()
        self._current = memoryview(b"")
        self._writing = False
        self._partial = bytearray()
        self._skipping = 0  # bytes of an overlong line dropped so far
        self.loop.add_reader(self.fd, self._readable)

    # -- sending ------------------------------------------------------------------------------

    @property
    def behind(self) -> bool:
        """Whether lines are still waiting to go."""
        return bool(self._current) or bool(self._waiting)

    def send(self, line: bytes, replaceable: bool = True) -> None:
        if self.closed:
            return
        if replaceable:
            self._waiting = deque(item for item in self._waiting if not item[1])
        elif len(self._waiting) >= MAX_WAITING:
            self._waiting.popleft()
        self._waiting.append((line, replaceable))
        self._flush()

    def _flush(self) -> None:
        try:
            while True:
                if not self._current:
                    if not self._waiting:
                        break
                    self._current = memoryview(self._waiting.popleft()[0])
                sent = self.sock.send(self._current)
                self._current = self._current[sent:]
        except BlockingIOError:
            if not self._writing:
                self.loop.add_writer(self.fd, self._flush)
                self._writing = True
            return
        except OSError:  # the reader has gone: its end of the socket is closed
            self._waiting.clear()
            self._current = memoryview(b"")
        if self._writing:
            self.loop.remove_writer(self.fd)
            self._writing = False

    # -- reading ------------------------------------------------------------------------------

    def _readable(self) -> None:
        try:
            data = self.sock.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            self.on_end()
            return
        lines = self._split(data)
        if lines:
            self.on_lines(lines)

    def _split(self, data: bytes) -> list[bytes]:
        lines = []
        while data:
            end = data.find(b"\n")
            piece, data = (data, b"") if end < 0 else (data[:end], data[end + 1:])
            if self._skipping:
                self._skipping += len(piece)
            else:
                self._partial += piece
                if len(self._partial) > self.limit:
                    self._skipping = len(self._partial)
                    self._partial.clear()
            if end < 0:
                break
            if self._skipping:
                self.on_long(self._skipping)
                self._skipping = 0
            else:
                lines.append(bytes(self._partial))
                self._partial.clear()
        return lines

    def close(self) -> None:
        """Stop reading and writing, and close this end."""
        if self.closed:
            return
        self.closed = True
        self.loop.remove_reader(self.fd)
        if self._writing:
            self.loop.remove_writer(self.fd)
            self._writing = False
        with contextlib.suppress(OSError):
            self.sock.close()
