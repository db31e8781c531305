"""One model's panel: its gates, candidate and states at step t."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gru_tui.app.widgets.base import Panel
from gru_tui.render.panels import model_header, model_rows, model_vectors, panel_names_width
from gru_tui.render.theme import MODEL_TITLES, VectorInfo
from gru_tui.render.vectors import name_room


class ModelPanel(Panel):
    """The vectors of one model. One cursor: on the vector `vector`, at the selected unit
    (which `,`/`.` move too); ↑/↓ move it over the vectors, and in bars mode over every unit
    of each."""

    vector: reactive[int] = reactive(0, repaint=False)
    hint: reactive[str] = reactive("", repaint=False)  # one model at a time: what tab shows

    WATCHED = (*Panel.WATCHED, "vector", "hint")

    def __init__(self, model: str, **kwargs) -> None:
        super().__init__(id=f"panel-{model}", classes="model", **kwargs)
        self.model = model
        self.border_title = MODEL_TITLES[model]

    @property
    def vectors(self) -> tuple[VectorInfo, ...]:
        return model_vectors(self.model)

    def cursor(self) -> tuple[int, int]:
        """(vector index, unit) under the cursor."""
        return self.vector, self.explorer.unit

    def move_row(self, delta: int) -> None:
        ex = self.explorer
        count, H = len(self.vectors), ex.hidden_size
        if self.plan.mode == "bars":  # every unit of every vector
            self.vector, ex.unit = divmod((self.vector * H + ex.unit + delta) % (count * H), H)
        else:
            self.vector = (self.vector + delta) % count

    def watch_runs(self) -> None:
        if self.model == "gru" and "gru" in self.explorer.traces:  # a loaded layer: one model
            cell = self.explorer.traces["gru"].cell
            subtitle = f"reset {cell.reset} · z {cell.z_weights}"
            if self.border_subtitle != subtitle:  # setting it always redraws the border
                self.border_subtitle = subtitle

    def rows(self, width: int) -> list[Text]:
        ex, plan, colours = self.explorer, self.plan, self.colours
        if self.model not in ex.traces:  # hidden: the loaded weights have no such layer
            return []
        if plan.across:  # the border names the panel; its own names column
            names = name_room(plan.mode, width, ex.hidden_size)
        else:  # stacked: one names column with the inputs and the other models
            names = panel_names_width(ex, plan.mode, width)
        rows = []
        if not plan.across or plan.mode == "inline":
            rows.append(model_header(ex, self.model, width, plan.mode, colours,
                                     focused=self.has_focus, name_width=names,
                                     rule=not plan.across, title="" if plan.across else None,
                                     detail=not plan.across, hint=self.hint))
        rows.extend(model_rows(ex, self.model, width, plan.mode, notes=plan.notes,
                               strip_rows=plan.strip_rows, colours=colours,
                               cursor=self.cursor(), focused=self.has_focus,
                               bar_rows=plan.rows_per_bar(self.model), name_width=names,
                               role_line=plan.role_line))
        return rows
