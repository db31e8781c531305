"""The app on a layer loaded with --weights (SPEC §4): one model, the file's weights, a reverse
layer's inputs in processing order, and every key answered without a crash."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file

import gru_tui
from gru_tui.app.app import GruTuiApp
from gru_tui.app.keys import KEYS
from gru_tui.io.weights import load_layer
from gru_tui.scenario import Scenario

SIZE = (120, 40)
SKIP = {"q", "ctrl+s", "enter", "ctrl+p"}  # quit, screenshots and prompts: tested elsewhere


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
    monkeypatch.chdir(tmp_path)  # S would save a session here (it refuses, for now)
    path = weights_file(tmp_path, kind)
    loaded = load_layer(path, layer)
    reset = "after" if kind == "gru" else "before"
    scenario = Scenario(models=(kind,), reset=reset, preset="sine", weights=loaded)
    app = GruTuiApp(scenario)
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
        messages = [str(n.message) for n in app._notifications]
        assert any("only a" in m for m in messages)
        assert any("cannot be saved yet" in m for m in messages)
        assert not list(tmp_path.glob("gru-tui-session-*"))
