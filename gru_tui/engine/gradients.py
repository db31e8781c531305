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
  largest gain) from above, so a value below 1 means every direction shrinks.
- t counts steps in processing order. A reverse layer (``cell.reverse``) runs over xs[::-1]:
  its sensitivity_t is that of the final processed state to the input consumed at step t.
- Everything is computed in float64, whatever the trace's dtype (a float32 trace's stored
  values are differentiated exactly in float64). Derivatives of σ and tanh come from the
  stored pre-activations, σ'(a) = e^(−|a|)/(1 + e^(−|a|))², so saturated gates keep their
  tiny slopes instead of rounding 1 − σ to 0.
- Products over many steps leave float range (a vanishing RNN reaches 1e−400 in a few
  hundred steps): the chain carries a power-of-two exponent beside a normalised matrix, so
  ``log10_sensitivity`` stays exact; ``sensitivity`` itself saturates at the largest finite
  float64 and underflows to 0. A Jacobian entry that overflows (enormous states) saturates
  at the largest finite value, and an inf·0 product counts as 0. No warnings, no NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gru_tui.engine.cells import Cell, Trace

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


def dtanh(a: np.ndarray) -> np.ndarray:
    """tanh'(a) = 1 − tanh²(a) = 4e^(−2|a|) / (1 + e^(−2|a|))²."""
    e = np.exp(-2.0 * np.abs(a))
    return 4.0 * e / (1.0 + e) ** 2


def _col(v: np.ndarray) -> np.ndarray:
    """[K, H] → [K, H, 1]: v[:, :, None] * M is diag(v_k) M for every step k."""
    return v[:, :, None]


def _diag(v: np.ndarray) -> np.ndarray:
    """[K, H] → [K, H, H] diagonal matrices."""
    out = np.zeros((*v.shape, v.shape[1]))
    idx = np.arange(v.shape[1])
    out[:, idx, idx] = v
    return out


# -- per-step Jacobians, one function per cell ---------------------------------------------


def _weights(cell: Cell, letter: str):
    W, U, _, b_h = cell.gate(letter)
    return W.astype(np.float64), U.astype(np.float64), b_h.astype(np.float64)


def _gru(cell: Cell, v: dict[str, np.ndarray]):
    """h' = z⊙h + (1−z)⊙n  (or (1−z)⊙h + z⊙n), n from either reset placement."""
    W_r, U_r, _ = _weights(cell, "r")
    W_z, U_z, _ = _weights(cell, "z")
    W_n, U_n, b_hn = _weights(cell, "n")
    h, r, z, n = v["h_prev"], v["reset"], v["update"], v["candidate"]
    dr, dz, dn = dsigmoid(v["reset_pre"]), dsigmoid(v["update_pre"]), dtanh(v["candidate_pre"])
    # ∂a_n/∂h and ∂a_n/∂x, a_n the candidate's pre-activation
    if cell.reset == "before":  # a_n = W_n x + U_n (r ⊙ h) + b:  U_n (diag(r) + diag(h r') ∂a_r)
        hdr = _col(h * dr)
        an_h = U_n @ (_diag(r) + hdr * U_r)
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
    A = _diag(keep) + _col(via_z) * U_z + _col(via_n) * an_h
    B = _col(via_z) * W_z + _col(via_n) * an_x
    return A, B, None


def _lstm(cell: Cell, v: dict[str, np.ndarray]):
    """c' = f⊙c + i⊙g, h' = o⊙tanh(c'); the state is (h, c), so A has the blocks
    [[∂h'/∂h, ∂h'/∂c], [∂c'/∂h, ∂c'/∂c]] and B stacks ∂h'/∂x over ∂c'/∂x."""
    W_i, U_i, _ = _weights(cell, "i")
    W_f, U_f, _ = _weights(cell, "f")
    W_o, U_o, _ = _weights(cell, "o")
    W_g, U_g, _ = _weights(cell, "g")
    c_prev, c = v["c_prev"], v["c"]
    i, f, o, g = v["input"], v["forget"], v["output"], v["candidate"]
    di, df, do = dsigmoid(v["input_pre"]), dsigmoid(v["forget_pre"]), dsigmoid(v["output_pre"])
    dg, tc, dtc = dtanh(v["candidate_pre"]), np.tanh(c), dtanh(c)
    # c' through the gates: ∂c'/∂a_i = g i', ∂c'/∂a_f = c f', ∂c'/∂a_g = i g'
    via_i, via_f, via_g = g * di, c_prev * df, i * dg
    c_h = _col(via_i) * U_i + _col(via_f) * U_f + _col(via_g) * U_g
    c_x = _col(via_i) * W_i + _col(via_f) * W_f + _col(via_g) * W_g
    c_c = f.copy()  # ∂c'/∂c = diag(f), and the peepholes: a_i, a_f see p ⊙ c
    via_o = tc * do  # ∂h'/∂a_o
    via_c = o * dtc  # ∂h'/∂c', and a_o sees p_o ⊙ c'
    peep = cell.peepholes
    if peep is not None:
        p_i, p_f, p_o = (row.astype(np.float64) for row in peep)
        c_c += via_i * p_i + via_f * p_f
        via_c = via_c + via_o * p_o
    h_h = _col(via_o) * U_o + _col(via_c) * c_h
    h_x = _col(via_o) * W_o + _col(via_c) * c_x
    h_c = via_c * c_c
    K, H = f.shape
    A = np.empty((K, 2 * H, 2 * H))
    A[:, :H, :H] = h_h
    A[:, :H, H:] = _diag(h_c)
    A[:, H:, :H] = c_h
    A[:, H:, H:] = _diag(c_c)
    B = np.concatenate([h_x, c_x], axis=1)
    return A, B, np.sqrt((c_c**2).sum(axis=1))


