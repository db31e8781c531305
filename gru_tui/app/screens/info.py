"""A scrollable page over the app, the base of the help, parameters and worked example."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer


class InfoScreen(ModalScreen[None]):
    """A page with a title; escape, q or its own key closes it."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close"),
                Binding("M", "app.mark", "Drop a marker", show=False)]
    TITLE = ""
    VIEW = ""  # its name in a lesson's state: a teacher's students see it too

    @property
    def following(self) -> bool:
        """Whether this is a view the teacher opened, on an app that follows the teacher."""
        return bool(self.VIEW) and getattr(self.app, "following", False)

    @property
    def is_modal(self) -> bool:
        """While following, the teacher opens and closes the view and moves in it: the app's
        keys work on it as on the main screen (f, q, ?, a recording's keys)."""
        return not self.following

    def check_action(self, action: str, parameters: tuple) -> bool:
        return not self.following

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as scroll:
            scroll.border_title = self.TITLE
            scroll.border_subtitle = "escape to close"
            yield Static(self.body(), id="info-body")

    @property
    def explorer(self) -> Explorer:
        return self.app.explorer  # type: ignore[attr-defined]

    def body(self):
        raise NotImplementedError

    def refresh_body(self) -> None:
        self.query_one("#info-body", Static).update(self.body())
