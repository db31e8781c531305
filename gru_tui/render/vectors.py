"""The rows of one vector in a panel: a bar per unit, the units side by side on one row, or a
heat strip; each starts with the vector's symbol and its name in words."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from rich.style import Style
from rich.text import Text

from gru_tui.render.bars import bar_text, nice_limit
from gru_tui.render.format import format_value
from gru_tui.render.lines import wrapped
from gru_tui.render.strips import strip_text, strip_window
from gru_tui.render.theme import (
    LABEL_WIDTH,
    NAME_WIDTH,
    SHORT_WIDTH,
    VECTORS,
    VectorInfo,
    palette,
    vector_colour,
)

SYMBOL_WIDTH = 5  # h_t-1 and C_t-1; C̃_t is three cells
VALUE_WIDTH = 8  # bars mode: "+0.5000" and room for "-12.5000"
INLINE_VALUE = 5  # inline: "+0.50"
UNIT_WIDTH = 3  # bars mode: the unit's number and a space
MIN_BAR = 17  # bars mode: the narrowest bar for which names get room
MIN_SLOT = 18  # inline: a unit's slot (bar, value, gap) for which names get room
READOUT_WIDTH = 14  # strips: " 12:  +0.123 ›"
CURSOR = Style(reverse=True)


def state_limit(values: np.ndarray) -> float:
    """The visible range of an unbounded vector over the whole run: 1, or 2, 5, 10 … above."""
    return nice_limit(float(np.max(np.abs(values)))) if values.size else 1.0


def scale_limits(traces: Mapping) -> dict[str, float]:
    """One range per kind of quantity across every given model's whole run (theme.SCALES):
    gates 0..1; inputs, hidden states and the GRU candidate one range; the LSTM's cell state
    and candidate another. Every panel draws a value of one kind on the same scale."""
    limits = {"gate": 1.0}
    for model, trace in traces.items():
        if not trace.steps:
            continue
        for info in VECTORS[model]:
            if info.scale != "gate":
                limits[info.scale] = max(limits.get(info.scale, 1.0), state_limit(trace[info.key]))
    return limits


def label_width(name_width: int) -> int:
    """Cells before a vector's bars: a space, the symbol, a space, the name, a space."""
    return 1 + SYMBOL_WIDTH + 1 + name_width + 1


def name_room(mode: str, width: int, columns: int) -> int:
    """The names column of a panel `width` cells wide with `columns` units side by side: in
    full when the bars keep their room, else as labels or in short (never none). Every
    vector's name then takes the form for this width (VectorInfo.words)."""
    if mode == "bars":
        room = width - UNIT_WIDTH - VALUE_WIDTH - 1 - MIN_BAR
    elif mode == "inline":
        room = width - columns * MIN_SLOT
    else:
        room = width - READOUT_WIDTH - min(columns, 32)
    room -= label_width(0)
    return next((tier for tier in (NAME_WIDTH, LABEL_WIDTH) if tier <= room), SHORT_WIDTH)


def mode_fits(mode: str, width: int, columns: int) -> bool:
    """Whether a row of `mode` fits `width` cells: bars need a value and a bar of a few
    cells, inline every unit a bar of at least 3 cells and its value; strips always fit."""
    head = label_width(SHORT_WIDTH)
    if mode == "bars":
        return width >= head + UNIT_WIDTH + 5 + 1 + VALUE_WIDTH + 1
    if mode == "inline":
        return (width - head) // max(columns, 1) >= 3 + INLINE_VALUE + 2
    return True


def label_text(info: VectorInfo, name_width: int, colours: Mapping[str, str]) -> Text:
    """" r_t reset gate ": the symbol and the name in words, padded to the column, in bold;
    a gate's in its colour, which its bars and values have too."""
    symbol = Text(info.symbol)
    symbol.truncate(SYMBOL_WIDTH, pad=True)  # by cells: C̃ is one cell, two characters
    style = f"bold {colours.get(info.colour, colours['gate'])}" if info.colour else "bold"
    return Text.assemble(" ", symbol, " ", info.words(name_width).ljust(name_width), " ",
                         style=style)


