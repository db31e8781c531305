"""The rows of one vector in a panel: a bar per unit, the units side by side on one row, or a
heat strip."""

from __future__ import annotations

import numpy as np
from rich.style import Style
from rich.text import Text

from gru_tui.render.bars import bar_text, nice_limit
from gru_tui.render.format import format_value
from gru_tui.render.strips import strip_text, strip_window
from gru_tui.render.theme import VectorInfo, palette

SYMBOL_WIDTH = 6
VALUE_WIDTH = 8
CURSOR = Style(reverse=True)


def state_limit(values: np.ndarray) -> float:
    """The visible range of an unbounded vector (inputs, cell state) over the whole run."""
    return nice_limit(float(np.max(np.abs(values)))) if values.size else 1.0


def vector_rows(info: VectorInfo, values: np.ndarray, mode: str, width: int, *,
                limit: float = 1.0, unit: int | None = None, cursor_unit: int | None = None,
                label: str | None = None, role: str = "", strip_rows: int = 1,
                dark: bool = True, columns: int | None = None) -> list[Text]:
    """The rows of one vector in a panel `width` cells wide.

    `unit` is the selected hidden unit (marked in every mode); `cursor_unit` the row under
    the panel's cursor, drawn in reverse when the panel has focus. Inline, the row has
    `columns` slots (default: one per value), so vectors of different lengths line up.
    """
    symbol = Text(label or info.symbol, style="bold")
    symbol.truncate(SYMBOL_WIDTH, pad=True)  # by cells: C̃ is one cell, two characters
    limit = limit if info.scale == "state" else 1.0
    colours = palette(dark)
    H = len(values)
    if mode == "bars":
        room = width - (SYMBOL_WIDTH + 4 + VALUE_WIDTH + 1)
        half = max(2, min(20, room // 2))
        rows = []
        if role:  # a header line: symbol, name and what the vector does
            rows.append(Text.assemble(symbol, (info.name, "bold"), "  ", (role, "italic dim")))
        for k, value in enumerate(values):
            value = float(value)
            row = Text.assemble(
                symbol if k == 0 and not role else " " * SYMBOL_WIDTH,
                (f"{k + 1:>2}", "bold" if k == unit else "dim"), " ",
                bar_text(value, info.scale, limit, half=half, colours=colours), " ",
                format_value(value, info.scale != "gate").rjust(VALUE_WIDTH),
            )
            if k == cursor_unit:
                row.stylize(CURSOR, 0, SYMBOL_WIDTH + 2)
            rows.append(row)
        return rows
    if mode == "inline":
        cell = (width - SYMBOL_WIDTH) // max(columns or H, H)  # a bar, a 5-character value, " "
        half = max(1, (cell - 7) // 2)
        row = Text.assemble(symbol)
        for k, value in enumerate(values):
            value = float(value)
            number = Text(format_value(value, info.scale != "gate", 2).rjust(5))
            if k == unit:
                number.stylize("bold")
            if k == cursor_unit:
                number.stylize(CURSOR)
            row.append_text(bar_text(value, info.scale, limit, half=half, colours=colours))
            row.append_text(number)
            row.append(" ")
        return [row]
    # strips: as many units as fit on `strip_rows` rows, scrolled to the selected one, and
    # the selected unit's value
    selected = unit if unit is not None else 0
    value = format_value(float(values[selected]), info.scale != "gate", 3)
    readout = f" {selected + 1:>3}:{value:>8}"
    per_row = max(width - SYMBOL_WIDTH - len(readout) - 2, 1)
    rows_used = max(1, min(strip_rows, -(-H // per_row)))
    start, stop = strip_window(H, per_row * rows_used, selected)
    rows = []
    for k, first in enumerate(range(start, stop, per_row)):
        row = Text.assemble(symbol if k == 0 else " " * SYMBOL_WIDTH,
                            strip_text(values, info.scale, limit, selected, first,
                                       min(first + per_row, stop), dark))
        if k == 0:
            row.pad_right(per_row - (min(first + per_row, stop) - first))
            row.append(readout)
            if stop - start < H:
                row.append(" ›", style="dim")
            if cursor_unit is not None:
                row.stylize(CURSOR, 0, SYMBOL_WIDTH)
        row.truncate(width)
        rows.append(row)
    return rows


def rows_needed(mode: str, units: int, vectors: int, notes: bool = False) -> int:
    """Rows a model panel's vectors take (without borders)."""
    per_vector = (units if mode == "bars" else 1) + (2 if notes else 0)  # a note may wrap
    return per_vector * vectors
