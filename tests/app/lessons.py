"""Lessons for the app tests, written out by hand: a teacher's states, their messages on the
wire and recordings, as SPEC §13 and core/lesson.py describe them (not made by the code
under test), and a server's end of a student's socket."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np

import gru_tui

INPUTS = [[0.5, -0.3, 0.8], [0.1, 0.2, 0.3], [-0.4, 0.6, 0.0], [0.9, -0.9, 0.2],
          [0.3, 0.3, -0.3]]
H0 = [0.2, 0.4, -0.1]
C0 = [0.6, -0.2, 0.3]


def state(t: int = 1, unit: int = 1, select=("x", 1), view=(), playing: float = 0,
          **fields) -> dict:
    """A state of a lesson on INPUTS, GRU and LSTM from seed 0; `fields` change it."""
    data = {"models": ["gru", "lstm"], "hidden": 3, "seed": 0, "dtype": "float64",
            "gru_reset": "before", "z_weights": "old", "bias_offsets": [],
            "recurrent_scale": 1.0, "inputs": INPUTS, "h0": H0, "c0": C0, "t": t,
            "unit": unit, "select": list(select), "view": list(view), "playing": playing}
    data.update(fields)
    return data


def line(seq: int, lesson: str = "lesson-1", **body) -> bytes:
    """One message on the wire."""
    return json.dumps({"format": "gru-tui lesson", "version": 1, "lesson": lesson,
                       "seq": seq, **body}).encode() + b"\n"


def expected_h(model: str, inputs=INPUTS, h0=H0, c0=C0, seed: int = 0, **settings):
    """h of every step, from the Python API (SPEC §8): what a follower must show."""
    xs = np.asarray(inputs, dtype=float)
    cell = gru_tui.random_cell(model, xs.shape[1], len(h0), seed=seed, **settings)
    return cell.run(xs, np.asarray(h0), np.asarray(c0) if model == "lstm" else None)["h"]


class Server:
    """The server's end of a student's socket pair: `app_end` goes to the app's LiveFeed."""

    def __init__(self) -> None:
        self.sock, self.app_end = socket.socketpair()
        self.seq = 0

    def send(self, *states: dict) -> None:
        for data in states:
            self.seq += 1
            self.sock.sendall(line(self.seq, state=data))

    def raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def said(self) -> list[bytes]:
        """What the app has told the server so far ("following" / "exploring")."""
        self.sock.setblocking(False)
        try:
            return self.sock.recv(4096).split()
        except BlockingIOError:
            return []
        finally:
            self.sock.setblocking(True)


def write_recording(path: Path, entries: list[dict], header: dict | None = None) -> Path:
    """A recording file: the header line, then one line per entry ({"at": …, "state": …}
    or {"at": …, "marker": …})."""
    header = header or {"format": "gru-tui recording", "version": 1}
    path.write_text("".join(json.dumps(item) + "\n" for item in [header, *entries]))
    return path
