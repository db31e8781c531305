"""The training engine against independent references: central finite differences of the loss,
the engine's own cell.run, PyTorch's autograd and optimiser, and the update rules written out."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from gru_tui.engine import GRUCell, LSTMCell, RNNCell, random_cell
from gru_tui.engine.training import Adam, Network, clip_gradient

VARIANTS = [
    ("rnn", {}),
    ("gru", {"reset": "before", "z_weights": "old"}),
    ("gru", {"reset": "before", "z_weights": "new"}),
    ("gru", {"reset": "after", "z_weights": "old"}),
    ("gru", {"reset": "after", "z_weights": "new"}),
    ("lstm", {}),
]
IDS = ["rnn", "gru-before-old", "gru-before-new", "gru-after-old", "gru-after-new", "lstm"]
B, T, D, H, O = 3, 6, 2, 4, 2  # noqa: E741


def problem(seed: int = 0, dtype=np.float64):
    """Inputs, targets and a mask with scored and unscored steps."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, T, D)).astype(dtype)
    y = rng.normal(size=(B, T, O)).astype(dtype)
    mask = (rng.random((B, T)) < 0.6).astype(dtype)
    mask[:, -1] = 1.0
    mask[0, 1] = 0.0
    return x, y, mask


def network(kind: str, conventions: dict, dtype: str = "float64", seed: int = 1) -> Network:
    """A network with weights moved away from the initialisation, so no gate sits at 0.5."""
    net = Network.create(kind, D, H, O, seed=seed, dtype=dtype, **conventions)
    rng = np.random.default_rng(seed + 100)
    net.params += (0.4 * rng.normal(size=net.params.size)).astype(dtype)
    return net


def loss_written_out(cell, W_out, b_out, x, y, mask) -> float:
    """Σ m (ŷ − y)² / (O Σ m), every sequence run by the engine's cell.run."""
    total = 0.0
    for b in range(len(x)):
        y_hat = cell.run(x[b])["h"] @ W_out.T + b_out
        total += float((mask[b][:, None] * (y_hat - y[b]) ** 2).sum())
    return total / (y.shape[2] * mask.sum())


@pytest.mark.parametrize(("kind", "conventions"), VARIANTS, ids=IDS)
def test_gradient_matches_central_differences(kind, conventions):
    x, y, mask = problem()
    net = network(kind, conventions)
    net.loss_and_gradient(x, y, mask)
    eps = 1e-6
    for name in ("W", "U", "b_i", "b_h", "W_out", "b_out"):
        weights, numeric = getattr(net, name), np.empty(getattr(net, name).shape)
        for index in np.ndindex(weights.shape):
            saved = weights[index]
            weights[index] = saved + eps
            up = net.loss(x, y, mask)
            weights[index] = saved - eps
            down = net.loss(x, y, mask)
            weights[index] = saved
            numeric[index] = (up - down) / (2 * eps)
        error = np.abs(numeric - net.gradient[name]).max() / np.abs(numeric).max()
        assert error <= 1e-6, (name, error)


@pytest.mark.parametrize(("kind", "conventions"), VARIANTS, ids=IDS)
def test_forward_is_the_engine_cell_run(kind, conventions):
    x, y, mask = problem()
    net = network(kind, conventions)
    cell = net.cell()
    assert type(cell) is {"gru": GRUCell, "lstm": LSTMCell, "rnn": RNNCell}[kind]
    assert cell.conventions == {**conventions, "dtype": "float64"}
    W_out, b_out = net.readout()
    expected = np.stack([cell.run(x[b])["h"] @ W_out.T + b_out for b in range(B)])
    np.testing.assert_allclose(net.predict(x), expected, rtol=1e-12, atol=1e-14)
    assert net.loss(x, y, mask) == pytest.approx(
        loss_written_out(cell, W_out, b_out, x, y, mask), rel=1e-12)
    assert net.loss_and_gradient(x, y, mask) == net.loss(x, y, mask)


