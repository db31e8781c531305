"""Where the main screen's panels go, as a pure function of the terminal's size and what there
is to show: side by side when wide, stacked when narrow; one row per unit when there is room,
a vector's units side by side when less, heat strips when even that does not fit.

No Textual here: the planner is tested with plain numbers, and MainScreen applies its plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from gru_tui.render.panels import model_vectors
from gru_tui.render.vectors import rows_needed

MIN_WIDTH, MIN_HEIGHT = 60, 16
WIDE = 120  # columns from which the models may stand side by side
INPUTS_WIDTH = 36  # the inputs panel beside side-by-side models, with its border
MAX_BAR_UNITS = 16  # more hidden units than this are always drawn as heat strips


@dataclass(frozen=True)
class Content:
    """What the main screen has to show."""

    shown: tuple[str, ...]  # the visible models, in panel order
    hidden: int  # H
    inputs: int  # D
    models_run: int = 3  # the models the memory panel has a row for
    strips: bool = False  # heat strips asked for (v)
    memory: bool = False  # the memory panel is open (m)


@dataclass(frozen=True)
class Plan:
    small: bool  # below MIN_WIDTH × MIN_HEIGHT: only the "make it larger" notice
    wide: bool = False  # inputs on the left, the models side by side
    mode: str = "bars"  # "bars", "inline" or "strips"
    notes: bool = False  # every vector's job written above its bars
    strip_rows: int = 1  # rows a heat strip may wrap over


def plan_layout(width: int, height: int, content: Content) -> Plan:
    """The plan for a terminal of width × height."""
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        return Plan(small=True)
    shown = content.shown
    timeline = len(shown) + 1
    memory = content.models_run + 4 if content.memory else 0  # a row a model, 3 of text, border
    body = height - 2 - timeline - memory  # status, footer
    vectors = {m: len(model_vectors(m)) for m in shown}
    H, D = content.hidden, content.inputs
    inputs = 3 if "lstm" in shown else 2

    def fits(mode: str, wide: bool, notes: bool = False) -> bool:
        if wide:  # full borders, and the role line at the bottom unless notes
            chrome = 2 if notes or mode != "bars" else 4
            return max(rows_needed(mode, H, vectors[m], notes) + chrome for m in shown) <= body
        # stacked: top borders only, the inputs first, one role line in the focused panel
        rows = sum(rows_needed(mode, H, vectors[m], notes) + 1 for m in shown)
        rows += rows_needed(mode, max(D, H), inputs) + 1 + (0 if notes else 1)
        return rows <= body

    def panel_width(wide: bool) -> int:
        return (width - INPUTS_WIDTH) // len(shown) - 4 if wide else width - 2

    def mode_for(wide: bool) -> str:
        if content.strips or H > MAX_BAR_UNITS:
            return "strips"
        if fits("bars", wide):
            return "bars"
        if panel_width(wide) >= max(H, D) * 13 + 6:
            return "inline"
        return "strips"

    # side by side from WIDE columns, unless only stacking fits every unit's bar and value
    stacked = mode_for(False)
    wide = width >= WIDE and not (mode_for(True) == "strips" != stacked and fits(stacked, False))
    notes = not content.strips and H <= MAX_BAR_UNITS and fits("bars", wide, notes=True)
    # heat strips wrap over the rows left free, so a wide layer shows all its units
    if wide:
        free = body - 3 - max(vectors.values())
        per_vector = free // max(vectors.values())
    else:
        count = sum(vectors.values()) + inputs
        per_vector = (body - len(shown) - 2 - count) // count
    per_row = max(panel_width(wide) - 22, 1)
    strip_rows = max(1, min(1 + per_vector, -(-max(H, D) // per_row)))
    return Plan(small=False, wide=wide, mode=mode_for(wide), notes=notes, strip_rows=strip_rows)
