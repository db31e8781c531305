"""The layout planner, without a screen: terminal size and content in, a plan out."""

from __future__ import annotations

import pytest

from gru_tui.app.layout import MIN_HEIGHT, MIN_WIDTH, WIDE, Content, plan_layout

DEFAULT = Content(shown=("gru", "lstm"), hidden=3, inputs=3)


@pytest.mark.parametrize(("width", "height"), [(MIN_WIDTH - 1, 40), (200, MIN_HEIGHT - 1),
                                               (10, 5)])
def test_below_the_minimum_only_the_notice(width, height):
    assert plan_layout(width, height, DEFAULT).small


def test_the_classic_terminal_stacks_the_panels():
    plan = plan_layout(80, 24, DEFAULT)
    assert not plan.small and not plan.wide and plan.mode in ("bars", "inline")


def test_wide_terminals_put_the_models_side_by_side_with_notes():
    plan = plan_layout(160, 48, DEFAULT)
    assert plan.wide and plan.mode == "bars" and plan.notes


def test_side_by_side_starts_at_wide():
    assert not plan_layout(WIDE - 1, 48, DEFAULT).wide
    assert plan_layout(WIDE, 48, DEFAULT).wide


def test_many_units_are_heat_strips_that_wrap_over_free_rows():
    plan = plan_layout(120, 32, Content(shown=("gru", "lstm"), hidden=64, inputs=3))
    assert plan.mode == "strips" and not plan.notes
    tall = plan_layout(120, 60, Content(shown=("gru",), hidden=256, inputs=3))
    assert tall.mode == "strips" and tall.strip_rows > 1


def test_asking_for_strips_gives_strips():
    assert plan_layout(160, 48, Content(shown=("gru",), hidden=3, inputs=3,
                                        strips=True)).mode == "strips"


def test_the_memory_panel_takes_rows_from_the_models():
    roomy = plan_layout(160, 36, DEFAULT)
    squeezed = plan_layout(160, 36, Content(shown=("gru", "lstm"), hidden=3, inputs=3,
                                            memory=True))
    assert roomy.mode == "bars" and squeezed.mode == "inline"


@pytest.mark.parametrize(("hidden", "wide"), [(3, True), (4, True), (5, False)])
def test_side_by_side_from_120_columns_while_every_unit_keeps_its_row(hidden, wide):
    """At 120×40 the models stand side by side with a row per unit for H = 3 and 4; from
    H = 5 the LSTM's bars no longer fit the height there, so the panels stack."""
    plan = plan_layout(120, 40, Content(shown=("gru", "lstm"), hidden=hidden, inputs=3))
    assert plan.wide == wide
    assert plan.mode == ("bars" if wide else "inline")


def test_140x38_with_the_memory_panel_keeps_a_row_per_unit():
    """The memory panel open at 140×38 (--example slides): the inputs keep a row per unit in
    their column (they wrapped), and the models too (they fell to a row per vector)."""
    plan = plan_layout(140, 38, Content(shown=("gru", "lstm"), hidden=3, inputs=3,
                                        models_run=2, memory=True))
    assert plan.wide and plan.mode == "bars" and plan.inputs_mode == "bars"


def test_a_big_screen_is_filled():
    """At 200×60 every vector says its job, the bars of the shorter panels grow two rows
    tall and the timeline shows the gates of the selected unit too."""
    plan = plan_layout(200, 60, DEFAULT)
    assert plan.wide and plan.mode == "bars" and plan.notes and plan.timeline_gates
    assert plan.rows_per_bar("inputs") == 2 and plan.rows_per_bar("gru") == 2


def test_stacked_models_grow_alike():
    """Stacked, the models' bars grow together, never one panel's alone."""
    for width, height in ((100, 60), (140, 40), (80, 50)):
        plan = plan_layout(width, height, Content(shown=("gru", "lstm"), hidden=8, inputs=3))
        if not plan.across:
            assert plan.rows_per_bar("gru") == plan.rows_per_bar("lstm"), (width, height)


PROJECTED = Content(shown=("gru", "lstm"), hidden=3, inputs=3, projector=True)


def test_a_projector_at_100x30_shows_one_model_at_a_time_with_tall_bars():
    plan = plan_layout(100, 30, PROJECTED)
    assert plan.single and plan.counter and not plan.across
    assert all(rows == 2 for _, rows in plan.bar_rows)


def test_a_projector_at_120x36_shows_the_models_side_by_side_with_tall_bars():
    plan = plan_layout(120, 36, PROJECTED)
    assert plan.across and not plan.single and not plan.wide and plan.counter
    assert all(rows == 2 for _, rows in plan.bar_rows)
