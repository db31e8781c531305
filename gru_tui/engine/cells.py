"""The GRU, LSTM and simple RNN cells of SPEC §1, and what a run over a sequence records.

Each cell keeps its gates stacked row-wise in one matrix per kind of weight, in the order of
its ``GATES``: W (gH×D), U (gH×H), b_i and b_h (gH). ``cell.gate("z")`` gives one gate's
slices by name, so code elsewhere can read like the equations.

A run computes the input projections W·x + b with one matrix product per block of BLOCK
timesteps and loops only over the recurrent part, writing every pre-activation, gate and
state into a :class:`Trace`. Editing an input at step t recomputes steps t..T only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar, NamedTuple

import numpy as np

from gru_tui.engine.activations import sigmoid_into

DTYPES = ("float64", "float32")
RESET_PLACEMENTS = ("before", "after")
Z_CONVENTIONS = ("old", "new")

# Scaling by a power of two is exact, so a product that overflows can be recomputed scaled
# down to learn its sign, then saturated at the largest finite value.
_SCALE = 2.0**64

# Input projections are computed in blocks of exactly this many rows (the last one padded),
# aligned to the first step, so a row always comes out of the same matrix product:
# recomputing from step t, growing the sequence, or streaming a long run in chunks (a
# multiple of this) gives bit for bit the numbers of one whole run.
BLOCK = 256


class GateParams(NamedTuple):
    """One gate's weights: W (H×D), U (H×H), input bias b_i and recurrent bias b_h (H)."""

    W: np.ndarray
    U: np.ndarray
    b_i: np.ndarray
    b_h: np.ndarray


def as_dtype(dtype: str | np.dtype | type) -> np.dtype:
    """The numpy dtype for "float64" or "float32"; anything else is refused."""
    resolved = np.dtype(dtype)
    if resolved.name not in DTYPES:
        raise ValueError(f"dtype must be float64 or float32, got {resolved.name}")
    return resolved


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


