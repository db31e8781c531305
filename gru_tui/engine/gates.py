"""Every cell kind's gates, defined once: their letters, record names, symbols and squashing
functions, and the orders in which PyTorch, ONNX and Keras stack their rows.

The engine stacks each cell's W, U, b_i and b_h rows in the order of its table's ``gates``;
the weight readers and the initialisation reorder a framework's rows with
:func:`to_engine_order`, the savers back with :func:`rows_in_order`. Names the frameworks use
for the candidate (PyTorch's n and g, ONNX's and Keras' h and c) are written here in the
engine's letters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

FRAMEWORKS = ("pytorch", "onnx", "keras")


@dataclass(frozen=True)
class Gate:
    letter: str  # the engine's name: r, z, n (GRU); i, f, o, g (LSTM); h (simple RNN)
    name: str  # the record key of its activation (SPEC §3): reset, update, candidate…
    symbol: str  # as the seed slides write it
    squash: str  # "σ" or "tanh"


@dataclass(frozen=True)
class GateTable:
    """One cell kind: its gates in the engine's stacking order, its record keys and the
    frameworks' stacking orders."""

    kind: str
    gates: tuple[Gate, ...]
    records: tuple[str, ...]  # the SPEC §3 keys after "model" and "t", in record order
    orders: Mapping[str, str]  # framework → its row order, in engine letters
    taught: str  # the order the seed slides explain the gates in

    @property
    def in_taught_order(self) -> tuple[Gate, ...]:
        return tuple(self.gate(letter) for letter in self.taught)

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(gate.letter for gate in self.gates)

    def gate(self, letter: str) -> Gate:
        return next(gate for gate in self.gates if gate.letter == letter)

    def order(self, framework: str) -> tuple[str, ...]:
        return tuple(self.orders[framework])


TABLES: dict[str, GateTable] = {
    "gru": GateTable(
        "gru",
        (Gate("r", "reset", "r_t", "σ"), Gate("z", "update", "z_t", "σ"),
         Gate("n", "candidate", "Ĥ_t", "tanh")),
        ("x", "h_prev", "reset", "update", "candidate", "h"),
        {"pytorch": "rzn", "onnx": "zrn", "keras": "zrn"},
        "rzn",
    ),
    "lstm": GateTable(
        "lstm",
        # the three sigmoid gates first, so one call squashes them
        (Gate("i", "input", "i_t", "σ"), Gate("f", "forget", "f_t", "σ"),
         Gate("o", "output", "o_t", "σ"), Gate("g", "candidate", "C̃_t", "tanh")),
        ("x", "h_prev", "c_prev", "forget", "input", "output", "candidate", "c", "h"),
        {"pytorch": "ifgo", "onnx": "iofg", "keras": "ifgo"},
        "figo",  # forget, then input and candidate together, then output
    ),
    "rnn": GateTable(
        "rnn",
        (Gate("h", "h", "h_t", "tanh"),),
        ("x", "h_prev", "h"),
        {"pytorch": "h", "onnx": "h", "keras": "h"},
        "h",
    ),
}

KINDS = tuple(TABLES)  # gru, lstm, rnn
KIND_BY_GATE_COUNT = {len(table.gates): kind for kind, table in TABLES.items()}

# An LSTM's peepholes p_i, p_f, p_o: ONNX stacks them i, o, f; the engine keeps rows i, f, o.
PEEPHOLES = ("i", "f", "o")
ONNX_PEEPHOLES = ("i", "o", "f")


def gate_count(kind: str) -> int:
    return len(TABLES[kind].gates)


def rows_in_order(array: np.ndarray, gates_from: tuple[str, ...] | str,
                  gates_to: tuple[str, ...] | str) -> np.ndarray:
    """Reorder stacked gate rows (axis 0) from one gate order to another."""
    H = array.shape[0] // len(gates_from)
    blocks = {g: array[k * H : (k + 1) * H] for k, g in enumerate(gates_from)}
    return np.concatenate([blocks[g] for g in gates_to])


def to_engine_order(kind: str, framework: str, array: np.ndarray) -> np.ndarray:
    """A framework's stacked rows (axis 0) in the engine's gate order."""
    table = TABLES[kind]
    return rows_in_order(array, table.order(framework), table.letters)


def from_engine_order(kind: str, framework: str, array: np.ndarray) -> np.ndarray:
    """The engine's stacked rows (axis 0) in a framework's gate order."""
    table = TABLES[kind]
    return rows_in_order(array, table.letters, table.order(framework))
