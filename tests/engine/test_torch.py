"""The engine against PyTorch's nn.GRU / nn.LSTM / nn.RNN and their Cell versions.

PyTorch stacks gate rows r, z, n (GRU) and i, f, g, o (LSTM), keeps two bias vectors, and
places the GRU reset "after" the recurrent product; its z weights the old state.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gru_tui.engine import GRUCell, LSTMCell, RNNCell  # noqa: E402
from gru_tui.engine.gates import rows_in_order  # noqa: E402

TORCH_ORDER = {"gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o"), "rnn": ("h",)}
ENGINE = {"gru": GRUCell, "lstm": LSTMCell, "rnn": RNNCell}
MODULES = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}
CELL_MODULES = {"gru": "GRUCell", "lstm": "LSTMCell", "rnn": "RNNCell"}
SIZES = [(1, 1, 1), (6, 3, 4), (9, 5, 2), (4, 2, 7)]  # (T, D, H)
TOLERANCE = {"float64": 1e-10, "float32": 1e-5}
TORCH_DTYPE = {"float64": torch.float64, "float32": torch.float32}


def engine_cell(kind, weight_ih, weight_hh, bias_ih, bias_hh, dtype):
    cls = ENGINE[kind]
    order = TORCH_ORDER[kind]
    arrays = [None if a is None else rows_in_order(a.detach().numpy(), order, cls.GATES)
              for a in (weight_ih, weight_hh, bias_ih, bias_hh)]
    conventions = {"reset": "after"} if kind == "gru" else {}  # z weights "old", the default
    return cls(*arrays, dtype=dtype, **conventions)


def inputs(seed, T, D, H, dtype):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-2, 2, (T, D)).astype(dtype)
    h0 = rng.uniform(-0.9, 0.9, H).astype(dtype)
    c0 = rng.uniform(-2, 2, H).astype(dtype)
    return xs, h0, c0


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize(("T", "D", "H"), SIZES)
def test_sequence_modules(kind, dtype, T, D, H):
    torch.manual_seed(T * 100 + D * 10 + H)
    module = getattr(torch.nn, MODULES[kind])(D, H).to(TORCH_DTYPE[dtype])
    xs, h0, c0 = inputs(T + D + H, T, D, H, dtype)
    cell = engine_cell(kind, module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0,
                       module.bias_hh_l0, dtype)
    with torch.no_grad():
        x = torch.from_numpy(xs)[:, None, :]  # [T, batch 1, D]
        h = torch.from_numpy(h0)[None, None, :]
        if kind == "lstm":
            y, (h_n, c_n) = module(x, (h, torch.from_numpy(c0)[None, None, :]))
        else:
            y, h_n = module(x, h)
    trace = cell.run(xs, h0, c0)
    tol = TOLERANCE[dtype]
    assert trace["h"].dtype == np.dtype(dtype)
    np.testing.assert_allclose(trace["h"], y[:, 0, :].numpy(), rtol=0, atol=tol)
    np.testing.assert_allclose(trace["h"][-1], h_n[0, 0].numpy(), rtol=0, atol=tol)
    if kind == "lstm":
        np.testing.assert_allclose(trace["c"][-1], c_n[0, 0].numpy(), rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize(("T", "D", "H"), SIZES[1:3])
def test_cell_modules_step_by_step(kind, dtype, T, D, H):
    torch.manual_seed(7 + T)
    module = getattr(torch.nn, CELL_MODULES[kind])(D, H).to(TORCH_DTYPE[dtype])
    xs, h0, c0 = inputs(3 * T, T, D, H, dtype)
    cell = engine_cell(kind, module.weight_ih, module.weight_hh, module.bias_ih,
                       module.bias_hh, dtype)
    trace = cell.run(xs, h0, c0)
    h, c = torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]
    tol = TOLERANCE[dtype]
    with torch.no_grad():
        for t in range(T):
            x = torch.from_numpy(xs[t])[None]
            if kind == "lstm":
                h, c = module(x, (h, c))
                np.testing.assert_allclose(trace["c"][t], c[0].numpy(), rtol=0, atol=tol)
            else:
                h = module(x, h)
            np.testing.assert_allclose(trace["h"][t], h[0].numpy(), rtol=0, atol=tol,
                                       err_msg=f"step {t}")


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_without_bias(kind):
    torch.manual_seed(3)
    T, D, H = 5, 3, 4
    module = getattr(torch.nn, MODULES[kind])(D, H, bias=False).double()
    xs, h0, c0 = inputs(5, T, D, H, "float64")
    cell = engine_cell(kind, module.weight_ih_l0, module.weight_hh_l0, None, None, "float64")
    with torch.no_grad():
        x, h = torch.from_numpy(xs)[:, None, :], torch.from_numpy(h0)[None, None, :]
        state = (h, torch.from_numpy(c0)[None, None, :]) if kind == "lstm" else h
        y = module(x, state)[0]
    np.testing.assert_allclose(cell.run(xs, h0, c0)["h"], y[:, 0, :].numpy(), rtol=0,
                               atol=1e-10)


def test_gru_reset_before_is_not_pytorch():
    """Sanity check that the comparison can fail: the "before" GRU differs from PyTorch."""
    torch.manual_seed(0)
    module = torch.nn.GRU(3, 4).double()
    xs, h0, _ = inputs(0, 6, 3, 4, "float64")
    order = TORCH_ORDER["gru"]
    arrays = [rows_in_order(a.detach().numpy(), order, GRUCell.GATES)
              for a in (module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0,
                        module.bias_hh_l0)]
    with torch.no_grad():
        y, _ = module(torch.from_numpy(xs)[:, None, :], torch.from_numpy(h0)[None, None, :])
    before = GRUCell(*arrays, reset="before").run(xs, h0)["h"]
    assert np.abs(before - y[:, 0, :].numpy()).max() > 1e-4
