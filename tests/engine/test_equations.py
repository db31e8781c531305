"""Each cell against the equations of SPEC §1, written out plainly here, one gate at a time.

The references below are deliberately naive: one loop over timesteps, one line per equation,
per-gate matrices built by the test itself (not read back from the engine), and the sigmoid
written as 1 / (1 + exp(−x)).
"""

from __future__ import annotations

import numpy as np
import pytest

from gru_tui.engine import GateParams, GRUCell, LSTMCell, RNNCell, random_cell

TOL = 1e-12


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def hard_sigmoid_keras2(x):  # Keras 2's backend.hard_sigmoid
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def hard_sigmoid_keras3(x):  # Keras 3's activations.hard_sigmoid: relu6(x + 3) / 6
    return np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0


GATE_FUNCTIONS = {"sigmoid": sigmoid, "hard_sigmoid_keras2": hard_sigmoid_keras2,
                  "hard_sigmoid_keras3": hard_sigmoid_keras3}


def make_gates(rng, letters, D, H, scale=0.6):
    """Per-gate weights {letter: (W, U, b_i, b_h)}, drawn by the test."""
    return {
        g: (
            rng.uniform(-scale, scale, (H, D)),
            rng.uniform(-scale, scale, (H, H)),
            rng.uniform(-scale, scale, H),
            rng.uniform(-scale, scale, H),
        )
        for g in letters
    }


def stack(gates, order):
    """The engine's stacked layout: rows of each gate one after another, in `order`."""
    return tuple(np.concatenate([gates[g][k] for g in order]) for k in range(4))


# -- the references -------------------------------------------------------------------------


def gru_reference(gates, xs, h0, reset, z_weights, sigmoid=sigmoid):
    Wr, Ur, bir, bhr = gates["r"]
    Wz, Uz, biz, bhz = gates["z"]
    Wn, Un, bin_, bhn = gates["n"]
    out = {k: [] for k in ("h_prev", "reset", "update", "candidate", "h",
                           "reset_pre", "update_pre", "candidate_pre")}
    h = h0
    for x in xs:
        r_pre = Wr @ x + bir + Ur @ h + bhr
        z_pre = Wz @ x + biz + Uz @ h + bhz
        r = sigmoid(r_pre)
        z = sigmoid(z_pre)
        if reset == "before":
            n_pre = Wn @ x + bin_ + Un @ (r * h) + bhn
        else:
            n_pre = Wn @ x + bin_ + r * (Un @ h + bhn)
        n = np.tanh(n_pre)
        h_new = z * h + (1 - z) * n if z_weights == "old" else (1 - z) * h + z * n
        for key, value in (("h_prev", h), ("reset", r), ("update", z), ("candidate", n),
                           ("h", h_new), ("reset_pre", r_pre), ("update_pre", z_pre),
                           ("candidate_pre", n_pre)):
            out[key].append(value)
        h = h_new
    return {k: np.array(v) for k, v in out.items()}


def lstm_reference(gates, xs, h0, c0, peepholes=None, sigmoid=sigmoid):
    Wi, Ui, bii, bhi = gates["i"]
    Wf, Uf, bif, bhf = gates["f"]
    Wo, Uo, bio, bho = gates["o"]
    Wg, Ug, big, bhg = gates["g"]
    H = len(h0)
    p_i, p_f, p_o = peepholes if peepholes is not None else np.zeros((3, H))
    out = {k: [] for k in ("h_prev", "c_prev", "input", "forget", "output", "candidate",
                           "c", "h", "input_pre", "forget_pre", "output_pre", "candidate_pre")}
    h, c = h0, c0
    for x in xs:
        i_pre = Wi @ x + bii + Ui @ h + bhi + p_i * c
        f_pre = Wf @ x + bif + Uf @ h + bhf + p_f * c
        g_pre = Wg @ x + big + Ug @ h + bhg
        i = sigmoid(i_pre)
        f = sigmoid(f_pre)
        g = np.tanh(g_pre)
        c_new = f * c + i * g
        o_pre = Wo @ x + bio + Uo @ h + bho + p_o * c_new  # o peeks at the new cell state
        o = sigmoid(o_pre)
        h_new = o * np.tanh(c_new)
        for key, value in (("h_prev", h), ("c_prev", c), ("input", i), ("forget", f),
                           ("output", o), ("candidate", g), ("c", c_new), ("h", h_new),
                           ("input_pre", i_pre), ("forget_pre", f_pre), ("output_pre", o_pre),
                           ("candidate_pre", g_pre)):
            out[key].append(value)
        h, c = h_new, c_new
    return {k: np.array(v) for k, v in out.items()}


