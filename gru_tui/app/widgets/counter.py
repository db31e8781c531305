"""The large step counter of projector mode, beside the inputs."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size

from gru_tui.app.widgets.base import View
from gru_tui.render.timeline import counter_rows, counter_width


class StepCounter(View):
    """"t=3/8" in glyphs three rows tall, for the back row of a classroom."""

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return counter_width(self.explorer.steps)

    def rows(self, width: int) -> list[Text]:
        ex = self.explorer
        return counter_rows(ex.t + 1, ex.steps)
