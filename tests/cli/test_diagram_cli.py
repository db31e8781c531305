"""`gru-tui diagram`: the run options of `step`, --at and --unit; plain in a pipe, coloured
in a terminal; bad steps and units refused with one line."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gru_tui

ESCAPE = re.compile(r"\x1b\[")


def test_the_slides_worked_example_as_a_figure(cli):
    """SPEC §2 and the seed slide "LSTM Calculation": f 0.65, i 0.53, C̃ 0.32, C_t 0.56."""
    out = cli("diagram", "--example", "slides", "-m", "lstm", "--at", "1").stdout
    for label in ("f_t 0.65", "i_t 0.53", "C̃_t +0.32", "C_t +0.56", "C_t-1 +0.60"):
        assert label in out, label
    assert out.startswith(" LSTM · t = 1 / 8 · unit 1 of 3") and not ESCAPE.search(out)


def test_default_models_gru_then_lstm_each_within_80_columns(cli):
    out = cli("diagram").stdout
    assert out.index(" GRU · t = 1") < out.index(" LSTM · t = 1")
    assert max(len(line) for line in out.splitlines()) <= 80
    assert out.endswith("\n")


def test_step_unit_and_settings_reach_the_figure(cli):
    xs = "0.1,0.2,0.3;-0.4,0.5,0.6;0.7,-0.8,0.9"
    out = cli("diagram", "-m", "gru", "--inputs", xs, "--gru-reset", "after", "--z-weights",
              "new", "--hidden", "4", "--at", "3", "--unit", "2").stdout
    assert "GRU · t = 3 / 3 · unit 2 of 4 · reset after · z weights new" in out
    cell = gru_tui.random_cell("gru", 3, 4, seed=0, reset="after", z_weights="new")
    h = cell.run(np.array([[float(v) for v in row.split(",")] for row in xs.split(";")]))["h"]
    assert f"h_t {h[2, 1]:+.2f}" in out  # the written-out equations are tests/render's job


def test_coloured_in_a_terminal_plain_with_no_color(cli):
    coloured = cli("diagram", "-m", "lstm", env={"FORCE_COLOR": "1"}).stdout
    assert ESCAPE.search(coloured)
    plain = cli("diagram", "-m", "lstm", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert not re.search(r"\x1b\[[0-9;]*3[0-9;]*m|38;", plain)  # no colour codes
    assert "f_t" in plain


@pytest.mark.parametrize(("args", "needles"), [
    (["--at", "0"], ["--at", "1 to 8", "0"]),
    (["--at", "9"], ["--at", "1 to 8", "9"]),
    (["--at", "x"], ["--at", "1 to 8", "x"]),
    (["--unit", "4"], ["--unit", "1 to 3", "4"]),
    (["--unit", "-1", "--hidden", "5"], ["--unit", "1 to 5"]),
    (["--preset", "sine", "--steps", "30", "--at", "31"], ["--at", "1 to 30"]),
])
def test_bad_steps_and_units_get_one_line(cli, args, needles):
    cli.assert_bad(cli("diagram", *args), *needles)


def test_bad_run_options_as_step_refuses_them(cli):
    cli.assert_bad(cli("diagram", "--hidden", "0"), "--hidden", "0")