def rnn_reference(gates, xs, h0):
    W, U, b_i, b_h = gates["h"]
    out = {"h_prev": [], "h_pre": [], "h": []}
    h = h0
    for x in xs:
        pre = W @ x + b_i + U @ h + b_h
        h_new = np.tanh(pre)
        out["h_prev"].append(h)
        out["h_pre"].append(pre)
        out["h"].append(h_new)
        h = h_new
    return {k: np.array(v) for k, v in out.items()}


def assert_trace_matches(trace, expected, xs):
    np.testing.assert_array_equal(trace["x"], xs)
    for key, value in expected.items():
        assert trace[key].shape == value.shape, key
        np.testing.assert_allclose(trace[key], value, rtol=0, atol=TOL, err_msg=key)


SIZES = [(1, 1, 1), (7, 3, 4), (5, 4, 2), (6, 2, 6)]  # (T, D, H)


# -- GRU --------------------------------------------------------------------------------------


def test_gate_orders_are_the_documented_ones():
    assert GRUCell.GATES == ("r", "z", "n")
    assert LSTMCell.GATES == ("i", "f", "o", "g")
    assert RNNCell.GATES == ("h",)


@pytest.mark.parametrize("reset", ["before", "after"])
@pytest.mark.parametrize("z_weights", ["old", "new"])
@pytest.mark.parametrize(("T", "D", "H"), SIZES)
def test_gru_matches_equations(reset, z_weights, T, D, H):
    rng = np.random.default_rng([T, D, H, int(reset == "after"), int(z_weights == "new")])
    gates = make_gates(rng, "rzn", D, H)
    cell = GRUCell(*stack(gates, "rzn"), reset=reset, z_weights=z_weights)
    xs = rng.uniform(-2, 2, (T, D))
    h0 = rng.uniform(-0.9, 0.9, H)
    trace = cell.run(xs, h0=h0)
    assert_trace_matches(trace, gru_reference(gates, xs, h0, reset, z_weights), xs)


def test_gru_conventions_really_differ():
    """The four variants give four different answers, so the tests above can tell them apart."""
    rng = np.random.default_rng(7)
    gates = make_gates(rng, "rzn", 3, 3, scale=1.0)
    xs, h0 = rng.uniform(-2, 2, (4, 3)), rng.uniform(-0.9, 0.9, 3)
    hs = [GRUCell(*stack(gates, "rzn"), reset=r, z_weights=z).run(xs, h0)["h"]
          for r in ("before", "after") for z in ("old", "new")]
    for a in range(4):
        for b in range(a + 1, 4):
            assert np.abs(hs[a] - hs[b]).max() > 1e-3


def test_gru_defaults_are_before_and_old():
    rng = np.random.default_rng(3)
    gates = make_gates(rng, "rzn", 2, 3)
    xs, h0 = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, 3)
    cell = GRUCell(*stack(gates, "rzn"))
    assert (cell.reset, cell.z_weights, cell.dtype) == ("before", "old", np.float64)
    expected = gru_reference(gates, xs, h0, "before", "old")
    np.testing.assert_allclose(cell.run(xs, h0)["h"], expected["h"], rtol=0, atol=TOL)


# -- LSTM -------------------------------------------------------------------------------------


@pytest.mark.parametrize("peep", [False, True], ids=["plain", "peepholes"])
@pytest.mark.parametrize(("T", "D", "H"), SIZES)
def test_lstm_matches_equations(peep, T, D, H):
    rng = np.random.default_rng([T, D, H, int(peep)])
    gates = make_gates(rng, "ifog", D, H)
    peepholes = rng.uniform(-1, 1, (3, H)) if peep else None
    cell = LSTMCell(*stack(gates, "ifog"), peepholes=peepholes)
    xs = rng.uniform(-2, 2, (T, D))
    h0, c0 = rng.uniform(-0.9, 0.9, H), rng.uniform(-2, 2, H)
    trace = cell.run(xs, h0=h0, c0=c0)
    assert_trace_matches(trace, lstm_reference(gates, xs, h0, c0, peepholes), xs)


