"""The training lab's renderers: the plot's points and log axis, and how losses are written."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gru_tui.render.lab import curve_points, log_ticks, loss_text, tick_label


def test_short_curves_are_drawn_point_for_point():
    x, y = curve_points([1, 2, 3], [1.0, 0.1, 0.0], points=10)
    assert x.tolist() == [1, 2, 3]
    assert y.tolist() == [0.0, -1.0, -12.0]  # a loss of 0 sits at 1e-12


def test_long_curves_are_geometric_means_of_runs():
    iterations = np.arange(1, 1001)
    losses = np.where(iterations % 2, 0.1, 0.001)  # 0.1, 0.001, 0.1, …: geometric mean 0.01
    x, y = curve_points(iterations, losses, points=100)
    assert len(x) == len(y) == 100
    assert x[0] == pytest.approx(5.5) and x[-1] == pytest.approx(995.5)  # runs of 10
    np.testing.assert_allclose(y, -2.0)


def test_log_ticks_are_decades_or_1_2_5():
    assert log_ticks(-3, 0) == [-3.0, -2.0, -1.0, 0.0]
    ticks = log_ticks(-2, 0)
    assert [tick_label(t) for t in ticks] == ["0.01", "0.1", "1"]
    ticks = log_ticks(-1, 0)  # one decade: 0.1, 0.2, 0.5, 1
    assert [tick_label(t) for t in ticks] == ["0.1", "0.2", "0.5", "1"]
    assert tick_label(math.log10(5e-5)) == "5e-05"


@pytest.mark.parametrize(("value", "shown"), [
    (None, "–"), (0.25161, "0.2516"), (0.01, "0.0100"), (0.00314, "3.1e-03"),
    (2.5e-7, "2.5e-07"),
])
def test_losses_keep_two_digits_when_small(value, shown):
    assert loss_text(value) == shown
