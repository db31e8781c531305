"""The app on a layer loaded with --weights (SPEC §4): one model, the file's weights, a reverse
layer's inputs in processing order, and every key answered without a crash."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from screen_reader import screen_text
from test_app import make_app
from textual.widgets import Input, Label, OptionList

import gru_tui
from gru_tui.app.app import GruTuiApp
from gru_tui.app.keys import MAIN, keys_of
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
    app = make_app(scenario)  # every notice kept, however long the keys take
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ex = app.explorer
        assert ex.visible == (kind,) and list(ex.traces) == [kind]
        xs = scenario.inputs_array()
        expected = xs[::-1] if loaded.reverse else xs
        np.testing.assert_array_equal(ex.scenario.inputs, expected)
        reference = gru_tui.load(path, layer=layer).run(expected)
        np.testing.assert_array_equal(ex.traces[kind]["h"], reference["h"])
        for key in keys_of(MAIN):
            first = key.keys.split(",")[0]
            if first in SKIP:
                continue
            await pilot.press(first)
            await pilot.pause()
            await pilot.press("escape")
        assert ex.visible == (kind,)
        assert any("hold no" in message for message, _ in app.notices)
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


async def test_l_loads_keras_hard_sigmoid_gates_and_says_so():
    """A file Keras 3 wrote with hard_sigmoid gates: the status line names the function, the
    worked example defines it and computes every gate with it, and the numbers are Keras'."""
    path = Path(__file__).parents[1] / "fixtures" / "keras3_hard_sigmoid.keras"
    app = GruTuiApp()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.press("l")
        app.screen.query_one("#load-path", Input).value = str(path)
        app.screen.query_one("#load-path", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")  # the first layer, the GRU
        await pilot.pause()
        ex = app.explorer
        assert ex.visible == ("gru",)
        assert " │ Keras 3 hard σ │ " in status_text(app)
        expected = np.load(path.with_name("keras3_hard_sigmoid.expected.npz"))
        np.testing.assert_allclose(ex.traces["gru"].cell.run(expected["x"])["h"],
                                   expected["gru"], atol=1e-5)
        await pilot.press("right", "w")
        text = screen_text(app, app.screen.query_one("#worked-gru"))
        assert "hard σ(a) = relu6(a + 3) / 6   (Keras 3's hard_sigmoid)" in text
        trace, t, u = ex.traces["gru"], ex.t, ex.unit
        for key in ("reset", "update"):
            pre, value = trace[key + "_pre"][t][u], trace[key][t][u]
            assert f"hard σ({pre:.4f}) = {value:.4f}" in text
            assert value == pytest.approx(min(max(pre + 3, 0), 6) / 6)  # Keras 3's form
        assert "σ(W_" not in text.replace("hard σ(W_", "")  # no plain σ left
