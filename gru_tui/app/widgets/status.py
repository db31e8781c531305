"""The status line: the step and the settings of every shown model."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gru_tui.app.widgets.base import View
from gru_tui.render.panels import status_line


class StatusBar(View):
    """"t = 1 / 8", the GRU's conventions, dtype, weights, U scale, bias offsets, playing;
    what does not fit the width is shortened or left out, never the weights' source."""

    playing: reactive[str] = reactive("", repaint=False)
    EAGER = True  # the step counter answers a key first

    WATCHED = (*View.WATCHED, "playing")

    def rows(self, width: int) -> list[Text]:
        return [status_line(self.explorer, self.playing, width)]
