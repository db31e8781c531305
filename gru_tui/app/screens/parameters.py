"""Parameter counts for the current D and H (`n`)."""

from __future__ import annotations

from rich.console import Group
from textual.binding import Binding

from gru_tui.app.screens.info import InfoScreen
from gru_tui.engine import parameter_table
from gru_tui.render.parameters import parameter_report


class ParametersScreen(InfoScreen):
    BINDINGS = [Binding("escape,q,n", "dismiss", "Close")]
    TITLE = "Parameters"
    VIEW = "parameters"

    def body(self) -> Group:
        ex = self.explorer
        D, H = ex.input_size, ex.hidden_size
        return parameter_report(D, H, parameter_table(D, H))
