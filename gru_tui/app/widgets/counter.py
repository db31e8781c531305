"""The large step counter of projector mode, beside the inputs."""

from __future__ import annotations

from rich.text import Text

from gru_tui.app.widgets.base import View
from gru_tui.render.timeline import counter_rows


class StepCounter(View):
    """"t=3/8" in glyphs three rows tall, for the back row of a classroom."""

    def rows(self, width: int) -> list[Text]:
        ex = self.explorer
        return counter_rows(ex.t + 1, ex.steps)
