"""The app on a layer loaded with --weights (SPEC §4): one model, the file's weights, a reverse
layer's inputs in processing order, and every key answered without a crash."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from screen_reader import screen_text
from textual.widgets import Input, Label, OptionList

import gru_tui
from gru_tui.app.app import GruTuiApp
from gru_tui.app.keys import KEYS
from gru_tui.app.screens import LoadScreen
from gru_tui.app.widgets import StatusBar
from gru_tui.core.explorer import Explorer
from gru_tui.core.scenario import Scenario
from gru_tui.core.session import load_session
from gru_tui.io.weights import load_layer

SIZE = (120, 40)
SKIP = {"q", "ctrl+s", "enter", "ctrl+p"}  # quit, screenshots and prompts: tested elsewhere


def status_text(app: GruTuiApp) -> str:
    """The status line as the app draws it."""
    return screen_text(app, app.screen.query_one(StatusBar))


def weights_file(tmp_path, kind, H=3, D=2):
    rng = np.random.default_rng(1)
    g = {"gru": 3, "lstm": 4, "rnn": 1}[kind]
    tensors = {}
    for suffix in ("", "_reverse"):
        tensors[f"net.rnn.weight_ih_l0{suffix}"] = rng.normal(size=(g * H, D)).astype("f4")
        tensors[f"net.rnn.weight_hh_l0{suffix}"] = rng.normal(size=(g * H, H)).astype("f4")
    path = tmp_path / f"{kind}.safetensors"
    save_file(tensors, str(path))
    return path


@pytest.mark.parametrize(("kind", "layer"), [("gru", "net.rnn.l0_reverse"),
                                             ("lstm", "net.rnn.l0"),
                                             ("rnn", "net.rnn.l0_reverse")])
async def test_app_runs_a_loaded_layer(tmp_path, monkeypatch, kind, layer):
    monkeypatch.chdir(tmp_path)  # S saves a session here
    path = weights_file(tmp_path, kind)
    loaded = load_layer(path, layer)
    reset = "after" if kind == "gru" else "before"
    scenario = Scenario(models=(kind,), reset=reset, preset="sine", weights=(loaded,))
    app = GruTuiApp(scenario)
    notices: list[str] = []  # every notice, including those timed out by the end
    notify = app.notify

    def recording(message, **options):
        notices.append(str(message))
        return notify(message, **options)

    app.notify = recording
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ex = app.explorer
        assert ex.visible == (kind,) and list(ex.traces) == [kind]
        xs = scenario.inputs_array()
        expected = xs[::-1] if loaded.reverse else xs
        np.testing.assert_array_equal(ex.scenario.inputs, expected)
        reference = gru_tui.load(path, layer=layer).run(expected)
        np.testing.assert_array_equal(ex.traces[kind]["h"], reference["h"])
        for key in KEYS:
            first = key.keys.split(",")[0]
            if first in SKIP:
                continue
            await pilot.press(first)
            await pilot.pause()
            await pilot.press("escape")
        assert ex.visible == (kind,)
        assert any("hold no" in m for m in notices)
        # S saved a session that names the file and the layer, and reopens to the same run
        [saved] = tmp_path.glob("gru-tui-session-*.json")
        data = json.loads(saved.read_text())
        assert data["weights"] == [{"file": str(path.resolve()), "layer": layer}]
        assert "seed" not in data
        given = ex.scenario.inputs[::-1] if loaded.reverse else ex.scenario.inputs
        np.testing.assert_array_equal(data["inputs"], given)  # not in processing order
        session = load_session(saved)
        again = Explorer(session.scenario, visible=session.scenario.models)
        np.testing.assert_array_equal(again.traces[kind]["h"], ex.traces[kind]["h"])


async def test_l_loads_a_file_and_its_chosen_layer_and_a_bad_path_changes_nothing(tmp_path):
    path = weights_file(tmp_path, "lstm")  # two layers: net.rnn.l0 and its reverse
    app = GruTuiApp()
    async with app.run_test(size=SIZE) as pilot:
        before = app.explorer
        await pilot.press("l", "tab")
        await pilot.press(*str(tmp_path / "missing.npz"), "enter")
        await pilot.pause()
        assert isinstance(app.screen, LoadScreen)  # still open, saying why
        error = str(app.screen.query_one("#load-error", Label).content)
        assert "missing.npz" in error and "no such file" in error
        assert app.explorer is before and before.visible == ("gru", "lstm")
        field = app.screen.query_one("#load-path", Input)
        field.value = str(path)
        await pilot.press("enter")
        await pilot.pause()
        choices = app.screen.query_one("#load-choices", OptionList)
        assert choices.option_count == 2 and choices.highlighted == 0  # the forward one
        await pilot.press("down", "enter")
        await pilot.pause()
        ex = app.explorer
        assert not isinstance(app.screen, LoadScreen)
        assert ex.visible == ("lstm",) and ex.input_size == 2 and ex.hidden_size == 3
        assert "lstm.safetensors: net.rnn.l0_reverse" in status_text(app)
        np.testing.assert_array_equal(ex.scenario.h0, [0.2, 0.4, -0.1])  # H = 3: they stay
        expected = gru_tui.load(path, layer="net.rnn.l0_reverse").run(ex.xs, ex.scenario.h0,
                                                                      ex.scenario.c0)
        np.testing.assert_array_equal(ex.traces["lstm"]["c"], expected["c"])
        await pilot.press("right", "plus")  # and it edits like any run
        assert ex.xs[1, 0] == pytest.approx(expected["x"][1, 0] + 0.1)


@pytest.mark.parametrize(("fixture", "reset"), [("keras_gru_before.keras", "before"),
                                                ("keras_gru_after.weights.h5", "after")])
async def test_l_loads_a_keras_file_with_its_reset_placement(fixture, reset):
    """A file written by Keras itself: the app runs it as Keras does, and says how."""
    path = Path(__file__).parents[1] / "fixtures" / fixture
    app = GruTuiApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        app.screen.query_one("#load-path", Input).value = str(path)
        app.screen.query_one("#load-path", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        ex = app.explorer
        assert not isinstance(app.screen, LoadScreen) and ex.visible == ("gru",)
        assert f"GRU reset {reset}" in status_text(app)
        # the cell the app runs reproduces what Keras computed on its own inputs
        expected = np.load(path.with_name(fixture.split(".")[0] + ".expected.npz"))
        [layer] = [key for key in expected.files if key != "x"]
        h = ex.traces["gru"].cell.run(expected["x"])["h"]
        np.testing.assert_allclose(h, expected[layer], atol=1e-5)
