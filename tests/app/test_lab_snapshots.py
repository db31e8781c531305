"""SVG snapshots of the training lab's screen, compared with pytest-textual-snapshot.

Regenerate after a deliberate change of the look, then look at the SVGs:

    pytest tests/app/test_lab_snapshots.py --snapshot-update

Stable by construction: the lab trains a fixed number of iterations before the app starts,
the screen opens paused (no worker, no timer), and the lab's clock is replaced by one that
advances 1 ms per reading, so every model's seconds and iterations per second are the same in
every run.
"""

from __future__ import annotations

import pytest

from gru_tui.app.app import GruTuiApp
from gru_tui.app.screens import LabScreen
from gru_tui.core.lab import Lab


class Clock:
    """time.perf_counter that advances 1 ms per call."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 1e-3
        return self.now


@pytest.fixture
def lab(monkeypatch):
    """The adding task, small, paused after 60 of 200 iterations."""
    monkeypatch.setattr("gru_tui.core.lab.time", Clock())
    lab = Lab("adding", hidden=8, length=12, batch=8, iterations=200, eval_every=10,
              eval_batch=32, dtype="float64")
    for _ in range(60):
        lab.step()
    return lab


def opened_paused(lab: Lab):
    async def run_before(pilot) -> None:
        await pilot.app.push_screen(LabScreen(lab, paused=True))
        await pilot.pause()

    return run_before


def test_lab_wide_140x40(snap_compare, lab):
    """From 140 columns: the plot beside the table, the models' gates side by side."""
    assert snap_compare(GruTuiApp(), run_before=opened_paused(lab), terminal_size=(140, 40))


def test_lab_80x24(snap_compare, lab):
    """At 80×24: the plot over the table, the gates below, scrolled with ↑/↓."""
    assert snap_compare(GruTuiApp(), run_before=opened_paused(lab), terminal_size=(80, 24))


def test_lab_no_color(snap_compare, lab, monkeypatch):
    """NO_COLOR=1: grey everywhere, the plot's canvases included (textual-hires-canvas gives
    unstyled blank lines, which LossPlot's canvases style)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = GruTuiApp()
    assert app.no_color
    assert snap_compare(app, run_before=opened_paused(lab), terminal_size=(80, 24))
