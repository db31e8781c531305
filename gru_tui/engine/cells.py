"""The GRU, LSTM and simple RNN cells of SPEC §1.

Each cell keeps its gates stacked row-wise in one matrix per kind of weight, in the order of
its ``GATES`` (from the gate table, :mod:`gru_tui.engine.gates`): W (gH×D), U (gH×H), b_i and
b_h (gH). ``cell.gate("z")`` gives one gate's slices by name, so code elsewhere can read like
the equations. ``cell.run(xs)`` returns a :class:`~gru_tui.engine.trace.Trace`; each cell's
``_forward`` is the recurrence of its equations, one step at a time.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np

from gru_tui.engine.activations import RECURRENT_ACTIVATIONS, SIGMOID
from gru_tui.engine.gates import TABLES
from gru_tui.engine.trace import BLOCK, Trace

DTYPES = ("float64", "float32")
RESET_PLACEMENTS = ("before", "after")
Z_CONVENTIONS = ("old", "new")

# Scaling by a power of two is exact, so a product that overflows can be recomputed scaled
# down to learn its sign, then saturated at the largest finite value.
_SCALE = 2.0**64


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
    RECORD_KEYS: ClassVar[tuple[str, ...]]  # SPEC §3 keys after "model" and "t"
    has_cell_state: ClassVar[bool] = False
    # True for a layer loaded from a file that runs from the last input to the first
    # (PyTorch's _reverse direction): its caller feeds it xs[::-1].
    reverse: bool = False
    # the function of the σ gates (GatedCell); the simple RNN has none, and keeps σ here
    recurrent_activation: str = SIGMOID

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


class GatedCell(Cell):
    """What the GRU and the LSTM share: σ gates, whose squashing function is the cell's
    ``recurrent_activation`` (Keras' word): the logistic sigmoid, or a Keras hard sigmoid
    (:data:`~gru_tui.engine.activations.RECURRENT_ACTIVATIONS`). In the equations below, σ
    is that function."""

    def __init__(self, W, U, b_i=None, b_h=None, *, recurrent_activation: str = SIGMOID,
                 **kwargs) -> None:
        super().__init__(W, U, b_i, b_h, **kwargs)
        self.recurrent_activation = _choice("recurrent_activation", recurrent_activation,
                                            tuple(RECURRENT_ACTIVATIONS))
        self._squash_gates = RECURRENT_ACTIVATIONS[recurrent_activation].into

    @property
    def conventions(self) -> dict[str, str]:
        extra = ({} if self.recurrent_activation == SIGMOID
                 else {"recurrent_activation": self.recurrent_activation})
        return {**extra, **super().conventions}

    def _settings(self) -> dict:
        return {"recurrent_activation": self.recurrent_activation}


class GRUCell(GatedCell):
    """r = σ(W_r x + b_ir + U_r h + b_hr),  z = σ(W_z x + b_iz + U_z h + b_hz),
    n = tanh(W_n x + b_in + U_n (r ⊙ h) + b_hn)        reset "before"
    n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))        reset "after"
    h' = z ⊙ h + (1 − z) ⊙ n                            z weights the "old" state
    h' = (1 − z) ⊙ h + z ⊙ n                            z weights the "new" state
    """

    kind = "gru"
    GATES = TABLES["gru"].letters
    RECORD_KEYS = TABLES["gru"].records

    def __init__(self, W, U, b_i=None, b_h=None, *, reset: str = "before",
                 z_weights: str = "old", **kwargs) -> None:
        super().__init__(W, U, b_i, b_h, **kwargs)
        self.reset = _choice("reset", reset, RESET_PLACEMENTS)
        self.z_weights = _choice("z_weights", z_weights, Z_CONVENTIONS)

    @property
    def conventions(self) -> dict[str, str]:
        return {"reset": self.reset, "z_weights": self.z_weights, **super().conventions}

    def _settings(self) -> dict:
        return {"reset": self.reset, "z_weights": self.z_weights, **super()._settings()}

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
        squash = self._squash_gates  # σ: the recurrent activation
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
            squash(pre_rz, rz)
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


class LSTMCell(GatedCell):
    """i, f, o = σ(W_* x + b_i* + U_* h + b_h*),  g = tanh(W_g x + b_ig + U_g h + b_hg),
    c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c').

    Optional peepholes (ONNX's P, rows i, f, o): i and f also see p ⊙ c, o sees p ⊙ c'.
    """

    kind = "lstm"
    GATES = TABLES["lstm"].letters
    RECORD_KEYS = TABLES["lstm"].records
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
        return {"peepholes": self.peepholes, **super()._settings()}

    def _forward(self, trace: Trace, start: int, stop: int, xw: np.ndarray,
                 state_bound: float) -> None:
        H = self.hidden_size
        U_dot = self._recurrent(self.U, state_bound)
        tmp = np.empty(H, self.dtype)
        pre, act = trace.pre[start:stop], trace.act[start:stop]
        hs, cs, peep = trace.hs, trace.cs, self.peepholes
        squash = self._squash_gates  # σ: the recurrent activation
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
                squash(pre_t[: 3 * H], ifo)  # i, f, o
            else:  # i and f peek at c
                pre_i += peep[0] * c
                pre_f += peep[1] * c
                squash(pre_t[: 2 * H], if_)
            np.tanh(pre_g, out=g)
            # c' = f ⊙ c + i ⊙ g
            np.multiply(f, c, out=c_new)
            np.multiply(i, g, out=tmp)
            c_new += tmp
            if peep is not None:  # o peeks at c'
                pre_o += peep[2] * c_new
                squash(pre_o, o)
            # h' = o ⊙ tanh(c')
            np.tanh(c_new, out=tmp)
            np.multiply(o, tmp, out=h_new)


class RNNCell(Cell):
    """h' = tanh(W x + b_i + U h + b_h)."""

    kind = "rnn"
    GATES = TABLES["rnn"].letters
    RECORD_KEYS = TABLES["rnn"].records

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


