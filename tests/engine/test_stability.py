"""SPEC §1: sigmoid and tanh stay finite and warning-free for any finite pre-activation,
±1e308 included; SPEC §3: any finite input or state, ±1e308 included, is accepted."""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from gru_tui.engine import GRUCell, RNNCell, random_cell, sigmoid, tanh
from gru_tui.engine.activations import RECURRENT_ACTIVATIONS

BIG = 1e308
F32_MAX = float(np.finfo(np.float32).max)



@contextmanager
def no_warnings(raise_all=False):
    """Every warning is an error; with raise_all, every floating-point event raises too."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if raise_all:
            with np.errstate(all="raise"):
                yield
        else:
            yield


# -- the functions ----------------------------------------------------------------------------

EXPECTED_SIGMOID = [(BIG, 1.0), (-BIG, 0.0), (1e4, 1.0), (-1e4, 0.0), (0.0, 0.5)]
EXPECTED_TANH = [(BIG, 1.0), (-BIG, -1.0), (1e4, 1.0), (-1e4, -1.0), (0.0, 0.0)]
# Keras' hard sigmoids: flat beyond ±2.5 (Keras 2, 0.2·x + 0.5) and ±3 (Keras 3, (x + 3) / 6)
EXPECTED_HARD = {
    "hard_sigmoid_keras2": [(BIG, 1.0), (-BIG, 0.0), (2.5, 1.0), (-2.5, 0.0), (0.0, 0.5),
                            (1.25, 0.75), (-1.25, 0.25), (1e-300, 0.5)],
    "hard_sigmoid_keras3": [(BIG, 1.0), (-BIG, 0.0), (3.0, 1.0), (-3.0, 0.0), (0.0, 0.5),
                            (1.5, 0.75), (-1.5, 0.25), (1e-300, 0.5)],
}


def check_activations(dtype):
    big = BIG if dtype == np.float64 else F32_MAX
    scale = {BIG: big, -BIG: -big}
    for x, expected in EXPECTED_SIGMOID:
        value = sigmoid(np.array([scale.get(x, x)], dtype=dtype))
        assert value.dtype == dtype
        assert np.isfinite(value).all()
        assert value[0] == expected, (x, value)
    for x, expected in EXPECTED_TANH:
        value = tanh(np.array([scale.get(x, x)], dtype=dtype))
        assert np.isfinite(value).all()
        assert value[0] == expected, (x, value)
    # numpy scalars work too
    assert float(sigmoid(dtype(-big))) == 0.0 and float(sigmoid(dtype(big))) == 1.0
    for name, expected_values in EXPECTED_HARD.items():
        function = RECURRENT_ACTIVATIONS[name]
        for x, expected in expected_values:
            value = function(np.array([scale.get(x, x)], dtype=dtype))
            assert value.dtype == dtype and np.isfinite(value).all()
            assert value[0] == expected, (name, x, value)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_at_extremes(dtype):
    with no_warnings():
        check_activations(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_at_extremes_under_errstate_raise(dtype):
    with no_warnings(raise_all=True):
        check_activations(dtype)


def test_sigmoid_of_a_python_float_is_float64():
    with no_warnings():
        value = sigmoid(0.1)
        assert np.asarray(value).dtype == np.float64
        assert float(value) == pytest.approx(1 / (1 + math.exp(-0.1)), rel=1e-15)
        assert float(sigmoid(-BIG)) == 0.0 and float(sigmoid(BIG)) == 1.0


@pytest.mark.parametrize("x", [-30.0, -100.0, -700.0, -709.0])
def test_sigmoid_keeps_relative_precision_for_tiny_values(x):
    expected = math.exp(x) / (1 + math.exp(x))
    value = float(sigmoid(np.array([x]))[0])
    assert value > 0
    assert abs(value - expected) <= 1e-12 * expected


def test_sigmoid_near_zero_and_symmetry():
    x = np.linspace(-20, 20, 81)
    expected = np.array([1 / (1 + math.exp(-v)) for v in x])
    np.testing.assert_allclose(sigmoid(x), expected, rtol=1e-14, atol=0)
    np.testing.assert_allclose(sigmoid(x) + sigmoid(-x), 1.0, rtol=0, atol=1e-15)


# -- full runs with extreme inputs --------------------------------------------------------------

MODELS = [
    ("gru", {}),
    ("gru", {"reset": "after", "z_weights": "new"}),
    ("lstm", {}),
    ("lstm", {"peepholes": np.full((3, 4), 0.4)}),
    ("rnn", {}),
    ("gru", {"recurrent_activation": "hard_sigmoid_keras2"}),
    ("lstm", {"peepholes": np.full((3, 4), 0.4), "recurrent_activation": "hard_sigmoid_keras3"}),
]
MODEL_IDS = ["gru", "gru-after-new", "lstm", "lstm-peepholes", "rnn", "gru-hard2",
             "lstm-peepholes-hard3"]
EXTREME_XS = np.array([
    [BIG, -BIG, BIG],
    [-BIG, -BIG, -BIG],
    [BIG, BIG, BIG],
    [0.5, -0.3, 0.8],
    [BIG, 0.0, -1e4],
    [-BIG, 1e-3, 1e4],
])


def check_extreme_run(kind, conventions, dtype):
    cell = random_cell(kind, 3, 4, seed=3, dtype=dtype, **conventions)
    h0 = np.array([0.2, 0.4, -0.1, 0.9])
    c0 = np.array([0.6, -0.2, 0.3, -5.0])
    trace = cell.run(EXTREME_XS, h0=h0, c0=c0)
    for key, value in trace.items():
        assert value.dtype == np.dtype(dtype), key
        assert np.isfinite(value).all(), f"{key} is not finite: {value}"
    gates = {"gru": ("reset", "update"), "lstm": ("input", "forget", "output"), "rnn": ()}[kind]
    for name in gates:
        assert np.all((trace[name] >= 0) & (trace[name] <= 1)), name
    assert np.all(np.abs(trace["h"]) <= 1) or kind == "gru"
    if dtype == "float32":  # 1e308 does not fit: it saturates at float32's largest value
        assert np.abs(trace["x"]).max() == F32_MAX
    else:
        assert np.abs(trace["x"]).max() == BIG
    return trace


def _raise_all_params():
    params = []
    for (kind, conventions), name in zip(MODELS, MODEL_IDS, strict=True):
        for dtype in ("float64", "float32"):
            params.append(pytest.param(kind, conventions, dtype, id=f"{name}-{dtype}"))
    return params


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("kind", "conventions"), MODELS, ids=MODEL_IDS)
def test_run_with_extreme_inputs_is_finite_and_silent(kind, conventions, dtype):
    with no_warnings():
        check_extreme_run(kind, conventions, dtype)


@pytest.mark.parametrize(("kind", "conventions", "dtype"), _raise_all_params())
def test_run_with_extreme_inputs_under_errstate_raise(kind, conventions, dtype):
    with no_warnings(raise_all=True):
        check_extreme_run(kind, conventions, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_extreme_inputs_give_the_saturated_answers(dtype):
    """tanh(±huge) = ±1 exactly; an overflowing projection saturates at the largest float."""
    cell = RNNCell([[1.0], [-1.0], [2.0], [-2.0]], np.zeros((4, 4)), dtype=dtype)
    with no_warnings():
        trace = cell.run([[BIG], [-BIG]])
    largest = np.finfo(dtype).max
    np.testing.assert_array_equal(trace["h"], [[1, -1, 1, -1], [-1, 1, -1, 1]])
    np.testing.assert_array_equal(np.sign(trace["h_pre"]), trace["h"])
    assert np.all(np.abs(trace["h_pre"][:, 2:]) == largest)  # 2·1e308 overflows: saturated
    assert np.isfinite(trace["h_pre"]).all()


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_float32_saturation_keeps_every_array_finite(kind):
    cell = random_cell(kind, 3, 5, seed=8, dtype="float32")
    xs = np.array([[BIG, BIG, BIG], [-BIG, -BIG, -BIG], [BIG, -BIG, 3e38], [1e39, -1e39, 1e-300]])
    with no_warnings():
        trace = cell.run(xs)
    for key, value in trace.items():
        assert value.dtype == np.float32
        assert not np.isnan(value).any() and np.isfinite(value).all(), key
    np.testing.assert_array_equal(trace["x"][0], [F32_MAX] * 3)
    np.testing.assert_array_equal(trace["x"][1], [-F32_MAX] * 3)


# -- extreme initial states ----------------------------------------------------------------------


@pytest.mark.parametrize("case", ["float64-explicit-weights", "float32-random-seed-10"])
def test_huge_initial_state_never_gives_nan(case):
    if case.startswith("float64"):
        # rows r, z, n; one unit: U_r = −2, U_z = 0, U_n = 2
        cell = GRUCell(np.zeros((3, 1)), [[-2.0], [0.0], [2.0]], reset="after")
        xs, h0 = np.zeros((2, 1)), [BIG]
    else:  # what `gru-tui step --dtype float32 --gru-reset after --seed 10 --h0 ...` runs
        cell = random_cell("gru", 3, 3, seed=10, dtype="float32", reset="after")
        xs, h0 = np.array([[0.5, -0.3, 0.8]]), [BIG, BIG, BIG]
    with no_warnings():
        trace = cell.run(xs, h0=h0)
    for key in ("reset", "update", "candidate", "h"):
        assert not np.isnan(trace[key]).any(), key


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_huge_initial_state_pre_activations_are_finite(dtype):
    cell = RNNCell([[0.0]], [[2.0]], dtype=dtype)
    with no_warnings():
        trace = cell.run([[0.0]], h0=[BIG])
    assert trace["h"][0, 0] == 1.0
    assert np.isfinite(trace["h_pre"]).all(), trace["h_pre"]


@pytest.mark.parametrize(("kind", "conventions"), MODELS, ids=MODEL_IDS)
def test_huge_initial_state_with_moderate_weights(kind, conventions):
    """With random weights and H = 4 in float64, |U·h| stays below the float64 limit."""
    cell = random_cell(kind, 3, 4, seed=3, **conventions)
    h0 = np.array([BIG, -BIG, BIG, -BIG])
    c0 = np.array([-BIG, BIG, 0.0, 1.0])
    with no_warnings():
        trace = cell.run(np.array([[0.5, -0.3, 0.8], [0.0, 0.0, 0.0]]), h0=h0, c0=c0)
    for key, value in trace.items():
        assert np.isfinite(value).all(), key


def test_huge_state_with_cancelling_weights_gives_the_true_sum():
    """U·h = 2·1e308 − 2·1e308 = 0 exactly; an unscaled product would overflow to inf − inf."""
    cell = RNNCell(np.zeros((2, 1)), [[2.0, -2.0], [0.0, 0.0]])
    with no_warnings():
        trace = cell.run([[0.0]], h0=[BIG, BIG])
    np.testing.assert_array_equal(trace["h"][0], [0.0, 0.0])
