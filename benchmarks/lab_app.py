"""The training lab's screen: what drawing costs, and what it costs the training.

    python benchmarks/lab_app.py            # about two minutes
    python benchmarks/lab_app.py --quick    # a smoke run, rough figures

(1) **Loss plot redraw.** CPU milliseconds (process time, the median of the repeats) for one
redraw of three loss curves of 1500 iterations each and 30 held-out dots each, in a headless
Textual app of the plot's size: the new data handed over and the frame composed, until
Textual is idle again. For textual-plot (the lab's LossPlot: curves averaged to two points
per column, braille) and, when installed (`pip install textual-plotext`), textual-plotext
with plotext's own log scale and every point, both at 80×10, 140×14 and 200×24. The last
column, idle, is the same wait with nothing redrawn.

(2) **Training under the screen.** The lab at its defaults (adding, T = 100, H = 32, batch
32) for 300 iterations: wall seconds headless (``Lab.step`` in a loop, what `gru-tui lab
--json` does) and in the app (the lab screen training in its worker at 140×38, until done),
and the models' own training seconds in each. The difference is what the screen costs the
training: its redraws and the probe's memory profiles share the interpreter with it.
Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import numpy as np

SIZES = ((80, 10), (140, 14), (200, 24))
MODELS = ("rnn", "gru", "lstm")


def curves(iterations: int = 1500):
    """Noisy falling losses, like a lab's."""
    rng = np.random.default_rng(0)
    x = np.arange(1, iterations + 1)
    losses = {m: 0.2 * np.exp(-x / (200 * (k + 1))) * rng.lognormal(0, 0.5, iterations) + 1e-3
              for k, m in enumerate(MODELS)}
    evals = {m: (x[49::50], losses[m][49::50]) for m in MODELS}
    return {m: (x, losses[m]) for m in MODELS}, evals, iterations


def plot_app(kind: str):
    from textual.app import App

    class PlotApp(App):
        def compose(self):
            if kind == "textual-plot":
                from gru_tui.app.widgets.loss_plot import LossPlot

                self.plot = LossPlot()
            else:
                from textual_plotext import PlotextPlot

                self.plot = PlotextPlot()
            yield self.plot

        def redraw(self, data) -> None:
            lines, dots, iterations = data
            if kind == "textual-plot":
                self.plot.show(lines, dots, iterations, dark=True)
                return
            plt = self.plot.plt
            plt.clear_data()
            plt.yscale("log")
            for model, (x, y) in lines.items():
                plt.plot(x.tolist(), y.tolist(), marker="braille", label=model)
            for x, y in dots.values():
                plt.scatter(x.tolist(), y.tolist(), marker="●")
            self.plot.refresh()

    return PlotApp()


async def redraw_cost(kind: str, size: tuple[int, int], repeats: int) -> tuple[float, float]:
    """(ms per redraw, ms per idle wait), CPU time, medians."""
    data = curves()
    app = plot_app(kind)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.redraw(data)
        await pilot.pause()
        drawn, idle = [], []
        for _ in range(repeats):
            start = time.process_time()
            app.redraw(data)
            await pilot.pause()
            middle = time.process_time()
            await pilot.pause()
            idle.append(time.process_time() - middle)
            drawn.append(middle - start)
    return 1000 * statistics.median(drawn), 1000 * statistics.median(idle)


def headless(iterations: int) -> tuple[float, float]:
    from gru_tui.core.lab import Lab

    lab = Lab("adding", iterations=iterations)
    start = time.perf_counter()
    while not lab.done:
        lab.step()
    wall = time.perf_counter() - start
    return wall, sum(lab.progress(m)["seconds"] for m in lab.models)


async def in_the_app(iterations: int) -> tuple[float, float]:
    from gru_tui.app.app import GruTuiApp
    from gru_tui.core.lab import Lab

    lab = Lab("adding", iterations=iterations)
    app = GruTuiApp(lab=lab)
    async with app.run_test(size=(140, 38)) as pilot:
        start = time.perf_counter()  # the app is up, and the lab's first iteration under way
        while not lab.done:
            await pilot.pause(0.05)
        wall = time.perf_counter() - start
    return wall, sum(lab.progress(m)["seconds"] for m in lab.models)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and iterations")
    args = parser.parse_args()
    repeats, iterations = (5, 100) if args.quick else (21, 300)
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    kinds = ["textual-plot"]
    try:
        import textual_plotext  # noqa: F401

        kinds.append("textual-plotext")
    except ImportError:
        print("textual-plotext is not installed: its row is left out")
    print("\n(1) loss plot redraw, CPU ms (median): 3 curves × 1500 iterations, 3 × 30 dots")
    print(f"{'widget':<16}" + "".join(f"{w}×{h:<9}" for w, h in SIZES) + "idle")
    for kind in kinds:
        figures = [asyncio.run(redraw_cost(kind, size, repeats)) for size in SIZES]
        print(f"{kind:<16}" + "".join(f"{drawn:<12.1f}" for drawn, _ in figures)
              + f"{statistics.median(idle for _, idle in figures):.1f}")
    print(f"\n(2) the lab at its defaults, {iterations} iterations: wall s, the models' "
          "training s")
    wall, trained = headless(iterations)
    print(f"{'headless':<16}{wall:>8.2f}{trained:>10.2f}")
    wall_app, trained_app = asyncio.run(in_the_app(iterations))
    print(f"{'in the app':<16}{wall_app:>8.2f}{trained_app:>10.2f}   "
          f"({wall_app / wall:.2f}× the headless wall time)")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
