"""SPEC §7: the exact Jacobians of a run, against central finite differences (float64) and,
when torch is importable, torch.autograd.

The references never read the engine's Jacobians: finite differences perturb the inputs or
states of real runs (``cell.run``, checked against the equations elsewhere), and torch
differentiates its own modules or the equations of SPEC §1 written out in torch below.
"""

from __future__ import annotations

import numpy as np
import pytest

import gru_tui
from gru_tui.core.presets import keep_gates_open
from gru_tui.core.scenario import Scenario
from gru_tui.engine import GRUCell, LSTMCell, RNNCell, jacobians, memory_profile
from gru_tui.engine.gates import rows_in_order

EPS = 1e-5  # central differences: truncation ~EPS², round-off ~1e-16/EPS
RTOL = 1e-6

# every variant of SPEC §1: (name, cell class, keywords, peepholes)
VARIANTS = {
    "gru-before-old": (GRUCell, {"reset": "before", "z_weights": "old"}),
    "gru-before-new": (GRUCell, {"reset": "before", "z_weights": "new"}),
    "gru-after-old": (GRUCell, {"reset": "after", "z_weights": "old"}),
    "gru-after-new": (GRUCell, {"reset": "after", "z_weights": "new"}),
    "lstm": (LSTMCell, {}),
    "lstm-peepholes": (LSTMCell, {"peepholes": True}),
    "rnn": (RNNCell, {}),
    # Keras' hard sigmoids: flat beyond their edges, where the gates' slopes are exactly 0
    "gru-before-old-hard2": (GRUCell, {"reset": "before", "recurrent_activation":
                                       "hard_sigmoid_keras2"}),
    "gru-after-new-hard3": (GRUCell, {"reset": "after", "z_weights": "new",
                                      "recurrent_activation": "hard_sigmoid_keras3"}),
    "lstm-hard2": (LSTMCell, {"recurrent_activation": "hard_sigmoid_keras2"}),
    "lstm-peepholes-hard3": (LSTMCell, {"peepholes": True,
                                        "recurrent_activation": "hard_sigmoid_keras3"}),
}
SEEDS = range(4)


def make_case(variant: str, seed: int, scale: float = 0.9):
    """A cell with weights drawn here, and a run's inputs and states; sizes random, small."""
    cls, settings = VARIANTS[variant]
    rng = np.random.default_rng([seed, *variant.encode()])
    D, H, T = (int(v) for v in rng.integers(1, 5, size=3) + np.array([0, 0, 2]))
    rows = len(cls.GATES) * H
    W, U = rng.uniform(-scale, scale, (rows, D)), rng.uniform(-scale, scale, (rows, H))
    b_i, b_h = rng.uniform(-0.5, 0.5, rows), rng.uniform(-0.5, 0.5, rows)
    settings = dict(settings)
    if settings.pop("peepholes", False):
        settings["peepholes"] = rng.uniform(-1, 1, (3, H))
    cell = cls(W, U, b_i, b_h, **settings)
    xs = rng.uniform(-1.5, 1.5, (T, D))
    h0, c0 = rng.uniform(-0.9, 0.9, H), rng.uniform(-1.5, 1.5, H)
    return cell, xs, h0, (c0 if cell.has_cell_state else None)


def final_h(cell, xs, h0, c0):
    return cell.run(xs, h0, c0)["h"][-1]


def fd_sensitivity(cell, xs, h0, c0) -> np.ndarray:
    """‖∂h_T/∂x_t‖_F by central differences of whole runs."""
    T, D = xs.shape
    out = np.empty(T)
    for t in range(T):
        J = np.empty((cell.hidden_size, D))
        for d in range(D):
            up, down = xs.copy(), xs.copy()
            up[t, d] += EPS
            down[t, d] -= EPS
            J[:, d] = (final_h(cell, up, h0, c0) - final_h(cell, down, h0, c0)) / (2 * EPS)
        out[t] = np.linalg.norm(J)
    return out


def one_step(cell, x, h, c):
    """The state after one step, stacked (h, c) for the LSTM."""
    record = cell.step(x, h, c)
    return np.concatenate([record["h"], record["c"]]) if cell.has_cell_state else record["h"]