@pytest.mark.parametrize(("kind", "conventions"), VARIANTS, ids=IDS)
def test_float32_follows_float64(kind, conventions):
    x, y, mask = problem()
    wide, narrow = network(kind, conventions), network(kind, conventions, "float32")
    assert narrow.params.dtype == np.float32
    narrow.params[:] = wide.params  # the same weights, rounded
    wide.params[:] = narrow.params
    loss64 = wide.loss_and_gradient(x, y, mask)
    loss32 = narrow.loss_and_gradient(x.astype(np.float32), y.astype(np.float32),
                                      mask.astype(np.float32))
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(narrow.grads, wide.grads, rtol=1e-3,
                               atol=1e-5 * np.abs(wide.grads).max())


def test_the_network_is_the_cell_it_was_made_from():
    cell = random_cell("lstm", D, H, seed=3)
    W_out, b_out = np.arange(O * H).reshape(O, H) / 10, np.array([0.5, -0.5])
    net = Network.from_cell(cell, W_out, b_out)
    for name in ("W", "U", "b_i", "b_h"):
        np.testing.assert_array_equal(getattr(net, name), getattr(cell, name))
    np.testing.assert_array_equal(net.W_out, W_out)
    assert net.parameter_count == 4 * (D * H + H * H + 2 * H) + O * H + O
    again = net.cell()
    np.testing.assert_array_equal(again.U, cell.U)
    again_W = again.W.copy()
    net.params[:] = 0  # the cell is a copy: training on does not change it
    np.testing.assert_array_equal(again.W, again_W)


def test_initialisation_is_pytorchs_uniform_and_seeded():
    net = Network.create("gru", D, 16, O, seed=7, reset="after")
    bound = 1 / math.sqrt(16)
    assert np.abs(net.params).max() <= bound
    np.testing.assert_array_equal(net.U, random_cell("gru", D, 16, seed=7).U)
    again = Network.create("gru", D, 16, O, seed=7, reset="after")
    np.testing.assert_array_equal(again.params, net.params)
    assert not np.array_equal(Network.create("gru", D, 16, O, seed=8).params, net.params)


def test_a_loss_that_overflows_comes_back_quietly():
    x, y, mask = problem()
    net = network("lstm", {})
    net.W_out[...] = 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = net.loss_and_gradient(x, y, mask)
    assert not math.isfinite(loss)


def test_bad_shapes_are_refused():
    x, y, mask = problem()
    net = network("rnn", {})
    with pytest.raises(ValueError, match="inputs have shape"):
        net.loss(x[:, :, :1], y, mask)
    with pytest.raises(ValueError, match="do not fit"):
        net.loss(x, y[:, :, :1], mask)
    with pytest.raises(ValueError, match="selects no step"):
        net.loss(x, y, np.zeros_like(mask))


# -- clipping and Adam, against their definitions -------------------------------------------


def test_clipping_rescales_to_the_maximum_norm():
    rng = np.random.default_rng(0)
    g = rng.normal(size=50)
    norm = float(np.sqrt((g**2).sum()))
    big = g.copy()
    assert clip_gradient(big, 0.5) == pytest.approx(norm, rel=1e-15)
    np.testing.assert_allclose(big, g * 0.5 / (norm + 1e-6), rtol=1e-15)
    small = g.copy()
    assert clip_gradient(small, 2 * norm) == pytest.approx(norm)
    np.testing.assert_array_equal(small, g)
    unclipped = g.copy()
    clip_gradient(unclipped, None)
    np.testing.assert_array_equal(unclipped, g)


def test_adam_follows_its_definition():
    rng = np.random.default_rng(0)
    theta0 = rng.normal(size=20)
    grads = [rng.normal(size=20) for _ in range(4)]
    params = theta0.copy()
    adam = Adam(params, lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    theta, m, v = theta0.copy(), np.zeros(20), np.zeros(20)
    for k, g in enumerate(grads, start=1):
        adam.step(g)
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g * g
        m_hat, v_hat = m / (1 - 0.8**k), v / (1 - 0.99**k)
        theta = theta - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-6)
        np.testing.assert_allclose(params, theta, rtol=1e-13)


