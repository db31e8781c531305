"""Rows that run along the whole sequence, one column per step: the timeline (h of the
selected unit per model, and its gates when there is room), the memory panel (‖∂h_T/∂x_t‖
per model on a log scale), and the large step counter of projector mode."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from rich.style import Style
from rich.text import Text

from gru_tui.engine import MemoryProfile
from gru_tui.render.bars import spark
from gru_tui.render.format import scientific
from gru_tui.render.strips import heat_colour
from gru_tui.render.theme import MODEL_SHORT, palette, vector_colour, vector_info

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer

LABEL_WIDTH = 12  # the timeline's and the memory panel's row labels, a leading space included
DECADES = 12  # the memory scale spans this many powers of ten below the largest value
TIMELINE_GATES = {"gru": ("reset", "update"), "lstm": ("forget", "input", "output")}
SEPARATOR = " · "


def timeline_window(steps: int, t: int, room: int) -> tuple[int, int, int]:
    """(start, stop, cells per step) of the steps a timeline row `room` cells wide shows:
    the whole run spread across the row when it fits, else a window centred on t."""
    cells = max(1, room // max(steps, 1))
    width = max(room // cells, 1)
    start = min(max(t - width // 2, 0), max(steps - width, 0))
    return start, min(start + width, steps), cells


def _label(text: str) -> Text:
    return Text(f" {text}".ljust(LABEL_WIDTH), style="bold")


def timeline_rows(explorer: Explorer, width: int, dark: bool = True, *, gates: bool = False,
                  colours: Mapping[str, str] | None = None, rows: int = 1) -> list[Text]:
    """h of the selected unit for every shown model (with `gates`, then its gates in their
    colours), each series `rows` rows tall, the cursor at t in reverse, and an axis of step
    numbers."""
    ex = explorer
    colours = colours or palette(dark)
    room = max(width - LABEL_WIDTH, 1)
    start, stop, cells = timeline_window(ex.steps, ex.t, room)
    unit = ex.unit + 1
    lines = []
    series = [(model, "h") for model in ex.visible]
    if gates:
        series += [(model, key) for model in ex.visible for key in TIMELINE_GATES.get(model, ())]
    gap = " " if cells >= 3 else ""  # wide steps stand apart
    for model, key in series:
        info = vector_info(model, key)
        name = info.symbol.split("_")[0]
        values = ex.traces[model][key][:, ex.unit]
        low = 0.0 if info.scale == "gate" else -1.0
        colour = vector_colour(colours, info, 0.0) if info.colour else None
        texts = [_label(f"{MODEL_SHORT[model]:<5}{name}[{unit}]" if row == rows - 1 else "")
                 for row in range(rows)]
        for t in range(start, stop):
            value = float(values[t])
            style = Style(color=heat_colour(value, info.scale, 1.0, colour=colour,
                                            colours=colours), reverse=t == ex.t)
            fraction = (min(max(value, low), 1.0) - low) / (1.0 - low)
            for row, text in enumerate(texts):  # the top row takes what the lower cannot
                part = min(max(fraction * rows - (rows - 1 - row), 0.0), 1.0)
                glyph = spark(part, 0.0, 1.0) if part > 0 or row == rows - 1 else " "
                text.append(glyph * (cells - len(gap)), style)
                text.append(gap)
        lines.extend(texts)
    lines.append(_axis(ex.t, ex.steps, start, stop, cells, colours))
    return lines


def _axis(t: int, steps: int, start: int, stop: int, cells: int,
          colours: Mapping[str, str]) -> Text:
    """" step  1   2   3 …": numbers under the steps as often as they fit, t's in reverse."""
    room = (stop - start) * cells
    line = [" "] * room
    label = len(str(steps)) + 1
    every = next(k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000,
                             20_000, 50_000) if k * cells >= label) if cells < label else 1
    for step in range(start, stop):
        if (step + 1) % every == 0 or step == 0:
            number = str(step + 1)
            at = (step - start) * cells
            if at + len(number) <= room and line[at] == " " and (at == 0 or line[at - 1] == " "):
                line[at:at + len(number)] = number
    text = Text.assemble(_label("step"), ("".join(line), colours["text.muted"]))
    number = str(t + 1)
    at = LABEL_WIDTH + min((t - start) * cells, max(room - len(number), 0))
    text = text[:at] + Text(number, style="bold reverse") + text[at + len(number):]
    return text


# -- the large step counter (projector mode) -----------------------------------------------

