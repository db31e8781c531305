"""Per-gate bias offsets and the recurrent weight scale (`o`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from gru_tui.engine import TABLES
from gru_tui.render.theme import MODEL_TITLES, vector_info

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer


class OffsetsScreen(ModalScreen[None]):
    """Per-gate bias offsets and the recurrent weight scale."""

    BINDINGS = [
        Binding("escape,q,o", "dismiss", "Close"),
        Binding("plus,equals_sign,right", "change(0.5)", "+0.5"),
        Binding("minus,left", "change(-0.5)", "-0.5"),
        Binding("0", "clear", "Reset"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Bias offsets and U scale"
            dialog.border_subtitle = "+/- or ←/→ change, 0 resets, escape closes"
            yield OptionList(*self._options(), id="offsets")
            yield Static("Offsets are added to a gate's input bias b_i: an LSTM forget bias of "
                         "+1 keeps more of the cell state. U scale multiplies every recurrent "
                         "matrix: below 1 memories fade faster, above 1 they can explode.",
                         id="offsets-note")

    @property
    def explorer(self) -> Explorer:
        return self.app.explorer  # type: ignore[attr-defined]

    def _entries(self) -> list[tuple[str, str | None]]:
        entries: list[tuple[str, str | None]] = [("scale", None)]
        for model in self.explorer.visible:
            for gate in TABLES[model].taught:  # the LSTM as the slides: f, i, g, o
                entries.append((model, gate))
        return entries

    def _options(self) -> list[Option]:
        ex = self.explorer
        options = []
        for model, gate in self._entries():
            if gate is None:
                text = Text.assemble(("U scale".ljust(28), "bold"),
                                     f"×{ex.scenario.recurrent_scale:g}")
            else:
                info = vector_info(model, TABLES[model].gate(gate).name)
                label = f"{MODEL_TITLES[model]} {info.name}"
                text = Text.assemble((label.ljust(28), "bold"),
                                     f"{ex.bias_offset(model, gate):+g}")
            options.append(Option(text, id=f"{model}.{gate}"))
        return options

    def _refresh(self) -> None:
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(self._options())
        options.highlighted = highlighted

    def _selected(self) -> tuple[str, str | None]:
        index = self.query_one(OptionList).highlighted or 0
        return self._entries()[index]

    def action_change(self, delta: float) -> None:
        model, gate = self._selected()
        ex = self.explorer
        if gate is None:
            self._edit(ex.scale_recurrent, 1.25 if delta > 0 else 0.8)
        else:
            self._edit(ex.set_bias_offset, model, gate, ex.bias_offset(model, gate) + delta)

    def action_clear(self) -> None:
        model, gate = self._selected()
        ex = self.explorer
        if gate is None:
            self._edit(ex.set_recurrent_scale, 1.0)
        else:
            self._edit(ex.set_bias_offset, model, gate, 0.0)

    def _edit(self, change, *args) -> None:
        """Through the app's one path for edits; the list then shows the new values."""
        if self.app.edit(change, *args):  # type: ignore[attr-defined]
            self._refresh()
