"""SPEC §4: GRU / LSTM / RNN nodes of .onnx models, written here with onnx.helper and
onnx.save, loaded through gru_tui.load and the real command, and compared step by step with
onnx.reference.ReferenceEvaluator's output Y on the same inputs; and the ONNX files gru-tui
refuses (exit 2, one line on stderr, nothing on stdout, no traceback)."""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

import gru_tui  # noqa: E402
from gru_tui.errors import InputError  # noqa: E402
from gru_tui.io.weights import read_layers  # noqa: E402

GATES = {"GRU": 3, "LSTM": 4, "RNN": 1}
ELEM = {np.dtype("float64"): TensorProto.DOUBLE, np.dtype("float32"): TensorProto.FLOAT}
TOL = {"float64": 1e-10, "float32": 1e-5}


def build(op, D=3, H=4, dirs=1, dtype="float64", seed=0, bias=True, peepholes=False,
          initial_h=None, name="rnn1", computed=(), constants=(), initial_c=None, **attrs):
    """A one-node model: X [T, 1, D] is the graph's input, W, R, B (P, initial_h) are
    initializers (or Constant nodes, or graph inputs when listed in `computed`)."""
    rng = np.random.default_rng(seed)
    g = GATES[op]
    arrays = {"W": rng.uniform(-0.8, 0.8, (dirs, g * H, D)),
              "R": rng.uniform(-0.8, 0.8, (dirs, g * H, H))}
    if bias:
        arrays["B"] = rng.uniform(-0.8, 0.8, (dirs, 2 * g * H))
    if initial_h is not None:
        arrays["initial_h"] = np.asarray(initial_h)
    if initial_c is not None:
        arrays["initial_c"] = np.asarray(initial_c)
    if peepholes:
        arrays["P"] = rng.uniform(-0.8, 0.8, (dirs, 3 * H))
    arrays = {k: v.astype(dtype) for k, v in arrays.items()}
    order = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"]
    inputs = [n if n == "X" or n in arrays else "" for n in order]
    while inputs[-1] == "":
        inputs.pop()
    outputs = ["Y", "Y_h"]
    node = helper.make_node(op, inputs, outputs, name=name, hidden_size=H, **attrs)
    elem = ELEM[np.dtype(dtype)]
    graph_inputs = [helper.make_tensor_value_info("X", elem, [None, 1, D])]
    nodes, initializers = [], []
    for key, value in arrays.items():
        if key in computed:
            graph_inputs.append(helper.make_tensor_value_info(key, elem, list(value.shape)))
        elif key in constants:
            nodes.append(helper.make_node("Constant", [], [key],
                                          value=numpy_helper.from_array(value, key)))
        else:
            initializers.append(numpy_helper.from_array(value, key))
    graph = helper.make_graph(
        [*nodes, node], "test", graph_inputs,
        [helper.make_tensor_value_info(o, elem, None) for o in outputs],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    return model, arrays


def save(model, tmp_path, name="model.onnx"):
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def reference_y(model, xs):
    """ONNX's own Y for inputs xs [T, D] (layout 0), as [T, dirs, H]."""
    dtype = model.graph.input[0].type.tensor_type.elem_type
    X = xs[:, None, :].astype(np.float32 if dtype == TensorProto.FLOAT else np.float64)
    return ReferenceEvaluator(model).run(None, {"X": X})[0][:, :, 0, :]


def engine_h(cell, xs):
    """The engine's h per input position (a reverse layer's records reversed back)."""
    if cell.reverse:
        return cell.run(xs[::-1])["h"][::-1]
    return cell.run(xs)["h"]


CASES = {
    "gru lbr0": ("GRU", {"linear_before_reset": 0}, {}),
    "gru lbr1": ("GRU", {"linear_before_reset": 1}, {}),
    "gru no bias": ("GRU", {}, {"bias": False}),
    "lstm": ("LSTM", {}, {}),
    "lstm peepholes": ("LSTM", {}, {"peepholes": True}),
    "rnn": ("RNN", {}, {}),
    "gru reverse": ("GRU", {"direction": "reverse", "linear_before_reset": 1}, {}),
    "lstm bidirectional": ("LSTM", {"direction": "bidirectional"}, {"dirs": 2,
                                                                    "peepholes": True}),
    "gru bidirectional": ("GRU", {"direction": "bidirectional"}, {"dirs": 2}),
    "rnn bidirectional": ("RNN", {"direction": "bidirectional"}, {"dirs": 2}),
    "gru constants": ("GRU", {}, {"constants": ("W", "B")}),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_onnx_reference(tmp_path, case, dtype):
    op, attrs, options = CASES[case]
    model, arrays = build(op, dtype=dtype, seed=len(case), **attrs, **options)
    path = save(model, tmp_path)
    xs = np.random.default_rng(5).uniform(-2, 2, (7, 3))
    expected = reference_y(model, xs.astype(dtype))
    layers = read_layers(path)
    assert len(layers) == expected.shape[1]
    for d, layer in enumerate(layers):
        cell = gru_tui.load(path, layer=layer.name, dtype=dtype)
        assert cell.reverse == (d == 1 or attrs.get("direction") == "reverse")
        np.testing.assert_allclose(engine_h(cell, xs), expected[:, d], rtol=0, atol=TOL[dtype])
        assert layer.parameters == sum(int(a[d].size) for a in arrays.values())


def test_layout_1_reads_the_same_weights(tmp_path):
    model, _ = build("GRU", layout=1, linear_before_reset=1)
    path = save(model, tmp_path)
    xs = np.random.default_rng(1).uniform(-2, 2, (6, 3))
    X = xs[None, :, :]  # layout 1: [batch, T, D]
    model.graph.input[0].CopyFrom(helper.make_tensor_value_info("X", TensorProto.DOUBLE,
                                                                [1, None, 3]))
    Y = ReferenceEvaluator(model).run(None, {"X": X})[0]  # [batch, T, dirs, H]
    np.testing.assert_allclose(gru_tui.load(path).run(xs)["h"], Y[0, :, 0], rtol=0,
                               atol=1e-10)


def test_layout_1_initial_h_is_batch_first(tmp_path):
    h0 = np.arange(16.0).reshape(2, 2, 4) / 20  # layout 1: [batch, dirs, H]
    model, _ = build("RNN", direction="bidirectional", dirs=2, initial_h=h0, layout=1)
    layers = read_layers(save(model, tmp_path))
    for d, layer in enumerate(layers):
        np.testing.assert_array_equal(layer.initial_h, h0[:, d])


def test_initial_h_is_kept_and_listed(tmp_path):
    h0 = np.array([[[0.5, -0.2, 0.1, 0.3]]])
    model, _ = build("GRU", initial_h=h0, linear_before_reset=1)
    path = save(model, tmp_path)
    (layer,) = read_layers(path)
    np.testing.assert_array_equal(layer.initial_h, h0[0])
    assert layer.convention == "reset after, initial_h stored"
    assert layer.parameters == 3 * 4 * 3 + 3 * 4 * 4 + 2 * 3 * 4  # initial_h not counted
    # run from the stored state, it matches ONNX (the caller passes it as h0)
    xs = np.random.default_rng(2).uniform(-1, 1, (5, 3))
    np.testing.assert_allclose(gru_tui.load(path).run(xs, h0=layer.initial_h[0])["h"],
                               reference_y(model, xs)[:, 0], rtol=0, atol=1e-10)


def test_unnamed_nodes_and_several_nodes(tmp_path):
    gru, _ = build("GRU", name="")
    lstm, _ = build("LSTM", name="", seed=3)
    node = lstm.graph.node[0]
    for key, new in (("W", "W2"), ("R", "R2"), ("B", "B2")):
        index = list(node.input).index(key)
        node.input[index] = new
    for init in lstm.graph.initializer:
        init.name += "2"
    node.input[0] = "Y_h"  # any input: it is not read
    node.output[:] = ["Y2", "Y_h2"]
    gru.graph.node.append(node)
    gru.graph.initializer.extend(lstm.graph.initializer)
    path = save(gru, tmp_path)
    layers = read_layers(path)
    assert [(layer.name, layer.kind) for layer in layers] == [("node0", "gru"),
                                                              ("node1", "lstm")]


def test_missing_onnx_package_is_one_clear_line(tmp_path, monkeypatch):
    import builtins

    model, _ = build("GRU")
    path = save(model, tmp_path)
    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(InputError, match=r"install gru-tui\[onnx\] to read .onnx files"):
        read_layers(path)


# -- through the real command ----------------------------------------------------------------




def test_cli_inspect_and_step(cli, tmp_path):
    model, _ = build("GRU", direction="bidirectional", dirs=2, linear_before_reset=0,
                     name="enc")
    path = save(model, tmp_path)
    lstm_model, _ = build("LSTM", peepholes=True, dtype="float32", name="lstm1")
    lstm_path = save(lstm_model, tmp_path, "lstm.onnx")
    xs = np.random.default_rng(9).uniform(-1, 1, (5, 3)).round(3)
    inline = ";".join(",".join(str(v) for v in row) for row in xs)
    step = ["step", "--json", "-i", inline, "--weights"]
    results = cli.many({
        "inspect": (["inspect", str(path), "--json"], {}),
        "table": (["inspect", str(lstm_path)], {}),
        "forward": ([*step, str(path)], {}),
        "reverse": ([*step, str(path), "--layer", "enc_reverse"], {}),
        "lstm": ([*step, str(lstm_path), "--dtype", "float32"], {}),
        "reset agrees": ([*step, str(path), "--gru-reset", "before"], {}),
        "reset conflicts": ([*step, str(path), "--gru-reset", "after"], {}),
    })
    stated = {"recurrent_activation": "sigmoid", "activations_assumed": None}
    assert json.loads(results["inspect"].stdout) == [
        {"index": 0, "name": "enc", "kind": "gru", "direction": "forward", "input_size": 3,
         "hidden_size": 4, "convention": "reset before", "parameters": 108, **stated},
        {"index": 1, "name": "enc_reverse", "kind": "gru", "direction": "reverse",
         "input_size": 3, "hidden_size": 4, "convention": "reset before", "parameters": 108,
         **stated},
    ]
    assert results["table"].returncode == 0
    assert "lstm1" in results["table"].stdout and "peepholes" in results["table"].stdout
    expected = reference_y(model, xs)
    forward = results["forward"].records()
    np.testing.assert_allclose([r["h"] for r in forward], expected[:, 0], rtol=0, atol=1e-10)
    assert results["reset agrees"].records() == forward
    backward = results["reverse"].records()
    assert [r["x"] for r in backward] == xs[::-1].tolist()
    np.testing.assert_allclose([r["h"] for r in backward], expected[::-1, 1], rtol=0,
                               atol=1e-10)
    lstm = results["lstm"].records()
    np.testing.assert_allclose([r["h"] for r in lstm], reference_y(lstm_model, xs)[:, 0],
                               rtol=0, atol=1e-5)
    conflict = results["reset conflicts"]
    assert conflict.returncode == 2 and conflict.stdout == ""
    assert "ONNX's GRU enc places the reset gate before U_n" in conflict.stderr


def bad_models(tmp_path):
    files = {}

    def add(label, model, *needles):
        path = tmp_path / f"{label.replace(' ', '_')}.onnx"
        if isinstance(model, bytes):
            path.write_bytes(model)
        else:
            onnx.save(model, str(path))
        files[label] = (path, (path.name, *needles))

    add("corrupt", b"\xff\xff\xff\xff not protobuf", "not a readable ONNX model")
    add("empty", b"", "is empty")
    no_node = helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["X"], ["Y"])], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])]))
    add("no node", no_node, "no recurrent layer", "no GRU, LSTM or RNN node")
    add("computed W", build("GRU", computed=("W",))[0],
        "node rnn1: W is computed at run time, not stored")
    add("computed B", build("LSTM", computed=("B",))[0], "node rnn1: B is computed at run time")
    add("activations", build("GRU", name="gru1", activations=["Relu", "Tanh"])[0],
        "node gru1: activations Relu are not supported; gru-tui runs σ and tanh")
    add("clip", build("LSTM", clip=3.0)[0], "node rnn1: clip 3 is not supported")
    add("input forget", build("LSTM", input_forget=1)[0], "input_forget 1 is not supported")
    add("alpha", build("RNN", activation_alpha=[0.5])[0], "activation_alpha is not supported")
    wrong_r, _ = build("GRU")
    wrong_r.graph.initializer[1].CopyFrom(numpy_helper.from_array(np.zeros((1, 12, 5)), "R"))
    add("wrong R", wrong_r, "node rnn1: R has shape (1, 12, 5), expected (1, 12, 4)")
    wrong_b, _ = build("GRU")
    wrong_b.graph.initializer[2].CopyFrom(numpy_helper.from_array(np.zeros((1, 12)), "B"))
    add("wrong B", wrong_b, "node rnn1: B has shape (1, 12), expected (1, 24)")
    wrong_w, _ = build("LSTM", direction="bidirectional")  # W holds one direction only
    add("wrong W", wrong_w, "node rnn1: W has shape (1, 16, 3), expected (2, 16, D)")
    add("wrong initial_h", build("GRU", initial_h=np.zeros((2, 1, 4)))[0],
        "node rnn1: initial_h has shape (2, 1, 4), expected (1, batch, 4)")
    ints, _ = build("GRU")
    ints.graph.initializer[0].CopyFrom(numpy_helper.from_array(
        np.zeros((1, 12, 3), np.int64), "W"))
    add("integers", ints, "node rnn1: W (W) holds int64 values, expected floats")
    nan, _ = build("RNN")
    nan.graph.initializer[1].CopyFrom(numpy_helper.from_array(np.full((1, 4, 4), np.nan), "R"))
    add("nan", nan, "node rnn1: R (R) holds NaN or inf")
    return files


