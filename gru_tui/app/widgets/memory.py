"""The memory panel: how much the last hidden state still depends on each step's input,
‖∂h_T/∂x_t‖, for every model the app runs, on one log scale across the timeline."""

from __future__ import annotations

import copy
from functools import partial

from rich.text import Text

from gru_tui.app.widgets.base import View
from gru_tui.engine import MemoryProfile, memory_profile
from gru_tui.render.timeline import memory_rows


class MemoryPanel(View):
    """Small runs are profiled at once on every change of the runs; large ones in a worker
    thread, the panel saying so meanwhile, so keys are never held up. Moving the cursor
    reuses the profiles."""

    AT_ONCE = 2_000_000  # T·S³ below this (a few ms) is computed without a worker

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.profiles: dict[str, MemoryProfile] = {}
        self.profiled: tuple[int, int] | None = None  # the explorer and edit they are of
        self.computing = ""  # what a running worker is profiling
        self._computing_state: tuple[int, int] | None = None

    def _state(self) -> tuple[int, int]:
        """Which runs the explorer holds now: a new explorer, or any edit, changes it."""
        return self.explorer.serial, self.explorer.edits

    def watch_runs(self) -> None:
        if self.display:
            self.update_profiles()

    def update_profiles(self) -> None:
        """Profile the current runs, unless done already: here when small, else in a
        worker."""
        state = self._state()
        if state == self.profiled or (self.computing and state == self._computing_state):
            self.redraw()
            return
        traces = self.explorer.traces
        # the backward pass costs about T·S³, S the state's size (H, or 2H for the LSTM)
        cost = sum(trace.steps * (trace.hs.shape[1] * (1 if trace.cs is None else 2)) ** 3
                   for trace in traces.values())
        if cost <= self.AT_ONCE:
            self.profiles = {model: memory_profile(trace) for model, trace in traces.items()}
            self.profiled, self.computing = state, ""
            self.redraw()
            return
        copies = {model: copy.deepcopy(trace) for model, trace in traces.items()}
        some = next(iter(copies.values()))
        self.computing = f"computing the memory profile of T = {some.steps}, H = " \
                         f"{some.hs.shape[1]}…"
        self.redraw()
        self._computing_state = state
        self.run_worker(partial(self._profile_in_worker, copies, state), thread=True,
                        exclusive=True, group="memory")

    def _profile_in_worker(self, traces: dict, state: tuple[int, int]) -> None:
        profiles = {model: memory_profile(trace) for model, trace in traces.items()}
        self.app.call_from_thread(self._done, profiles, state)

    def _done(self, profiles: dict[str, MemoryProfile], state: tuple[int, int]) -> None:
        if state == self._state():  # else a newer profile is on its way
            self.profiles, self.profiled = profiles, state
            self.computing = ""
            self.redraw()

    def rows(self, width: int) -> list[Text]:
        return memory_rows(self.explorer, self.profiles, width, computing=self.computing,
                           colours=self.colours)