def vector_rows(info: VectorInfo, values: np.ndarray, mode: str, width: int, *,
                limit: float = 1.0, unit: int | None = None, cursor_unit: int | None = None,
                label: str | None = None, role: str = "", strip_rows: int = 1,
                dark: bool = True, columns: int | None = None,
                colours: Mapping[str, str] | None = None, bar_rows: int = 1,
                name_width: int | None = None) -> list[Text]:
    """The rows of one vector in a panel `width` cells wide.

    `limit` is the range of the vector's kind of quantity (gates: 1); `unit` the selected
    hidden unit (marked in every mode); `cursor_unit` the unit under the panel's cursor, drawn
    in reverse. Every value is written in its bar's colour. Inline, the row has `columns`
    slots (default: one per value), so vectors of different lengths line up. `bar_rows`
    draws every bar that many rows tall. `name_width` is the panel's names column (default:
    as the mode leaves room for);
    `label` replaces the symbol. With `role` (bars mode), a header line gives the symbol, the
    name and the vector's job, wrapped under the name.
    """
    colours = colours or palette(dark)
    if label is not None:
        info = VectorInfo(info.key, label, info.name, info.scale, info.role, info.label,
                          info.short, info.colour)
    H = len(values)
    slots = max(columns or H, H)
    if name_width is None:
        name_width = name_room(mode, width, slots)
    if role and mode == "bars":  # the name is in the header line: the rows only indent
        name_width = 0
    head = label_text(info, name_width, colours)
    blank = " " * head.cell_len
    limit = 1.0 if info.scale == "gate" else limit
    signed = info.scale != "gate"
    if mode == "bars":
        room = width - head.cell_len - UNIT_WIDTH - VALUE_WIDTH - 2  # for the bar, 2·half + 1
        half = max(2, (room - 1) // 2)
        rows = []
        if role:  # a header line: symbol, name in full and what the vector does
            rows.extend(wrapped(Text.assemble(" ", (info.symbol, "bold"), " ",
                                              (info.name, "bold"), "  ",
                                              (role, colours["text.note"])),
                                width, indent=len(info.symbol) + 2))
        for k, value in enumerate(values):
            value = float(value)
            colour = vector_colour(colours, info, value)
            bar = bar_text(value, info.scale, limit, half=half, colours=colours, colour=colour)
            number = Text(f"{k + 1:>2} ", style="bold" if k == unit else colours["text.muted"])
            first = Text.assemble(head if k == 0 and not role else blank, number, bar, " ",
                                  (format_value(value, signed).rjust(VALUE_WIDTH), colour))
            if k == cursor_unit:
                first.stylize(CURSOR, 0, head.cell_len + 2)
            rows.append(first)
            rows.extend(Text.assemble(blank, "   ", bar) for _ in range(bar_rows - 1))
        return rows
    if mode == "inline":
        cell = (width - head.cell_len) // slots  # a bar, a space, the value, a space
        half = max(1, (cell - INLINE_VALUE - 3) // 2)
        row, under = Text.assemble(head), Text(blank)
        for k, value in enumerate(values):
            value = float(value)
            colour = vector_colour(colours, info, value)
            bar = bar_text(value, info.scale, limit, half=half, colours=colours, colour=colour)
            number = Text(" " + format_value(value, signed, 2).rjust(INLINE_VALUE) + " ",
                          style=colour)
            if k == cursor_unit:
                number.stylize(CURSOR, 1, 1 + INLINE_VALUE)
            row.append_text(bar)
            row.append_text(number)
            under.append_text(bar)
            under.append(" " * number.cell_len)
        return [row, *(under.copy() for _ in range(bar_rows - 1))]
    # strips: as many units as fit on `strip_rows` rows, scrolled to the selected one, and
    # the selected unit's value
    selected = unit if unit is not None else 0
    value = format_value(float(values[selected]), signed, 3)
    readout = f" {selected + 1:>3}:{value:>8}"
    per_row = max(width - head.cell_len - len(readout) - 2, 1)
    rows_used = max(1, min(strip_rows, -(-H // per_row)))
    start, stop = strip_window(H, per_row * rows_used, selected)
    rows = []
    for k, first in enumerate(range(start, stop, per_row)):
        row = Text.assemble(head if k == 0 else blank,
                            strip_text(values, info.scale, limit, selected, first,
                                       min(first + per_row, stop), colour=info.colour and
                                       vector_colour(colours, info, 0.0), colours=colours))
        if k == 0:
            row.pad_right(per_row - (min(first + per_row, stop) - first))
            row.append(readout)
            if stop - start < H:
                row.append(" ›", style=colours["text.muted"])
            if cursor_unit is not None:
                row.stylize(CURSOR, 0, head.cell_len)
        row.truncate(width)
        rows.append(row)
    return rows
