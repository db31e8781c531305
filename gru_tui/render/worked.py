"""The worked example as rich text: for one unit at one step, every gate's formula, the
formula with its numbers and the result, then the state update, in the slides' order and with
the panels' symbols (r_t, z_t, Ĥ_t; f_t, i_t, C̃_t, o_t). Side by side, the models' steps
line up: the same step starts on the same row."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from gru_tui.core.worked import GateWork, StateWork, worked_example
from gru_tui.engine.activations import RECURRENT_ACTIVATIONS, SIGMOID
from gru_tui.render.theme import MODEL_TITLES, palette, role_text, vector_info

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer

# The blocks of a model's computation; side by side, a block starts where the same block of
# the other models does (the GRU has no fourth gate and no cell state update).
SLOTS = ("states", "step 1", "step 2", "step 3", "step 4", "c", "h")


def worked_header(explorer: Explorer) -> Text:
    """"t = 2 / 8, unit 1 of 3     x_t = [...]"."""
    ex = explorer
    x = ", ".join(f"{v:.4f}" for v in ex.xs[ex.t])
    return Text.assemble(
        (f"t = {ex.t + 1} / {ex.steps}, unit {ex.unit + 1} of {ex.hidden_size}", "bold"),
        f"     x_t = [{x}]")


def _symbol(model: str, key: str) -> str:
    return vector_info(model, key).symbol


def _sub(model: str, work: GateWork) -> str:
    """A gate's parameters are named after its vector: W_r, b_ir … W_Ĥ, U_C̃ (the RNN: W)."""
    return "" if model == "rnn" else _symbol(model, work.key).removesuffix("_t")


def gate_formula(model: str, work: GateWork) -> str:
    """"r_t = σ(W_r·x_t + b_ir + U_r·h_t-1 + b_hr)", with the cell's conventions."""
    s = _sub(model, work)
    w, u = (f"W_{s}", f"U_{s}") if s else ("W", "U")
    names = {"Wx": f"{w}·x_t", "b_i": f"b_i{s}", "Uh": f"{u}·h_t-1", "b_h": f"b_h{s}",
             "U(r⊙h)": f"{u}·({_symbol('gru', 'reset')} ⊙ h_t-1)"}
    if work.reset_after:
        inner = f"{w}·x_t + b_i{s} + {_symbol('gru', 'reset')} ⊙ ({u}·h_t-1 + b_h{s})"
    else:
        inner = " + ".join(names.get(term, "") for term, _ in work.terms if term != "pc")
    if any(term == "pc" for term, _ in work.terms):
        cell = _symbol("lstm", "c") if work.letter == "o" else _symbol("lstm", "c_prev")
        inner += f" + p_{work.letter} ⊙ {cell}"
    return f"{_symbol(model, work.key)} = {work.function}({inner})"


def _n(value: float) -> str:
    return f"({value:.4f})" if value < 0 else f"{value:.4f}"


def gate_numbers(work: GateWork) -> str:
    """The formula with this unit's numbers: "σ(0.1200 + (-0.3000) + …)"."""
    values = [value for _, value in work.terms]
    if work.reset_after:  # W x + b + r ⊙ (U h + b)
        wx, b_in, r, uh, b_hn = values
        return f"{work.function}({_n(wx)} + {_n(b_in)} + {_n(r)} × ({_n(uh)} + {_n(b_hn)}))"
    return f"{work.function}({' + '.join(_n(v) for v in values)})"


def gate_result(work: GateWork) -> str:
    """The last line of the computation: "σ(0.4200) = 0.6035"."""
    return f"{work.function}({work.pre:.4f}) = {work.value:.4f}"


def state_lines(model: str, work: StateWork, z_weights: str) -> tuple[str, str]:
    """(formula, numbers) of a state update: "h_t = z_t ⊙ h_t-1 + (1 − z_t) ⊙ Ĥ_t", …"""
    o = work.operands
    out = _symbol(model, work.key)
    if model == "gru":
        z, n = _symbol("gru", "update"), _symbol("gru", "candidate")
        zv, hv, nv = _n(o["update"]), _n(o["h_prev"]), _n(o["candidate"])
        if z_weights == "old":
            return (f"{out} = {z} ⊙ h_t-1 + (1 − {z}) ⊙ {n}",
                    f"{zv} × {hv} + (1 − {zv}) × {nv} = {work.value:.4f}")
        return (f"{out} = (1 − {z}) ⊙ h_t-1 + {z} ⊙ {n}",
                f"(1 − {zv}) × {hv} + {zv} × {nv} = {work.value:.4f}")
    if model == "lstm" and work.key == "c":
        f, i, g = (_symbol("lstm", k) for k in ("forget", "input", "candidate"))
        return (f"{out} = {f} ⊙ C_t-1 + {i} ⊙ {g}",
                f"{_n(o['forget'])} × {_n(o['c_prev'])} + {_n(o['input'])} × "
                f"{_n(o['candidate'])} = {work.value:.4f}")
    if model == "lstm":
        return (f"{out} = {_symbol('lstm', 'output')} ⊙ tanh(C_t)",
                f"{_n(o['output'])} × tanh({_n(o['c'])}) = {work.value:.4f}")
    return f"{out} is the activation itself", f"{work.value:.4f}"


