"""`gru-tui` (the app, or the step view in a pipe) and `gru-tui step`: run the models."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Annotated

import typer

from gru_tui import __version__
from gru_tui.cli.options import RunOptions, run_options
from gru_tui.errors import InputError

# --gradients needs the whole run before the first record: at most this many values of h.
MAX_GRADIENT_VALUES = 1 << 20


def _version(value: bool) -> None:
    if value:
        print(f"gru-tui {__version__}")
        raise typer.Exit()


@run_options
def open_app(
    ctx: typer.Context,
    options: RunOptions,
    version: Annotated[bool, typer.Option(
        "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    check: Annotated[bool, typer.Option(
        "--check", hidden=True, help="Check the options and exit: what `serve` does first.")
    ] = False,
) -> None:
    """See inside GRU, LSTM and simple RNN cells, one timestep at a time.

    With no command, opens the app on the built-in example: the seed slides' x_1 = [0.5,
    -0.3, 0.8], h_0 = [0.2, 0.4, -0.1], C_0 = [0.6, -0.2, 0.3], then the sine preset. Press ?
    in the app for every key. Outside a terminal (a pipe), prints what `step` prints.
    """
    if ctx.invoked_subcommand is not None:
        return
    loaded, scenario = options.load()
    if check:
        return
    # A pipe or a script gets text, not the app; unless a Textual driver is named, as
    # `serve web` does: the web driver talks to the browser through pipes.
    in_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    if not (in_terminal or os.environ.get("TEXTUAL_DRIVER")):
        print_steps(scenario, projector=options.projector)
        return
    from gru_tui.app.app import GruTuiApp

    if loaded is None:
        GruTuiApp(scenario, projector=options.projector).run()
    else:
        GruTuiApp(scenario, t=loaded.t, unit=loaded.unit, visible=scenario.models,
                  projector=options.projector).run()


@run_options
def step(
    options: RunOptions,
    json_lines: Annotated[bool, typer.Option(
        "--json", help="JSON Lines, one object per model per timestep (see README).")] = False,
    gradients: Annotated[bool, typer.Option(
        "--gradients", help="Add how much the last h still depends on each step's input, "
        "‖∂h_T/∂x_t‖, and the per-step Jacobian norms (the whole run is kept in memory).")
    ] = False,
) -> None:
    """Run the models over a sequence and print every gate and state of every step.

    With --weights, one layer of a file; a reverse layer's records run from the last input.
    """
    _, scenario = options.load()
    if json_lines:
        write_json(scenario, gradients)
    else:
        print_steps(scenario, gradients, projector=options.projector)


def _runs(scenario, gradients: bool):
    """(offset, traces, memory profiles or None): streamed windows, or with --gradients the
    whole run as one window, since h_T must exist before the first record is written."""
    if not gradients:
        for offset, traces in scenario.run_in_chunks():
            yield offset, traces, None
        return
    total, H = scenario.total_steps, scenario.hidden_size
    if total * H > MAX_GRADIENT_VALUES:
        raise InputError(f"--gradients keeps the whole run in memory: at most "
                         f"{MAX_GRADIENT_VALUES // H} steps at H = {H}, got {total}")
    from gru_tui.engine.gradients import memory_profile

    for offset, traces in scenario.run_in_chunks(max(total, 1)):
        yield offset, traces, {model: memory_profile(trace) for model, trace in traces.items()}


def write_json(scenario, gradients: bool = False) -> None:
    """The run as JSON Lines on stdout, streamed window by window."""
    from gru_tui.core.records import json_lines

    out = sys.stdout
    runs = _runs(scenario, gradients)
    with quiet_on_closed_pipe():
        for offset, traces, memory in runs:
            extra = None if memory is None else {m: p.columns() for m, p in memory.items()}
            out.write("\n".join(json_lines(traces, offset, extra)))
            out.write("\n")
            out.flush()


def print_steps(scenario, gradients: bool = False, projector: bool = False) -> None:
    """The run as rich bars on stdout, for a person (for a projector: see --projector)."""
    from rich.console import Console

    from gru_tui.render.console import print_run

    console = Console(highlight=False)
    total = scenario.total_steps
    runs = _runs(scenario, gradients)
    with quiet_on_closed_pipe():
        for offset, traces, memory in runs:
            last = offset + min(t.steps for t in traces.values()) >= total
            print_run(console, traces, offset, total, explain=last, memory=memory,
                      projector=projector)


@contextmanager
def quiet_on_closed_pipe():
    """The reader went away (`| head -1`): stop, exit 0, and keep Python from complaining
    when it flushes stdout on the way out."""
    try:
        yield
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0) from None
