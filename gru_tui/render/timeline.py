"""Rows that run along the whole sequence, one column per step: the timeline (h of the
selected unit per model) and the memory panel (‖∂h_T/∂x_t‖ per model on a log scale)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from rich.style import Style
from rich.text import Text

from gru_tui.engine import MemoryProfile
from gru_tui.render.bars import spark
from gru_tui.render.format import scientific
from gru_tui.render.strips import heat_colour
from gru_tui.render.theme import MODEL_SHORT

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer

LABEL_WIDTH = 12  # the timeline's and the memory panel's row labels
DECADES = 12  # the memory scale spans this many powers of ten below the largest value


def timeline_window(steps: int, t: int, room: int) -> tuple[int, int, int]:
    """(start, stop, cells per step) of the steps a timeline row `room` cells wide shows:
    up to four cells a step when the run is short, else a window centred on t."""
    cells = max(1, min(4, room // max(steps, 1)))
    width = max(room // cells, 1)
    start = min(max(t - width // 2, 0), max(steps - width, 0))
    return start, min(start + width, steps), cells


def timeline_rows(explorer: Explorer, width: int, dark: bool = True) -> list[Text]:
    """h of the selected unit for every shown model, with the cursor at t, and an axis."""
    ex = explorer
    room = max(width - LABEL_WIDTH, 1)
    start, stop, cells = timeline_window(ex.steps, ex.t, room)
    rows = []
    for model in ex.visible:
        h = ex.traces[model]["h"][:, ex.unit]
        text = Text(f"{MODEL_SHORT[model]:<5}h[{ex.unit + 1}]".ljust(LABEL_WIDTH), style="bold")
        for t in range(start, stop):
            value = float(h[t])
            style = Style(color=heat_colour(value, "signed", 1.0, dark), reverse=t == ex.t)
            text.append(spark(value, -1.0, 1.0) * cells, style)
        rows.append(text)
    axis = Text(f"t {start + 1}".ljust(LABEL_WIDTH), style="dim")
    marker = " " * ((ex.t - start) * cells) + "▲" + f" t = {ex.t + 1} / {ex.steps}"
    axis.append(marker[:room], style="bold")
    rows.append(axis)
    return rows


def memory_rows(explorer: Explorer, profiles: Mapping[str, MemoryProfile], width: int,
                dark: bool = True, computing: str = "", key_hints: bool = True) -> list[Text]:
    """‖∂h_T/∂x_t‖ of every profiled model across the timeline, shown models first, then
    the values at the cursor and what one step passes on there. `key_hints` names the main
    screen's keys that change it."""
    ex = explorer
    title = Text.assemble(("Memory".ljust(LABEL_WIDTH), "bold"),
                          "‖∂h_T/∂x_t‖: how much the last state still depends on x_t",
                          no_wrap=True, overflow="ellipsis")
    order = [*ex.visible, *(m for m in ex.traces if m not in ex.visible)]
    profiles = {m: profiles[m] for m in order
                if m in profiles and profiles[m].steps == ex.steps}
    if computing or not profiles:
        return [title, Text(computing or "…", style="italic")]
    logs = np.concatenate([p.log10_sensitivity for p in profiles.values()])
    finite = logs[np.isfinite(logs)]
    top = math.ceil(float(finite.max())) if finite.size else 0
    bottom = top - DECADES
    title.append(f", log scale 1e{bottom:+03d} … 1e{top:+03d}", style="dim")
    if key_hints:
        title.append("   k keep gates · u/U scale U", style="dim italic")
    room = max(width - LABEL_WIDTH, 1)
    start, stop, cells = timeline_window(ex.steps, ex.t, room)
    rows = [title]
    at, passes, forget = [], [], ""
    for model, profile in profiles.items():
        log = profile.log10_sensitivity
        text = Text(MODEL_SHORT[model].ljust(LABEL_WIDTH), style="bold")
        for t in range(start, stop):
            value = float(log[t])
            fraction = (value - bottom) / DECADES if value > -math.inf else 0.0
            style = Style(color=heat_colour(fraction, "gate", 1.0, dark), reverse=t == ex.t)
            text.append(spark(value, bottom, top) * cells, style)
        rows.append(text)
        at.append(f"{MODEL_SHORT[model]} {scientific(float(log[ex.t]))}")
        passes.append(f"{MODEL_SHORT[model]} {profile.state_jacobian[ex.t]:.2f}")
        if profile.cell_jacobian is not None:
            forget = f"   LSTM forget path ‖∂C_t/∂C_t-1‖ {profile.cell_jacobian[ex.t]:.2f}"
    rows.append(Text.assemble((f"at t = {ex.t + 1}".ljust(LABEL_WIDTH), "bold"),
                              "  ·  ".join(at), no_wrap=True, overflow="ellipsis"))
    rows.append(Text.assemble(("one step".ljust(LABEL_WIDTH), "bold"),
                              ("‖∂h_t/∂h_t-1‖ ", "dim"), "  ·  ".join(passes), forget,
                              no_wrap=True, overflow="ellipsis"))
    return rows
