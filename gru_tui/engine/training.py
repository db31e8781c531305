"""Training a recurrent layer and a linear readout in numpy: exact backpropagation through time.

A :class:`Network` is an engine cell's weights — W (g·H×D), U (g·H×H), b_i, b_h (g·H), gate
rows in the cell's ``GATES`` order — and a readout y_t = W_out h_t + b_out (W_out O×H, b_out
O), all held in one flat vector so that clipping and Adam treat them as one. ``network.cell()``
is the engine cell with the trained weights, so everything the app shows works on it.

The loss, for predictions ŷ and targets y [B, T, O] and a mask m [B, T] of 0/1 weights:

    L = Σ_{b,t,o} m_bt (ŷ_bto − y_bto)² / (O · Σ_{b,t} m_bt)

the mean squared error over the masked-in steps and every output. Its gradient is exact: the
forward pass keeps every gate and state, and the backward pass runs the chain rule from T back
to 1 (the equations are written beside each cell's backward pass below).

How the numbers are laid out, for speed (a step costs a handful of numpy calls, so the calls
and not the arithmetic are what count at small sizes):

- Feature-major, time-major: a step's vectors for the whole batch are one contiguous [rows, B]
  block, every gate of a step is a contiguous slice of it, and buffers [T, rows, B] hold a run.
- The input enters the recurrent product: the step's matrix product is M z_t with
  M = [W | b_i + b_h | U] and z_t = [x_t; 1; h_{t−1}], so one product gives every
  pre-activation, and h_t is written straight into z_{t+1}.
- σ(a) = (1 + tanh(a/2)) / 2: the rows of the sigmoid gates are halved in M (exact: a power
  of two), so one tanh squashes every gate of a step and two in-place operations turn its
  sigmoid rows into σ.
- The backward pass's factors that depend on the forward values only (σ' = σ(1 − σ), 1 − n²,
  …) are computed for all steps at once before its loop; the loop does what depends on the
  gradient flowing back. The weight gradients are one matrix product over all steps after it.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from gru_tui.engine.cells import CELLS, Cell
from gru_tui.engine.init import random_cell

PARAMETER_NAMES = ("W", "U", "b_i", "b_h", "W_out", "b_out")
KEPT_WORKSPACES = 4  # batch shapes whose buffers a network keeps (training, held-out, probes)


def readout_init(hidden_size: int, output_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """W_out (O×H) and b_out (O) uniform in ±1/√H, as nn.Linear(H, O) draws them by default,
    from numpy's PCG64 seeded with (seed, 1) (the recurrent layer's draws use seed alone)."""
    bound = 1.0 / math.sqrt(hidden_size)
    rng = np.random.default_rng([seed, 1])
    return (rng.uniform(-bound, bound, size=(output_size, hidden_size)),
            rng.uniform(-bound, bound, size=output_size))


class Network:
    """A recurrent layer and a linear readout, trained together on the masked MSE.

    ``params`` is the flat vector of every trained value and ``grads`` its gradient after
    :meth:`loss_and_gradient`; ``W``, ``U``, ``b_i``, ``b_h``, ``W_out``, ``b_out`` (and
    ``gradient[name]``) are views into them, so updating the flat vector updates the model.
    """

    kind: ClassVar[str]

    def __init__(self, cell: Cell, W_out, b_out) -> None:
        if cell.kind != self.kind:
            raise ValueError(f"a {type(self).__name__} trains a {self.kind} cell, got {cell.kind}")
        if getattr(cell, "peepholes", None) is not None:
            raise ValueError("training an LSTM with peepholes is not supported")
        self.dtype = cell.dtype
        self.conventions = {key: value for key, value in cell.conventions.items()
                            if key in ("reset", "z_weights")}
        W_out = np.array(W_out, dtype=self.dtype, ndmin=2)
        self.input_size, self.hidden_size = cell.input_size, cell.hidden_size
        self.output_size = W_out.shape[0]
        D, H, O = self.input_size, self.hidden_size, self.output_size  # noqa: E741
        rows = len(cell.GATES) * H
        shapes = {"W": (rows, D), "U": (rows, H), "b_i": (rows,), "b_h": (rows,),
                  "W_out": (O, H), "b_out": (O,)}
        sizes = [math.prod(shape) for shape in shapes.values()]
        self.params = np.empty(sum(sizes), self.dtype)
        self.grads = np.zeros_like(self.params)
        self.gradient: dict[str, np.ndarray] = {}
        offsets = np.cumsum([0, *sizes])
        for (name, shape), start, stop in zip(shapes.items(), offsets[:-1], offsets[1:],
                                              strict=True):
            setattr(self, name, self.params[start:stop].reshape(shape))
            self.gradient[name] = self.grads[start:stop].reshape(shape)
        for name, value in zip(PARAMETER_NAMES, (cell.W, cell.U, cell.b_i, cell.b_h, W_out,
                                                 b_out), strict=True):
            target = getattr(self, name)
            if np.shape(value) != target.shape:
                raise ValueError(f"{name} has shape {np.shape(value)}, expected {target.shape}")
            target[...] = value
        self._workspaces: dict[tuple[int, int], _Workspace] = {}

    @staticmethod
    def create(kind: str, input_size: int, hidden_size: int, output_size: int, seed: int = 0,
               dtype: str = "float64", **conventions) -> Network:
        """A network with PyTorch's initialisation from `seed`: the recurrent layer as
        :func:`random_cell` draws it, the readout as :func:`readout_init`."""
        cell = random_cell(kind, input_size, hidden_size, seed=seed, dtype=dtype, **conventions)
        return NETWORKS[kind](cell, *readout_init(hidden_size, output_size, seed))

    @staticmethod
    def from_cell(cell: Cell, W_out, b_out) -> Network:
        """The network of an engine cell and a readout (copied)."""
        return NETWORKS[cell.kind](cell, W_out, b_out)

    def cell(self) -> Cell:
        """The engine cell with the current weights (a copy)."""
        return CELLS[self.kind](self.W.copy(), self.U.copy(), self.b_i.copy(), self.b_h.copy(),
                                dtype=self.dtype, **self.conventions)

    def readout(self) -> tuple[np.ndarray, np.ndarray]:
        """(W_out, b_out), copies."""
        return self.W_out.copy(), self.b_out.copy()

    @property
    def parameter_count(self) -> int:
        """Every trained value: the recurrent layer's g·(D·H + H·H + 2H) and the readout's
        O·H + O."""
        return self.params.size

    # -- the three passes ---------------------------------------------------------------------

    def predict(self, x) -> np.ndarray:
        """ŷ [B, T, O] for inputs x [B, T, D], from zero initial states."""
        ws = self._run(x)
        return ws.y_hat.reshape(self.output_size, ws.steps, ws.batch).transpose(2, 1, 0).copy()

    def loss(self, x, y, mask) -> float:
        """The masked mean squared error L (module docstring) of the readout on one batch."""
        ws = self._run(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return ws.error(y, mask)

    def loss_and_gradient(self, x, y, mask) -> float:
        """L on one batch, and its exact gradient for every parameter into ``grads``.

        A loss that is not finite comes back as it is (NaN or inf), with no warning: the caller
        decides what to do with it, and ``grads`` then holds no meaningful values.
        """
        ws = self._run(x)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            loss = ws.error(y, mask)
            if not ws.trains:  # the backward pass's buffers, for batches that train
                ws.allocate_backward()
                self._allocate_backward(ws)
            ws.readout_gradient(self.W_out, self.gradient["W_out"], self.gradient["b_out"])
            self._backward(ws)
        return loss

    def _run(self, x) -> _Workspace:
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"inputs have shape {x.shape}, the network takes "
                             f"[B, T, {self.input_size}]")
        B, T, _ = x.shape
        ws = self._workspaces.pop((B, T), None)
        if ws is None:
            ws = _Workspace(self, B, T)
            self._allocate_forward(ws)
            if len(self._workspaces) == KEPT_WORKSPACES:  # forget the least recently used
                del self._workspaces[next(iter(self._workspaces))]
        self._workspaces[(B, T)] = ws
        ws.load(x)
        self._assemble(ws)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            self._forward(ws)
            ws.finish_forward(self.W_out, self.b_out)
        return ws

    # -- what each cell defines ---------------------------------------------------------------

    def _allocate_forward(self, ws: _Workspace) -> None:
        """The forward pass's buffers and per-step views, into the workspace."""
        raise NotImplementedError

    def _allocate_backward(self, ws: _Workspace) -> None:
        """The backward pass's buffers and per-step views, into the workspace."""
        raise NotImplementedError

    def _assemble(self, ws: _Workspace) -> None:
        """Write the step matrices of the current parameters into the workspace."""
        raise NotImplementedError

    def _forward(self, ws: _Workspace) -> None:
        raise NotImplementedError

    def _backward(self, ws: _Workspace) -> None:
        """From ws.dh_out (∂L/∂h_t through the readout), the gradient of W, U, b_i, b_h."""
        raise NotImplementedError


