"""The help: every key of the screen it opens over, by group, from the one key registry, then
what every vector does."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.binding import Binding

from gru_tui.app.keys import MAIN, keys_working_on
from gru_tui.app.screens.info import InfoScreen
from gru_tui.render.theme import MODEL_TITLES, VECTORS, role_text


class HelpScreen(InfoScreen):
    """`screen` names the screen under it in the key registry: the main one, the diagram
    (its keys, then the main screen's it leaves alone), or the lab."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]
    TITLE = "Help"

    def __init__(self, screen: str = MAIN) -> None:
        super().__init__()
        self.keys = keys_working_on(screen)

    def body(self) -> Group:
        parts: list = []
        for group in dict.fromkeys(key.group for key in self.keys):  # the screen's own first
            table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), title=group,
                          title_justify="left", title_style="bold")
            table.add_column(width=10, style="bold")
            table.add_column()
            for key in self.keys:
                if key.group == group:
                    table.add_row(key.shown or key.keys, key.description)
            parts.extend([table, Text("")])
        roles = Table(box=None, show_header=False, padding=(0, 2, 0, 0), title="What the "
                      "vectors do", title_justify="left", title_style="bold")
        z = self.explorer.scenario.z_weights
        for model, infos in VECTORS.items():
            for info in infos:
                if info.key in ("x", "h_prev") and model != "gru":
                    continue
                roles.add_row(MODEL_TITLES[model], Text(info.symbol, style="bold"),
                              role_text(model, info.key, z))
        parts.append(roles)
        return Group(*parts)
