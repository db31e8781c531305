"""SPEC §5, the error contract, through the real command and its real exit codes.

Bad data: exit 2, nothing on stdout, exactly one line on stderr naming what and where (rows
counted from 1), never a traceback. Misused options: the framework's usage message, exit 2,
nothing on stdout, never a traceback. `step --json | head -1` exits quietly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def assert_bad_data(result, *needles: str) -> str:
    """Exit 2, empty stdout, one stderr line that contains every needle; returns the line."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"stderr is not one line: {result.stderr!r}"
    line = lines[0]
    assert line.strip(), "empty message"
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def assert_usage_error(result, *needles: str) -> None:
    """Exit 2, empty stdout, the framework's message on stderr, no traceback."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert result.stderr.strip(), "no message"
    for needle in needles:
        assert needle in result.stderr, f"{needle!r} not in {result.stderr!r}"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A folder of bad (and a few good) input files."""
    tmp_path = tmp_path_factory.mktemp("files")
    (tmp_path / "ragged.csv").write_text("x1,x2,x3\n1,2,3\n4,5\n6,7,8\n")
    (tmp_path / "words.csv").write_text("1,2,3\n4,five,6\n")
    (tmp_path / "nan.csv").write_text("1,2,3\n4,nan,6\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header-only.csv").write_text("a,b,c\n")
    (tmp_path / "garbage.csv").write_bytes(bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A,
                                                  0x0A, 0x00, 0xFF, 0xFE, 0x10, 0x80]) * 20)
    (tmp_path / "nul.csv").write_bytes(b"\x00\x01\x02\x03abc\x00\n\x00\x00")
    (tmp_path / "nan.json").write_text("[[1, 2, 3], [NaN, 0, 0]]")
    (tmp_path / "infinity.json").write_text("[[1, 2, 3], [0, -Infinity, 0]]")
    (tmp_path / "bad.json").write_text('[[1, 2, 3], [4, 5, 6]')
    (tmp_path / "object.json").write_text('{"inputs": [[1, 2, 3]]}')
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2)))
    np.save(tmp_path / "strings.npy", np.array([["1", "2", "3"]]))
    np.save(tmp_path / "nan.npy", np.array([[1.0, 2.0, 3.0], [4.0, 5.0, np.inf]]))
    np.save(tmp_path / "bools.npy", np.array([[True, False, True]]))
    np.save(tmp_path / "complex.npy", np.array([[1 + 2j, 0, 0]]))
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    np.save(tmp_path / "scalar.npy", np.float64(1.0))
    np.savez(tmp_path / "arrays.npz", x=np.zeros((2, 3)))
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "two-rows.csv").write_text("1,2,3\n4,5,6\n")
    return tmp_path