class _Workspace:
    """The buffers of one batch shape (B, T), allocated once and reused every iteration.

    ``z`` [T+1, K, B] holds z_t = [x_t; 1; h_{t−1}] (K = D + 1 + H) for t = 1..T, and h_T in
    the last block's state rows; ``zc`` is its copy as one [K, (T+1)·B] matrix, the shape the
    weight gradients and the readout multiply. The cells add their own buffers.
    """

    def __init__(self, network: Network, B: int, T: int) -> None:
        D, H, O = network.input_size, network.hidden_size, network.output_size  # noqa: E741
        self.dtype = network.dtype
        self.batch, self.steps, self.input_size, self.outputs = B, T, D, O
        K = D + 1 + H
        self.z = np.zeros((T + 1, K, B), self.dtype)
        self.z[:, D] = 1
        self.zc = np.empty((K, (T + 1) * B), self.dtype)
        self.states = self.z[:, D + 1 :]  # states[t] = h_t, states[0] = h_0 = 0
        self.y_hat = np.empty((O, T * B), self.dtype)
        self.target = np.empty((O, T * B), self.dtype)
        self.mask = np.empty((1, T * B), self.dtype)
        self.residual = np.empty((O, T * B), self.dtype)
        self.trains = False

    def allocate_backward(self) -> None:
        T, B, H = self.steps, self.batch, self.states.shape[1]
        self.d_y_hat = np.empty((self.outputs, T * B), self.dtype)
        self.dh_readout = np.empty((H, T * B), self.dtype)
        self.dh_out = np.empty((T, H, B), self.dtype)  # ∂L/∂h_t through the readout
        self.trains = True

    def load(self, x: np.ndarray) -> None:
        """Inputs x [B, T, D] into the x rows of z_1..z_T."""
        np.copyto(self.z[:-1, : self.input_size], x.transpose(1, 2, 0), casting="same_kind")

    def finish_forward(self, W_out: np.ndarray, b_out: np.ndarray) -> None:
        """After the recurrence: z as one matrix, and the readout ŷ_t = W_out h_t + b_out."""
        T, B = self.steps, self.batch
        np.copyto(self.zc.reshape(self.zc.shape[0], T + 1, B), self.z.transpose(1, 0, 2))
        np.matmul(W_out, self.hidden_states(), out=self.y_hat)
        self.y_hat += b_out[:, None]

    def hidden_states(self) -> np.ndarray:
        """h_1..h_T as one matrix [H, T·B]."""
        return self.zc[self.input_size + 1 :, self.batch :]

    def error(self, y, mask) -> float:
        """The masked MSE of ŷ against y [B, T, O] with mask [B, T]; keeps m ⊙ (ŷ − y)."""
        B, T, O = self.batch, self.steps, self.outputs  # noqa: E741
        y, mask = np.asarray(y), np.asarray(mask)
        if y.shape != (B, T, O) or mask.shape != (B, T):
            raise ValueError(f"targets {y.shape} and mask {mask.shape} do not fit inputs "
                             f"[{B}, {T}, ·] and {O} outputs")
        np.copyto(self.target.reshape(O, T, B), y.transpose(2, 1, 0), casting="same_kind")
        np.copyto(self.mask.reshape(T, B), mask.T, casting="same_kind")
        self.norm = O * float(self.mask.sum(dtype=np.float64))
        if self.norm == 0:
            raise ValueError("the mask selects no step: the loss is undefined")
        np.subtract(self.y_hat, self.target, out=self.residual)
        self.residual *= self.mask  # m ⊙ (ŷ − y)
        return float(np.vdot(self.residual, self.y_hat - self.target)) / self.norm

    def readout_gradient(self, W_out, g_W_out, g_b_out) -> None:
        """∂L/∂ŷ = 2 m ⊙ (ŷ − y) / (O Σm), then W_out's and b_out's gradients and ∂L/∂h_t."""
        np.multiply(self.residual, 2.0 / self.norm, out=self.d_y_hat)
        np.matmul(self.d_y_hat, self.hidden_states().T, out=g_W_out)
        self.d_y_hat.sum(axis=1, out=g_b_out)
        np.dot(W_out.T, self.d_y_hat, out=self.dh_readout)  # np.matmul is slow for O = 1
        T, H, B = self.dh_out.shape
        np.copyto(self.dh_out, self.dh_readout.reshape(H, T, B).transpose(1, 0, 2))


