"""What the screen says and how it uses its space, at every size: names in words, one scale
per kind of quantity, panels and bars that grow, dialogs and notes that fit, projector mode.

Screens are read as in test_app.py (Textual's SVG export on a grid of cells); bar lengths
from the rows the widgets paint (a reversed cell's glyph shows its complement).
"""

from __future__ import annotations

import re

import pytest
from rich.style import Style
from rich.text import Text
from screen_reader import screen_lines, screen_text
from textual.widget import Widget

from gru_tui.app.app import GruTuiApp
from gru_tui.app.screens import OffsetsScreen
from gru_tui.app.themes import PROJECTOR_THEME
from gru_tui.app.widgets import InputPanel, MemoryPanel, ModelPanel, StepCounter, View
from gru_tui.core.examples import example_layers
from gru_tui.core.scenario import Scenario
from gru_tui.render.bars import EIGHTHS

SIZES = [(60, 16), (80, 24), (100, 30), (140, 38), (200, 60)]
# every vector's name, as the widest and the narrowest panels write it
WORDS = {
    "x_t": ("input",), "h_0": ("initial hidden state", "initial h", "init h"),
    "C_0": ("initial cell state", "initial C", "init C"),
    "h_t-1": ("previous hidden state", "previous", "prev h"), "r_t": ("reset gate", "reset"),
    "z_t": ("update gate", "update"), "Ĥ_t": ("candidate", "cand."),
    "h_t": ("hidden state", "hidden"), "C_t-1": ("previous cell state", "prev. cell", "prev C"),
    "f_t": ("forget gate", "forget"), "i_t": ("input gate", "input"),
    "C̃_t": ("candidate", "cand."), "o_t": ("output gate", "output"),
    "C_t": ("cell state", "cell"),
}


def slides() -> Scenario:
    return Scenario(weights=example_layers("slides"), example="slides")


def rows_of(widget: View) -> list[Text]:
    return widget.rows(widget.size.width)


def bar_eighths(row: Text, start: int, stop: int) -> int:
    """The length of the bar in cells start..stop of a row, in eighths of a cell."""
    total = 0
    for k in range(start, stop):
        char = row.plain[k]
        if char == "█":
            total += 8
        elif char in EIGHTHS[1:8]:
            reversed_here = any(span.start <= k < span.end and Style.parse(str(span.style))
                                .reverse for span in row.spans)
            total += 8 - EIGHTHS.index(char) if reversed_here else EIGHTHS.index(char)
    return total


def slot_bars(row: Text, slots: int, head: int) -> list[int]:
    """Every unit's bar length on an inline row with `slots` slots after a `head`-cell label."""
    cell = (len(row.plain.rstrip()) - head + 1) // slots
    return [bar_eighths(row, head + k * cell, head + (k + 1) * cell - 6) for k in range(slots)]


def row_starting(rows: list[Text], symbol: str) -> Text:
    return next(row for row in rows if row.plain.split()[:1] == [symbol])


@pytest.mark.parametrize("size", SIZES)
async def test_every_vector_is_named_in_words_and_the_units_are_labelled(size):
    """At every size each vector's row says what it is in words, and the model panels label
    their unit columns (inline: "unit 1" … over the columns; bars: a number on each row)."""
    app = GruTuiApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for widget in (app.main.query_one(InputPanel), *app.main.query(ModelPanel)):
            if not widget.display:
                continue
            lines = [line.strip() for line in screen_lines(app, widget, content=True)]
            for symbol, words in WORDS.items():
                found = [line for line in lines if line.split()[:1] == [symbol]]
                if found:
                    assert any(line.split(maxsplit=1)[1].startswith(words) for line in found), \
                        (size, symbol, found)
        text = screen_text(app)
        if app.main.mode == "inline":
            assert all(f"unit {k}" in text for k in (1, 2, 3)), text
        elif app.main.mode == "bars":
            gru = screen_lines(app, app.main.query_one("#panel-gru"), content=True)
            assert [line.split()[-2:-1] for line in gru[:3]] != []  # numbered unit rows
            assert sum(bool(re.search(r"\s[123]\s", line)) for line in gru) >= 15