def test_lstm_peepholes_matter_and_o_sees_the_new_cell_state():
    """Moving o's peephole to c_prev (a common mistake) must change the answer."""
    rng = np.random.default_rng(11)
    H, D = 3, 2
    gates = make_gates(rng, "ifog", D, H)
    peepholes = rng.uniform(0.5, 1.5, (3, H))
    xs, h0, c0 = rng.uniform(-2, 2, (4, D)), rng.uniform(-1, 1, H), rng.uniform(-3, 3, H)
    with_p = LSTMCell(*stack(gates, "ifog"), peepholes=peepholes).run(xs, h0, c0)
    without = LSTMCell(*stack(gates, "ifog")).run(xs, h0, c0)
    assert np.abs(with_p["h"] - without["h"]).max() > 1e-3
    # o computed from c_prev instead of c_new
    Wo, Uo, bio, bho = gates["o"]
    wrong_o = sigmoid(Wo @ xs[0] + bio + Uo @ h0 + bho + peepholes[2] * c0)
    assert np.abs(with_p["output"][0] - wrong_o).max() > 1e-3


# -- hard sigmoid gates ---------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["hard_sigmoid_keras2", "hard_sigmoid_keras3"])
@pytest.mark.parametrize("kind", ["gru-before", "gru-after", "lstm", "lstm-peepholes"])
def test_hard_sigmoid_gates_match_equations(kind, activation):
    """Weights large enough that some gates sit flat at 0 or 1 and others on the slope."""
    rng = np.random.default_rng([len(kind), len(activation)])
    T, D, H = 9, 3, 5
    if kind.startswith("gru"):
        reset = kind.split("-")[1]
        gates = make_gates(rng, "rzn", D, H, scale=1.5)
        cell = GRUCell(*stack(gates, "rzn"), reset=reset, recurrent_activation=activation)
    else:
        gates = make_gates(rng, "ifog", D, H, scale=1.5)
        peepholes = rng.uniform(-1, 1, (3, H)) if kind.endswith("peepholes") else None
        cell = LSTMCell(*stack(gates, "ifog"), peepholes=peepholes,
                        recurrent_activation=activation)
    xs = rng.uniform(-2, 2, (T, D))
    h0, c0 = rng.uniform(-0.9, 0.9, H), rng.uniform(-2, 2, H)
    function = GATE_FUNCTIONS[activation]
    if kind.startswith("gru"):
        trace = cell.run(xs, h0=h0)
        expected = gru_reference(gates, xs, h0, reset, "old", sigmoid=function)
        flat = np.concatenate([expected["reset"], expected["update"]])
    else:
        trace = cell.run(xs, h0=h0, c0=c0)
        expected = lstm_reference(gates, xs, h0, c0, peepholes, sigmoid=function)
        flat = np.concatenate([expected[g] for g in ("input", "forget", "output")])
    assert_trace_matches(trace, expected, xs)
    assert ((flat == 0) | (flat == 1)).any() and ((flat > 0) & (flat < 1)).any()
    assert cell.conventions["recurrent_activation"] == activation
    logistic = cell.replace(recurrent_activation="sigmoid").run(xs, h0, c0 if "lstm" in kind
                                                                  else None)
    assert np.abs(logistic["h"] - trace["h"]).max() > 1e-2
    assert "recurrent_activation" not in logistic.cell.conventions


def test_unknown_recurrent_activation_is_refused():
    with pytest.raises(ValueError, match="recurrent_activation must be one of sigmoid, "
                                         "hard_sigmoid_keras2, hard_sigmoid_keras3"):
        random_cell("gru", recurrent_activation="hard_sigmoid")


# -- RNN --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("T", "D", "H"), SIZES)
def test_rnn_matches_equations(T, D, H):
    rng = np.random.default_rng([T, D, H, 99])
    gates = make_gates(rng, "h", D, H, scale=1.0)
    cell = RNNCell(*stack(gates, "h"))
    xs = rng.uniform(-2, 2, (T, D))
    h0 = rng.uniform(-0.9, 0.9, H)
    trace = cell.run(xs, h0=h0)
    assert_trace_matches(trace, rnn_reference(gates, xs, h0), xs)


