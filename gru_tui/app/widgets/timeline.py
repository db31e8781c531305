"""The timeline: h of the selected unit across the whole sequence (and its gates, when the
plan has the rows), with a cursor at t."""

from __future__ import annotations

from rich.text import Text

from gru_tui.app.widgets.base import View
from gru_tui.render.timeline import timeline_rows


class Timeline(View):
    EAGER = True  # its cursor moves with the step counter

    def rows(self, width: int) -> list[Text]:
        return timeline_rows(self.explorer, width, gates=self.plan.timeline_gates,
                             colours=self.colours, rows=self.plan.timeline_rows)
