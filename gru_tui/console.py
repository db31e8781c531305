"""Vectors as coloured rich bars: `gru-tui step` for a person, and the app's bar glyphs."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from rich.console import Console, Group
from rich.style import Style
from rich.table import Table
from rich.text import Text

from gru_tui.bars import Segment, gate_bar, nice_limit, signed_bar
from gru_tui.engine import MemoryProfile, Trace
from gru_tui.theme import COLOURS, MODEL_TITLES, VECTORS, role_text

HALF = 8  # a bar is 2·HALF + 1 cells wide
UNITS_SHOWN = 8


def format_value(value: float, signed: bool = True) -> str:
    """Four decimals, with an explicit sign where values can be negative; scientific ≥ 10⁴."""
    sign = "+" if signed else ""
    return f"{value:{sign}.4f}" if abs(value) < 1e4 else f"{value:{sign}.3e}"


def bar_text(value: float, scale: str, limit: float = 1.0, styled: bool = True,
             half: int = HALF, colours: Mapping[str, str] = COLOURS) -> Text:
    """A rich Text bar, 2·half + 1 cells, for one value on its vector's scale.

    `styled`: the output shows styles (a terminal), so reverse video is available.
    """
    if scale == "gate":
        segments = gate_bar(value, 2 * half + 1)
        colour = colours["gate"]
    else:
        segments = signed_bar(value, half, limit, reverse_video=styled)
        colour = colours["positive" if value >= 0 else "negative"]
    return Text.assemble(*(_styled(s, colour, colours["axis"]) for s in segments))


def _styled(segment: Segment, colour: str, axis: str) -> tuple[str, Style]:
    if segment.role == "fill":
        return segment.text, Style(color=colour)
    if segment.role == "fill-reverse":
        return segment.text, Style(color=colour, reverse=True)
    if segment.role == "axis":
        return segment.text, Style(color=axis)
    return segment.text, Style()


def state_limits(traces: Mapping[str, Trace]) -> dict[str, float]:
    """One visible range per unbounded vector (inputs, cell states) across the shown run."""
    limits: dict[str, float] = {}
    for trace in traces.values():
        for key in ("x", "c_prev", "c"):
            if key in trace and trace.steps:
                top = float(np.max(np.abs(trace[key])))
                limits[key] = max(limits.get(key, 1.0), nice_limit(top))
    return limits


def render_step(t: int, total: int, traces: Mapping[str, Trace], step: int,
                limits: Mapping[str, float], styled: bool = True,
                memory: Mapping[str, MemoryProfile] | None = None) -> Group:
    """Step `step` (0-based, within the traces) shown as t / total; with `memory` (profiles
    of the whole run, `step --gradients`), a line of gradient norms under each model."""
    parts: list = [Text(f"t = {t} / {total}", style="bold")]
    for model, trace in traces.items():
        cell = trace.cell
        settings = " · ".join(
            [*(f"{k.replace('_', ' ')} {v}" for k, v in cell.conventions.items()), cell.source]
        )
        parts.append(Text.assemble((f" {MODEL_TITLES[model]} ", "bold reverse"), f"  {settings}"))
        table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
        for column in ("symbol", "name", "unit", "bar", "value"):
            table.add_column(column, no_wrap=True, justify="right" if column == "value" else "left")
        for info in VECTORS[model]:
            values = trace[info.key][step]
            limit = limits.get(info.key, 1.0) if info.scale == "state" else 1.0
            for unit, value in enumerate(values[:UNITS_SHOWN]):
                first = unit == 0
                table.add_row(
                    Text(info.symbol, style="bold") if first else "",
                    info.name if first else "",
                    str(unit + 1),
                    bar_text(float(value), info.scale, limit, styled),
                    format_value(float(value), signed=info.scale != "gate"),
                )
            if len(values) > UNITS_SHOWN:
                table.add_row("", "", "…", f"{len(values) - UNITS_SHOWN} more units", "")
        parts.append(table)
        if memory is not None and model in memory:
            parts.append(memory_line(memory[model], step, t, total))
    return Group(*parts)


def memory_line(profile: MemoryProfile, step: int, t: int, total: int) -> Text:
    """How much h_T still depends on this step's input, and the one-step gains behind it."""
    parts = [("memory ", "bold"), f"‖∂h_{total}/∂x_{t}‖ = {profile.sensitivity[step]:.3e}",
             f"   ‖∂h_{t}/∂h_{t - 1}‖ = {profile.state_jacobian[step]:.4f}"]
    if profile.cell_jacobian is not None:
        parts.append(f"   ‖∂C_{t}/∂C_{t - 1}‖ = {profile.cell_jacobian[step]:.4f}")
    return Text.assemble(*parts)


def print_run(console: Console, traces: Mapping[str, Trace], offset: int, total: int,
              explain: bool = False, memory: Mapping[str, MemoryProfile] | None = None) -> None:
    """Every step of one window of a run (with `memory`: the gradient norms of each step)."""
    limits = state_limits(traces)
    steps = min(trace.steps for trace in traces.values())
    for step in range(steps):
        console.print(render_step(offset + step + 1, total, traces, step, limits,
                                  styled=console.is_terminal, memory=memory))
        console.print()
    if explain:
        print_legend(console, traces)


def print_legend(console: Console, traces: Mapping[str, Trace]) -> None:
    """What each symbol means, once, after the steps."""
    table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
    seen = set()
    for model, trace in traces.items():
        z = getattr(trace.cell, "z_weights", "old")
        for info in VECTORS[model]:
            if (model, info.key) in seen or info.key in ("x", "h_prev"):
                continue
            seen.add((model, info.key))
            table.add_row(MODEL_TITLES[model], Text(info.symbol, style="bold"),
                          role_text(model, info.key, z))
    console.print(table)


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
    gates = {"gru": 3, "lstm": 4, "rnn": 1}
    for model, counts in table.items():
        grid.add_row(MODEL_TITLES[model], str(gates[model]), f"{counts['slides']:,}",
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
