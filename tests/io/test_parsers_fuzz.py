"""The parsers of what users hand over, fed generated inline text, JSON, CSV files, .npy
headers and session files (hypothesis): each answer is rows of finite numbers, a session, or
an InputError of one line, never another exception, and each parse stays within a bound of
memory (tracemalloc's peak, numpy's allocations included) and of time (a guard against a
hang, not a speed test).
"""

from __future__ import annotations

import contextlib
import json
import signal
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gru_tui.core.scenario import Scenario
from gru_tui.core.session import load_session, session_dict
from gru_tui.errors import InputError
from gru_tui.io.inputs import read_rows

MEMORY_BOUND = 64 << 20  # far above what any generated input needs, far below a blow-up
HANG_GUARD_S = 30
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


class Hang(Exception):
    pass


@contextlib.contextmanager
def bounded():
    """Fail if the block takes more than MEMORY_BOUND bytes at its peak, or hangs."""
    def hang(*_):
        raise Hang(f"no answer in {HANG_GUARD_S} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_GUARD_S)
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
        assert peak < MEMORY_BOUND, f"{peak / 2**20:.0f} MiB at the peak"
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def rows_or_refusal(source: str, option: str = "--inputs") -> None:
    """read_rows answers with finite [T, D] rows or one line of InputError."""
    with bounded():
        try:
            rows = read_rows(source, option)
        except InputError as error:
            message = str(error)
            assert message.startswith(option) and message.strip(), message
            return
    assert rows.ndim == 2 and rows.size and np.isfinite(rows).all()


@pytest.fixture(autouse=True)
def _scratch_folder(tmp_path, monkeypatch):
    """Relative names the parsers take for files resolve in an empty folder."""
    monkeypatch.chdir(tmp_path)


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**500), 10**500).map(str),
    st.sampled_from(["1e999", "-1e400", "nan", "Infinity", "1" * 4301, "0x1p3", "1_000",
                     "+.5", "-", "", "e", "1e", " ", "٣", "１"]),
    st.text(max_size=5),
)
separators = st.sampled_from([",", ";", " ", "\t", "\n", ", ", ";;", ",,", "\r\n", "#"])


@st.composite
def inline_values(draw) -> str:
    """Rows as people type them, with numbers and junk in between."""
    parts = draw(st.lists(st.tuples(numbers, separators), max_size=40))
    return "".join(value + sep for value, sep in parts)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers(-(10**400), 10**400)
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=40)


@FUZZ
@given(text=st.one_of(inline_values(), st.text(max_size=300)))
def test_inline_text(text):
    rows_or_refusal(text.replace("/", "").replace("\\", ""))  # names with a path: files
    rows_or_refusal(text.replace("/", "").replace("\\", ""), "--h0")


@FUZZ
@given(value=json_values, depth=st.integers(0, 3000))
def test_json(value, depth):
    rows_or_refusal(json.dumps(value))
    rows_or_refusal("[" * depth + json.dumps(value) + "]" * depth)
    rows_or_refusal(f"[{'[' * depth}1{']' * depth}]"[: depth + 2])  # cut short: invalid


@FUZZ
@given(text=st.one_of(inline_values(), st.text()), header=st.booleans())
def test_csv_files(tmp_path, text, header):
    path = tmp_path / "rows.csv"
    path.write_text(("x1,x2,x3\n" if header else "") + text, encoding="utf-8",
                    errors="surrogatepass")
    rows_or_refusal(str(path))


literals = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats()
    | st.sampled_from(["'<f8'", "'<i4'", "'|O'", "'>f4'", "'<U3'", "'V8'", "'<c16'", "'|b1'"]),
    lambda children: st.lists(children, max_size=4).map(lambda x: "(" + ", ".join(map(str, x))
                                                            + ",)")
    | st.dictionaries(st.sampled_from(["'descr'", "'fortran_order'", "'shape'", "'x'"]),
                      children, max_size=4).map(
        lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"),
    max_leaves=12)


@st.composite
def npy_files(draw) -> bytes:
    """A .npy file: the magic, a version, a header length (true or not), a header that is a
    real one with odd values or any literal or text, and some data."""
    shape = draw(st.lists(st.integers(-3, 2**41), max_size=3))
    descr = draw(st.sampled_from(["<f8", "<f4", "<i2", "|u1", "|O", "<U4", ">f8", "V16"]))
    real = (f"{{'descr': '{descr}', 'fortran_order': {draw(st.booleans())}, "
            f"'shape': ({''.join(f'{n}, ' for n in shape)}), }}")
    header = draw(st.one_of(st.just(real), literals.map(str), st.text(max_size=60)))
    body = header.encode("utf-8", "surrogatepass")
    version = draw(st.sampled_from([(1, 0), (2, 0), (3, 0), (0, 9)]))
    length_format = "<H" if version[0] == 1 else "<I"
    length = draw(st.one_of(st.just(len(body)), st.integers(0, 300)))
    data = draw(st.binary(max_size=200))
    return (b"\x93NUMPY" + bytes(version) + struct.pack(length_format, length) + body + data)


@FUZZ
@given(content=npy_files())
def test_npy_headers(tmp_path, content):
    path = tmp_path / "rows.npy"
    path.write_bytes(content)
    rows_or_refusal(str(path))


GOOD_SESSION = session_dict(Scenario(), ("gru", "lstm"))
FIELDS = [*GOOD_SESSION, "weights", "example", "anything"]
NUMBERS = ["inputs", "h0", "c0", "recurrent_scale", "bias_offsets", "hidden", "seed", "t"]
odd_numbers = st.one_of(  # as JSON text: json.dumps refuses an int of 4,301 digits
    st.integers(-(10**400), 10**400).map(str), st.floats().map(repr),
    st.sampled_from(["1" * 4301, "-" + "9" * 5000, "1e999", "NaN", "-Infinity", "2e-400"]))


@st.composite
def session_files(draw) -> str:
    """A good session with some fields replaced by anything JSON holds (huge integers, NaN,
    lists nested deep), its numbers by odd ones, or its text cut short."""
    data = dict(GOOD_SESSION)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        data[name] = draw(json_values)
    numbers = draw(st.lists(st.sampled_from(NUMBERS), max_size=3, unique=True))
    for name in numbers:
        data[name] = {"inputs": [["N", 0, 0]], "h0": ["N", 0, 0], "c0": [0, "N", 0],
                      "bias_offsets": [["gru", "z", "N"]]}.get(name, "N")
    text = json.dumps(data)
    for _ in numbers:
        text = text.replace('"N"', draw(odd_numbers), 1)
    depth = draw(st.integers(0, 3000))
    text = text.replace('"unit": 1', f'"unit": {"[" * depth}1{"]" * depth}', 1)
    if draw(st.booleans()):
        return text
    return text[: draw(st.integers(0, len(text)))]


@FUZZ
@given(text=session_files())
def test_session_files(tmp_path, text):
    path = tmp_path / "session.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with bounded():
        try:
            session = load_session(path)
        except InputError as error:
            message = str(error)
            assert message and "\n" not in message.strip(), message
            return
    assert 0 <= session.t < session.scenario.total_steps


def test_the_guards_catch_what_they_guard():
    """bounded() fails a block that takes too much memory, so the suite above can fail."""
    with pytest.raises(AssertionError, match="MiB at the peak"), bounded():
        np.ones(MEMORY_BOUND // 8 + 1)
    assert Path(".").resolve() != Path(__file__).parent  # the scratch folder is in use