def _stack_into(M: np.ndarray, W, b, U, D: int) -> None:
    """M = [W | b | U] in place (rows as given)."""
    M[:, :D] = W
    M[:, D] = b
    M[:, D + 1 :] = U


# -- the simple RNN ------------------------------------------------------------------------------


class RNNNetwork(Network):
    """h_t = tanh(a_t), a_t = W x_t + b_i + U h_{t−1} + b_h.

    Backward:  δh_t = ∂L/∂h_t (readout) + Uᵀ δa_{t+1},   δa_t = δh_t ⊙ (1 − h_t²).
    """

    kind = "rnn"

    def _allocate_forward(self, ws) -> None:
        H, K, B, dt = self.hidden_size, ws.z.shape[1], ws.batch, self.dtype
        ws.M = np.empty((H, K), dt)
        ws.pre = np.empty((H, B), dt)
        ws.forward_steps = list(zip(ws.z[:-1], ws.states[1:], strict=True))

    def _allocate_backward(self, ws) -> None:
        H, K, T, B, dt = self.hidden_size, ws.z.shape[1], ws.steps, ws.batch, self.dtype
        ws.slope = np.empty((T, H, B), dt)  # 1 − h_t²
        ws.da = np.empty((T, H, B), dt)
        ws.dac = np.empty((H, T * B), dt)
        ws.dM = np.empty((H, K), dt)
        ws.dh = np.empty((H, B), dt)
        ws.dh_rec = np.empty((H, B), dt)
        ws.backward_steps = list(zip(ws.dh_out, ws.slope, ws.da, strict=True))[::-1]

    def _assemble(self, ws) -> None:
        _stack_into(ws.M, self.W, self.b_i + self.b_h, self.U, self.input_size)

    def _forward(self, ws) -> None:
        matmul, tanh, M, pre = np.matmul, np.tanh, ws.M, ws.pre
        for z, h in ws.forward_steps:
            matmul(M, z, out=pre)  # a_t = [W | b | U] [x_t; 1; h_{t−1}]
            tanh(pre, out=h)

    def _backward(self, ws) -> None:
        np.square(ws.states[1:], out=ws.slope)
        np.subtract(1, ws.slope, out=ws.slope)
        add, multiply, matmul = np.add, np.multiply, np.matmul
        dh, dh_rec, U_T = ws.dh, ws.dh_rec, self.U.T
        dh_rec.fill(0)
        for dh_out, slope, da in ws.backward_steps:
            add(dh_out, dh_rec, out=dh)  # δh_t = ∂L/∂h_t + Uᵀ δa_{t+1}
            multiply(dh, slope, out=da)  # δa_t = δh_t ⊙ (1 − h_t²)
            matmul(U_T, da, out=dh_rec)
        _weight_gradient(ws, ws.da, ws.dac, ws.dM)
        g, D = self.gradient, self.input_size
        g["W"][...] = ws.dM[:, :D]
        g["b_i"][...] = g["b_h"][...] = ws.dM[:, D]
        g["U"][...] = ws.dM[:, D + 1 :]


