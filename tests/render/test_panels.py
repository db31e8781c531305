"""What the panels say: the status line within its width, the scale legend, and one scale
per kind of quantity for every panel."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from gru_tui.core.examples import example_layers
from gru_tui.core.explorer import Explorer
from gru_tui.core.scenario import Scenario
from gru_tui.io.weights import load_layer
from gru_tui.render.panels import scale_legend, shown_limits, status_line

FIXTURES = Path(__file__).parents[1] / "fixtures"


def loaded(path: Path, layer: str | int | None = None) -> Explorer:
    weights = load_layer(path, layer)
    return Explorer(Scenario(models=(weights.kind,), reset=weights.reset, preset="sine",
                             weights=(weights,)))


@pytest.mark.parametrize("width", [60, 80, 100])
def test_the_status_line_fits_and_keeps_the_layer_name(width):
    """After `o` the offsets and U scale; with a Keras stack's layer loaded its name: at 80
    columns the line fits, the least important parts going first, never the layer's name."""
    ex = loaded(FIXTURES / "keras_stack.keras", "back_lstm")
    ex.set_bias_offset("lstm", "f", 1.0)
    ex.set_recurrent_scale(0.512)
    line = status_line(ex, "2/s", width=width)
    assert line.cell_len <= width, line.plain
    assert "keras_stack.keras: back_lstm" in line.plain
    assert line.plain.startswith(f" t = 1 / {ex.steps} ")
    if width >= 80:
        assert "U×0.512" in line.plain and "▶ 2/s" in line.plain
        assert "bias" in line.plain  # listed, or counted
    wide = status_line(ex, "2/s", width=200).plain
    assert "bias lstm.f+1" in wide and "float64" in wide


def test_a_long_source_is_cut_at_its_front():
    ex = loaded(FIXTURES / "keras_stack.keras", "back_lstm")
    layer = dataclasses.replace(ex.scenario.weights[0], name="encoder/" * 8 + "back_lstm")
    ex = Explorer(dataclasses.replace(ex.scenario, weights=(layer,)))
    line = status_line(ex, width=60)
    assert line.cell_len <= 60 and line.plain.endswith("encoder/back_lstm")
    assert "…" in line.plain and "float64" not in line.plain


def test_the_gru_conventions_shorten_before_they_go():
    ex = Explorer(Scenario(bias_offsets=(("gru", "z", 2.0), ("lstm", "f", 2.0))))
    full = status_line(ex).plain
    assert "GRU reset before · z weights old" in full and "float64" in full
    narrow = status_line(ex, width=70).plain
    assert "float64" not in narrow and "random, seed 0" in narrow


def test_one_scale_per_kind_across_the_run():
    """--example slides: C_0 = 0.6 and C_t−1 are on one scale (the cell state's, which its
    run takes past 1), C̃_t on the same; inputs and hidden states on another; gates 0..1."""
    layers = example_layers("slides")
    ex = Explorer(Scenario(weights=layers, example="slides"))
    limits = shown_limits(ex)
    c = np.concatenate([ex.traces["lstm"][key].ravel() for key in ("c_prev", "c", "candidate")])
    signed = np.concatenate([ex.traces[m][k].ravel() for m in ("gru", "lstm")
                             for k in ("x", "h_prev", "h")] + [ex.traces["gru"]["candidate"]
                                                                .ravel()])
    assert limits["gate"] == 1
    assert limits["state"] >= np.abs(c).max() and limits["state"] in (1, 2, 5, 10)
    assert limits["signed"] >= np.abs(signed).max() and limits["signed"] in (1, 2, 5, 10)
    assert scale_legend(limits, ex.visible) == (f"scale: gates 0…1 · x, h, Ĥ ±{limits['signed']:g}"
                                                f" · C, C̃ ±{limits['state']:g}")
