"""`gru-tui diagram`: the cell as a flow figure for one unit at one step, every wire with its
value; coloured in a terminal, plain text in a pipe or with NO_COLOR (for lecture notes)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gru_tui.cli.options import RunOptions, run_options
from gru_tui.cli.run import quiet_on_closed_pipe
from gru_tui.errors import InputError


@run_options
def diagram(
    options: RunOptions,
    at: Annotated[str, typer.Option(
        "--at", metavar="T", help="The step to draw, from 1. \\[default: 1]")] = "1",
    unit: Annotated[str, typer.Option(
        "--unit", metavar="K", help="The hidden unit to draw, from 1. \\[default: 1]")] = "1",
) -> None:
    """Draw each model's cell as the slides do, for one unit at one step (-m chooses the
    models: GRU, then LSTM by default).

    Every wire carries its value and every node its operator; `gru-tui diagram --example
    slides -m lstm --at 1` is the slides' worked example as a figure.
    """
    from rich.console import Console

    from gru_tui.render.diagram import cell_diagram
    from gru_tui.render.theme import palette

    _, scenario = options.load()
    total, hidden = scenario.total_steps, scenario.hidden_size
    t = _one_based("--at", at, total, "step")
    j = _one_based("--unit", unit, hidden, "unit")
    console = Console(highlight=False)
    styled = console.is_terminal and not os.environ.get("NO_COLOR")
    (_, traces), = scenario.run_in_chunks(max(total, 1))
    with quiet_on_closed_pipe():
        for k, trace in enumerate(traces.values()):
            if k:
                console.print()
            figure = cell_diagram(trace, t - 1, j - 1, palette=palette(True), styled=styled)
            figure.end = "\n"
            console.print(figure, crop=False, soft_wrap=True)


def _one_based(option: str, text: str, count: int, what: str) -> int:
    """A 1-based index from the command line, within 1..count."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= count:
        shown = text if text.isprintable() else repr(text)
        raise InputError(f"{option} must be a {what} from 1 to {count}, got {shown}")
    return number
