"""`gru-tui replay FILE.jsonl` and `--record` on the command line (SPEC §13, §5): a recording
that is corrupt, cut short or not a recording is one line naming the file and the line, exit
2; one of a later version plays what this one knows. The recordings are written by hand."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_a_bad_recording_is_one_line_naming_the_file_and_the_line(cli, tmp_path):
    """The command line's side; tests/core/test_recording.py has every kind of bad file."""
    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_text(json.dumps(HEADER) + '\n{"at": 0, "state": {\n')
    cut = tmp_path / "cut.jsonl"
    cut.write_text(json.dumps(HEADER) + "\n" + json.dumps({"at": 0, "state": STATE})[:40])
    results = cli.many({"corrupt": (["replay", str(corrupt)], {}),
                        "cut": (["replay", str(cut)], {})})
    assert str(corrupt) in cli.assert_bad(results["corrupt"], "line 2 is not JSON")
    assert str(cut) in cli.assert_bad(results["cut"], "line 2 is cut short")


def test_record_refuses_a_file_that_exists_a_missing_folder_and_step(cli, tmp_path):
    taken = recording(tmp_path / "taken.jsonl", {"at": 0, "state": STATE})
    new = str(tmp_path / "x.jsonl")
    results = cli.many({"taken": (["--record", str(taken)], {}),
                        "no folder": (["--record", str(tmp_path / "no" / "x.jsonl")], {}),
                        "no terminal": (["--record", new], {}),
                        "step": (["step", "--record", new], {})})
    cli.assert_bad(results["taken"], "already exists: choose a new file name")
    cli.assert_bad(results["no folder"], "does not exist")
    cli.assert_bad(results["no terminal"], "run gru-tui in a terminal")
    cli.assert_bad(results["step"], "step has none")
    assert not (tmp_path / "x.jsonl").exists()
