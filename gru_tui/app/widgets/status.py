"""The status line: the step and the settings of every shown model."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gru_tui.app.widgets.base import View
from gru_tui.render.lesson import lesson_notice
from gru_tui.render.panels import status_line


class StatusBar(View):
    """"t = 1 / 8", the GRU's conventions, dtype, weights, U scale, bias offsets, playing;
    in a lesson, first, who follows whom."""

    playing: reactive[str] = reactive("")
    lesson: reactive[str] = reactive("")

    def render(self) -> Text:
        return Text.assemble(lesson_notice(self.lesson), status_line(self.explorer, self.playing),
                             no_wrap=True, overflow="ellipsis")