@pytest.mark.parametrize("size", [(80, 24), (140, 38), (200, 60)])
async def test_a_value_draws_the_same_bar_in_every_panel(size):
    """--example slides at t = 1: C_0 = +0.60 in the inputs and C_t-1 = +0.60 in the LSTM
    are drawn on one scale; C̃_t = +0.32 draws a shorter bar than C_t = +0.56 (they share
    the cell state's scale); h_0 and h_t-1 alike; the legend gives every range once.
    Stacked (80×24) the panels are as wide, so the bars are as long; side by side a panel's
    bars are as long as its width allows, so the bars keep their proportions."""
    app = GruTuiApp(slides())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        inputs, lstm = app.main.query_one(InputPanel), app.main.query_one("#panel-lstm")
        text = screen_text(app)
        assert text.count("gates 0…1") == 1 and text.count("C, C̃ ±2") == 1, text

        def bars(widget: Widget, symbol: str) -> list[int]:
            rows = rows_of(widget)
            if app.main.plan.mode == "inline" and app.main.plan.inputs_mode == "inline":
                row = row_starting(rows, symbol)
                return slot_bars(row, 3, len(row.plain) - len(row.plain.lstrip()) + 19)
            # bars: a row per unit, each bar between the unit's number and its value
            start = rows.index(row_starting(rows, symbol))
            unit_rows = [row for row in rows[start:]
                         if re.search(r"\s[+-]?\d\.\d{4}$", row.plain)]
            return [bar_eighths(row, 0, len(row.plain) - 9) for row in unit_rows[:3]]

        c0, c_prev, h0, h_prev = (bars(inputs, "C_0"), bars(lstm, "C_t-1"), bars(inputs, "h_0"),
                                  bars(lstm, "h_t-1"))
        if size == (80, 24):
            assert app.main.plan.mode == app.main.plan.inputs_mode == "inline"
            assert c0 == c_prev and h0 == h_prev and c0[0] > 0
        else:  # 0.6 on the cell state's ±2 against 0.2 on ±1, in both panels
            assert c0[0] / h0[0] == pytest.approx(c_prev[0] / h_prev[0], rel=0.15)
            assert c0[0] / h0[0] == pytest.approx(0.3 / 0.2, rel=0.15)
        candidate, cell = bars(lstm, "C̃_t"), bars(lstm, "C_t")
        assert 0 < candidate[0] < cell[0]  # +0.32 < +0.56