def _as_matrix(steps: np.ndarray, out: np.ndarray) -> np.ndarray:
    """A run's blocks [T, rows, B] as one matrix [rows, T·B] (into `out`)."""
    T, rows, B = steps.shape
    np.copyto(out.reshape(rows, T, B), steps.transpose(1, 0, 2))
    return out


def _weight_gradient(ws, da: np.ndarray, dac: np.ndarray, dM: np.ndarray) -> None:
    """dM = Σ_t δa_t z_tᵀ: the gradient of [W | b | U], one product over every step."""
    np.matmul(_as_matrix(da, dac), ws.zc[:, : ws.steps * ws.batch].T, out=dM)


# -- the LSTM ------------------------------------------------------------------------------------


class LSTMNetwork(Network):
    """i, f, o = σ(a_i, a_f, a_o), g = tanh(a_g), a = W x_t + b_i + U h_{t−1} + b_h (rows i, f,
    o, g);  c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t).

    Backward, with δh_t = ∂L/∂h_t (readout) + Uᵀ δa_{t+1} and σ'(s) = s (1 − s):
        δc_t = δc_{t+1} ⊙ f_{t+1} + δh_t ⊙ o ⊙ (1 − tanh²c_t)
        δa_i = δc_t ⊙ g ⊙ σ'(i),  δa_f = δc_t ⊙ c_{t−1} ⊙ σ'(f),
        δa_o = δh_t ⊙ tanh c_t ⊙ σ'(o),  δa_g = δc_t ⊙ i ⊙ (1 − g²)
    The factors come from the stored products: g σ'(i) = (i ⊙ g)(1 − i), c_{t−1} σ'(f) =
    (f ⊙ c_{t−1})(1 − f), tanh c_t σ'(o) = h_t (1 − o), i (1 − g²) = i − (i ⊙ g) ⊙ g and
    o (1 − tanh²c_t) = o − h_t ⊙ tanh c_t.
    """

    kind = "lstm"

    def _allocate_forward(self, ws) -> None:
        H, K, T, B, dt = self.hidden_size, ws.z.shape[1], ws.steps, ws.batch, self.dtype
        ws.M = np.empty((4 * H, K), dt)
        # gates[t] = [i; f; o; g] of step t, then c_{t−1}: i, f sit next to g, c_{t−1}, so
        # one product gives [i ⊙ g; f ⊙ c_{t−1}]; c_t is written into gates[t+1]
        ws.gates = np.zeros((T + 1, 5 * H, B), dt)
        ws.products = np.empty((T, 2 * H, B), dt)
        ws.tanh_c = np.empty((T, H, B), dt)
        gates = ws.gates
        ws.forward_steps = list(zip(
            ws.z[:-1], ws.states[1:], gates[:-1, : 4 * H], gates[:-1, : 3 * H],
            gates[:-1, : 2 * H], gates[:-1, 2 * H : 3 * H], gates[:-1, 3 * H : 5 * H],
            gates[1:, 4 * H :], ws.products, ws.tanh_c, strict=True))

    def _allocate_backward(self, ws) -> None:
        H, K, T, B, dt = self.hidden_size, ws.z.shape[1], ws.steps, ws.batch, self.dtype
        # factors[t] = the four δa factors, carry[t] = [f_{t+1}; o (1 − tanh²c_t)]
        ws.factors = np.empty((T, 4, H, B), dt)
        ws.carry = np.empty((T, 2 * H, B), dt)
        ws.da = np.empty((T, 4, H, B), dt)
        ws.dac = np.empty((4 * H, T * B), dt)
        ws.dM = np.empty((4 * H, K), dt)
        ws.flow = np.empty((2 * H, B), dt)  # [δc; δh] of the current step
        ws.scaled = np.empty((2 * H, B), dt)
        ws.dh_rec = np.empty((H, B), dt)
        # δc times the four factors as [1, H·B] by [4, H·B]: numpy broadcasts that fastest
        ws.backward_steps = list(zip(
            ws.dh_out, ws.carry, ws.factors.reshape(T, 4, H * B), ws.factors[:, 2],
            ws.da.reshape(T, 4, H * B), ws.da[:, 2], ws.da.reshape(T, 4 * H, B),
            strict=True))[::-1]

    def _assemble(self, ws) -> None:
        H = self.hidden_size
        _stack_into(ws.M, self.W, self.b_i + self.b_h, self.U, self.input_size)
        ws.M[: 3 * H] *= 0.5  # i, f, o: tanh(a/2)

    def _forward(self, ws) -> None:
        matmul, multiply, add, tanh = np.matmul, np.multiply, np.add, np.tanh
        M, H = ws.M, self.hidden_size
        for z, h, a, sig, i_f, o, g_c, c, products, tanh_c in ws.forward_steps:
            matmul(M, z, out=a)  # [a_i/2; a_f/2; a_o/2; a_g]
            tanh(a, out=a)
            sig *= 0.5
            sig += 0.5  # i, f, o = σ(a) = (1 + tanh(a/2)) / 2;  g = tanh(a_g)
            multiply(i_f, g_c, out=products)  # [i ⊙ g; f ⊙ c_{t−1}]
            add(products[:H], products[H:], out=c)  # c_t = f ⊙ c_{t−1} + i ⊙ g
            tanh(c, out=tanh_c)
            multiply(o, tanh_c, out=h)  # h_t = o ⊙ tanh(c_t)

    def _backward(self, ws) -> None:
        H, T, B = self.hidden_size, ws.steps, ws.batch
        gates = ws.gates[:T].reshape(T, 5, H, B)  # i, f, o, g, c_{t−1}
        i, f, o, g = gates[:, 0], gates[:, 1], gates[:, 2], gates[:, 3]
        i_g, h, factors = ws.products[:, :H], ws.states[1:], ws.factors
        np.subtract(1, gates[:, :3], out=factors[:, :3])  # 1 − i, 1 − f, 1 − o
        factors[:, :2] *= ws.products.reshape(T, 2, H, B)  # g σ'(i), c_{t−1} σ'(f)
        factors[:, 2] *= h  # tanh c_t σ'(o)
        np.multiply(i_g, g, out=factors[:, 3])
        np.subtract(i, factors[:, 3], out=factors[:, 3])  # i (1 − g²)
        carry_f, carry_h = ws.carry[:, :H], ws.carry[:, H:]
        carry_f[:-1] = f[1:]
        carry_f[-1] = 0  # no step after T (δc_{T+1} = 0; only keep it finite)
        np.multiply(h, ws.tanh_c, out=carry_h)
        np.subtract(o, carry_h, out=carry_h)  # o (1 − tanh²c_t)
        add, multiply, matmul = np.add, np.multiply, np.matmul
        flow, scaled, dh_rec, U_T = ws.flow, ws.scaled, ws.dh_rec, self.U.T
        dc, dh = flow[:H], flow[H:]
        dc_row = dc.reshape(1, -1)
        flow.fill(0)
        dh_rec.fill(0)
        for dh_out, carry, factor, factor_o, da, da_o, da_all in ws.backward_steps:
            add(dh_out, dh_rec, out=dh)  # δh_t = ∂L/∂h_t + Uᵀ δa_{t+1}
            multiply(flow, carry, out=scaled)  # [δc_{t+1} ⊙ f_{t+1}; δh_t ⊙ o (1 − tanh²c_t)]
            add(scaled[:H], scaled[H:], out=dc)  # δc_t
            multiply(factor, dc_row, out=da)  # δa_i, δa_f, δa_g (and δa_o, redone next)
            multiply(factor_o, dh, out=da_o)  # δa_o = δh_t ⊙ tanh c_t ⊙ σ'(o)
            matmul(U_T, da_all, out=dh_rec)
        _weight_gradient(ws, ws.da.reshape(T, 4 * H, B), ws.dac, ws.dM)
        grad, D = self.gradient, self.input_size
        grad["W"][...] = ws.dM[:, :D]
        grad["b_i"][...] = grad["b_h"][...] = ws.dM[:, D]
        grad["U"][...] = ws.dM[:, D + 1 :]


