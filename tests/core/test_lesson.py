"""A lesson's states and messages (core/lesson.py) and the socket channel that carries them
(core/channel.py): what is refused and how, what a later version may add, and that a reader
who falls behind gets the latest state whole and holds up no writer."""

from __future__ import annotations

import asyncio
import json
import socket

import numpy as np
import pytest

from gru_tui.core.channel import MAX_WAITING, Channel
from gru_tui.core.explorer import Explorer
from gru_tui.core.lesson import (
    kind,
    lesson_state,
    newer,
    note,
    parse_state,
    read_message,
)
from gru_tui.core.scenario import Scenario
from gru_tui.errors import InputError

STATE = {"models": ["gru", "rnn"], "hidden": 2, "seed": 4, "inputs": [[0.5], [-1.0], [2.0]],
         "h0": [0.1, -0.2], "t": 3, "unit": 2, "select": ["h0", 2], "view": ["worked"],
         "playing": 2.0}


def envelope(**body) -> dict:
    return {"format": "gru-tui lesson", "version": 1, "lesson": "L", "seq": 1, **body}


def test_a_state_is_read_as_a_session_and_its_cursor():
    state = parse_state(STATE, "here")
    assert state.scenario.models == ("gru", "rnn") and state.scenario.seed == 4
    np.testing.assert_array_equal(state.scenario.inputs, [[0.5], [-1.0], [2.0]])
    assert (state.t, state.unit, state.target, state.component) == (2, 1, "h0", 1)
    assert state.view == {"worked"} and state.playing == 2.0
    explorer = state.explorer()
    assert (explorer.t, explorer.unit, explorer.target, explorer.component) == (2, 1, "h0", 1)
    assert explorer.visible == ("gru", "rnn")


def test_an_explorers_state_reads_back_to_the_same_explorer():
    explorer = Explorer(Scenario(seed=2, reset="after", recurrent_scale=0.5), t=3, unit=1,
                        visible=("lstm", "rnn"))
    explorer.choose_target("c0")
    explorer.set_value(0.25)
    data = lesson_state(explorer, {"memory"}, 4)
    assert data["select"] == ["c0", 1] and data["view"] == ["memory"] and data["playing"] == 4
    assert "format" not in data  # the envelope, not the state, says what it is
    again = parse_state(json.loads(json.dumps(data)), "x").explorer()
    assert lesson_state(again, {"memory"}, 4) == data
    for model in ("gru", "lstm", "rnn"):
        np.testing.assert_array_equal(again.traces[model]["h"], explorer.traces[model]["h"])


def test_a_state_moving_only_the_cursor_keeps_the_run():
    first = parse_state(STATE, "here")
    moved = parse_state({**STATE, "t": 1, "view": []}, "here", previous=first)
    assert moved.scenario is first.scenario and moved.t == 0
    edited = parse_state({**STATE, "seed": 5}, "here", previous=first)
    assert edited.scenario is not first.scenario and edited.scenario.seed == 5


def test_the_cursor_is_clamped_into_the_run_and_unknown_keys_are_passed_over():
    state = parse_state({**STATE, "t": 99, "unit": 7, "select": ["x", 9],
                         "hologram": True, "view": ["worked", "diagram", "hologram"]}, "here")
    assert (state.t, state.unit) == (2, 1)
    explorer = state.explorer()
    assert explorer.component == 0  # x has one component
    assert state.view == {"worked", "diagram", "hologram"}  # the app opens what it knows


@pytest.mark.parametrize(("change", "words"), [
    ({"select": ["y", 1]}, '"select" must be'),
    ({"select": ["x", 0]}, '"select" must be'),
    ({"view": "worked"}, '"view" must be a list of names'),
    ({"view": [1]}, '"view" must be a list of names'),
    ({"playing": -1}, '"playing" must be 0 or steps per second'),
    ({"playing": True}, '"playing" must be 0 or steps per second'),
    ({"t": "3"}, '"t" has the wrong type'),
    ({"inputs": [[1.0, "x"]]}, '"inputs" must be rows of numbers'),
    ({"hidden": 0}, '"hidden"'),
    ({"format": "gru-tui session"}, "a session file, not a lesson's state"),
])
def test_a_bad_state_is_refused_naming_where_and_what(change, words):
    with pytest.raises(InputError) as error:
        parse_state({**STATE, **change}, "lesson.jsonl line 4")
    assert str(error.value).startswith("lesson.jsonl line 4")
    assert words in str(error.value)


