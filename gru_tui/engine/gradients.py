"""How much the last hidden state still depends on each input: exact Jacobians of a run.

For a run of T steps with state s_t (h_t, or (h_t, c_t) for the LSTM), every step has two
Jacobians, written out below from the derivatives of the gates and the candidate:

    A_t = ∂s_t/∂s_{t−1}   (S×S, S = H or 2H)      B_t = ∂s_t/∂x_t   (S×D)

One backward pass from T multiplies them up:

    G_T = ∂h_T/∂s_T = [I 0],    G_{t−1} = G_t A_t,    sensitivity_t = ‖G_t B_t‖_F = ‖∂h_T/∂x_t‖_F

Conventions:

- Norms are Frobenius norms, everywhere. ``state_jacobian`` is ‖∂h_t/∂h_{t−1}‖_F (for the LSTM
  with c_{t−1} held fixed: the path through the gates); ``cell_jacobian`` (LSTM only) is
  ‖∂c_t/∂c_{t−1}‖_F with h_{t−1} held fixed: the diagonal matrix diag(f_t), plus the
  peephole terms when the cell has them. The Frobenius norm bounds the spectral norm (the
  largest gain) from above, so a value below 1 means every direction shrinks; a step that
  keeps the state unchanged (the identity) has norm √H.
- t counts steps in processing order. A reverse layer (``cell.reverse``) runs over xs[::-1]:
  its sensitivity_t is that of the final processed state to the input consumed at step t.
- Everything is computed in float64, whatever the trace's dtype (a float32 trace's stored
  values are differentiated exactly in float64). Derivatives of σ and tanh come from the
  stored pre-activations, σ'(a) = e^(−|a|)/(1 + e^(−|a|))², so saturated gates keep their
  tiny slopes instead of rounding 1 − σ to 0. A hard sigmoid's slope is its constant slope
  where it is linear and 0 where it is flat, its kinks counted as flat.
- Products over many steps leave float range (a vanishing RNN reaches 1e−400 in a few
  hundred steps): the chain carries a power-of-two exponent beside a normalised matrix, so
  ``log10_sensitivity`` stays exact; ``sensitivity`` itself saturates at the largest finite
  float64 and underflows to 0. A Jacobian entry that overflows (enormous states) saturates
  at the largest finite value, and an inf·0 product counts as 0. No warnings, no NaN.
- Cost: the per-step Jacobians are formed with batched products, all T steps at once for
  small H (a block of steps at a time, 8 MiB, for wide models), then one loop from T down
  multiplies H×S by S×H (the LSTM's c columns of A_t are diagonal, so they cost H² a step):
  O(T·H³) in all, under a millisecond at (T, H) = (200, 3). Editing any input changes h_T,
  so after an edit the whole profile is recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gru_tui.engine.activations import RECURRENT_ACTIVATIONS
from gru_tui.engine.cells import Cell
from gru_tui.engine.trace import Trace

FMAX = np.finfo(np.float64).max
LOG10_2 = float(np.log10(2.0))
BLOCK_VALUES = 1 << 20  # per-step Jacobians are formed this many values at a time (8 MiB)


@dataclass(frozen=True)
class MemoryProfile:
    """One model's memory over a run: arrays [T] in processing order, float64.

    ``sensitivity[t−1]`` is ‖∂h_T/∂x_t‖_F; ``log10_sensitivity`` the same as an exact base-10
    logarithm (−inf where the dependence is exactly zero); ``state_jacobian[t−1]`` is
    ‖∂h_t/∂h_{t−1}‖_F; ``cell_jacobian[t−1]`` (LSTM only, else None) is ‖∂c_t/∂c_{t−1}‖_F.
    """

    model: str
    sensitivity: np.ndarray
    log10_sensitivity: np.ndarray
    state_jacobian: np.ndarray
    cell_jacobian: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return len(self.sensitivity)

    def columns(self) -> dict[str, np.ndarray]:
        """The record keys `step --json --gradients` adds, in order, each an array [T]."""
        columns = {"sensitivity": self.sensitivity, "state_jacobian": self.state_jacobian}
        if self.cell_jacobian is not None:
            columns["cell_jacobian"] = self.cell_jacobian
        return columns


# -- derivatives of the squashing functions, from the pre-activation ------------------------


def dsigmoid(a: np.ndarray) -> np.ndarray:
    """σ'(a) = σ(a)·(1 − σ(a)) = e^(−|a|) / (1 + e^(−|a|))², exact for saturated gates."""
    e = np.exp(-np.abs(a))
    return e / (1.0 + e) ** 2