class Cell:
    """What the three cells share: weights, shapes, and running over a sequence."""

    kind: ClassVar[str]
    GATES: ClassVar[tuple[str, ...]]  # stacking order of the rows of W, U, b_i, b_h
    GATE_NAMES: ClassVar[dict[str, str]]  # gate letter → record key of its activation
    RECORD_KEYS: ClassVar[tuple[str, ...]]  # SPEC §3 keys after "model" and "t"
    has_cell_state: ClassVar[bool] = False
    # True for a layer loaded from a file that runs from the last input to the first
    # (PyTorch's _reverse direction): its caller feeds it xs[::-1].
    reverse: bool = False

    def __init__(
        self,
        W: np.ndarray,
        U: np.ndarray,
        b_i: np.ndarray | None = None,
        b_h: np.ndarray | None = None,
        *,
        dtype: str | np.dtype = "float64",
        source: str = "",
    ) -> None:
        self.dtype = as_dtype(dtype)
        W = np.array(W, dtype=self.dtype, ndmin=2)
        U = np.array(U, dtype=self.dtype, ndmin=2)
        g = len(self.GATES)
        rows, hidden = U.shape
        if rows != g * hidden or W.shape[0] != rows:
            raise ValueError(
                f"{self.kind} weights need {g}·H rows: W is {W.shape}, U is {U.shape}"
            )
        self.input_size = W.shape[1]
        self.hidden_size = hidden
        zeros = np.zeros(rows, dtype=self.dtype)
        self.W, self.U = W, U
        self.b_i = zeros.copy() if b_i is None else np.array(b_i, dtype=self.dtype)
        self.b_h = zeros.copy() if b_h is None else np.array(b_h, dtype=self.dtype)
        for name, bias in (("b_i", self.b_i), ("b_h", self.b_h)):
            if bias.shape != (rows,):
                raise ValueError(f"{self.kind} {name} has shape {bias.shape}, expected ({rows},)")
        for array in (self.W, self.U, self.b_i, self.b_h):
            array.flags.writeable = False
        self.source = source

    # -- reading the weights --------------------------------------------------------------

    def gate(self, name: str) -> GateParams:
        """The weights of one gate, by its letter in ``GATES``."""
        H = self.hidden_size
        k = self.GATES.index(name)
        rows = slice(k * H, (k + 1) * H)
        return GateParams(self.W[rows], self.U[rows], self.b_i[rows], self.b_h[rows])

    @property
    def conventions(self) -> dict[str, str]:
        """The settings that change the equations, for status lines and records."""
        return {"dtype": self.dtype.name}

    def replace(self, **changes) -> Cell:
        """A copy with some of W, U, b_i, b_h, conventions or dtype changed."""
        weights = {name: changes.pop(name, getattr(self, name))
                   for name in ("W", "U", "b_i", "b_h")}
        settings = {"dtype": self.dtype, "source": self.source, **self._settings(), **changes}
        copy = type(self)(**weights, **settings)
        copy.reverse = self.reverse
        return copy

    def _settings(self) -> dict:
        return {}

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.conventions.items())
        return f"{type(self).__name__}(D={self.input_size}, H={self.hidden_size}{extra})"

    # -- running ------------------------------------------------------------------------

    def run(self, xs, h0=None, c0=None) -> Trace:
        """Run over `xs` [T, D] from h0 (and c0), zeros when not given."""
        return Trace(self, xs, h0, c0)

    def step(self, x, h=None, c=None) -> dict[str, np.ndarray]:
        """One timestep: every vector of SPEC §3 (and the pre-activations) for input x."""
        trace = self.run(np.asarray(x)[None, :], h, c)
        return {key: value[0] for key, value in trace.items()}

    def check_inputs(self, xs) -> np.ndarray:
        """`xs` as a fresh [T, D] array of this cell's dtype; non-finite values refused."""
        xs = np.array(xs, dtype=np.float64, ndmin=2)
        if xs.ndim != 2 or xs.shape[1] != self.input_size:
            raise ValueError(f"inputs have shape {xs.shape}, the cell takes [T, {self.input_size}]")
        finite = np.isfinite(xs)
        if not finite.all():
            row = int(np.argwhere(~finite)[0][0])
            raise ValueError(f"inputs row {row + 1} holds NaN or inf")
        return self._saturate(xs)

    def check_state(self, state, name: str) -> np.ndarray:
        """An initial state as a fresh [H] array; zeros when None."""
        if state is None:
            return np.zeros(self.hidden_size, dtype=self.dtype)
        state = np.array(state, dtype=np.float64).reshape(-1)
        if state.shape != (self.hidden_size,):
            raise ValueError(
                f"{name} has {state.size} values, the cell has {self.hidden_size} units"
            )
        if not np.isfinite(state).all():
            raise ValueError(f"{name} holds NaN or inf")
        return self._saturate(state)

    def _saturate(self, values: np.ndarray) -> np.ndarray:
        """Cast to the cell's dtype; float64 values beyond float32's range saturate."""
        if self.dtype != np.float64:
            limit = np.finfo(self.dtype).max
            values = np.clip(values, -limit, limit)
        with np.errstate(under="ignore"):
            return values.astype(self.dtype)

    def _projection_bias(self) -> np.ndarray:
        """The biases that sit outside any gate product, added with the input projection."""
        return self.b_i + self.b_h

    def project(self, block: np.ndarray, out: np.ndarray) -> np.ndarray:
        """W·x + bias for the rows of one block of at most BLOCK steps, into `out`.

        The product always has BLOCK rows (a short block is padded), so a row's numbers never
        depend on where the run ends. Sums that overflow saturate at the largest finite
        value, never inf or NaN.
        """
        bias = self._projection_bias()
        limit = np.finfo(self.dtype).max
        rows = len(block)
        if rows < BLOCK:
            padded = np.zeros((BLOCK, self.input_size), self.dtype)
            padded[:rows] = block
            block = padded
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            np.matmul(block, self.W.T, out=out)
            out += bias
            bad = ~np.isfinite(out[:rows]).all(axis=1)
            if bad.any():
                scaled = (block[:rows][bad] / _SCALE) @ self.W.T
                out[:rows][bad] = np.clip(scaled * _SCALE + bias, -limit, limit)
        return out[:rows]

    def may_overflow(self, xs: np.ndarray, state_bound: float) -> bool:
        """Whether W·x + b + U·h could exceed the dtype's range for these inputs and any
        |h| ≤ state_bound (a cheap bound, so ordinary runs skip checking every value)."""
        def row_sums(matrix: np.ndarray) -> float:
            return float(np.abs(matrix).sum(axis=1, dtype=np.float64).max(initial=0.0))

        bound = (row_sums(self.W) * float(np.abs(xs).max(initial=0.0))
                 + float(np.abs(self.b_i).max(initial=0.0) + np.abs(self.b_h).max(initial=0.0))
                 + row_sums(self.U) * state_bound)
        return not bound < float(np.finfo(self.dtype).max) / 2

    def _recurrent(self, U: np.ndarray, state_bound: float):
        """`U.dot(h, out)`, or an overflow-safe version when |h| ≤ state_bound could overflow.

        Every cell keeps |h_t| ≤ max(|h_0|, 1), so one check per run decides; only an
        enormous initial state takes the slower, scaled product.
        """
        limit = np.finfo(self.dtype).max
        if state_bound * float(np.abs(U).sum(axis=1).max(initial=0.0)) < limit / 4:
            return U.dot

        def saturating_dot(h: np.ndarray, out: np.ndarray) -> np.ndarray:
            U.dot(h / _SCALE, out)
            out *= _SCALE
            return np.clip(out, -limit, limit, out=out)

        return saturating_dot

    def _forward(self, trace: Trace, start: int, stop: int, xw: np.ndarray,
                 state_bound: float) -> None:
        """Steps start..stop−1 of the recurrence, given their input projections `xw`;
        |h| ≤ state_bound throughout."""
        raise NotImplementedError


