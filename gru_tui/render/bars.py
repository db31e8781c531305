"""Horizontal bars drawn with eighth-block glyphs: plain segments, and the rich Text of a bar.

A segment's role says how to paint it: "fill" in the bar's colour; "fill-reverse" with the
colour as background (reverse video), which turns a left-aligned eighth glyph into a
right-aligned fill, so bars growing leftwards keep their sub-cell resolution; "axis"; "blank".
Length and direction alone carry the value, so the bars read the same without colour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

from rich.style import Style
from rich.text import Text

from gru_tui.render.theme import COLOURS

EIGHTHS = " ▏▎▍▌▋▊▉█"
AXIS = "│"


class Segment(NamedTuple):
    text: str
    role: str


def _eighths(fraction: float, width: int) -> int:
    fraction = 0.0 if math.isnan(fraction) else min(max(fraction, 0.0), 1.0)
    return round(fraction * width * 8)


def merged(segments: list[Segment]) -> list[Segment]:
    """Neighbours with the same role joined, empty ones dropped: fewer style runs to draw."""
    out: list[Segment] = []
    for segment in segments:
        if not segment.text:
            continue
        if out and out[-1].role == segment.role:
            out[-1] = Segment(out[-1].text + segment.text, segment.role)
        else:
            out.append(segment)
    return out


def gate_bar(value: float, width: int) -> list[Segment]:
    """A bar for a 0..1 value growing from the left edge, `width` cells wide."""
    eighths = _eighths(value, width)
    full, part = divmod(eighths, 8)
    segments = [Segment("█" * full, "fill")]
    if part:
        segments.append(Segment(EIGHTHS[part], "fill"))
    blank = width - full - (1 if part else 0)
    segments.append(Segment(" " * blank, "blank"))
    return merged(segments)


# Right-aligned partial cells for output without reverse video (plain text): Unicode only has
# the eighth and the half, so the leftmost cell of a negative bar is rounded to those.
RIGHT_PARTS = ["", "▕", "▕", "▐", "▐", "▐", "█", "█"]


def signed_bar(value: float, half: int, limit: float = 1.0,
               reverse_video: bool = True) -> list[Segment]:
    """A bar for a value in ±limit growing from a centre axis; 2·half + 1 cells wide.

    Without `reverse_video` (plain text), a negative bar's partial cell uses the coarser
    right-aligned glyphs ▕ and ▐.
    """
    eighths = _eighths(abs(value) / limit if limit > 0 else 0.0, half)
    full, part = divmod(eighths, 8)
    if value >= 0:
        left = [Segment(" " * half, "blank")]
        right = [Segment("█" * full, "fill")]
        if part:
            right.append(Segment(EIGHTHS[part], "fill"))
        right.append(Segment(" " * (half - full - (1 if part else 0)), "blank"))
    else:
        left = [Segment(" " * (half - full - (1 if part else 0)), "blank")]
        if part and reverse_video:  # the glyph's ink becomes the gap, its background the fill
            left.append(Segment(EIGHTHS[8 - part], "fill-reverse"))
        elif part:
            left.append(Segment(RIGHT_PARTS[part], "fill"))
        left.append(Segment("█" * full, "fill"))
        right = [Segment(" " * half, "blank")]
    return merged([*left, Segment(AXIS, "axis"), *right])


def nice_limit(magnitude: float) -> float:
    """The smallest of 1, 2, 5 × 10^k at or above `magnitude` (at least 1): a readable range."""
    if not math.isfinite(magnitude) or magnitude <= 1.0:
        return 1.0
    exponent = math.floor(math.log10(magnitude))
    for step in (1, 2, 5, 10):
        limit = step * 10.0**exponent
        if limit >= magnitude:
            return limit
    return 10.0 ** (exponent + 1)


SPARKS = "▁▂▃▄▅▆▇█"


def spark(value: float, low: float, high: float) -> str:
    """One of eight rising blocks for value in low..high: a heat strip readable without colour."""
    if math.isnan(value) or high <= low:
        return SPARKS[0]
    fraction = min(max((value - low) / (high - low), 0.0), 1.0)
    return SPARKS[min(int(fraction * len(SPARKS)), len(SPARKS) - 1)]


HALF = 8  # a bar is 2·HALF + 1 cells wide unless told otherwise


def bar_text(value: float, scale: str, limit: float = 1.0, styled: bool = True,
             half: int = HALF, colours: Mapping[str, str] = COLOURS,
             colour: str | None = None) -> Text:
    """A rich Text bar, 2·half + 1 cells, for one value on its vector's scale, in `colour`
    (default: the palette's gate colour, or the value's sign colour). A signed bar's axis is
    its base, in the bar's colour; grey for a value of zero, which has no bar.

    `styled`: the output shows styles (a terminal), so reverse video is available.
    """
    if scale == "gate":
        segments = gate_bar(value, 2 * half + 1)
        colour = colour or colours["gate"]
    else:
        segments = signed_bar(value, half, limit, reverse_video=styled)
        colour = colour or colours["positive" if value >= 0 else "negative"]
    axis = colours["axis"] if value == 0 else colour
    return Text.assemble(*(_styled(s, colour, axis) for s in segments))


def _styled(segment: Segment, colour: str, axis: str) -> tuple[str, Style]:
    if segment.role == "fill":
        return segment.text, Style(color=colour)
    if segment.role == "fill-reverse":
        return segment.text, Style(color=colour, reverse=True)
    if segment.role == "axis":
        return segment.text, Style(color=axis)
    return segment.text, Style()
