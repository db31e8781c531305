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
