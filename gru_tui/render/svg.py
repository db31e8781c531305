"""SVG screenshots that look the same anywhere, offline: rich's SVG export with its web fonts
replaced by locally installed monospace fonts, and every block glyph (bars, heat strips, the
timeline, the large counter) drawn as a rectangle.

A block glyph drawn by a font rarely fills its cell exactly: bars show seams between cells,
and the left cell of a negative bar, drawn in reverse video (the cell's background in the
bar's colour, the glyph in the panel's), shows notches where the glyph falls short of the
cell. Rectangles of the exact fraction of a cell have neither, whatever font is installed.
"""

from __future__ import annotations

import html
import re

from rich.cells import cell_len

LOCAL_FONTS = ('"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, "Courier New", '
               "monospace")

# (left, top, width, height) of a glyph's ink, as fractions of its cell
BLOCKS: dict[str, tuple[float, float, float, float]] = {
    "█": (0, 0, 1, 1), "▀": (0, 0, 1, 0.5), "▐": (0.5, 0, 0.5, 1), "▕": (0.875, 0, 0.125, 1),
    **{chr(0x2588 + k): (0, 0, (8 - k) / 8, 1) for k in range(1, 8)},  # ▉ … ▏ from the left
    **{chr(0x2580 + k): (0, 1 - k / 8, 1, k / 8) for k in range(1, 8)},  # ▁ … ▇ from below
}

_FONT_FACE = re.compile(r"\s*@font-face \{[^}]*\}")
_FAMILY = re.compile(r"font-family: Fira Code, monospace;")
_CLASS_FILL = re.compile(r"\.([\w-]+-r\d+) \{ fill: (#[0-9a-fA-F]{6})")
_TEXT = re.compile(r'<text class="(?P<cls>[\w-]+)" x="(?P<x>[\d.]+)" y="(?P<y>[\d.]+)" '
                   r'textLength="(?P<length>[\d.]+)" '
                   r'clip-path="url\(#(?P<id>[\w-]+)-line-(?P<line>\d+)\)">(?P<text>[^<]*)</text>')
_COMMENT = re.compile(r"\s*<!--.*?-->", re.DOTALL)


def offline_svg(svg: str) -> str:
    """rich's (Textual's) SVG export, made to render the same offline: no font fetched from
    another site (local monospace fonts are named instead), block glyphs as rectangles."""
    svg = _COMMENT.sub("", svg)  # rich's credit line names its web site
    svg = _FONT_FACE.sub("", svg)
    svg = _FAMILY.sub(f"font-family: {LOCAL_FONTS};", svg)
    fills = dict(_CLASS_FILL.findall(svg))
    return _TEXT.sub(lambda match: _redrawn(match, fills), svg)


# rich's export: 20 px characters on lines 1.22 as tall; a line's text has its baseline 20 px
# below the line's top, and its background is 0.25 px taller than the line, from 1.5 px down
CHAR_HEIGHT, LINE_HEIGHT = 20, 20 * 1.22
ROW_TOP, ROW_HEIGHT = 1.5 - CHAR_HEIGHT, LINE_HEIGHT + 0.25


def _redrawn(match: re.Match, fills: dict[str, str]) -> str:
    """One text element: its block glyphs as rectangles, each word of the rest as text at
    its own cell (a renderer that drops spaces or spreads a run's glyphs, as around C̃'s
    combining tilde, moves nothing then)."""
    text = html.unescape(match["text"])
    x, length = float(match["x"]), float(match["length"])
    cell = length / max(len(text), 1)  # rich: a character's width × len(text), even for C̃
    row_top, height = float(match["y"]) + ROW_TOP, ROW_HEIGHT
    fill = fills.get(match["cls"], "#000000")
    parts: list[str] = []
    run, run_x = "", x
    at = x
    for char in text:
        if char in BLOCKS or char in " \xa0":
            parts.append(_text(match, run, run_x, cell))
            run, run_x = "", at + cell
        if char in BLOCKS:
            left, up, wide, tall = BLOCKS[char]
            parts.append(f'<rect fill="{fill}" x="{at + left * cell:g}" '
                         f'y="{row_top + up * height:g}" width="{wide * cell:g}" '
                         f'height="{tall * height:g}" shape-rendering="crispEdges"/>')
        elif char not in " \xa0":
            run += char
        at += cell * cell_len(char)
    parts.append(_text(match, run, run_x, cell))
    return "".join(part for part in parts if part)


def _text(match: re.Match, text: str, x: float, cell: float) -> str:
    if not text:
        return ""
    return (f'<text class="{match["cls"]}" x="{x:g}" y="{match["y"]}" '
            f'textLength="{cell * cell_len(text):g}" '
            f'clip-path="url(#{match["id"]}-line-{match["line"]})">{html.escape(text)}</text>')
