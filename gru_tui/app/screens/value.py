"""Type an exact value for the selected component (`enter`)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input


class ValueScreen(ModalScreen[str | None]):
    """Type an exact value for the selected component. A value the explorer refuses leaves
    the dialog open with the notice and the text, to be corrected rather than typed again."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, where: str, current: float) -> None:
        super().__init__()
        self.where, self.current = where, current

    def compose(self) -> ComposeResult:
        field = Input(value=repr(float(self.current)), placeholder="a finite number",
                      classes="dialog", select_on_focus=True)
        field.border_title = f"Value of {self.where}"
        field.border_subtitle = "enter to set, escape to cancel"
        yield field

    def on_input_submitted(self, event: Input.Submitted) -> None:
        explorer = self.app.explorer  # type: ignore[attr-defined]
        if self.app.edit(explorer.set_value, event.value):  # type: ignore[attr-defined]
            self.dismiss(event.value)
