"""The training lab (`gru-tui lab`): a simple RNN, a GRU and an LSTM learning one task, live.

The lab trains in a worker thread, one iteration of every model at a time
(:class:`gru_tui.core.lab.Lab`, whose lock makes reading it from here safe), and tells the
screen at most every REFRESH_SECONDS; the screen then reads the new records and redraws the
loss curves, the table and the title line. Every PROBE_SECONDS or so the worker also runs the
models of that moment on the probe sequence (gates and memory profiles) for the panels below.
Keys stay the screen's: it is modal, so the explorer's keys do not reach the hidden main
screen; the lab's own are in the key registry (app/keys.py, screen "lab").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Static
from textual.worker import Worker, get_current_worker

from gru_tui.app.keys import LAB, bindings
from gru_tui.app.widgets.loss_plot import LossPlot
from gru_tui.app.widgets.probe import ProbeGates, ProbeMemory, ProbeView
from gru_tui.core.explorer import Explorer
from gru_tui.core.scenario import MODELS
from gru_tui.errors import InputError
from gru_tui.render.lab import lab_table, lab_title, plot_title
from gru_tui.render.theme import MODEL_TITLES

if TYPE_CHECKING:
    from gru_tui.app.app import GruTuiApp
    from gru_tui.core.lab import Lab

REFRESH_SECONDS = 0.5  # the curves and the table, at most this often while training
PROBE_SECONDS = 2.0  # the probe's gates and memory, at least this far apart
WIDE = 140  # columns from which the plot and the table, and the models' gates, sit side by side


class Curves:
    """One model's records as the plot draws them: the training loss of every iteration and
    the held-out loss where evaluated."""

    def __init__(self) -> None:
        self.records = 0  # how many of the lab's records are in
        self.iterations: list[int] = []
        self.losses: list[float] = []
        self.eval_iterations: list[int] = []
        self.eval_losses: list[float] = []

    def add(self, records: list[dict]) -> None:
        self.records += len(records)
        for record in records:
            if record.get("final"):
                continue
            self.iterations.append(record["iteration"])
            self.losses.append(record["loss"])
            if record["eval_loss"] is not None:
                self.eval_iterations.append(record["iteration"])
                self.eval_losses.append(record["eval_loss"])


class LabScreen(ModalScreen[None]):
    """The loss plot and the models' table on top, each model's gates on the probe sequence
    and their memory profiles below."""

    app: GruTuiApp
    BINDINGS = bindings(LAB)
    KEY_SCREEN = LAB  # the command palette lists this screen's keys

    class Trained(Message):
        """The worker trained some iterations; `probe` is the models' view of that moment."""

        def __init__(self, probe: ProbeView | None = None) -> None:
            super().__init__()
            self.probe = probe

    def __init__(self, lab: Lab, *, paused: bool = False) -> None:
        super().__init__(id="lab-screen")
        self.lab = lab
        self.start_paused = paused
        self.running = False
        self.worker: Worker | None = None
        self.t = lab.task.steps - 1  # the probe step shown: the last, where most tasks score
        self.curves = {model: Curves() for model in lab.models}
        self.probe: ProbeView | None = None
        self.notices_shown = 0

    def compose(self) -> ComposeResult:
        yield Static(id="lab-title")
        with Horizontal(id="lab-top"):
            yield LossPlot(id="lab-plot")
            yield Static(id="lab-table")
        yield Static(id="lab-notices")
        with VerticalScroll(id="lab-probe", can_focus=False):
            with Horizontal(id="lab-gates"):
                for model in self.lab.models:
                    yield ProbeGates(model)
            yield ProbeMemory(id="lab-memory")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(LossPlot).border_title = plot_title(self.lab.models,
                                                            self.app.current_theme.dark)
        self.show_probe(ProbeView.of(self.lab, self.t))
        self.redraw()
        if not (self.start_paused or self.lab.done):
            self.start()

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE, "wide")

    # -- training in a worker thread --------------------------------------------------------

    def start(self) -> None:
        self.running = True
        self.worker = self.run_worker(self._train, thread=True, exclusive=True, group="lab")
        self.redraw()

    async def pause(self) -> None:
        """Stop training after the iteration under way, and wait for it."""
        self.running = False
        if self.worker is not None:
            await self.worker.wait()
            self.worker = None

    def _train(self) -> None:
        """The worker: iterations until paused, cancelled or done; a message now and then."""
        worker, lab = get_current_worker(), self.lab
        told = next_probe = time.monotonic()
        while self.running and not worker.is_cancelled and not lab.done:
            lab.step()
            now = time.monotonic()
            if now >= next_probe:
                probe = ProbeView.of(lab, self.t)
                cost = time.monotonic() - now
                next_probe = now + max(PROBE_SECONDS, 10 * cost)  # at most 10% of training
                self.post_message(self.Trained(probe))
                told = now
            elif now - told >= REFRESH_SECONDS:
                self.post_message(self.Trained())
                told = now
        if not worker.is_cancelled:  # the app is closing: no one to tell
            self.post_message(self.Trained(ProbeView.of(lab, self.t)))

    def on_lab_screen_trained(self, message: Trained) -> None:
        if message.probe is not None:
            self.show_probe(message.probe)
        if self.lab.done and self.running:  # the first word of the end
            self.running = False
            if self.lab.save_to is not None:
                self.save_models()
        self.redraw()

    # -- drawing ----------------------------------------------------------------------------

    def state(self) -> str:
        if self.lab.done:
            return "done"
        return "▶ training" if self.running else "paused"

    def redraw(self) -> None:
        """Read the lab's new records; draw the title, the table, the curves and notices."""
        lab = self.lab
        rows = []
        for model, curves in self.curves.items():
            curves.add(lab.history(model, start=curves.records))
            progress = lab.progress(model)
            state = ("stopped" if progress["stopped"] else "done" if progress["done"]
                     else "training" if self.running else "paused")
            rows.append({**progress, "state": state})
        dark = self.app.current_theme.dark
        self.query_one("#lab-title", Static).update(lab_title(lab, self.state()))
        self.query_one("#lab-table", Static).update(lab_table(rows, lab.task.threshold, dark))
        self.query_one(LossPlot).show(
            {m: (c.iterations, c.losses) for m, c in self.curves.items()},
            {m: (c.eval_iterations, c.eval_losses) for m, c in self.curves.items()},
            lab.options.iterations, dark)
        notices = lab.notices
        for notice in notices[self.notices_shown:]:
            self.notify(notice, title="Lab", severity="warning", timeout=8)
        self.notices_shown = len(notices)
        shown = self.query_one("#lab-notices", Static)
        shown.display = bool(notices)
        shown.update(Text("\n".join(notices), style="bold red"))

    def show_probe(self, probe: ProbeView) -> None:
        probe.go(self.t)
        self.probe = probe
        for widget in (*self.query(ProbeGates), self.query_one(ProbeMemory)):
            widget.view = probe
            widget.refresh(layout=True)  # its height follows what it says

    # -- actions ------------------------------------------------------------------------------

    async def action_toggle_training(self) -> None:
        if self.running:
            await self.pause()
            self.redraw()
        elif self.lab.done:
            self.notify("Training is done: r trains again from the start", timeout=3)
        else:
            self.start()

    async def action_restart(self) -> None:
        await self.pause()
        self.lab.restart()
        self.curves = {model: Curves() for model in self.lab.models}
        self.notices_shown = 0
        self.show_probe(ProbeView.of(self.lab, self.t))
        self.start()

    def action_probe_step(self, delta: int) -> None:
        self.t = min(max(self.t + delta, 0), self.lab.task.steps - 1)
        if self.probe is not None:
            self.show_probe(self.probe)

    def action_scroll_probe(self, direction: int) -> None:
        self.query_one("#lab-probe", VerticalScroll).scroll_relative(y=3 * direction,
                                                                     animate=False)

    def action_save(self) -> None:
        self.save_models()

    def save_models(self) -> None:
        """The one place the lab writes files: to --save DIR, else a new folder here."""
        lab = self.lab
        folder = lab.save_to or Path(f"gru-tui-lab-{lab.task.name}-"
                                     f"{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            written = lab.save(folder)
        except InputError as error:
            self.notify(str(error), title="Not saved", severity="warning")
            return
        except OSError as error:
            self.notify(f"Could not write {folder}: {error.strerror}", title="Not saved",
                        severity="error")
            return
        names = ", ".join(path.name for path in written)
        self.notify(f"Saved {names} in {Path(folder).resolve()}", title="Lab")

    async def action_explore(self) -> None:
        """Pause, and open the models that share the GRU's hidden size (or the first
        model's) in the explorer, on the probe sequence at the probe step."""
        await self.pause()
        lab = self.lab
        first = "gru" if "gru" in lab.models else lab.models[0]
        models = tuple(m for m in MODELS if m in lab.models
                       and lab.hidden_sizes[m] == lab.hidden_sizes[first])
        explorer = Explorer(lab.scenario(models), t=self.t)
        app = self.app
        app.pop_screen()
        left_out = [MODEL_TITLES[m] for m in lab.models if m not in models]
        app.use_explorer(explorer)
        app.notify(f"Running the lab's models after {lab.iteration} iterations",
                   title="Weights")
        if left_out:
            app.notify(f"{' and '.join(left_out)} left out: the explorer runs one hidden size "
                       "at a time", severity="warning")