async def test_140x38_with_the_memory_panel_wraps_nothing_and_keeps_a_row_per_unit():
    """--example slides, m: the inputs' values stay on their vectors' rows (they wrapped)
    and the model panels keep a row per unit (they fell to one row per vector)."""
    app = GruTuiApp(slides())
    async with app.run_test(size=(140, 38)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        assert app.main.mode == "bars" and app.main.plan.inputs_mode == "bars"
        inputs = screen_lines(app, app.main.query_one(InputPanel), content=True)
        for line in inputs:  # a value sits on a unit's row, after its bar
            for value in re.findall(r"[+-]\d\.\d{4}", line):
                assert re.search(r"\s\d\s.*" + re.escape(value), line) or "[" in line, line
        lstm = screen_lines(app, app.main.query_one("#panel-lstm"), content=True)
        assert sum(bool(re.search(r"\d\.\d{4}$", line)) for line in lstm) == 8 * 3


async def test_a_big_screen_is_used():
    """At 200×60 the panels fill the height (few blank rows), the bars are long, and the
    timeline spreads the eight steps across the width, with the selected unit's gates."""
    app = GruTuiApp()
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()
        blank = [k for k, line in enumerate(lines) if not line.strip(" │╭╮╰╯─")]
        assert len(blank) <= 6, blank
        lstm = rows_of(app.main.query_one("#panel-lstm"))
        longest = max(len(re.findall("[█▉▊▋▌▍▎▏]", row.plain)) for row in lstm)
        assert longest >= 25
        axis = screen_lines(app, app.main.query_one("#timeline"))[-1]
        assert axis.split()[-1] == "8" and axis.index(" 8") > 170  # 23 cells a step
        timeline = screen_text(app, app.main.query_one("#timeline"))
        assert "GRU  z[1]" in timeline and "LSTM f[1]" in timeline


@pytest.mark.parametrize("width", [80, 120])
async def test_the_offsets_dialog_says_all_it_has_to_say(width):
    app = GruTuiApp()
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.press("o")
        assert isinstance(app.screen, OffsetsScreen)
        note = " ".join(line.strip(" │") for line in screen_text(app, app.screen.query_one(
            "#offsets-note")).splitlines())
        assert note.endswith("below 1 memories fade faster, above 1 they can explode.")
        assert "an LSTM forget bias of +1 keeps more of the cell state" in note


@pytest.mark.parametrize("width", [80, 120])
async def test_the_memory_panel_says_what_a_norm_of_one_step_is_against(width):
    """‖∂h_t/∂h_t-1‖ of 1.42 is below the identity's √H: the panel says so."""
    app = GruTuiApp()
    async with app.run_test(size=(width, 40)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        text = screen_text(app, app.main.query_one(MemoryPanel))
        assert "identity's norm √3 = 1.73" in text, text


async def test_the_status_line_keeps_a_loaded_layer_at_80_columns():
    from pathlib import Path

    from gru_tui.io.weights import load_layer

    layer = load_layer(Path(__file__).parents[1] / "fixtures" / "keras_stack.keras",
                       "back_lstm")
    app = GruTuiApp(Scenario(models=("lstm",), preset="sine", weights=(layer,)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o", "down", "plus", "escape", "u")
        status = screen_text(app).splitlines()[0]
        assert status.rstrip().endswith("keras_stack.keras: back_lstm") or \
            "keras_stack.keras: back_lstm │" in status, status
        assert "U×0.8" in status and len(status) <= 80


def styles_of(rows: list[Text]) -> list[Style]:
    return [Style.parse(str(span.style)) for row in rows for span in row.spans]


@pytest.mark.parametrize("size", [(100, 30), (120, 36)])
async def test_projector_mode_is_black_on_white_tall_and_in_words(size):
    """gru-tui --projector: a light theme of black text, no dim, grey or italic text, bars
    two rows tall, every name in words, a large step counter; one model at a time at 100
    columns (tab shows the next), side by side at 120."""
    app = GruTuiApp(projector=True)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.theme == PROJECTOR_THEME and not app.current_theme.dark
        assert app.current_theme.foreground == "#000000"
        assert app.current_theme.background == "#FFFFFF"
        views = [view for view in app.main.query(View) if view.display]
        for style in styles_of([row for view in views for row in rows_of(view)]):
            assert not style.dim and not style.italic, style
            colour = style.color.get_truecolor() if style.color else None
            assert colour is None or len({colour.red, colour.green, colour.blue}) > 1 or \
                colour.red == 0, style  # grey only as black
        plan = app.main.plan
        assert all(rows == 2 for _, rows in plan.bar_rows)
        counter = screen_text(app, app.main.query_one(StepCounter))
        assert len([line for line in counter.splitlines() if line.strip()]) == 3
        shown = [m for m in ("gru", "lstm") if app.main.query_one(f"#panel-{m}").display]
        if size == (100, 30):
            assert shown == ["gru"] and plan.single
            await pilot.press("tab", "tab")  # inputs → GRU → LSTM
            assert [m for m in ("gru", "lstm")
                    if app.main.query_one(f"#panel-{m}").display] == ["lstm"]
            assert app.focused is app.main.query_one("#panel-lstm")
            await pilot.press("tab")
            assert app.focused is app.main.query_one(InputPanel)
        else:
            assert shown == ["gru", "lstm"] and plan.across


async def test_projector_mode_comes_and_goes_from_the_palette():
    app = GruTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Projector mode", "enter")
        await pilot.pause()
        assert app.theme == PROJECTOR_THEME and app.main.plan.counter
        await pilot.press("P")
        assert app.theme == "textual-dark" and not app.main.plan.counter