# -- the GRU -------------------------------------------------------------------------------------


class GRUNetwork(Network):
    """r = σ(a_r), z = σ(a_z) with a = W x + b_i + U h_{t−1} + b_h (rows r, z), and

        reset "after":   n = tanh(W_n x + b_in + r ⊙ m),  m = U_n h_{t−1} + b_hn
        reset "before":  n = tanh(W_n x + b_in + b_hn + U_n (r ⊙ h_{t−1}))
        z weights "old": h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n     "new": h_t = (1 − z) ⊙ h_{t−1} + z ⊙ n

    Backward, with δh_t = ∂L/∂h_t (readout) + what step t+1 sends back, and for "old" (for
    "new" swap z and 1 − z, and h − n becomes n − h):
        δa_z = δh_t ⊙ (h_{t−1} − n) ⊙ σ'(z),   δa_n = δh_t ⊙ (1 − z) ⊙ (1 − n²)
        after:   δa_r = δa_n ⊙ m ⊙ σ'(r),  δm = δa_n ⊙ r,
                 back to h_{t−1}: z ⊙ δh_t + U_rᵀ δa_r + U_zᵀ δa_z + U_nᵀ δm
        before:  δ(r ⊙ h) = U_nᵀ δa_n,  δa_r = δ(r ⊙ h) ⊙ h_{t−1} ⊙ σ'(r),
                 back to h_{t−1}: z ⊙ δh_t + r ⊙ δ(r ⊙ h) + U_rᵀ δa_r + U_zᵀ δa_z
    """

    kind = "gru"

    def _allocate_forward(self, ws) -> None:
        H, K, D, T, B, dt = (self.hidden_size, ws.z.shape[1], self.input_size, ws.steps,
                             ws.batch, self.dtype)
        ws.tmp = np.empty((H, B), dt)
        if self.conventions["reset"] == "after":
            # gates[t] = [r; z; m; n]; the input part W_n x + b_in of every step at once
            ws.M = np.empty((3 * H, K), dt)
            ws.gates = g = np.empty((T, 4 * H, B), dt)
            ws.input_n = np.empty((T, H, B), dt)
            ws.W_n = np.empty((H, D + 1), dt)
            ws.forward_steps = list(zip(
                ws.z[:-1], ws.states[:-1], ws.states[1:], g[:, : 3 * H], g[:, : 2 * H],
                g[:, :H], g[:, H : 2 * H], g[:, 2 * H : 3 * H], g[:, 3 * H :], ws.input_n,
                strict=True))
        else:
            # gates[t] = [r; z; n]; y_t = [x_t; 1; r ⊙ h_{t−1}], the candidate's product input
            ws.M = np.empty((2 * H, K), dt)
            ws.M_n = np.empty((H, K), dt)
            ws.gates = g = np.empty((T, 3 * H, B), dt)
            ws.y = np.zeros((T, K, B), dt)
            ws.forward_steps = list(zip(
                ws.z[:-1], ws.states[:-1], ws.states[1:], g[:, : 2 * H], g[:, :H],
                g[:, H : 2 * H], g[:, 2 * H :], ws.y, ws.y[:, D + 1 :], strict=True))

    def _allocate_backward(self, ws) -> None:
        H, K, D, T, B, dt = (self.hidden_size, ws.z.shape[1], self.input_size, ws.steps,
                             ws.batch, self.dtype)
        ws.dh = np.empty((H, B), dt)
        ws.dh_rec = np.empty((H, B), dt)
        ws.keep = np.empty((T, H, B), dt)  # ∂h_t/∂h_{t−1} along the direct path: z or 1 − z
        ws.zn_factors = np.empty((T, 2, H, B), dt)  # δa_z, δa_n per δh_t
        ws.r_factor = np.empty((T, H, B), dt)  # δa_r per δa_n (after) or per δ(r ⊙ h) (before)
        r = ws.gates[:, :H]
        if self.conventions["reset"] == "after":
            ws.da = np.empty((T, 4, H, B), dt)  # δa_r, δa_z, δm, δa_n
            ws.dac = np.empty((4 * H, T * B), dt)
            ws.dM = np.empty((3 * H, K), dt)
            ws.dM_n = np.empty((H, D + 1), dt)
            ws.backward_steps = list(zip(
                ws.dh_out, ws.keep, ws.zn_factors, ws.r_factor, r, ws.da[:, 1::2],
                ws.da[:, 0], ws.da[:, 2], ws.da[:, 3], ws.da.reshape(T, 4 * H, B)[:, : 3 * H],
                strict=True))[::-1]
        else:
            ws.yc = np.empty((K, T * B), dt)
            ws.drh = np.empty((H, B), dt)
            ws.da = np.empty((T, 3, H, B), dt)  # δa_r, δa_z, δa_n
            ws.dac = np.empty((3 * H, T * B), dt)
            ws.dM = np.empty((2 * H, K), dt)
            ws.dM_n = np.empty((H, K), dt)
            ws.backward_steps = list(zip(
                ws.dh_out, ws.keep, ws.zn_factors, ws.r_factor, r, ws.da[:, 1:],
                ws.da[:, 0], ws.da[:, 2], ws.da.reshape(T, 3 * H, B)[:, : 2 * H],
                strict=True))[::-1]

    def _assemble(self, ws) -> None:
        H, D = self.hidden_size, self.input_size
        W, U, b_i, b_h = self.W, self.U, self.b_i, self.b_h
        if self.conventions["reset"] == "after":
            # rows [a_r/2; a_z/2; m]: m = U_n h + b_hn takes no input
            _stack_into(ws.M, W, b_i + b_h, U, D)
            ws.M[2 * H :, :D] = 0
            ws.M[2 * H :, D] = b_h[2 * H :]
            ws.M[: 2 * H] *= 0.5
            ws.W_n[:, :D] = W[2 * H :]
            ws.W_n[:, D] = b_i[2 * H :]
            np.matmul(ws.W_n, ws.z[:-1, : D + 1], out=ws.input_n)  # W_n x_t + b_in
        else:
            _stack_into(ws.M, W[: 2 * H], b_i[: 2 * H] + b_h[: 2 * H], U[: 2 * H], D)
            ws.M *= 0.5
            _stack_into(ws.M_n, W[2 * H :], b_i[2 * H :] + b_h[2 * H :], U[2 * H :], D)
            ws.y[:, : D + 1] = ws.z[:-1, : D + 1]

    def _forward(self, ws) -> None:
        matmul, multiply, tanh = np.matmul, np.multiply, np.tanh
        M, tmp = ws.M, ws.tmp
        old = self.conventions["z_weights"] == "old"
        if self.conventions["reset"] == "after":
            for x_h, h_prev, h, a, rz, r, z, m, n, input_n in ws.forward_steps:
                matmul(M, x_h, out=a)  # [a_r/2; a_z/2; m]
                tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5  # r, z = σ(a) = (1 + tanh(a/2)) / 2
                multiply(r, m, out=n)
                n += input_n
                tanh(n, out=n)  # n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))
                _mix(old, h_prev, n, z, h, tmp)
        else:
            M_n = ws.M_n
            for x_h, h_prev, h, rz, r, z, n, y, rh in ws.forward_steps:
                matmul(M, x_h, out=rz)  # [a_r/2; a_z/2]
                tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5  # r, z = σ(a) = (1 + tanh(a/2)) / 2
                multiply(r, h_prev, out=rh)
                matmul(M_n, y, out=n)
                tanh(n, out=n)  # n = tanh(W_n x + b_in + b_hn + U_n (r ⊙ h))
                _mix(old, h_prev, n, z, h, tmp)

    def _backward(self, ws) -> None:
        H, T, B = self.hidden_size, ws.steps, ws.batch
        after = self.conventions["reset"] == "after"
        old = self.conventions["z_weights"] == "old"
        gates = ws.gates.reshape(T, -1, H, B)
        r, z = gates[:, 0], gates[:, 1]
        n = gates[:, 3] if after else gates[:, 2]
        h_prev = ws.states[:-1]
        dz, dn = ws.zn_factors[:, 0], ws.zn_factors[:, 1]
        # δa_z per δh_t: ±(h_{t−1} − n) ⊙ σ'(z);  δa_n per δh_t: (1 − z or z) ⊙ (1 − n²)
        if old:
            np.subtract(h_prev, n, out=dz)
        else:
            np.subtract(n, h_prev, out=dz)
        dz *= z
        np.subtract(1, z, out=ws.keep)
        dz *= ws.keep
        np.square(n, out=dn)
        np.subtract(1, dn, out=dn)
        dn *= ws.keep if old else z
        if old:
            ws.keep[...] = z
        np.subtract(1, r, out=ws.r_factor)
        ws.r_factor *= r
        ws.r_factor *= gates[:, 2] if after else h_prev  # ⊙ m (after), ⊙ h_{t−1} (before)
        add, multiply, matmul = np.add, np.multiply, np.matmul
        dh, dh_rec, tmp = ws.dh, ws.dh_rec, ws.tmp
        dh_rec.fill(0)
        U_T = self.U.T
        D = self.input_size
        grad = self.gradient
        if after:
            for dh_out, keep, zn_factor, r_factor, r_t, da_zn, da_r, dm, da_n, da_rzm in \
                    ws.backward_steps:
                add(dh_out, dh_rec, out=dh)  # δh_t
                multiply(zn_factor, dh, out=da_zn)  # δa_z, δa_n
                multiply(da_n, r_factor, out=da_r)  # δa_r = δa_n ⊙ m ⊙ σ'(r)
                multiply(da_n, r_t, out=dm)  # δm = δa_n ⊙ r
                matmul(U_T, da_rzm, out=dh_rec)
                multiply(keep, dh, out=tmp)
                dh_rec += tmp  # what reaches h_{t−1}
            dac = _as_matrix(ws.da.reshape(T, 4 * H, B), ws.dac)
            np.matmul(dac[: 3 * H], ws.zc[:, : T * B].T, out=ws.dM)
            np.matmul(dac[3 * H :], ws.zc[: D + 1, : T * B].T, out=ws.dM_n)
            grad["W"][: 2 * H] = ws.dM[: 2 * H, :D]
            grad["W"][2 * H :] = ws.dM_n[:, :D]
            grad["U"][...] = ws.dM[:, D + 1 :]
            grad["b_i"][: 2 * H] = grad["b_h"][: 2 * H] = ws.dM[: 2 * H, D]
            grad["b_i"][2 * H :] = ws.dM_n[:, D]
            grad["b_h"][2 * H :] = ws.dM[2 * H :, D]
        else:
            U_n_T, U_rz_T, drh = U_T[:, 2 * H :], U_T[:, : 2 * H], ws.drh
            for dh_out, keep, zn_factor, r_factor, r_t, da_zn, da_r, da_n, da_rz in \
                    ws.backward_steps:
                add(dh_out, dh_rec, out=dh)  # δh_t
                multiply(zn_factor, dh, out=da_zn)  # δa_z, δa_n
                matmul(U_n_T, da_n, out=drh)  # δ(r ⊙ h) = U_nᵀ δa_n
                multiply(drh, r_factor, out=da_r)  # δa_r = δ(r ⊙ h) ⊙ h_{t−1} ⊙ σ'(r)
                matmul(U_rz_T, da_rz, out=dh_rec)
                multiply(drh, r_t, out=tmp)
                dh_rec += tmp
                multiply(keep, dh, out=tmp)
                dh_rec += tmp  # what reaches h_{t−1}
            dac = _as_matrix(ws.da.reshape(T, 3 * H, B), ws.dac)
            np.matmul(dac[: 2 * H], ws.zc[:, : T * B].T, out=ws.dM)
            np.matmul(dac[2 * H :], _as_matrix(ws.y, ws.yc).T, out=ws.dM_n)
            for rows, dM in ((slice(0, 2 * H), ws.dM), (slice(2 * H, 3 * H), ws.dM_n)):
                grad["W"][rows] = dM[:, :D]
                grad["b_i"][rows] = grad["b_h"][rows] = dM[:, D]
                grad["U"][rows] = dM[:, D + 1 :]


