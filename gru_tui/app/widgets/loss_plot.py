"""The training lab's loss plot: every model's curves on one log scale (textual-plot's
PlotWidget, its axes themed by app.tcss)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from textual.app import ComposeResult
from textual.containers import Grid
from textual.reactive import reactive
from textual.strip import Strip
from textual_hires_canvas import Canvas
from textual_plot import HiResMode, PlotWidget
from textual_plot.axis_formatter import AxisFormatter
from textual_plot.plot_widget import Legend

from gru_tui.render.lab import CURVE_MARKERS, curve_colour, curve_points, log_ticks, tick_label


class LogAxis(AxisFormatter):
    """A y axis of log10 values, labelled with the values themselves: 0.01, 0.1, 1."""

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        return log_ticks(min_, max_)

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return [tick_label(tick) for tick in ticks]


class StyledCanvas(Canvas):
    """textual-hires-canvas 0.14's Canvas, but a line outside the canvas is blank in the
    canvas's style, not in no style at all: Textual's NO_COLOR filter fails on a segment
    without a style."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if strip.cell_length == 0:
            return Strip.blank(0, self.rich_style)
        return strip


class LossPlot(PlotWidget, can_focus=False):
    """Each model's training loss as a line (averaged to the plot's resolution) and its
    held-out loss as its marks, log10 of the loss against the iteration, the x axis the whole run.

    Not focusable, zoom and pan off: the lab screen's keys (r, ←, →) stay the lab's."""

    margin_top = reactive(0)
    margin_bottom = reactive(2)  # the ticks and "iteration"
    margin_left = reactive(8)  # tick labels such as 0.0001

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_pan_and_zoom=False, **kwargs)
        self.shown: tuple | None = None  # the arguments of the last show()

    def compose(self) -> ComposeResult:
        """PlotWidget's own, with the canvases above."""
        with Grid():
            for name in ("margin-top", "margin-left", "plot", "margin-bottom"):
                yield StyledCanvas(1, 1, id=name)
        yield Legend(id="legend")

    def on_mount(self) -> None:
        self.set_y_formatter(LogAxis())
        self.set_xlabel("iteration")

    def show(self, curves: Mapping[str, tuple[Sequence[int], Sequence[float]]],
             evaluations: Mapping[str, tuple[Sequence[int], Sequence[float]]],
             iterations: int, dark: bool) -> None:
        """Draw `curves` and `evaluations`, (iterations, losses) per model, over the x axis
        0 … `iterations`; again at every resize."""
        self.shown = (curves, evaluations, iterations, dark)
        self.clear()
        self.set_xlimits(0, iterations)
        points = max(2 * self.size.width, 2)  # braille: two dots per cell across
        drawn = []
        for model, (x, losses) in curves.items():
            if len(x):
                drawn.append(curve_points(x, losses, points))
                self.plot(*drawn[-1], line_style=curve_colour(model, dark),
                          hires_mode=HiResMode.BRAILLE)
        for model, (x, losses) in evaluations.items():
            if len(x):
                drawn.append(curve_points(x, losses, points))
                self.scatter(*drawn[-1], marker=CURVE_MARKERS[model],
                             marker_style=curve_colour(model, dark))
        if drawn:  # whole decades, at least one
            logs = np.concatenate([y for _, y in drawn])
            low, high = math.floor(logs.min()), math.ceil(logs.max())
            self.set_ylimits(low, max(high, low + 1))

    def on_resize(self) -> None:
        if self.shown is not None:
            self.show(*self.shown)
