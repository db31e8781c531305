"""The parameter table of `gru-tui params` and the app's `n`: the slides' formula against
what the frameworks allocate, with the GRU/LSTM ratio."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group
from rich.table import Table
from rich.text import Text

from gru_tui.engine.gates import gate_count
from gru_tui.render.theme import MODEL_TITLES


def parameter_report(input_size: int, hidden: int,
                     table: Mapping[str, Mapping[str, int]]) -> Group:
    """The parameter table of `gru-tui params`, with the GRU/LSTM ratio."""
    D, H = input_size, hidden
    grid = Table(title=f"Parameters for D = {D}, H = {H}", title_justify="left")
    grid.add_column("model")
    grid.add_column("gates", justify="right")
    grid.add_column("slides\ng·(DH+H²+H)", justify="right")
    grid.add_column("PyTorch, ONNX\ng·(DH+H²+2H)", justify="right")
    grid.add_column("Keras\ndefault", justify="right")
    for model, counts in table.items():
        grid.add_row(MODEL_TITLES[model], str(gate_count(model)), f"{counts['slides']:,}",
                     f"{counts['pytorch']:,}", f"{counts['keras']:,}")
    ratio = {fw: table["gru"][fw] / table["lstm"][fw] for fw in ("slides", "pytorch", "keras")}
    grid.add_row("GRU / LSTM", "3/4", f"{ratio['slides']:.3f}", f"{ratio['pytorch']:.3f}",
                 f"{ratio['keras']:.3f}", style="bold")
    note = Text(
        "Keras keeps two bias rows for its default GRU (reset_after=True) and one for LSTM "
        "and SimpleRNN; PyTorch and ONNX keep an input and a recurrent bias for every gate.",
        style="dim",
    )
    return Group(grid, note)