def fd_step_jacobians(cell, x, h, c):
    """∂s'/∂s and ∂s'/∂x of one step by central differences, s = h or (h, c)."""
    H = cell.hidden_size
    state = np.concatenate([h, c]) if cell.has_cell_state else h.copy()

    def run(s, x_):
        return one_step(cell, x_, s[:H], s[H:] if cell.has_cell_state else None)

    A = np.empty((len(state), len(state)))
    for k in range(len(state)):
        up, down = state.copy(), state.copy()
        up[k] += EPS
        down[k] -= EPS
        A[:, k] = (run(up, x) - run(down, x)) / (2 * EPS)
    B = np.empty((len(state), len(x)))
    for k in range(len(x)):
        up, down = x.copy(), x.copy()
        up[k] += EPS
        down[k] -= EPS
        B[:, k] = (run(state, up) - run(state, down)) / (2 * EPS)
    return A, B


def assert_close(actual, expected, rtol=RTOL, what=""):
    """Relative to the size of the whole array, so near-zero entries don't mislead."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-300)
    error = float(np.abs(actual - expected).max(initial=0.0)) / scale
    assert error <= rtol, f"{what}: relative error {error:.2e}"


# -- finite differences -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_step_jacobians_match_finite_differences(variant, seed):
    cell, xs, h0, c0 = make_case(variant, seed)
    trace = cell.run(xs, h0, c0)
    A, B = jacobians(trace)
    for t in range(trace.steps):
        h = trace["h_prev"][t]
        c = trace["c_prev"][t] if cell.has_cell_state else None
        A_fd, B_fd = fd_step_jacobians(cell, xs[t], h, c)
        assert_close(A[t], A_fd, what=f"∂s/∂s_prev at step {t + 1}")
        assert_close(B[t], B_fd, what=f"∂s/∂x at step {t + 1}")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_sensitivity_matches_finite_differences(variant, seed):
    cell, xs, h0, c0 = make_case(variant, seed, scale=1.2)
    profile = memory_profile(cell.run(xs, h0, c0))
    expected = fd_sensitivity(cell, xs, h0, c0)
    np.testing.assert_allclose(profile.sensitivity, expected, rtol=RTOL, atol=0)
    np.testing.assert_allclose(profile.log10_sensitivity, np.log10(expected), rtol=0, atol=1e-6)


@pytest.mark.parametrize("variant", VARIANTS)
def test_state_and_cell_jacobian_norms(variant):
    cell, xs, h0, c0 = make_case(variant, 7)
    trace = cell.run(xs, h0, c0)
    profile = memory_profile(trace)
    H = cell.hidden_size
    for t in range(trace.steps):
        h = trace["h_prev"][t]
        c = trace["c_prev"][t] if cell.has_cell_state else None
        A_fd, _ = fd_step_jacobians(cell, xs[t], h, c)
        assert profile.state_jacobian[t] == pytest.approx(np.linalg.norm(A_fd[:H, :H]),
                                                          rel=RTOL)
        if cell.has_cell_state:
            assert profile.cell_jacobian[t] == pytest.approx(np.linalg.norm(A_fd[H:, H:]),
                                                             rel=RTOL)
            if cell.peepholes is None:  # ∂C_t/∂C_{t−1} = diag(f_t)
                assert profile.cell_jacobian[t] == pytest.approx(
                    np.linalg.norm(trace["forget"][t]), rel=1e-12)
    if not cell.has_cell_state:
        assert profile.cell_jacobian is None


# -- properties ---------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_last_sensitivity_is_one_step(variant):
    """sensitivity_T = ‖∂h_T/∂x_T‖ of the single step T, from h_{T−1} (and c_{T−1})."""
    cell, xs, h0, c0 = make_case(variant, 11)
    trace = cell.run(xs, h0, c0)
    h, c = trace["h_prev"][-1], trace["c_prev"][-1] if cell.has_cell_state else None
    _, B_fd = fd_step_jacobians(cell, xs[-1], h, c)
    H = cell.hidden_size
    profile = memory_profile(trace)
    assert profile.sensitivity[-1] == pytest.approx(np.linalg.norm(B_fd[:H]), rel=RTOL)
    single = memory_profile(cell.run(xs[-1:], h, c))
    assert single.sensitivity[0] == pytest.approx(profile.sensitivity[-1], rel=1e-12)


def test_shrinking_rnn_weights_makes_early_sensitivity_vanish():
    """The simple RNN with small recurrent weights forgets: orders of magnitude per step."""
    steps = 40

    def early_vs_late(scale):
        scenario = Scenario(models=("rnn",), preset="noise", steps=steps, recurrent_scale=scale)
        (_, traces), = scenario.run_in_chunks()
        profile = memory_profile(traces["rnn"])
        return profile.log10_sensitivity[0] - profile.log10_sensitivity[-1]

    full, quarter, tenth = early_vs_late(1.0), early_vs_late(0.25), early_vs_late(0.1)
    assert tenth < quarter < full
    assert quarter < -15  # early inputs matter 10^15 times less than the last
    assert tenth < -30
    assert full - tenth > 10


@pytest.mark.parametrize("z_weights", ["old", "new"])
@pytest.mark.parametrize("seed", range(4))
def test_gru_and_lstm_remember_where_the_rnn_forgets(seed, z_weights):
    """The point of the memory view, on the "remember" preset: with the keep gates held open
    (as trained models hold them) and the RNN's recurrent weights halved, the RNN's
    dependence on the first input vanishes (below 1e−20) while the GRU's and the LSTM's
    stay within a few orders of magnitude of the last step's."""
    scenario = Scenario(models=("gru", "lstm", "rnn"), preset="remember", seed=seed,
                        z_weights=z_weights, recurrent_scale=0.5,
                        bias_offsets=keep_gates_open(z_weights))
    (_, traces), = scenario.run_in_chunks()
    first = {m: memory_profile(t).log10_sensitivity[0] for m, t in traces.items()}
    assert first["rnn"] < -20
    assert first["gru"] > -6
    assert first["lstm"] > -6