# (id, arguments after `step --json`, stdin, what the one line must name). "{d}" is the folder
# of the `files` fixture.
BAD_DATA = [
    ("words", ["--inputs", "0.5,-0.3,0.8;0.1,abc,0.3"], None, ["--inputs", "row 2", "abc"]),
    ("all-words", ["--inputs", "a,b,c"], None, ["--inputs", "row 1", "a"]),
    ("nan-text", ["--inputs", "0.1,0.2,0.3;nan,0,0"], None, ["--inputs", "row 2", "nan"]),
    ("inf-text", ["--inputs", "0,inf,0"], None, ["--inputs", "row 1", "inf"]),
    ("minus-inf-text", ["--inputs", "0,0,0;0,0,0;0,0,-inf"], None, ["--inputs", "row 3", "inf"]),
    ("infinity-text", ["--inputs", "Infinity,0,0"], None, ["--inputs", "Infinity"]),
    ("overflow-text", ["--inputs", "0,0,0;1e999,0,0"], None, ["--inputs", "row 2", "1e999"]),
    ("json-nan", ["--inputs", "[[0.1,0.2,0.3],[NaN,0,0]]"], None, ["--inputs", "NaN"]),
    ("json-infinity", ["--inputs", "[[Infinity,0,0]]"], None, ["--inputs", "Infinity"]),
    ("json-overflow", ["--inputs", "[[0,0,0],[0,1e999,0]]"], None, ["--inputs", "row 2"]),
    ("json-string", ["--inputs", '[[0.1,"0.2",0.3]]'], None, ["--inputs", "row 1", "0.2"]),
    ("json-true", ["--inputs", "[[0,0,0],[0.1,0.2,true]]"], None, ["--inputs", "row 2", "true"]),
    ("json-null", ["--inputs", "[[null,0,0]]"], None, ["--inputs", "null"]),
    ("json-nested", ["--inputs", "[[[1,2,3]]]"], None, ["--inputs", "row 1"]),
    ("json-mixed", ["--inputs", "[[1,2,3],4]"], None, ["--inputs"]),
    ("json-invalid", ["--inputs", "[[0.1,0.2,0.3],[0.1"], None, ["--inputs", "JSON"]),
    ("json-object", ["--inputs", '{"x": [1, 2, 3]}'], None, ["--inputs"]),
    ("json-empty-array", ["--inputs", "[]"], None, ["--inputs"]),
    ("ragged", ["--inputs", "0.5,-0.3,0.8;0.1,0.2,0.3;0.4,0.5"], None,
     ["--inputs", "row 3", "2 values"]),
    ("ragged-json", ["--inputs", "[[1,2,3],[4,5]]"], None, ["--inputs", "row 2", "2 values"]),
    ("empty-row", ["--inputs", "1,2,3;;4,5,6"], None, ["--inputs", "row 2"]),
    ("empty", ["--inputs", ""], None, ["--inputs"]),
    ("empty-stdin", ["--inputs", "-"], "", ["--inputs", "stdin"]),
    ("stdin-words", ["--inputs", "-"], "1,2,3\n4,x,6\n", ["--inputs", "stdin", "row 2", "x"]),
    ("stdin-nan-json", ["--inputs", "-"], "[[1,2,3],[NaN,1,1]]", ["--inputs", "stdin", "NaN"]),
    ("missing-file", ["--inputs", "{d}/nope.csv"], None, ["--inputs", "nope.csv"]),
    ("directory", ["--inputs", "{d}/folder.csv"], None, ["--inputs", "folder.csv"]),
    ("csv-ragged", ["--inputs", "{d}/ragged.csv"], None, ["ragged.csv", "row 2"]),
    ("csv-words", ["--inputs", "{d}/words.csv"], None, ["words.csv", "row 2", "five"]),
    ("csv-nan", ["--inputs", "{d}/nan.csv"], None, ["nan.csv", "row 2", "nan"]),
    ("csv-empty", ["--inputs", "{d}/empty.csv"], None, ["empty.csv"]),
    ("csv-header-only", ["--inputs", "{d}/header-only.csv"], None, ["header-only.csv"]),
    ("csv-binary", ["--inputs", "{d}/garbage.csv"], None, ["garbage.csv"]),
    ("csv-nul-bytes", ["--inputs", "{d}/nul.csv"], None, ["nul.csv"]),
    ("json-file-nan", ["--inputs", "{d}/nan.json"], None, ["nan.json", "NaN"]),
    ("json-file-infinity", ["--inputs", "{d}/infinity.json"], None, ["infinity.json"]),
    ("json-file-invalid", ["--inputs", "{d}/bad.json"], None, ["bad.json", "JSON"]),
    ("json-file-object", ["--inputs", "{d}/object.json"], None, ["object.json"]),
    ("npy-3d", ["--inputs", "{d}/cube.npy"], None, ["cube.npy"]),
    ("npy-strings", ["--inputs", "{d}/strings.npy"], None, ["strings.npy"]),
    ("npy-inf", ["--inputs", "{d}/nan.npy"], None, ["nan.npy", "row 2"]),
    ("npy-bools", ["--inputs", "{d}/bools.npy"], None, ["bools.npy"]),
    ("npy-complex", ["--inputs", "{d}/complex.npy"], None, ["complex.npy"]),
    ("npy-empty", ["--inputs", "{d}/empty.npy"], None, ["empty.npy"]),
    ("npy-scalar", ["--inputs", "{d}/scalar.npy"], None, ["scalar.npy"]),
    ("npz", ["--inputs", "{d}/arrays.npz"], None, ["arrays.npz"]),
    ("unknown-model", ["--model", "grux"], None, ["grux"]),
    ("repeated-model", ["-m", "gru", "-m", "gru"], None, ["--model"]),
    ("hidden-zero", ["--hidden", "0"], None, ["--hidden", "0"]),
    ("hidden-negative", ["--hidden", "-3"], None, ["--hidden", "-3"]),
    ("hidden-huge", ["--hidden", "100000"], None, ["--hidden"]),
    ("steps-zero", ["--steps", "0"], None, ["--steps", "0"]),
    ("seed-negative", ["--seed", "-1"], None, ["--seed", "-1"]),
    ("h0-vs-hidden", ["--h0", "0.1,0.2", "--hidden", "3"], None, ["--h0", "2"]),
    ("h0-vs-inputs-hidden", ["--inputs", "1,2,3", "--h0", "1,2,3,4", "-H", "3"], None,
     ["--h0", "4"]),
    ("c0-vs-h0", ["--inputs", "1,2,3", "--h0", "0.1,0.2", "--c0", "1,2,3"], None,
     ["--c0", "3"]),
    ("h0-two-rows", ["--h0", "0.1,0.2,0.3;0.4,0.5,0.6"], None, ["--h0", "row"]),
    ("h0-file-two-rows", ["--h0", "{d}/two-rows.csv"], None, ["--h0"]),
    ("h0-nan", ["--h0", "0.1,nan,0.3"], None, ["--h0", "nan"]),
    ("h0-json-nan", ["--h0", "[0.1, NaN, 0.3]"], None, ["--h0", "NaN"]),
    ("h0-words", ["--h0", "zero"], None, ["--h0", "zero"]),
    ("h0-empty", ["--h0", ""], None, ["--h0"]),
    ("c0-inf", ["--c0", "0,0,-inf"], None, ["--c0", "inf"]),
    ("c0-words", ["--c0", "[1, 2, \"x\"]"], None, ["--c0", "x"]),
    ("inputs-and-preset", ["--inputs", "1,2,3", "--preset", "sine"], None,
     ["--inputs", "--preset"]),
    ("inputs-and-steps", ["--inputs", "1,2,3", "--steps", "4"], None, ["--steps", "--inputs"]),
    ("unknown-preset", ["--preset", "sinus"], None, ["sinus"]),
]


