"""compact(): fewer style runs for the same cells, what a repainted line costs."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style

from gru_tui.render.lines import compact

BAR, VALUE, REVERSED = Style(color="#E69F00"), Style(color="#E0E0E0"), Style(reverse=True)


def cells(segments: list[Segment]) -> list[tuple[str, Style | None]]:
    """What each cell shows: a space with no background or reverse shows only itself."""
    shown = []
    for text, style, _ in segments:
        for char in text:
            plain = char == " " and not (style and (style.bgcolor or style.reverse))
            shown.append((" ", None) if plain else (char, style))
    return shown


def test_spaces_join_a_neighbour_and_equal_styles_join():
    line = [Segment("██", BAR), Segment("   ", VALUE), Segment("+0.40", BAR),
            Segment(" ", Style(bold=True)), Segment("█", BAR)]
    out = compact(line)
    assert out == [Segment("██   +0.40 █", BAR)]
    assert cells(out) == cells(line)


def test_spaces_that_show_stay_as_they_are():
    """Spaces in reverse video or on a background are coloured cells: never restyled."""
    line = [Segment("█", BAR), Segment("  ", REVERSED), Segment(" ", Style(bgcolor="red")),
            Segment("  "), Segment("0.5", VALUE)]
    out = compact(line)
    assert cells(out) == cells(line)
    assert out[1:3] == [Segment("  ", REVERSED), Segment(" ", Style(bgcolor="red"))]
    assert out[-1] == Segment("  0.5", VALUE)  # the plain spaces took the next style


def test_rows_become_the_segments_rich_renders():
    """text_lines takes a short cut for rows whose spans do not overlap: every kind of row
    the panels draw comes out as rich's own rendering of it, compacted and padded."""
    import io

    from rich.console import Console

    from gru_tui.core.explorer import Explorer
    from gru_tui.core.scenario import Scenario
    from gru_tui.render.lines import text_lines
    from gru_tui.render.panels import input_rows, model_rows, status_line
    from gru_tui.render.timeline import timeline_rows

    console = Console(width=300, file=io.StringIO(), color_system="truecolor")
    small, wide = Explorer(), Explorer(Scenario(hidden=64))
    rows = [*model_rows(small, "gru", 78, "inline", focused=True, cursor=(1, 2)),
            *model_rows(small, "lstm", 100, "bars", notes=True),
            *model_rows(wide, "lstm", 73, "strips", strip_rows=3, focused=True),
            *input_rows(small, 78, "inline", focused=True), *timeline_rows(small, 80, rows=2),
            status_line(small, "2/s", width=80)]
    for row in rows:
        if row.cell_len > 120:
            continue  # wrapped: rich's own path
        (line,) = text_lines([row], 120, console)
        expected = compact([*row.render(console, end=""), Segment(" " * (120 - row.cell_len))])
        assert line == expected, row.plain