def test_missing_biases_and_states_are_zeros():
    rng = np.random.default_rng(5)
    gates = make_gates(rng, "rzn", 2, 3)
    no_bias = {g: (W, U, np.zeros(3), np.zeros(3)) for g, (W, U, _, _) in gates.items()}
    W, U, _, _ = stack(gates, "rzn")
    xs = rng.uniform(-1, 1, (3, 2))
    trace = GRUCell(W, U).run(xs)
    expected = gru_reference(no_bias, xs, np.zeros(3), "before", "old")
    np.testing.assert_allclose(trace["h"], expected["h"], rtol=0, atol=TOL)
    lstm_gates = make_gates(rng, "ifog", 2, 3)
    trace = LSTMCell(*stack(lstm_gates, "ifog")).run(xs)
    np.testing.assert_array_equal(trace["h_prev"][0], np.zeros(3))
    np.testing.assert_array_equal(trace["c_prev"][0], np.zeros(3))
    expected = lstm_reference(lstm_gates, xs, np.zeros(3), np.zeros(3))
    np.testing.assert_allclose(trace["c"], expected["c"], rtol=0, atol=TOL)


# -- trace keys, step(), gate slices ------------------------------------------------------------


def _random(kind, **kw):
    return random_cell(kind, input_size=3, hidden_size=4, seed=2, **kw)


@pytest.mark.parametrize(("kind", "keys"), [
    ("gru", {"x", "h_prev", "reset", "update", "candidate", "h",
             "reset_pre", "update_pre", "candidate_pre"}),
    ("lstm", {"x", "h_prev", "c_prev", "forget", "input", "output", "candidate", "c", "h",
              "forget_pre", "input_pre", "output_pre", "candidate_pre"}),
    ("rnn", {"x", "h_prev", "h", "h_pre"}),
])
def test_trace_keys_and_shapes(kind, keys):
    cell = _random(kind)
    T = 5
    trace = cell.run(np.ones((T, 3)))
    assert set(trace) == keys
    for key in keys:
        width = 3 if key == "x" else 4
        assert trace[key].shape == (T, width), key
    # the record keys of SPEC §3 come first, in record order
    assert tuple(trace)[: len(cell.RECORD_KEYS)] == cell.RECORD_KEYS


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_h_prev_is_the_previous_h(kind):
    cell = _random(kind)
    rng = np.random.default_rng(0)
    h0, c0 = rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 4)
    trace = cell.run(rng.uniform(-1, 1, (6, 3)), h0, c0)
    np.testing.assert_array_equal(trace["h_prev"][0], h0)
    np.testing.assert_array_equal(trace["h_prev"][1:], trace["h"][:-1])
    if kind == "lstm":
        np.testing.assert_array_equal(trace["c_prev"][0], c0)
        np.testing.assert_array_equal(trace["c_prev"][1:], trace["c"][:-1])


@pytest.mark.parametrize(("kind", "kw"), [
    ("gru", {}), ("gru", {"reset": "after", "z_weights": "new"}), ("lstm", {}), ("rnn", {}),
    ("lstm", {"peepholes": np.full((3, 4), 0.3)}),
])
def test_step_equals_first_row_of_run(kind, kw):
    cell = _random(kind, **kw)
    rng = np.random.default_rng(4)
    xs = rng.uniform(-1, 1, (3, 3))
    h0, c0 = rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 4)
    trace = cell.run(xs, h0, c0)
    step = cell.step(xs[0], h0, c0)
    assert set(step) == set(trace)
    for key in trace:
        # Not always bit-identical: the engine projects W·x for all rows with one matrix
        # product, and BLAS may round a 1-row product differently from a 3-row one.
        np.testing.assert_allclose(step[key], trace[key][0], rtol=1e-15, atol=1e-15,
                                   err_msg=key)


