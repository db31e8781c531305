"""The inputs panel: x_t at the cursor, h_0 and C_0, the vectors a learner edits."""

from __future__ import annotations

from rich.console import Group

from gru_tui.app.widgets.base import Panel
from gru_tui.render.panels import input_rows


class InputPanel(Panel):
    BORDER_TITLE = "Inputs"

    def watch_shown(self) -> None:
        self.refresh(layout=True)  # C_0 comes and goes with the LSTM

    def render(self) -> Group:
        return Group(*input_rows(self.explorer, self.content_size.width, self.mode,
                                 strip_rows=self.strip_rows, dark=self.dark,
                                 focused=self.has_focus))
