"""The app in a lesson (SPEC §13), driven with a Pilot and no server: a student's app follows
states written out by hand (tests/app/lessons.py) on a real socket pair; a teacher's app
sends its own on every change; a recorded lesson plays back equal to what was recorded.

The numbers a follower shows are checked against the Python API run on the state's own
settings; what is on screen is read back from Textual's SVG export.
"""

from __future__ import annotations

import itertools
import json
import socket

import numpy as np
import pytest
from lessons import INPUTS, Server, expected_h, line, state, write_recording
from screen_reader import screen_text
from test_app import assert_panels_show_the_engine, make_app, panels_show_the_engine, until

import gru_tui
from gru_tui.app.lesson import LiveFeed, ReplayFeed, Teaching
from gru_tui.app.screens import DiagramScreen, HelpScreen, ParametersScreen, WorkedScreen
from gru_tui.app.widgets import MemoryPanel, StatusBar
from gru_tui.core.recording import RecordingWriter, read_recording

SIZE = (100, 60)


def status(app) -> str:
    """The status line as drawn, whatever dialog is open over it."""
    bar = app.main.query_one(StatusBar)
    return "\n".join(bar.render_line(y).text for y in range(bar.size.height))


def following(server: Server | None = None):
    """An app following `server` (a fresh one by default)."""
    server = server or Server()
    return make_app(follow=LiveFeed(server.app_end)), server


# -- a student follows ---------------------------------------------------------------------


async def test_a_student_shows_every_part_of_the_teachers_state():
    app, server = following()
    async with app.run_test(size=SIZE) as pilot:
        server.send(state(t=3, unit=2, select=("h0", 3), view=["worked"], playing=4,
                          models=["gru", "lstm", "rnn"]))
        await until(pilot, lambda: "Worked example" in screen_text(app))
        assert isinstance(app.screen, WorkedScreen)
        ex = app.explorer
        assert (ex.t, ex.unit, ex.target, ex.component) == (2, 1, "h0", 2)
        assert ex.visible == ("gru", "lstm", "rnn")
        for model in ex.visible:
            np.testing.assert_array_equal(ex.traces[model]["h"], expected_h(model))
        assert "▶ 4/s" in status(app) and "t = 3 / 5" in status(app)
        assert app._player is None  # the teacher plays; the student's app only follows

        server.send(state(t=3, view=["memory", "parameters", "strips"]))
        await until(pilot, lambda: isinstance(app.screen, ParametersScreen))
        assert app.main.memory and app.main.strips and app.main.mode == "strips"
        assert not any(isinstance(s, WorkedScreen) for s in app.screen_stack)
        assert "▶" not in status(app)

        server.send(state(t=5, view=[]))
        await until(pilot, lambda: app.explorer.t == 4 and len(app.screen_stack) == 1)
        assert not app.main.memory and not app.main.strips
        assert not app.screen.query_one(MemoryPanel).display
        assert app.explorer.visible == ("gru", "lstm")
        assert_panels_show_the_engine(app)
        assert app.notices == []


async def test_a_new_run_of_the_teacher_is_the_one_the_api_computes():
    app, server = following()
    inputs = [[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]]
    async with app.run_test(size=(140, 60)) as pilot:  # room for the lesson's notice and all
        server.send(state(t=2, seed=3, gru_reset="after", recurrent_scale=0.5, inputs=inputs,
                          h0=[0.0, 0.0, 0.0]))
        await until(pilot, lambda: app.explorer.steps == 2)
        for model in ("gru", "lstm", "rnn"):
            cell = gru_tui.random_cell(model, 3, 3, seed=3,
                                       **({"reset": "after"} if model == "gru" else {}))
            cell = cell.replace(U=cell.U * 0.5)
            expected = cell.run(np.array(inputs), np.zeros(3), np.asarray([0.6, -0.2, 0.3])
                                if model == "lstm" else None)
            np.testing.assert_array_equal(app.explorer.traces[model]["h"], expected["h"])
        assert "GRU reset after" in status(app) and "U×0.5" in status(app)
        assert_panels_show_the_engine(app)


