"""The worked example as rich text: for one unit at one step, every gate's formula, the
formula with its numbers and the result, then the state update, in the slides' order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from gru_tui.core.worked import GateWork, worked_example
from gru_tui.engine.activations import RECURRENT_ACTIVATIONS, SIGMOID
from gru_tui.render.theme import MODEL_TITLES, role_text, vector_info

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer


def worked_header(explorer: Explorer) -> Text:
    """"t = 2 / 8, unit 1 of 3     x_t = [...]"."""
    ex = explorer
    x = ", ".join(f"{v:.4f}" for v in ex.xs[ex.t])
    return Text.assemble(
        (f"t = {ex.t + 1} / {ex.steps}, unit {ex.unit + 1} of {ex.hidden_size}", "bold"),
        f"     x_t = [{x}]")


def worked_model(explorer: Explorer, model: str, gate: str | None = None) -> Group:
    """One model's computation for the explorer's unit and step; `gate`: the letter of a
    gate whose step is marked (the cell diagram's enter opens the worked example there)."""
    ex = explorer
    trace = ex.traces[model]
    gates, states = worked_example(trace, ex.t, ex.unit)
    parts: list = [Text(f" {MODEL_TITLES[model]} ", style="bold reverse")]
    if trace.cell.recurrent_activation != SIGMOID:  # a hard sigmoid: say which
        activation = RECURRENT_ACTIVATIONS[trace.cell.recurrent_activation]
        parts.append(Text(f"{activation.symbol}(a) = {activation.formula}   "
                          f"({activation.origin})", style="italic"))
    h_prev = ", ".join(f"{v:.4f}" for v in trace["h_prev"][ex.t])
    parts.append(Text(f"h_t-1 = [{h_prev}]"))
    if model == "lstm":
        c_prev = ", ".join(f"{v:.4f}" for v in trace["c_prev"][ex.t])
        parts.append(Text(f"C_t-1 = [{c_prev}]"))
    z = getattr(trace.cell, "z_weights", "old")
    for k, work in enumerate(gates, start=1):
        parts.append(Text(""))
        parts.extend(_gate_step(model, work, k, z, marked=work.letter == gate))
    for work in states:
        parts.append(Text(""))
        parts.append(Text("Update", style="bold"))
        lhs, rhs = work.formula.split(" = ", 1)
        parts.append(_equation(lhs, [rhs, Text(work.substituted, style="bold")]))
    return Group(*parts)


def worked_gate(explorer: Explorer, model: str, gate: str) -> Group:
    """One gate's step of the worked example alone: its heading, formula, numbers, result."""
    ex = explorer
    trace = ex.traces[model]
    gates, _ = worked_example(trace, ex.t, ex.unit)
    k, work = next((k, work) for k, work in enumerate(gates, start=1) if work.letter == gate)
    return Group(*_gate_step(model, work, k, getattr(trace.cell, "z_weights", "old")))


def _gate_step(model: str, work: GateWork, k: int, z: str, marked: bool = False) -> list:
    """"Step k: name symbol — its job", then the formula, the numbers and the result."""
    info = vector_info(model, work.key)
    heading = f"Step {k}: {info.name} {info.symbol}"
    lhs, rhs = work.formula.split(" = ", 1)
    return [Text.assemble(("▶ " + heading, "bold reverse") if marked else (heading, "bold"),
                          (f" — {role_text(model, work.key, z)}", "italic dim")),
            _equation(lhs, [rhs, work.substituted(), Text(work.result(), style="bold")])]


def _equation(lhs: str, lines: list) -> Table:
    """lhs = line 1, then "= line" under it; long lines wrap inside their own column."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column()
    for k, line in enumerate(lines):
        grid.add_row(f"  {lhs}" if k == 0 else "", "=", line)
    return grid