def _rnn(cell: Cell, v: dict[str, np.ndarray]):
    """h' = tanh(a): ∂h'/∂h = diag(tanh'(a)) U, ∂h'/∂x = diag(tanh'(a)) W."""
    W, U, _ = _weights(cell, "h")
    d = _col(dtanh(v["h_pre"]))
    return d * U, d * W, None


_JACOBIANS = {"gru": _gru, "lstm": _lstm, "rnn": _rnn}


def _sanitise(a: np.ndarray) -> np.ndarray:
    """Overflowed entries saturate; inf·0 (a saturated gate's zero slope) counts as 0."""
    return np.nan_to_num(a, copy=False, nan=0.0, posinf=FMAX, neginf=-FMAX)


def _step_jacobians(trace: Trace, start: int, stop: int):
    cell = trace.cell
    values = {key: np.asarray(trace[key][start:stop], dtype=np.float64) for key in trace}
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        A, B, cell_norm = _JACOBIANS[cell.kind](cell, values)
        return _sanitise(A), _sanitise(B), cell_norm


def jacobians(trace: Trace, start: int = 0, stop: int | None = None):
    """(A, B) for steps start..stop−1 (0-based): A [K, S, S] = ∂s_t/∂s_{t−1}, B [K, S, D] =
    ∂s_t/∂x_t, float64, with the state s = h (S = H) or, for the LSTM, s = (h, c) (S = 2H)."""
    stop = trace.steps if stop is None else stop
    A, B, _ = _step_jacobians(trace, start, stop)
    return A, B


# -- the backward pass ----------------------------------------------------------------------


def _normalised(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """M_k = M̂_k · 2^e_k with max |M̂_k| in [0.5, 1) (or M̂_k = 0): exact, per step k."""
    peak = np.abs(M).max(axis=(1, 2)) if M.size else np.zeros(len(M))
    _, e = np.frexp(peak)
    return np.ldexp(M, -e[:, None, None]), e.astype(np.int64)


def _frobenius(M: np.ndarray) -> np.ndarray:
    """‖M_k‖_F of every matrix of a stack [K, ·, ·]."""
    return np.sqrt((M**2).sum(axis=(1, 2)))


def _scaled(norms: np.ndarray, e: np.ndarray) -> np.ndarray:
    """norms · 2^e, saturating at the largest float64 (and quietly underflowing to 0)."""
    with np.errstate(over="ignore", under="ignore"):
        return np.minimum(np.ldexp(norms, e), FMAX)


def memory_profile(trace: Trace) -> MemoryProfile:
    """sensitivity_t = ‖∂h_T/∂x_t‖_F for t = 1..T, and the per-step Jacobian norms.

    One backward pass from T, forming the per-step Jacobians a block of steps at a time
    (all T at once for small H), so memory stays bounded for long runs of wide models.
    """
    cell, T = trace.cell, trace.steps
    H, D = cell.hidden_size, cell.input_size
    S = 2 * H if cell.has_cell_state else H
    sensitivity, log10 = np.empty(T), np.empty(T)
    state_norm = np.empty(T)
    cell_norm = np.empty(T) if cell.has_cell_state else None
    G = np.zeros((H, S))  # Ĝ, with ∂h_T/∂s_t = Ĝ · 2^g_exp
    G[:, :H] = np.eye(H)
    g_exp = 0
    block = max(1, BLOCK_VALUES // (S * (S + D)))
    for start in reversed(range(0, T, block)):
        stop = min(start + block, T)
        A, B, c_norm = _step_jacobians(trace, start, stop)
        A, a_exp = _normalised(A)
        B, b_exp = _normalised(B)
        state_norm[start:stop] = _scaled(_frobenius(A[:, :H, :H]), a_exp)
        if cell_norm is not None:
            cell_norm[start:stop] = np.minimum(c_norm, FMAX)
        Gs = np.empty((stop - start, H, S))
        g_exps = np.empty(stop - start, np.int64)
        for k in range(stop - start - 1, -1, -1):  # G_{t−1} = G_t A_t
            Gs[k] = G
            g_exps[k] = g_exp
            G = G @ A[k]
            peak = np.abs(G).max()
            if peak > 0:
                _, e = np.frexp(peak)
                G = np.ldexp(G, -e)
                g_exp += int(a_exp[k]) + int(e)
        P = Gs @ B  # ∂h_T/∂x_t, normalised: [K, H, D]
        norms, exps = _frobenius(P), g_exps + b_exp
        sensitivity[start:stop] = _scaled(norms, exps)
        with np.errstate(divide="ignore"):
            log10[start:stop] = np.log10(norms) + exps * LOG10_2
    return MemoryProfile(cell.kind, sensitivity, log10, state_norm, cell_norm)
