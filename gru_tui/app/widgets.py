"""The panels of the main screen. Each draws from the app's Explorer on every revision."""

from __future__ import annotations

import copy
import math
from functools import lru_cache, partial
from typing import TYPE_CHECKING

import numpy as np
from rich.color import Color, blend_rgb
from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from gru_tui.bars import nice_limit, spark
from gru_tui.console import bar_text
from gru_tui.engine import MemoryProfile, memory_profile
from gru_tui.explorer import TARGET_TITLES
from gru_tui.theme import MODEL_SHORT, MODEL_TITLES, VECTORS, VectorInfo, palette, role_text

if TYPE_CHECKING:
    from gru_tui.explorer import Explorer

SYMBOL_WIDTH = 6
VALUE_WIDTH = 8
CURSOR = Style(reverse=True)


def fmt(value: float, scale: str, digits: int = 4) -> str:
    """A value as shown beside its bar: signed unless it is a gate."""
    sign = "" if scale == "gate" else "+"
    if abs(value) >= 1e4:
        return f"{value:{sign}.{max(digits - 2, 1)}e}"
    return f"{value:{sign}.{digits}f}"


def state_limit(values: np.ndarray) -> float:
    """The visible range of an unbounded vector (inputs, cell state) over the whole run."""
    return nice_limit(float(np.max(np.abs(values)))) if values.size else 1.0


