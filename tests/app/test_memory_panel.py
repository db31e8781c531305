"""The memory panel (`m`): ‖∂h_T/∂x_t‖ per model across the timeline, the values at the
cursor, updated on every edit and step, computed in a worker when large."""

from __future__ import annotations

import math
import re
import threading

import numpy as np
import pytest
from screen_reader import screen_lines, screen_text

import gru_tui
from gru_tui.app.app import GruTuiApp
from gru_tui.app.widgets import MemoryPanel, StatusBar
from gru_tui.core.scenario import Scenario

SIZE = (120, 50)
NUMBER = re.compile(r"(RNN|GRU|LSTM) (\d\.\de[+-]\d+|0)")


def status_text(app: GruTuiApp) -> str:
    """The status line as the app draws it."""
    return screen_text(app, app.screen.query_one(StatusBar))


def memory_text(app: GruTuiApp) -> list[str]:
    return screen_lines(app, app.screen.query_one(MemoryPanel), content=True)


def at_cursor(app: GruTuiApp) -> dict[str, float]:
    """The sensitivities the panel writes for step t: {"GRU": 2.5e-04, ...}."""
    [line] = [line for line in memory_text(app) if line.strip().startswith("at t = ")]
    return {model: float(value) for model, value in NUMBER.findall(line)}


def finite_difference(cell, xs, h0, c0, t: int, eps: float = 1e-6) -> float:
    """‖∂h_T/∂x_t‖_F by central differences, one input component at a time."""
    columns = []
    for d in range(xs.shape[1]):
        plus, minus = xs.copy(), xs.copy()
        plus[t, d] += eps
        minus[t, d] -= eps
        columns.append((cell.run(plus, h0, c0)["h"][-1] - cell.run(minus, h0, c0)["h"][-1])
                       / (2 * eps))
    return float(np.linalg.norm(np.array(columns)))


async def test_the_panel_shows_every_model_and_the_values_at_the_cursor():
    app = GruTuiApp(Scenario(preset="sine"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", "right", "right")  # t = 3
        ex = app.explorer
        values = at_cursor(app)
        assert set(values) == {"GRU", "LSTM", "RNN"}  # the RNN's panel is hidden; it is here
        for model, trace in ex.traces.items():
            short = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}[model]
            c0 = ex.scenario.c0 if model == "lstm" else None
            expected = finite_difference(trace.cell, ex.xs, ex.scenario.h0, c0, t=2)
            assert values[short] == pytest.approx(expected, rel=0.06), model  # 2 digits shown
        rows = [line for line in memory_text(app) if line.split()[:1] in (["GRU"], ["RNN"])]
        assert len(rows) == 2 and all(len(line) > 12 + ex.steps for line in rows)


async def test_every_edit_and_step_updates_the_profile():
    app = GruTuiApp(Scenario(preset="sine", models=("rnn",)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        ex = app.explorer
        panel = app.screen.query_one(MemoryPanel)
        before = panel.profiles["rnn"].sensitivity.copy()
        await pilot.press("right", "plus", "plus")  # x_2 changes: the whole profile may
        after = panel.profiles["rnn"].sensitivity
        assert not np.array_equal(before, after)
        np.testing.assert_array_equal(after, gru_tui.memory_profile(ex.traces["rnn"]).sensitivity)
        assert "at t = 2" in "\n".join(memory_text(app))
        await pilot.press("i")  # one step more: a profile of T + 1 steps
        assert panel.profiles["rnn"].steps == ex.steps == 25


async def test_keep_gates_and_a_smaller_u_make_the_rnn_forget_and_not_the_gated_cells():
    """The README's demonstration: on `remember`, open the keep gates (k), scale U down (u):
    h_T's dependence on the cue at t = 1 vanishes for the RNN, not for the GRU and LSTM."""
    app = GruTuiApp(Scenario(preset="remember"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", "k", "u", "u", "u")
        values = at_cursor(app)
        assert app.explorer.t == 0 and app.explorer.scenario.recurrent_scale == 0.512
        assert values["RNN"] < 1e-15
        assert values["GRU"] > 1e-6 and values["LSTM"] > 1e-6
        profile = gru_tui.memory_profile(app.explorer.traces["rnn"])
        assert values["RNN"] == pytest.approx(10 ** profile.log10_sensitivity[0], rel=0.06)


async def test_a_large_profile_is_computed_in_a_worker_and_keys_go_on_working(monkeypatch):
    release = threading.Event()
    original = MemoryPanel._profile_in_worker

    def held(self, traces, revision):  # the worker waits until the test lets it go
        assert release.wait(60)
        original(self, traces, revision)

    monkeypatch.setattr(MemoryPanel, "_profile_in_worker", held)
    app = GruTuiApp(Scenario(preset="noise", steps=300, hidden=80))
    async with app.run_test(size=SIZE) as pilot:
        panel = app.screen.query_one(MemoryPanel)
        await pilot.press("m")
        assert "computing the memory profile of T = 300, H = 80" in "\n".join(memory_text(app))
        await pilot.press("right", "right")  # not held up by the profile
        assert app.explorer.t == 2 and "t = 3 / 300" in status_text(app)
        release.set()
        for _ in range(600):  # a bound on waiting, not a timed assertion
            if not panel.computing:
                break
            await pilot.pause(0.05)
        assert not panel.computing
        await pilot.pause()  # and for the panel to be laid out and drawn again
        for model, trace in app.explorer.traces.items():
            expected = gru_tui.memory_profile(trace).log10_sensitivity
            np.testing.assert_array_equal(panel.profiles[model].log10_sensitivity, expected)
        assert "at t = 3" in "\n".join(memory_text(app))


async def test_small_profiles_need_no_worker(monkeypatch):
    monkeypatch.setattr(MemoryPanel, "_profile_in_worker", None)  # would fail if called
    app = GruTuiApp(Scenario(preset="remember", steps=200))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", "plus", "end")
        panel = app.screen.query_one(MemoryPanel)
        assert not panel.computing and panel.profiles["gru"].steps == 200


@pytest.mark.parametrize(("log10", "text"), [(-3.6, "2.5e-04"), (0.0, "1.0e+00"),
                                             (-400.2, "6.3e-401"), (-math.inf, "0"),
                                             (math.log10(9.97), "1.0e+01")])
def test_values_are_written_exactly_beyond_float_range(log10, text):
    from gru_tui.render.format import scientific

    assert scientific(log10) == text


async def test_moving_the_cursor_reuses_the_profile_and_an_edit_renews_it(monkeypatch):
    from gru_tui.app.widgets import memory as widgets

    calls = []

    def counted(trace):
        calls.append(trace)
        return gru_tui.memory_profile(trace)

    monkeypatch.setattr(widgets, "memory_profile", counted)
    app = GruTuiApp(Scenario(preset="sine"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        assert len(calls) == 3  # GRU, LSTM, RNN
        await pilot.press("right", "right", "end", "home")
        assert len(calls) == 3 and "at t = 1" in "\n".join(memory_text(app))
        await pilot.press("plus")
        assert len(calls) == 6
        await pilot.press("m", "plus", "m")  # edits while hidden: profiled when shown again
        assert len(calls) == 9
