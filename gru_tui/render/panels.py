"""What the main screen's panels say, as rich Text rows: the status line, the inputs and one
model's vectors at the cursor. The app's widgets paint these; nothing here knows Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from gru_tui.core.explorer import TARGET_TITLES
from gru_tui.engine.activations import RECURRENT_ACTIVATIONS, SIGMOID
from gru_tui.render.theme import VECTORS, VectorInfo, role_text
from gru_tui.render.vectors import state_limit, vector_rows

if TYPE_CHECKING:
    from gru_tui.core.explorer import Explorer

INPUT_VECTORS = {"x": ("gru", "x"), "h0": ("gru", "h_prev"), "c0": ("lstm", "c_prev")}


def status_line(explorer: Explorer, playing: str = "") -> Text:
    """The step and every shown model's settings: " t = 1 / 8  GRU reset before · …", the
    gates' function when it is not σ."""
    ex = explorer
    sc = ex.scenario
    parts = [Text(f" t = {ex.t + 1} / {ex.steps} ", style="bold reverse")]
    if "gru" in ex.visible:
        parts.append(Text(f" GRU reset {sc.reset} · z weights {sc.z_weights}"))
    for gates in dict.fromkeys(ex.traces[model].cell.recurrent_activation
                               for model in ex.visible):
        if gates != SIGMOID:
            activation = RECURRENT_ACTIVATIONS[gates]
            parts.append(Text(f" │ {activation.framework} {activation.symbol}"))
    source = (f"example {sc.example}" if sc.example
              else ex.traces[ex.visible[0]].cell.source)
    parts.append(Text(f" │ {sc.dtype} │ {source}"))
    if sc.recurrent_scale != 1.0:
        parts.append(Text(f" │ U×{sc.recurrent_scale:g}"))
    if sc.bias_offsets:
        parts.append(Text(" │ bias " + ", ".join(
            f"{m}.{g}{v:+g}" for m, g, v in sc.bias_offsets)))
    if playing:
        parts.append(Text(f" │ ▶ {playing}", style="bold"))
    return Text.assemble(*parts, no_wrap=True, overflow="ellipsis")


def input_rows(explorer: Explorer, width: int, mode: str, *, strip_rows: int = 1,
               dark: bool = True, focused: bool = False) -> list[Text]:
    """x_t at the cursor, h_0 and C_0 (with the LSTM shown), and the selected component."""
    ex = explorer
    rows: list[Text] = []
    limit_x = state_limit(ex.xs)
    for target, (model, key) in INPUT_VECTORS.items():
        if target == "c0" and "lstm" not in ex.visible:
            continue
        values = ex.target_vector(target)
        info = next(info for info in VECTORS[model] if info.key == key)
        limit = limit_x if target == "x" else state_limit(values)
        shown = mode if len(values) <= 16 or mode == "strips" else "strips"
        selected = ex.component if ex.target == target else None
        rows.extend(vector_rows(info, values, shown, width, limit=limit, unit=selected,
                                label=TARGET_TITLES[target], strip_rows=strip_rows, dark=dark,
                                cursor_unit=selected if focused else None,
                                columns=max(ex.input_size, ex.hidden_size)))
    if mode == "bars":
        where = f"{TARGET_TITLES[ex.target]}[{ex.component + 1}] = {ex.value:+.4f}"
        rows.append(Text(where, style="bold" if focused else "dim"))
    return rows


def model_vectors(model: str) -> tuple[VectorInfo, ...]:
    """The vectors a model panel shows: all but the input, which the inputs panel has."""
    return tuple(info for info in VECTORS[model] if info.key != "x")


def model_rows(explorer: Explorer, model: str, width: int, mode: str, *, notes: bool = False,
               strip_rows: int = 1, dark: bool = True, cursor: tuple[int, int | None] = (0, None),
               focused: bool = False) -> list[Text]:
    """One model's vectors at step t. `cursor` is the panel's row cursor (vector index, unit
    or None), drawn when the panel is `focused`.

    With `notes` every vector says its job above its bars; without, the focused panel (and
    any panel in bars mode) says the job of the vector under the cursor at the bottom.
    """
    ex = explorer
    trace = ex.traces[model]
    z = getattr(trace.cell, "z_weights", "old")
    vectors = model_vectors(model)
    vector, cursor_unit = cursor
    rows: list[Text] = []
    for k, info in enumerate(vectors):
        values = trace[info.key][ex.t]
        limit = state_limit(trace[info.key]) if info.scale == "state" else 1.0
        on_cursor = focused and k == vector
        rows.extend(vector_rows(
            info, values, mode, width, limit=limit, unit=ex.unit, strip_rows=strip_rows,
            dark=dark, role=role_text(model, info.key, z) if notes else "",
            cursor_unit=(cursor_unit if cursor_unit is not None else 0) if on_cursor else None,
        ))
    if not notes and (focused or mode == "bars"):
        info = vectors[min(vector, len(vectors) - 1)]
        role = Text.assemble((f"{info.symbol} {info.name}: ", "bold"),
                             role_text(model, info.key, z), style="italic")
        if mode != "bars":  # tight: one line
            role.truncate(max(width, 1), overflow="ellipsis")
        rows.append(role)
    return rows
