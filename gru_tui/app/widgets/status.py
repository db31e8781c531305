"""The status line: the step and the settings of every shown model."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gru_tui.app.widgets.base import View
from gru_tui.render.panels import status_line


class StatusBar(View):
    """"t = 1 / 8", the GRU's conventions, dtype, weights, U scale, bias offsets, playing."""

    playing: reactive[str] = reactive("")

    def render(self) -> Text:
        return status_line(self.explorer, self.playing)