async def test_the_latest_state_wins_and_anything_else_is_passed_over():
    app, server = following()
    async with app.run_test(size=SIZE) as pilot:
        burst = b"".join(line(seq, state=state(t=1 + seq % 5)) for seq in range(1, 200))
        junk = (b"not json\n", b"[]\n", b'{"format": "something else"}\n',
                line(5, state=state(t=2)),  # older than what came already
                line(300, poll={"question": "?"}),  # a kind of a later version
                b"\n")
        server.raw(burst + b"".join(junk))
        later = state(t=2, view=["worked", "hologram"], future_setting={"a": 1})
        server.raw(line(301, state=later).replace(b'"version": 1', b'"version": 7'))
        await until(pilot, lambda: isinstance(app.screen, WorkedScreen))
        assert app.explorer.t == 1  # the later version's state, as far as this one knows it
        assert app.notices == []


async def test_a_state_that_cannot_be_shown_here_keeps_the_last_one(tmp_path):
    app, server = following()
    missing = tmp_path / "on-the-teachers-machine.safetensors"
    async with app.run_test(size=SIZE) as pilot:
        server.send(state(t=2))
        await until(pilot, lambda: app.explorer.t == 1)
        server.send(state(t=3, weights=[{"file": str(missing), "layer": "gru.l0"}]))
        await until(pilot, lambda: app.notices)
        message, severity = app.notices[-1]
        assert message.startswith("Could not follow the teacher:") and str(missing) in message
        assert severity == "warning" and app.explorer.t == 1
        server.send(state(t=4))
        await until(pilot, lambda: app.explorer.t == 3)


async def test_while_following_nothing_changes_the_state_but_the_teacher():
    app, server = following()
    async with app.run_test(size=SIZE) as pilot:
        server.send(state(t=2))
        await until(pilot, lambda: app.explorer.t == 1)
        before = app.explorer.scenario.inputs.copy()
        for key in ("right", "plus", "s", "b", "1", "i", "m", "enter", "x", "l", "p", "M"):
            await pilot.press(key)
        assert (app.explorer.t, app.explorer.visible) == (1, ("gru", "lstm"))
        np.testing.assert_array_equal(app.explorer.scenario.inputs, before)
        assert app.explorer.scenario.seed == 0 and not app.main.memory
        assert len(app.screen_stack) == 1
        assert app.notices[-1][0] == "Following the teacher: press f to explore on your own"
        assert len(app.notices) == 1  # said once, not at every key
        titles = " ".join(command.title for command in app.get_system_commands(app.screen))
        assert "Follow the teacher" in titles and "Help" in titles
        assert "Step forward" not in titles and "Nudge" not in titles
        await pilot.press("question_mark")  # what leaves the state alone works
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("f", "right", "plus")  # exploring: every key is the student's
        assert app.explorer.t == 2 and app.explorer.value == pytest.approx(INPUTS[2][0] + 0.1)


async def test_on_a_view_the_teacher_opened_f_breaks_away_and_q_quits():
    app, server = following()
    async with app.run_test(size=SIZE) as pilot:
        server.send(state(t=2, view=["worked"]))
        await until(pilot, lambda: isinstance(app.screen, WorkedScreen))
        await pilot.press("escape", "right")  # the teacher's view: not the student's to move
        assert isinstance(app.screen, WorkedScreen) and app.explorer.t == 1
        await pilot.press("f", "right")  # exploring: the view's own keys work again
        assert app.explorer.t == 2 and "t = 3 / 5" in screen_text(app)
        await pilot.press("escape")
        assert len(app.screen_stack) == 1
        await pilot.press("f")  # back: the teacher's view and step
        await until(pilot, lambda: isinstance(app.screen, WorkedScreen))
        assert app.explorer.t == 1
        await pilot.press("q")
        assert not app.is_running


async def test_breaking_away_while_the_teacher_plays_plays_on():
    app, server = following()
    async with app.run_test(size=SIZE) as pilot:
        server.send(state(t=1, playing=4))
        await until(pilot, lambda: "▶ 4/s" in status(app))
        await pilot.press("f")
        assert app._player is not None and "▶ 4/s" in status(app)
        await until(pilot, lambda: app.explorer.t >= 1)  # its own player steps
        await pilot.press("f")
        assert app._player is None and app.explorer.t == 0