def test_a_state_of_no_object_is_refused():
    with pytest.raises(InputError, match="here: a state is a JSON object"):
        parse_state([1, 2], "here")


def test_messages_are_checked_envelope_first():
    line = json.dumps(envelope(state=STATE)).encode()
    assert kind(read_message(line)) == "state"
    assert kind(read_message(line + b"\n")) == "state"
    later = read_message(json.dumps(envelope(version=3, poll={"q": 1})).encode())
    assert kind(later) is None  # a later version's kind: kept, for the reader to pass over
    for junk, words in [(b"{nope", "not JSON"), (b"\xff\xfe", "not JSON"),
                        (b"[1]", "not a gru-tui lesson message"),
                        (b'{"format": "x"}', "not a gru-tui lesson message"),
                        (b'{"a": NaN}', "not JSON"),
                        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),  # no RecursionError
                        (json.dumps(envelope(version=0)).encode(), '"version"'),
                        (json.dumps(envelope(lesson="")).encode(), '"lesson"'),
                        (json.dumps(envelope(seq="1")).encode(), '"seq"'),
                        (json.dumps(envelope(marker=1)).encode(), '"marker"'),
                        (json.dumps(envelope(state=[])).encode(), '"state"'),
                        (json.dumps(envelope(state=STATE), indent=1).encode(),
                         "more than one line"),
                        (b" " * (4 << 20) + b"{}", "bytes, more than")]:
        with pytest.raises(InputError, match=words):
            read_message(junk)


def test_a_newer_message_is_a_later_seq_or_another_lesson():
    first = envelope(seq=5)
    assert newer(first, None)
    assert newer({**first, "seq": 6}, first) and not newer({**first, "seq": 5}, first)
    assert not newer({**first, "seq": 2}, first)
    assert newer({**first, "lesson": "M", "seq": 1}, first)  # a teacher who started again


def test_a_note_is_one_printable_line():
    assert note("  watch\n the\tgate \x1b[31m ") == "watch the gate [31m"
    assert len(note("x" * 1000)) == 200


# -- the channel -------------------------------------------------------------------------------


async def test_a_slow_reader_gets_the_latest_state_whole_and_never_holds_up_the_writer():
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    writer = Channel(ours, lambda lines: None, lambda: None, limit=1 << 20)
    big = b"x" * 50_000
    for number in range(500):  # far more than the socket holds: the writer never blocks
        writer.send(b"%d %s\n" % (number, big))
        if number % 100 == 0:
            writer.send(b"marker %d\n" % number, replaceable=False)
    assert writer.behind
    received: list[bytes] = []
    ended = asyncio.Event()
    reader = Channel(theirs, received.extend, ended.set, limit=1 << 20)
    while writer.behind:
        await asyncio.sleep(0.01)
    writer.close()
    await asyncio.wait_for(ended.wait(), 10)
    states = [line for line in received if not line.startswith(b"marker")]
    markers = [line for line in received if line.startswith(b"marker")]
    assert all(line.endswith(big) for line in states)  # every line whole
    assert states[-1].startswith(b"499 ")  # the latest came
    assert len(states) < 10  # the ones in between were skipped, not queued
    assert markers == [b"marker %d" % n for n in range(0, 500, 100)]  # kept, in order
    reader.close()


async def test_a_line_too_long_is_dropped_and_the_next_one_read():
    ours, theirs = socket.socketpair()
    received: list[bytes] = []
    too_long: list[int] = []
    reader = Channel(theirs, received.extend, lambda: None, limit=100,
                     on_long=too_long.append)
    ours.sendall(b"a" * 70_000 + b"\nshort\n")
    while not received:
        await asyncio.sleep(0.01)
    assert received == [b"short"] and too_long == [70_000]
    reader.close()
    ours.close()


async def test_markers_waiting_for_a_stalled_reader_are_bounded():
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    writer = Channel(ours, lambda lines: None, lambda: None, limit=100)
    writer.send(b"y" * 100_000 + b"\n")  # fills the socket; the rest waits
    for number in range(10 * MAX_WAITING):
        writer.send(b"m%d\n" % number, replaceable=False)
    assert len(writer._waiting) == MAX_WAITING
    writer.close()
    theirs.close()

