"""Keras 2 files as people have them (issue 14): hard_sigmoid gates, weights-only files of
Keras before 2.3 (which defaulted to hard_sigmoid), and Keras 2's CuDNNGRU / CuDNNLSTM.

Keras 2 cannot be installed beside this project's Python, so the files are written here with
h5py in Keras 2's own layout (keras_files.py: layer_names and weight_names attributes, bytes
keras_version, Keras 2.2's tensor names without a cell level, cuDNN's one bias of 2·g·H) and
the numbers are checked against Keras 2's equations written out in numpy (keras_files.py:
keras_run, hard_sigmoid_keras2). Keras 3's hard_sigmoid, as Keras 3 itself computed it, is in
test_framework_fixtures.py; both forms against onnxruntime in tests/engine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

h5py = pytest.importorskip("h5py")
sys.path.insert(0, str(Path(__file__).parent))

import keras_files as kf  # noqa: E402

import gru_tui  # noqa: E402
from gru_tui.io.keras_layers import Writer  # noqa: E402
from gru_tui.io.weights import read_layers  # noqa: E402

XS = np.random.default_rng(14).uniform(-2, 2, (9, 3)).round(3)  # short inline rows
HARD = kf.hard_sigmoid_keras2


def run(path, layer=None, xs=XS, **conventions):
    cell = gru_tui.load(path, layer=layer, **conventions)
    return cell.run(xs[::-1] if cell.reverse else xs)["h"]


def close(mine, theirs, atol=1e-10):
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=atol)


def keras2_config(*layers):
    """model_config of a Keras 2.2 Sequential whose layers are (class, name, options)."""
    return {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
        {"class_name": cls, "config": {"name": name, "units": 4, "return_sequences": True,
                                       **options}} for cls, name, options in layers]}}


def big_weights(kind, seed, reset_after=False):
    """Weights large enough that hard_sigmoid saturates some gates, but not all."""
    return [1.6 * a for a in kf.weights(kind, 3, 4, seed=seed, reset_after=reset_after)]


# -- Keras before 2.3: hard_sigmoid, stated or assumed ------------------------------------------


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_weights_only_file_of_keras_2_2_runs_hard_sigmoid(tmp_path, kind):
    arrays = big_weights(kind, seed=1)
    path = kf.write_keras2_h5(tmp_path / "old.h5", [(kind, f"{kind}_1", arrays)],
                              whole_model=False, keras_version="2.2.4", cell_level=False)
    (layer,) = read_layers(path)
    assert layer.recurrent_activation == "hard_sigmoid_keras2"
    assert layer.activations_assumed == "Keras 2.2 defaults"
    assert layer.convention.endswith(", Keras 2's hard_sigmoid")
    hard = kf.keras_run(kind, arrays, XS, reset_after=False, recurrent_activation=HARD)
    logistic = kf.keras_run(kind, arrays, XS, reset_after=False)
    close(run(path), hard)
    assert np.abs(hard - logistic).max() > 1e-2  # the assumption matters
    close(run(path, recurrent_activation="sigmoid"), logistic)  # and can be overridden
    close(run(path, dtype="float32"), hard, atol=1e-5)


def test_keras_2_2_whole_model_says_its_activations(tmp_path):
    gru, lstm = big_weights("gru", seed=2), big_weights("lstm", seed=3)
    config = keras2_config(
        ("GRU", "gru_1", {"activation": "tanh", "recurrent_activation": "hard_sigmoid",
                          "reset_after": False}),
        ("LSTM", "lstm_1", {"activation": "tanh", "recurrent_activation": "sigmoid"}))
    path = kf.write_keras2_h5(tmp_path / "model.h5", [("gru", "gru_1", gru),
                                                      ("lstm", "lstm_1", lstm)],
                              config=config, keras_version="2.2.4", cell_level=False)
    layers = read_layers(path)
    assert [(la.recurrent_activation, la.activations_assumed) for la in layers] == [
        ("hard_sigmoid_keras2", ""), ("sigmoid", "")]
    close(run(path, "gru_1"), kf.keras_run("gru", gru, XS, reset_after=False,
                                           recurrent_activation=HARD))
    close(run(path, "lstm_1"), kf.keras_run("lstm", lstm, XS))


@pytest.mark.parametrize(("version", "activation", "defaults"), [
    ("2.1.6", "hard_sigmoid_keras2", "Keras 2.1 defaults"),
    ("2.2.4-tf", "hard_sigmoid_keras2", "Keras 2.2 defaults"),  # tf.keras of TensorFlow 1
    ("2.3.1", "sigmoid", "Keras 2.3 defaults"),
    ("2.15.0", "sigmoid", "Keras 2.15 defaults"),
    ("3.15.1", "sigmoid", "Keras 3.15 defaults"),  # Keras 3's legacy HDF5 saver
])
def test_defaults_follow_the_keras_version(tmp_path, version, activation, defaults):
    path = kf.write_keras2_h5(tmp_path / "w.h5", [("lstm", "lstm", big_weights("lstm", 4))],
                              whole_model=False, keras_version=version)
    (layer,) = read_layers(path)
    assert (layer.recurrent_activation, layer.activations_assumed) == (activation, defaults)


@given(st.one_of(st.text(max_size=30), st.binary(max_size=30)))
def test_any_keras_version_text_is_read_without_error(text):
    writer = Writer.of(text, 2)
    assert writer.defaults.endswith(" defaults")
    assert writer.default_recurrent_activation in ("sigmoid", "hard_sigmoid_keras2",
                                                   "hard_sigmoid_keras3")


def test_keras_1_files_are_refused_by_name(tmp_path, cli):
    path = tmp_path / "keras1.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = b"1.2.2"
        handle.attrs["layer_names"] = np.array([b"lstm_1"])
        group = handle.create_group("lstm_1")
        group.attrs["weight_names"] = np.array([b"lstm_1_W_i", b"lstm_1_U_i"])
        group.create_dataset("lstm_1_W_i", data=np.ones((3, 4), np.float32))
        group.create_dataset("lstm_1_U_i", data=np.ones((4, 4), np.float32))
    cli.assert_bad(cli("inspect", str(path)), "was written by Keras 1.2",
                   "weight layout gru-tui does not read")


# -- CuDNNGRU and CuDNNLSTM -------------------------------------------------------------------


def cudnn_weights(kind, seed, D=3):
    """kernel, recurrent_kernel and cuDNN's bias: g·H input biases, then g·H recurrent."""
    g = kf.GATES[kind]
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, shape).astype(np.float32)
            for shape in ((D, g * 4), (4, g * 4), (2 * g * 4,))]