COUNTER_ROWS = 3
# 3 × 5 pixel glyphs, drawn two pixel rows to a cell with half blocks
_GLYPHS = {
    "0": ("###", "#.#", "#.#", "#.#", "###"), "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"), "3": ("###", "..#", "###", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"), "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"), "7": ("###", "..#", "..#", "..#", "..#"),
    "8": ("###", "#.#", "###", "#.#", "###"), "9": ("###", "#.#", "###", "..#", "###"),
    "/": ("..#", "..#", ".#.", "#..", "#.."), "t": (".#.", "###", ".#.", ".#.", ".##"),
    "=": ("...", "###", "...", "###", "..."),
}
_HALVES = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def counter_text(t: int, steps: int) -> str:
    return f"t={t}/{steps}"


def counter_width(steps: int = 8) -> int:
    """Cells the large counter takes for a run of `steps`, with a margin each side."""
    return 4 * len(counter_text(steps, steps)) + 1


def counter_rows(t: int, steps: int) -> list[Text]:
    """"t=3/8" in glyphs three rows tall, for the back row of a classroom."""
    pixels = [""] * 6
    for char in counter_text(t, steps):
        glyph = _GLYPHS[char]
        for row in range(6):
            pixels[row] += (glyph[row] if row < 5 else "...") + "."
    rows = []
    for top, bottom in zip(pixels[0::2], pixels[1::2], strict=True):
        line = "".join(_HALVES[a == "#", b == "#"] for a, b in zip(top, bottom, strict=True))
        rows.append(Text(" " + line, style="bold"))
    return rows


# -- the memory panel -------------------------------------------------------------------------


def fitted(label: str, parts: Sequence[str], width: int) -> tuple[Text, list[str]]:
    """A line of a label and the parts that fit within `width` (in order, skipping those that
    would not), and the parts left over."""
    text = _label(label)
    left: list[str] = []
    first = True
    for part in parts:
        piece = part if first else SEPARATOR + part
        if text.cell_len + len(piece) <= width:
            text.append(piece)
            first = False
        else:
            left.append(part)
    return text, left


def memory_rows(explorer: Explorer, profiles: Mapping[str, MemoryProfile], width: int,
                dark: bool = True, computing: str = "",
                colours: Mapping[str, str] | None = None, key_hints: bool = True) -> list[Text]:
    """‖∂h_T/∂x_t‖ of every profiled model across the timeline, shown models first, then
    the values at the cursor and what one step passes on there, next to the norm that
    passing a state on unchanged has (the identity's, √H). `key_hints` names the main
    screen's keys that change it."""
    ex = explorer
    colours = colours or palette(dark)
    order = [*ex.visible, *(m for m in ex.traces if m not in ex.visible)]
    profiles = {m: profiles[m] for m in order
                if m in profiles and profiles[m].steps == ex.steps}
    heading = "‖∂h_T/∂x_t‖: how much the last state still depends on x_t"
    if computing or not profiles:
        title, _ = fitted("Memory", [heading], width)
        return [title, Text(" " + (computing or "…"), style=colours["text.note"])]
    logs = np.concatenate([p.log10_sensitivity for p in profiles.values()])
    finite = logs[np.isfinite(logs)]
    top = math.ceil(float(finite.max())) if finite.size else 0
    bottom = top - DECADES
    title, _ = fitted("Memory", [heading, f"log scale 1e{bottom:+03d} … 1e{top:+03d}"], width)
    room = max(width - LABEL_WIDTH, 1)
    start, stop, cells = timeline_window(ex.steps, ex.t, room)
    rows = [title]
    at, passes, forget = [], [], []
    for model, profile in profiles.items():
        log = profile.log10_sensitivity
        text = _label(MODEL_SHORT[model])
        for t in range(start, stop):
            value = float(log[t])
            fraction = (value - bottom) / DECADES if value > -math.inf else 0.0
            style = Style(color=heat_colour(fraction, "gate", 1.0, colour=colours["memory"],
                                            colours=colours), reverse=t == ex.t)
            text.append(spark(value, bottom, top) * cells, style)
        rows.append(text)
        at.append(f"{MODEL_SHORT[model]} {scientific(float(log[ex.t]))}")
        passes.append(f"{MODEL_SHORT[model]} {profile.state_jacobian[ex.t]:.2f}")
        if profile.cell_jacobian is not None:
            forget.append(f"LSTM forget path ‖∂C_t/∂C_t-1‖ {profile.cell_jacobian[ex.t]:.2f}")
    H = ex.hidden_size
    identity = f"unchanged: the identity's norm √{H} = {math.sqrt(H):.2f}"
    rows.append(fitted(f"at t = {ex.t + 1}", ["  ·  ".join(at)], width)[0])
    step, left = fitted("one step", ["‖∂h_t/∂h_t-1‖ " + "  ·  ".join(passes), identity],
                        width)
    rows.append(step)
    hints = ["k keep gates · u/U scale U"] if key_hints else []
    rows.append(fitted("", [*left, *forget, *hints], width)[0])
    return rows
