"""Rows of rich Text as lines of segments, with as few style runs as the cells allow: what the
app's widgets cache and repaint line by line."""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import lru_cache

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import Text


def _shows_blank(style: Style | None) -> bool:
    """True when spaces in this style look like plain spaces: no background, no reverse, no
    line drawn through or under them."""
    return style is None or not (style.bgcolor or style.reverse or style.underline
                                 or style.strike or style.overline or style.link
                                 or style.underline2)


def compact(segments: Iterable[Segment]) -> list[Segment]:
    """The same cells in fewer segments: runs of spaces take a neighbour's style when both
    show spaces alike (a space has no foreground to show), then equal styles join.

    Each segment becomes an escape sequence on the terminal, so this is most of what a
    redrawn line costs.
    """
    out: list[Segment] = []
    pending = ""  # spaces waiting for the next segment's style
    for text, style, control in segments:
        if control or not text:
            if control:
                out.append(Segment(text, style, control))
            continue
        if not text.strip(" ") and _shows_blank(style):
            if out and not out[-1].control and _shows_blank(out[-1].style):
                out[-1] = Segment(out[-1].text + text, out[-1].style)
            else:
                pending += text
            continue
        if pending and _shows_blank(style):
            text, pending = pending + text, ""
        elif pending:
            out.append(Segment(pending))
            pending = ""
        if out and not out[-1].control and out[-1].style == style:
            out[-1] = Segment(out[-1].text + text, style)
        else:
            out.append(Segment(text, style))
    if pending:
        out.append(Segment(pending))
    return out


def text_lines(rows: Iterable[Text], width: int, console: Console,
               options: ConsoleOptions | None = None) -> list[list[Segment]]:
    """Every row at `width` cells, wrapped where it is longer, padded where shorter, and
    compacted: one list of segments per terminal line."""
    lines: list[list[Segment]] = []
    for row in rows:
        cells = row.cell_len
        if cells <= width and "\n" not in row.plain:  # most rows: one line, no wrapping
            segments = _flat(row, console) or list(row.render(console, end=""))
            if cells < width:
                segments.append(Segment(" " * (width - cells)))
            lines.append(compact(segments))
            continue
        options = options or console.options.update_width(width)
        for line in console.render_lines(row, options, pad=True):
            lines.append(compact(line))
    return lines


def _flat(row: Text, console: Console) -> list[Segment] | None:
    """The segments of a row whose spans do not overlap (most rows: labels, bars, values,
    heat strips), without rich's general span sweep; None for any other row."""
    plain, base = row.plain, row.style
    if base or row.end not in ("", "\n"):
        return None
    get_style = console.get_style
    segments, at = [], 0
    for start, end, style in row.spans:
        if start < at:
            return None  # an overlapping span (a cursor stylized over a label)
        if start > at:
            segments.append(Segment(plain[at:start], _PLAIN))
        if end > start:
            segments.append(Segment(plain[start:end], get_style(style)
                                    if isinstance(style, str) else style))
        at = max(at, end)
    if at < len(plain):
        segments.append(Segment(plain[at:], _PLAIN))
    return segments


_PLAIN = Style()  # what rich gives text outside every span


@lru_cache(maxsize=1024)
def line_count(text: str, width: int) -> int:
    """The lines a plain text takes when wrapped at `width` cells, as the widgets wrap it."""
    console = Console(width=max(width, 1), file=io.StringIO(), color_system=None)
    return len(Text(text).wrap(console, max(width, 1)))


_WRAPPER = Console(width=200, file=io.StringIO(), color_system=None)


def wrapped(text: Text, width: int, indent: int = 0) -> list[Text]:
    """`text` wrapped at `width` cells, every line after the first indented by `indent`."""
    lines = list(text.wrap(_WRAPPER, max(width, 1)))
    if len(lines) <= 1 or indent <= 0:
        return lines
    rest = Text(" ").join(lines[1:])  # what follows the first line, wrapped narrower
    indented = rest.wrap(_WRAPPER, max(width - indent, 1))
    return [lines[0], *(Text(" " * indent) + line for line in indented)]
