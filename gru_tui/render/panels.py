"""What the main screen's panels say, as rich Text rows: the status line, the panels' header
rows, the scale legend, the inputs and one model's vectors at the cursor. The app's widgets
paint these; nothing here knows Textual."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from rich.text import Text

from gru_tui.core.explorer import TARGET_TITLES
from gru_tui.engine.activations import RECURRENT_ACTIVATIONS, SIGMOID
from gru_tui.render.lines import line_count
from gru_tui.render.theme import (
    INITIAL_STATES,
    MODEL_TITLES,
    VECTORS,
    VectorInfo,
    palette,
    role_text,
)
from gru_tui.render.vectors import (
    label_width,
    name_room,
    scale_limits,
    vector_rows,
)

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer

INPUT_VECTORS = {"x": VECTORS["gru"][0], **INITIAL_STATES}
SEPARATOR = " │ "
LEGEND_ROWS = 5  # beside the models: a blank row, "scale", and a row per kind of bar


# -- the status line ------------------------------------------------------------------------


class StatusPart(NamedTuple):
    """One part of the status line: where it is shown (left to right) and its forms, from
    the fullest to the shortest; an empty last form means it may go altogether."""

    place: int
    forms: tuple[Text, ...]


def status_parts(explorer: Explorer, playing: str = "") -> list[StatusPart]:
    """The status line's parts after the step counter, in the order they are shortened or
    given up when the line is too narrow: the dtype, the GRU's conventions, bias offsets, the
    U scale, the playing speed, the gates' function (hard σ: shortened, never gone). The
    source of the weights (a file's layer) never goes."""
    ex = explorer
    sc = ex.scenario
    source = (f"example {sc.example}" if sc.example
              else ex.traces[ex.visible[0]].cell.source)
    parts = [StatusPart(5, (Text(sc.dtype), Text("")))]
    if "gru" in ex.visible:
        parts.append(StatusPart(0, (Text(f"GRU reset {sc.reset} · z weights {sc.z_weights}"),
                                    Text(f"GRU {sc.reset} · z {sc.z_weights}"), Text(""))))
    if sc.bias_offsets:
        offsets = ", ".join(f"{m}.{g}{v:+g}" for m, g, v in sc.bias_offsets)
        count = len(sc.bias_offsets)
        parts.append(StatusPart(4, (Text(f"bias {offsets}"),
                                    Text(f"{count} bias offset{'' if count == 1 else 's'}"),
                                    Text(""))))
    if sc.recurrent_scale != 1.0:
        parts.append(StatusPart(3, (Text(f"U×{sc.recurrent_scale:g}"), Text(""))))
    if playing:
        parts.append(StatusPart(6, (Text(f"▶ {playing}", style="bold"), Text(""))))
    for gates in dict.fromkeys(ex.traces[model].cell.recurrent_activation
                               for model in ex.visible):
        if gates != SIGMOID:  # the gates' function, when it is not σ: shortened, never gone
            activation = RECURRENT_ACTIVATIONS[gates]
            parts.append(StatusPart(1, (Text(f"{activation.framework} {activation.symbol}"),
                                        Text(activation.symbol))))
    parts.append(StatusPart(2, (Text(source),)))
    return parts


def status_line(explorer: Explorer, playing: str = "", width: int | None = None,
                more: Sequence[Text] = ()) -> Text:
    """The step and every shown model's settings, " t = 1 / 8  GRU reset before · …", within
    `width` cells: the dtype goes first, then the GRU's conventions shorten and go, bias
    offsets are counted instead of listed; the weights' source (a file's layer name) stays,
    cut from the front if it must. `more` are further parts, shown right after the step."""
    ex = explorer
    counter = Text(f" t = {ex.t + 1} / {ex.steps} ", style="bold reverse")
    parts = status_parts(ex, playing)
    choice = [0] * len(parts)

    def line() -> Text:
        shown = sorted(((part.place, part.forms[k]) for part, k in zip(parts, choice, strict=True)),
                       key=lambda shown: shown[0])
        texts = [*more, *(form for _, form in shown if form.plain)]
        text = Text.assemble(counter, " ")
        for k, part in enumerate(texts):
            if k:
                text.append(SEPARATOR)
            text.append_text(part)
        return text

    text = line()
    for index, part in enumerate(parts):  # the least important first
        while width is not None and text.cell_len > width and choice[index] < len(part.forms) - 1:
            choice[index] += 1
            text = line()
    if width is not None and text.cell_len > width:  # still too long: cut the source's front
        place, (source,) = parts[-1]
        keep = max(width - (text.cell_len - source.cell_len) - 1, 1)
        parts[-1] = StatusPart(place, (Text("…" + source.plain[-keep:]),))
        text = line()
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


# -- header rows and the legend ---------------------------------------------------------------


def header_row(title: str, width: int, colours: Mapping[str, str], *, focused: bool = False,
               detail: str = "", labels: Sequence[tuple[int, str]] = (), rule: bool = True
               ) -> Text:
    """A panel's first row: "─ GRU  reset before ─── unit 1 ─── unit 2 ──", the title bold,
    each label centred on its cell position; drawn in the focus colour when focused. The
    detail gives way to the first label. Without `rule`, spaces instead of the line."""
    line_style = colours["rule.focus" if focused else "rule"]
    fill = "─" if rule else " "
    if labels and len(title) + len(detail) + 6 > labels[0][0] - len(labels[0][1]) // 2:
        detail = ""
    text = Text(fill + " " if rule else " ", style=line_style)
    text.append(title, style="bold")
    if detail:
        text.append(("  " if title else "") + detail)
    text.append(" ", style=line_style)
    for centre, label in labels:
        start = centre - len(label) // 2 - 1
        if start <= text.cell_len:
            continue
        text.append(fill * (start - text.cell_len), style=line_style)
        text.append(f" {label} ")
    text.append(fill * max(width - text.cell_len, 0), style=line_style)
    text.truncate(width)
    return text


def slot_centres(width: int, name_width: int, slots: int) -> list[int]:
    """The centre cell of each unit's slot in an inline row `width` cells wide."""
    head = label_width(name_width)
    cell = (width - head) // max(slots, 1)
    return [head + k * cell + cell // 2 for k in range(slots)]


def scale_legend(limits: Mapping[str, float], shown: Sequence[str]) -> str:
    """The range of every kind of bar on screen, said once: "gates 0…1 · x, h, Ĥ ±1 · …"."""
    signed = "x, h, Ĥ" if "gru" in shown else "x, h"
    parts = ["gates 0…1", f"{signed} ±{limits.get('signed', 1.0):g}"]
    if "lstm" in shown:
        parts.append(f"C, C̃ ±{limits.get('state', 1.0):g}")
    return "scale: " + " · ".join(parts)


_LIMITS: dict[tuple, dict[str, float]] = {}


def shown_limits(explorer: Explorer) -> dict[str, float]:
    """scale_limits of the shown models' runs, kept until the runs or the shown models
    change."""
    ex = explorer
    key = (ex.serial, ex.edits, ex.visible)
    if key not in _LIMITS:
        _LIMITS.clear()
        _LIMITS[key] = scale_limits({m: ex.traces[m] for m in ex.visible if m in ex.traces})
    return _LIMITS[key]


# -- the panels' rows ---------------------------------------------------------------------------


def input_vectors(explorer: Explorer) -> dict[str, VectorInfo]:
    """The vectors of the inputs panel, by what they edit: x_t, h_0, and C_0 with the LSTM."""
    return {target: info for target, info in INPUT_VECTORS.items()
            if target != "c0" or "lstm" in explorer.visible}


def panel_names_width(explorer: Explorer, mode: str, width: int) -> int:
    """The names column of stacked panels `width` cells wide: one for the inputs and the
    models, so that their units' columns line up."""
    ex = explorer
    return name_room(mode, width, max(ex.input_size, ex.hidden_size))


def input_rows(explorer: Explorer, width: int, mode: str, *, strip_rows: int = 1,
               dark: bool = True, focused: bool = False,
               colours: Mapping[str, str] | None = None, bar_rows: int = 1,
               name_width: int | None = None) -> list[Text]:
    """x_t at the cursor, h_0 and C_0 (with the LSTM shown), and in bars mode the selected
    component; on the scales of the shown models' panels."""
    ex = explorer
    colours = colours or palette(dark)
    limits = shown_limits(ex)
    columns = max(ex.input_size, ex.hidden_size)
    if name_width is None:
        name_width = panel_names_width(ex, mode, width)
    rows: list[Text] = []
    for target, info in input_vectors(ex).items():
        values = ex.target_vector(target)
        shown = mode if len(values) <= 16 or mode == "strips" else "strips"
        selected = ex.component if ex.target == target else None
        rows.extend(vector_rows(info, values, shown, width, limit=limits.get(info.scale, 1.0),
                                unit=selected, strip_rows=strip_rows, colours=colours,
                                cursor_unit=selected if focused else None, columns=columns,
                                bar_rows=bar_rows, name_width=name_width))
    if mode == "bars":
        where = f" {TARGET_TITLES[ex.target]}[{ex.component + 1}] = {ex.value:+.4f}"
        rows.append(Text(where, style="bold" if focused else colours["text.muted"]))
    return rows


def model_vectors(model: str) -> tuple[VectorInfo, ...]:
    """The vectors a model panel shows: all but the input, which the inputs panel has."""
    return tuple(info for info in VECTORS[model] if info.key != "x")


def model_rows(explorer: Explorer, model: str, width: int, mode: str, *, notes: bool = False,
               strip_rows: int = 1, dark: bool = True, cursor: tuple[int, int | None] = (0, None),
               focused: bool = False, colours: Mapping[str, str] | None = None,
               bar_rows: int = 1, name_width: int | None = None,
               role_line: bool = True) -> list[Text]:
    """One model's vectors at step t. `cursor` is the panel's cursor (vector index, unit or
    None), drawn when the panel is `focused`.

    With `notes` every vector says its job above its bars; without, and with `role_line`, the
    focused panel (and any panel in bars mode) says the job of the vector under the cursor at
    the bottom.
    """
    ex = explorer
    colours = colours or palette(dark)
    trace = ex.traces[model]
    z = getattr(trace.cell, "z_weights", "old")
    vectors = model_vectors(model)
    limits = shown_limits(ex)
    if name_width is None:
        name_width = name_room(mode, width, ex.hidden_size)
    vector, cursor_unit = cursor
    rows: list[Text] = []
    for k, info in enumerate(vectors):
        on_cursor = focused and k == vector
        rows.extend(vector_rows(
            info, trace[info.key][ex.t], mode, width, limit=limits.get(info.scale, 1.0),
            unit=ex.unit, strip_rows=strip_rows, colours=colours, bar_rows=bar_rows,
            role=role_text(model, info.key, z) if notes else "", name_width=name_width,
            cursor_unit=(cursor_unit if cursor_unit is not None else 0) if on_cursor else None,
        ))
    if role_line and not notes and (focused or mode == "bars"):
        info = vectors[min(vector, len(vectors) - 1)]
        role = Text.assemble((f" {info.symbol} {info.name}: ", "bold"),
                             role_text(model, info.key, z), style=colours["text.note"])
        if mode != "bars":  # tight: one line
            role.truncate(max(width, 1), overflow="ellipsis")
        rows.append(role)
    return rows


def model_header(explorer: Explorer, model: str, width: int, mode: str,
                 colours: Mapping[str, str], *, focused: bool = False, name_width: int = 0,
                 rule: bool = True, title: str | None = None, detail: bool = True,
                 hint: str = "") -> Text:
    """A model panel's header row: its title (default: its name), with `detail` the GRU's
    conventions, inline the unit columns' labels ("unit 1" … where they fit, else the
    numbers; the selected unit marked ▸); a `hint` follows the title."""
    ex = explorer
    words = ""
    if detail and model == "gru" and model in ex.traces:
        cell = ex.traces["gru"].cell
        words = f"reset {cell.reset} · z {cell.z_weights}"
    labels: list[tuple[int, str]] = []
    if mode == "inline":
        centres = slot_centres(width, name_width, ex.hidden_size)
        cell = centres[1] - centres[0] if len(centres) > 1 else width
        for k, centre in enumerate(centres):
            label = f"unit {k + 1}" if cell >= 10 else str(k + 1)
            labels.append((centre, f"▸{label}" if k == ex.unit else label))
    title = MODEL_TITLES[model] if title is None else title
    if hint:
        title = f"{title} · {hint}" if title else hint
    return header_row(title, width, colours, focused=focused, detail=words, labels=labels,
                      rule=rule)


# -- heights, for the layout planner ------------------------------------------------------------


def _height(rows: Sequence[Text], width: int) -> int:
    return sum(line_count(row.plain, width) if row.cell_len > width else 1 for row in rows)


def model_height(model: str, hidden: int, width: int, mode: str, *, notes: bool = False,
                 bar_rows: int = 1, strip_rows: int = 1, role_line: bool = False,
                 name_width: int | None = None) -> int:
    """The rows model_rows draws for `model` at `width` (without the panel's header or
    border), its notes and role line wrapped as the panel wraps them."""
    vectors = model_vectors(model)
    if name_width is None:
        name_width = name_room(mode, width, hidden)
    zeros = np.zeros(hidden)
    longest = {info.key: max((role_text(model, info.key, z) for z in ("old", "new")), key=len)
               for info in vectors}
    rows = [row for info in vectors for row in vector_rows(
        info, zeros, mode, width, role=longest[info.key] if notes else "", bar_rows=bar_rows,
        strip_rows=strip_rows, name_width=name_width)]
    height = _height(rows, width)
    if role_line and not notes and mode == "bars":
        height += max(line_count(f" {info.symbol} {info.name}: {longest[info.key]}", width)
                      for info in vectors)
    elif role_line and not notes:
        height += 1
    return height


def inputs_height(inputs: int, hidden: int, lstm: bool, width: int, mode: str, *,
                  bar_rows: int = 1, strip_rows: int = 1, name_width: int | None = None) -> int:
    """The rows input_rows draws at `width`: x_t, h_0 and (with the LSTM) C_0, and in bars
    mode the selected component's line."""
    infos = {"x": INPUT_VECTORS["x"], "h0": INPUT_VECTORS["h0"]}
    if lstm:
        infos["c0"] = INPUT_VECTORS["c0"]
    columns = max(inputs, hidden)
    if name_width is None:
        name_width = name_room(mode, width, columns)
    rows = []
    for target, info in infos.items():
        values = np.zeros(inputs if target == "x" else hidden)
        shown = mode if len(values) <= 16 or mode == "strips" else "strips"
        rows.extend(vector_rows(info, values, shown, width, columns=columns, bar_rows=bar_rows,
                                strip_rows=strip_rows, name_width=name_width))
    return len(rows) + (1 if mode == "bars" else 0)
