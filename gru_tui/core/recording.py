"""Lesson recordings (`--record FILE.jsonl`; `gru-tui replay FILE.jsonl`), as JSON Lines.

The first line names the format; every other line is a state of the lesson (core/lesson.py)
or a marker, at its time in seconds from the start:

    {"format": "gru-tui recording", "version": 1, "gru_tui": "0.1.0", "started": "…"}
    {"at": 0.0, "state": {"models": ["gru", "lstm"], "hidden": 3, …, "t": 1, …}}
    {"at": 2.418, "state": {…, "t": 2, …}}
    {"at": 9.03, "marker": "watch z_t close the gate"}

A recording is state, not pixels: it plays at any terminal size and in any theme. Lines of
a kind this version does not know, and keys it does not know, are passed over.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from gru_tui.core.lesson import Layers, LessonState, encode, note, parse_state
from gru_tui.core.session import refuse_constant
from gru_tui.errors import InputError
from gru_tui.io.files import read_bytes
from gru_tui.io.inputs import parse_json

FORMAT = "gru-tui recording"
VERSION = 1


def check_new(path: str | Path, flag: str = "--record") -> Path:
    """The absolute path of a recording still to be made; InputError when it exists or its
    folder does not."""
    path = Path(path).expanduser().absolute()
    if path.exists():
        raise InputError(f"{flag} {path} already exists: choose a new file name")
    if not path.parent.is_dir():
        raise InputError(f"{flag} {path}: the folder {path.parent} does not exist")
    return path


class RecordingWriter:
    """Writes a recording as the lesson goes, a line at a time (flushed, so an interrupted
    lesson keeps all but its last line)."""

    def __init__(self, path: str | Path, version: str, clock=time.monotonic) -> None:
        path = check_new(path)
        try:
            self._file: IO[bytes] = open(path, "xb")  # noqa: SIM115 - open for the lesson
        except OSError as error:
            raise InputError(f"--record {path} cannot be written: {error.strerror}") from None
        self.path = path
        self._clock = clock
        self._start = clock()
        self._write({"format": FORMAT, "version": VERSION, "gru_tui": version,
                     "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")})

    def state(self, data: dict) -> None:
        self._write({"at": self._now(), "state": data})

    def marker(self, text: str) -> None:
        self._write({"at": self._now(), "marker": note(text)})

    def close(self) -> None:
        self._file.close()

    def _now(self) -> float:
        return round(self._clock() - self._start, 3)

    def _write(self, data: dict) -> None:
        self._file.write(encode(data))
        self._file.flush()


@dataclass
class Recording:
    """A recording read back: its states and markers, each at its time offset."""

    path: Path
    states: list[tuple[float, LessonState]] = field(default_factory=list)
    markers: list[tuple[float, str]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return max(self.states[-1][0], self.markers[-1][0] if self.markers else 0.0)

    def state_at(self, at: float) -> int:
        """The index of the state shown at time `at`: the last one recorded by then."""
        index = 0
        for number, (time_, _) in enumerate(self.states):
            if time_ > at:
                break
            index = number
        return index


def read_recording(path: str | Path) -> Recording:
    """Read and check a whole recording; any problem is one InputError naming the file and
    the line."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a recording")
    data = read_bytes(path, str(path))  # a regular file, bounded
    if not data:
        raise InputError(f"{path} is empty: not a gru-tui recording")
    lines = data.split(b"\n")
    if lines[-1]:
        raise InputError(f"{path} line {len(lines)} is cut short (no end of line): the "
                         "recording was interrupted while a line was written")
    recording = Recording(path)
    layers = Layers()
    previous: LessonState | None = None
    last = 0.0
    for number, line in enumerate(lines[:-1], start=1):
        where = f"{path} line {number}"
        try:
            entry = parse_json(line, parse_constant=refuse_constant)
        except (UnicodeDecodeError, ValueError) as error:
            if number == 1:
                raise InputError(f"{path} is not a gru-tui recording (line 1 is not JSON)"
                                 ) from None
            reason = getattr(error, "msg", "not text")
            raise InputError(f"{where} is not JSON: {reason}") from None
        if number == 1:
            _check_header(entry, path)
            continue
        if not isinstance(entry, dict):
            raise InputError(f"{where} is not a JSON object")
        at = entry.get("at")
        if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at) \
                or at < 0:
            raise InputError(f'{where}: "at" must be the seconds since the start')
        if at < last:
            raise InputError(f'{where}: "at" goes back in time ({at:g} s after {last:g} s)')
        last = float(at)
        if "state" in entry:
            previous = parse_state(entry["state"], where, previous, layers)
            recording.states.append((last, previous))
        elif "marker" in entry:
            if not isinstance(entry["marker"], str):
                raise InputError(f'{where}: "marker" must be a note')
            recording.markers.append((last, note(entry["marker"])))
    if not recording.states:
        raise InputError(f"{path} holds no state to play")
    return recording


def clock(seconds: float) -> str:
    """A time in a recording: 1:05, 12:00, 1:02:03."""
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _check_header(entry, path: Path) -> None:
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        raise InputError(f'{path} is not a gru-tui recording (line 1 has no "format": '
                         f'"{FORMAT}")')
    version = entry.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f'{path} line 1: "version" must be a whole number from 1')
