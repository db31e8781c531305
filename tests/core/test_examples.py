"""The shipped trained models (`--example delay`, `--example hold`): small files that really
learned their tasks, checked with the targets written out here and the readout in the file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file

import gru_tui
from gru_tui.core.examples import EXAMPLES, example_layers
from gru_tui.core.presets import preset_rows

HELD_OUT_SEEDS = [0, *range(500, 520)]  # 0 is what the app opens on; training used 1..
TRAINED = ["delay", "hold"]  # the files; "slides" is made in code


def delayed(xs: np.ndarray, lag: int = 3) -> np.ndarray:
    return np.concatenate([np.zeros((lag, 1)), xs[:-lag]])


def latest_pulse(xs: np.ndarray) -> np.ndarray:
    out, last = [], 0.0
    for x in xs[:, 0]:
        last = x if x != 0 else last
        out.append([last])
    return np.array(out)


TARGETS = {"delay": (delayed, 0.99), "hold": (latest_pulse, 0.85)}


def readout(name: str, model: str, xs: np.ndarray) -> np.ndarray:
    """y_t = w·h_t + b, with the file's own readout on the engine's h_t."""
    path = EXAMPLES[name].path
    tensors = load_file(str(path))
    h = gru_tui.load(path, layer=f"{model}.l0").run(xs)["h"]
    return h @ tensors[f"{model}_readout.weight"].T + tensors[f"{model}_readout.bias"]


@pytest.mark.parametrize("name", TRAINED)
def test_each_example_is_a_small_gru_and_lstm_with_its_provenance(name):
    path = EXAMPLES[name].path
    assert path.is_file() and path.stat().st_size < 8_000
    layers = example_layers(name)
    assert [(layer.kind, layer.input_size, layer.hidden_size) for layer in layers] == [
        ("gru", 1, 4), ("lstm", 1, 4)]
    with safe_open(str(path), "np") as handle:
        metadata = handle.metadata()
    assert "gru_tui/examples/train.py" in metadata["trained_by"]
    assert "torch 2.13.0" in metadata["trained_by"]
    assert set(json.loads(metadata["errors"])) == {"gru", "lstm"}


@pytest.mark.parametrize("model", ["gru", "lstm"])
@pytest.mark.parametrize("name", TRAINED)
def test_the_models_do_their_task_on_inputs_they_never_saw(name, model):
    target, floor = TARGETS[name]
    errors, variances = [], []
    for seed in HELD_OUT_SEEDS:
        xs = preset_rows("pulses", 1, 0, 60, seed)
        ys = target(xs)
        errors.append(np.mean((readout(name, model, xs) - ys) ** 2))
        variances.append(np.var(ys))
    explained = 1 - np.mean(errors) / np.mean(variances)
    assert explained > floor, explained


@pytest.mark.parametrize("seed", [0, 7])
def test_the_hold_gru_keeps_with_its_update_gate_where_random_weights_never_do(seed):
    """What README says it learned: between pulses some unit's z_t sits near 1 (keep the old
    state); when a pulse arrives some unit's z_t drops to 0 (write the new one). Random
    weights leave every z_t in the middle."""
    xs = preset_rows("pulses", 1, 0, 400, seed=seed)
    quiet = (xs[:, 0] == 0) & (np.arange(len(xs)) > 0)
    strong = np.abs(xs[:, 0]) > 0.3

    def keeps_and_writes(z: np.ndarray) -> tuple[float, float]:
        return np.mean(z[quiet].max(axis=1) > 0.75), np.mean(z[strong].min(axis=1) < 0.05)

    keeps, writes = keeps_and_writes(
        gru_tui.load(EXAMPLES["hold"].path, layer="gru.l0").run(xs)["update"])
    assert keeps > 0.7 and writes > 0.7, (keeps, writes)
    for random_seed in range(5):
        z = gru_tui.random_cell("gru", 1, 4, seed=random_seed).run(xs)["update"]
        assert keeps_and_writes(z) == (0.0, 0.0)


def test_the_delay_gru_passes_pulses_on_with_its_update_gate_open():
    """The delay GRU needs no holding: z_t stays low and each step's candidate is the state."""
    xs = preset_rows("pulses", 1, 0, 200, seed=0)
    trace = gru_tui.load(EXAMPLES["delay"].path, layer="gru.l0").run(xs)
    assert trace["update"].max() < 0.2


def test_the_slides_example_prints_the_slides_gates_at_t_1(cli):
    """The seed slide "GRU / LSTM Calculation (3D Vector Example)": x_1, h_0, C_0 of SPEC §2
    give r_t, z_t, f_t, i_t and C̃_t exactly as printed there."""
    records = cli.records("step", "--json", "--example", "slides", "--steps", "1")
    gru, lstm = records
    assert gru["x"] == [0.5, -0.3, 0.8] and gru["h_prev"] == [0.2, 0.4, -0.1]
    assert lstm["c_prev"] == [0.6, -0.2, 0.3]
    expected = {"reset": [0.58, 0.73, 0.45], "update": [0.66, 0.42, 0.51]}
    for key, values in expected.items():
        np.testing.assert_allclose(gru[key], values, rtol=0, atol=1e-12)
    expected = {"forget": [0.65, 0.42, 0.78], "input": [0.53, 0.71, 0.48],
                "candidate": [0.32, -0.54, 0.67]}
    for key, values in expected.items():
        np.testing.assert_allclose(lstm[key], values, rtol=0, atol=1e-12)
    # C_t = f ⊙ C_{t−1} + i ⊙ C̃_t, which the slides print to two decimals (truncated)
    c = [0.65 * 0.6 + 0.53 * 0.32, 0.42 * -0.2 + 0.71 * -0.54, 0.78 * 0.3 + 0.48 * 0.67]
    np.testing.assert_allclose(lstm["c"], c, atol=1e-12)
    np.testing.assert_allclose(lstm["c"], [0.56, -0.47, 0.55], atol=0.006)


def test_the_slides_example_changes_only_the_input_biases_of_the_printed_gates():
    for layer in example_layers("slides"):
        cell = layer.cell()
        base = gru_tui.random_cell(layer.kind, 3, 3, seed=0)
        np.testing.assert_array_equal(cell.W, base.W)
        np.testing.assert_array_equal(cell.U, base.U)
        np.testing.assert_array_equal(cell.b_h, base.b_h)
        changed = {"gru": "rz", "lstm": "fig"}[layer.kind]
        for letter in cell.GATES:
            same = np.array_equal(cell.gate(letter).b_i, base.gate(letter).b_i)
            assert same == (letter not in changed), (layer.kind, letter)
