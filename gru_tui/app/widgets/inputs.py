"""The inputs panel: x_t at the cursor, h_0 and C_0, the vectors a learner edits."""

from __future__ import annotations

from rich.text import Text

from gru_tui.app.widgets.base import Panel
from gru_tui.render.panels import (
    header_row,
    input_rows,
    panel_names_width,
    scale_legend,
    shown_limits,
)


class InputPanel(Panel):
    """Stacked, a header row says "Inputs" and the range of every kind of bar; beside the
    models (wide), the border says "Inputs" and the ranges come as a legend under the
    vectors."""

    BORDER_TITLE = "Inputs"

    def rows(self, width: int) -> list[Text]:
        ex, plan, colours = self.explorer, self.plan, self.colours
        legend = scale_legend(shown_limits(ex), ex.visible)
        # stacked, one names column with the model panels below, at their width
        names = panel_names_width(ex, plan.inputs_mode, width if plan.wide else
                                  self.app.size.width)
        rows = [] if plan.wide else [header_row("Inputs", width, colours,
                                                focused=self.has_focus, detail=legend)]
        rows.extend(input_rows(ex, width, plan.inputs_mode, strip_rows=plan.strip_rows,
                               colours=colours, focused=self.has_focus,
                               bar_rows=plan.rows_per_bar("inputs"), name_width=names))
        if plan.wide:
            head, _, kinds = legend.partition(": ")
            rows.append(Text(""))
            rows.append(Text(" " + head, style="bold"))
            rows.extend(Text(" " + kind) for kind in kinds.split(" · "))
        return rows
