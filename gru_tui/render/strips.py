"""Heat strips, for vectors too long for a bar per unit: one cell per unit, its block's height
the value, its colour the gate's or the value's sign; and the colours of the timeline and the
memory panel, which fade from neutral to full with the value."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
from rich.color import Color, blend_rgb
from rich.style import Style
from rich.text import Span, Text

from gru_tui.render.bars import SPARKS
from gru_tui.render.theme import palette

HEAT_STEPS = 4  # colour levels on each side of zero (the timeline, the memory panel)
NEAR_ZERO = 0.05  # of a strip's range: a value drawn in neither sign's colour


def strip_window(count: int, cells: int, selected: int) -> tuple[int, int]:
    """The units [start, stop) a strip of `cells` shows, scrolled to keep `selected` in view."""
    if count <= cells:
        return 0, count
    start = min(max(selected - cells // 2, 0), count - cells)
    return start, start + cells


def strip_text(values: np.ndarray, scale: str, limit: float, selected: int | None,
               start: int, stop: int, dark: bool = True, colour: str | None = None,
               colours: Mapping[str, str] | None = None) -> Text:
    """A heat strip of units start..stop−1: one cell per unit, its block's height the value
    (a gate's 0..1, any other value's −limit..limit), its colour a gate's `colour` (default:
    the palette's gate colour) or the value's sign (neutral near zero); the selected unit in
    reverse. One style per run of cells of one colour: a strip of hundreds of units costs a
    few runs."""
    colours = colours or palette(dark)
    shown = np.asarray(values[start:stop], dtype=float)
    if not len(shown):
        return Text("")
    low, high = (0.0, 1.0) if scale == "gate" else (-limit, limit)
    glyphs = "".join(map(SPARKS.__getitem__, _spark_indices(shown, low, high).tolist()))
    if scale == "gate":
        keys, hues = np.zeros(len(shown), dtype=int), (colour or colours["gate"],)
    else:  # near zero, neither sign's colour
        keys = np.where(np.abs(shown) < NEAR_ZERO * limit, 2, (shown < 0).astype(int))
        hues = (colours["positive"], colours["negative"], colours["neutral"])
    marked = keys.copy()
    if selected is not None and start <= selected < stop:
        marked[selected - start] = -1  # a run of its own
    bounds = [0, *(np.flatnonzero(np.diff(marked)) + 1).tolist(), len(shown)]
    spans = [Span(a, b, _heat_style(hues[keys[a]], marked[a] < 0))
             for a, b in itertools.pairwise(bounds)]
    return Text(glyphs, spans=spans)


def _spark_indices(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """spark()'s glyph index for every value, at once."""
    if high <= low:
        return np.zeros(len(values), dtype=int)
    fraction = np.clip((values - low) / (high - low), 0.0, 1.0)  # the engine's are finite
    return np.minimum((fraction * len(SPARKS)).astype(int), len(SPARKS) - 1)


def _levels(strength: np.ndarray) -> np.ndarray:
    """Colour levels 0..HEAT_STEPS: the strength lifted (small values stay visible)."""
    return np.rint(np.clip(strength, 0.0, 1.0) ** 0.7 * HEAT_STEPS).astype(int)


@lru_cache(maxsize=512)
def _heat_style(colour: str, selected: bool) -> Style:
    return Style(color=colour, reverse=selected)


def heat_colour(value: float, scale: str, limit: float = 1.0, dark: bool = True,
                colour: str | None = None, colours: Mapping[str, str] | None = None) -> str:
    """The colour of a heat-strip cell: from neutral grey at 0 to the full colour at the edge,
    in HEAT_STEPS levels, so neighbouring cells share a style. A gate fades to `colour`
    (default: the palette's gate colour)."""
    colours = colours or palette(dark)
    if scale == "gate":
        target, strength = colour or colours["gate"], value
    else:
        target = colours["positive" if value >= 0 else "negative"]
        strength = abs(value) / limit if limit > 0 else 0.0
    level = int(_levels(np.array([strength]))[0])
    return _blend(colours["neutral"], target, level)


@lru_cache(maxsize=512)
def _blend(neutral: str, target: str, level: int) -> str:
    rgb = blend_rgb(Color.parse(neutral).get_truecolor(), Color.parse(target).get_truecolor(),
                    level / HEAT_STEPS)
    return rgb.hex

