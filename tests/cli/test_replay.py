"""`gru-tui replay FILE.jsonl` and `--record` on the command line (SPEC §13, §5): a recording
that is corrupt, cut short or not a recording is one line naming the file and the line, exit
2; one of a later version plays what this one knows. The recordings are written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HEADER = {"format": "gru-tui recording", "version": 1}
STATE = {"models": ["gru"], "hidden": 2, "seed": 1, "inputs": [[0.5], [0.25], [-1.0]],
         "t": 1, "unit": 1}


def recording(path: Path, *entries, header=HEADER) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in [header, *entries]))
    return path


def test_a_recording_outside_a_terminal_says_what_it_holds(cli, tmp_path):
    path = recording(tmp_path / "lesson.jsonl", {"at": 0, "state": STATE},
                     {"at": 61.5, "state": {**STATE, "t": 3}},
                     {"at": 62, "marker": "the reset gate"},
                     {"at": 75, "marker": "memory"})
    result = cli("replay", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{path}: 2 states over 1:15, 2 markers",
                                          "     1:02  the reset gate",
                                          "     1:15  memory"]


def test_a_later_versions_recording_plays_what_this_one_knows(cli, tmp_path):
    path = recording(tmp_path / "later.jsonl",
                     {"at": 0, "state": {**STATE, "view": ["hologram"], "new_field": [1, 2]},
                      "mood": "fine"},
                     {"at": 1, "poll": {"question": "which gate?"}},
                     {"at": 2, "state": {**STATE, "t": 2}},
                     header={**HEADER, "version": 4, "made_by": "gru-tui 9"})
    result = cli("replay", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{path}: 2 states over 0:02, 0 markers")


@pytest.mark.parametrize(("lines", "words"), [
    (['{"format": "gru-tui recording", "version": 1}', '{"at": 0, "state": {', ""],
     "line 2 is not JSON"),
    (['{"format": "gru-tui recording", "version": 1}', json.dumps({"at": 0, "state": STATE}),
      '{"at": 1, "state": {"models": ["gru"], "hidd'], "line 3 is cut short"),
    (['{"format": "gru-tui session", "version": 1}', ""], "is not a gru-tui recording"),
    (["hello", ""], "is not a gru-tui recording (line 1 is not JSON)"),
    ([""], "is empty: not a gru-tui recording"),
    (['{"format": "gru-tui recording", "version": "one"}', ""], 'line 1: "version"'),
    (['{"format": "gru-tui recording", "version": 1}', ""], "holds no state to play"),
    (['{"format": "gru-tui recording", "version": 1}', json.dumps({"state": STATE}), ""],
     'line 2: "at" must be the seconds since the start'),
    (['{"format": "gru-tui recording", "version": 1}', json.dumps({"at": 5, "state": STATE}),
      json.dumps({"at": 2, "state": STATE}), ""], 'line 3: "at" goes back in time'),
    (['{"format": "gru-tui recording", "version": 1}',
      json.dumps({"at": 0, "state": {**STATE, "inputs": [[0.5], ["x"]]}}), ""],
     'line 2: "inputs" must be rows of numbers'),
    (['{"format": "gru-tui recording", "version": 1}', json.dumps({"at": 0, "marker": 3}), ""],
     'line 2: "marker" must be a note'),
    (['{"format": "gru-tui recording", "version": 1}', "[1, 2]", ""],
     "line 2 is not a JSON object"),
], ids=["corrupt", "truncated", "a session file", "not json", "empty", "bad version",
        "no state", "no time", "time backwards", "bad state", "bad marker", "not an object"])
def test_a_bad_recording_is_one_line_naming_the_file_and_the_line(cli, tmp_path, lines, words):
    path = tmp_path / "lesson.jsonl"
    path.write_text("\n".join(lines))
    line = cli.assert_bad(cli("replay", str(path)), words)
    assert str(path) in line


def test_a_missing_recording_or_a_folder_is_one_line(cli, tmp_path):
    cli.assert_bad(cli("replay", str(tmp_path / "nope.jsonl")), "nope.jsonl: no such file")
    cli.assert_bad(cli("replay", str(tmp_path)), "is a folder, not a recording")


def test_record_refuses_a_file_that_exists_a_missing_folder_and_step(cli, tmp_path):
    taken = recording(tmp_path / "taken.jsonl", {"at": 0, "state": STATE})
    cli.assert_bad(cli("--record", str(taken)), "already exists: choose a new file name")
    cli.assert_bad(cli("--record", str(tmp_path / "no" / "x.jsonl")), "does not exist")
    cli.assert_bad(cli("--record", str(tmp_path / "x.jsonl")), "run gru-tui in a terminal")
    cli.assert_bad(cli("step", "--record", str(tmp_path / "x.jsonl")), "step has none")
    assert not (tmp_path / "x.jsonl").exists()
