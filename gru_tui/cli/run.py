"""`gru-tui` (the app, or the step view in a pipe) and `gru-tui step`: run the models."""

from __future__ import annotations

import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gru_tui import __version__
from gru_tui.cli.options import RunOptions, run_options
from gru_tui.errors import InputError

# --gradients needs the whole run before the first record: at most this many values of h.
MAX_GRADIENT_VALUES = 1 << 20
# A student's app following a teacher leaves the CPU to the teacher's app first.
FOLLOWER_NICENESS = 10


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
    follow_fd: Annotated[int | None, typer.Option(
        "--follow-fd", hidden=True, help="Follow the teacher's states on this socket, which "
        "the server hands a student's app.")] = None,
    teach_fd: Annotated[int | None, typer.Option(
        "--teach-fd", hidden=True, help="Send the app's states to the server on this socket: "
        "the teacher's app of `serve --present`.")] = None,
    served: Annotated[bool, typer.Option(
        "--served", hidden=True, help="A student's app under `serve`: nothing is written, "
        "and l opens the shipped examples only (and --served-weights-dir).")] = False,
    served_weights_dir: Annotated[str | None, typer.Option(
        "--served-weights-dir", hidden=True, help="The files a served app's l may open.")
    ] = None,
) -> None:
    """See inside GRU, LSTM and simple RNN cells, one timestep at a time.

    With no command, opens the app on the built-in example: the seed slides' x_1 = [0.5,
    -0.3, 0.8], h_0 = [0.2, 0.4, -0.1], C_0 = [0.6, -0.2, 0.3], then the sine preset. Press ?
    in the app for every key. Outside a terminal (a pipe), prints what `step` prints.
    """
    if ctx.invoked_subcommand is not None:
        return
    loaded, scenario = options.load()
    if options.record is not None:
        from gru_tui.core.recording import check_new

        check_new(options.record)
    if check:
        return
    if not app_can_run():
        if options.record is not None:
            raise InputError("--record records the app: run gru-tui in a terminal")
        print_steps(scenario, projector=options.projector)
        return
    from gru_tui.app.app import GruTuiApp
    from gru_tui.app.lesson import LiveFeed, Teaching

    teach = follow = None
    if options.record is not None or teach_fd is not None:
        from gru_tui.core.recording import RecordingWriter

        teach = Teaching(
            server=None if teach_fd is None else socket.socket(fileno=teach_fd),
            recording=None if options.record is None else RecordingWriter(options.record,
                                                                          __version__))
    if follow_fd is not None:
        follow = LiveFeed(socket.socket(fileno=follow_fd))
        os.nice(FOLLOWER_NICENESS)
    shown = {} if loaded is None else dict(t=loaded.t, unit=loaded.unit,
                                           visible=scenario.models)
    GruTuiApp(scenario, teach=teach, follow=follow,
              served=served or served_weights_dir is not None,
              weights_dir=Path(served_weights_dir) if served_weights_dir else None,
              projector=options.projector, **shown).run()


def app_can_run() -> bool:
    """In a terminal, or with a Textual driver named, as `serve web` does (the web driver
    talks to the browser through pipes); a pipe or a script gets text instead."""
    in_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    return in_terminal or bool(os.environ.get("TEXTUAL_DRIVER"))


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
    if options.record is not None:
        raise InputError("--record records a lesson in the app; step has none to record")
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
