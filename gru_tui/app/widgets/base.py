"""What every widget of the main screen shares: the explorer it draws, the theme it draws in,
and the reactives of the main screen it can be bound to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer


class View(Widget):
    """A widget that draws from the app's Explorer, in the app theme's palette.

    Its reactives mirror the main screen's (``MainScreen.sync`` copies them from the
    explorer); a widget binds with ``data_bind`` only the ones it shows, so a change redraws
    just the widgets that show it.
    """

    t: reactive[int] = reactive(0)  # the cursor step
    unit: reactive[int] = reactive(0)  # the hidden unit the panels and timeline follow
    selection: reactive[tuple[str, int]] = reactive(("x", 0))  # what ↑/↓ edit
    runs: reactive[tuple[int, int]] = reactive((0, 0))  # changes with every run or setting
    shown: reactive[tuple[str, ...]] = reactive(())  # the models shown

    @property
    def explorer(self) -> Explorer:
        return self.app.explorer  # type: ignore[attr-defined]

    @property
    def dark(self) -> bool:
        """Whether the app's theme is dark: bars take the palette that suits it."""
        return self.app.current_theme.dark


class Panel(View, can_focus=True):
    """A bordered panel of vectors.

    `mode` is "bars" (one row per unit), "inline" (a vector's units side by side on one row)
    or "strips" (heat strips, for many units).
    """

    mode: reactive[str] = reactive("bars", layout=True)
    notes: reactive[bool] = reactive(False, layout=True)  # each vector's job, as a header
    strip_rows: reactive[int] = reactive(1, layout=True)  # rows a heat strip may wrap over

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
