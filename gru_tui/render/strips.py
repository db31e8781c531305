"""Heat strips: one cell per hidden unit, its colour and its block height both from the value,
for vectors too long for a bar per unit."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rich.color import Color, blend_rgb
from rich.style import Style
from rich.text import Text

from gru_tui.render.bars import spark
from gru_tui.render.theme import palette

HEAT_STEPS = 8  # colour levels on each side of zero


def strip_window(count: int, cells: int, selected: int) -> tuple[int, int]:
    """The units [start, stop) a strip of `cells` shows, scrolled to keep `selected` in view."""
    if count <= cells:
        return 0, count
    start = min(max(selected - cells // 2, 0), count - cells)
    return start, start + cells


def strip_text(values: np.ndarray, scale: str, limit: float, selected: int | None,
               start: int, stop: int, dark: bool = True) -> Text:
    """A heat strip of units start..stop−1: one cell per unit, coloured and shaped by value."""
    low, high = (0.0, 1.0) if scale == "gate" else (-limit, limit)
    text = Text()
    run, run_style = "", None
    for unit in range(start, stop):  # one style per run of equal cells
        value = float(values[unit])
        style = _heat_style(heat_colour(value, scale, limit, dark), unit == selected)
        if style is not run_style and run:
            text.append(run, run_style)
            run = ""
        run, run_style = run + spark(value, low, high), style
    if run:
        text.append(run, run_style)
    return text


@lru_cache(maxsize=256)
def _heat_style(colour: str, selected: bool) -> Style:
    return Style(color=colour, reverse=selected)


def heat_colour(value: float, scale: str, limit: float = 1.0, dark: bool = True) -> str:
    """The colour of a heat-strip cell: from neutral grey at 0 to the full colour at the edge,
    in HEAT_STEPS levels, so neighbouring cells share a style."""
    if scale == "gate":
        target, strength = "gate", value
    else:
        target = "positive" if value >= 0 else "negative"
        strength = abs(value) / limit if limit > 0 else 0.0
    level = round(min(max(strength, 0.0), 1.0) ** 0.7 * HEAT_STEPS)  # lift small values
    return _blend(target, level, dark)


@lru_cache(maxsize=128)
def _blend(target: str, level: int, dark: bool) -> str:
    colours = palette(dark)
    rgb = blend_rgb(Color.parse(colours["neutral"]).get_truecolor(),
                    Color.parse(colours[target]).get_truecolor(), level / HEAT_STEPS)
    return rgb.hex
