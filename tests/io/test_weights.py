"""SPEC §4: PyTorch state dicts in .safetensors and .npz, read without executing anything.

Files are written here by the libraries themselves (safetensors.numpy, np.savez) from weights
drawn in the test; with torch importable, real nn.GRU / nn.LSTM / nn.RNN and their Cell
versions are saved and the engine must reproduce torch's outputs per step.
"""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file

import gru_tui
from gru_tui.engine.gates import rows_in_order
from gru_tui.errors import InputError
from gru_tui.io.weights import read_layers, select_layer

# PyTorch stacks its gate rows r, z, n (nn.GRU) and i, f, g, o (nn.LSTM).
TORCH_ORDER = {"gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o"), "rnn": ("h",)}

GATES = {"gru": 3, "lstm": 4, "rnn": 1}
TOLERANCE = {"float64": 1e-10, "float32": 1e-5}


def state_dict(kind, D, H, layers=1, bidirectional=False, prefix="", bias=True, seed=0,
               dtype=np.float32, cell=False):
    """Random tensors named as PyTorch names them."""
    rng = np.random.default_rng(seed)
    rows = GATES[kind] * H
    tensors = {}
    if cell:
        tensors[f"{prefix}weight_ih"] = rng.uniform(-1, 1, (rows, D)).astype(dtype)
        tensors[f"{prefix}weight_hh"] = rng.uniform(-1, 1, (rows, H)).astype(dtype)
        if bias:
            tensors[f"{prefix}bias_ih"] = rng.uniform(-1, 1, rows).astype(dtype)
            tensors[f"{prefix}bias_hh"] = rng.uniform(-1, 1, rows).astype(dtype)
        return tensors
    for k in range(layers):
        width = D if k == 0 else H * (2 if bidirectional else 1)
        for suffix in ("", "_reverse") if bidirectional else ("",):
            tensors[f"{prefix}weight_ih_l{k}{suffix}"] = rng.uniform(-1, 1, (rows, width)
                                                                     ).astype(dtype)
            tensors[f"{prefix}weight_hh_l{k}{suffix}"] = rng.uniform(-1, 1, (rows, H)
                                                                     ).astype(dtype)
            if bias:
                tensors[f"{prefix}bias_ih_l{k}{suffix}"] = rng.uniform(-1, 1, rows).astype(dtype)
                tensors[f"{prefix}bias_hh_l{k}{suffix}"] = rng.uniform(-1, 1, rows).astype(dtype)
    return tensors


def write(path, tensors):
    if path.suffix == ".npz":
        np.savez(path, **tensors)
    else:
        save_file(tensors, str(path))
    return path


@pytest.fixture(params=["safetensors", "npz"])
def suffix(request):
    return "." + request.param


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_layers_listed_with_names_kinds_and_counts(tmp_path, suffix, kind):
    tensors = state_dict(kind, 5, 4, layers=2, bidirectional=True, prefix="encoder.rnn.")
    tensors["encoder.proj.weight"] = np.zeros((2, 8), np.float32)  # not recurrent: ignored
    layers = read_layers(write(tmp_path / f"m{suffix}", tensors))
    assert [layer.name for layer in layers] == ["encoder.rnn.l0", "encoder.rnn.l0_reverse",
                                                "encoder.rnn.l1", "encoder.rnn.l1_reverse"]
    assert {layer.kind for layer in layers} == {kind}
    assert [layer.direction for layer in layers] == ["forward", "reverse"] * 2
    assert [layer.reverse for layer in layers] == [False, True] * 2
    assert [layer.input_size for layer in layers] == [5, 5, 8, 8]
    assert {layer.hidden_size for layer in layers} == {4}
    g = GATES[kind]
    assert [layer.parameters for layer in layers] == [g * 4 * (5 + 4 + 2)] * 2 + [
        g * 4 * (8 + 4 + 2)] * 2
    assert layers[0].convention == {"gru": "reset after", "lstm": "standard", "rnn": "tanh"}[kind]