class GRUCell(Cell):
    """r = σ(W_r x + b_ir + U_r h + b_hr),  z = σ(W_z x + b_iz + U_z h + b_hz),
    n = tanh(W_n x + b_in + U_n (r ⊙ h) + b_hn)        reset "before"
    n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))        reset "after"
    h' = z ⊙ h + (1 − z) ⊙ n                            z weights the "old" state
    h' = (1 − z) ⊙ h + z ⊙ n                            z weights the "new" state
    """

    kind = "gru"
    GATES = ("r", "z", "n")
    GATE_NAMES = {"r": "reset", "z": "update", "n": "candidate"}
    RECORD_KEYS = ("x", "h_prev", "reset", "update", "candidate", "h")

    def __init__(self, W, U, b_i=None, b_h=None, *, reset: str = "before",
                 z_weights: str = "old", **kwargs) -> None:
        super().__init__(W, U, b_i, b_h, **kwargs)
        self.reset = _choice("reset", reset, RESET_PLACEMENTS)
        self.z_weights = _choice("z_weights", z_weights, Z_CONVENTIONS)

    @property
    def conventions(self) -> dict[str, str]:
        return {"reset": self.reset, "z_weights": self.z_weights, **super().conventions}

    def _settings(self) -> dict:
        return {"reset": self.reset, "z_weights": self.z_weights}

    def _projection_bias(self) -> np.ndarray:
        if self.reset == "before":
            return self.b_i + self.b_h
        H = self.hidden_size  # reset "after": b_hn is multiplied by r inside the loop
        return np.concatenate([self.b_i[: 2 * H] + self.b_h[: 2 * H], self.b_i[2 * H :]])

    def _forward(self, trace: Trace, start: int, stop: int, xw: np.ndarray,
                 state_bound: float) -> None:
        H = self.hidden_size
        after = self.reset == "after"
        z_weights_old = self.z_weights == "old"
        U_dot = self._recurrent(self.U if after else self.U[: 2 * H], state_bound)
        U_n_dot = self._recurrent(self.U[2 * H :], state_bound)
        b_hn = self.b_h[2 * H :]
        Uh = np.empty(3 * H, self.dtype)  # U_r h, U_z h (and U_n h with reset "after")
        Uh_rz, Uh_n = Uh[: 2 * H], Uh[2 * H :]
        tmp = np.empty(H, self.dtype)
        pre, act, hs = trace.pre[start:stop], trace.act[start:stop], trace.hs
        # walk the rows of every array together: no indexing inside the loop
        rows = zip(hs[start:stop], hs[start + 1 : stop + 1], xw[:, : 2 * H], xw[:, 2 * H :],
                   pre[:, : 2 * H], pre[:, 2 * H :], act[:, : 2 * H], act[:, :H],
                   act[:, H : 2 * H], act[:, 2 * H :], strict=True)
        for h, h_new, xw_rz, xw_n, pre_rz, pre_n, rz, r, z, n in rows:
            # r, z = σ(W x + b_i + U h + b_h)
            U_dot(h, Uh if after else Uh_rz)
            np.add(xw_rz, Uh_rz, out=pre_rz)
            sigmoid_into(pre_rz, rz)
            if after:  # n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))
                np.add(Uh_n, b_hn, out=tmp)
                tmp *= r
            else:  # n = tanh(W_n x + b_in + b_hn + U_n (r ⊙ h))
                np.multiply(r, h, out=Uh_n)
                U_n_dot(Uh_n, tmp)
            np.add(xw_n, tmp, out=pre_n)
            np.tanh(pre_n, out=n)
            if z_weights_old:  # h' = z ⊙ h + (1 − z) ⊙ n  =  n + z ⊙ (h − n)
                np.subtract(h, n, out=tmp)
                tmp *= z
                np.add(n, tmp, out=h_new)
            else:  # h' = (1 − z) ⊙ h + z ⊙ n  =  h + z ⊙ (n − h)
                np.subtract(n, h, out=tmp)
                tmp *= z
                np.add(h, tmp, out=h_new)