def strip_window(count: int, cells: int, selected: int) -> tuple[int, int]:
    """The units [start, stop) a strip of `cells` shows, scrolled to keep `selected` in view."""
    if count <= cells:
        return 0, count
    start = min(max(selected - cells // 2, 0), count - cells)
    return start, start + cells


def strip_text(values: np.ndarray, scale: str, limit: float, selected: int | None,
               start: int, stop: int, dark: bool = True) -> Text:
    """A heat strip of units start..stop−1: one cell per unit, coloured and shaped by value."""
    low, high = (0.0, 1.0) if scale == "gate" else (-limit, limit)
    text = Text()
    run, run_style = "", None
    for unit in range(start, stop):  # one style per run of equal cells
        value = float(values[unit])
        style = _heat_style(heat_colour(value, scale, limit, dark), unit == selected)
        if style is not run_style and run:
            text.append(run, run_style)
            run = ""
        run, run_style = run + spark(value, low, high), style
    if run:
        text.append(run, run_style)
    return text


HEAT_STEPS = 8  # colour levels on each side of zero


@lru_cache(maxsize=256)
def _heat_style(colour: str, selected: bool) -> Style:
    return Style(color=colour, reverse=selected)


def heat_colour(value: float, scale: str, limit: float = 1.0, dark: bool = True) -> str:
    """The colour of a heat-strip cell: from neutral grey at 0 to the full colour at the edge,
    in HEAT_STEPS levels, so neighbouring cells share a style."""
    if scale == "gate":
        target, strength = "gate", value
    else:
        target = "positive" if value >= 0 else "negative"
        strength = abs(value) / limit if limit > 0 else 0.0
    level = round(min(max(strength, 0.0), 1.0) ** 0.7 * HEAT_STEPS)  # lift small values
    return _blend(target, level, dark)


@lru_cache(maxsize=128)
def _blend(target: str, level: int, dark: bool) -> str:
    colours = palette(dark)
    rgb = blend_rgb(Color.parse(colours["neutral"]).get_truecolor(),
                    Color.parse(colours[target]).get_truecolor(), level / HEAT_STEPS)
    return rgb.hex


def vector_rows(info: VectorInfo, values: np.ndarray, mode: str, width: int, *,
                limit: float = 1.0, unit: int | None = None, cursor_unit: int | None = None,
                label: str | None = None, role: str = "", strip_rows: int = 1,
                dark: bool = True, columns: int | None = None) -> list[Text]:
    """The rows of one vector in a panel `width` cells wide.

    `unit` is the selected hidden unit (marked in every mode); `cursor_unit` the row under
    the panel's cursor, drawn in reverse when the panel has focus. Inline, the row has
    `columns` slots (default: one per value), so vectors of different lengths line up.
    """
    symbol = Text(label or info.symbol, style="bold")
    symbol.truncate(SYMBOL_WIDTH, pad=True)  # by cells: C̃ is one cell, two characters
    limit = limit if info.scale == "state" else 1.0
    colours = palette(dark)
    H = len(values)
    if mode == "bars":
        room = width - (SYMBOL_WIDTH + 4 + VALUE_WIDTH + 1)
        half = max(2, min(20, room // 2))
        rows = []
        if role:  # a header line: symbol, name and what the vector does
            rows.append(Text.assemble(symbol, (info.name, "bold"), "  ", (role, "italic dim")))
        for k, value in enumerate(values):
            value = float(value)
            row = Text.assemble(
                symbol if k == 0 and not role else " " * SYMBOL_WIDTH,
                (f"{k + 1:>2}", "bold" if k == unit else "dim"), " ",
                bar_text(value, info.scale, limit, half=half, colours=colours), " ",
                fmt(value, info.scale).rjust(VALUE_WIDTH),
            )
            if k == cursor_unit:
                row.stylize(CURSOR, 0, SYMBOL_WIDTH + 2)
            rows.append(row)
        return rows
    if mode == "inline":
        cell = (width - SYMBOL_WIDTH) // max(columns or H, H)  # a bar, a 5-character value, " "
        half = max(1, (cell - 7) // 2)
        row = Text.assemble(symbol)
        for k, value in enumerate(values):
            value = float(value)
            number = Text(fmt(value, info.scale, 2).rjust(5))
            if k == unit:
                number.stylize("bold")
            if k == cursor_unit:
                number.stylize(CURSOR)
            row.append_text(bar_text(value, info.scale, limit, half=half, colours=colours))
            row.append_text(number)
            row.append(" ")
        return [row]
    # strips: as many units as fit on `strip_rows` rows, scrolled to the selected one, and
    # the selected unit's value
    selected = unit if unit is not None else 0
    readout = f" {selected + 1:>3}:{fmt(float(values[selected]), info.scale, 3):>8}"
    per_row = max(width - SYMBOL_WIDTH - len(readout) - 2, 1)
    rows_used = max(1, min(strip_rows, -(-H // per_row)))
    start, stop = strip_window(H, per_row * rows_used, selected)
    rows = []
    for k, first in enumerate(range(start, stop, per_row)):
        row = Text.assemble(symbol if k == 0 else " " * SYMBOL_WIDTH,
                            strip_text(values, info.scale, limit, selected, first,
                                       min(first + per_row, stop), dark))
        if k == 0:
            row.pad_right(per_row - (min(first + per_row, stop) - first))
            row.append(readout)
            if stop - start < H:
                row.append(" ›", style="dim")
            if cursor_unit is not None:
                row.stylize(CURSOR, 0, SYMBOL_WIDTH)
        row.truncate(width)
        rows.append(row)
    return rows


def rows_needed(mode: str, units: int, vectors: int, notes: bool = False) -> int:
    """Rows a model panel's vectors take (without borders)."""
    per_vector = (units if mode == "bars" else 1) + (2 if notes else 0)  # a note may wrap
    return per_vector * vectors


class View(Widget):
    """A widget that draws from the app's Explorer, in the app theme's palette."""

    @property
    def explorer(self) -> Explorer:
        return self.app.explorer  # type: ignore[attr-defined]

    @property
    def dark(self) -> bool:
        """Whether the app's theme is dark: bars take the palette that suits it."""
        return self.app.current_theme.dark


class Panel(View, can_focus=True):
    """A bordered panel redrawn whenever the app's revision changes.

    `mode` is "bars" (one row per unit), "inline" (a vector's units side by side on one row)
    or "strips" (heat strips, for many units).
    """

    revision: reactive[int] = reactive(0)
    mode: reactive[str] = reactive("bars", layout=True)
    notes: reactive[bool] = reactive(False, layout=True)  # each vector's job, as a header
    strip_rows: reactive[int] = reactive(1, layout=True)  # rows a heat strip may wrap over

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


class StatusBar(View):
    """Settings of every shown model, and the step: "t = 1 / 8"."""

    revision: reactive[int] = reactive(0)
    playing: reactive[str] = reactive("")

    def render(self) -> Text:
        ex = self.explorer
        sc = ex.scenario
        parts = [Text(f" t = {ex.t + 1} / {ex.steps} ", style="bold reverse")]
        if "gru" in ex.visible:
            parts.append(Text(f" GRU reset {sc.reset} · z weights {sc.z_weights}"))
        source = (f"example {sc.example}" if sc.example
                  else ex.traces[ex.visible[0]].cell.source)
        parts.append(Text(f" │ {sc.dtype} │ {source}"))
        if sc.recurrent_scale != 1.0:
            parts.append(Text(f" │ U×{sc.recurrent_scale:g}"))
        if sc.bias_offsets:
            parts.append(Text(" │ bias " + ", ".join(
                f"{m}.{g}{v:+g}" for m, g, v in sc.bias_offsets)))
        if self.playing:
            parts.append(Text(f" │ ▶ {self.playing}", style="bold"))
        return Text.assemble(*parts, no_wrap=True, overflow="ellipsis")


class InputPanel(Panel):
    """x_t at the cursor, h_0 and C_0: the vectors a learner edits."""

    BORDER_TITLE = "Inputs"

    def render(self) -> Group:
        ex = self.explorer
        width = self.content_size.width
        rows: list[Text] = []
        limit_x = state_limit(ex.xs)
        for target in ("x", "h0", "c0"):
            if target == "c0" and "lstm" not in ex.visible:
                continue
            values = ex.target_vector(target)
            info = VECTORS["gru" if target != "c0" else "lstm"][
                {"x": 0, "h0": 1, "c0": 2}[target]]
            label = TARGET_TITLES[target]
            limit = limit_x if target == "x" else state_limit(values)
            mode = self.mode if len(values) <= 16 or self.mode == "strips" else "strips"
            selected = ex.component if ex.target == target else None
            rows.extend(vector_rows(info, values, mode, width, limit=limit, unit=selected,
                                    label=label, strip_rows=self.strip_rows, dark=self.dark,
                                    cursor_unit=selected if self.has_focus else None,
                                    columns=max(ex.input_size, ex.hidden_size)))
        if self.mode == "bars":
            where = f"{TARGET_TITLES[ex.target]}[{ex.component + 1}] = {ex.value:+.4f}"
            rows.append(Text(where, style="bold" if self.has_focus else "dim"))
        return Group(*rows)


class ModelPanel(Panel):
    """One model's gates, candidate and states at step t."""

    row: reactive[int] = reactive(0)

    def __init__(self, model: str, **kwargs) -> None:
        super().__init__(id=f"panel-{model}", classes="model", **kwargs)
        self.model = model
        self.border_title = MODEL_TITLES[model]

    @property
    def vectors(self) -> tuple[VectorInfo, ...]:
        return tuple(info for info in VECTORS[self.model] if info.key != "x")

    def cursor(self) -> tuple[int, int | None]:
        """(vector index, unit) under the row cursor."""
        if self.mode == "bars":
            H = self.explorer.hidden_size
            return self.row // H, self.row % H
        return self.row, None

    def move_row(self, delta: int) -> None:
        H = self.explorer.hidden_size
        count = len(self.vectors) * (H if self.mode == "bars" else 1)
        self.row = (self.row + delta) % count
        _, unit = self.cursor()
        if unit is not None:
            self.explorer.unit = unit

    def watch_mode(self, old: str, new: str) -> None:
        H = self.explorer.hidden_size
        if old == "bars" and new != "bars":
            self.row //= H
        elif new == "bars" and old != "bars":
            self.row = self.row * H + self.explorer.unit

    def watch_revision(self) -> None:
        if self.model == "gru" and "gru" in self.explorer.traces:  # a loaded layer: one model
            cell = self.explorer.traces["gru"].cell
            subtitle = f"reset {cell.reset} · z {cell.z_weights}"
            if self.border_subtitle != subtitle:  # setting it always redraws the border
                self.border_subtitle = subtitle

    def render(self) -> Group:
        ex = self.explorer
        if self.model not in ex.traces:  # hidden: the loaded weights have no such layer
            return Group()
        trace = ex.traces[self.model]
        cell = trace.cell
        width = self.content_size.width
        vector, cursor_unit = self.cursor()
        z = getattr(cell, "z_weights", "old")
        rows: list[Text] = []
        for k, info in enumerate(self.vectors):
            values = trace[info.key][ex.t]
            limit = state_limit(trace[info.key]) if info.scale == "state" else 1.0
            on_cursor = self.has_focus and k == vector
            rows.extend(vector_rows(
                info, values, self.mode, width, limit=limit, unit=ex.unit,
                strip_rows=self.strip_rows, dark=self.dark,
                role=role_text(self.model, info.key, z) if self.notes else "",
                cursor_unit=(cursor_unit if cursor_unit is not None else 0) if on_cursor
                else None,
            ))
        if not self.notes and (self.has_focus or self.mode == "bars"):
            info = self.vectors[min(vector, len(self.vectors) - 1)]
            role = Text.assemble((f"{info.symbol} {info.name}: ", "bold"),
                                 role_text(self.model, info.key, z), style="italic")
            if self.mode != "bars":  # tight: one line
                role.truncate(max(width, 1), overflow="ellipsis")
            rows.append(role)
        return Group(*rows)


LABEL_WIDTH = 12  # the timeline's and the memory panel's row labels


def timeline_window(steps: int, t: int, room: int) -> tuple[int, int, int]:
    """(start, stop, cells per step) of the steps a timeline row `room` cells wide shows:
    up to four cells a step when the run is short, else a window centred on t."""
    cells = max(1, min(4, room // max(steps, 1)))
    width = max(room // cells, 1)
    start = min(max(t - width // 2, 0), max(steps - width, 0))
    return start, min(start + width, steps), cells


class Timeline(View):
    """The whole sequence: h of the selected unit per model, with a cursor at t."""

    revision: reactive[int] = reactive(0)

    def render(self) -> Group:
        ex = self.explorer
        room = max(self.content_size.width - LABEL_WIDTH, 1)
        start, stop, cells = timeline_window(ex.steps, ex.t, room)
        label_width = LABEL_WIDTH
        rows = []
        for model in ex.visible:
            h = ex.traces[model]["h"][:, ex.unit]
            text = Text(f"{MODEL_SHORT[model]:<5}h[{ex.unit + 1}]".ljust(label_width),
                        style="bold")
            for t in range(start, stop):
                value = float(h[t])
                style = Style(color=heat_colour(value, "signed", 1.0, self.dark),
                              reverse=t == ex.t)
                text.append(spark(value, -1.0, 1.0) * cells, style)
            rows.append(text)
        axis = Text(f"t {start + 1}".ljust(label_width), style="dim")
        marker = " " * ((ex.t - start) * cells) + "▲" + f" t = {ex.t + 1} / {ex.steps}"
        axis.append(marker[:room], style="bold")
        rows.append(axis)
        return Group(*rows)


def scientific(log10_value: float) -> str:
    """10**log10_value as 3.1e-09, exact far beyond float64's range; 0 for −inf."""
    if log10_value == -math.inf:
        return "0"
    exponent = math.floor(log10_value)
    mantissa = 10 ** (log10_value - exponent)
    if mantissa >= 9.95:  # rounds up to the next power
        mantissa, exponent = 1.0, exponent + 1
    return f"{mantissa:.1f}e{exponent:+03d}"


class MemoryPanel(View):
    """How much the last hidden state still depends on each step's input, ‖∂h_T/∂x_t‖, for
    every model the app runs, on one log scale across the timeline; below, what one step
    passes on at t (‖∂h_t/∂h_{t−1}‖, and the LSTM's forget path ‖∂C_t/∂C_{t−1}‖).

    Small runs are profiled at once on every change; large ones in a worker thread, the panel
    saying so meanwhile, so keys are never held up.
    """

    revision: reactive[int] = reactive(0)
    DECADES = 12  # the scale spans this many powers of ten below the largest value
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

    def watch_revision(self) -> None:
        if self.display:
            self.update_profiles()

    def update_profiles(self) -> None:
        """Profile the current runs, unless done already: here when small, else in a
        worker. Moving the cursor changes nothing to profile."""
        state = self._state()
        if state == self.profiled or (self.computing and state == self._computing_state):
            self.refresh()
            return
        traces = self.explorer.traces
        # the backward pass costs about T·S³, S the state's size (H, or 2H for the LSTM)
        cost = sum(trace.steps * (trace.hs.shape[1] * (1 if trace.cs is None else 2)) ** 3
                   for trace in traces.values())
        if cost <= self.AT_ONCE:
            self.profiles = {model: memory_profile(trace) for model, trace in traces.items()}
            self.profiled, self.computing = state, ""
            self.refresh(layout=True)  # its height follows what it says
            return
        copies = {model: copy.deepcopy(trace) for model, trace in traces.items()}
        some = next(iter(copies.values()))
        self.computing = f"computing the memory profile of T = {some.steps}, H = " \
                         f"{some.hs.shape[1]}…"
        self.refresh(layout=True)  # its height follows what it says
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
            self.refresh(layout=True)  # its height follows what it says

    def render(self) -> Group:
        ex = self.explorer
        title = Text.assemble(("Memory".ljust(LABEL_WIDTH), "bold"),
                              "‖∂h_T/∂x_t‖: how much the last state still depends on x_t",
                              no_wrap=True, overflow="ellipsis")
        order = [*ex.visible, *(m for m in ex.traces if m not in ex.visible)]
        profiles = {m: self.profiles[m] for m in order
                    if m in self.profiles and self.profiles[m].steps == ex.steps}
        if self.computing or not profiles:
            return Group(title, Text(self.computing or "…", style="italic"))
        logs = np.concatenate([p.log10_sensitivity for p in profiles.values()])
        finite = logs[np.isfinite(logs)]
        top = math.ceil(float(finite.max())) if finite.size else 0
        bottom = top - self.DECADES
        title.append(f", log scale 1e{bottom:+03d} … 1e{top:+03d}", style="dim")
        title.append("   k keep gates · u/U scale U", style="dim italic")
        room = max(self.content_size.width - LABEL_WIDTH, 1)
        start, stop, cells = timeline_window(ex.steps, ex.t, room)
        rows = [title]
        at, passes, forget = [], [], ""
        for model, profile in profiles.items():
            log = profile.log10_sensitivity
            text = Text(MODEL_SHORT[model].ljust(LABEL_WIDTH), style="bold")
            for t in range(start, stop):
                value = float(log[t])
                fraction = (value - bottom) / self.DECADES if value > -math.inf else 0.0
                style = Style(color=heat_colour(fraction, "gate", 1.0, self.dark),
                              reverse=t == ex.t)
                text.append(spark(value, bottom, top) * cells, style)
            rows.append(text)
            at.append(f"{MODEL_SHORT[model]} {scientific(float(log[ex.t]))}")
            passes.append(f"{MODEL_SHORT[model]} {profile.state_jacobian[ex.t]:.2f}")
            if profile.cell_jacobian is not None:
                forget = f"   LSTM forget path ‖∂C_t/∂C_t-1‖ {profile.cell_jacobian[ex.t]:.2f}"
        rows.append(Text.assemble((f"at t = {ex.t + 1}".ljust(LABEL_WIDTH), "bold"),
                                  "  ·  ".join(at), no_wrap=True, overflow="ellipsis"))
        rows.append(Text.assemble(("one step".ljust(LABEL_WIDTH), "bold"),
                                  ("‖∂h_t/∂h_t-1‖ ", "dim"), "  ·  ".join(passes), forget,
                                  no_wrap=True, overflow="ellipsis"))
        return Group(*rows)
