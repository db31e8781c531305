"""The layout follows the terminal: a sweep of sizes from 200×60 down to 10×5 and back, keys
pressed at every size. ``run_test`` re-raises anything the app crashed with, so a sweep that
finishes is a sweep without a crash; at each size the classes, the notice and the screen are
checked too.

The screen is read from ``app.export_screenshot()`` as in test_app.py (the SVG's text spans
put back on a grid of cells).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from screen_reader import screen_lines, screen_text
from textual.widgets import Static

from gru_tui.app.app import GruTuiApp
from gru_tui.app.layout import MIN_HEIGHT, MIN_WIDTH, WIDE
from gru_tui.app.screens import WorkedScreen
from gru_tui.app.widgets import ModelPanel
from gru_tui.core.scenario import Scenario

DOWN = [(200, 60), (180, 50), (160, 48), (140, 40), (121, 40), (120, 40), (119, 40),
        (120, 16), (100, 30), (90, 40), (80, 24), (70, 20), (61, 17), (60, 16), (59, 16),
        (60, 15), (59, 15), (50, 30), (40, 12), (30, 10), (20, 8), (12, 6), (10, 5)]
UP = [(12, 6), (30, 10), (59, 16), (60, 16), (80, 24), (119, 40), (120, 40), (160, 48),
      (200, 60)]
SWEEP = DOWN + UP
KEYS_AT_EACH_SIZE = ("right", "plus")


def check_layout(app: GruTuiApp, width: int, height: int) -> None:
    main = app.main
    assert app.size == (width, height)
    small = width < MIN_WIDTH or height < MIN_HEIGHT
    assert main.has_class("too-small") == small, (width, height)
    notice = main.query_one("#too-small", Static)
    if small:
        assert notice.display and "larger" in str(notice.content)
        assert f"{MIN_WIDTH}×{MIN_HEIGHT}" in str(notice.content)
        assert f"this one is {width}×{height}" in str(notice.content)
        assert not main.query_one("#status").display
        return
    assert not notice.display
    assert not main.has_class("wide") or width >= WIDE, (width, height)
    assert main.mode in ("bars", "inline", "strips")
    text = screen_text(app)
    ex = app.explorer
    assert f"t = {ex.t + 1} / {ex.steps}" in text.splitlines()[0]  # the status bar
    assert "Inputs" in text and "GRU" in text


async def test_a_sweep_down_to_10x5_and_back_up():
    app = GruTuiApp()
    async with app.run_test(size=SWEEP[0]) as pilot:
        for width, height in SWEEP:
            await pilot.resize_terminal(width, height)
            await pilot.pause()  # and for on_resize to lay the panels out
            check_layout(app, width, height)
            ex = app.explorer
            t, unit, target, component = ex.t, ex.unit, ex.target, ex.component
            t = min(t + 1, ex.steps - 1)
            nudged = round((ex.xs[t] if target == "x" else ex.target_vector(target))[component]
                           + 0.1, 10)
            await pilot.press(*KEYS_AT_EACH_SIZE)  # keys work whatever the size
            assert ex.t == t and ex.target_vector(target)[component] == nudged
            if width % 2:  # now and then: the next unit, the next component, the GRU's reset
                await pilot.press("full_stop", "down", "b")
                assert ex.unit == (unit + 1) % 3
            check_layout(app, width, height)
        b_presses = sum(width % 2 for width, _ in SWEEP)
        assert app.explorer.scenario.reset == ("after" if b_presses % 2 else "before")
        # back at 200×60: every unit of every GRU vector has its row and value again
        panel = app.main.query_one("#panel-gru")
        values = [line for line in screen_lines(app, panel, content=True)
                  if re.search(r"\s[+-]?\d\.\d{4}$", line)]
        assert len(values) == 5 * 3, values


@pytest.mark.parametrize(("size", "small"), [((59, 16), True), ((60, 16), False),
                                             ((60, 15), True), ((200, 15), True),
                                             ((59, 60), True), ((10, 5), True)])
async def test_the_too_small_notice(size, small):
    app = GruTuiApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        check_layout(app, *size)
        text = screen_text(app)
        if small and size[0] >= 40:  # room for the whole sentence
            assert "Make the terminal larger" in text
            assert f"{size[0]}×{size[1]}" in text
            assert "t = 1 / 8" not in text
        elif not small:
            assert "larger" not in text and "t = 1 / 8" in text


async def test_growing_back_restores_the_panels():
    app = GruTuiApp()
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.resize_terminal(30, 10)
        await pilot.pause()  # and for on_resize to lay the panels out
        assert app.main.has_class("too-small")
        await pilot.resize_terminal(100, 60)
        await pilot.pause()  # and for on_resize to lay the panels out
        assert not app.main.has_class("too-small")
        text = screen_text(app)
        assert re.search(r"x_t\s+input\s+1\s", text) and "+0.5000" in text
        assert "t = 1 / 8" in text.splitlines()[0]


@pytest.mark.parametrize(("size", "hidden", "wide", "mode"), [
    ((140, 40), 8, False, "inline"), ((140, 80), 8, True, "bars"), ((120, 40), 4, True, "bars"),
    ((120, 40), 5, False, "inline"), ((200, 24), 4, True, "inline")])
async def test_stacking_wins_over_side_by_side_strips(size, hidden, wide, mode):
    """Side by side when every unit keeps its bar and value there; stacked when only
    stacking does (H = 8 LSTM bars need 66 rows side by side, and inline the units of a
    panel half the width would have no room for their bars)."""
    scenario = Scenario(preset="sine", hidden=hidden)
    app = GruTuiApp(scenario)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.main.has_class("wide") == wide and app.main.mode == mode
        gru, lstm = (app.main.query_one(f"#panel-{m}", ModelPanel) for m in ("gru", "lstm"))
        assert (gru.region.y == lstm.region.y) == wide


async def test_wide_from_120_columns():
    app = GruTuiApp()
    async with app.run_test(size=(119, 50)) as pilot:
        assert not app.main.has_class("wide")
        await pilot.resize_terminal(120, 50)
        await pilot.pause()  # and for on_resize to lay the panels out
        assert app.main.has_class("wide")
        gru, lstm = (app.main.query_one(f"#panel-{m}", ModelPanel) for m in ("gru", "lstm"))
        assert gru.region.y == lstm.region.y and gru.region.x < lstm.region.x  # side by side
        await pilot.resize_terminal(119, 50)
        await pilot.pause()  # and for on_resize to lay the panels out
        assert not app.main.has_class("wide")
        assert gru.region.x == lstm.region.x and gru.region.y < lstm.region.y  # stacked


@pytest.mark.parametrize("size", [(200, 60), (120, 40), (80, 24), (60, 16)])
async def test_64_hidden_units_use_heat_strips(size):
    app = GruTuiApp(Scenario(hidden=64))
    async with app.run_test(size=size) as pilot:
        assert app.explorer.hidden_size == 64
        assert app.main.mode == "strips"
        await pilot.press("comma")  # the last unit, 64: the strip scrolls to it
        assert app.explorer.unit == 63
        if size[1] >= 24:  # (at 60×16 the GRU's h_t strip is below the fold)
            h = app.explorer.traces["gru"]["h"][0][63]
            assert re.search(rf"64:\s*{h:+.3f}", screen_text(app)), f"{h:+.3f}"
        await pilot.press("right", "w")
        assert isinstance(app.screen, WorkedScreen)
        assert "unit 64 of 64" in screen_text(app)


async def test_a_sweep_with_64_units_and_every_model():
    app = GruTuiApp(Scenario(hidden=64, models=("gru", "lstm", "rnn")))
    async with app.run_test(size=(200, 60)) as pilot:
        for width, height in SWEEP[::3]:
            await pilot.resize_terminal(width, height)
            await pilot.pause()  # and for on_resize to lay the panels out
            await pilot.press("right", "x")
            check_layout(app, width, height)
            if not app.main.has_class("too-small"):
                assert app.main.mode == "strips"
        assert np.isfinite(app.explorer.traces["lstm"]["h"]).all()
