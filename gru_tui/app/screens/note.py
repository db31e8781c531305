"""The note of a marker the teacher drops (`M`)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input

from gru_tui.core.lesson import MAX_NOTE


class NoteScreen(ModalScreen[str | None]):
    """Type a short note; enter drops the marker, escape drops none."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        field = Input(placeholder="what to look at here", max_length=MAX_NOTE,
                      classes="dialog")
        field.border_title = "Marker note"
        field.border_subtitle = "enter to drop the marker, escape to cancel"
        yield field

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
