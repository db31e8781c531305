"""Seeded random weights, drawn the way PyTorch initialises nn.GRU / nn.LSTM / nn.RNN."""

from __future__ import annotations

import numpy as np

from gru_tui.engine.cells import CELLS, Cell
from gru_tui.engine.gates import to_engine_order


def random_cell(kind: str, input_size: int = 3, hidden_size: int = 3, seed: int = 0,
                dtype: str = "float64", **conventions) -> Cell:
    """A cell with weights uniform in ±1/√H from `seed`, the same on every machine.

    Draws come from numpy's PCG64 generator in PyTorch's parameter order — weight_ih
    (gH×D), weight_hh (gH×H), bias_ih, bias_hh, gate rows in PyTorch's order — always in
    float64, then rounded to `dtype`, so float32 and float64 runs share their weights.
    `conventions` are the cell's keywords (reset="after", z_weights="new", …).
    """
    if kind not in CELLS:
        raise ValueError(f"unknown model {kind!r}; choose one of {', '.join(CELLS)}")
    for name, size in (("input_size", input_size), ("hidden_size", hidden_size)):
        if int(size) != size or size < 1:
            raise ValueError(f"{name} must be a positive integer, got {size}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    cls = CELLS[kind]
    rows = len(cls.GATES) * hidden_size
    bound = 1.0 / np.sqrt(hidden_size)
    rng = np.random.default_rng(int(seed))
    W, U, b_i, b_h = (rng.uniform(-bound, bound, size=shape) for shape in (
        (rows, input_size), (rows, hidden_size), (rows,), (rows,)))
    W, U, b_i, b_h = (to_engine_order(kind, "pytorch", a) for a in (W, U, b_i, b_h))
    return cls(W, U, b_i, b_h, dtype=dtype, source=f"random, seed {seed}", **conventions)
