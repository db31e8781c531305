"""The worked example: one unit at one step, every gate's computation with its numbers.

Written in the form of the seed slide "GRU Calculation (3D Vector Example)" and its LSTM twin:
each gate's formula, the terms W·x, U·h and biases for the chosen unit, the pre-activation,
the squashing function and the result; then the state update. Formulas follow the cell's
conventions (GRU reset before/after U_n, z weighting the old or the new state) and its gates'
function (σ, or a Keras hard σ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gru_tui.engine import TABLES, Trace
from gru_tui.engine.activations import RECURRENT_ACTIVATIONS


@dataclass(frozen=True)
class GateWork:
    letter: str  # the gate's letter in the cell ("r", "z", "n", "i", …)
    key: str  # its record key ("reset", …)
    formula: str  # the equation for this unit
    terms: tuple[tuple[str, float], ...]  # (name, value) of every summand, in formula order
    pre: float  # the pre-activation
    function: str  # "σ", "hard σ" (the cell's recurrent activation) or "tanh"
    value: float  # the result

    def substituted(self) -> str:
        """The formula with this unit's numbers: "σ(0.1200 + (-0.3000) + …)"."""
        return f"{self.function}({self._numbers()})"

    def result(self) -> str:
        """The last line of the computation: "σ(0.4200) = 0.6035"."""
        return f"{self.function}({self.pre:.4f}) = {self.value:.4f}"

    def _numbers(self) -> str:
        values = dict(self.terms)
        if "r" in values:  # the GRU candidate with reset "after": W x + b + r ⊙ (U h + b)
            wx, b_in, r, uh, b_hn = (values[k] for k, _ in self.terms)
            return f"{_n(wx)} + {_n(b_in)} + {_n(r)} × ({_n(uh)} + {_n(b_hn)})"
        return " + ".join(_n(v) for _, v in self.terms)


@dataclass(frozen=True)
class StateWork:
    key: str  # "c" or "h"
    formula: str
    substituted: str
    value: float


def _n(value: float) -> str:
    return f"({value:.4f})" if value < 0 else f"{value:.4f}"


def worked_example(trace: Trace, t: int, unit: int) -> tuple[list[GateWork], list[StateWork]]:
    """Every gate of `unit` at step t (both 0-based), then the state update(s)."""
    cell = trace.cell
    x, h = trace["x"][t], trace["h_prev"][t]
    j = unit
    gates: list[GateWork] = []
    values: dict[str, float] = {}
    gate_activation = RECURRENT_ACTIVATIONS[cell.recurrent_activation]
    for gate in TABLES[cell.kind].gates:
        letter, key = gate.letter, gate.name
        function = gate_activation.symbol if gate.squash == "σ" else gate.squash
        p = cell.gate(letter)
        wx = float(p.W[j] @ x)
        b_i, b_h = float(p.b_i[j]), float(p.b_h[j])
        name = "h" if cell.kind == "rnn" else letter
        if cell.kind == "gru" and letter == "n":
            r = values["r"]
            if cell.reset == "after":
                uh = float(p.U[j] @ h)
                formula = "n = tanh(W_n·x + b_in + r ⊙ (U_n·h + b_hn))"
                terms = (("W_n·x", wx), ("b_in", b_i), ("r", r), ("U_n·h", uh), ("b_hn", b_h))
                pre = wx + b_i + r * (uh + b_h)
            else:
                urh = float(p.U[j] @ (trace["reset"][t] * h))
                formula = "n = tanh(W_n·x + b_in + U_n·(r ⊙ h) + b_hn)"
                terms = (("W_n·x", wx), ("b_in", b_i), ("U_n·(r⊙h)", urh), ("b_hn", b_h))
                pre = wx + b_i + urh + b_h
        else:
            uh = float(p.U[j] @ h)
            subscript = "" if cell.kind == "rnn" else f"_{letter}"
            formula = (f"{name} = {function}(W{subscript}·x + b_i{letter if subscript else ''} "
                       f"+ U{subscript}·h + b_h{letter if subscript else ''})")
            terms = ((f"W{subscript}·x", wx), (f"b_i{letter if subscript else ''}", b_i),
                     (f"U{subscript}·h", uh), (f"b_h{letter if subscript else ''}", b_h))
            pre = wx + b_i + uh + b_h
        if cell.kind == "lstm" and cell.peepholes is not None and letter != "g":
            row = {"i": 0, "f": 1, "o": 2}[letter]
            c_seen = trace["c"][t][j] if letter == "o" else trace["c_prev"][t][j]
            peep = float(cell.peepholes[row][j] * c_seen)
            terms = (*terms, (f"p_{letter}⊙c", peep))
            pre += peep
        value = float(np.tanh(pre)) if function == "tanh" else float(gate_activation(pre))
        values[letter] = value
        gates.append(GateWork(letter, key, formula, terms, pre, function, value))
    taught = TABLES[cell.kind].taught  # the LSTM as the slides: forget, input, candidate, output
    gates.sort(key=lambda work: taught.index(work.letter))
    return gates, _state_work(trace, t, j, values)


def _state_work(trace: Trace, t: int, j: int, v: dict[str, float]) -> list[StateWork]:
    cell = trace.cell
    h = float(trace["h_prev"][t][j])
    if cell.kind == "gru":
        z, n = v["z"], v["n"]
        if cell.z_weights == "old":
            value = z * h + (1 - z) * n
            return [StateWork("h", "h_t = z ⊙ h_t-1 + (1 − z) ⊙ n",
                              f"{_n(z)} × {_n(h)} + (1 − {_n(z)}) × {_n(n)} = {value:.4f}", value)]
        value = (1 - z) * h + z * n
        return [StateWork("h", "h_t = (1 − z) ⊙ h_t-1 + z ⊙ n",
                          f"(1 − {_n(z)}) × {_n(h)} + {_n(z)} × {_n(n)} = {value:.4f}", value)]
    if cell.kind == "lstm":
        c_prev = float(trace["c_prev"][t][j])
        c = v["f"] * c_prev + v["i"] * v["g"]
        h_new = v["o"] * float(np.tanh(c))
        return [
            StateWork("c", "C_t = f ⊙ C_t-1 + i ⊙ C̃",
                      f"{_n(v['f'])} × {_n(c_prev)} + {_n(v['i'])} × {_n(v['g'])} = {c:.4f}", c),
            StateWork("h", "h_t = o ⊙ tanh(C_t)",
                      f"{_n(v['o'])} × tanh({_n(c)}) = {h_new:.4f}", h_new),
        ]
    return [StateWork("h", "h_t = h (the activation itself)", f"{v['h']:.4f}", v["h"])]
