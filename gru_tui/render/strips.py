"""Heat strips: one cell per hidden unit, its colour and its block height both from the value,
for vectors too long for a bar per unit."""

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

HEAT_STEPS = 8  # colour levels on each side of zero


def strip_window(count: int, cells: int, selected: int) -> tuple[int, int]:
    """The units [start, stop) a strip of `cells` shows, scrolled to keep `selected` in view."""
    if count <= cells:
        return 0, count
    start = min(max(selected - cells // 2, 0), count - cells)
    return start, start + cells


def strip_text(values: np.ndarray, scale: str, limit: float, selected: int | None,
               start: int, stop: int, dark: bool = True, colour: str | None = None,
               colours: Mapping[str, str] | None = None) -> Text:
    """A heat strip of units start..stop−1: one cell per unit, coloured and shaped by value.

    Gates fade from neutral to `colour` (default: the palette's gate colour), other vectors to
    the sign colours; one style per run of equal cells.
    """
    colours = colours or palette(dark)
    shown = np.asarray(values[start:stop], dtype=float)
    if not len(shown):
        return Text("")
    low, high = (0.0, 1.0) if scale == "gate" else (-limit, limit)
    glyphs = "".join(SPARKS[k] for k in _spark_indices(shown, low, high))
    if scale == "gate":
        strength = shown
        targets = np.zeros(len(shown), dtype=int)  # one target: the gate's colour
        hues = (colour or colours["gate"],)
    else:
        strength = np.abs(shown) / limit if limit > 0 else np.zeros_like(shown)
        targets = (shown < 0).astype(int)
        hues = (colours["positive"], colours["negative"])
    levels = _levels(strength)
    keys = targets * (HEAT_STEPS + 1) + levels
    if selected is not None and start <= selected < stop:
        keys[selected - start] = -1 - keys[selected - start]  # a run of its own
    edges = np.flatnonzero(np.diff(keys)) + 1
    bounds = [0, *edges.tolist(), len(shown)]
    spans = []
    for a, b in itertools.pairwise(bounds):
        level, target = int(levels[a]), int(targets[a])
        reverse = selected is not None and a + start == selected
        spans.append(Span(a, b, _heat_style(_blend(colours["neutral"], hues[target], level),
                                            reverse)))
    return Text(glyphs, spans=spans)


def _spark_indices(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """spark()'s glyph index for every value, at once."""
    if high <= low:
        return np.zeros(len(values), dtype=int)
    fraction = np.clip((np.nan_to_num(values, nan=low) - low) / (high - low), 0.0, 1.0)
    return np.minimum((fraction * len(SPARKS)).astype(int), len(SPARKS) - 1)


def _levels(strength: np.ndarray) -> np.ndarray:
    """Colour levels 0..HEAT_STEPS: the strength lifted (small values stay visible)."""
    return np.rint(np.clip(np.nan_to_num(strength), 0.0, 1.0) ** 0.7 * HEAT_STEPS).astype(int)


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

