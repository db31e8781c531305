"""Where the main screen's panels go, as a pure function of the terminal's size and what there
is to show.

The planner tries the arrangements the size allows (the inputs on the left and the models side
by side; the inputs on top and the models side by side; everything stacked; in projector mode
one model at a time) and in each the looks from the richest down: one row per unit with every
vector's job written above it, without the jobs, the units of a vector side by side, heat
strips. It takes the arrangement with the richest look that fits, and then lets every panel
grow into the rows left: bars two rows tall, the gates of the selected unit along the
timeline. Heights come from the renderer itself (render.panels), so the plan and the screen
agree.

No Textual here: the planner is tested with plain numbers, and MainScreen applies its plan.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from gru_tui.render.panels import LEGEND_ROWS, inputs_height, model_height
from gru_tui.render.timeline import COUNTER_ROWS, TIMELINE_GATES, counter_width
from gru_tui.render.vectors import mode_fits

MIN_WIDTH, MIN_HEIGHT = 60, 16
WIDE = 120  # columns from which the models may stand side by side
PROJECTOR_ACROSS = 110  # … in projector mode, with their bars two rows tall
MAX_BAR_UNITS = 16  # more hidden units than this are always drawn as heat strips
MODES = ("bars", "inline", "strips")


@dataclass(frozen=True)
class Content:
    """What the main screen has to show."""

    shown: tuple[str, ...]  # the visible models, in panel order
    hidden: int  # H
    inputs: int  # D
    models_run: int = 3  # the models the memory panel has a row for
    strips: bool = False  # heat strips asked for (v)
    memory: bool = False  # the memory panel is open (m)
    projector: bool = False  # for a projected screen: bars two rows tall, a large counter
    steps: int = 8  # T, for the large counter's width


@dataclass(frozen=True)
class Plan:
    small: bool  # below MIN_WIDTH × MIN_HEIGHT: only the "make it larger" notice
    wide: bool = False  # inputs on the left, the models side by side
    across: bool = False  # the models side by side (under the inputs unless wide)
    single: bool = False  # one model panel at a time (tab shows the next)
    mode: str = "bars"  # the model panels': "bars", "inline" or "strips"
    notes: bool = False  # every vector's job written above its bars
    role_line: bool = True  # the job of the vector under the cursor, at a panel's bottom
    strip_rows: int = 1  # rows a heat strip may wrap over
    bar_rows: tuple[tuple[str, int], ...] = ()  # rows per bar, by model ("inputs" too)
    inputs_mode: str = "bars"  # the inputs panel's
    inputs_width: int = 0  # with `wide`: the inputs column's width, borders included
    timeline_gates: bool = False  # the timeline shows the selected unit's gates as well
    timeline_rows: int = 1  # rows each of the timeline's series takes (2: finer heights)
    counter: bool = False  # the large step counter beside the inputs (projector)

    def rows_per_bar(self, panel: str) -> int:
        return dict(self.bar_rows).get(panel, 1)


def plan_layout(width: int, height: int, content: Content) -> Plan:
    """The plan for a terminal of width × height."""
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        return Plan(small=True)
    planner = _Planner(width, height, content)
    return planner.best()


class _Planner:
    """The heights of every arrangement and look, for one size and content."""

    def __init__(self, width: int, height: int, content: Content) -> None:
        self.width, self.height, self.content = width, height, content
        self.lstm = "lstm" in content.shown
        self.cached: dict[tuple, int] = {}

    # -- what fits ------------------------------------------------------------------------

    def body(self, plan: Plan) -> int:
        """Rows for the panels: the terminal less the status line, footer, memory panel
        and timeline."""
        c = self.content
        series = len(c.shown) + (self.gate_rows() if plan.timeline_gates else 0)
        timeline = series * plan.timeline_rows + 1  # and the axis
        memory = c.models_run + 5 if c.memory else 0  # a row a model, 4 of text, the rule
        return self.height - 2 - timeline - memory

    def gate_rows(self) -> int:
        return sum(len(TIMELINE_GATES.get(m, ())) for m in self.content.shown)

    def panel_widths(self, plan: Plan) -> tuple[int, int]:
        """(inputs panel, each model panel) content widths."""
        models = 1 if plan.single else len(self.content.shown)
        if plan.wide:
            return plan.inputs_width - 2, (self.width - plan.inputs_width) // models - 2
        inputs = self.width - (counter_width(self.content.steps) if plan.counter else 0)
        return inputs, (self.width // models - 2 if plan.across else self.width)

    def inputs_rows(self, plan: Plan) -> int:
        inputs_width, _ = self.panel_widths(plan)
        rows = self._cached("inputs", inputs_width, plan.inputs_mode,
                            plan.rows_per_bar("inputs"), plan.strip_rows)
        if plan.wide:
            return rows + 2 + LEGEND_ROWS  # the borders, and the scale legend
        return max(rows + 1, COUNTER_ROWS if plan.counter else 0)  # the header row

    def model_rows(self, plan: Plan, model: str, role_line: bool | None = None) -> int:
        _, model_width = self.panel_widths(plan)
        role_line = plan.role_line if role_line is None else role_line
        rows = self._cached(model, model_width, plan.mode, plan.rows_per_bar(model),
                            plan.strip_rows, plan.notes, role_line)
        chrome = 2 + (plan.mode == "inline") if plan.across else 1  # borders, or the header
        return rows + chrome

    def _cached(self, panel: str, width: int, mode: str, bar_rows: int, strip_rows: int,
                notes: bool = False, role_line: bool = False) -> int:
        key = (panel, width, mode, bar_rows, strip_rows, notes, role_line)
        if key not in self.cached:
            c = self.content
            if panel == "inputs":
                self.cached[key] = inputs_height(c.inputs, c.hidden, self.lstm, width, mode,
                                                 bar_rows=bar_rows, strip_rows=strip_rows)
            else:
                self.cached[key] = model_height(panel, c.hidden, width, mode, notes=notes,
                                                bar_rows=bar_rows, strip_rows=strip_rows,
                                                role_line=role_line)
        return self.cached[key]

    def rows_used(self, plan: Plan) -> int:
        """The panels' rows: side by side the tallest counts, stacked their sum."""
        shown = self.content.shown
        if plan.wide or plan.across or plan.single:
            tallest = max(self.model_rows(plan, m) for m in shown)
            return max(self.inputs_rows(plan), tallest) if plan.wide \
                else self.inputs_rows(plan) + tallest
        # stacked: only the focused panel has a role line, unless every panel has bars
        each = plan.role_line and plan.mode == "bars"
        rows = sum(self.model_rows(plan, m, role_line=each) for m in shown)
        return self.inputs_rows(plan) + rows + (plan.role_line and not each)

    def fits(self, plan: Plan) -> bool:
        c = self.content
        inputs_width, model_width = self.panel_widths(plan)
        return (mode_fits(plan.mode, model_width, c.hidden)
                and mode_fits(plan.inputs_mode, inputs_width, max(c.inputs, c.hidden))
                and self.rows_used(plan) <= self.body(plan))

    # -- choosing -------------------------------------------------------------------------

    def arrangements(self) -> list[Plan]:
        c, width = self.content, self.width
        several = len(c.shown) > 1
        if c.projector:
            base = Plan(small=False, counter=True)
            options = []
            if several and width >= PROJECTOR_ACROSS:
                options.append(replace(base, across=True))
            options.append(base)
            if several:
                options.append(replace(base, single=True))
            return options
        options = []
        if width >= WIDE:
            inputs_width = min(max(width // 4, 38), 56)
            options.append(Plan(small=False, wide=True, across=True, inputs_width=inputs_width))
        options.append(Plan(small=False))
        return options

    def looks(self, arrangement: Plan) -> list[Plan]:
        """The looks to try in an arrangement, the richest first."""
        c = self.content
        modes = ("strips",) if c.strips or c.hidden > MAX_BAR_UNITS else MODES
        bar_rows = (2, 1) if c.projector else (1,)  # a projector's tall bars come first
        looks = []
        for rows in bar_rows:
            for mode in modes:
                options = ((True, False), (False, True), (False, False)) if mode == "bars" \
                    else ((False, True), (False, False))
                for (notes, role_line), inputs in itertools.product(
                        options, self.inputs_modes(arrangement, mode)):
                    looks.append(replace(
                        arrangement, mode=mode, notes=notes, role_line=role_line,
                        inputs_mode=inputs,
                        bar_rows=tuple((p, rows) for p in ("inputs", *c.shown))))
        return looks

    def inputs_modes(self, arrangement: Plan, mode: str) -> tuple[str, ...]:
        """The inputs panel's looks: the models' when stacked; beside side-by-side models
        the inputs column has the height for a row per unit, or else for less."""
        c = self.content
        if mode == "strips" or max(c.inputs, c.hidden) > MAX_BAR_UNITS:
            return ("strips",)
        return MODES if arrangement.wide else (mode,)

    def best(self) -> Plan:
        chosen: Plan | None = None
        rank: tuple = (len(MODES), 0)
        for arrangement in self.arrangements():
            plan = next((look for look in self.looks(arrangement) if self.fits(look)), None)
            if plan is not None and self.rank(plan) < rank:
                chosen, rank = plan, self.rank(plan)
        if chosen is None:  # nothing fits: the last resort scrolls
            chosen = self.looks(self.arrangements()[-1])[-1]
        chosen = self.strip_rows(chosen)
        return self.grow(chosen)

    def rank(self, plan: Plan) -> tuple:
        """Lower is richer: the look's mode, and in projector mode first its tall bars."""
        mode = MODES.index(plan.mode)
        if self.content.projector:
            return (plan.rows_per_bar(self.content.shown[0]) == 1, mode)
        return (mode, 0)

    def strip_rows(self, plan: Plan) -> Plan:
        """Heat strips wrap over the rows left free, so a wide layer shows all its units."""
        if plan.mode != "strips":
            return plan
        rows = 1
        while rows < 8 and self.fits(replace(plan, strip_rows=rows + 1)):
            rows += 1
        return replace(plan, strip_rows=rows)

    def grow(self, plan: Plan) -> Plan:
        """Into the rows left: the timeline's gate rows, then bars two rows tall: panel by
        panel where the models stand side by side (each is as tall as it can be), all the
        models at once where they are stacked (so they look alike), and the inputs; last the
        timeline's series two rows tall."""
        if plan.mode != "strips" and self.fits(replace(plan, timeline_gates=True)):
            plan = replace(plan, timeline_gates=True)
        if plan.mode == "strips":
            return plan
        shown = self.content.shown
        groups = [("inputs", *shown)] if not plan.across else []
        groups += [("inputs",), *((m,) for m in shown)] if plan.across else [shown, ("inputs",)]
        for group in groups:
            taller = replace(plan, bar_rows=tuple(
                (p, 2 if p in group else rows) for p, rows in plan.bar_rows))
            if taller != plan and self.fits(taller):
                plan = taller
        if self.fits(replace(plan, timeline_rows=2)):
            plan = replace(plan, timeline_rows=2)
        return plan
