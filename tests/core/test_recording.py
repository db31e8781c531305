"""Lesson recordings read back (core/recording.py): every kind of bad file is one
InputError naming the file and the line; a later version's file reads as far as this one
knows it. The files are written by hand."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from gru_tui.core.recording import RecordingWriter, clock, read_recording
from gru_tui.errors import InputError

HEADER = '{"format": "gru-tui recording", "version": 1}'
STATE = {"models": ["gru"], "hidden": 2, "seed": 1, "inputs": [[0.5], [0.25], [-1.0]],
         "t": 1, "unit": 1}


@pytest.mark.parametrize(("lines", "words"), [
    ([HEADER, '{"at": 0, "state": {', ""], "line 2 is not JSON"),
    ([HEADER, json.dumps({"at": 0, "state": STATE}), '{"at": 1, "state": {"models": ["gru"], '
      '"hidd'], "line 3 is cut short"),
    (['{"format": "gru-tui session", "version": 1}', ""], "is not a gru-tui recording"),
    (["hello", ""], "is not a gru-tui recording (line 1 is not JSON)"),
    ([""], "is empty: not a gru-tui recording"),
    (['{"format": "gru-tui recording", "version": "one"}', ""], 'line 1: "version"'),
    ([HEADER, ""], "holds no state to play"),
    ([HEADER, json.dumps({"state": STATE}), ""],
     'line 2: "at" must be the seconds since the start'),
    ([HEADER, json.dumps({"at": 5, "state": STATE}), json.dumps({"at": 2, "state": STATE}), ""],
     'line 3: "at" goes back in time'),
    ([HEADER, json.dumps({"at": 0, "state": {**STATE, "inputs": [[0.5], ["x"]]}}), ""],
     'line 2: "inputs" must be rows of numbers'),
    ([HEADER, json.dumps({"at": 0, "marker": 3}), ""], 'line 2: "marker" must be a note'),
    ([HEADER, "[1, 2]", ""], "line 2 is not a JSON object"),
    ([HEADER, '{"at": NaN, "marker": "x"}', ""], "line 2 is not JSON"),
    ([HEADER, "[" * 100_000 + "]" * 100_000, ""], "line 2 is not JSON: nested too deeply"),
], ids=["corrupt", "truncated", "a session file", "not json", "empty", "bad version",
        "no state", "no time", "time backwards", "bad state", "bad marker", "not an object",
        "nan", "too deep"])
def test_a_bad_recording_names_the_file_and_the_line(tmp_path, lines, words):
    path = tmp_path / "lesson.jsonl"
    path.write_text("\n".join(lines))
    with pytest.raises(InputError, match=re.escape(words)) as error:
        read_recording(path)
    assert str(error.value).startswith(str(path))


def test_a_missing_file_or_a_folder_is_named(tmp_path):
    with pytest.raises(InputError, match=r"nope\.jsonl: no such file"):
        read_recording(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="is a folder, not a recording"):
        read_recording(tmp_path)


def test_a_fifo_or_a_device_is_refused_unread(tmp_path):
    fifo = tmp_path / "lesson.jsonl"
    os.mkfifo(fifo)  # nobody writes: reading it would block for ever
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(InputError, match="is not a regular file"):
            read_recording(path)


def test_what_is_written_reads_back_with_its_times_and_markers(tmp_path):
    times = iter([10.0, 10.5, 12.25, 12.25, 70.0]).__next__
    writer = RecordingWriter(tmp_path / "r.jsonl", "9.9", clock=times)
    writer.state(STATE)
    writer.marker("  two\nlines\x1b ")
    writer.state({**STATE, "t": 3})
    writer.state({**STATE, "t": 2})
    writer.close()
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["format"] == "gru-tui recording"
    assert json.loads(lines[0])["gru_tui"] == "9.9"
    recording = read_recording(tmp_path / "r.jsonl")
    assert [(at, state.t) for at, state in recording.states] == [(0.5, 0), (2.25, 2), (60.0, 1)]
    assert recording.markers == [(2.25, "two lines")]
    assert recording.duration == 60.0 and clock(recording.duration) == "1:00"
    assert recording.state_at(2.0) == 0 and recording.state_at(2.25) == 1
    assert recording.states[1][1].scenario is recording.states[0][1].scenario  # one run
    with pytest.raises(InputError, match="already exists: choose a new file name"):
        RecordingWriter(tmp_path / "r.jsonl", "9.9")


def test_clock_writes_minutes_and_hours():
    assert [clock(s) for s in (0, 65.9, 600, 3723)] == ["0:00", "1:05", "10:00", "1:02:03"]
