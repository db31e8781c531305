"""Screenshots that render the same offline: the SVG's block glyphs become rectangles of the
exact fraction of a cell, its web fonts local ones."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console
from rich.text import Text

from gru_tui.render.bars import bar_text
from gru_tui.render.svg import BLOCKS, LOCAL_FONTS, offline_svg
from gru_tui.render.theme import palette

COLOURS = palette()
RECT = re.compile(r'<rect fill="(#[0-9a-fA-F]{6})" x="([\d.]+)" y="([\d.]+)" '
                  r'width="([\d.]+)" height="([\d.]+)"')


def exported(*rows: Text, width: int = 40) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system="truecolor")
    for row in rows:
        console.print(row)
    return console.export_svg(title="bars")


def painted(svg: str, row: int, cell: float = 12.2, line: float = 24.4) -> list[str | None]:
    """The colour of every eighth of a cell along a row, after painting every rectangle in
    the document's order (later ones over earlier ones), with the row's full height only."""
    top = 1.5 + row * line
    eighths: list[str | None] = [None] * 8 * 40
    for fill, x, y, w, h in RECT.findall(svg):
        x, y, w, h = map(float, (x, y, w, h))
        if abs(y - top) > 0.01:
            continue
        assert abs(h - (line + 0.25)) < 0.01, "a rectangle shorter than its row: a notch"
        for k in range(round(x / cell * 8), round((x + w) / cell * 8)):
            eighths[k] = fill.lower()
    return eighths


@pytest.mark.parametrize("value", [-0.3, -0.55, -0.8, 0.3, 0.55])
def test_a_signed_bar_is_as_long_as_its_value_with_no_notch(value):
    """Half 4: a bar of |value| · 4 cells from the axis; the partial cell of a negative bar
    (reverse video on screen) is drawn as the exact fraction, on the full row height."""
    bar = bar_text(value, "signed", half=4, colours=COLOURS)
    svg = offline_svg(exported(bar))
    texts = "".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    assert not set(texts) & set(BLOCKS)  # no block glyph left to a font
    colour = COLOURS["positive" if value > 0 else "negative"].lower()
    row = painted(svg, 0)
    filled = [k for k, fill in enumerate(row) if fill == colour]
    axis = 4 * 8  # the axis cell: the bar grows from its left edge (negative) or right edge
    if value < 0:
        assert filled == list(range(axis - len(filled), axis))  # one piece, up to the axis
    else:
        assert filled == list(range(axis + 8, axis + 8 + len(filled)))
    assert len(filled) == round(abs(value) * 4 * 8)


def test_offline_svgs_name_local_fonts_and_fetch_nothing():
    svg = offline_svg(exported(Text("t = 1 / 8  ▁▂▃▄▅▆▇█")))
    assert "@font-face" not in svg and "url(" not in svg.replace("url(#", "")
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert LOCAL_FONTS in svg and "<script" not in svg


def test_text_keeps_its_cells_around_combining_marks():
    """rich gives a run with C̃ one cell too many; every word is put on its own cell."""
    svg = offline_svg(exported(Text("C̃_t   candidate")))
    xs = {word: float(x) for x, word in re.findall(r'<text [^>]*x="([\d.]+)"[^>]*>([^<]+)</text>',
                                                   svg) if word in ("C̃_t", "candidate")}
    assert xs["candidate"] - xs["C̃_t"] == pytest.approx(6 * 12.2)