def test_bad_onnx_files(cli, tmp_path):
    files = bad_models(tmp_path)
    runs = {}
    for name, (path, _) in files.items():
        runs[("step", name)] = (["step", "--json", "--weights", str(path)], {})
        runs[("inspect", name)] = (["inspect", str(path), "--json"], {})
    results = cli.many(runs)
    for (_command, name), result in results.items():
        needles = files[name][1]
        assert result.returncode == 2, (name, result.stderr)
        assert result.stdout == "", name
        assert "Traceback" not in result.stderr, name
        assert len(result.stderr.strip().splitlines()) == 1, (name, result.stderr)
        for needle in needles:
            assert needle in result.stderr, (name, needle, result.stderr)


def test_cli_starts_from_a_stored_initial_h(cli, tmp_path):
    h0 = np.array([[[0.5, -0.2, 0.1, 0.3]], [[-0.4, 0.6, 0.2, -0.1]]])
    model, _ = build("LSTM", direction="bidirectional", dirs=2, initial_h=h0, name="lstm")
    path = save(model, tmp_path)
    xs = np.random.default_rng(4).uniform(-1, 1, (4, 3)).round(3)
    inline = ";".join(",".join(str(v) for v in row) for row in xs)
    step = ["step", "--json", "-i", inline, "--weights", str(path)]
    results = cli.many({
        "inspect": (["inspect", str(path), "--json"], {}),
        "forward": (step, {}),
        "reverse": ([*step, "--layer", "lstm_reverse"], {}),
        "given": ([*step, "--h0", "0,0,0,0"], {}),
    })
    listed = json.loads(results["inspect"].stdout)
    assert [item["convention"] for item in listed] == ["standard, initial_h stored"] * 2
    expected = reference_y(model, xs)
    forward, backward = results["forward"].records(), results["reverse"].records()
    assert forward[0]["h_prev"] == h0[0, 0].tolist()
    assert backward[0]["h_prev"] == h0[1, 0].tolist()
    np.testing.assert_allclose([r["h"] for r in forward], expected[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose([r["h"] for r in backward], expected[::-1, 1], rtol=0,
                               atol=1e-10)
    given = results["given"].records()  # --h0 wins over the stored state
    assert given[0]["h_prev"] == [0.0] * 4
    zeros = gru_tui.load(path).run(xs)["h"]  # the API starts from zeros unless told
    np.testing.assert_allclose([r["h"] for r in given], zeros, rtol=0, atol=1e-12)


def test_initial_c_is_read_like_initial_h(tmp_path):
    c0 = np.array([[[0.3, -0.6, 0.2, 0.9]], [[-0.1, 0.4, -0.7, 0.5]]])  # [dirs, batch, H]
    model, _ = build("LSTM", direction="bidirectional", dirs=2, initial_c=c0.transpose(1, 0, 2),
                     layout=1)
    layers = read_layers(save(model, tmp_path))
    for d, layer in enumerate(layers):
        np.testing.assert_array_equal(layer.initial_c, c0[d])
        assert layer.initial_h is None
        assert layer.convention == "standard, initial_c stored"
    wrong, _ = build("LSTM", initial_c=np.zeros((1, 1, 3)))
    with pytest.raises(InputError, match=r"initial_c has shape \(1, 1, 3\), expected "
                                         r"\(1, batch, 4\)"):
        read_layers(save(wrong, tmp_path, "wrong.onnx"))


def test_cli_starts_from_a_stored_initial_c(cli, tmp_path):
    h0 = np.array([[[0.5, -0.2, 0.1, 0.3]], [[-0.4, 0.6, 0.2, -0.1]]])
    c0 = np.array([[[0.3, -0.6, 0.2, 0.9]], [[-0.1, 0.4, -0.7, 0.5]]])
    model, _ = build("LSTM", direction="bidirectional", dirs=2, initial_h=h0, initial_c=c0,
                     peepholes=True, name="lstm")
    path = save(model, tmp_path)
    xs = np.random.default_rng(5).uniform(-1, 1, (5, 3)).round(3)
    inline = ";".join(",".join(str(v) for v in row) for row in xs)
    step = ["step", "--json", "-i", inline, "--weights", str(path)]
    results = cli.many({
        "inspect": (["inspect", str(path), "--json"], {}),
        "forward": (step, {}),
        "reverse": ([*step, "--layer", "lstm_reverse"], {}),
        "given": ([*step, "--c0", "0,0,0,0"], {}),
    })
    listed = json.loads(results["inspect"].stdout)
    assert [item["convention"] for item in listed] == [
        "peepholes, initial_h and initial_c stored"] * 2
    expected = reference_y(model, xs)  # onnx.reference starts from initial_h and initial_c
    forward, backward = results["forward"].records(), results["reverse"].records()
    assert forward[0]["c_prev"] == c0[0, 0].tolist()
    assert backward[0]["c_prev"] == c0[1, 0].tolist()
    np.testing.assert_allclose([r["h"] for r in forward], expected[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose([r["h"] for r in backward], expected[::-1, 1], rtol=0,
                               atol=1e-10)
    given = results["given"].records()  # --c0 wins over the stored state; h0 still stored
    assert given[0]["c_prev"] == [0.0] * 4 and given[0]["h_prev"] == h0[0, 0].tolist()
    zeros_c = gru_tui.load(path).run(xs, h0=h0[0, 0])["h"]
    np.testing.assert_allclose([r["h"] for r in given], zeros_c, rtol=0, atol=1e-12)


# -- subgraphs, folded constants, initial states the model is given ------------------------------


def gru_arrays(seed=0, D=3, H=4):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-0.8, 0.8, (1, 3 * H, D)), rng.uniform(-0.8, 0.8, (1, 3 * H, H)),
            rng.uniform(-0.8, 0.8, (1, 6 * H)))


def scan_model(name="", D=3, H=4):
    """A Scan whose body runs one GRU step per input row: W, R, B are the outer graph's
    initializers, the state is carried from step to step (a body input)."""
    W, R, B = gru_arrays()
    double = TensorProto.DOUBLE
    axes = numpy_helper.from_array(np.array([0], np.int64), "axes")
    body = helper.make_graph(
        [helper.make_node("Constant", [], ["axes"], value=axes),
         helper.make_node("Unsqueeze", ["x_t", "axes"], ["x_seq"]),
         helper.make_node("GRU", ["x_seq", "W", "R", "B", "", "h_prev"], ["y", "h_next"],
                          hidden_size=H, linear_before_reset=1, name=name),
         helper.make_node("Identity", ["h_next"], ["h_out"])],
        "body",
        [helper.make_tensor_value_info("h_prev", double, [1, 1, H]),
         helper.make_tensor_value_info("x_t", double, [1, D])],
        [helper.make_tensor_value_info("h_next", double, [1, 1, H]),
         helper.make_tensor_value_info("h_out", double, [1, 1, H])])
    scan = helper.make_node("Scan", ["h0", "X"], ["h_T", "Ys"], body=body, num_scan_inputs=1,
                            name="steps")
    graph = helper.make_graph(
        [scan], "outer",
        [helper.make_tensor_value_info("h0", double, [1, 1, H]),
         helper.make_tensor_value_info("X", double, [None, 1, D])],
        [helper.make_tensor_value_info("h_T", double, None),
         helper.make_tensor_value_info("Ys", double, None)],
        initializer=[numpy_helper.from_array(a, n) for a, n in ((W, "W"), (R, "R"), (B, "B"))])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_gru_inside_a_scan_body(tmp_path):
    model = scan_model(name="gru")
    path = save(model, tmp_path)
    (layer,) = read_layers(path)
    assert (layer.name, layer.kind, layer.reset) == ("steps/body/gru", "gru", "after")
    assert layer.convention == "reset after, initial_h is a graph input"
    assert layer.initial_h is None  # the carried state: runs start from zeros
    xs = np.random.default_rng(3).uniform(-1, 1, (6, 3))
    h0 = np.random.default_rng(4).uniform(-1, 1, 4)
    Ys = ReferenceEvaluator(model).run(None, {"h0": h0[None, None], "X": xs[:, None]})[1]
    np.testing.assert_allclose(gru_tui.load(path).run(xs, h0)["h"], Ys[:, 0, 0], rtol=0,
                               atol=1e-10)
    unnamed = save(scan_model(), tmp_path, "unnamed.onnx")
    assert [la.name for la in read_layers(unnamed)] == ["steps/body/node2"]


def test_w_that_depends_on_a_loop_input_is_refused(tmp_path):
    W, R, B = gru_arrays()
    double = TensorProto.DOUBLE
    body = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["scale"], to=double),
         helper.make_node("Mul", ["W", "scale"], ["W_i"]),
         helper.make_node("GRU", ["X", "W_i", "R", "B"], ["y", "h"], hidden_size=4),
         helper.make_node("Identity", ["cond"], ["cond_out"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, [])])
    loop = helper.make_node("Loop", ["trips", ""], [], body=body)
    graph = helper.make_graph(
        [loop], "outer", [helper.make_tensor_value_info("X", double, None),
                          helper.make_tensor_value_info("trips", TensorProto.INT64, [])], [],
        initializer=[numpy_helper.from_array(a, n) for a, n in ((W, "W"), (R, "R"), (B, "B"))])
    path = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path)
    with pytest.raises(InputError, match=r"node node0/body/node2: W is computed at run time, "
                                         r"not stored: it depends on graph input 'i'"):
        read_layers(path)