def test_names_of_cells_and_bare_layers(tmp_path, suffix):
    tensors = state_dict("lstm", 3, 2, cell=True, prefix="enc.cell.")
    tensors |= state_dict("gru", 2, 5, bias=False, prefix="dec.")
    layers = read_layers(write(tmp_path / f"m{suffix}", tensors))
    layers.sort(key=lambda la: la.name)  # safetensors keeps its tensors sorted by name
    assert [(la.name, la.kind, la.parameters) for la in layers] == [
        ("dec.l0", "gru", 3 * 5 * (2 + 5)), ("enc.cell", "lstm", 4 * 2 * (3 + 2 + 2))]
    bare = read_layers(write(tmp_path / f"bare{suffix}", state_dict("rnn", 4, 3, cell=True)))
    assert [(la.name, la.kind) for la in bare] == [("cell", "rnn")]
    plain = read_layers(write(tmp_path / f"plain{suffix}", state_dict("gru", 4, 3)))
    assert [(la.name, la.kind) for la in plain] == [("l0", "gru")]
    # no bias: zeros
    cell = layers[0].cell()
    assert not cell.b_i.any() and not cell.b_h.any()


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_cell_weights_are_pytorch_rows_in_engine_order(tmp_path, kind):
    tensors = state_dict(kind, 3, 4, prefix="m.")
    layer = read_layers(write(tmp_path / "m.safetensors", tensors))[0]
    for dtype in ("float64", "float32"):
        cell = layer.cell(dtype)
        assert cell.dtype == np.dtype(dtype)
        for mine, key in ((cell.W, "weight_ih"), (cell.U, "weight_hh"), (cell.b_i, "bias_ih"),
                          (cell.b_h, "bias_hh")):
            expected = rows_in_order(tensors[f"m.{key}_l0"], TORCH_ORDER[kind],
                                     type(cell).GATES)
            assert np.array_equal(mine, expected.astype(dtype))  # float32 kept exactly
    if kind == "gru":
        assert cell.reset == "after" and cell.z_weights == "old"


def test_load_api_default_layer_and_selection(tmp_path):
    path = write(tmp_path / "m.safetensors",
                 state_dict("gru", 3, 2, layers=2, bidirectional=True, prefix="rnn."))
    cell = gru_tui.load(path)
    assert cell.kind == "gru" and cell.reverse is False and cell.dtype == np.float64
    assert cell.source.endswith("rnn.l0")
    assert gru_tui.load(path, layer=1).reverse is True
    assert gru_tui.load(path, layer="1").source.endswith("rnn.l0_reverse")
    assert gru_tui.load(str(path), layer="rnn.l1", dtype="float32").input_size == 4
    assert gru_tui.load(path, reset="before").reset == "before"
    with pytest.raises(InputError, match=r"no layer 'x'; the file has: rnn.l0, rnn.l0_reverse"):
        gru_tui.load(path, layer="x")
    with pytest.raises(InputError, match="no layer 7"):
        gru_tui.load(path, layer=7)
    # a file holding only reverse layers defaults to the first of them
    only = {k: v for k, v in state_dict("gru", 3, 2, bidirectional=True).items() if "rev" in k}
    assert select_layer(read_layers(write(tmp_path / "r.npz", only)), None).reverse


def test_float64_files_and_float16_files(tmp_path):
    tensors = state_dict("rnn", 2, 2, dtype=np.float64)
    cell = gru_tui.load(write(tmp_path / "m.npz", tensors))
    assert np.array_equal(cell.W, tensors["weight_ih_l0"])
    half = state_dict("rnn", 2, 2, dtype=np.float16)
    cell = gru_tui.load(write(tmp_path / "h.safetensors", half))
    assert np.array_equal(cell.W, half["weight_ih_l0"].astype(np.float64))


# -- against PyTorch ------------------------------------------------------------------------