# -- PyTorch ----------------------------------------------------------------------------------

TORCH_GATES = {"gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o"), "rnn": ("h",)}
ENGINE_GATES = {"gru": ("r", "z", "n"), "lstm": ("i", "f", "o", "g"), "rnn": ("h",)}


def reorder(array: np.ndarray, kind: str, to_torch: bool = True) -> np.ndarray:
    """Stacked gate rows from the engine's order to PyTorch's (or back)."""
    source, target = ENGINE_GATES[kind], TORCH_GATES[kind]
    if not to_torch:
        source, target = target, source
    blocks = np.split(array, len(source))
    return np.concatenate([blocks[source.index(g)] for g in target])


TORCH_VARIANTS = [("rnn", {}), ("gru", {"reset": "after"}), ("lstm", {})]


@pytest.mark.parametrize(("kind", "conventions"), TORCH_VARIANTS, ids=["rnn", "gru", "lstm"])
def test_gradient_matches_torch_autograd(kind, conventions):
    torch = pytest.importorskip("torch")
    x, y, mask = problem()
    net = network(kind, conventions)
    loss = net.loss_and_gradient(x, y, mask)
    layer = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "rnn": torch.nn.RNN}[kind](
        D, H, batch_first=True).double()
    readout = torch.nn.Linear(H, O).double()
    with torch.no_grad():
        for name, value in (("weight_ih_l0", net.W), ("weight_hh_l0", net.U),
                            ("bias_ih_l0", net.b_i), ("bias_hh_l0", net.b_h)):
            getattr(layer, name).copy_(torch.from_numpy(reorder(value, kind)))
        readout.weight.copy_(torch.from_numpy(net.W_out))
        readout.bias.copy_(torch.from_numpy(net.b_out))
    hs, _ = layer(torch.from_numpy(x))
    m = torch.from_numpy(mask)
    torch_loss = (m[:, :, None] * (readout(hs) - torch.from_numpy(y)) ** 2).sum() / (O * m.sum())
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    for name, tensor in (("W", layer.weight_ih_l0), ("U", layer.weight_hh_l0),
                         ("b_i", layer.bias_ih_l0), ("b_h", layer.bias_hh_l0)):
        expected = reorder(tensor.grad.numpy(), kind, to_torch=False)
        np.testing.assert_allclose(net.gradient[name], expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(net.gradient["W_out"], readout.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(net.gradient["b_out"], readout.bias.grad.numpy(), rtol=1e-10)


def test_clipping_and_adam_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    theta0 = rng.normal(size=30)
    params = theta0.copy()
    adam = Adam(params, lr=0.05)
    weight = torch.nn.Parameter(torch.from_numpy(theta0.copy()))
    optimiser = torch.optim.Adam([weight], lr=0.05)
    for _ in range(5):
        g = rng.normal(size=30) * 3
        ours = g.copy()
        norm = clip_gradient(ours, 1.0)
        adam.step(ours)
        weight.grad = torch.from_numpy(g.copy())
        torch_norm = torch.nn.utils.clip_grad_norm_([weight], 1.0)
        optimiser.step()
        assert norm == pytest.approx(torch_norm.item(), rel=1e-12)
        np.testing.assert_allclose(params, weight.detach().numpy(), rtol=1e-12)


def test_buffers_of_a_few_batch_shapes_are_kept():
    net = network("gru", {"reset": "after"})
    rng = np.random.default_rng(0)
    for steps in range(1, 8):  # probes of many lengths: only the latest few stay
        net.predict(rng.normal(size=(1, steps, D)))
    assert list(net._workspaces) == [(1, 4), (1, 5), (1, 6), (1, 7)]
    x, y, mask = problem()
    first = net.loss(x, y, mask)
    net.predict(rng.normal(size=(2, 9, D)))
    assert net.loss(x, y, mask) == first
