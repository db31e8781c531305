"""The squashing functions, finite and warning-free for every finite input: σ and tanh, and
the hard sigmoids Keras offers for the gates (``recurrent_activation``).

A GRU's or LSTM's σ gates squash with the cell's recurrent activation, one of
:data:`RECURRENT_ACTIVATIONS`: the logistic sigmoid (every framework's default), or the hard
sigmoid exactly as each Keras defines it, which differ:

    Keras 2 (and Theano, ONNX's HardSigmoid defaults):  hard σ(a) = clip(0.2·a + 0.5, 0, 1)
    Keras 3 (and PyTorch's nn.Hardsigmoid):             hard σ(a) = relu6(a + 3) / 6
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_FLOATS = (np.float32, np.float64)


def _constant(value: float) -> dict[np.dtype, np.ndarray]:
    """`value` as a 0-d array of each float dtype: numpy's fast path, and no upcasting."""
    return {np.dtype(dtype): np.array(value, dtype) for dtype in _FLOATS}


_ZERO, _HALF, _ONE = _constant(0.0), _constant(0.5), _constant(1.0)
_FIFTH, _THREE, _SIX = _constant(0.2), _constant(3.0), _constant(6.0)


def sigmoid_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^(−x)), written into `out`.

    For x below about −709 the exponential overflows to inf and the result is exactly 0,
    which is the right answer; callers run this under ``np.errstate(over="ignore",
    under="ignore")`` so the overflow (and e^(−x) underflowing to 0) stays silent. This
    form keeps full relative precision for tiny σ values, where ``0.5 + 0.5·tanh(x/2)``
    would round them away.
    """
    np.negative(x, out=out)
    np.exp(out, out=out)
    out += _ONE[out.dtype]  # a 0-d array of out's dtype: numpy's fast path, unlike 1.0
    return np.reciprocal(out, out=out)


def tanh(x: np.ndarray | float) -> np.ndarray:
    """The hyperbolic tangent (numpy's is already stable at any magnitude)."""
    return np.tanh(x)


def hard_sigmoid_keras2_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Keras 2's hard σ(x) = clip(0.2·x + 0.5, 0, 1), in its order of operations."""
    dtype = out.dtype
    np.multiply(x, _FIFTH[dtype], out=out)
    out += _HALF[dtype]
    return np.clip(out, _ZERO[dtype], _ONE[dtype], out=out)


def hard_sigmoid_keras3_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Keras 3's hard σ(x) = relu6(x + 3) / 6 = min(max(x + 3, 0), 6) / 6."""
    dtype = out.dtype
    np.add(x, _THREE[dtype], out=out)
    np.clip(out, _ZERO[dtype], _SIX[dtype], out=out)
    return np.divide(out, _SIX[dtype], out=out)


@dataclass(frozen=True)
class GateActivation:
    """A squashing function for the σ gates: how formulas write it, and where it comes from.

    A hard sigmoid is linear with ``slope`` for |a| < ``edge`` and flat (0 or 1) beyond;
    the logistic sigmoid has neither.
    """

    name: str  # the engine's name, a cell's ``recurrent_activation``
    symbol: str  # in formulas: "σ", "hard σ"
    formula: str  # its definition, in the pre-activation a
    into: Callable[[np.ndarray, np.ndarray], np.ndarray]  # f(x, out) → out
    framework: str = ""  # whose hard_sigmoid it is: "Keras 2", "Keras 3"
    slope: float | None = None
    edge: float | None = None

    @property
    def origin(self) -> str:
        """What it is, in words: "Keras 2's hard_sigmoid", "the logistic sigmoid"."""
        return f"{self.framework}'s hard_sigmoid" if self.framework else "the logistic sigmoid"

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        """The function of any finite array (float32 stays float32, anything else float64)."""
        x = np.asarray(x)
        if x.dtype not in _FLOATS:
            x = x.astype(np.float64)
        with np.errstate(over="ignore", under="ignore"):
            return self.into(x, np.empty_like(x))


SIGMOID = "sigmoid"
RECURRENT_ACTIVATIONS: dict[str, GateActivation] = {
    activation.name: activation for activation in (
        GateActivation(SIGMOID, "σ", "1 / (1 + e^(−a))", sigmoid_into),
        GateActivation("hard_sigmoid_keras2", "hard σ", "clip(0.2·a + 0.5, 0, 1)",
                       hard_sigmoid_keras2_into, "Keras 2", 0.2, 2.5),
        GateActivation("hard_sigmoid_keras3", "hard σ", "relu6(a + 3) / 6",
                       hard_sigmoid_keras3_into, "Keras 3", 1 / 6, 3.0),
    )
}
# What "hard_sigmoid" means where no Keras 3 file says otherwise (`--recurrent-activation`
# on random weights): the classic form of Keras 2, Theano and ONNX's HardSigmoid.
HARD_SIGMOID = "hard_sigmoid_keras2"


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """The logistic sigmoid of any finite array, ±1e308 included (float32 stays float32)."""
    return RECURRENT_ACTIVATIONS[SIGMOID](x)