async def test_when_the_teacher_leaves_the_student_explores_until_a_new_lesson():
    app, server = following()
    async with app.run_test(size=SIZE) as pilot:
        server.send(state(t=3))
        await until(pilot, lambda: app.explorer.t == 2)
        server.raw(line(server.seq + 1, end="the teacher has left"))
        await until(pilot, lambda: not app.following)
        assert app.notices[-1][0] == ("The teacher has left: you are exploring on your own.")
        assert "exploring on your own (the teacher has left)" in status(app)
        await pilot.press("right")
        assert app.explorer.t == 3
        await pilot.press("f")
        assert "nothing to follow: the teacher has left" in app.notices[-1][0]
        server.raw(line(1, lesson="lesson-2", state=state(t=5)))  # a teacher starts again
        await until(pilot, lambda: "f to follow the teacher" in status(app))
        assert app.explorer.t == 3  # exploring still, until f
        await pilot.press("f")
        assert app.explorer.t == 4 and app.following


async def test_when_the_server_goes_the_student_keeps_the_app():
    app, server = following()
    async with app.run_test(size=SIZE) as pilot:
        server.send(state(t=2))
        await until(pilot, lambda: app.explorer.t == 1)
        server.sock.close()
        await until(pilot, lambda: not app.following)
        assert "the lesson's server has stopped" in status(app)
        await pilot.press("right")
        assert app.explorer.t == 2


# -- the teacher sends -----------------------------------------------------------------------


def messages(sock: socket.socket) -> list[dict]:
    """Every message the teacher's app has sent so far."""
    sock.setblocking(False)
    data = b""
    try:
        while chunk := sock.recv(1 << 20):
            data += chunk
    except BlockingIOError:
        pass
    return [json.loads(text) for text in data.splitlines()]


async def test_the_teacher_sends_every_change_once_and_hears_how_the_class_does():
    server, app_end = socket.socketpair()
    app = make_app(teach=Teaching(server=app_end))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.teacher is not None)
        await pilot.press("right", "right", "left", "plus", "w")
        await until(pilot, lambda: isinstance(app.screen, WorkedScreen))
        await pilot.press("escape", "m", "space")
        await until(pilot, lambda: app.explorer.t > 1)
        await pilot.press("space")
        sent = messages(server)
        states = [m["state"] for m in sent]
        assert [m["seq"] for m in sent] == list(range(1, len(sent) + 1))
        assert len({m["lesson"] for m in sent}) == 1
        assert [s["t"] for s in states[:4]] == [1, 2, 3, 2]
        assert states[4]["inputs"][1] == pytest.approx([v + (k == 0) * 0.1 for k, v in
                                                        enumerate(states[3]["inputs"][1])])
        assert states[5]["view"] == ["worked"] and states[6]["view"] == []
        assert states[7]["view"] == ["memory"]
        assert states[8]["playing"] == 2.0 and states[-1]["playing"] == 0.0
        assert all(a != b for a, b in itertools.pairwise(states))  # no repeats
        server.sendall(json.dumps({"connect": "ssh -p 2222 room-12", "following": 27,
                                   "exploring": 3, "servers": 1, "relay": ""}).encode() + b"\n")
        await until(pilot, lambda: "27 following" in status(app))
        assert "27 following · 3 exploring · ssh -p 2222 room-12" in status(app)


async def test_a_student_follows_a_teacher_step_for_step():
    """Two apps, the teacher's socket wired to the student's as a server would."""
    teacher_server, teacher_end = socket.socketpair()
    student_server, student_end = socket.socketpair()
    teacher = make_app(teach=Teaching(server=teacher_end))
    student = make_app(follow=LiveFeed(student_end))
    async with teacher.run_test(size=SIZE) as t_pilot, student.run_test(size=(80, 30)) as s_pilot:
        await until(t_pilot, lambda: teacher.teacher is not None)
        keys = ("right", "right", "plus", "down", "minus", "b", "z", "3", "s", "i", "full_stop",
                "u", "k", "n")
        for key in keys:
            await t_pilot.press(key)
        await until(t_pilot, lambda: isinstance(teacher.screen, ParametersScreen))
        student_server.sendall(b"".join(json.dumps(m).encode() + b"\n"
                                        for m in messages(teacher_server)))
        await until(s_pilot, lambda: isinstance(student.screen, ParametersScreen))
        ex, tx = student.explorer, teacher.explorer
        assert (ex.t, ex.unit, ex.target, ex.component) == (tx.t, tx.unit, tx.target,
                                                             tx.component)
        assert student.lesson_state() == teacher.lesson_state()
        for model in ("gru", "lstm", "rnn"):
            np.testing.assert_allclose(ex.traces[model]["h"], tx.traces[model]["h"], rtol=0,
                                       atol=1e-12)


