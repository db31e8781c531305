"""`gru-tui params` (SPEC §1): the slides' parameter formula next to what frameworks allocate."""

from __future__ import annotations

import json

import pytest

GATES = {"gru": 3, "lstm": 4, "rnn": 1}


def slides(g: int, D: int, H: int) -> int:
    """The seed slides: g·(D·H + H·H + H)."""
    return g * (D * H + H * H + H)


def pytorch(g: int, D: int, H: int) -> int:
    """PyTorch (two bias vectors per gate): g·(D·H + H·H + 2H)."""
    return g * (D * H + H * H + 2 * H)


SIZES = [(3, 3), (5, 7), (1, 1), (300, 1024)]


@pytest.fixture(scope="module")
def runs(cli):
    jobs = {}
    for D, H in SIZES:
        jobs[("json", D, H)] = (
            ["params", "--input-size", str(D), "--hidden", str(H), "--json"], {})
        jobs[("table", D, H)] = (
            ["params", "-D", str(D), "-H", str(H)], {"env": {"COLUMNS": "120"}})
    return cli.many(jobs)


@pytest.mark.parametrize(("D", "H"), SIZES)
def test_json_counts(runs, D, H):
    result = runs[("json", D, H)]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1, "one JSON object"
    data = json.loads(result.stdout)
    assert data["input_size"] == D
    assert data["hidden"] == H
    for model, g in GATES.items():
        assert data["counts"][model]["slides"] == slides(g, D, H), model
        assert data["counts"][model]["pytorch"] == pytorch(g, D, H), model
    assert data["gru_lstm_ratio"]["slides"] == pytest.approx(3 / 4)


@pytest.mark.parametrize(("D", "H"), SIZES)
def test_table(runs, D, H):
    result = runs[("table", D, H)]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "\x1b" not in result.stdout
    text = result.stdout
    for title in ("GRU", "LSTM", "RNN"):
        assert title in text
    for g in GATES.values():
        assert f"{slides(g, D, H):,}" in text, (g, slides(g, D, H))
        assert f"{pytorch(g, D, H):,}" in text, (g, pytorch(g, D, H))
    assert "0.750" in text  # GRU / LSTM by the slides' formula


def test_defaults_are_the_example_sizes(cli):
    default = json.loads(cli("params", "--json").stdout)
    assert (default["input_size"], default["hidden"]) == (3, 3)
    assert default["counts"]["gru"]["slides"] == 63
    assert default["counts"]["lstm"]["slides"] == 84


@pytest.mark.parametrize("args", [["--hidden", "0"], ["--input-size", "-1"], ["-D", "0", "--json"]],
                         ids=["hidden-0", "input-size-negative", "input-size-0-json"])
def test_bad_sizes(cli, args):
    result = cli("params", *args)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    option = "--hidden" if "--hidden" in args else "--input-size"
    assert option in lines[0]
