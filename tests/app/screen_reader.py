"""Reading what the app shows: Textual's SVG export put back on a grid of terminal cells, and
a record of the notices it gives."""

from __future__ import annotations

import html
import re

from rich.cells import cell_len
from textual.app import App
from textual.widget import Widget

CHAR_WIDTH = 12.2  # rich's export_svg: 0.61 × the 20 px font
SPAN = re.compile(r'<text [^>]*?x="([\d.]+)"[^>]*?'
                  r'clip-path="url\(#terminal-\d+-line-(\d+)\)">([^<]*)</text>')


def svg_lines(svg: str, width: int, height: int = 0) -> list[str]:
    """The text of an SVG screenshot (rich's export, or one the app saved), line by line."""
    return ["".join(row).rstrip() for row in _grid(svg, width, height)]


def screen_lines(app: App, widget: Widget | None = None,
                 content: bool = False) -> list[str]:
    """The terminal's text, line by line; only `widget`'s cells when given (its content
    region, inside border and padding, when `content`)."""
    width, height = app.size
    grid = _grid(app.export_screenshot(), width, height)
    if widget is None:
        return ["".join(row).rstrip() for row in grid]
    region = widget.content_region if content else widget.region
    return ["".join(grid[y][region.x:region.right]).rstrip()
            for y in range(region.y, min(region.bottom, len(grid)))]


def _grid(svg: str, width: int, height: int) -> list[list[str]]:
    """The SVG's text spans put back on a grid of terminal cells."""
    spans = SPAN.findall(svg)
    # a screen drawn just before a resize may still be taller than the new size says
    height = max([height, *(int(line) + 1 for _, line, _ in spans)])
    grid = [[" "] * width for _ in range(height)]
    for x, line, text in spans:
        row, col = grid[int(line)], round(float(x) / CHAR_WIDTH)
        for char in html.unescape(text).replace("\xa0", " "):
            cells = cell_len(char)
            if cells == 0:  # a combining mark belongs to the cell before it (C̃)
                if col:
                    row[col - 1] += char
                continue
            if col < width:
                row[col] = char
            for k in range(1, cells):
                if col + k < width:
                    row[col + k] = ""
            col += cells
    return grid


def screen_text(app: App, widget: Widget | None = None, content: bool = False) -> str:
    return "\n".join(screen_lines(app, widget, content))


def record_notices(app: App) -> App:
    """The app, with every notice it gives recorded in ``app.notices`` as (message,
    severity): a notice on screen expires after a few seconds (sooner than a slow machine
    gets through a test), the record does not.

    (The recorder wraps the instance's notify: a subclass declared in a test would look for
    the app's relative CSS_PATH next to the test.)
    """
    app.notices = []
    notify = app.notify

    def recording(message, *, title="", severity="information", **rest):
        app.notices.append((str(message), severity))
        return notify(message, title=title, severity=severity, **rest)

    app.notify = recording
    return app