def test_untrained_gates_forget_too():
    """Without that bias, gates of untrained weights sit near 0.5 and the GRU and the LSTM
    forget at least as fast as the simple RNN: the offsets above are what makes the point."""
    scenario = Scenario(models=("gru", "lstm", "rnn"), preset="remember")
    (_, traces), = scenario.run_in_chunks()
    first = {m: memory_profile(t).log10_sensitivity[0] for m, t in traces.items()}
    assert first["gru"] < first["rnn"] and first["lstm"] < first["rnn"]


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_float32_agrees_with_float64(kind):
    xs = np.random.default_rng(5).uniform(-1, 1, (50, 4))
    profiles = {dtype: memory_profile(gru_tui.random_cell(kind, 4, 6, seed=2, dtype=dtype)
                                      .run(xs)) for dtype in ("float32", "float64")}
    low, high = profiles["float32"], profiles["float64"]
    assert low.sensitivity.dtype == np.float64
    np.testing.assert_allclose(low.log10_sensitivity, high.log10_sensitivity, rtol=0, atol=1e-4)
    np.testing.assert_allclose(low.state_jacobian, high.state_jacobian, rtol=1e-4)


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_long_runs_keep_exact_logarithms(kind):
    """A thousand steps of a shrinking RNN go far below 1e−308: log10 stays finite and
    falls steadily, sensitivity underflows to 0 quietly."""
    cell = gru_tui.random_cell(kind, 2, 3, seed=1)
    cell = cell.replace(U=cell.U * 0.2)
    xs = np.random.default_rng(0).uniform(-1, 1, (1000, 2))
    with np.errstate(all="raise"):
        profile = memory_profile(cell.run(xs))
    assert np.isfinite(profile.log10_sensitivity).all()
    assert not np.isnan(profile.sensitivity).any()
    if kind == "rnn":
        assert profile.log10_sensitivity[0] < -400
        assert profile.sensitivity[0] == 0.0
        assert np.all(np.diff(profile.log10_sensitivity) > 0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_enormous_values_stay_finite_and_quiet(variant, dtype):
    cell, xs, h0, c0 = make_case(variant, 3)
    cell = cell.replace(dtype=dtype)
    big = float(np.finfo(dtype).max)
    xs[::2] = np.where(xs[::2] >= 0, big, -big)  # every other step at ±max
    h0 = np.full_like(h0, big) if variant.startswith("gru") else h0
    with np.errstate(all="raise"):
        c0 = None if c0 is None else np.where(c0 >= 0, big, -big)
        profile = memory_profile(cell.run(xs, h0, c0))
    for values in profile.columns().values():
        assert np.isfinite(values).all()
        assert (values >= 0).all()
    assert not np.isnan(profile.log10_sensitivity).any()


def test_independent_of_block_size(monkeypatch):
    """Long runs of wide models form the Jacobians a block at a time: same numbers."""
    import gru_tui.engine.gradients as gradients

    cell = gru_tui.random_cell("lstm", 3, 5, seed=4)
    trace = cell.run(np.random.default_rng(1).uniform(-1, 1, (37, 3)))
    whole = memory_profile(trace)
    monkeypatch.setattr(gradients, "BLOCK_VALUES", 1)  # one step per block
    stepwise = memory_profile(trace)
    np.testing.assert_allclose(stepwise.sensitivity, whole.sensitivity, rtol=1e-12)
    np.testing.assert_allclose(stepwise.state_jacobian, whole.state_jacobian, rtol=1e-12)


def test_reverse_layer_is_in_processing_order():
    """A reverse layer's trace runs over xs[::-1]; its profile is the processing-order one."""
    cell = gru_tui.random_cell("gru", 3, 4, seed=9)
    xs = np.random.default_rng(2).uniform(-1, 1, (12, 3))
    reverse = cell.replace()
    reverse.reverse = True
    forward_on_flipped = memory_profile(cell.run(xs[::-1]))
    np.testing.assert_array_equal(memory_profile(reverse.run(xs[::-1])).sensitivity,
                                  forward_on_flipped.sensitivity)
    expected = fd_sensitivity(cell, xs[::-1].copy(), None, None)
    np.testing.assert_allclose(forward_on_flipped.sensitivity, expected, rtol=RTOL)


def test_api_names():
    trace = gru_tui.random_cell("rnn").run(np.ones((3, 3)))
    profile = gru_tui.memory_profile(trace)
    assert isinstance(profile, gru_tui.MemoryProfile)
    assert profile.model == "rnn" and profile.steps == 3
    assert list(profile.columns()) == ["sensitivity", "state_jacobian"]


# -- torch.autograd ---------------------------------------------------------------------------

TORCH_ORDER = {"gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o"), "rnn": ("h",)}
TORCH_MODULES = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}


