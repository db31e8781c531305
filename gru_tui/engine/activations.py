"""The two squashing functions, finite and warning-free for every finite input."""

from __future__ import annotations

import numpy as np

_ONE = {np.dtype(dtype): np.array(1, dtype) for dtype in (np.float32, np.float64)}


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


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """The logistic sigmoid of any finite array, ±1e308 included (float32 stays float32)."""
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    with np.errstate(over="ignore", under="ignore"):
        return sigmoid_into(x, np.empty_like(x))


def tanh(x: np.ndarray | float) -> np.ndarray:
    """The hyperbolic tangent (numpy's is already stable at any magnitude)."""
    return np.tanh(x)
