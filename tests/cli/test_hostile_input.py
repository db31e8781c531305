"""What a fuzzer and a hostile user found, through the real command (SPEC §5): sources that
never end or never open, data taken for file names, JSON and .npy headers built to break the
parsers, numbers past float64's range, settings that overflow the weights, and names holding
control characters. Each is one line on stderr and exit 2 (or a clean run), never a
traceback, a hang or a machine out of memory.

Every run here is a subprocess limited to 2 GiB of address space, and to GUARD_S seconds: a
parser that reads an endless source until memory runs out fails its test with a MemoryError
instead of taking the machine down, and one that blocks fails it when the guard ends it (a
refusal takes a second; the guard only bounds a hang).
"""

from __future__ import annotations

import json
import math
import os
import resource
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from gru_tui.core.scenario import Scenario
from gru_tui.core.session import session_dict

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="FIFOs, /dev/zero and rlimits: Linux")
MEMORY_LIMIT = 2 << 30
GUARD_S = 120
HUGE = "1" + "0" * 400  # 10^400, an integer past float64's range
LONG = "1" * 4301  # past Python's int-from-text limit


def limited(*args: str, stdin=subprocess.DEVNULL, cwd=None, env=None):
    """`python -m gru_tui ARGS` with at most MEMORY_LIMIT bytes of memory."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run([sys.executable, "-m", "gru_tui", *args], stdin=stdin,
                          capture_output=True, text=True, errors="replace", cwd=cwd,
                          env=env, preexec_fn=limit, timeout=GUARD_S)


def many(runs: dict) -> dict:
    """{name: args or (args, keywords)} run all at the same time → {name: result}."""
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {name: pool.submit(limited, *spec[0], **spec[1]) if isinstance(spec, tuple)
                   else pool.submit(limited, *spec) for name, spec in runs.items()}
        return {name: future.result() for name, future in futures.items()}


def one_line(result, *needles: str) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gru-tui: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def finite_records(result) -> list[dict]:
    """A clean run: exit 0, nothing on stderr (no warning), JSON without NaN or Infinity."""
    assert result.returncode == 0 and result.stderr == "", result.stderr
    def refuse(name):
        raise AssertionError(f"{name} in the output")
    records = [json.loads(line, parse_constant=refuse) for line in result.stdout.splitlines()]
    assert records
    return records


def session_text(**changes) -> str:
    data = session_dict(Scenario(), ("gru", "lstm"))
    return json.dumps({**data, **changes})


def npy(header: str, data: bytes = b"", length: int | None = None) -> bytes:
    """A version 1.0 .npy file with this header text (its length field `length` if given)."""
    body = header.encode("latin1")
    body += b" " * (-(10 + len(body) + 1) % 64) + b"\n"
    size = len(body) if length is None else length
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", size) + body + data


def gru_file(path: Path) -> Path:
    rng = np.random.default_rng(0)
    save_file({"rnn.weight_ih_l0": rng.normal(size=(9, 3)).astype("f4"),
               "rnn.weight_hh_l0": rng.normal(size=(9, 3)).astype("f4")}, str(path))
    return path


# -- sources that never end, never open, or are not files (item 10) ---------------------------


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def test_fifos_without_a_writer_are_refused_at_once_wherever_a_file_is_expected(tmp_path,
                                                                                fifo):
    named = {suffix: tmp_path / f"fifo{suffix}" for suffix in (".safetensors", ".onnx", ".h5")}
    for path in named.values():
        os.mkfifo(path)
    session = tmp_path / "weights-fifo.json"
    session.write_text(session_text(weights=[{"file": str(fifo), "layer": "0"}]))
    results = many({
        "inputs": ["step", "--json", "--inputs", str(fifo)],
        "h0": ["step", "--json", "--h0", str(fifo)],
        "c0": ["step", "--json", "--c0", str(fifo)],
        "session": ["step", "--json", "--session", str(fifo)],
        "session weights": ["step", "--json", "--session", str(session)],
        **{f"inspect {suffix}": ["inspect", str(path)] for suffix, path in named.items()},
        "weights": ["step", "--json", "--weights", str(named[".onnx"])],
    })
    for result in results.values():
        one_line(result, "not a regular file")


def test_a_fifo_with_an_endless_writer_is_never_read(fifo):
    writer = subprocess.Popen(["sh", "-c", f"yes 1,2,3 > {fifo}"])
    try:
        one_line(limited("step", "--json", "--inputs", str(fifo)), str(fifo),
                 "not a regular file")
    finally:
        writer.kill()
        with open(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK), "rb"):  # unblock its open
            pass
        writer.wait()


def test_devices_are_refused_and_stdin_is_read_to_a_bound(tmp_path):
    sparse = tmp_path / "sparse.json"
    with sparse.open("wb") as file:
        file.truncate(3 << 30)  # 3 GiB of holes, no disk used
    sparse_csv = tmp_path / "sparse.csv"
    with sparse_csv.open("wb") as file:
        file.truncate(3 << 30)
    with open("/dev/zero", "rb") as zeros:
        results = many({
            "zero inputs": ["step", "--json", "--inputs", "/dev/zero"],
            "urandom inputs": ["step", "--json", "--inputs", "/dev/urandom"],
            "zero h0": ["step", "--json", "--h0", "/dev/zero"],
            "zero session": ["step", "--json", "--session", "/dev/zero"],
            "zero inspect": ["inspect", "/dev/zero"],
            "zero weights": ["step", "--json", "--weights", "/dev/urandom"],
            "sparse session": ["step", "--json", "--session", str(sparse)],
            "sparse inputs": ["step", "--json", "--inputs", str(sparse_csv)],
            "stdin from /dev/zero": (["step", "--json", "--inputs", "-"], {"stdin": zeros}),
        })
    for name in ("zero inputs", "urandom inputs", "zero h0", "zero session", "zero inspect",
                 "zero weights"):
        one_line(results[name], "/dev/", "not a regular file")
    one_line(results["sparse session"], "sparse.json is 3072 MiB", "up to 64 MiB")
    one_line(results["sparse inputs"], "sparse.csv is 3072 MiB", "up to 64 MiB")
    one_line(results["stdin from /dev/zero"], "--inputs (stdin) holds over 64 MiB")


# -- data is not a file name (item 11) ------------------------------------------------------


def test_data_never_names_a_file_and_long_names_are_one_line(tmp_path):
    (tmp_path / "1,2,3").write_text("9,9,9\n")  # a file named like the data
    (tmp_path / "0.5").write_text("9,9,9\n")
    rows = ";".join(["0.1,0.2,0.3"] * 100)  # 1,199 bytes, far past a file name's 255
    long_name = "a" * 300
    session = tmp_path / "long-weights.json"
    session.write_text(session_text(weights=[{"file": f"/{long_name}.onnx", "layer": "0"}]))
    results = many({
        "like a file": (["step", "--json", "-m", "gru", "--inputs", "1,2,3"], {"cwd": tmp_path}),
        "one number": (["step", "--json", "-m", "rnn", "--inputs", "0.5"], {"cwd": tmp_path}),
        "long rows": ["step", "--json", "-m", "gru", "--inputs", rows],
        "long h0": ["step", "--json", "-m", "gru", "-H", "100", "--inputs", "1,2,3",
                    "--h0", ",".join(["0.5"] * 100)],
        "long word": ["step", "--json", "--inputs", long_name],
        "inspect long": ["inspect", f"/{long_name}.safetensors"],
        "weights long": ["step", "--json", "--weights", f"./{long_name}.onnx"],
        "session weights long": ["step", "--json", "--session", str(session)],
    })
    assert [r["x"] for r in finite_records(results["like a file"])] == [[1.0, 2.0, 3.0]]
    assert [r["x"] for r in finite_records(results["one number"])] == [[0.5]]
    assert len(finite_records(results["long rows"])) == 100  # one model, 100 steps
    assert finite_records(results["long h0"])[0]["h_prev"] == [0.5] * 100
    for name in ("long word", "inspect long", "weights long", "session weights long"):
        one_line(results[name], "aaaa", "File name too long")


# -- parsers fed what breaks them (item 12) --------------------------------------------------


def test_json_nested_too_deep_and_integers_past_any_float_are_one_line(tmp_path):
    deep = "[" * 3000 + "]" * 3000
    files = {}
    for name, text in {
        "deep inputs.json": deep,
        "deep session": "{\"inputs\": " + deep + "}",
        "huge session inputs": session_text(inputs=[[0, 0, 0]]).replace("[[0, 0, 0]]",
                                                                         f"[[{HUGE}, 0, 0]]"),
        "huge session h0": session_text(h0=[0, 0, 0]).replace('"h0": [0, 0, 0]',
                                                              f'"h0": [{HUGE}, 0, 0]'),
        "huge recurrent_scale": session_text(recurrent_scale=7).replace(
            '"recurrent_scale": 7', f'"recurrent_scale": {HUGE}'),
        "huge bias offset": session_text(bias_offsets=[["gru", "z", 7]]).replace(
            '"z", 7]', f'"z", {HUGE}]'),
        "long session inputs": session_text(inputs=[[0, 0, 0]]).replace("[[0, 0, 0]]",
                                                                        f"[[{LONG}, 0, 0]]"),
        "long seed": session_text(seed=7).replace('"seed": 7', f'"seed": {LONG}'),
    }.items():
        files[name] = tmp_path / (name.replace(" ", "-") + ("" if "." in name else ".json"))
        files[name].write_text(text)
    results = many({
        "deep inline": ["step", "--json", "--inputs", deep],
        "deep file": ["step", "--json", "--inputs", str(files["deep inputs.json"])],
        "huge inline": ["step", "--json", "--inputs", f"{HUGE},0,0"],
        "huge json": ["step", "--json", "--inputs", f"[[{HUGE}, 0, 0]]"],
        "long json": ["step", "--json", "--inputs", f"[[{LONG}, 0, 0]]"],
        "huge h0": ["step", "--json", "--h0", f"[{HUGE}, 0, 0]"],
        **{name: ["step", "--json", "--session", str(path)] for name, path in files.items()
           if "session" in name or "huge" in name or "long seed" in name},
    })
    one_line(results["deep inline"], "--inputs", "nested too deeply")
    one_line(results["deep file"], "deep-inputs.json", "nested too deeply")
    one_line(results["deep session"], "deep-session.json", "nested too deeply")
    for name in ("huge inline", "huge json", "long json"):
        one_line(results[name], "--inputs row 1 value 1", "not a finite number")
    one_line(results["huge h0"], "--h0", "not a finite number")
    one_line(results["huge session inputs"], '"inputs" holds NaN or inf')
    one_line(results["long session inputs"], '"inputs" holds NaN or inf')
    one_line(results["huge session h0"], '"h0" must be one row of finite numbers')
    one_line(results["huge recurrent_scale"], "recurrent weight scale")
    one_line(results["huge bias offset"], "bias offset for gru.z is not a finite number")
    one_line(results["long seed"], '"seed" has the wrong type')


def test_npy_headers_built_to_break_numpy_are_one_line(tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, np.arange(6, dtype="<f8").reshape(2, 3))
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"
    data = good.read_bytes()[128:]
    files = {
        "short-length.npy": npy(header, data, length=40),  # the header cut mid-token
        "long-length.npy": npy(header, data, length=4000),  # past the end of the file
        "nested.npy": npy("{'descr': {'a': {'b': {}}}, 'fortran_order': False, "
                          "'shape': (2, 3), }", data),
        "not-a-dict.npy": npy("[[[[[[]]]]]]", data),
        "huge-shape.npy": npy(f"{{'descr': '<f8', 'fortran_order': False, 'shape': "
                              f"({2**40}, 1), }}", data),
        "negative-shape.npy": npy("{'descr': '<f8', 'fortran_order': False, "
                                  "'shape': (-1, 3), }", data),
        "object.npy": npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", data),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    results = many({name: ["step", "--json", "--inputs", str(tmp_path / name)]
                    for name in [*files, "good.npy"]})
    for name in files:
        one_line(results[name], name)
    one_line(results["huge-shape.npy"], "declares shape (1099511627776, 1)")
    one_line(results["object.npy"], "never unpickles")
    assert [r["x"] for r in finite_records(results["good.npy"])][::2] == [[0, 1, 2], [3, 4, 5]]


# -- settings that overflow the weights saturate (item 13) -----------------------------------


def test_scaled_and_offset_weights_saturate_without_nan_or_warnings(tmp_path):
    offsets = [["gru", "z", 1e308], ["gru", "z", 1e308], ["lstm", "f", -1e308],
               ["lstm", "f", -1e308], ["rnn", "h", 1e308]]
    sessions = {}
    for dtype in ("float32", "float64"):
        sessions[dtype] = tmp_path / f"offsets-{dtype}.json"
        sessions[dtype].write_text(session_text(models=["gru", "lstm", "rnn"], dtype=dtype,
                                                bias_offsets=offsets))
    results = many({
        "u-scale float32": ["step", "--json", "-m", "gru,lstm,rnn", "--u-scale", "1e39",
                            "--dtype", "float32"],
        "u-scale float64": ["step", "--json", "-m", "gru,lstm,rnn", "--u-scale", "1e308"],
        **{f"offsets {dtype}": ["step", "--json", "--session", str(path)]
           for dtype, path in sessions.items()},
    })
    for name, result in results.items():
        for record in finite_records(result):
            assert all(math.isfinite(v) for key, values in record.items()
                       if isinstance(values, list) for v in values), name
    # saturated, as the engine promises: the offsets push the gates to their ends
    by_model = {r["model"]: r for r in finite_records(results["offsets float64"])[:3]}
    assert by_model["gru"]["update"] == [1.0, 1.0, 1.0]
    assert by_model["lstm"]["forget"] == [0.0, 0.0, 0.0]


# -- control characters in messages (item 14) ------------------------------------------------


def test_control_characters_in_names_are_escaped_and_the_message_stays_one_line(tmp_path):
    odd = "x\ny\x1b]0;owned\x07\x1b[2J\u202ez"
    session = tmp_path / "odd-weights.json"
    session.write_text(session_text(weights=[{"file": f"/{odd}.onnx", "layer": "0"}]))
    gru_file(tmp_path / "ok.safetensors")
    results = many({
        "inputs": ["step", "--json", "--inputs", str(tmp_path / f"{odd}.csv")],
        "session": ["step", "--json", "--session", str(tmp_path / f"{odd}.json")],
        "session weights": ["step", "--json", "--session", str(session)],
        "inspect": ["inspect", str(tmp_path / f"{odd}.onnx")],
        "layer": ["step", "--json", "--weights", str(tmp_path / "ok.safetensors"),
                  "--layer", odd],
    })
    for name, result in results.items():
        line = one_line(result, "x\\ny\\x1b]0;owned\\x07\\x1b[2J\\u202ez")
        assert not any(ch in line for ch in "\x1b\x07\u202e"), name
