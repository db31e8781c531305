"""gru-tui: see inside GRU, LSTM and simple RNN cells, one timestep at a time.

    import gru_tui
    cell = gru_tui.random_cell("gru", input_size=3, hidden_size=3, seed=0)
    cell = gru_tui.load("model.safetensors", layer=None)   # PyTorch, ONNX or Keras
    trace = cell.run(xs, h0=None, c0=None)
    trace["h"], trace["reset"], ...
    gru_tui.memory_profile(trace).sensitivity   # ‖∂h_T/∂x_t‖_F for t = 1..T

Importing this package loads numpy only: no Textual, rich or typer.
"""

from gru_tui.engine import (
    GRUCell,
    LSTMCell,
    MemoryProfile,
    RNNCell,
    Trace,
    memory_profile,
    parameter_count,
    random_cell,
)

__version__ = "0.1.0"


def load(path, layer=None, dtype="float64", **conventions):
    """One recurrent layer of a weight file as a cell (SPEC §4, §8).

    `layer` is a name or an index as `gru-tui inspect` lists them; the default is the first
    forward layer. A reverse layer (``cell.reverse``) runs from the last input to the first:
    feed it ``xs[::-1]``. A GRU runs with its framework's reset placement, a GRU's or LSTM's
    gates with the file's recurrent activation; `conventions` (reset=…, z_weights=…,
    recurrent_activation="sigmoid" or "hard_sigmoid", the file's Keras' form) override them.
    """
    from gru_tui.io.weights import load_layer

    return load_layer(path, layer).cell(dtype, **conventions)


__all__ = ["GRUCell", "LSTMCell", "MemoryProfile", "RNNCell", "Trace", "__version__", "load",
           "memory_profile", "parameter_count", "random_cell"]
