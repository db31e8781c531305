"""The status line: the step and the settings of every shown model."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gru_tui.app.widgets.base import View
from gru_tui.render.lesson import lesson_notice
from gru_tui.render.panels import status_line

STATUS_ROOM = 30  # cells a lesson's notice leaves the step counter and the weights' source


class StatusBar(View):
    """"t = 1 / 8", the GRU's conventions, dtype, weights, U scale, bias offsets, playing;
    in a lesson, first, who follows whom; what does not fit the width is shortened or left
    out, never the weights' source nor the lesson's part."""

    playing: reactive[str] = reactive("", repaint=False)
    lesson: reactive[str] = reactive("", repaint=False)
    EAGER = True  # the step counter answers a key first

    WATCHED = (*View.WATCHED, "playing", "lesson")

    def rows(self, width: int) -> list[Text]:
        notice = lesson_notice(self.lesson)
        if notice.cell_len > width - STATUS_ROOM:  # the step counter is never cut
            notice.truncate(max(width - STATUS_ROOM, 0), overflow="ellipsis")
            if notice.cell_len:
                notice.append(" ")
        line = status_line(self.explorer, self.playing, max(width - notice.cell_len, 1))
        return [Text.assemble(notice, line, no_wrap=True, overflow="ellipsis")]