@pytest.mark.parametrize("cls", [GRUCell, LSTMCell, RNNCell])
def test_gate_params_are_the_right_rows(cls):
    D, H = 2, 3
    g = len(cls.GATES)
    W = np.arange(g * H * D, dtype=float).reshape(g * H, D)
    U = 1000 + np.arange(g * H * H, dtype=float).reshape(g * H, H)
    b_i = 2000 + np.arange(g * H, dtype=float)
    b_h = 3000 + np.arange(g * H, dtype=float)
    cell = cls(W, U, b_i, b_h)
    for k, letter in enumerate(cls.GATES):
        params = cell.gate(letter)
        assert isinstance(params, GateParams)
        rows = slice(k * H, (k + 1) * H)
        np.testing.assert_array_equal(params.W, W[rows])
        np.testing.assert_array_equal(params.U, U[rows])
        np.testing.assert_array_equal(params.b_i, b_i[rows])
        np.testing.assert_array_equal(params.b_h, b_h[rows])
        assert params.W.shape == (H, D) and params.U.shape == (H, H)


# -- random_cell ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_random_cell_is_deterministic_by_seed(kind):
    a = random_cell(kind, 3, 5, seed=42)
    b = random_cell(kind, 3, 5, seed=42)
    c = random_cell(kind, 3, 5, seed=43)
    for name in ("W", "U", "b_i", "b_h"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert not np.array_equal(getattr(a, name), getattr(c, name)), name
    xs = np.linspace(-1, 1, 12).reshape(4, 3)
    np.testing.assert_array_equal(a.run(xs)["h"], b.run(xs)["h"])


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("H", [1, 4, 25])
def test_random_cell_weights_within_pytorch_bound(kind, H):
    cell = random_cell(kind, 6, H, seed=1)
    g = len(cell.GATES)
    assert cell.W.shape == (g * H, 6) and cell.U.shape == (g * H, H)
    assert cell.b_i.shape == cell.b_h.shape == (g * H,)
    bound = 1 / np.sqrt(H)
    everything = np.concatenate([cell.W.ravel(), cell.U.ravel(), cell.b_i, cell.b_h])
    assert np.all(np.abs(everything) <= bound)
    # uniform over the whole range: with this many draws, both ends are approached
    assert everything.max() > 0.5 * bound and everything.min() < -0.5 * bound
    assert np.all(cell.b_h != 0)  # two bias vectors, both drawn


def test_random_cell_follows_its_documented_recipe():
    """PCG64 from the seed, drawn in PyTorch's order (W_ih, W_hh, b_ih, b_hh; rows r,z,n)."""
    D, H, seed = 3, 4, 9
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(H)
    W, U, b_i, b_h = (rng.uniform(-bound, bound, shape)
                      for shape in ((3 * H, D), (3 * H, H), (3 * H,), (3 * H,)))
    cell = random_cell("gru", D, H, seed=seed)
    # PyTorch's GRU rows r, z, n happen to be the engine's order too
    for name, value in (("W", W), ("U", U), ("b_i", b_i), ("b_h", b_h)):
        np.testing.assert_array_equal(getattr(cell, name), value)
    lstm = random_cell("lstm", D, H, seed=seed)
    rng = np.random.default_rng(seed)
    W = rng.uniform(-bound, bound, (4 * H, D))  # PyTorch rows i, f, g, o
    i, f, g, o = (W[k * H : (k + 1) * H] for k in range(4))
    np.testing.assert_array_equal(lstm.gate("i").W, i)
    np.testing.assert_array_equal(lstm.gate("f").W, f)
    np.testing.assert_array_equal(lstm.gate("g").W, g)
    np.testing.assert_array_equal(lstm.gate("o").W, o)


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_random_cell_float32_is_float64_rounded(kind):
    c64 = random_cell(kind, 3, 4, seed=5, dtype="float64")
    c32 = random_cell(kind, 3, 4, seed=5, dtype="float32")
    assert c32.dtype == np.float32 and c64.dtype == np.float64
    for name in ("W", "U", "b_i", "b_h"):
        a64, a32 = getattr(c64, name), getattr(c32, name)
        assert a32.dtype == np.float32
        np.testing.assert_array_equal(a32, a64.astype(np.float32))
    trace = c32.run(np.ones((2, 3)))
    assert all(v.dtype == np.float32 for v in trace.values())


def test_random_cell_passes_conventions_through():
    cell = random_cell("gru", 3, 3, seed=0, reset="after", z_weights="new")
    assert (cell.reset, cell.z_weights) == ("after", "new")
    plain = random_cell("gru", 3, 3, seed=0)
    for name in ("W", "U", "b_i", "b_h"):
        np.testing.assert_array_equal(getattr(cell, name), getattr(plain, name))
