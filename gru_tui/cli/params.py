"""`gru-tui params`: the parameter counts of the three cells."""

from __future__ import annotations

from typing import Annotated

import typer

from gru_tui.errors import InputError


def params(
    input_size: Annotated[int, typer.Option("--input-size", "-D", help="Input width D.")] = 3,
    hidden: Annotated[int, typer.Option("--hidden", "-H", help="Hidden units H.")] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Parameter counts of a GRU, LSTM and simple RNN: the slides' formula and frameworks."""
    import json

    from gru_tui.engine import parameter_table

    for option, value in (("--input-size", input_size), ("--hidden", hidden)):
        if value < 1:
            raise InputError(f"{option} must be a positive integer, got {value}")
    table = parameter_table(input_size, hidden)
    if json_out:
        ratios = {fw: table["gru"][fw] / table["lstm"][fw] for fw in table["gru"]}
        print(json.dumps({"input_size": input_size, "hidden": hidden, "counts": table,
                          "gru_lstm_ratio": ratios}))
        return
    from rich.console import Console

    from gru_tui.render.parameters import parameter_report

    Console(highlight=False).print(parameter_report(input_size, hidden, table))
