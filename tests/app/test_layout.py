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
