"""`gru-tui step` for a person: every step as coloured rich bars with their values."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from gru_tui.engine import MemoryProfile, Trace
from gru_tui.render.bars import bar_text
from gru_tui.render.format import format_value
from gru_tui.render.theme import MODEL_TITLES, VECTORS, palette, role_text, vector_colour
from gru_tui.render.vectors import scale_limits

UNITS_SHOWN = 8


def render_step(t: int, total: int, traces: Mapping[str, Trace], step: int,
                limits: Mapping[str, float], styled: bool = True,
                memory: Mapping[str, MemoryProfile] | None = None,
                colours: Mapping[str, str] | None = None, bar_rows: int = 1) -> Group:
    """Step `step` (0-based, within the traces) shown as t / total, every vector on the
    scale of its kind (`limits`, from scale_limits); with `memory` (profiles of the whole
    run, `step --gradients`), a line of gradient norms under each model. `bar_rows` draws
    the bars that many rows tall."""
    colours = colours or palette()
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
            limit = limits.get(info.scale, 1.0)
            for unit, value in enumerate(values[:UNITS_SHOWN]):
                first = unit == 0
                bar = bar_text(float(value), info.scale, limit, styled, colours=colours,
                               colour=vector_colour(colours, info, float(value)))
                table.add_row(
                    Text(info.symbol, style="bold") if first else "",
                    info.name if first else "",
                    str(unit + 1),
                    Text("\n").join([bar] * bar_rows),
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
              explain: bool = False, memory: Mapping[str, MemoryProfile] | None = None,
              projector: bool = False) -> None:
    """Every step of one window of a run (with `memory`: the gradient norms of each step);
    for a projector, in its palette with bars two rows tall."""
    limits = scale_limits(traces)
    steps = min(trace.steps for trace in traces.values())
    colours = palette(dark=not projector, projector=projector)
    for step in range(steps):
        console.print(render_step(offset + step + 1, total, traces, step, limits,
                                  styled=console.is_terminal, memory=memory, colours=colours,
                                  bar_rows=2 if projector else 1))
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
