"""The cell diagram (`d`): the slides' figure of the cell, alive with the numbers of the
selected unit at step t, redrawn in place as the learner steps and edits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from gru_tui.app.keys import DIAGRAM, bindings
from gru_tui.app.messages import ExplorerChanged
from gru_tui.app.screens.worked import WorkedScreen
from gru_tui.app.themes import app_palette
from gru_tui.engine import TABLES
from gru_tui.render.diagram import cell_diagram, diagram_nodes, diagram_size
from gru_tui.render.theme import MODEL_TITLES, vector_info
from gru_tui.render.worked import worked_gate, worked_model

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer

GAP = 2  # columns between two figures side by side
CHROME = 2  # rows: the title line and the keys line
EQUATION_ROWS = 6  # the chosen node's worked step, shown below when the height allows


class DiagramScreen(Screen):
    """One model's figure (tab, 1, 2, 3 choose it), or as many shown models side by side as
    the width holds; ↑/↓ move a node cursor over the chosen figure's gates, enter opens the
    worked example at that gate. Every key the main screen has still works: an edit made here
    redraws the figure."""

    VIEW = "diagram"  # its name in a lesson's state: a teacher's students see it too
    KEY_SCREEN = DIAGRAM  # help and the command palette list this screen's keys
    BINDINGS = bindings(DIAGRAM)

    def __init__(self) -> None:
        super().__init__(id="diagram-screen")
        self.model = self._models()[0]
        self.node = 0
        self._columns: dict[str, tuple[Static, Static]] = {}  # figure, numbers, by model

    @property
    def explorer(self) -> Explorer:
        return self.app.explorer  # type: ignore[attr-defined]

    def _models(self) -> tuple[str, ...]:
        """The models there are figures of: the shown ones first, then the others run."""
        ex = self.explorer
        return (*ex.visible, *(m for m in ex.traces if m not in ex.visible))

    def compose(self) -> ComposeResult:
        yield Static(id="diagram-title")
        yield Horizontal(id="diagram-figures")  # a column per model: its figure, its numbers
        yield Static(id="diagram-keys")

    def on_mount(self) -> None:
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def on_explorer_changed(self, _: ExplorerChanged) -> None:
        if self.model not in self.explorer.traces:  # other weights were loaded
            self.model, self.node = self._models()[0], 0
        self.redraw()

    # -- what is drawn ----------------------------------------------------------------------

    def shown(self) -> tuple[str, ...]:
        """The chosen model, and beside it the next shown ones while the width holds them."""
        width = self.size.width
        models = [self.model]
        used = diagram_size(self.explorer.traces[self.model].cell)[0]
        for model in self.explorer.visible:
            if model in models:
                continue
            needed = GAP + diagram_size(self.explorer.traces[model].cell)[0]
            if used + needed > width:
                break
            models.append(model)
            used += needed
        return tuple(m for m in self._models() if m in models)

    def redraw(self) -> None:
        ex = self.explorer
        figures = self.query_one("#diagram-figures", Horizontal)
        cell = ex.traces[self.model].cell
        need_width, need_height = diagram_size(cell)
        if self.size.width < need_width or self.size.height < need_height + CHROME:
            self._show([], Text(f"Make the terminal larger: the diagram needs "
                                f"{need_width}×{need_height + CHROME}, this one is "
                                f"{self.size.width}×{self.size.height}. (d closes)",
                                style="bold", justify="center"))
            figures.remove_children()
            self._columns = {}
            return
        colours = app_palette(self.app)
        nodes = diagram_nodes(cell)
        self.node = min(self.node, len(nodes) - 1)
        unit = min(ex.unit, ex.hidden_size - 1)
        shown = self.shown()
        if tuple(self._columns) != shown:  # a column per model, made again when they change
            figures.remove_children()
            self._columns = {model: (Static(classes="figure"), Static(classes="figure-numbers"))
                             for model in shown}
            figures.mount_all(Vertical(*column, classes="figure-column")
                              for column in self._columns.values())
        for model, (figure, numbers) in self._columns.items():
            selected = nodes[self.node] if model == self.model else None
            figure.update(cell_diagram(ex.traces[model], ex.t, unit, palette=colours,
                                       selected=selected))
            room = self.size.height - CHROME - diagram_size(ex.traces[model].cell)[1] - 1
            text = self._numbers(model, selected, room)
            numbers.display = text is not None
            if text is not None:
                numbers.update(text)
        self._show(shown, None)

    def _numbers(self, model: str, selected: str | None, room: int):
        """Under a figure, as much of the worked example as the height holds: the whole
        computation (the chosen node marked), else the chosen node's step alone."""
        ex = self.explorer
        whole = worked_model(ex, model, app_palette(self.app), selected)
        width = diagram_size(ex.traces[model].cell)[0]
        lines = self.app.console.render_lines(whole, self.app.console.options.update_width(
            width), pad=False)
        if len(lines) <= room:
            return whole
        if selected is not None and room >= EQUATION_ROWS:
            return worked_gate(ex, model, selected, app_palette(self.app))
        return None

    def _show(self, shown, notice: Text | None) -> None:
        title, keys = self.query_one("#diagram-title", Static), self.query_one("#diagram-keys",
                                                                              Static)
        if notice is not None:
            title.update(notice)
            keys.update("")
            return
        ex = self.explorer
        letter = diagram_nodes(ex.traces[self.model].cell)[self.node]
        gate = vector_info(self.model, TABLES[self.model].gate(letter).name)
        title.update(Text.assemble(
            (" Cell diagram ", "bold reverse"),
            f"  t = {ex.t + 1} / {ex.steps} · unit {ex.unit + 1} of {ex.hidden_size} · ",
            (f"{MODEL_TITLES[self.model]} node: {gate.symbol} {gate.name}", "bold")))
        others = " · tab model" if len(self._models()) > len(shown) else ""
        keys.update(Text(f" d close · ←/→ step · ,/. unit · ↑/↓ node · enter worked{others}",
                         no_wrap=True, overflow="ellipsis"))

    # -- actions ----------------------------------------------------------------------------

    @property
    def following(self) -> bool:
        """Whether the teacher opened this view, on an app that follows the teacher: then
        the teacher closes it (and q quits, as everywhere while following)."""
        return getattr(self.app, "following", False)

    def check_action(self, action: str, parameters: tuple) -> bool:
        return not (action == "close" and self.following)

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_model(self, model: str) -> None:
        if model not in self.explorer.traces:
            self.notify(f"the loaded weights hold no {model}", severity="warning")
            return
        self.model, self.node = model, 0
        self.redraw()

    def action_next_model(self) -> None:
        models = self._models()
        self.action_model(models[(models.index(self.model) + 1) % len(models)])

    def action_node(self, delta: int) -> None:
        nodes = diagram_nodes(self.explorer.traces[self.model].cell)
        self.node = (self.node + delta) % len(nodes)
        self.redraw()

    def action_worked(self) -> None:
        letter = diagram_nodes(self.explorer.traces[self.model].cell)[self.node]
        self.app.push_screen(WorkedScreen(models=(self.model,), gate=letter))
