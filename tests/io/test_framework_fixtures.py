"""SPEC §4: files written by the real Keras and PyTorch, and the outputs THEY computed.

tests/fixtures/make_fixtures.py and make_format_fixtures.py wrote them once (how, with which
versions: their docstrings); neither framework is needed here. Every layer is run through
gru_tui.load (and the command line) in float32 and must reproduce the framework's recorded
outputs per step to 1e-5.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("h5py")

import gru_tui
from gru_tui.io.weights import read_layers

FIXTURES = Path(__file__).parent.parent / "fixtures"
TOLERANCE = 1e-5


def expected(name: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"{name}.expected.npz", allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def run(path: Path, layer, xs: np.ndarray) -> np.ndarray:
    """h per step, in the order of `xs` (a reverse layer is fed xs[::-1] and turned back)."""
    cell = gru_tui.load(path, layer=layer, dtype="float32")
    if cell.reverse:
        return cell.run(xs[::-1])["h"][::-1]
    return cell.run(xs)["h"]


def close(mine, theirs) -> None:
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOLERANCE)




SINGLE = [("keras_gru_after", "gru", "reset after"), ("keras_gru_before", "gru", "reset before"),
          ("keras_lstm", "lstm", "standard"), ("keras_simple_rnn", "rnn", "tanh")]


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
@pytest.mark.parametrize(("name", "kind", "convention"), SINGLE)
def test_keras_single_layers(name, kind, convention, suffix):
    path = FIXTURES / f"{name}{suffix}"
    numbers = expected(name)
    layers = read_layers(path)
    assert len(layers) == 1
    layer = layers[0]
    assert (layer.kind, layer.input_size, layer.hidden_size) == (kind, 3, 4)
    assert layer.convention == convention and layer.framework == "Keras"
    g = {"gru": 3, "lstm": 4, "rnn": 1}[kind]
    two_biases = convention == "reset after"
    assert layer.parameters == g * (3 * 4 + 4 * 4 + (2 if two_biases else 1) * 4)
    (output,) = [key for key in numbers if key != "x"]
    close(run(path, None, numbers["x"]), numbers[output])


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_keras_bidirectional_and_go_backwards(suffix):
    path = FIXTURES / f"keras_stack{suffix}"
    numbers = expected("keras_stack")
    layers = read_layers(path)
    names = [layer.name for layer in layers]
    assert names[2] == "back_lstm" and len(names) == 3  # the Dense head is not listed
    assert names[0].startswith("bi/forward_") and names[1].startswith("bi/backward_")
    assert [layer.direction for layer in layers[:2]] == ["forward", "reverse"]
    x = numbers["x"]
    forward, backward = run(path, 0, x), run(path, 1, x)
    close(forward, numbers["bi/forward"])
    close(backward, numbers["bi/backward"])
    inner = np.concatenate([numbers["bi/forward"], numbers["bi/backward"]], axis=1)
    lstm = gru_tui.load(path, layer="back_lstm", dtype="float32")
    assert lstm.input_size == 8
    # go_backwards is in config.json: the .keras layer is reverse; a bare .weights.h5 cannot
    # say, so its layer is listed forward and we reverse it here, as Keras ran it.
    assert lstm.reverse is (suffix == ".keras")
    # Keras returns a go_backwards layer's sequence in its processing order.
    close(lstm.run(inner[::-1])["h"], numbers["back_lstm"])


def test_keras_legacy_h5_saved_by_keras():
    path = FIXTURES / "keras_legacy.h5"
    numbers = expected("keras_legacy")
    layers = read_layers(path)
    assert [(la.name, la.kind, la.convention, la.input_size, la.parameters) for la in layers] == [
        ("gru_before", "gru", "reset before", 3, 3 * (3 * 4 + 4 * 4 + 4)),
        ("rnn", "rnn", "tanh", 4, 4 * 4 + 4 * 4 + 4)]
    close(run(path, "gru_before", numbers["x"]), numbers["gru_before"])
    close(run(path, "rnn", numbers["gru_before"]), numbers["rnn"])


def test_torch_stacked_bidirectional_gru():
    path = FIXTURES / "torch_gru.safetensors"
    numbers = expected("torch_gru")
    x = numbers["x"]
    l0 = np.concatenate([run(path, "l0", x), run(path, "l0_reverse", x)], axis=1)
    l1 = np.concatenate([run(path, "l1", l0), run(path, "l1_reverse", l0)], axis=1)
    close(l1, numbers["output"])
    # h_n: layer 0 forward ends at t = T, reverse at t = 1; then layer 1
    close(np.stack([l0[-1, :4], l0[0, 4:], l1[-1, :4], l1[0, 4:]]), numbers["h_n"])


@pytest.mark.parametrize("name", ["torch_lstm", "torch_rnn"])
def test_torch_single_layers(name):
    path = FIXTURES / f"{name}.safetensors"
    numbers = expected(name)
    cell = gru_tui.load(path, dtype="float32")
    trace = cell.run(numbers["x"])
    close(trace["h"], numbers["output"])
    close(trace["h"][-1], numbers["h_n"][0])
    if "c_n" in numbers:
        close(trace["c"][-1], numbers["c_n"][0])


def test_fixtures_through_the_command_line(cli, tmp_path):
    runs = {}
    for name, suffix in [("keras_gru_after", ".keras"), ("keras_gru_before", ".weights.h5"),
                         ("keras_lstm", ".keras"), ("keras_simple_rnn", ".keras"),
                         ("torch_lstm", ".safetensors")]:
        np.save(tmp_path / f"{name}.npy", expected(name)["x"])
        runs[name] = (["step", "--json", "--dtype", "float32", "--weights",
                       str(FIXTURES / f"{name}{suffix}"), "-i", str(tmp_path / f"{name}.npy")],
                      {})
    np.save(tmp_path / "stack.npy", expected("keras_stack")["x"])
    runs["backward"] = (["step", "--json", "--dtype", "float32", "--weights",
                         str(FIXTURES / "keras_stack.keras"), "--layer", "1",
                         "-i", str(tmp_path / "stack.npy")], {})
    runs["inspect"] = (["inspect", "--json", str(FIXTURES / "keras_stack.keras")], {})
    results = cli.many(runs)
    for name in runs:
        if name in ("backward", "inspect"):
            continue
        numbers = expected(name)
        theirs = numbers["output"] if "output" in numbers else next(
            v for k, v in numbers.items() if k != "x")
        records = results[name].records()
        assert [r["t"] for r in records] == list(range(1, 7))
        close(np.array([r["h"] for r in records]), theirs)
    backward = results["backward"].records()
    numbers = expected("keras_stack")
    np.testing.assert_array_equal([r["x"] for r in backward], numbers["x"][::-1])
    close(np.array([r["h"] for r in backward]), numbers["bi/backward"][::-1])
    listed = json.loads(results["inspect"].stdout)
    assert [(item["kind"], item["direction"], item["input_size"], item["hidden_size"],
             item["convention"], item["parameters"]) for item in listed] == [
        ("gru", "forward", 3, 4, "reset after", 108), ("gru", "reverse", 3, 4, "reset after", 108),
        ("lstm", "reverse", 8, 4, "standard", 4 * 4 * (8 + 4 + 1))]


# -- Keras 3's hard_sigmoid, and PyTorch's ONNX exports (make_format_fixtures.py) ------------


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_keras3_hard_sigmoid_as_keras_computed_it(suffix):
    path = FIXTURES / f"keras3_hard_sigmoid{suffix}"
    numbers = expected("keras3_hard_sigmoid")
    layers = read_layers(path)
    assert [(la.name, la.recurrent_activation, la.activations_assumed, la.convention)
            for la in layers] == [
        ("gru", "hard_sigmoid_keras3", "", "reset after, Keras 3's hard_sigmoid"),
        ("lstm", "hard_sigmoid_keras3", "", "standard, Keras 3's hard_sigmoid")]
    close(run(path, "gru", numbers["x"]), numbers["gru"])
    close(run(path, "lstm", numbers["gru"]), numbers["lstm"])


def test_keras3_weights_only_file_needs_to_be_told(cli, tmp_path):
    """A .weights.h5 does not say its activations: Keras 3's defaults (σ) are assumed, and
    --recurrent-activation hard_sigmoid gives what Keras computed."""
    path = FIXTURES / "keras3_hard_sigmoid.weights.h5"
    numbers = expected("keras3_hard_sigmoid")
    gru = read_layers(path)[0]
    assert (gru.recurrent_activation, gru.activations_assumed) == ("sigmoid", "Keras 3 defaults")
    assert np.abs(run(path, "gru", numbers["x"]) - numbers["gru"]).max() > 1e-2
    np.save(tmp_path / "x.npy", numbers["x"])
    step = ["step", "--json", "--dtype", "float32", "-i", str(tmp_path / "x.npy"), "--weights"]
    results = cli.many({
        "told": ([*step, str(path), "--recurrent-activation", "hard_sigmoid"], {}),
        "conflict": ([*step, str(FIXTURES / "keras3_hard_sigmoid.keras"),
                      "--recurrent-activation", "sigmoid"], {}),
    })
    close(np.array([r["h"] for r in results["told"].records()]), numbers["gru"])
    cli.assert_bad(results["conflict"], "--recurrent-activation sigmoid conflicts with the "
                   "weights: Keras's GRU gru gates run Keras 3's hard_sigmoid")


def test_torch_export_of_an_if_between_an_lstm_and_a_gru(cli, tmp_path):
    """The If's branches hold the LSTM and GRU nodes, their W, R, B folded from PyTorch's
    Slice/Concat/Unsqueeze of the weights; h and c are graph inputs, so runs start from
    zeros unless --h0 / --c0 give the states torch started from."""
    path = FIXTURES / "torch_if_cells.onnx"
    numbers = expected("torch_if_cells")
    layers = read_layers(path)
    assert [(la.name, la.kind, la.convention, la.parameters) for la in layers] == [
        ("/If/then_branch//LSTM", "lstm", "standard, initial_h and initial_c are graph inputs",
         4 * 4 * (3 + 4 + 2)),
        ("/If/else_branch//GRU", "gru", "reset after, initial_h is a graph input",
         3 * 4 * (3 + 4 + 2))]
    x, h0, c0 = numbers["x"], numbers["h0"], numbers["c0"]
    lstm = gru_tui.load(path, layer=0, dtype="float32")
    close(lstm.run(x, h0, c0)["h"], numbers["lstm"])
    close(gru_tui.load(path, layer=1, dtype="float32").run(x, h0)["h"], numbers["gru"])
    np.save(tmp_path / "x.npy", x)
    row = ",".join(str(float(v)) for v in h0)
    step = ["step", "--json", "--dtype", "float32", "-i", str(tmp_path / "x.npy"), "--weights",
            str(path)]
    results = cli.many({
        "inspect": (["inspect", str(path)], {"env": {"COLUMNS": "200"}}),
        "zeros": ([*step, "--layer", "/If/else_branch//GRU"], {}),
        "states": ([*step, "--layer", "1", "--h0", row], {}),
        "lstm zeros": (step, {}),
    })
    for word in ("/If/then_branch//LSTM", "/If/else_branch//GRU", "initial_h is a graph input"):
        assert word in results["inspect"].stdout
    close(np.array([r["h"] for r in results["zeros"].records()]), numbers["gru_zeros"])
    close(np.array([r["h"] for r in results["states"].records()]), numbers["gru"])
    close(np.array([r["h"] for r in results["lstm zeros"].records()]), numbers["lstm_zeros"])


def test_torch_export_of_an_lstm_cell_is_plain_ops(cli):
    cli.assert_bad(cli("inspect", str(FIXTURES / "torch_lstm_cell.onnx")),
                   "holds no recurrent layer (no GRU, LSTM or RNN node, in its graph or any "
                   "subgraph)", "look like a cell written out as plain ops")
