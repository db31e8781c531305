"""Named input sequences: chunked generation equals one-shot, and each has its documented shape."""

from __future__ import annotations

import numpy as np
import pytest

from gru_tui.core.presets import PRESETS, preset_chunks, preset_rows
from gru_tui.errors import InputError

NAMES = sorted(PRESETS)
CHUNKS = [1, 2, 3, 5, 7, 16, 4096]


def test_the_documented_presets_exist():
    assert set(PRESETS) == {"slides", "sine", "impulse", "step", "noise", "remember",
                            "pulses"}
    for name, preset in PRESETS.items():
        assert preset.name == name
        assert preset.steps > 0 and preset.summary


@pytest.mark.parametrize("D", [1, 3, 5])
@pytest.mark.parametrize("name", NAMES)
def test_chunks_equal_one_shot(name, D):
    for steps in (PRESETS[name].steps, 1, 37):
        whole = preset_rows(name, D, 0, steps, seed=3)
        assert whole.shape == (steps, D) and whole.dtype == np.float64
        for chunk in CHUNKS:
            pieces = list(preset_chunks(name, D, steps, seed=3, chunk=chunk))
            assert all(len(p) <= chunk for p in pieces)
            assert len(pieces) == -(-steps // chunk)
            np.testing.assert_array_equal(np.concatenate(pieces), whole,
                                          err_msg=f"{name} chunk={chunk}")


@pytest.mark.parametrize("name", NAMES)
def test_any_window_equals_the_slice_of_the_whole(name):
    whole = preset_rows(name, 4, 0, 1200, seed=11)
    for start, stop in ((0, 1), (1, 2), (5, 17), (999, 1200), (1100, 1100)):
        np.testing.assert_array_equal(preset_rows(name, 4, start, stop, seed=11),
                                      whole[start:stop], err_msg=f"{name} [{start}, {stop})")


@pytest.mark.parametrize("name", NAMES)
def test_values_are_finite_rounded_and_bounded(name):
    rows = preset_rows(name, 3, 0, 200, seed=1)
    assert np.isfinite(rows).all()
    assert np.abs(rows).max() <= 1.0
    np.testing.assert_array_equal(np.round(rows, 4), rows)  # four decimals, as documented


def test_slides_first_row_is_the_worked_example():
    rows = preset_rows("slides", 3, 0, PRESETS["slides"].steps)
    np.testing.assert_array_equal(rows[0], [0.5, -0.3, 0.8])
    # then the sine preset from t = 2
    np.testing.assert_array_equal(rows[1:], preset_rows("sine", 3, 1, PRESETS["slides"].steps))
    first_chunk = next(preset_chunks("slides", 3, 8, chunk=1))
    np.testing.assert_array_equal(first_chunk, [[0.5, -0.3, 0.8]])
    # a window that does not start at t = 1 has no worked example in it
    np.testing.assert_array_equal(preset_rows("slides", 3, 1, 4), preset_rows("sine", 3, 1, 4))


def test_sine_shape():
    rows = preset_rows("sine", 3, 0, 48)
    np.testing.assert_array_equal(rows[12:], rows[:-12])  # period 12
    assert rows.max() <= 0.8 and rows.min() >= -0.8
    assert np.isclose(np.abs(rows).max(), 0.8, atol=1e-4)  # amplitude 0.8 is reached
    # each component is the same wave, a third of a turn (4 steps) apart
    forward = all(np.allclose(rows[:36, d], rows[4 * d : 36 + 4 * d, 0], atol=2e-4)
                  for d in range(3))
    backward = all(np.allclose(rows[8:44, d], rows[8 - 4 * d : 44 - 4 * d, 0], atol=2e-4)
                   for d in range(3))
    assert forward or backward
    assert not np.allclose(rows[:, 0], rows[:, 1], atol=1e-3)
    # the three components of a balanced three-phase wave sum to zero
    np.testing.assert_allclose(rows.sum(axis=1), 0, atol=3e-4)


@pytest.mark.parametrize("D", [1, 3, 4])
def test_impulse_shape(D):
    rows = preset_rows("impulse", D, 0, 30)
    np.testing.assert_array_equal(rows[0], np.ones(D))
    np.testing.assert_array_equal(rows[1:], np.zeros((29, D)))


@pytest.mark.parametrize("D", [1, 3, 4])
def test_step_shape(D):
    assert "zeros for 4 steps" in PRESETS["step"].summary
    rows = preset_rows("step", D, 0, 20)
    np.testing.assert_array_equal(rows[:4], np.zeros((4, D)))
    np.testing.assert_array_equal(rows[4:], np.ones((16, D)))


@pytest.mark.parametrize("D", [1, 3, 4])
def test_remember_shape(D):
    rows = preset_rows("remember", D, 0, 60)
    np.testing.assert_array_equal(np.abs(rows[0]), np.ones(D))
    if D > 1:
        assert set(rows[0]) == {1.0, -1.0}  # a ±1 cue
    np.testing.assert_array_equal(rows[1:], np.zeros((59, D)))


def test_noise_is_reproducible_by_seed_and_differs_by_seed():
    a = preset_rows("noise", 3, 0, 500, seed=5)
    b = preset_rows("noise", 3, 0, 500, seed=5)
    c = preset_rows("noise", 3, 0, 500, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.min() >= -1 and a.max() <= 1
    # uniform in ±1: spread over the whole range, centred, not constant
    assert a.min() < -0.9 and a.max() > 0.9
    assert abs(a.mean()) < 0.1
    assert len(np.unique(a)) > 400


@pytest.mark.parametrize("D", [1, 3])
def test_pulses_are_sparse_seeded_and_spread_over_both_signs(D):
    rows = preset_rows("pulses", D, 0, 4000, seed=2)
    pulses = rows[rows != 0]
    assert 0.27 < pulses.size / rows.size < 0.33  # a pulse on about 30 % of the steps
    assert pulses.min() < -0.95 and pulses.max() > 0.95 and abs(pulses.mean()) < 0.05
    assert not np.array_equal(rows, preset_rows("pulses", D, 0, 4000, seed=3))
    np.testing.assert_array_equal(rows, preset_rows("pulses", D, 0, 4000, seed=2))


@pytest.mark.parametrize("name", ["sine", "impulse", "step", "remember", "slides"])
def test_deterministic_presets_ignore_the_seed(name):
    np.testing.assert_array_equal(preset_rows(name, 3, 0, 30, seed=0),
                                  preset_rows(name, 3, 0, 30, seed=99))


def test_unknown_preset_is_refused():
    with pytest.raises(InputError, match="unknown preset"):
        preset_rows("nope", 3, 0, 5)
    with pytest.raises(InputError):
        list(preset_chunks("nope", 3, 5))
