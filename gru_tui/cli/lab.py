"""`gru-tui lab`: train a simple RNN, a GRU and an LSTM on one memory task, side by side.

In a terminal it opens the app on the lab's screen; with --json it writes JSON Lines as
training goes (a progress bar on stderr when stderr is a terminal); in a pipe without --json
it trains to the end and prints the models' table. The defaults are the core's
(:class:`gru_tui.core.lab.LabOptions`); tests/cli/test_lab_cli.py keeps them in step.
"""

from __future__ import annotations

import json
import math
import os
import sys
from contextlib import contextmanager
from typing import Annotated

import typer

from gru_tui.cli.run import quiet_on_closed_pipe
from gru_tui.errors import InputError

TASK_HELP = ("delay (repeat the input of --delay K steps before), hold (keep the latest pulse), "
             "adding (the sum of two marked values, at the last step) or copy (write back 3 "
             "symbols after --length blanks).")
LENGTH_HELP = ("Sequence length T; for copy, the blanks between pattern and recall. "
               "\\[default: delay 50, hold 50, adding 100, copy 20]")
MODELS_HELP = "rnn, gru, lstm; repeat or comma-separate. \\[default: rnn,gru,lstm]"


def lab(
    task: Annotated[str, typer.Option("--task", "-t", help=TASK_HELP)] = "adding",
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help=MODELS_HELP)] = None,
    hidden: Annotated[int, typer.Option(
        "--hidden", "-H", help="Hidden units H of every model (the GRU's with --match-params)."
    )] = 32,
    match_params: Annotated[bool, typer.Option(
        "--match-params", help="Give the RNN and the LSTM the H whose parameter count comes "
        "closest to the GRU's.")] = False,
    batch: Annotated[int, typer.Option("--batch", help="Sequences per training batch.")] = 32,
    iterations: Annotated[int, typer.Option(
        "--iterations", "-n", help="Training iterations (Adam steps) of every model.")] = 1500,
    lr: Annotated[float, typer.Option("--lr", help="Adam's learning rate.")] = 0.01,
    length: Annotated[int | None, typer.Option("--length", "-T", help=LENGTH_HELP)] = None,
    delay: Annotated[int, typer.Option("--delay", help="K of the delay task.")] = 3,
    eval_every: Annotated[int, typer.Option(
        "--eval-every", help="Evaluate on the held-out batch every N iterations (and at the "
        "last).")] = 50,
    dtype: Annotated[str, typer.Option("--dtype", help="float32 or float64.")] = "float32",
    seed: Annotated[int, typer.Option(
        "--seed", "-s", help="Seed of the initial weights, the batches and the held-out batch."
    )] = 0,
    clip: Annotated[str, typer.Option(
        "--clip", metavar="MAX", help="Clip the gradient's global norm to MAX (as "
        "torch.nn.utils.clip_grad_norm_); none for no clipping.")] = "1",
    forget_bias: Annotated[float, typer.Option(
        "--forget-bias", help="Add this to the LSTM's initial forget-gate bias; 1 is Keras's "
        "unit_forget_bias, which lets the LSTM solve copy.")] = 0.0,
    save: Annotated[str | None, typer.Option(
        "--save", metavar="DIR", help="Write DIR/<model>.safetensors (PyTorch names, readout "
        "as readout.weight / readout.bias) and DIR/eval.npz (the held-out x, y, mask) when "
        "training ends; S in the app saves there too.")] = None,
    json_lines: Annotated[bool, typer.Option(
        "--json", help="JSON Lines as training goes: a record per model per iteration, then "
        'one per model with "final": true (see README).')] = False,
) -> None:
    """Watch a simple RNN, a GRU and an LSTM learn the same memory task, trained in numpy by
    exact backpropagation through time with Adam; every model sees the same batches.

    In the app: space pauses, r restarts with the same seed, S saves, enter opens the trained
    models in the explorer, ? lists the lab's keys. In a pipe it trains to the end and prints
    the models' table; --json streams every record instead.
    """
    from gru_tui.core.lab import Lab

    models = [name.strip().lower() for spec in (model or ["rnn,gru,lstm"])
              for name in spec.split(",") if name.strip()]
    lab = Lab(task, models, save_to=save, hidden=hidden, match_params=match_params,
               batch=batch, iterations=iterations, lr=lr, length=length, delay=delay,
               eval_every=eval_every, dtype=dtype, seed=seed, clip=_clip(clip),
               forget_bias=forget_bias)
    if json_lines:
        write_json(lab)
    elif (sys.stdin.isatty() and sys.stdout.isatty()) or os.environ.get("TEXTUAL_DRIVER"):
        from gru_tui.app.app import GruTuiApp

        GruTuiApp(lab=lab).run()
    else:
        print_table(lab)


def _clip(text: str) -> float | None:
    """--clip: a positive number, or none."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"--clip must be a positive number or none, got {text}")
    return value


def write_json(lab) -> None:
    """Every record as a JSON line on stdout, flushed as it comes; --save at the end."""
    out = sys.stdout
    with quiet_on_closed_pipe(), progress_bar(lab) as advance:
        while not lab.done:
            records = lab.step()
            out.write("".join(json.dumps(record, allow_nan=False) + "\n" for record in records))
            out.flush()
            advance(records)
    if lab.save_to is not None:
        lab.save()


def print_table(lab) -> None:
    """Train to the end, then print the models' table, as the app shows it."""
    from rich.console import Console

    from gru_tui.render.lab import lab_table

    with progress_bar(lab) as advance:
        while not lab.done:
            advance(lab.step())
    if lab.save_to is not None:
        lab.save()
    rows = []
    for model in lab.models:
        progress = lab.progress(model)
        rows.append({**progress, "state": "stopped" if progress["stopped"] else "done"})
    console = Console(highlight=False)
    with quiet_on_closed_pipe():
        console.print(f"{lab.task.name}, T = {lab.task.steps}: {lab.iteration} iterations")
        console.print(lab_table(rows, lab.task.threshold))
        for notice in lab.notices:
            console.print(notice)


@contextmanager
def progress_bar(lab):
    """``advance(records)`` moves a progress bar on stderr, with every model's latest
    training loss, when stderr is a terminal; else it does nothing."""
    if not sys.stderr.isatty():
        yield lambda records: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    latest: dict[str, float] = {}
    with Progress(TextColumn(lab.task.name), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.fields[losses]}"),
                  console=Console(stderr=True), transient=True) as bar:
        job = bar.add_task("training", total=lab.options.iterations, losses="")

        def advance(records: list[dict]) -> None:
            for record in records:
                if record["loss"] is not None:
                    latest[record["model"]] = record["loss"]
            bar.update(job, completed=lab.iteration,
                       losses="  ".join(f"{m} {loss:.4f}" for m, loss in latest.items()))

        yield advance