def test_weights_folded_from_constants_as_exporters_write_them(tmp_path):
    """W a Transpose of a Reshape of a Constant, R a Cast of a float32 Constant, B a Concat of
    Slices: folded, they are exactly what the reference evaluator computes."""
    W, R, B = gru_arrays(seed=5)
    ints = {name: numpy_helper.from_array(np.array(v, np.int64), name) for name, v in (
        ("shape", [1, 3, 12]), ("perm_unused", [0]), ("start0", [0]), ("mid", [12]),
        ("end", [24]), ("axis1", [1]))}
    nodes = [
        helper.make_node("Constant", [], ["W_flat"],
                         value=numpy_helper.from_array(W.transpose(0, 2, 1).ravel(), "W_flat")),
        helper.make_node("Constant", [], ["shape"], value=ints["shape"]),
        helper.make_node("Reshape", ["W_flat", "shape"], ["W_t"]),
        helper.make_node("Transpose", ["W_t"], ["W_f"], perm=[0, 2, 1]),
        helper.make_node("Constant", [], ["R32"],
                         value=numpy_helper.from_array(R.astype(np.float32), "R32")),
        helper.make_node("Cast", ["R32"], ["R_f"], to=TensorProto.DOUBLE),
        *[helper.make_node("Constant", [], [n], value=ints[n])
          for n in ("start0", "mid", "end", "axis1")],
        helper.make_node("Slice", ["B_stored", "start0", "mid", "axis1"], ["B_in"]),
        helper.make_node("Slice", ["B_stored", "mid", "end", "axis1"], ["B_rec"]),
        helper.make_node("Concat", ["B_in", "B_rec"], ["B_f"], axis=1),
        helper.make_node("GRU", ["X", "W_f", "R_f", "B_f"], ["Y", "Y_h"], hidden_size=4,
                         name="folded"),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, 1, 3])],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)],
        initializer=[numpy_helper.from_array(B, "B_stored")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = save(model, tmp_path)
    (layer,) = read_layers(path)
    np.testing.assert_array_equal(layer.tensors["weight_ih"], W[0])
    np.testing.assert_array_equal(layer.tensors["weight_hh"], R.astype(np.float32)[0])
    xs = np.random.default_rng(6).uniform(-1, 1, (5, 3))
    np.testing.assert_allclose(gru_tui.load(path).run(xs)["h"], reference_y(model, xs)[:, 0],
                               rtol=0, atol=1e-10)


def refused_folds(tmp_path):
    W, R, B = gru_arrays()
    stored = [numpy_helper.from_array(a, n) for a, n in ((R, "R"), (B, "B"))]

    def model(nodes, extra=()):
        node = helper.make_node("GRU", ["X", "W", "R", "B"], ["Y"], hidden_size=4, name="g")
        graph = helper.make_graph(
            [*nodes, node], "g", [helper.make_tensor_value_info("X", TensorProto.DOUBLE, None)],
            [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)],
            initializer=[*stored, *extra])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    halves = [numpy_helper.from_array(W[..., :2].copy(), "A"),
              numpy_helper.from_array(np.eye(2, 3), "E")]
    return {
        "matmul": (model([helper.make_node("MatMul", ["A", "E"], ["W"])], halves),
                   "node g: W is computed by a MatMul node 'W', which gru-tui does not fold"),
        "cycle": (model([helper.make_node("Identity", ["V"], ["W"]),
                         helper.make_node("Identity", ["W"], ["V"])]),
                  "node g: W: W is computed from itself (a cycle)"),
        "undefined": (model([helper.make_node("Identity", ["ghost"], ["W"])]),
                      "node g: W: 'ghost' is not defined in the model"),
        "failing op": (model([helper.make_node("Concat", ["A", "E"], ["W"], axis=0)], halves),
                       "node g: W: Concat node 'W' cannot be folded"),
    }