def _mix(old: bool, h_prev, n, z, h, tmp) -> None:
    """h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n = n + z ⊙ (h_{t−1} − n)  ("old"), or
    h_t = (1 − z) ⊙ h_{t−1} + z ⊙ n = h_{t−1} + z ⊙ (n − h_{t−1})  ("new")."""
    if old:
        np.subtract(h_prev, n, out=tmp)
        tmp *= z
        np.add(n, tmp, out=h)
    else:
        np.subtract(n, h_prev, out=tmp)
        tmp *= z
        np.add(h_prev, tmp, out=h)


NETWORKS: dict[str, type[Network]] = {cls.kind: cls for cls in (GRUNetwork, LSTMNetwork,
                                                                  RNNNetwork)}


# -- the optimiser -------------------------------------------------------------------------------


def clip_gradient(grads: np.ndarray, max_norm: float | None) -> float:
    """Scale the flat gradient in place to a norm of at most `max_norm`, as
    torch.nn.utils.clip_grad_norm_ does: g ← g · max_norm / (‖g‖ + 1e−6) when that factor is
    below 1. Returns ‖g‖ before clipping (the Euclidean norm)."""
    with np.errstate(over="ignore", invalid="ignore"):
        squares = float(np.dot(grads, grads))
    if not math.isfinite(squares):  # float32 overflows early: sum again in float64
        wide = grads.astype(np.float64)
        squares = float(np.dot(wide, wide))
    norm = math.sqrt(squares)
    if max_norm is not None:
        factor = max_norm / (norm + 1e-6)
        if factor < 1:
            grads *= grads.dtype.type(factor)
    return norm


class Adam:
    """torch.optim.Adam's update (no weight decay, no AMSGrad), on a flat parameter vector:

        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
        θ ← θ − lr · (m / (1 − β₁ᵏ)) / (√(v / (1 − β₂ᵏ)) + ε)      at the k-th step
    """

    def __init__(self, params: np.ndarray, lr: float = 1e-3, betas=(0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params, self.lr, self.eps = params, lr, eps
        self.beta1, self.beta2 = betas
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.scratch = np.empty_like(params)
        self.steps = 0

    def step(self, grads: np.ndarray) -> None:
        self.steps += 1
        k, b1, b2, m, v, s = self.steps, self.beta1, self.beta2, self.m, self.v, self.scratch
        m *= b1
        np.multiply(grads, 1 - b1, out=s)
        m += s  # m ← β₁ m + (1 − β₁) g
        v *= b2
        np.multiply(grads, grads, out=s)
        s *= 1 - b2
        v += s  # v ← β₂ v + (1 − β₂) g²
        np.sqrt(v, out=s)
        s *= 1 / math.sqrt(1 - b2**k)
        s += self.eps  # √(v / (1 − β₂ᵏ)) + ε
        np.divide(m, s, out=s)
        s *= self.lr / (1 - b1**k)
        self.params -= s