@pytest.mark.parametrize("whole_model", [True, False], ids=["model", "weights-only"])
def test_cudnn_layers_load_as_gru_and_lstm(tmp_path, whole_model):
    gru, lstm = cudnn_weights("gru", 5), cudnn_weights("lstm", 6, D=4)
    lstm_input = kf.keras_run("gru", gru, XS)  # reset after, as cuDNN's GRU
    config = keras2_config(("CuDNNGRU", "cu_dnngru_1", {"go_backwards": False}),
                           ("CuDNNLSTM", "cu_dnnlstm_1", {"go_backwards": True}))
    # Keras 2.2.4 wrote them; its defaults (hard_sigmoid) never apply to cuDNN's σ gates
    path = kf.write_keras2_h5(tmp_path / "cudnn.h5", [("gru", "cu_dnngru_1", gru),
                                                      ("lstm", "cu_dnnlstm_1", lstm)],
                              whole_model=whole_model, config=config, keras_version="2.2.4",
                              cell_level=False)
    layers = read_layers(path)
    assert [(la.name, la.kind, la.reset, la.convention, la.recurrent_activation,
             la.activations_assumed, la.parameters) for la in layers] == [
        ("cu_dnngru_1", "gru", "after", "reset after, CuDNNGRU", "sigmoid", "", 3 * 4 * 9),
        ("cu_dnnlstm_1", "lstm", "after", "standard, CuDNNLSTM", "sigmoid", "", 4 * 4 * 10)]
    assert layers[1].reverse is whole_model  # go_backwards is in the config only
    close(run(path, "cu_dnngru_1"), lstm_input)
    expected = kf.keras_run("lstm", lstm, lstm_input, go_backwards=whole_model)
    close(run(path, "cu_dnnlstm_1", lstm_input), expected)


