"""The engine against ONNX's own reference implementation of GRU, LSTM and RNN nodes.

ONNX stacks gate rows z, r, h (GRU; its "h" is our candidate n) and i, o, f, c (LSTM; its
"c" is our g), peepholes P as i, o, f, and B = [Wb, Rb]. The weights are converted into the
engine's layout with ``rows_in_order`` and both runs are compared step by step (output Y).
"""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

from gru_tui.engine import GRUCell, LSTMCell, RNNCell  # noqa: E402
from gru_tui.engine.gates import rows_in_order  # noqa: E402

TOL = 1e-10
SIZES = [(1, 1, 1), (4, 3, 2), (7, 2, 5), (5, 6, 3)]  # (T, D, H)
ONNX_ORDER = {"GRU": ("z", "r", "n"), "LSTM": ("i", "o", "f", "g"), "RNN": ("h",)}
GATE_COUNT = {"GRU": 3, "LSTM": 4, "RNN": 1}


def onnx_run(op, arrays, attrs, as_initializers):
    """Build a one-node model with onnx.helper and run it with the reference evaluator.

    `arrays` maps input names (X, W, R, B, initial_h, initial_c, P) to float64 arrays; X is
    always a graph input, the others are initializers or graph inputs.
    """
    order = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"]
    if op != "LSTM":
        order = order[:6]
    node_inputs = [name if name in arrays else "" for name in order]
    while node_inputs[-1] == "":
        node_inputs.pop()
    H = attrs["hidden_size"]
    T = arrays["X"].shape[0]
    outputs = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
    node = helper.make_node(op, node_inputs, outputs, **attrs)
    graph_inputs, initializers, feeds = [], [], {}
    for name, value in arrays.items():
        if name == "X" or not as_initializers:
            graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.DOUBLE,
                                                              list(value.shape)))
            feeds[name] = value
        else:
            initializers.append(numpy_helper.from_array(value, name))
    graph_outputs = [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [T, 1, 1, H])]
    graph_outputs += [helper.make_tensor_value_info(name, TensorProto.DOUBLE, [1, 1, H])
                      for name in outputs[1:]]
    graph = helper.make_graph([node], f"{op.lower()}_test", graph_inputs, graph_outputs,
                              initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    results = ReferenceEvaluator(model).run(None, feeds)
    return dict(zip(outputs, results, strict=True))


def onnx_weights(op, D, H, rng, scale=0.7):
    g = GATE_COUNT[op]
    return (rng.uniform(-scale, scale, (g * H, D)), rng.uniform(-scale, scale, (g * H, H)),
            rng.uniform(-scale, scale, 2 * g * H))


def to_engine(op, cls, W, R, B):
    """ONNX W, R, B (one direction) → the engine's W, U, b_i, b_h."""
    g = GATE_COUNT[op]
    H = R.shape[1]
    order = ONNX_ORDER[op]
    Wb, Rb = B[: g * H], B[g * H :]
    return tuple(rows_in_order(a, order, cls.GATES) for a in (W, R, Wb, Rb))


def feeds_for(X, W, R, B, h0, c0=None, P=None):
    arrays = {"X": X[:, None, :], "W": W[None], "R": R[None], "B": B[None],
              "initial_h": h0[None, None, :]}
    if c0 is not None:
        arrays["initial_c"] = c0[None, None, :]
    if P is not None:
        arrays["P"] = P[None]
    return arrays


def compare(trace, result, H, T):
    assert result["Y"].shape == (T, 1, 1, H)
    assert result["Y"].dtype == np.float64
    np.testing.assert_allclose(trace["h"], result["Y"][:, 0, 0, :], rtol=0, atol=TOL)
    np.testing.assert_allclose(trace["h"][-1], result["Y_h"][0, 0], rtol=0, atol=TOL)
    if "Y_c" in result:
        np.testing.assert_allclose(trace["c"][-1], result["Y_c"][0, 0], rtol=0, atol=TOL)


@pytest.mark.parametrize("as_initializers", [True, False], ids=["initializers", "inputs"])
@pytest.mark.parametrize("linear_before_reset", [0, 1])
@pytest.mark.parametrize(("T", "D", "H"), SIZES)
def test_gru(linear_before_reset, as_initializers, T, D, H):
    rng = np.random.default_rng([T, D, H, linear_before_reset])
    W, R, B = onnx_weights("GRU", D, H, rng)
    X, h0 = rng.uniform(-2, 2, (T, D)), rng.uniform(-0.9, 0.9, H)
    result = onnx_run("GRU", feeds_for(X, W, R, B, h0),
                      {"hidden_size": H, "linear_before_reset": linear_before_reset},
                      as_initializers)
    reset = "after" if linear_before_reset else "before"
    cell = GRUCell(*to_engine("GRU", GRUCell, W, R, B), reset=reset)  # z weights "old"
    compare(cell.run(X, h0), result, H, T)


@pytest.mark.parametrize("linear_before_reset", [0, 1])
def test_gru_z_weights_new_is_old_with_z_negated(linear_before_reset):
    """σ(−a) = 1 − σ(a): ONNX ("old") with the z gate's weights and biases negated is the
    "new" convention of the original weights."""
    T, D, H = 6, 3, 4
    rng = np.random.default_rng(21 + linear_before_reset)
    W, R, B = onnx_weights("GRU", D, H, rng)
    X, h0 = rng.uniform(-2, 2, (T, D)), rng.uniform(-0.9, 0.9, H)
    flip = np.ones(3 * H)
    flip[:H] = -1  # ONNX's first gate is z
    Wn, Rn, Bn = W * flip[:, None], R * flip[:, None], B * np.concatenate([flip, flip])
    result = onnx_run("GRU", feeds_for(X, Wn, Rn, Bn, h0),
                      {"hidden_size": H, "linear_before_reset": linear_before_reset}, True)
    reset = "after" if linear_before_reset else "before"
    cell = GRUCell(*to_engine("GRU", GRUCell, W, R, B), reset=reset, z_weights="new")
    compare(cell.run(X, h0), result, H, T)
    old = GRUCell(*to_engine("GRU", GRUCell, W, R, B), reset=reset, z_weights="old")
    assert np.abs(old.run(X, h0)["h"] - result["Y"][:, 0, 0, :]).max() > 1e-3


@pytest.mark.parametrize("as_initializers", [True, False], ids=["initializers", "inputs"])
@pytest.mark.parametrize("peepholes", [False, True], ids=["plain", "peepholes"])
@pytest.mark.parametrize(("T", "D", "H"), SIZES)
def test_lstm(peepholes, as_initializers, T, D, H):
    rng = np.random.default_rng([T, D, H, int(peepholes), 7])
    W, R, B = onnx_weights("LSTM", D, H, rng)
    X = rng.uniform(-2, 2, (T, D))
    h0, c0 = rng.uniform(-0.9, 0.9, H), rng.uniform(-2, 2, H)
    P = rng.uniform(-1, 1, 3 * H) if peepholes else None
    result = onnx_run("LSTM", feeds_for(X, W, R, B, h0, c0, P), {"hidden_size": H},
                      as_initializers)
    engine_p = None
    if peepholes:  # ONNX P rows i, o, f → the engine's (3, H) rows i, f, o
        engine_p = rows_in_order(P, ("i", "o", "f"), ("i", "f", "o")).reshape(3, H)
    cell = LSTMCell(*to_engine("LSTM", LSTMCell, W, R, B), peepholes=engine_p)
    compare(cell.run(X, h0, c0), result, H, T)


@pytest.mark.parametrize("as_initializers", [True, False], ids=["initializers", "inputs"])
@pytest.mark.parametrize(("T", "D", "H"), SIZES)
def test_rnn(as_initializers, T, D, H):
    rng = np.random.default_rng([T, D, H, 13])
    W, R, B = onnx_weights("RNN", D, H, rng, scale=1.0)
    X, h0 = rng.uniform(-2, 2, (T, D)), rng.uniform(-0.9, 0.9, H)
    result = onnx_run("RNN", feeds_for(X, W, R, B, h0), {"hidden_size": H}, as_initializers)
    cell = RNNCell(*to_engine("RNN", RNNCell, W, R, B))
    compare(cell.run(X, h0), result, H, T)


def test_without_bias_and_initial_state():
    """B and initial_h left out: ONNX takes zeros, as the engine does for missing values."""
    T, D, H = 5, 3, 4
    rng = np.random.default_rng(2)
    W, R, _ = onnx_weights("GRU", D, H, rng)
    X = rng.uniform(-2, 2, (T, D))
    result = onnx_run("GRU", {"X": X[:, None, :], "W": W[None], "R": R[None]},
                      {"hidden_size": H}, True)
    order = ONNX_ORDER["GRU"]
    cell = GRUCell(rows_in_order(W, order, GRUCell.GATES), rows_in_order(R, order, GRUCell.GATES))
    compare(cell.run(X), result, H, T)


def test_rows_in_order_moves_whole_gate_blocks():
    H = 2
    stacked = np.repeat(np.arange(3.0), H)[:, None] * np.ones((1, 3))  # rows: z z r r n n
    out = rows_in_order(stacked, ("z", "r", "n"), ("r", "z", "n"))
    np.testing.assert_array_equal(out[:, 0], [1, 1, 0, 0, 2, 2])
    np.testing.assert_array_equal(rows_in_order(out, ("r", "z", "n"), ("z", "r", "n")), stacked)


# -- hard sigmoid gates, against onnxruntime's HardSigmoid activations ----------------------

# ONNX's HardSigmoid(a) = max(0, min(1, alpha·a + beta)): Keras 2's form is alpha 0.2, Keras
# 3's relu6(a + 3)/6 is alpha 1/6, both with beta 0.5. onnx.reference ignores activations.
HARD_SIGMOIDS = {"hard_sigmoid_keras2": 0.2, "hard_sigmoid_keras3": 1 / 6}


@pytest.mark.parametrize("activation", HARD_SIGMOIDS)
@pytest.mark.parametrize(("op", "linear_before_reset"), [("GRU", 0), ("GRU", 1), ("LSTM", 0)])
def test_hard_sigmoid_gates_match_onnxruntime(op, linear_before_reset, activation):
    ort = pytest.importorskip("onnxruntime")
    T, D, H = 8, 3, 5
    rng = np.random.default_rng([len(activation), linear_before_reset, len(op)])
    W, R, B = (a.astype(np.float32) for a in onnx_weights(op, D, H, rng, scale=1.5))
    X = rng.uniform(-2, 2, (T, D)).astype(np.float32)
    functions = ["HardSigmoid", "Tanh"] + (["Tanh"] if op == "LSTM" else [])
    attrs = {"hidden_size": H, "activations": functions,
             "activation_alpha": [HARD_SIGMOIDS[activation]], "activation_beta": [0.5]}
    if op == "GRU":
        attrs["linear_before_reset"] = linear_before_reset
    node = helper.make_node(op, ["X", "W", "R", "B"], ["Y"], **attrs)
    graph = helper.make_graph(
        [node], "hard", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [T, 1, D])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(a[None], n) for a, n in ((W, "W"), (R, "R"),
                                                                       (B, "B"))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8  # what this onnxruntime reads
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    Y = session.run(None, {"X": X[:, None, :]})[0][:, 0, 0]
    cls = GRUCell if op == "GRU" else LSTMCell
    settings = {"reset": "after" if linear_before_reset else "before"} if op == "GRU" else {}
    cell = cls(*to_engine(op, cls, W, R, B), recurrent_activation=activation, **settings)
    trace = cell.run(X)
    np.testing.assert_allclose(trace["h"], Y, rtol=0, atol=1e-5)
    gates = ("reset", "update") if op == "GRU" else ("input", "forget", "output")
    flat = np.concatenate([trace[gate] for gate in gates])
    assert (flat == 0).any() or (flat == 1).any()  # some gates saturate: the forms differ
    other = next(name for name in HARD_SIGMOIDS if name != activation)
    assert np.abs(cell.replace(recurrent_activation=other).run(X)["h"] - Y).max() > 1e-3
