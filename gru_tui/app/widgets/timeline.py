"""The timeline: h of the selected unit across the whole sequence, with a cursor at t."""

from __future__ import annotations

from rich.console import Group

from gru_tui.app.widgets.base import View
from gru_tui.render.timeline import timeline_rows


class Timeline(View):
    def render(self) -> Group:
        return Group(*timeline_rows(self.explorer, self.content_size.width, self.dark))