def _torch_state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fmt", ["safetensors", "npz"])
def test_stacked_bidirectional_torch_models_step_by_step(tmp_path, kind, dtype, fmt):
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    T, D, H = 7, 5, 4
    cls = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "rnn": torch.nn.RNN}[kind]
    model = torch.nn.Module()
    model.encoder = torch.nn.Module()
    model.encoder.rnn = cls(D, H, num_layers=2, bidirectional=True)
    if dtype == "float64":
        model = model.double()
    path = tmp_path / f"m.{fmt}"
    if fmt == "safetensors":
        from safetensors.torch import save_file as save_torch

        save_torch(model.state_dict(), str(path))
    else:
        np.savez(path, **_torch_state(model))
    xs = torch.randn(T, 1, D, dtype=model.encoder.rnn.weight_ih_l0.dtype)
    with torch.no_grad():
        out, _ = model.encoder.rnn(xs)
    out = out[:, 0].numpy()
    layers = read_layers(path)
    assert [layer.name for layer in layers] == ["encoder.rnn.l0", "encoder.rnn.l0_reverse",
                                                "encoder.rnn.l1", "encoder.rnn.l1_reverse"]
    tol = TOLERANCE[dtype]
    inputs = xs[:, 0].numpy()
    for k in range(2):
        forward = gru_tui.load(path, layer=2 * k, dtype=dtype)
        backward = gru_tui.load(path, layer=2 * k + 1, dtype=dtype)
        assert backward.reverse and not forward.reverse
        h_fwd = forward.run(inputs)["h"]
        trace = backward.run(inputs[::-1])
        assert np.array_equal(trace["x"], inputs[::-1])  # each step with the x it consumed
        h_bwd = trace["h"][::-1]
        if k == 1:  # the last layer's outputs are torch's, per step and direction
            np.testing.assert_allclose(h_fwd, out[:, :H], rtol=0, atol=tol)
            np.testing.assert_allclose(h_bwd, out[:, H:], rtol=0, atol=tol)
        inputs = np.concatenate([h_fwd, h_bwd], axis=1)


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_torch_cells_step_by_step(tmp_path, kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(5)
    D, H = 3, 6
    cls = {"gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell, "rnn": torch.nn.RNNCell}[kind]
    model = torch.nn.Module()
    model.cell = cls(D, H)
    path = write(tmp_path / "c.npz", _torch_state(model))
    cell = gru_tui.load(path, dtype="float32")
    assert cell.kind == kind
    xs = torch.randn(9, D)
    h = torch.zeros(1, H)
    c = torch.zeros(1, H)
    trace = cell.run(xs.numpy())
    with torch.no_grad():
        for t in range(len(xs)):
            if kind == "lstm":
                h, c = model.cell(xs[t : t + 1], (h, c))
                np.testing.assert_allclose(trace["c"][t], c[0].numpy(), rtol=0, atol=1e-5)
            else:
                h = model.cell(xs[t : t + 1], h)
            np.testing.assert_allclose(trace["h"][t], h[0].numpy(), rtol=0, atol=1e-5)


def test_bfloat16_tensors_are_read_exactly(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file as save_torch

    module = torch.nn.GRU(3, 2).to(torch.bfloat16)
    path = tmp_path / "bf16.safetensors"
    save_torch(module.state_dict(), str(path))
    cell = gru_tui.load(path, dtype="float32")
    expected = rows_in_order(module.weight_hh_l0.detach().float().numpy(), TORCH_ORDER["gru"],
                             type(cell).GATES)
    assert np.array_equal(cell.U, expected)
    assert read_layers(path)[0].parameters == 3 * 2 * (3 + 2 + 2)
    # numpy alone has no bfloat16 (ml_dtypes, once imported, adds one): both ways read it
    import json
    import subprocess
    import sys

    code = ("import json, sys, gru_tui; cell = gru_tui.load(sys.argv[1], dtype='float32'); "
            "print(json.dumps(['ml_dtypes' in sys.modules, cell.U.tolist()]))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, check=True)
    imported, recurrent = json.loads(done.stdout)
    assert not imported and recurrent == expected.tolist()


def test_huge_files_are_refused_before_reading(tmp_path, monkeypatch):
    from gru_tui.io import layers

    path = write(tmp_path / "m.safetensors", state_dict("gru", 3, 2))
    monkeypatch.setattr(layers, "MAX_FILE_BYTES", 100)
    message = r"m.safetensors is [\d,]+ bytes; gru-tui reads weight files up to 100 bytes"
    with pytest.raises(InputError, match=message):
        read_layers(path)


def test_reverse_survives_replace(tmp_path):
    path = write(tmp_path / "m.npz", state_dict("lstm", 2, 2, bidirectional=True))
    cell = gru_tui.load(path, layer="l0_reverse")
    assert cell.reverse and cell.replace(dtype="float32").reverse
    assert not gru_tui.load(path).replace(dtype="float32").reverse


def test_lstm_projections_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    module = torch.nn.LSTM(3, 4, proj_size=2)
    path = write(tmp_path / "p.npz", _torch_state(module))
    with pytest.raises(InputError, match=r"weight_hr_l0 is an LSTM projection"):
        read_layers(path)