def worked_blocks(explorer: Explorer, model: str, colours: Mapping[str, str] | None = None,
                  gate: str | None = None) -> dict[str, list[RenderableType]]:
    """One model's computation for the explorer's unit and step, by SLOTS; `gate`: the
    letter of a gate whose step is marked (the cell diagram's enter opens it so)."""
    ex = explorer
    trace = ex.traces[model]
    gates, states = worked_example(trace, ex.t, ex.unit)
    note = (colours or palette())["text.note"]
    head: list[RenderableType] = [Text(f" {MODEL_TITLES[model]} ", style="bold reverse")]
    if trace.cell.recurrent_activation != SIGMOID:  # a hard sigmoid: say which
        activation = RECURRENT_ACTIVATIONS[trace.cell.recurrent_activation]
        head.append(Text(f"{activation.symbol}(a) = {activation.formula}   "
                         f"({activation.origin})", style="italic"))
    head.append(Text("h_t-1 = [" + ", ".join(f"{v:.4f}" for v in trace["h_prev"][ex.t]) + "]"))
    if model == "lstm":
        head.append(Text("C_t-1 = [" + ", ".join(f"{v:.4f}" for v in trace["c_prev"][ex.t])
                         + "]"))
    blocks: dict[str, list[RenderableType]] = {"states": head}
    z = getattr(trace.cell, "z_weights", "old")
    for k, work in enumerate(gates, start=1):
        blocks[f"step {k}"] = [Text(""), *_gate_step(model, work, k, z, note,
                                                     marked=work.letter == gate)]
    for work in states:
        formula, numbers = state_lines(model, work, z)
        lhs, rhs = formula.split(" = ", 1) if " = " in formula else (formula, "")
        lines = [rhs, Text(numbers, style="bold")] if rhs else [Text(numbers, style="bold")]
        blocks[work.key] = [Text(""), Text(f"Update {_symbol(model, work.key)}", style="bold"),
                            _equation(lhs, lines)]
    return blocks


def worked_model(explorer: Explorer, model: str, colours: Mapping[str, str] | None = None,
                 gate: str | None = None) -> Group:
    """One model's computation for the explorer's unit and step (`gate`'s step marked)."""
    blocks = worked_blocks(explorer, model, colours, gate)
    return Group(*(part for slot in SLOTS for part in blocks.get(slot, ())))


def worked_columns(explorer: Explorer, models: Sequence[str], width: int,
                   colours: Mapping[str, str] | None = None,
                   gate: str | None = None) -> dict[str, Group]:
    """Every model's computation in a column `width` cells wide, each block padded to the
    height of the same block in the other columns, so that the steps line up (`gate`'s step
    marked)."""
    blocks = {model: worked_blocks(explorer, model, colours, gate) for model in models}
    console = Console(width=max(width, 10), file=io.StringIO(), color_system=None)
    options = console.options.update_width(max(width, 10))

    def height(parts: list[RenderableType]) -> int:
        return sum(len(console.render_lines(part, options, pad=False)) for part in parts)

    columns: dict[str, list[RenderableType]] = {model: [] for model in models}
    for slot in SLOTS:
        tallest = max(height(blocks[m].get(slot, [])) for m in models)
        for model in models:
            parts = blocks[model].get(slot, [])
            columns[model].extend(parts)
            columns[model].extend(Text("") for _ in range(tallest - height(parts)))
    return {model: Group(*parts) for model, parts in columns.items()}


def worked_gate(explorer: Explorer, model: str, gate: str,
                colours: Mapping[str, str] | None = None) -> Group:
    """One gate's step of the worked example alone: its heading, formula, numbers, result."""
    ex = explorer
    trace = ex.traces[model]
    gates, _ = worked_example(trace, ex.t, ex.unit)
    k, work = next((k, work) for k, work in enumerate(gates, start=1) if work.letter == gate)
    return Group(*_gate_step(model, work, k, getattr(trace.cell, "z_weights", "old"),
                             (colours or palette())["text.note"]))


def _gate_step(model: str, work: GateWork, k: int, z: str, note: str,
               marked: bool = False) -> list[RenderableType]:
    """"Step k: name symbol — its job" (marked: "▶ …" in reverse), then the formula, the
    numbers and the result."""
    info = vector_info(model, work.key)
    heading = f"Step {k}: {info.name} {info.symbol}"
    lhs, rhs = gate_formula(model, work).split(" = ", 1)
    return [Text.assemble(("▶ " + heading, "bold reverse") if marked else (heading, "bold"),
                          (f" — {role_text(model, work.key, z)}", note)),
            _equation(lhs, [rhs, gate_numbers(work), Text(gate_result(work), style="bold")])]


def _equation(lhs: str, lines: list) -> Table:
    """lhs = line 1, then "= line" under it; long lines wrap inside their own column."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column()
    for k, line in enumerate(lines):
        grid.add_row(f"  {lhs}" if k == 0 else "", "=", line)
    return grid