class LSTMCell(Cell):
    """i, f, o = σ(W_* x + b_i* + U_* h + b_h*),  g = tanh(W_g x + b_ig + U_g h + b_hg),
    c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c').

    Optional peepholes (ONNX's P, rows i, f, o): i and f also see p ⊙ c, o sees p ⊙ c'.
    """

    kind = "lstm"
    GATES = ("i", "f", "o", "g")  # the three sigmoid gates first, so one call squashes them
    GATE_NAMES = {"i": "input", "f": "forget", "o": "output", "g": "candidate"}
    RECORD_KEYS = ("x", "h_prev", "c_prev", "forget", "input", "output", "candidate", "c", "h")
    has_cell_state = True

    def __init__(self, W, U, b_i=None, b_h=None, *, peepholes: np.ndarray | None = None,
                 **kwargs) -> None:
        super().__init__(W, U, b_i, b_h, **kwargs)
        if peepholes is not None:
            peepholes = np.array(peepholes, dtype=self.dtype)
            if peepholes.shape != (3, self.hidden_size):
                raise ValueError(
                    f"lstm peepholes have shape {peepholes.shape}, expected (3, {self.hidden_size})"
                )
            peepholes.flags.writeable = False
        self.peepholes = peepholes

    @property
    def conventions(self) -> dict[str, str]:
        extra = {"peepholes": "yes"} if self.peepholes is not None else {}
        return {**extra, **super().conventions}

    def _settings(self) -> dict:
        return {"peepholes": self.peepholes}

    def _forward(self, trace: Trace, start: int, stop: int, xw: np.ndarray,
                 state_bound: float) -> None:
        H = self.hidden_size
        U_dot = self._recurrent(self.U, state_bound)
        tmp = np.empty(H, self.dtype)
        pre, act = trace.pre[start:stop], trace.act[start:stop]
        hs, cs, peep = trace.hs, trace.cs, self.peepholes
        # walk the rows of every array together: no indexing inside the loop
        rows = zip(hs[start:stop], hs[start + 1 : stop + 1], cs[start:stop],
                   cs[start + 1 : stop + 1], xw, pre,
                   pre[:, :H], pre[:, H : 2 * H], pre[:, 2 * H : 3 * H], pre[:, 3 * H :],
                   act[:, : 3 * H], act[:, : 2 * H], act[:, :H], act[:, H : 2 * H],
                   act[:, 2 * H : 3 * H], act[:, 3 * H :], strict=True)
        for (h, h_new, c, c_new, xw_t, pre_t, pre_i, pre_f, pre_o, pre_g,
             ifo, if_, i, f, o, g) in rows:
            # every pre-activation: W x + b_i + U h + b_h
            U_dot(h, pre_t)
            pre_t += xw_t
            if peep is None:
                sigmoid_into(pre_t[: 3 * H], ifo)  # i, f, o
            else:  # i and f peek at c
                pre_i += peep[0] * c
                pre_f += peep[1] * c
                sigmoid_into(pre_t[: 2 * H], if_)
            np.tanh(pre_g, out=g)
            # c' = f ⊙ c + i ⊙ g
            np.multiply(f, c, out=c_new)
            np.multiply(i, g, out=tmp)
            c_new += tmp
            if peep is not None:  # o peeks at c'
                pre_o += peep[2] * c_new
                sigmoid_into(pre_o, o)
            # h' = o ⊙ tanh(c')
            np.tanh(c_new, out=tmp)
            np.multiply(o, tmp, out=h_new)


