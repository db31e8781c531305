"""The worked example's numbers: one unit at one step, every gate's computation.

Following the seed slide "GRU Calculation (3D Vector Example)" and its LSTM twin: for each
gate the terms W·x, the biases and U·h for the chosen unit, the pre-activation, the squashing
function and the result; then the state update's operands. The terms follow the cell's
conventions (GRU reset before/after U, z weighting the old or the new state) and its gates'
function (σ, or a Keras hard σ); how they are written is render.worked's business.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gru_tui.engine import TABLES, Trace
from gru_tui.engine.activations import RECURRENT_ACTIVATIONS

# The terms of a gate's pre-activation, in formula order:
#   "Wx" W·x, "b_i" the input bias, "Uh" U·h, "U(r⊙h)" the GRU candidate's U·(r ⊙ h) with
#   reset "before", "b_h" the recurrent bias, "r" the reset gate that multiplies (U·h + b_h)
#   with reset "after", "pc" an LSTM peephole's p ⊙ c.


@dataclass(frozen=True)
class GateWork:
    letter: str  # the gate's letter in the cell ("r", "z", "n", "i", …)
    key: str  # its record key ("reset", …)
    terms: tuple[tuple[str, float], ...]  # (term, value) of every summand, in formula order
    pre: float  # the pre-activation
    function: str  # "σ", "hard σ" (the cell's recurrent activation) or "tanh"
    value: float  # the result

    @property
    def reset_after(self) -> bool:
        """True for the GRU candidate with reset "after": W x + b + r ⊙ (U h + b)."""
        return any(term == "r" for term, _ in self.terms)


@dataclass(frozen=True)
class StateWork:
    key: str  # "c" or "h"
    operands: dict[str, float]  # by record key: the gates and states the update combines
    value: float


def worked_example(trace: Trace, t: int, unit: int) -> tuple[list[GateWork], list[StateWork]]:
    """Every gate of `unit` at step t (both 0-based), in the slides' order, then the state
    update(s)."""
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
        if cell.kind == "gru" and letter == "n" and cell.reset == "after":
            r, uh = values["r"], float(p.U[j] @ h)
            terms = (("Wx", wx), ("b_i", b_i), ("r", r), ("Uh", uh), ("b_h", b_h))
            pre = wx + b_i + r * (uh + b_h)
        elif cell.kind == "gru" and letter == "n":
            urh = float(p.U[j] @ (trace["reset"][t] * h))
            terms = (("Wx", wx), ("b_i", b_i), ("U(r⊙h)", urh), ("b_h", b_h))
            pre = wx + b_i + urh + b_h
        else:
            uh = float(p.U[j] @ h)
            terms = (("Wx", wx), ("b_i", b_i), ("Uh", uh), ("b_h", b_h))
            pre = wx + b_i + uh + b_h
        if cell.kind == "lstm" and cell.peepholes is not None and letter != "g":
            row = {"i": 0, "f": 1, "o": 2}[letter]
            c_seen = trace["c"][t][j] if letter == "o" else trace["c_prev"][t][j]
            peep = float(cell.peepholes[row][j] * c_seen)
            terms = (*terms, ("pc", peep))
            pre += peep
        value = float(np.tanh(pre)) if function == "tanh" else float(gate_activation(pre))
        values[letter] = value
        gates.append(GateWork(letter, key, terms, pre, function, value))
    taught = TABLES[cell.kind].taught  # the LSTM as the slides: forget, input, candidate, output
    gates.sort(key=lambda work: taught.index(work.letter))
    return gates, _state_work(trace, t, j, values)


def _state_work(trace: Trace, t: int, j: int, v: dict[str, float]) -> list[StateWork]:
    cell = trace.cell
    h = float(trace["h_prev"][t][j])
    if cell.kind == "gru":
        z, n = v["z"], v["n"]
        kept = z if cell.z_weights == "old" else 1 - z
        value = kept * h + (1 - kept) * n
        return [StateWork("h", {"update": z, "h_prev": h, "candidate": n}, value)]
    if cell.kind == "lstm":
        c_prev = float(trace["c_prev"][t][j])
        c = v["f"] * c_prev + v["i"] * v["g"]
        return [
            StateWork("c", {"forget": v["f"], "c_prev": c_prev, "input": v["i"],
                            "candidate": v["g"]}, c),
            StateWork("h", {"output": v["o"], "c": c}, v["o"] * float(np.tanh(c))),
        ]
    return [StateWork("h", {"h": v["h"]}, v["h"])]
