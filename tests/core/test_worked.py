"""The worked example stays finite and silent for any finite input, as the engine does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gru_tui
from gru_tui.core.worked import worked_example


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_saturated_gates_give_no_warning(kind):
    cell = gru_tui.random_cell(kind, 3, 3, seed=1)
    trace = cell.run(np.array([[-1e308, 1e308, 5.0], [1e308, -1e308, -5.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in range(2):
            gates, states = worked_example(trace, t, 0)
            values = [work.value for work in (*gates, *states)]
            assert np.isfinite(values).all()
            assert all(0.0 <= work.value <= 1.0 for work in gates if work.function == "σ")
