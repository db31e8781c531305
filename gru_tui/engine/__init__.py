"""The numpy engine: cells, runs over sequences, their memory profiles, parameter counts.

No UI imports here, and nothing but numpy.
"""

from gru_tui.engine.activations import sigmoid, tanh
from gru_tui.engine.cells import (
    CELLS,
    DTYPES,
    RESET_PLACEMENTS,
    Z_CONVENTIONS,
    Cell,
    GateParams,
    GRUCell,
    LSTMCell,
    RNNCell,
)
from gru_tui.engine.gates import TABLES, GateTable
from gru_tui.engine.gradients import MemoryProfile, jacobians, memory_profile
from gru_tui.engine.init import random_cell
from gru_tui.engine.params import parameter_count, parameter_table
from gru_tui.engine.trace import Trace

__all__ = [
    "CELLS", "DTYPES", "RESET_PLACEMENTS", "TABLES", "Z_CONVENTIONS", "Cell", "GRUCell",
    "GateParams", "GateTable", "LSTMCell", "MemoryProfile", "RNNCell", "Trace", "jacobians",
    "memory_profile", "parameter_count", "parameter_table", "random_cell", "sigmoid", "tanh",
]