@pytest.fixture(scope="module")
def bad_data_results(cli, files):
    """Every BAD_DATA case run as `gru-tui step --json ARGS`, several at a time."""
    return cli.many({
        case: (["step", "--json", *(a.replace("{d}", str(files)) for a in args)],
               {"stdin": stdin})
        for case, args, stdin, _ in BAD_DATA
    })


@pytest.mark.parametrize(("case", "needles"),
                         [pytest.param(i, n, id=i) for i, _, _, n in BAD_DATA])
def test_bad_data(bad_data_results, case, needles):
    assert_bad_data(bad_data_results[case], *needles)


@pytest.mark.parametrize("command", [["step"], []], ids=["step", "no-command"])
def test_bad_data_without_json(cli, command):
    """The human view and the app refuse bad data the same way, before showing anything."""
    assert_bad_data(cli(*command, "--inputs", "1,2,3;4,5"), "--inputs", "row 2")
    assert_bad_data(cli(*command, "--model", "grux"), "grux")


def test_file_names_in_messages_are_as_given(cli, files):
    """A relative name is reported as the user wrote it."""
    line = assert_bad_data(cli("step", "--json", "-i", "ragged.csv", cwd=files))
    assert "ragged.csv" in line
    assert str(files) not in line


def test_unreadable_file(cli, files):
    path = files / "secret.csv"
    path.write_text("1,2,3\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("this user can read a mode-000 file (root)")
        assert_bad_data(cli("step", "--json", "--inputs", str(path)), "secret.csv")
    finally:
        path.chmod(0o600)


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_file_that_fails_to_read(cli):
    """A read error (EIO here, even for root) is bad data too, not a traceback."""
    assert_bad_data(cli("step", "--json", "--inputs", "/proc/self/mem"), "/proc/self/mem")


class Boom:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_npy_is_refused_and_never_unpickled(cli, tmp_path):
    marker = tmp_path / "unpickled"
    np.save(tmp_path / "evil.npy", np.array([Boom(str(marker)), 1.0], dtype=object),
            allow_pickle=True)
    # the file really does run code when unpickled
    np.load(tmp_path / "evil.npy", allow_pickle=True)
    assert marker.exists()
    marker.unlink()

    line = assert_bad_data(cli("step", "--json", "--inputs", str(tmp_path / "evil.npy")),
                           "evil.npy")
    assert "pickle" in line.lower()
    assert not marker.exists()


def test_pickled_npy_as_h0_is_refused(cli, tmp_path):
    marker = tmp_path / "unpickled"
    np.save(tmp_path / "h0.npy", np.array([Boom(str(marker))], dtype=object), allow_pickle=True)
    assert_bad_data(cli("step", "--json", "--h0", str(tmp_path / "h0.npy")), "--h0", "h0.npy")
    assert not marker.exists()


def test_garbage_npy_is_not_called_pickled(cli, tmp_path):
    (tmp_path / "junk.npy").write_text("garbage, not numpy\n")
    line = assert_bad_data(cli("step", "--json", "--inputs", str(tmp_path / "junk.npy")),
                           "junk.npy")
    assert "pickle" not in line.lower()


def test_garbage_npy_is_refused(cli, tmp_path):
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY\x01\x00garbage")
    assert_bad_data(cli("step", "--json", "--inputs", str(tmp_path / "junk.npy")), "junk.npy")


@pytest.mark.parametrize("source", ["[[0.1,0.2,0.3],[NaN,0,0]]",
                                    "[[0,0,0],[0,0,0],[0,Infinity,0]]"])
def test_json_nan_names_its_row(cli, source):
    line = assert_bad_data(cli("step", "--json", "--inputs", source), "--inputs")
    assert "row 2" in line or "row 3" in line


def test_empty_json_row_message(cli):
    line = assert_bad_data(cli("step", "--json", "--inputs", "[[]]"), "--inputs", "row 1")
    assert "empty" in line or "no values" in line


def test_empty_json_row_is_refused(cli):
    assert_bad_data(cli("step", "--json", "--inputs", "[[]]"), "--inputs")


@pytest.mark.parametrize("source", ["1,,3", "1,2,3;4,,6,7"])
def test_empty_field_is_refused(cli, source):
    assert_bad_data(cli("step", "--json", "--inputs", source), "--inputs")


@pytest.mark.parametrize("spec", [",", ""])
def test_empty_model_list_is_refused(cli, spec):
    assert_bad_data(cli("step", "--json", "--model", spec), "model")


def test_message_stays_one_line_for_odd_file_names(cli, tmp_path):
    assert_bad_data(cli("step", "--json", "--inputs", str(tmp_path / "x\n.csv")), "--inputs")


# -- misused options: the framework's usage message -----------------------------------------

USAGE_ERRORS = [
    ("unknown-option", ["step", "--bogus"], ["--bogus"]),
    ("unknown-option-top", ["--bogus"], ["--bogus"]),
    ("unknown-command", ["frobnicate"], ["frobnicate"]),
    ("bad-dtype", ["step", "--dtype", "float16"], ["float16"]),
    ("bad-reset", ["step", "--gru-reset", "middle"], ["middle"]),
    ("bad-z", ["step", "--z-weights", "both"], ["both"]),
    ("hidden-not-int", ["step", "--hidden", "abc"], ["--hidden"]),
    ("hidden-float", ["step", "--hidden", "2.5"], ["--hidden"]),
    ("steps-not-int", ["step", "--steps", "x"], ["--steps"]),
    ("seed-not-int", ["step", "--seed", "one"], ["--seed"]),
    ("missing-value", ["step", "--inputs"], ["--inputs"]),
    ("params-not-int", ["params", "--input-size", "x"], ["--input-size"]),
    ("params-unknown", ["params", "--model", "gru"], ["--model"]),
]


@pytest.fixture(scope="module")
def usage_results(cli):
    # a wide terminal, so the framework does not wrap the names we look for
    return cli.many({case: (args, {"env": {"COLUMNS": "200"}}) for case, args, _ in USAGE_ERRORS})


@pytest.mark.parametrize(("case", "needles"),
                         [pytest.param(i, n, id=i) for i, _, n in USAGE_ERRORS])
def test_usage_errors(usage_results, case, needles):
    assert_usage_error(usage_results[case], *needles)


# -- a closed pipe ------------------------------------------------------------------------------

LONG_RUN = ["step", "--json", "--steps", "100000"]


def test_head_closes_the_pipe_quietly_in_a_shell(cli):
    """`gru-tui step --json --steps 100000 | head -1`: one line, and nothing on stderr."""
    command = (f"set +o pipefail; {sys.executable} -m gru_tui {' '.join(LONG_RUN)} | head -1")
    completed = subprocess.run(["bash", "-c", command], capture_output=True,
                               stdin=subprocess.DEVNULL, env=cli.env(), timeout=300)
    assert completed.returncode == 0
    assert completed.stderr == b"", completed.stderr.decode(errors="replace")
    lines = completed.stdout.decode().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["t"] == 1


def _read_one_line_then_close(cli):
    """Start a long run, read one line, close our end, wait: (line, stderr, exit code)."""
    process = subprocess.Popen([sys.executable, "-m", "gru_tui", *LONG_RUN],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, env=cli.env())
    line = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    returncode = process.wait(timeout=300)
    return line, stderr.decode(errors="replace"), returncode


def test_closed_pipe_gives_no_traceback(cli):
    line, stderr, _ = _read_one_line_then_close(cli)
    assert json.loads(line)["t"] == 1
    assert stderr == ""


def test_closed_pipe_exits_zero(cli):
    _, stderr, returncode = _read_one_line_then_close(cli)
    assert stderr == ""
    assert returncode == 0