def test_bidirectional_cudnn_lstm(tmp_path):
    forward, backward = cudnn_weights("lstm", 7), cudnn_weights("lstm", 8)
    path = kf.write_keras2_h5(tmp_path / "bi.h5", [
        ("bidirectional", "bidirectional_1", ("cu_dnnlstm", forward, backward))],
        whole_model=False, keras_version="2.2.4", cell_level=False)
    layers = read_layers(path)
    assert [(la.name, la.direction, la.convention) for la in layers] == [
        ("bidirectional_1/forward_cu_dnnlstm", "forward", "standard, CuDNNLSTM"),
        ("bidirectional_1/backward_cu_dnnlstm", "reverse", "standard, CuDNNLSTM")]
    close(run(path, 1), kf.keras_run("lstm", backward, XS, go_backwards=True))


def test_a_plain_gru_with_a_cudnn_bias_is_refused(tmp_path):
    path = kf.write_keras2_h5(tmp_path / "odd.h5", [("gru", "gru_1", cudnn_weights("gru", 9))],
                              config=keras2_config(("GRU", "gru_1", {})), cell_level=False)
    with pytest.raises(ValueError, match=r"gru_1/bias:0 has shape \(24,\), expected \(12,\) "
                                         r"or \(2, 12\)"):
        read_layers(path)


# -- through the command line -----------------------------------------------------------------


def test_command_line_assumes_says_and_overrides(tmp_path, cli):
    arrays = big_weights("lstm", seed=10)
    assumed = kf.write_keras2_h5(tmp_path / "assumed.h5", [("lstm", "lstm_1", arrays)],
                                 whole_model=False, keras_version="2.2.4", cell_level=False)
    stated = kf.write_keras2_h5(
        tmp_path / "stated.h5", [("lstm", "lstm_1", arrays)], keras_version="2.2.4",
        config=keras2_config(("LSTM", "lstm_1", {"activation": "tanh",
                                                 "recurrent_activation": "hard_sigmoid"})),
        cell_level=False)
    torch_file = tmp_path / "torch.npz"
    np.savez(torch_file, weight_ih_l0=np.ones((16, 3)), weight_hh_l0=np.ones((16, 4)))
    inline = ";".join(",".join(str(v) for v in row) for row in XS)
    step = ["step", "--json", "-i", inline, "--weights"]
    results = cli.many({
        "table": (["inspect", str(assumed)], {"env": {"COLUMNS": "200"}}),
        "json": (["inspect", "--json", str(assumed)], {}),
        "assumed": ([*step, str(assumed)], {}),
        "sigmoid": ([*step, str(assumed), "--recurrent-activation", "sigmoid"], {}),
        "stated": ([*step, str(stated), "--recurrent-activation", "hard_sigmoid"], {}),
        "conflict": ([*step, str(stated), "--recurrent-activation", "sigmoid"], {}),
        "torch": ([*step, str(torch_file), "--recurrent-activation", "hard_sigmoid"], {}),
        "random": (["step", "--json", "-i", inline, "-m", "lstm", "--recurrent-activation",
                    "hard_sigmoid"], {}),
    })
    table = results["table"].stdout
    assert "activations assumed: Keras 2.2 defaults for lstm_1" in table
    assert "Keras 2's hard_sigmoid" in table
    (listed,) = json.loads(results["json"].stdout)
    assert (listed["recurrent_activation"], listed["activations_assumed"]) == (
        "hard_sigmoid_keras2", "Keras 2.2 defaults")
    hard = kf.keras_run("lstm", arrays, XS, recurrent_activation=HARD)
    close([r["h"] for r in results["assumed"].records()], hard)
    close([r["h"] for r in results["stated"].records()], hard)
    close([r["h"] for r in results["sigmoid"].records()], kf.keras_run("lstm", arrays, XS))
    cli.assert_bad(results["conflict"], "--recurrent-activation sigmoid conflicts with the "
                   "weights: Keras's LSTM lstm_1 gates run Keras 2's hard_sigmoid")
    cli.assert_bad(results["torch"], "--recurrent-activation hard_sigmoid conflicts with the "
                   "weights: PyTorch's LSTM l0 gates run the logistic sigmoid")
    random = results["random"].records()  # random weights take Keras 2's form
    cell = gru_tui.random_cell("lstm", 3, 3, recurrent_activation="hard_sigmoid_keras2")
    close([r["h"] for r in random], cell.run(XS)["h"], atol=0)
