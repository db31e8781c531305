"""What every widget of the main screen shares: the explorer it draws, the palette it draws in,
the reactives of the main screen it can be bound to, and a renderer that sends only what
changed.

A widget's rows come from gru_tui.render as rich Text; :class:`View` keeps them as lines of
segments (few: spaces join a neighbour's style run, render.lines.compact) and, after a change,
repaints only the lines that differ, and of each only up to its last changed segment
(Textual's Line API). Stepping rewrites the values, not the whole screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from gru_tui.app.layout import Plan
from gru_tui.app.themes import app_palette
from gru_tui.render.lines import text_lines

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer


class View(Widget):
    """A widget that draws rows of Text from the app's Explorer, in the app theme's palette.

    Its reactives mirror the main screen's (``MainScreen.sync`` copies them from the
    explorer); a widget binds with ``data_bind`` only the ones it shows, so a change redraws
    just the widgets that show it, and of those just the lines that changed.
    """

    t: reactive[int] = reactive(0, repaint=False)  # the cursor step
    unit: reactive[int] = reactive(0, repaint=False)  # the unit the panels and timeline follow
    selection: reactive[tuple[str, int]] = reactive(("x", 0), repaint=False)  # what ↑/↓ edit
    runs: reactive[tuple[int, int]] = reactive((0, 0), repaint=False)  # every run or setting
    shown: reactive[tuple[str, ...]] = reactive((), repaint=False)  # the models shown
    plan: reactive[Plan] = reactive(Plan(small=False), repaint=False)  # the layout's plan

    WATCHED = ("t", "unit", "selection", "runs", "shown", "plan")
    # Repainted in the frame that answers a key (the step counter, the timeline's cursor);
    # the others in the frame after it, so that the answer starts as soon as possible.
    EAGER = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lines: list[list[Segment]] = []
        self._strips: list[Strip] = []
        self._drawn_width = -1  # the width the lines were made for
        self._drawn_style: Style | None = None  # … and the widget's colours
        self._pending = False

    def on_mount(self) -> None:
        for name in self.WATCHED:
            self.watch(self, name, self.redraw, init=False)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.redraw())

    @property
    def explorer(self) -> Explorer:
        return self.app.explorer  # type: ignore[attr-defined]

    @property
    def dark(self) -> bool:
        """Whether the app's theme is dark: bars take the palette that suits it."""
        return self.app.current_theme.dark

    @property
    def colours(self) -> dict[str, str]:
        """The palette of the app's theme: dark, light or the projector's."""
        return app_palette(self.app)

    def rows(self, width: int) -> list[Text]:
        """What the widget shows at `width` cells, one Text per row (a row may wrap)."""
        raise NotImplementedError

    # -- the Line API --------------------------------------------------------------------

    def _make_lines(self, width: int) -> list[list[Segment]]:
        return text_lines(self.rows(width), width, self.app.console)

    def _ensure_lines(self, width: int) -> None:
        """Lines for `width`, made now if the last ones were for another width (a resize)
        or were given up (hidden, or new colours: see _repaint_changes)."""
        if width != self._drawn_width:
            self._set_lines(self._make_lines(width), width, self.rich_style)

    def _set_lines(self, lines: list[list[Segment]], width: int, style: Style,
                   keep: frozenset[int] = frozenset()) -> None:
        """Keep the lines, and as Strips in the widget's colours (its text and background);
        the Strips of the lines in `keep` are the same as before."""
        old = self._strips
        self._strips = [old[y] if y in keep else Strip(line, width).apply_style(style)
                        for y, line in enumerate(lines)]
        self._lines, self._drawn_width, self._drawn_style = lines, width, style

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._ensure_lines(width)
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        self._ensure_lines(self.size.width)
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width)

    def redraw(self, *_) -> None:
        """Something the widget shows changed: make its lines again once this message is
        handled (EAGER), or once the screen has shown what the others repainted, and
        repaint those that differ."""
        if not self._pending:
            self._pending = True
            if self.EAGER:
                self.call_next(self._repaint_changes)
            else:
                self.call_after_refresh(self._repaint_changes)

    def _repaint_changes(self) -> None:
        self._pending = False
        width = self.size.width
        if not self.is_mounted or width <= 0 or not self.display:
            self._drawn_width = -1  # hidden: made when Textual asks, once it is shown
            return
        style = self.rich_style
        if self._drawn_width != width or self._drawn_style != style:
            self._drawn_width = -1  # made again when Textual asks, at its width and colours
            self.refresh(layout=True)
            return
        old, new = self._lines, self._make_lines(width)
        if len(old) != len(new):
            self._set_lines(new, width, style)
            self.refresh(layout=True)
            return
        same = frozenset(y for y, (a, b) in enumerate(zip(old, new, strict=True)) if a == b)
        self._set_lines(new, width, style, keep=same)
        changed = [Region(0, y, width - _common_tail(old[y], new[y]), 1)
                   for y in range(len(new)) if y not in same]
        if changed:
            self.refresh(*changed)


def _common_tail(old: list[Segment], new: list[Segment]) -> int:
    """Cells of the whole segments at the end of two lines that are the same: a repaint can
    stop before them (a changed segment is repainted whole: " t = 2 / 8 ", not " t = 2")."""
    cells = 0
    for a, b in zip(reversed(old), reversed(new), strict=False):
        if a != b:
            break
        cells += a.cell_length
    return cells


class Panel(View, can_focus=True):
    """A panel of vectors, drawn as the plan says: `plan.mode` "bars" (one row per unit),
    "inline" (a vector's units side by side on one row) or "strips" (heat strips, for many
    units); it looks focused when it is."""

    def on_focus(self) -> None:
        self.redraw()

    def on_blur(self) -> None:
        self.redraw()
