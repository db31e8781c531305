"""Properties that hold for every input: gate ranges, convex GRU updates, bounded LSTM
outputs, float32 tracking float64, and recomputing from step t equalling a fresh run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gru_tui.engine import random_cell, sigmoid, tanh

FAST = settings(max_examples=50, deadline=None)

CONFIGS = [
    ("gru", {"reset": "before", "z_weights": "old"}),
    ("gru", {"reset": "before", "z_weights": "new"}),
    ("gru", {"reset": "after", "z_weights": "old"}),
    ("gru", {"reset": "after", "z_weights": "new"}),
    ("lstm", {}),
    ("rnn", {}),
]
CONFIG_IDS = ["gru-before-old", "gru-before-new", "gru-after-old", "gru-after-new", "lstm",
              "rnn"]

moderate = st.floats(-5, 5, allow_nan=False)


@st.composite
def runs(draw, max_steps=8, low=-5.0, high=5.0):
    """(D, H, seed, xs, h0, c0) with moderate values."""
    D = draw(st.integers(1, 4))
    H = draw(st.integers(1, 5))
    T = draw(st.integers(1, max_steps))
    seed = draw(st.integers(0, 2**32 - 1))
    values = st.floats(low, high, allow_nan=False)
    xs = draw(arrays(np.float64, (T, D), elements=values))
    h0 = draw(arrays(np.float64, (H,), elements=st.floats(-1, 1)))
    c0 = draw(arrays(np.float64, (H,), elements=st.floats(-3, 3)))
    return D, H, seed, xs, h0, c0


def make(kind, conventions, D, H, seed, dtype="float64"):
    return random_cell(kind, input_size=D, hidden_size=H, seed=seed, dtype=dtype, **conventions)


def assert_same(a, b, what):
    """Bit for bit: input projections come in row blocks aligned to step 1, so a recompute
    multiplies exactly the matrices a fresh run multiplies."""
    np.testing.assert_array_equal(a, b, err_msg=what)


def assert_traces_equal(trace, fresh):
    assert set(trace) == set(fresh)
    for key in fresh:
        assert trace[key].shape == fresh[key].shape, key
        assert_same(trace[key], fresh[key], key)


def snapshot(trace):
    return {key: np.array(value, copy=True) for key, value in trace.items()}


def assert_prefix_untouched(before, trace, t):
    for key, old in before.items():
        np.testing.assert_array_equal(trace[key][:t], old[:t], err_msg=key)


# -- the squashing functions ------------------------------------------------------------------


@FAST
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-30, 30)))
def test_sigmoid_strictly_inside_for_moderate_values(x):
    y = sigmoid(x)
    assert np.all((y > 0) & (y < 1))
    assert np.all(np.diff(y[np.argsort(x, kind="stable")]) >= 0)  # monotone


@FAST
@given(arrays(np.float64, st.integers(1, 20),
              elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_sigmoid_and_tanh_within_range_always(x):
    y = sigmoid(x)
    assert np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))
    t = tanh(x)
    assert np.all(np.isfinite(t)) and np.all(np.abs(t) <= 1)


# -- gate ranges in a run -----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "conventions"), CONFIGS, ids=CONFIG_IDS)
@FAST
@given(run=runs())
def test_gates_in_range(kind, conventions, run):
    D, H, seed, xs, h0, c0 = run
    trace = make(kind, conventions, D, H, seed).run(xs, h0, c0)
    sigmoid_gates = {"gru": ("reset", "update"), "lstm": ("input", "forget", "output"),
                     "rnn": ()}[kind]
    for name in sigmoid_gates:
        pre = trace[f"{name}_pre"]
        assert np.all(np.abs(pre) < 35), "pre-activations should be moderate here"
        assert np.all((trace[name] > 0) & (trace[name] < 1)), name
    squashed = {"gru": ("candidate", "h"), "lstm": ("candidate", "h"), "rnn": ("h",)}[kind]
    for name in squashed:
        assert np.all(np.abs(trace[name]) <= 1), name


@pytest.mark.parametrize(("kind", "conventions"), CONFIGS[:4], ids=CONFIG_IDS[:4])
@FAST
@given(run=runs())
def test_gru_state_lies_between_previous_state_and_candidate(kind, conventions, run):
    D, H, seed, xs, h0, _c0 = run
    trace = make(kind, conventions, D, H, seed).run(xs, h0)
    h_prev, n, h = trace["h_prev"], trace["candidate"], trace["h"]
    low, high = np.minimum(h_prev, n), np.maximum(h_prev, n)
    assert np.all(h >= low - 1e-12) and np.all(h <= high + 1e-12)
    # and the weight is the update gate, on the side the convention says
    z = trace["update"]
    weight_of_old = z if conventions["z_weights"] == "old" else 1 - z
    np.testing.assert_allclose(h, weight_of_old * h_prev + (1 - weight_of_old) * n,
                               rtol=0, atol=1e-12)


@FAST
@given(run=runs(max_steps=12))
def test_lstm_output_bounded(run):
    D, H, seed, xs, h0, c0 = run
    trace = make("lstm", {}, D, H, seed).run(xs, h0, c0)
    assert np.all(np.abs(trace["h"]) <= 1)
    # o < 1 and |tanh(c)| < 1 while |c| is moderate, so |h| < 1 strictly
    moderate_c = np.abs(trace["c"]) < 15
    assert np.all(np.abs(trace["h"][moderate_c]) < 1)
    # the cell state moves by less than one unit per step beyond forgetting
    assert np.all(np.abs(trace["c"]) <= np.abs(trace["c_prev"]) + 1)


@pytest.mark.parametrize(("kind", "conventions"), CONFIGS, ids=CONFIG_IDS)
@FAST
@given(run=runs(max_steps=6))
def test_float32_tracks_float64(kind, conventions, run):
    D, H, seed, xs, h0, c0 = run
    t64 = make(kind, conventions, D, H, seed, "float64").run(xs, h0, c0)
    t32 = make(kind, conventions, D, H, seed, "float32").run(xs, h0, c0)
    for key in t64:
        assert t32[key].dtype == np.float32, key
        np.testing.assert_allclose(t32[key], t64[key], rtol=0, atol=1e-5, err_msg=key)


# -- recomputing from step t -------------------------------------------------------------------


@st.composite
def edits(draw):
    run = draw(runs())
    xs = run[3]
    t = draw(st.integers(0, len(xs) - 1))
    row = draw(arrays(np.float64, (xs.shape[1],), elements=moderate))
    return run, t, row


@pytest.mark.parametrize(("kind", "conventions"), CONFIGS, ids=CONFIG_IDS)
@FAST
@given(edit=edits())
def test_update_from_t_equals_fresh_run(kind, conventions, edit):
    (D, H, seed, xs, h0, c0), t, row = edit
    cell = make(kind, conventions, D, H, seed)
    trace = cell.run(xs, h0, c0)
    before = snapshot(trace)
    edited = xs.copy()
    edited[t] = row
    trace.update(edited, start=t)
    assert_prefix_untouched(before, trace, t)
    assert_traces_equal(trace, cell.run(edited, h0, c0))


@pytest.mark.parametrize(("kind", "conventions"), CONFIGS, ids=CONFIG_IDS)
@FAST
@given(edit=edits())
def test_set_input_equals_fresh_run(kind, conventions, edit):
    (D, H, seed, xs, h0, c0), t, row = edit
    cell = make(kind, conventions, D, H, seed)
    trace = cell.run(xs, h0, c0)
    before = snapshot(trace)
    trace.set_input(t, row)
    edited = xs.copy()
    edited[t] = row
    np.testing.assert_array_equal(trace["x"], edited)
    assert_prefix_untouched(before, trace, t)
    assert_traces_equal(trace, cell.run(edited, h0, c0))


@pytest.mark.parametrize(("kind", "conventions"), CONFIGS, ids=CONFIG_IDS)
@FAST
@given(run=runs(), insert=st.booleans(), data=st.data())
def test_inserting_or_deleting_a_row(kind, conventions, run, insert, data):
    D, H, seed, xs, h0, c0 = run
    T = len(xs)
    if not insert and T < 2:
        insert = True
    t = data.draw(st.integers(0, T if insert else T - 1), label="t")
    row = data.draw(arrays(np.float64, (D,), elements=moderate), label="row")
    cell = make(kind, conventions, D, H, seed)
    trace = cell.run(xs, h0, c0)
    before = snapshot(trace)
    changed = np.insert(xs, t, row, axis=0) if insert else np.delete(xs, t, axis=0)
    trace.update(changed, start=t)
    assert trace.steps == len(changed)
    assert_prefix_untouched(before, trace, t)
    assert_traces_equal(trace, cell.run(changed, h0, c0))


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_length_change_from_step_0_keeps_the_initial_state(kind):
    """Regression: _allocate(xs, keep=0) used to skip copying h0 and c0 (`if keep:`), so a
    length change with start=0, the default, ran from uninitialised memory."""
    cell = random_cell(kind, 2, 3, seed=0)
    h0, c0 = np.array([0.5, -0.25, 0.75]), np.array([1.5, -2.0, 0.5])
    xs = np.linspace(-1, 1, 8).reshape(4, 2)
    failures = []
    changes = (xs[1:], np.insert(xs, 0, [0.3, 0.3], axis=0), xs[:2], np.tile(xs, (2, 1)))
    for k, changed in enumerate(changes):
        # a different state each time, so recycled memory cannot hold it by chance
        h0, c0 = h0 + 0.01 * k, c0 - 0.01 * k
        trace = cell.run(xs, h0, c0)
        trace.update(changed)  # start=0 by default
        fresh = cell.run(changed, h0, c0)
        if not all(np.allclose(trace[key], fresh[key], rtol=0, atol=1e-14) for key in fresh):
            failures.append(len(changed))
    assert not failures, f"initial state lost after changing the length to {failures}"


@pytest.mark.parametrize(("kind", "conventions"), CONFIGS, ids=CONFIG_IDS)
@FAST
@given(run=runs(), extra=st.integers(1, 4), data=st.data())
def test_appending_rows(kind, conventions, run, extra, data):
    D, H, seed, xs, h0, c0 = run
    cell = make(kind, conventions, D, H, seed)
    trace = cell.run(xs, h0, c0)
    before = snapshot(trace)
    more = data.draw(arrays(np.float64, (extra, D), elements=moderate))
    longer = np.concatenate([xs, more])
    trace.update(longer, start=len(xs))
    assert_prefix_untouched(before, trace, len(xs))
    assert_traces_equal(trace, cell.run(longer, h0, c0))


@pytest.mark.parametrize(("kind", "conventions"), CONFIGS, ids=CONFIG_IDS)
@FAST
@given(run=runs(), data=st.data())
def test_new_initial_state_recomputes_everything(kind, conventions, run, data):
    D, H, seed, xs, h0, c0 = run
    cell = make(kind, conventions, D, H, seed)
    trace = cell.run(xs, h0, c0)
    new_h0 = data.draw(arrays(np.float64, (H,), elements=st.floats(-1, 1)))
    new_c0 = data.draw(arrays(np.float64, (H,), elements=st.floats(-3, 3)))
    trace.update(h0=new_h0, c0=new_c0, start=len(xs))  # a new state ignores `start`
    for key, value in cell.run(xs, new_h0, new_c0).items():
        np.testing.assert_array_equal(trace[key], value, err_msg=key)


def test_update_really_changes_the_later_steps():
    """The recompute tests above could pass on a trace that ignores edits: make sure not."""
    cell = random_cell("gru", 2, 3, seed=0)
    xs = np.zeros((4, 2))
    trace = cell.run(xs)
    old_h = np.array(trace["h"], copy=True)
    trace.set_input(1, [3.0, -3.0])
    np.testing.assert_array_equal(trace["h"][0], old_h[0])
    assert np.all(np.abs(trace["h"][1:] - old_h[1:]).max(axis=1) > 1e-6)


@pytest.mark.parametrize(("kind", "conventions"), CONFIGS, ids=CONFIG_IDS)
def test_long_sequences_recompute_and_stream_bit_for_bit(kind, conventions):
    """Across several projection blocks: edits, inserts and chunked runs equal a fresh run."""
    rng = np.random.default_rng(7)
    cell = make(kind, conventions, 5, 6, seed=3)
    xs = rng.uniform(-2, 2, size=(700, 5))
    h0, c0 = rng.uniform(-1, 1, 6), rng.uniform(-1, 1, 6)
    trace = cell.run(xs, h0, c0)
    for t in (300, 699, 0, 256):
        xs = xs.copy()
        xs[t] = rng.uniform(-2, 2, 5)
        trace.set_input(t, xs[t])
        assert_traces_equal(trace, cell.run(xs, h0, c0))
    xs = np.insert(xs, 255, xs[100], axis=0)
    trace.update(xs, start=255)
    assert_traces_equal(trace, cell.run(xs, h0, c0))
    # streamed in chunks of 512 rows, carrying the state: the same numbers
    h, c = h0, c0
    for first in range(0, len(xs), 512):
        chunk = cell.run(xs[first : first + 512], h, c)
        assert_same(chunk["h"], trace["h"][first : first + 512], "chunked h")
        h, c = chunk.hs[-1], chunk.cs[-1] if chunk.cs is not None else None
