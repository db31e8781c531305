"""`gru-tui step --gradients` (SPEC §7): the added keys, their order, and their values, which
must equal the Python API's profile of the same run (SPEC §8)."""

from __future__ import annotations

import numpy as np
import pytest

import gru_tui

ADDED = {"gru": ["sensitivity", "state_jacobian"],
         "lstm": ["sensitivity", "state_jacobian", "cell_jacobian"],
         "rnn": ["sensitivity", "state_jacobian"]}


def api_profile(cli, records, kind, **settings):
    """The API's profile of the run the records show, from their own x, h_0 and c_0."""
    mine = [r for r in records if r["model"] == kind]
    first = mine[0]
    trace = cli.api_trace(kind, [r["x"] for r in mine], first["h_prev"], first.get("c_prev"),
                          **settings)
    return mine, gru_tui.memory_profile(trace)


@pytest.fixture(scope="module")
def runs(cli):
    return cli.many({
        "example": (["step", "--json", "--gradients", "-m", "gru,lstm,rnn"], {}),
        "plain": (["step", "--json", "-m", "gru,lstm,rnn"], {}),
        "float32": (["step", "--json", "--gradients", "-m", "lstm", "-m", "gru", "--dtype",
                     "float32", "--gru-reset", "after", "--z-weights", "new", "-p", "noise",
                     "-H", "5", "-s", "3"], {}),
        "long": (["step", "--json", "--gradients", "-m", "rnn", "-p", "remember", "-n", "5000",
                  "-H", "2"], {}),
        "human": (["step", "--gradients", "-m", "gru,lstm,rnn", "-n", "3"], {}),
        "too_long": (["step", "--json", "--gradients", "-n", "400000"], {}),
        "too_long_human": (["step", "--gradients", "-H", "64", "-n", "20000"], {}),
    })


def test_keys_come_after_the_spec_keys(cli, runs):
    records = runs["example"].records()
    assert [r["model"] for r in records[:3]] == ["gru", "lstm", "rnn"]
    for record in records:
        kind = record["model"]
        assert list(record) == cli.RECORD_KEYS[kind] + ADDED[kind]


def test_without_the_flag_nothing_changes(cli, runs):
    with_gradients = runs["example"].records()
    plain = runs["plain"].records()
    assert len(plain) == len(with_gradients)
    for a, b in zip(plain, with_gradients, strict=True):
        assert list(a) == cli.RECORD_KEYS[a["model"]]
        assert a == {key: b[key] for key in a}


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_values_equal_the_api(cli, runs, kind):
    mine, profile = api_profile(cli, runs["example"].records(), kind)
    for key in ADDED[kind]:
        assert [r[key] for r in mine] == getattr(profile, key).tolist(), key
    assert mine[-1]["sensitivity"] > 0


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_float32_and_conventions(cli, runs, kind):
    settings = {"dtype": "float32", "seed": 3, "hidden": 5}
    if kind == "gru":
        settings.update(reset="after", z_weights="new")
    mine, profile = api_profile(cli, runs["float32"].records(), kind, **settings)
    for key in ADDED[kind]:
        assert [r[key] for r in mine] == getattr(profile, key).tolist(), key


def test_a_long_run_vanishes_to_zero_in_json(cli, runs):
    """Beyond float range the value written is 0.0 (never NaN or inf, which JSON lacks)."""
    records = runs["long"].records()
    sensitivity = [r["sensitivity"] for r in records]
    assert len(sensitivity) == 5000
    assert all(np.isfinite(sensitivity))
    assert sensitivity[0] == 0.0 < sensitivity[-1]
    assert sensitivity == sorted(sensitivity)  # a cue then silence: earlier matters less
    _, profile = api_profile(cli, records, "rnn", hidden=2)
    assert sensitivity == profile.sensitivity.tolist()


def test_human_view_has_a_memory_line(runs):
    result = runs["human"]
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("memory")]
    assert len(lines) == 9  # three steps, three models
    assert "‖∂h_3/∂x_1‖ = " in lines[0] and "‖∂h_1/∂h_0‖ = " in lines[0]
    assert "‖∂C_1/∂C_0‖ = " in lines[1]


@pytest.mark.parametrize("name", ["too_long", "too_long_human"])
def test_too_long_a_run_is_refused(runs, name):
    result = runs[name]
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("gru-tui: error: --gradients keeps the whole run in memory")


def test_quiet_on_closed_pipe(cli):
    import subprocess
    import sys

    command = f"{sys.executable} -m gru_tui step --json --gradients -n 5000 | head -1"
    done = subprocess.run(command, shell=True, capture_output=True, text=True,
                          env=cli.env(), timeout=120)
    assert done.returncode == 0
    assert done.stderr == ""
    assert '"sensitivity"' in done.stdout


def test_reverse_layer_in_processing_order(cli, tmp_path):
    """A reverse layer's records run from the last input; so does its sensitivity: record k
    holds ‖∂h/∂x‖ of the final processed state with respect to the x that step consumed."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(4)
    D, H = 3, 4
    tensors = {}
    for suffix in ("", "_reverse"):
        tensors[f"weight_ih_l0{suffix}"] = rng.uniform(-1, 1, (3 * H, D)).astype("f4")
        tensors[f"weight_hh_l0{suffix}"] = rng.uniform(-1, 1, (3 * H, H)).astype("f4")
        tensors[f"bias_ih_l0{suffix}"] = rng.uniform(-1, 1, 3 * H).astype("f4")
        tensors[f"bias_hh_l0{suffix}"] = rng.uniform(-1, 1, 3 * H).astype("f4")
    path = tmp_path / "bi.safetensors"
    save_file(tensors, str(path))
    xs = rng.uniform(-1, 1, (6, D)).round(3)
    inline = ";".join(",".join(str(v) for v in row) for row in xs)
    records = cli.records("step", "--json", "--gradients", "--weights", str(path), "--layer",
                          "1", "-i", inline)
    assert [r["x"] for r in records] == xs[::-1].tolist()
    expected = gru_tui.memory_profile(gru_tui.load(path, layer=1).run(xs[::-1]))
    assert [r["sensitivity"] for r in records] == expected.sensitivity.tolist()
    assert [r["state_jacobian"] for r in records] == expected.state_jacobian.tolist()
