"""The training lab's screen (`gru-tui lab`), driven key by key with a Pilot: every key of the
lab in the key registry has a check here (LAB_CHECKS), run on a real lab training in its
worker thread; then the NaN notice, the save at the end, and what the screen shows.

Nothing waits for a fixed time: `until` polls a condition with a bound on the tries.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from screen_reader import screen_lines, screen_text
from test_app import make_app, until  # the app with its notices recorded; polling
from textual.command import CommandPalette

from gru_tui.app.app import GruTuiApp
from gru_tui.app.keys import LAB, MAIN, keys_of
from gru_tui.app.screens import HelpScreen, LabScreen, MainScreen
from gru_tui.core.lab import Lab
from gru_tui.engine.gates import from_engine_order

SIZE = (100, 40)
TINY = {"hidden": 3, "batch": 4, "length": 6, "eval_every": 5, "eval_batch": 8}


def tiny_lab(iterations: int = 10**6, **options) -> Lab:
    """Long enough that it trains until a test pauses it."""
    return Lab("hold", **{**TINY, "iterations": iterations, **options})


def trained_lab() -> Lab:
    """Done before the app starts: nothing trains while the keys are checked."""
    lab = tiny_lab(iterations=20)
    list(lab.run())
    return lab


def lab_screen(app) -> LabScreen:
    screen = app.screen
    assert isinstance(screen, LabScreen), screen
    return screen


def title(app) -> str:
    return screen_text(app, app.screen.query_one("#lab-title"))


async def paused(pilot) -> LabScreen:
    """Press space once the lab has trained a little; returns when the worker has ended."""
    screen = lab_screen(pilot.app)
    await until(pilot, lambda: screen.lab.iteration >= 3)
    await pilot.press("space")
    await until(pilot, lambda: screen.worker is None)
    return screen


LAB_CHECKS = {}
TRAINING = set()  # the checks that need the lab training; the others get a trained_lab()


def checks(action: str, training: bool = False):
    def register(function):
        LAB_CHECKS[action] = function
        if training:
            TRAINING.add(action)
        return function

    return register


@checks("screen.toggle_training", training=True)
async def _pause_and_resume(pilot, press):
    screen = lab_screen(pilot.app)
    await until(pilot, lambda: screen.lab.iteration >= 3 and "▶ training" in title(pilot.app))
    await press()
    await until(pilot, lambda: screen.worker is None)
    stopped_at = screen.lab.iteration
    for _ in range(5):
        await pilot.pause()
    assert screen.lab.iteration == stopped_at  # the worker has ended: nothing trains
    assert f"paused {stopped_at} / 1000000" in title(pilot.app)
    await press()
    await until(pilot, lambda: screen.lab.iteration > stopped_at)
    assert "▶ training" in title(pilot.app)


@checks("screen.restart", training=True)
async def _restart(pilot, press):
    screen = await paused(pilot)
    await press()
    await until(pilot, lambda: screen.running and screen.lab.iteration >= 1)
    await pilot.press("space")
    await until(pilot, lambda: screen.worker is None)
    again = [r["loss"] for r in screen.lab.history("gru")]
    fresh = tiny_lab()
    for _ in range(min(len(again), 30)):
        fresh.step()
    assert again[:30] == [r["loss"] for r in fresh.history("gru")]  # the same seed, the same
    assert screen.curves["gru"].iterations == list(range(1, screen.lab.iteration + 1))


@checks("screen.save", training=True)
async def _save(pilot, press):
    screen = await paused(pilot)
    await press()
    from safetensors.numpy import load_file

    [folder] = list(Path.cwd().glob("gru-tui-lab-hold-*"))
    assert sorted(p.name for p in folder.iterdir()) == ["eval.npz", "gru.safetensors",
                                                        "lstm.safetensors", "rnn.safetensors"]
    gru = load_file(folder / "gru.safetensors")
    cell = screen.lab.cell("gru")
    np.testing.assert_array_equal(gru["weight_hh_l0"], from_engine_order("gru", "pytorch",
                                                                         cell.U))
    assert ("Saved rnn.safetensors, gru.safetensors, lstm.safetensors, eval.npz in "
            f"{folder.resolve()}", "information") in pilot.app.notices


@checks("screen.explore", training=True)
async def _explore(pilot, press):
    screen = lab_screen(pilot.app)
    lab = screen.lab
    await until(pilot, lambda: lab.iteration >= 3)
    await press()
    await until(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
    assert screen.worker is None and not screen.running  # training stopped first
    ex = pilot.app.explorer
    probe = lab.probe()
    np.testing.assert_array_equal(ex.scenario.inputs, probe.x)
    assert ex.visible == ("gru", "lstm", "rnn") and ex.t == lab.task.steps - 1
    for model in lab.models:  # the explorer runs the trained models: their readouts agree
        W_out, b_out = lab.readout(model)
        np.testing.assert_allclose(ex.traces[model]["h"] @ W_out.T + b_out,
                                   lab.predict(model, probe.x[None])[0], atol=1e-6)
    text = screen_text(pilot.app)
    assert f"gru trained on hold, iteration {lab.iteration}" in text
    assert f"t = {lab.task.steps} / {lab.task.steps}" in text


@checks("screen.probe_step(-1)")
async def _probe_back(pilot, press):
    screen = lab_screen(pilot.app)
    await until(pilot, lambda: screen.probe is not None)
    await press()
    assert screen.t == 4 and screen.probe.explorers[0].t == 4
    await until(pilot, lambda: "GRU  t = 5 / 6" in screen_text(pilot.app))
    for _ in range(8):
        await press()
    assert screen.t == 0  # clamped at the first step


@checks("screen.probe_step(1)")
async def _probe_forward(pilot, press):
    screen = lab_screen(pilot.app)
    await pilot.press("left", "left")
    await press()
    assert screen.t == 4
    await press()
    await press()
    assert screen.t == 5  # clamped at the last step
    await until(pilot, lambda: "LSTM  t = 6 / 6" in screen_text(pilot.app))


@checks("screen.scroll_probe(1)")
async def _scroll_down(pilot, press):
    probe = pilot.app.screen.query_one("#lab-probe")
    await until(pilot, lambda: probe.max_scroll_y >= 3)
    await press()
    assert probe.scroll_y == 3


@checks("screen.scroll_probe(-1)")
async def _scroll_up(pilot, press):
    probe = pilot.app.screen.query_one("#lab-probe")
    await until(pilot, lambda: probe.max_scroll_y >= 3)
    await pilot.press("down")
    assert probe.scroll_y == 3
    await press()
    assert probe.scroll_y == 0


@checks("help")
async def _help(pilot, press):
    """The help over the lab lists the lab's keys, and not the explorer's."""
    await press()
    assert isinstance(pilot.app.screen, HelpScreen)
    text = "\n".join(screen_lines(pilot.app, pilot.app.screen.query_one("#info-body")))
    assert "Training lab" in text
    for key in keys_of(LAB):
        assert re.search(rf"^\s*{re.escape(key.shown)}\s+{re.escape(key.description)}\s*$",
                         text, re.MULTILINE), key
    assert "Step forward" not in text and "Play / pause" not in text
    await pilot.press("escape")
    assert isinstance(pilot.app.screen, LabScreen)


async def test_the_help_over_the_explorer_leaves_the_lab_out():
    app = GruTuiApp()
    async with app.run_test(size=(120, 100)) as pilot:
        await pilot.press("question_mark")
        text = screen_text(app)
        assert "Step forward" in text
        assert "Training lab" not in text and "Pause / resume training" not in text


@checks("quit")
async def _quit(pilot, press):
    await press()
    assert not pilot.app.is_running


@checks("screenshot")
async def _screenshot(pilot, press):
    await press()
    assert len(list(Path.cwd().glob("*.svg"))) == 1


@checks("command_palette")
async def _palette(pilot, press):
    screen = lab_screen(pilot.app)
    titles = [command.title for command in pilot.app.get_system_commands(screen)]
    for key in keys_of(LAB):
        if not key.builtin:
            assert any(key.description in title for title in titles), key.description
    assert not any("Step forward" in title for title in titles)  # the explorer's keys
    await press()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*"probe back")
    await until(pilot, lambda: "Probe sequence: step back  (←)" in screen_text(pilot.app))
    await pilot.press("enter")
    await until(pilot, lambda: screen.t == 4)
    assert pilot.app.screen is screen


LAB_PRESSES = [pytest.param(name, key.action, id=f"{name}:{key.action}")
               for key in keys_of(LAB) for name in key.keys.split(",")]


def test_every_lab_key_has_a_check():
    assert set(LAB_CHECKS) == {key.action for key in keys_of(LAB)}
    # the lab binds its own keys and the app's that make sense there, and nothing else
    assert {key.action for key in keys_of(LAB) if MAIN in key.screens} == {
        "help", "quit", "screenshot", "command_palette"}


@pytest.mark.parametrize(("key", "action"), LAB_PRESSES)
async def test_every_lab_key_does_its_job(key, action, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(lab=tiny_lab() if action in TRAINING else trained_lab())
    async with app.run_test(size=SIZE) as pilot:

        async def press() -> None:
            await pilot.press(key)

        await LAB_CHECKS[action](pilot, press)


async def test_the_explorers_keys_do_not_reach_the_hidden_main_screen():
    app = make_app(lab=tiny_lab())
    async with app.run_test(size=SIZE) as pilot:
        await paused(pilot)
        before = (app.explorer.t, app.explorer.scenario.seed, app.explorer.visible)
        await pilot.press("s", "1", "i", "x", "m", "w", "d")
        assert (app.explorer.t, app.explorer.scenario.seed, app.explorer.visible) == before
        assert isinstance(app.screen, LabScreen)


# -- what the lab shows ------------------------------------------------------------------------


async def test_it_trains_to_the_end_and_shows_the_table():
    lab = tiny_lab(iterations=40)
    app = make_app(lab=lab)
    async with app.run_test(size=SIZE) as pilot:
        screen = lab_screen(app)
        await until(pilot, lambda: lab.done and not screen.running)
        await until(pilot, lambda: "done 40 / 40" in title(app))
        table = screen_text(app, screen.query_one("#lab-table"))
        for model, H in (("RNN", 3), ("GRU", 3), ("LSTM", 3)):
            progress = lab.progress(model.lower())
            assert progress["eval_loss"] >= 0.01  # four decimals (below: two digits, 1.2e-03)
            row = re.search(rf"━.━ {model}\s+(\d+)\s+(\S+)\s+(\d+)\s+\d+\s+\S+\s+(\S+)\s+(\S+)",
                            table)
            assert row, table
            assert row.groups() == (str(H), f"{progress['params']:,}", "40",
                                    f"{progress['loss']:.4f}", f"{progress['eval_loss']:.4f}")
        assert table.count("done") == 3
        assert [len(c.iterations) for c in screen.curves.values()] == [40, 40, 40]
        assert [c.eval_iterations for c in screen.curves.values()] == [list(range(5, 41, 5))] * 3


async def test_a_model_that_goes_nan_stops_with_a_notice_and_the_others_go_on():
    lab = tiny_lab(iterations=30)
    lab._models["rnn"].network.params[0] = np.nan  # its first loss is NaN
    app = make_app(lab=lab)
    async with app.run_test(size=SIZE) as pilot:
        screen = lab_screen(app)
        await until(pilot, lambda: lab.done and not screen.running)
        await until(pilot, lambda: "stopped" in screen_text(app, screen.query_one("#lab-table")))
        notice = "rnn stopped at iteration 1: its loss became NaN (try a smaller --lr)"
        assert (notice, "warning") in app.notices
        assert notice in screen_text(app, screen.query_one("#lab-notices"))
        assert lab.progress("gru")["iteration"] == lab.progress("lstm")["iteration"] == 30


async def test_with_save_to_it_saves_when_training_ends(tmp_path):
    lab = tiny_lab(iterations=15, save_to=tmp_path / "run")
    app = make_app(lab=lab)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: (tmp_path / "run" / "eval.npz").exists())
        await until(pilot, lambda: any(m.startswith("Saved") for m, _ in app.notices))
        assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
            "eval.npz", "gru.safetensors", "lstm.safetensors", "rnn.safetensors"]


async def test_match_params_opens_the_gru_alone_in_the_explorer():
    lab = tiny_lab(match_params=True)
    app = make_app(lab=lab)
    async with app.run_test(size=SIZE) as pilot:
        await paused(pilot)
        assert len(set(lab.hidden_sizes.values())) == 3  # three hidden sizes, three panels
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert app.explorer.visible == ("gru",)
        assert any("left out" in message for message, _ in app.notices)
