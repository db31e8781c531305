"""--keep-gates and --u-scale: the memory lesson's settings (k, u / U in the app) from the
command line, for `step` and for every student's app (`serve … -- --keep-gates`)."""

from __future__ import annotations

import numpy as np
import pytest

import gru_tui


def with_offset(cell, gate: str, offset: float):
    """The cell with `offset` added to one gate's input bias, written out here."""
    b_i = cell.b_i.copy()
    k = cell.GATES.index(gate)
    H = cell.hidden_size
    b_i[k * H : (k + 1) * H] += offset
    return cell.replace(b_i=b_i)


@pytest.mark.parametrize(("z_weights", "z_offset"), [("old", 2.0), ("new", -2.0)])
def test_keep_gates_adds_two_to_the_keep_biases(cli, z_weights, z_offset):
    records = cli.records("step", "--json", "-m", "gru,lstm", "-p", "remember", "-n", "12",
                          "--keep-gates", "--z-weights", z_weights)
    xs = np.array([r["x"] for r in records if r["model"] == "gru"])
    gru = with_offset(gru_tui.random_cell("gru", 3, 3, seed=0, z_weights=z_weights), "z",
                      z_offset)
    lstm = with_offset(gru_tui.random_cell("lstm", 3, 3, seed=0), "f", 2.0)
    for model, cell in (("gru", gru), ("lstm", lstm)):
        mine = [r["h"] for r in records if r["model"] == model]
        assert mine == cell.run(xs)["h"].tolist()


def test_u_scale_multiplies_every_recurrent_matrix(cli):
    records = cli.records("step", "--json", "-m", "rnn,lstm", "-p", "sine", "--u-scale", "0.5")
    xs = np.array([r["x"] for r in records if r["model"] == "rnn"])
    for model in ("rnn", "lstm"):
        cell = gru_tui.random_cell(model, 3, 3, seed=0)
        expected = cell.replace(U=cell.U * 0.5).run(xs)["h"]
        assert [r["h"] for r in records if r["model"] == model] == expected.tolist()


def test_together_the_rnn_forgets_the_cue_and_the_gated_cells_keep_it(cli):
    records = cli.records("step", "--json", "--gradients", "-m", "rnn,gru,lstm", "-p",
                          "remember", "--keep-gates", "--u-scale", "0.5")
    first = {r["model"]: r["sensitivity"] for r in records if r["t"] == 1}
    assert first["rnn"] < 1e-15 < 1e-6 < min(first["gru"], first["lstm"])


def test_the_app_takes_them_too(cli):
    done = cli("--keep-gates", "--u-scale", "0.8", "--check")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    text = cli("--keep-gates", "--u-scale", "0.8", "-m", "gru", "-n", "1").stdout  # a pipe
    assert text.count("t = 1 / ") == 1


@pytest.mark.parametrize(("args", "needles"), [
    (["--u-scale", "0"], ["--u-scale must be a positive number, got 0.0"]),
    (["--u-scale", "-1"], ["--u-scale must be a positive number, got -1.0"]),
    (["--u-scale", "nan"], ["--u-scale must be a positive number, got nan"]),
    (["--u-scale", "inf"], ["--u-scale must be a positive number, got inf"]),
])
def test_bad_scales_get_one_line(cli, args, needles):
    cli.assert_bad(cli("step", "--json", *args), *needles)


def test_a_session_already_holds_them(cli, tmp_path):
    from gru_tui.core.explorer import Explorer
    from gru_tui.core.session import save_session

    explorer = Explorer()
    explorer.toggle_keep_gates()
    explorer.set_recurrent_scale(0.64)
    path = save_session(explorer, tmp_path / "s.json")
    cli.assert_bad(cli("step", "--session", str(path), "--keep-gates"), "drop --keep-gates")
    cli.assert_bad(cli("step", "--session", str(path), "--u-scale", "2"), "drop --u-scale")
    records = cli.records("step", "--json", "--session", str(path))
    assert [r["h"] for r in records if r["model"] == "gru"] == \
        explorer.traces["gru"]["h"].tolist()