# -- recordings ----------------------------------------------------------------------------


async def test_a_recorded_lesson_replays_state_for_state(tmp_path):
    path = tmp_path / "lesson.jsonl"
    clock = itertools.count(0, 0.25).__next__  # a quarter second a reading, on any machine
    teacher = make_app(teach=Teaching(recording=RecordingWriter(path, "test", clock=clock)))
    async with teacher.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: teacher.teacher is not None)
        for key in ("right", "plus", "w", "escape", "M", "a", "enter", "b", "m", "3", "end"):
            await pilot.press(key)
        await pilot.press("q")
    recording = read_recording(path)
    recorded = [json.loads(text) for text in path.read_text().splitlines()[1:]]
    states = [entry["state"] for entry in recorded if "state" in entry]
    assert len(recording.states) == len(states) >= 9
    assert [entry["marker"] for entry in recorded if "marker" in entry] == ["a"]
    assert [at for at, _ in recording.states] == sorted(at for at, _ in recording.states)

    player = make_app()
    async with player.run_test(size=(80, 24)) as pilot:
        feed = ReplayFeed(recording)
        player.follow(feed)
        for index, expected in enumerate(states):
            feed._deliver(index)
            await pilot.pause()
            assert player.lesson_state() == expected, index
        feed._deliver(0)
        feed.rate = 4  # ×16: the recorded seconds go by fast
        await pilot.press("space")
        await until(pilot, lambda: not feed.playing, tries=400)
        assert player.lesson_state() == states[-1]
        assert "marker 1/1: a" in status(player)


async def test_a_recording_plays_at_any_size_and_in_any_theme(tmp_path):
    path = write_recording(tmp_path / "r.jsonl", [{"at": 0, "state": state(t=4)}])
    for size, theme in (((100, 60), "textual-light"), ((200, 60), "textual-dark")):
        app = make_app(follow=ReplayFeed(read_recording(path)))
        async with app.run_test(size=size) as pilot:
            app.theme = theme
            await until(pilot, lambda app=app: "t = 4 / 5" in screen_text(app))
            np.testing.assert_array_equal(app.explorer.xs, INPUTS)
            # x_4 and every gate, read off the screen
            await until(pilot, lambda app=app: panels_show_the_engine(app))
            assert "t = 4 / 5" in status(app)


async def test_the_cell_diagram_is_a_view_students_follow():
    app, server = following()
    async with app.run_test(size=SIZE) as pilot:
        server.send(state(t=2, view=["diagram"]))
        await until(pilot, lambda: isinstance(app.screen, DiagramScreen)
                    and "t = 2 / 5" in screen_text(app))
        await pilot.press("escape", "d")  # the teacher's view: the teacher closes it
        assert isinstance(app.screen, DiagramScreen)
        await pilot.press("down")  # looking at another node changes nothing of the lesson
        await until(pilot, lambda: "GRU node: r_t reset gate" in screen_text(app))
        server.send(state(t=3, view=[]))
        await until(pilot, lambda: not isinstance(app.screen, DiagramScreen))
        assert app.explorer.t == 2


async def test_a_long_lesson_notice_never_cuts_the_step_counter():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show_lesson("12 following · 3 exploring · 2 servers · relay lost, retrying in 8 s · "
                        "ssh -p 35623 lecture-hall-3.cs.example.edu")
        await until(pilot, lambda: "12 following" in status(app))
        line = status(app)
        assert "t = 1 / 8" in line and "…" in line  # the notice is cut, the counter is not
        assert len(line.rstrip()) <= 80
