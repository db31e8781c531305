"""gru-tui: see inside GRU, LSTM and simple RNN cells, one timestep at a time.

    import gru_tui
    cell = gru_tui.random_cell("gru", input_size=3, hidden_size=3, seed=0)
    trace = cell.run(xs, h0=None, c0=None)
    trace["h"], trace["reset"], ...

Importing this package loads numpy only: no Textual, rich or typer.
"""

from gru_tui.engine import GRUCell, LSTMCell, RNNCell, Trace, parameter_count, random_cell

__version__ = "0.1.0"

__all__ = ["GRUCell", "LSTMCell", "RNNCell", "Trace", "__version__", "parameter_count",
           "random_cell"]