def torch_sensitivity(torch, final_state, xs):
    """‖∂h_T/∂x_t‖_F for every t, by torch.autograd.functional.jacobian: [H, T, D]."""
    x = torch.from_numpy(xs)
    J = torch.autograd.functional.jacobian(final_state, x)
    return torch.linalg.norm(J, dim=(0, 2)).numpy()


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize(("T", "D", "H"), [(1, 1, 1), (6, 3, 4), (15, 2, 5)])
def test_against_torch_modules(kind, T, D, H):
    """torch.nn.GRU (reset "after", z old), nn.LSTM, nn.RNN with the same weights."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(T + 10 * D + 100 * H)
    module = getattr(torch.nn, TORCH_MODULES[kind])(D, H).double()
    cls = {"gru": GRUCell, "lstm": LSTMCell, "rnn": RNNCell}[kind]
    arrays = [rows_in_order(getattr(module, name).detach().numpy(), TORCH_ORDER[kind],
                            cls.GATES)
              for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    cell = cls(*arrays, **({"reset": "after"} if kind == "gru" else {}))
    rng = np.random.default_rng(T)
    xs, h0, c0 = rng.uniform(-2, 2, (T, D)), rng.uniform(-1, 1, H), rng.uniform(-1, 1, H)
    h0_t = torch.from_numpy(h0)[None, None, :]
    state = (h0_t, torch.from_numpy(c0)[None, None, :]) if kind == "lstm" else h0_t

    def final_state(x):
        return module(x[:, None, :], state)[0][-1, 0]

    expected = torch_sensitivity(torch, final_state, xs)
    profile = memory_profile(cell.run(xs, h0, c0 if kind == "lstm" else None))
    np.testing.assert_allclose(profile.sensitivity, expected, rtol=1e-10, atol=0)


def torch_gate_function(torch, cell):
    """The σ of the cell's gates, in torch's own functions."""
    return {"sigmoid": torch.sigmoid,
            "hard_sigmoid_keras2": lambda a: torch.clamp(0.2 * a + 0.5, 0.0, 1.0),
            # relu6(a + 3) / 6; not F.hardsigmoid, whose float64 slope is float32's 1/6
            "hard_sigmoid_keras3": lambda a: torch.clamp(a + 3.0, 0.0, 6.0) / 6.0,
            }[cell.recurrent_activation]


def torch_equations(torch, cell, h0, c0):
    """SPEC §1 written out in torch for any variant, as a function of the inputs [T, D]."""
    gate = {g: [torch.from_numpy(np.array(a)) for a in cell.gate(g)] for g in cell.GATES}
    sigmoid = torch_gate_function(torch, cell)
    peepholes = getattr(cell, "peepholes", None)
    peep = None if peepholes is None else torch.from_numpy(peepholes.copy())

    def pre(g, x, h):
        W, U, b_i, b_h = gate[g]
        return W @ x + b_i + U @ h + b_h

    def run(xs):
        h = torch.from_numpy(h0)
        c = None if c0 is None else torch.from_numpy(c0)
        for x in xs:
            if cell.kind == "rnn":
                h = torch.tanh(pre("h", x, h))
            elif cell.kind == "lstm":
                a_i, a_f = pre("i", x, h), pre("f", x, h)
                if peep is not None:
                    a_i, a_f = a_i + peep[0] * c, a_f + peep[1] * c
                i, f, g = sigmoid(a_i), sigmoid(a_f), torch.tanh(pre("g", x, h))
                c = f * c + i * g
                a_o = pre("o", x, h) + (0 if peep is None else peep[2] * c)
                h = sigmoid(a_o) * torch.tanh(c)
            else:
                r, z = sigmoid(pre("r", x, h)), sigmoid(pre("z", x, h))
                W, U, b_i, b_h = gate["n"]
                if cell.reset == "before":
                    n = torch.tanh(W @ x + b_i + U @ (r * h) + b_h)
                else:
                    n = torch.tanh(W @ x + b_i + r * (U @ h + b_h))
                h = z * h + (1 - z) * n if cell.z_weights == "old" else (1 - z) * h + z * n
        return h

    return run


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("variant", VARIANTS)
def test_against_torch_autograd_of_the_equations(variant, seed):
    torch = pytest.importorskip("torch")
    cell, xs, h0, c0 = make_case(variant, seed, scale=1.2)
    expected = torch_sensitivity(torch, torch_equations(torch, cell, h0, c0), xs)
    profile = memory_profile(cell.run(xs, h0, c0))
    np.testing.assert_allclose(profile.sensitivity, expected, rtol=1e-10, atol=0)


@pytest.mark.parametrize("variant", ["lstm", "lstm-peepholes"])
def test_lstm_diagonal_columns_path(monkeypatch, variant):
    """Wide LSTMs multiply only the dense columns of A_t and the diagonals of the others;
    forced on a small one, it agrees with finite differences too."""
    import gru_tui.engine.gradients as gradients

    monkeypatch.setattr(gradients, "SMALL", 0)
    for seed in SEEDS:
        cell, xs, h0, c0 = make_case(variant, seed, scale=1.2)
        profile = memory_profile(cell.run(xs, h0, c0))
        np.testing.assert_allclose(profile.sensitivity, fd_sensitivity(cell, xs, h0, c0),
                                   rtol=RTOL, atol=0)