class RNNCell(Cell):
    """h' = tanh(W x + b_i + U h + b_h)."""

    kind = "rnn"
    GATES = ("h",)
    GATE_NAMES = {"h": "h"}
    RECORD_KEYS = ("x", "h_prev", "h")

    def _forward(self, trace: Trace, start: int, stop: int, xw: np.ndarray,
                 state_bound: float) -> None:
        U_dot = self._recurrent(self.U, state_bound)
        hs = trace.hs
        rows = zip(hs[start:stop], hs[start + 1 : stop + 1], xw, trace.pre[start:stop],
                   strict=True)
        for h, h_new, xw_t, pre_t in rows:
            U_dot(h, pre_t)  # pre = W x + b_i + U h + b_h
            pre_t += xw_t
            np.tanh(pre_t, out=h_new)

    def gate(self, name: str = "h") -> GateParams:
        return super().gate(name)


CELLS: dict[str, type[Cell]] = {cls.kind: cls for cls in (GRUCell, LSTMCell, RNNCell)}


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
        for k, letter in enumerate(cell.GATES):
            name = cell.GATE_NAMES[letter]
            rows = slice(k * H, (k + 1) * H)
            if cell.kind != "rnn":
                views[name] = self.act[:, rows]
            views[f"{name}_pre"] = self.pre[:, rows]
        if self.cs is not None:
            views["c"] = self.cs[1:]
        views["h"] = self.hs[1:]
        first = cell.RECORD_KEYS  # the SPEC §3 keys in record order, then pre-activations
        return {**{key: views[key] for key in first}, **views}

    def record(self, t: int) -> dict[str, np.ndarray]:
        """The SPEC §3 vectors of step t (0-based), in record order."""
        views = self._views()
        return {key: views[key][t] for key in self.cell.RECORD_KEYS}

    def memory_profile(self):
        """sensitivity_t = ‖∂h_T/∂x_t‖_F and the per-step Jacobian norms of this run (SPEC §7):
        a :class:`gru_tui.engine.gradients.MemoryProfile` of arrays [T]."""
        from gru_tui.engine.gradients import memory_profile

        return memory_profile(self)
