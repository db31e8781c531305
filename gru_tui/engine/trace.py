"""What a run over a sequence records: every pre-activation, gate and state, step by step.

A :class:`Trace` computes the input projections W·x + b with one matrix product per block of
BLOCK timesteps and loops only over the recurrent part, which each cell writes into the
trace's storage. Editing an input at step t recomputes steps t..T only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import numpy as np

from gru_tui.engine.gates import TABLES

if TYPE_CHECKING:
    from gru_tui.engine.cells import Cell

# Input projections are computed in blocks of exactly this many rows (the last one padded),
# aligned to the first step, so a row always comes out of the same matrix product:
# recomputing from step t, growing the sequence, or streaming a long run in chunks (a
# multiple of this) gives bit for bit the numbers of one whole run.
BLOCK = 256


class Trace(Mapping[str, np.ndarray]):
    """Every vector of a run, by the record keys of SPEC §3, as arrays [T, ·].

    Besides those keys, ``"<gate>_pre"`` holds each gate's pre-activation (``"h_pre"`` for
    the simple RNN). The arrays are views into the trace's storage: they change when the
    trace is updated, and are read-only to the caller.
    """

    def __init__(self, cell: Cell, xs, h0=None, c0=None) -> None:
        self.cell = cell
        self._allocate(cell.check_inputs(xs))
        self.hs[0] = cell.check_state(h0, "h0")
        if cell.has_cell_state:
            self.cs[0] = cell.check_state(c0, "c0")
        self._compute(0)

    def _allocate(self, xs: np.ndarray, keep: int = 0) -> None:
        """Storage for len(xs) steps, keeping the first `keep` steps of the current run."""
        cell, T = self.cell, len(xs)
        width = len(cell.GATES) * cell.hidden_size
        old = self.__dict__.copy()
        self.xs = xs
        self.pre = np.empty((T, width), cell.dtype)
        self.act = self.pre if cell.kind == "rnn" else np.empty((T, width), cell.dtype)
        self.hs = np.empty((T + 1, cell.hidden_size), cell.dtype)  # hs[t] = h_t; hs[0] = h0
        self.cs = np.empty_like(self.hs) if cell.has_cell_state else None
        if "hs" in old:  # the initial states always stay, and the first `keep` steps
            for name in ("pre", "act"):
                getattr(self, name)[:keep] = old[name][:keep]
            self.hs[: keep + 1] = old["hs"][: keep + 1]
            if self.cs is not None:
                self.cs[: keep + 1] = old["cs"][: keep + 1]

    def _compute(self, start: int) -> None:
        """Steps start..T−1: a block's input projections, then its steps, block by block."""
        cell, T = self.cell, self.steps
        state_bound = max(float(np.abs(self.hs[start]).max(initial=0.0)), 1.0)
        xw = np.empty((BLOCK, self.pre.shape[1]), cell.dtype)
        for first in range(start // BLOCK * BLOCK, T, BLOCK):
            stop = min(first + BLOCK, T)
            projected = cell.project(self.xs[first:stop], xw)
            with np.errstate(over="ignore", under="ignore"):
                cell._forward(self, max(start, first), stop, projected[max(start - first, 0):],
                              state_bound)
        if cell.may_overflow(self.xs[start:], state_bound) and not np.isfinite(
                self.pre[start:]).all():  # a sum overflowed: σ and tanh are right,
            limit = np.finfo(cell.dtype).max  # and the stored pre-activation saturates
            np.clip(self.pre[start:], -limit, limit, out=self.pre[start:])

    # -- editing ---------------------------------------------------------------------------

    def update(self, xs=None, *, h0=None, c0=None, start: int = 0) -> None:
        """Take new inputs (any length) or initial states and recompute from step `start`.

        `start` is 0-based: rows before it must be unchanged. New initial states recompute
        everything. Only steps start..T are redone.
        """
        cell = self.cell
        if h0 is not None or c0 is not None:
            start = 0
            if h0 is not None:
                self.hs[0] = cell.check_state(h0, "h0")
            if c0 is not None and cell.has_cell_state:
                self.cs[0] = cell.check_state(c0, "c0")
        if xs is not None:
            xs = cell.check_inputs(xs)
            start = min(start, len(xs), len(self.xs))
            if len(xs) == len(self.xs):
                self.xs = xs
            else:
                self._allocate(xs, keep=start)
        if not 0 <= start <= len(self.xs):
            raise ValueError(f"start must lie in 0..{len(self.xs)}, got {start}")
        self._compute(start)

    def set_input(self, t: int, x) -> None:
        """Replace the input of step t (0-based) and recompute steps t..T."""
        xs = self.xs.copy()
        xs[t] = self.cell.check_inputs(np.asarray(x, dtype=np.float64)[None, :])[0]
        self.update(xs, start=t)

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._views())

    def __iter__(self) -> Iterator[str]:
        return iter(self._views())

    def __getitem__(self, key: str) -> np.ndarray:
        view = self._views()[key]
        view.flags.writeable = False
        return view

    @property
    def steps(self) -> int:
        return len(self.xs)

    def _views(self) -> dict[str, np.ndarray]:
        cell, H = self.cell, self.cell.hidden_size
        views = {"x": self.xs, "h_prev": self.hs[:-1]}
        if self.cs is not None:
            views["c_prev"] = self.cs[:-1]
        for k, gate in enumerate(TABLES[cell.kind].gates):
            rows = slice(k * H, (k + 1) * H)
            if cell.kind != "rnn":  # the simple RNN's one "gate" is h itself
                views[gate.name] = self.act[:, rows]
            views[f"{gate.name}_pre"] = self.pre[:, rows]
        if self.cs is not None:
            views["c"] = self.cs[1:]
        views["h"] = self.hs[1:]
        first = cell.RECORD_KEYS  # the SPEC §3 keys in record order, then pre-activations
        return {**{key: views[key] for key in first}, **views}

    def record(self, t: int) -> dict[str, np.ndarray]:
        """The SPEC §3 vectors of step t (0-based), in record order."""
        views = self._views()
        return {key: views[key][t] for key in self.cell.RECORD_KEYS}
