"""SVG snapshots of the app's screens, compared with pytest-textual-snapshot.

Regenerate after a deliberate change of the look, then review the SVGs before committing:

    pytest tests/app/test_snapshots.py --snapshot-update

Every snapshot uses a fixed terminal size and keys that change no timed content: nothing
here notifies (notifications time out) or plays (a timer), and no Input has focus (a
blinking cursor).
"""

from __future__ import annotations

import re

from rich.terminal_theme import SVG_EXPORT_THEME

from gru_tui.app.app import GruTuiApp
from gru_tui.core.examples import example_layers
from gru_tui.core.presets import keep_gates_open
from gru_tui.core.scenario import Scenario


def test_default_80x24(snap_compare):
    """The built-in example at the classic terminal size: stacked panels, every vector
    named in words, the units' columns labelled, the scales said once."""
    assert snap_compare(GruTuiApp(), terminal_size=(80, 24))


def test_wide_160x48(snap_compare):
    """Wide: inputs on the left, the models side by side, one row per unit with notes."""
    assert snap_compare(GruTuiApp(), terminal_size=(160, 48))


def test_big_200x60(snap_compare):
    """200×60: the panels fill the height (the GRU's bars two rows tall), the timeline the
    width, with the selected unit's gates."""
    assert snap_compare(GruTuiApp(), terminal_size=(200, 60))


def test_memory_140x38_slides(snap_compare):
    """--example slides, m, at 140×38: the inputs and the models keep a row per unit."""
    scenario = Scenario(weights=example_layers("slides"), example="slides")
    assert snap_compare(GruTuiApp(scenario), press=["m"], terminal_size=(140, 38))


def test_narrow_stacked_100x30(snap_compare):
    """Below 120 columns the panels stack, full width, a header row each."""
    assert snap_compare(GruTuiApp(), terminal_size=(100, 30))


def test_projector_100x30(snap_compare):
    """--projector at 100×30: black on white, bars two rows tall, a large step counter, one
    model at a time."""
    assert snap_compare(GruTuiApp(projector=True), press=["right"], terminal_size=(100, 30))


def test_projector_120x36(snap_compare):
    """--projector at 120×36: the models side by side under the inputs."""
    assert snap_compare(GruTuiApp(projector=True), terminal_size=(120, 36))


def test_light_theme(snap_compare):
    """Textual's light theme: the palette for light backgrounds."""
    app = GruTuiApp()
    app.theme = "textual-light"
    assert snap_compare(app, press=["right"], terminal_size=(100, 30))


def test_help_screen(snap_compare):
    """"?" opens the help: every key by group, then what each vector does."""
    assert snap_compare(GruTuiApp(), press=["question_mark"], terminal_size=(100, 40))


def test_worked_example(snap_compare):
    """"w" at t = 2: every gate's computation for the selected unit, models side by side."""
    assert snap_compare(GruTuiApp(), press=["right", "w"], terminal_size=(120, 40))


def test_heat_strips_h64(snap_compare):
    """With 64 hidden units every vector is one heat strip, scrolled to the selected unit."""
    assert snap_compare(GruTuiApp(Scenario(hidden=64)), terminal_size=(120, 32))


def test_memory_panel(snap_compare):
    """"m" on `remember` with the keep gates open and U × 0.512: the RNN forgets the cue, the
    GRU and the LSTM keep it."""
    scenario = Scenario(preset="remember", models=("rnn", "gru", "lstm"),
                        bias_offsets=keep_gates_open(), recurrent_scale=0.512)
    assert snap_compare(GruTuiApp(scenario), press=["m"], terminal_size=(120, 40))


def test_no_color(snap_compare, monkeypatch):
    """NO_COLOR=1: Textual converts every colour to grey.

    Textual reads NO_COLOR in ``App.__init__`` (not at import time), so setting it before the
    app is made is enough. The check on the SVG proves the output really is monochrome.
    """
    monkeypatch.setenv("NO_COLOR", "1")
    app = GruTuiApp()
    assert app.no_color
    shots: list[str] = []
    export = app.export_screenshot

    def recording(**kwargs) -> str:
        shots.append(export(**kwargs))
        return shots[-1]

    monkeypatch.setattr(app, "export_screenshot", recording)
    assert snap_compare(app, terminal_size=(80, 24))
    colours = terminal_colours(shots[-1])
    assert colours, "no colours found in the SVG"
    assert all(is_grey(colour) for colour in colours), sorted(colours)


def test_too_small_notice(snap_compare):
    """Below 60×16 the app asks for a larger terminal instead of drawing broken panels."""
    assert snap_compare(GruTuiApp(), terminal_size=(50, 12))


def test_parameters_screen(snap_compare):
    """"n": parameter counts for the current D and H."""
    assert snap_compare(GruTuiApp(), press=["n"], terminal_size=(100, 30))


def test_offsets_dialog(snap_compare):
    """"o": per-gate bias offsets and the recurrent weight scale."""
    assert snap_compare(GruTuiApp(), press=["o"], terminal_size=(100, 30))


def test_presets_dialog(snap_compare):
    """"p": the preset sequences."""
    assert snap_compare(GruTuiApp(), press=["p"], terminal_size=(100, 30))


# -- helpers ----------------------------------------------------------------------------------


def terminal_colours(svg: str) -> set[str]:
    """Every colour the terminal's cells use: text fills and background rectangles.

    Left out: the window frame Rich draws around them (its three coloured buttons) and the
    export theme's default foreground, which Rich gives the unstyled newline ending each row.
    """
    styles = re.findall(r"\.terminal-[\w-]+ \{[^}]*?fill: #([0-9a-fA-F]{6})", svg)
    backgrounds = re.findall(r'<rect fill="#([0-9a-fA-F]{6})"', svg)
    default = SVG_EXPORT_THEME.foreground_color.hex.lstrip("#")
    return {colour.lower() for colour in (*styles, *backgrounds)} - {default}


def is_grey(colour: str) -> bool:
    """True when red, green and blue are equal (within rounding): black, white or a grey."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return max(red, green, blue) - min(red, green, blue) <= 2


def test_diagram_gru_80x24(snap_compare):
    """"d": the GRU's cell as the slides draw it, with step 1's numbers; the reset gate's
    node chosen, its worked step below."""
    assert snap_compare(GruTuiApp(), press=["d", "down"], terminal_size=(80, 24))


def test_diagram_lstm_80x24(snap_compare):
    """"d", "2": the LSTM's conveyor belt on the slides' own numbers."""
    scenario = Scenario(weights=example_layers("slides"), example="slides")
    assert snap_compare(GruTuiApp(scenario), press=["d", "2"], terminal_size=(80, 24))


def test_diagram_both_200x60(snap_compare):
    """From about 160 columns the GRU and the LSTM stand side by side, at step 3."""
    assert snap_compare(GruTuiApp(), press=["right", "right", "d"], terminal_size=(200, 60))


def test_diagram_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(GruTuiApp(), press=["d", "2"], terminal_size=(80, 24))


def test_diagram_light_theme(snap_compare):
    app = GruTuiApp()
    app.theme = "textual-light"
    assert snap_compare(app, press=["d"], terminal_size=(80, 24))
