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

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]
    TITLE = ""

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