def test_refused_folds_are_one_line(cli, tmp_path):
    cases = refused_folds(tmp_path)
    runs = {name: (["inspect", str(save(model, tmp_path, f"{name}.onnx"))], {})
            for name, (model, _) in cases.items()}
    for name, result in cli.many(runs).items():
        cli.assert_bad(result, cases[name][1])


def test_what_a_model_without_a_readable_node_holds(cli, tmp_path):
    x = [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)]
    y = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)]
    function = helper.make_function(
        "mine", "cell", ["X", "W", "R"], ["Y"],
        [helper.make_node("LSTM", ["X", "W", "R"], ["Y"], hidden_size=2)],
        opset_imports=[helper.make_opsetid("", 17)])
    in_function = helper.make_model(
        helper.make_graph([helper.make_node("cell", ["X", "X", "X"], ["Y"], domain="mine")],
                          "g", x, y),
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("mine", 1)],
        functions=[function])
    foreign = helper.make_model(helper.make_graph(
        [helper.make_node("DynamicQuantizeLSTM", ["X"], ["Y"], domain="com.microsoft")],
        "g", x, y), opset_imports=[helper.make_opsetid("", 17)])
    cases = {
        "function": (in_function, "its functions cell hold recurrent nodes, which gru-tui "
                                  "does not read"),
        "foreign": (foreign, "com.microsoft.DynamicQuantizeLSTM is not ONNX's own operator"),
    }
    runs = {name: (["inspect", str(save(model, tmp_path, f"{name}.onnx"))], {})
            for name, (model, _) in cases.items()}
    for name, result in cli.many(runs).items():
        cli.assert_bad(result, "holds no recurrent layer (no GRU, LSTM or RNN node, in its "
                       "graph or any subgraph)", cases[name][1])
