"""What the training lab's screen says, as rich renderables: the title line, the models'
table, the loss curves' points and axis ticks, and each model's heading over its gates on the
probe sequence. The app's lab screen paints these; nothing here knows Textual."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from rich.table import Table
from rich.text import Text

from gru_tui.render.format import format_value
from gru_tui.render.theme import MODEL_SHORT, MODEL_TITLES

if TYPE_CHECKING:
    from gru_tui.core.lab import Lab

# Okabe–Ito colours, one per model, distinct from each other and readable on the background.
CURVE_COLOURS = {"rnn": "#CC79A7", "gru": "#56B4E9", "lstm": "#F0E442"}
CURVE_COLOURS_LIGHT = {"rnn": "#CC79A7", "gru": "#0072B2", "lstm": "#E69F00"}
# Each model's held-out dots: told apart without colour too (NO_COLOR, colour-blind eyes).
CURVE_MARKERS = {"rnn": "■", "gru": "●", "lstm": "▲"}
SMALLEST_LOSS = 1e-12  # a loss of 0 is drawn here on the log scale


def curve_colour(model: str, dark: bool = True) -> str:
    return (CURVE_COLOURS if dark else CURVE_COLOURS_LIGHT)[model]


def curve_key(model: str, dark: bool = True) -> tuple[str, str]:
    """"━■━": a model's line and its held-out marker, in its colour."""
    return f"━{CURVE_MARKERS[model]}━", curve_colour(model, dark)


def curve_points(iterations: Sequence[float], losses: Sequence[float],
                 points: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, log10 loss) of a loss curve in at most `points` points: beyond that, runs of
    consecutive iterations are averaged (the mean of log10 loss, a geometric mean), which is
    what a plot that many pixels wide can show anyway."""
    x = np.asarray(iterations, dtype=float)
    y = np.log10(np.maximum(np.asarray(losses, dtype=float), SMALLEST_LOSS))
    if len(x) <= points:
        return x, y
    edges = np.linspace(0, len(x), points + 1).astype(int)
    counts = np.diff(edges)
    return (np.add.reduceat(x, edges[:-1]) / counts, np.add.reduceat(y, edges[:-1]) / counts)


def log_ticks(low: float, high: float) -> list[float]:
    """Tick positions (log10) for a log axis from 10**low to 10**high: the powers of ten, and
    the 2s and 5s between them when fewer than three powers fall inside."""
    decades = range(math.floor(low), math.ceil(high) + 1)
    ticks = [float(k) for k in decades if low <= k <= high]
    if len(ticks) < 3:
        ticks = sorted(tick for k in decades for tick in (k, k + math.log10(2),
                                                          k + math.log10(5))
                       if low <= tick <= high)
    return ticks


def tick_label(log10_value: float) -> str:
    """10**log10_value to one significant digit: 0.01, 0.2, 5e-05."""
    return format(float(f"{10 ** log10_value:.1g}"), "g")


def plot_title(models: Sequence[str], dark: bool = True) -> Text:
    """"loss, log scale: ━■━ RNN  ━●━ GRU  ━▲━ LSTM, the marks held out": the legend."""
    parts: list = [("loss, log scale:", "bold")]
    for model in models:
        parts += ["  ", curve_key(model, dark), f" {MODEL_SHORT[model]}"]
    return Text.assemble(*parts, ", the marks held out")


def lab_title(lab: Lab, state: str) -> Text:
    """" Training lab  ▶ training 340 / 1500 │ adding · T = 100 · batch 32 · lr 0.01 · seed
    0": how far the lab is, the task and the settings every model shares."""
    o = lab.options
    return Text.assemble((" Training lab ", "bold reverse"),
                         (f" {state} {lab.iteration} / {o.iterations} ", "bold"),
                         f"│ {lab.task.name} · T = {lab.task.steps} · batch {o.batch} · lr "
                         f"{o.lr:g} · seed {o.seed}", no_wrap=True, overflow="ellipsis")


def loss_text(value: float | None) -> str:
    """A loss to four decimals, below 0.01 to two significant digits: 0.1234, 3.1e-04."""
    if value is None:
        return "–"
    return f"{value:.1e}" if value < 0.01 else f"{value:.4f}"


def lab_table(rows: Sequence[Mapping], threshold: float, dark: bool = True) -> Table:
    """One row per model: its colour, hidden size, parameters, iteration, iterations per
    second and seconds of training, the last training loss, the last held-out loss, where the
    held-out loss first fell below the task's `threshold`, and its state.

    Each row is :meth:`Lab.progress` plus ``state``: "training", "paused", "done" or
    "stopped"."""
    table = Table(box=None, padding=(0, 1), header_style="bold", pad_edge=False)
    for title, justify in (("model", "left"), ("H", "right"), ("params", "right"),
                           ("iter", "right"), ("it/s", "right"), ("s", "right"),
                           ("loss", "right"), ("eval", "right"),
                           (f"eval < {threshold:g}", "left"), ("", "left")):
        table.add_column(title, justify=justify, no_wrap=True)
    for row in rows:
        model, seconds, iteration = row["model"], row["seconds"], row["iteration"]
        rate = f"{iteration / seconds:.0f}" if seconds > 0 else "–"
        reached = row["reached"]
        reached_text = (f"at {reached[0]} ({reached[1]:.1f} s)" if reached
                        else "not yet" if row["state"] in ("training", "paused")
                        else "not reached")
        state_style = {"stopped": "bold red", "done": "bold"}.get(row["state"], "dim")
        table.add_row(Text.assemble(curve_key(model, dark), " ",
                                    (MODEL_SHORT[model], "bold")),
                      str(row["hidden"]), f"{row['params']:,}", str(iteration), rate,
                      f"{seconds:.1f}", loss_text(row["loss"]), loss_text(row["eval_loss"]),
                      reached_text, Text(row["state"], style=state_style))
    return table


def probe_heading(model: str, t: int, steps: int, prediction: np.ndarray, target: np.ndarray,
                  scored: bool, dark: bool = True) -> Text:
    """"GRU  t = 100 / 100  ŷ 0.93  y 0.95": a model's readout at probe step t, and the
    target there (or that the task does not score that step)."""
    shown = " ".join(format_value(float(v), digits=2) for v in prediction)
    wanted = " ".join(format_value(float(v), digits=2) for v in target)
    return Text.assemble(curve_key(model, dark), " ", (MODEL_TITLES[model], "bold"),
                         f"  t = {t + 1} / {steps}  ŷ {shown}  ",
                         (f"y {wanted}" if scored else "not scored here", "dim"),
                         no_wrap=True, overflow="ellipsis")
