"""PtyApp, the SSH server's pty for one app, with a stand-in app: a small Python program that
reports its terminal's size and, once signalled, reads its keys (POSIX only)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from gru_tui.serve.pty_app import MAX_PENDING_INPUT, PtyApp
from gru_tui.serve.shared import MAX_COLUMNS, MAX_ROWS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ptys: Linux")

# Raw mode; "size C R" on start and on every SIGWINCH; on SIGUSR1 it reads every key.
STAND_IN = r"""
import os, signal, time, tty
tty.setraw(0)
go = []
def size(*_):
    columns, rows = os.get_terminal_size(0)
    os.write(1, f"size {columns} {rows}\n".encode())
signal.signal(signal.SIGWINCH, size)
signal.signal(signal.SIGUSR1, lambda *_: go.append(1))
size()
while not go:
    time.sleep(0.01)
os.write(1, b"reading\n")
while os.read(0, 65536):
    pass
"""


class StandIn:
    def __init__(self, columns: int, rows: int) -> None:
        self.output = bytearray()
        self.events: list[str] = []
        self.app = PtyApp([sys.executable, "-c", STAND_IN], {}, columns, rows,
                          on_output=self.output.extend, on_exit=lambda status: None,
                          pause_input=lambda: self.events.append("pause"),
                          resume_input=lambda: self.events.append("resume"))

    async def says(self, text: str, after: int = 0) -> None:
        """Wait until the stand-in has written `text` after its first `after` bytes."""
        for _ in range(600):  # a bound on waiting (30 s), not a timed assertion
            if text.encode() in self.output[after:]:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the stand-in never said {text!r}: {bytes(self.output)!r}")


async def test_no_window_is_larger_than_a_real_screen_at_start_or_after_a_resize():
    stand_in = StandIn(100_000, 100_000)
    app = stand_in.app
    await app.start()
    try:
        await stand_in.says(f"size {MAX_COLUMNS} {MAX_ROWS}\n")
        mark = len(stand_in.output)
        app.resize(120, 40)
        await stand_in.says("size 120 40\n", mark)
        mark = len(stand_in.output)
        app.resize(0xFFFF, 70_000)
        await stand_in.says(f"size {MAX_COLUMNS} {MAX_ROWS}\n", mark)
    finally:
        await app.stop(grace=0.5)


async def test_keys_the_app_does_not_take_pause_the_client_until_they_have_gone_in():
    stand_in = StandIn(80, 24)
    app = stand_in.app
    await app.start()
    try:
        await stand_in.says("size 80 24")
        chunk = b"x" * 65536
        while not stand_in.events:  # the pty's queue fills, then the cap is reached
            app.write(chunk)
        assert stand_in.events == ["pause"]
        assert MAX_PENDING_INPUT <= len(app._pending) < MAX_PENDING_INPUT + len(chunk)
        app.write(chunk)  # (what the channel's window still lets through)
        assert stand_in.events == ["pause"]  # asked once
        os.kill(app.pid, signal.SIGUSR1)
        await stand_in.says("reading")
        for _ in range(600):
            if stand_in.events == ["pause", "resume"]:
                break
            await asyncio.sleep(0.05)
        assert stand_in.events == ["pause", "resume"]
        assert not app._pending and not app.input_paused
    finally:
        await app.stop(grace=0.5)