def dgate(cell: Cell, a: np.ndarray) -> np.ndarray:
    """The slope of the cell's σ gates (its recurrent activation) at pre-activations a."""
    activation = RECURRENT_ACTIVATIONS[cell.recurrent_activation]
    if activation.slope is None:
        return dsigmoid(a)
    return np.where(np.abs(a) < activation.edge, activation.slope, 0.0)


def dtanh(a: np.ndarray) -> np.ndarray:
    """tanh'(a) = 1 − tanh²(a) = 4e^(−2|a|) / (1 + e^(−2|a|))²."""
    e = np.exp(-2.0 * np.abs(a))
    return 4.0 * e / (1.0 + e) ** 2


def _col(v: np.ndarray) -> np.ndarray:
    """[K, H] → [K, H, 1]: v[:, :, None] * M is diag(v_k) M for every step k."""
    return v[:, :, None]


def _add_diagonal(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    """M_k + diag(v_k) for every step k, in place on a stack M [K, H, H]."""
    idx = np.arange(v.shape[1])
    M[:, idx, idx] += v
    return M


# -- per-step Jacobians, one function per cell ---------------------------------------------


class StepJacobians(NamedTuple):
    """A block of steps' Jacobians, in the pieces the backward pass multiplies.

    ``left`` [K, S, H] is ∂s_t/∂h_{t−1}; ``diagonals`` [K, 2, H] (LSTM only, else None) are
    the diagonals of ∂h_t/∂c_{t−1} and ∂c_t/∂c_{t−1}, the only other nonzero entries of
    A_t = ∂s_t/∂s_{t−1}; ``B`` [K, S, D] is ∂s_t/∂x_t.
    """

    left: np.ndarray
    diagonals: np.ndarray | None
    B: np.ndarray


def _weights(cell: Cell, letter: str):
    W, U, _, b_h = cell.gate(letter)
    return W.astype(np.float64), U.astype(np.float64), b_h.astype(np.float64)


def _gru(cell: Cell, v: dict[str, np.ndarray]):
    """h' = z⊙h + (1−z)⊙n  (or (1−z)⊙h + z⊙n), n from either reset placement."""
    W_r, U_r, _ = _weights(cell, "r")
    W_z, U_z, _ = _weights(cell, "z")
    W_n, U_n, b_hn = _weights(cell, "n")
    h, r, z, n = v["h_prev"], v["reset"], v["update"], v["candidate"]
    dr, dz = dgate(cell, v["reset_pre"]), dgate(cell, v["update_pre"])
    dn = dtanh(v["candidate_pre"])
    # ∂a_n/∂h and ∂a_n/∂x, a_n the candidate's pre-activation
    if cell.reset == "before":  # a_n = W_n x + U_n (r ⊙ h) + b:  U_n (diag(r) + diag(h r') ∂a_r)
        hdr = _col(h * dr)
        an_h = U_n @ _add_diagonal(hdr * U_r, r)
        an_x = W_n + U_n @ (hdr * W_r)
    else:  # a_n = W_n x + b_in + r ⊙ m,  m = U_n h + b_hn:  diag(r) U_n + diag(m r') ∂a_r
        m = h @ U_n.T + b_hn
        mdr = _col(m * dr)
        an_h = _col(r) * U_n + mdr * U_r
        an_x = W_n + mdr * W_r
    if cell.z_weights == "old":  # h' = z ⊙ h + (1 − z) ⊙ n
        keep, via_z, via_n = z, (h - n) * dz, (1.0 - z) * dn
    else:  # h' = (1 − z) ⊙ h + z ⊙ n
        keep, via_z, via_n = 1.0 - z, (n - h) * dz, z * dn
    A = _col(via_n) * an_h
    A += _col(via_z) * U_z
    B = _col(via_z) * W_z
    B += _col(via_n) * an_x
    return StepJacobians(_add_diagonal(A, keep), None, B)


def _lstm(cell: Cell, v: dict[str, np.ndarray]):
    """c' = f⊙c + i⊙g, h' = o⊙tanh(c'); the state is (h, c), and A_t has the blocks
    [[∂h'/∂h, ∂h'/∂c], [∂c'/∂h, ∂c'/∂c]], the right two diagonal."""
    W_i, U_i, _ = _weights(cell, "i")
    W_f, U_f, _ = _weights(cell, "f")
    W_o, U_o, _ = _weights(cell, "o")
    W_g, U_g, _ = _weights(cell, "g")
    c_prev, c = v["c_prev"], v["c"]
    i, f, o, g = v["input"], v["forget"], v["output"], v["candidate"]
    di, df, do = (dgate(cell, v[f"{gate}_pre"]) for gate in ("input", "forget", "output"))
    dg, tc, dtc = dtanh(v["candidate_pre"]), np.tanh(c), dtanh(c)
    # c' through the gates: ∂c'/∂a_i = g i', ∂c'/∂a_f = c f', ∂c'/∂a_g = i g'
    via_i, via_f, via_g = g * di, c_prev * df, i * dg
    c_c = f.copy()  # ∂c'/∂c = diag(f), and the peepholes: a_i, a_f see p ⊙ c
    via_o = tc * do  # ∂h'/∂a_o
    via_c = o * dtc  # ∂h'/∂c', and a_o sees p_o ⊙ c'
    peep = cell.peepholes
    if peep is not None:
        p_i, p_f, p_o = (row.astype(np.float64) for row in peep)
        c_c += via_i * p_i + via_f * p_f
        via_c = via_c + via_o * p_o
    K, H = f.shape
    left = np.empty((K, 2 * H, H))
    h_h, c_h = left[:, :H], left[:, H:]  # ∂h'/∂h, ∂c'/∂h
    np.multiply(_col(via_i), U_i, out=c_h)
    c_h += _col(via_f) * U_f
    c_h += _col(via_g) * U_g
    np.multiply(_col(via_c), c_h, out=h_h)
    h_h += _col(via_o) * U_o
    c_x = _col(via_i) * W_i + _col(via_f) * W_f + _col(via_g) * W_g
    h_x = _col(via_o) * W_o + _col(via_c) * c_x
    diagonals = np.stack([via_c * c_c, c_c], axis=1)  # ∂h'/∂c, ∂c'/∂c
    return StepJacobians(left, diagonals, np.concatenate([h_x, c_x], axis=1))


def _rnn(cell: Cell, v: dict[str, np.ndarray]):
    """h' = tanh(a): ∂h'/∂h = diag(tanh'(a)) U, ∂h'/∂x = diag(tanh'(a)) W."""
    W, U, _ = _weights(cell, "h")
    d = _col(dtanh(v["h_pre"]))
    return StepJacobians(d * U, None, d * W)


_JACOBIANS = {"gru": _gru, "lstm": _lstm, "rnn": _rnn}


def _peaks(M: np.ndarray) -> np.ndarray:
    """max |M_k| of every step k of a stack [K, ...] (NaN if M_k holds one)."""
    return np.abs(M).reshape(len(M), -1).max(axis=1, initial=0.0)


def _step_jacobians(trace: Trace, start: int, stop: int) -> tuple[StepJacobians, np.ndarray]:
    """The Jacobians of steps start..stop−1, and the peak |entry| of A_t for each.

    Overflowed entries saturate at the largest float64, and inf·0 (a saturated gate's zero
    slope times an enormous state) counts as 0.
    """
    cell = trace.cell
    values = {key: np.asarray(trace[key][start:stop], dtype=np.float64) for key in trace}
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        parts = _JACOBIANS[cell.kind](cell, values)
        peaks = _state_peaks(parts)
        if not (np.isfinite(peaks).all() and np.isfinite(parts.B).all()):
            for part in parts:
                if part is not None:
                    np.nan_to_num(part, copy=False, nan=0.0, posinf=FMAX, neginf=-FMAX)
            peaks = _state_peaks(parts)
    return parts, peaks


def _state_peaks(parts: StepJacobians) -> np.ndarray:
    """max |entry| of each step's A_t."""
    peaks = _peaks(parts.left)
    if parts.diagonals is not None:
        peaks = np.maximum(peaks, _peaks(parts.diagonals))
    return peaks


def jacobians(trace: Trace, start: int = 0, stop: int | None = None):
    """(A, B) for steps start..stop−1 (0-based): A [K, S, S] = ∂s_t/∂s_{t−1}, B [K, S, D] =
    ∂s_t/∂x_t, float64, with the state s = h (S = H) or, for the LSTM, s = (h, c) (S = 2H)."""
    stop = trace.steps if stop is None else stop
    (left, diagonals, B), _ = _step_jacobians(trace, start, stop)
    return _whole(left, diagonals), B


def _whole(left: np.ndarray, diagonals: np.ndarray | None) -> np.ndarray:
    """A_t [K, S, S] from its left columns and (LSTM) the diagonals of its right ones."""
    if diagonals is None:
        return left
    K, S, H = left.shape
    A = np.zeros((K, S, S))
    A[:, :, :H] = left
    idx = np.arange(H)
    A[:, idx, H + idx] = diagonals[:, 0]
    A[:, H + idx, H + idx] = diagonals[:, 1]
    return A


# -- the backward pass ----------------------------------------------------------------------

# Steps whose Jacobian peaks inside [2^−SAFE, 2^SAFE] are used as they are; others are
# scaled by a power of two (exact), the exponent carried beside them.
SAFE = 400
SMALL = 32  # up to this H, the LSTM's backward pass multiplies whole 2H×2H Jacobians


def _exponents(peaks: np.ndarray) -> np.ndarray:
    """e_k with peak_k · 2^−e_k in [0.5, 1) where peak_k lies outside the safe range, else 0."""
    _, e = np.frexp(peaks)
    outside = (peaks > 0) & ((e > SAFE) | (e < -SAFE))
    return np.where(outside, e, 0).astype(np.int64)


def _frobenius(M: np.ndarray) -> np.ndarray:
    """‖M_k‖_F of every matrix of a stack [K, ·, ·]."""
    return np.sqrt(np.einsum("kij,kij->k", M, M))


def _scaled(norms: np.ndarray, e: np.ndarray) -> np.ndarray:
    """norms · 2^e, saturating at the largest float64 (and quietly underflowing to 0)."""
    with np.errstate(over="ignore", under="ignore"):
        return np.minimum(np.ldexp(norms, e), FMAX)


def memory_profile(trace: Trace) -> MemoryProfile:
    """sensitivity_t = ‖∂h_T/∂x_t‖_F for t = 1..T, and the per-step Jacobian norms.

    One backward pass from T, forming the per-step Jacobians a block of steps at a time
    (all T at once for small H), so memory stays bounded for long runs of wide models.
    """
    with np.errstate(over="ignore", under="ignore"):
        return _memory_profile(trace)


def _memory_profile(trace: Trace) -> MemoryProfile:
    cell, T = trace.cell, trace.steps
    H, D = cell.hidden_size, cell.input_size
    S = 2 * H if cell.has_cell_state else H
    sensitivity, log10 = np.empty(T), np.empty(T)
    state_norm = np.empty(T)
    cell_norm = np.empty(T) if cell.has_cell_state else None
    G = np.zeros((H, S))  # Ĝ, with ∂h_T/∂s_t = Ĝ · 2^g_exp and max |Ĝ| in [0.5, 1)
    G[:, :H] = np.eye(H)
    g_exp = 0
    block = max(1, BLOCK_VALUES // (S * (H + D)))
    for start in reversed(range(0, T, block)):
        stop = min(start + block, T)
        (left, diagonals, B), peaks = _step_jacobians(trace, start, stop)
        a_exp = _exponents(peaks)
        if a_exp.any():
            left = np.ldexp(left, -a_exp[:, None, None])
            if diagonals is not None:
                diagonals = np.ldexp(diagonals, -a_exp[:, None, None])
        b_exp = _exponents(_peaks(B))
        if b_exp.any():
            B = np.ldexp(B, -b_exp[:, None, None])
        state_norm[start:stop] = _scaled(_frobenius(left[:, :H]), a_exp)
        if cell_norm is not None:
            cell_norm[start:stop] = _scaled(np.sqrt((diagonals[:, 1] ** 2).sum(axis=1)), a_exp)
            if H <= SMALL:  # fewer, larger products beat skipping the zeros
                left, diagonals = _whole(left, diagonals), None
        Gs = np.empty((stop - start, H, S))
        g_exps = np.empty(stop - start, np.int64)
        for k in range(stop - start - 1, -1, -1):  # G_{t−1} = G_t A_t
            Gs[k] = G
            g_exps[k] = g_exp
            G_h = G @ left[k]  # ∂h_T/∂h_{t−1} (and ∂h_T/∂c_{t−1} with A_t whole)
            if diagonals is not None:  # ∂h_T/∂c_{t−1}: through h_t's and c_t's diagonals
                G_c = G[:, :H] * diagonals[k, 0] + G[:, H:] * diagonals[k, 1]
                G = np.concatenate([G_h, G_c], axis=1)
            else:
                G = G_h
            peak = np.abs(G).max()
            if peak > 0:
                _, e = np.frexp(peak)
                G = np.ldexp(G, -e)
                g_exp += int(a_exp[k]) + int(e)
        P = Gs @ B  # ∂h_T/∂x_t, scaled: [K, H, D]
        norms, exps = _frobenius(P), g_exps + b_exp
        sensitivity[start:stop] = _scaled(norms, exps)
        with np.errstate(divide="ignore"):
            log10[start:stop] = np.log10(norms) + exps * LOG10_2
    return MemoryProfile(cell.kind, sensitivity, log10, state_norm, cell_norm)
