"""Choose a preset sequence (`p`)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from gru_tui.core.presets import PRESETS


class PresetScreen(ModalScreen[str | None]):
    """Pick a preset sequence."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        options = OptionList(
            *(Option(Text.assemble((f"{p.name:<10}", "bold"), f"{p.steps:>3} steps  ",
                                   p.summary), id=p.name) for p in PRESETS.values()),
            classes="dialog",
        )
        options.border_title = "Presets"
        options.border_subtitle = "enter to load, escape to cancel"
        current = self.app.explorer.preset  # type: ignore[attr-defined]
        if current in PRESETS:
            options.highlighted = list(PRESETS).index(current)
        yield options

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
