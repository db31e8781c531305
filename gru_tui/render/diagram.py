"""The cell as a flow diagram: one unit at one step, every wire with its value.

Drawn like the seed slides' cell figures and Olah's "Understanding LSTM Networks": the memory
runs along the top as a heavy line (the LSTM's cell state C, the GRU's h), the gates stand in
a row of boxes below it, fed by h_t-1 and x_t from the bottom left, and every ⊙ and + sits
where the equations put it. A box holds its operator with the number inside it, σ(pre) or
tanh(pre), over a bar of its result; a wire is labelled with its symbol and its value for the
chosen unit. The numbers are the worked example's (`w`), so the two tell the same story.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from rich.color import Color, blend_rgb
from rich.style import Style
from rich.text import Text

from gru_tui.core.worked import worked_example
from gru_tui.engine import Cell, Trace
from gru_tui.render.bars import gate_bar, nice_limit, signed_bar
from gru_tui.render.theme import MODEL_TITLES, vector_info
from gru_tui.render.theme import palette as theme_palette

_WIDTH = 78
_BOX = 14  # a gate's box: "tanh(+12.34)" with a space either side
_SIZES = {"lstm": (_WIDTH, 16), "gru": (_WIDTH, 15), "rnn": (_WIDTH, 10)}
_NODES = {"lstm": ("f", "i", "g", "o"), "gru": ("z", "r", "n"), "rnn": ("h",)}


def diagram_size(cell: Cell) -> tuple[int, int]:
    """The drawing's (width, height) in terminal cells; the same for every step and unit."""
    return _SIZES[cell.kind]


def diagram_nodes(cell: Cell) -> tuple[str, ...]:
    """The gates' letters in the order their boxes stand, left to right."""
    return _NODES[cell.kind]


def cell_diagram(trace: Trace, t: int, unit: int, *, palette: Mapping[str, str] | None = None,
                 styled: bool = True, selected: str | None = None) -> Text:
    """The cell of `trace` as a flow diagram for `unit` at step `t` (both 0-based).

    `palette`: the theme's colours (default: for a dark background). `styled`: colour every
    value on its bar's scale; without it (a pipe, NO_COLOR) the text alone carries every
    number. `selected`: the letter of a gate whose box is drawn heavy.
    """
    cell = trace.cell
    if not 0 <= t < trace.steps:
        raise ValueError(f"step {t} is outside the run's steps 0..{trace.steps - 1}")
    if not 0 <= unit < cell.hidden_size:
        raise ValueError(f"unit {unit} is outside the cell's units 0..{cell.hidden_size - 1}")
    if selected is not None and selected not in _NODES[cell.kind]:
        raise ValueError(f"{cell.kind} has no gate {selected!r}")
    figure = _Figure(_Canvas(*diagram_size(cell)),
                     _Paint(palette or theme_palette(True), cell.kind), selected, styled)
    gates, states = worked_example(trace, t, unit)
    numbers = {work.letter: _Gate(work.letter, vector_info(cell.kind, work.key).symbol,
                                  work.function, work.pre, work.value, dict(work.terms))
               for work in gates}
    state = {work.key: work.value for work in states}
    figure.canvas.text(0, 1, _title(trace, t, unit), Style(bold=True))
    draw = {"lstm": _lstm, "gru": _gru, "rnn": _rnn}[cell.kind]
    draw(figure, trace, t, unit, numbers, state)
    return figure.canvas.render(styled)


def _title(trace: Trace, t: int, unit: int) -> str:
    cell = trace.cell
    settings = [f"{key.replace('_', ' ')} {value}" for key, value in cell.conventions.items()
                if (key, value) != ("dtype", "float64")]
    settings = ["peepholes" if s == "peepholes yes" else s for s in settings]
    return " · ".join([MODEL_TITLES[cell.kind], f"t = {t + 1} / {trace.steps}",
                       f"unit {unit + 1} of {cell.hidden_size}", *settings])


# -- numbers -----------------------------------------------------------------------------------


def _signed(value: float) -> str:
    """Two decimals with a sign, at most six characters: "+0.65", "-12.30", "+1e308"."""
    if abs(value) < 99.995:
        return f"{value:+.2f}"
    return f"{value:+.0e}".replace("e+0", "e").replace("e+", "e")


def _fraction(value: float) -> str:
    """A gate's value in 0..1: "0.65"."""
    return f"{value:.2f}"


@dataclass(frozen=True)
class _Gate:
    letter: str
    symbol: str
    function: str  # "σ" or "tanh"
    pre: float
    value: float
    terms: dict[str, float]  # the worked example's summands by name

    @property
    def inside(self) -> str:
        """The operator with the number inside it: "σ(+0.62)"."""
        return f"{self.function}({_signed(self.pre)})"

    @property
    def label(self) -> str:
        """The wire leaving the box: "f_t 0.65", "C̃_t +0.32"."""
        shown = _signed(self.value) if self.function == "tanh" else _fraction(self.value)
        return f"{self.symbol} {shown}"


def _given(h_prev: tuple[str, np.ndarray], x: tuple[str, np.ndarray], room: int) -> str:
    """The two input vectors written out, "h_t-1 = [+0.20 +0.40 -0.10]   x_t = […]", in
    `room` characters; a vector too long for its share shows its first values, "[+0.50 …]"."""
    named = (h_prev, x)
    texts = [" ".join(_signed(float(v)) for v in values) for _, values in named]
    half = (room - sum(_width(name) + 5 for name, _ in named) - 3) // 2
    spare = [max(half - len(text), 0) for text in texts]  # what one leaves, the other may use
    parts = []
    for (name, _), text, share in zip(named, texts, (half + spare[1], half + spare[0]),
                                      strict=True):
        while len(text) > share:
            text = text[: text.rstrip(" …").rfind(" ")] + " …"
        parts.append(f"{name} = [{text}]")
    return "   ".join(parts)


# -- a grid of glyphs and wires ----------------------------------------------------------------

_STEP = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
_OPPOSITE = {"U": "D", "D": "U", "L": "R", "R": "L"}
_ACROSS = {"U": "LR", "D": "LR", "L": "UD", "R": "UD"}
_ARROW = {"U": "▲", "D": "▼", "L": "◀", "R": "▶"}
# glyphs by the directions of the wires meeting in a cell, in the order U, D, L, R
_LIGHT = {"U": "│", "D": "│", "UD": "│", "L": "─", "R": "─", "LR": "─", "DR": "╭", "DL": "╮",
          "UR": "╰", "UL": "╯", "UDR": "├", "UDL": "┤", "DLR": "┬", "ULR": "┴", "UDLR": "┼"}
_HEAVY = {"U": "┃", "D": "┃", "UD": "┃", "L": "━", "R": "━", "LR": "━", "DR": "┏", "DL": "┓",
          "UR": "┗", "UL": "┛"}
_HEAVY_ACROSS = {"DLR": "┯", "ULR": "┷"}  # a heavy line with a light wire leaving it
_DASHED = {"U": "┆", "D": "┆", "UD": "┆", "L": "┄", "R": "┄", "LR": "┄"}


def _direction(start: tuple[int, int], end: tuple[int, int]) -> str:
    if start[1] == end[1]:
        return "D" if end[0] > start[0] else "U"
    return "R" if end[1] > start[1] else "L"


def _width(text: str) -> int:
    return sum(not unicodedata.combining(char) for char in text)


class _Canvas:
    """Cells holding a glyph of text, or the directions of the wires that meet there (drawn
    as the box-drawing character that joins them)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.glyphs: dict[tuple[int, int], str] = {}
        self.links: dict[tuple[int, int], dict[str, str]] = {}
        self.styles: dict[tuple[int, int], Style | None] = {}

    def wire(self, points: list[tuple[int, int]], style: Style | None = None, *,
             weight: str = "light", arrow: bool = False) -> None:
        """A wire through the corners `points` (row, col); `arrow`: an arrowhead on its last
        cell. Weights: "light", "heavy", "dashed" (which hops over the solid wires it crosses,
        and may start or end on one)."""
        first, last = points[0], points[-1]
        for start, end in itertools.pairwise(points):
            direction = _direction(start, end)
            dr, dc = _STEP[direction]
            cell = start
            while cell != end:
                ahead = (cell[0] + dr, cell[1] + dc)
                self._link(cell, direction, weight, style, hop=cell != first)
                self._link(ahead, _OPPOSITE[direction], weight, style, hop=ahead != last)
                cell = ahead
        if arrow:
            self.text(*points[-1], _ARROW[_direction(points[-2], points[-1])], style)

    def _link(self, cell: tuple[int, int], direction: str, weight: str,
              style: Style | None, hop: bool) -> None:
        links = self.links.setdefault(cell, {})
        crossed = {links.get(d) for d in _ACROSS[direction]} - {None}
        if hop and weight == "dashed" and crossed - {"dashed"}:
            return
        links[direction] = weight
        self.styles[cell] = style

    def text(self, row: int, col: int, text: str, style: Style | None = None) -> None:
        """`text` from (row, col) on, a character a cell (a combining mark joins the one
        before); it covers any wire there."""
        if not (0 <= row < self.height and col >= 0 and col + _width(text) <= self.width):
            raise ValueError(f"{text!r} at ({row}, {col}) falls outside the diagram")
        for char in text:
            if unicodedata.combining(char):
                self.glyphs[(row, col - 1)] += char
                continue
            self.glyphs[(row, col)] = char
            self.styles[(row, col)] = style
            col += 1

    def centred(self, row: int, centre: int, text: str, style: Style | None = None) -> None:
        self.text(row, centre - _width(text) // 2, text, style)

    def glyph(self, cell: tuple[int, int]) -> str:
        if cell in self.glyphs:
            return self.glyphs[cell]
        links = self.links.get(cell)
        if not links:
            return " "
        key = "".join(d for d in "UDLR" if d in links)
        weights = set(links.values())
        if "heavy" in weights:
            if weights == {"heavy"} or key not in _HEAVY_ACROSS:
                return _HEAVY[key]
            return _HEAVY_ACROSS[key]
        if weights == {"dashed"} and key in _DASHED:
            return _DASHED[key]
        return _LIGHT[key]

    def render(self, styled: bool) -> Text:
        """The rows as one Text (trailing spaces dropped), each run of one style a span."""
        text = Text(no_wrap=True, overflow="ignore", end="")
        for row in range(self.height):
            glyphs = [self.glyph((row, col)) for col in range(self.width)]
            while glyphs and glyphs[-1] == " ":
                glyphs.pop()
            if not styled:
                text.append("".join(glyphs))
            else:
                styles = [self.styles.get((row, col)) if glyph != " " else None
                          for col, glyph in enumerate(glyphs)]
                for style, run in itertools.groupby(zip(glyphs, styles, strict=True),
                                                    key=lambda cell: cell[1]):
                    text.append("".join(glyph for glyph, _ in run), style)
            if row < self.height - 1:
                text.append("\n")
        return text


# -- colours on the bars' scales ---------------------------------------------------------------


def _mix(low: str, high: str, amount: float) -> str:
    return blend_rgb(Color.parse(low).get_truecolor(), Color.parse(high).get_truecolor(),
                     amount).hex


@dataclass(frozen=True)
class _Paint:
    """A value's style on its bar's scale: from the axis grey at zero (legible on dark and
    light backgrounds alike), a gate's hue grows with its value in 0..1, orange or blue with a
    signed value's size in ±limit."""

    colours: Mapping[str, str]
    kind: str

    def hue(self, letter: str) -> str:
        return self.colours.get(f"{self.kind}.{letter}", self.colours["gate"])

    def gate(self, value: float, letter: str, bold: bool = False) -> Style:
        amount = min(max(value, 0.0), 1.0)
        return Style(color=_mix(self.colours["axis"], self.hue(letter), amount), bold=bold)

    def signed(self, value: float, limit: float = 1.0, bold: bool = False) -> Style:
        amount = min(abs(value) / limit, 1.0)
        end = self.colours["positive" if value >= 0 else "negative"]
        return Style(color=_mix(self.colours["axis"], end, amount), bold=bold)

    def bar(self, role: str, colour: str) -> Style | None:
        if role == "axis":
            return Style(color=self.colours["axis"])
        return Style(color=colour, reverse=role == "fill-reverse") if role != "blank" else None

    @property
    def bus(self) -> Style:
        return Style(color=self.colours["axis"])

    node = Style(bold=True)
    given = Style(dim=True)


# -- pieces every figure uses ------------------------------------------------------------------


@dataclass(frozen=True)
class _Figure:
    canvas: _Canvas
    paint: _Paint
    selected: str | None
    styled: bool

    def box(self, top: int, centre: int, gate: _Gate) -> None:
        """A gate's box from row `top` (four rows): the operator with its pre-activation, over
        a bar of its value; heavy when selected."""
        canvas, paint = self.canvas, self.paint
        left, right, bottom = centre - _BOX // 2, centre - _BOX // 2 + _BOX - 1, top + 3
        canvas.wire([(top, left), (top, right), (bottom, right), (bottom, left), (top, left)],
                    Style(color=paint.hue(gate.letter)),
                    weight="heavy" if gate.letter == self.selected else "light")
        inner = _BOX - 2
        canvas.text(top + 1, left + 1 + (inner - _width(gate.inside)) // 2, gate.inside,
                    paint.node)
        if gate.function == "σ":
            segments, colour = gate_bar(gate.value, inner - 2), paint.hue(gate.letter)
        else:
            segments = signed_bar(gate.value, (inner - 2) // 2, reverse_video=self.styled)
            colour = paint.colours["positive" if gate.value >= 0 else "negative"]
        col = left + 2
        for segment in segments:
            canvas.text(top + 2, col, segment.text, paint.bar(segment.role, colour))
            col += len(segment.text)

    def node(self, row: int, col: int, operator: str) -> None:
        self.canvas.centred(row, col, operator, self.paint.node)

    def label(self, row: int, col: int, text: str, style: Style) -> None:
        """A wire's name and value beside it."""
        self.canvas.text(row, col, text, style)

    def inline(self, row: int, start: int, end: int, text: str, style: Style) -> None:
        """A value set into a horizontal wire, midway between columns start and end."""
        self.canvas.centred(row, (start + end) // 2, f" {text} ", style)

    def inputs(self, trace: Trace, t: int, row: int, stubs: list[int], join: int) -> None:
        """The bus [h_t-1, x_t] along `row`, rising into the boxes above at `stubs`: x_t joins
        it at column `join` from the row below, h_t-1 comes in from the left (the GRU brings
        it down from the top line at `join`). Their vectors are written out beside x_t."""
        canvas, paint, kind = self.canvas, self.paint, trace.cell.kind
        h_prev, x = vector_info(kind, "h_prev").symbol, vector_info(kind, "x").symbol
        if kind == "gru":
            canvas.wire([(row, join), (row, stubs[-1])], paint.bus)
        else:
            canvas.text(row, 1, h_prev, paint.node)
            canvas.wire([(row, 2 + _width(h_prev)), (row, stubs[-1])], paint.bus)
        for col in stubs:
            canvas.wire([(row, col), (row - 2, col)], paint.bus)
        canvas.text(row + 1, 1, x, paint.node)
        canvas.wire([(row + 1, 2 + _width(x)), (row + 1, join), (row, join)], paint.bus)
        given = _given((h_prev, trace["h_prev"][t]), (x, trace["x"][t]), canvas.width - join - 3)
        canvas.text(row + 1, join + 3, given, paint.given)


def _symbol(kind: str, key: str) -> str:
    return vector_info(kind, key).symbol


# -- the three cells ---------------------------------------------------------------------------


def _lstm(fig: _Figure, trace: Trace, t: int, unit: int, g: dict[str, _Gate],
          state: dict[str, float]) -> None:
    """C_t-1 → ⊙ f_t → + (i_t ⊙ C̃_t) → C_t along the top; tanh(C_t) ⊙ o_t → h_t at the
    right; with peepholes, dashed wires from C_t-1 into f and i and from C_t into o."""
    canvas, paint = fig.canvas, fig.paint
    c_prev, c, h = float(trace["c_prev"][t][unit]), state["c"], state["h"]
    kept, written = g["f"].value * c_prev, g["i"].value * g["g"].value
    squashed = float(np.tanh(c))
    limit = nice_limit(max(float(np.max(np.abs(trace[key]), initial=0.0))
                           for key in ("c_prev", "c")))
    F, IN, G, OUT = 16, 32, 48, 64  # columns of the boxes f, i, C̃, o
    TAP, ADD = 14, (IN + G) // 2  # C_t-1's peephole tap; the + above i ⊙ C̃
    C, WRITE, READ, BOXES = 1, 4, 6, 9  # rows: the cell state, i ⊙ C̃, o ⊙ tanh(C_t), boxes

    def state_style(value: float, bold: bool = False) -> Style:
        return paint.signed(value, limit, bold)

    # the cell state: C_t-1 → ⊙ → + → C_t
    canvas.text(C, 1, f"{_symbol('lstm', 'c_prev')} {_signed(c_prev)}", state_style(c_prev, True))
    canvas.wire([(C, 13), (C, F - 1)], state_style(c_prev), weight="heavy", arrow=True)
    fig.node(C, F, "⊙")
    canvas.wire([(C, F + 1), (C, ADD - 1)], state_style(kept), weight="heavy", arrow=True)
    fig.inline(C, F, ADD, _signed(kept), state_style(kept))
    fig.node(C, ADD, "+")
    canvas.wire([(C, ADD + 1), (C, OUT + 2)], state_style(c), weight="heavy", arrow=True)
    canvas.text(C, OUT + 4, f"{_symbol('lstm', 'c')} {_signed(c)}", state_style(c, True))
    # forget: f_t ⊙ C_t-1
    f_style = paint.gate(g["f"].value, "f")
    canvas.wire([(BOXES, F), (C + 1, F)], f_style, arrow=True)
    fig.label(C + 3, F + 2, g["f"].label, f_style)
    # write: i_t ⊙ C̃_t into the +, their labels between their wires
    i_style, g_style = paint.gate(g["i"].value, "i"), paint.signed(g["g"].value)
    canvas.wire([(BOXES, IN), (WRITE, IN), (WRITE, ADD - 1)], i_style, arrow=True)
    fig.label(WRITE + 2, IN + 2, g["i"].label, i_style)
    canvas.wire([(BOXES, G), (WRITE, G), (WRITE, ADD + 1)], g_style, arrow=True)
    fig.label(WRITE + 3, G - 1 - _width(g["g"].label), g["g"].label, g_style)
    fig.node(WRITE, ADD, "⊙")
    canvas.wire([(WRITE - 1, ADD), (C + 1, ADD)], paint.signed(written), arrow=True)
    fig.label(C + 2, ADD + 2, _signed(written), paint.signed(written))
    # read: o_t ⊙ tanh(C_t) → h_t
    canvas.wire([(C, OUT), (C + 2, OUT)], state_style(c))
    fig.node(C + 2, OUT, "tanh")
    canvas.wire([(C + 3, OUT), (READ - 1, OUT)], paint.signed(squashed), arrow=True)
    fig.label(C + 3, OUT + 2, _signed(squashed), paint.signed(squashed))
    o_style = paint.gate(g["o"].value, "o")
    canvas.wire([(BOXES, OUT), (READ + 1, OUT)], o_style, arrow=True)
    fig.label(READ + 2, OUT + 2, g["o"].label, o_style)
    fig.node(READ, OUT, "⊙")
    canvas.wire([(READ, OUT + 1), (READ, OUT + 2)], paint.signed(h), arrow=True)
    canvas.text(READ, OUT + 4, f"{_symbol('lstm', 'h')} {_signed(h)}", paint.signed(h, bold=True))
    for letter, col in zip("figo", (F, IN, G, OUT), strict=True):
        fig.box(BOXES, col, g[letter])
    if trace.cell.peepholes is not None:  # p ⊙ C into the pre-activations of f, i and o
        canvas.wire([(C, TAP), (C + 2, TAP), (C + 2, IN - 4), (BOXES - 1, IN - 4)],
                    state_style(c_prev), weight="dashed", arrow=True)
        canvas.wire([(C + 2, TAP), (BOXES - 1, TAP)], state_style(c_prev), weight="dashed",
                    arrow=True)
        canvas.wire([(C, OUT - 4), (BOXES - 1, OUT - 4)], state_style(c), weight="dashed",
                    arrow=True)
        for letter, row, col in (("f", BOXES - 2, TAP), ("i", BOXES - 2, IN - 4),
                                 ("o", C + 2, OUT - 4)):
            term = g[letter].terms["pc"]
            fig.label(row, col - 10, f"p⊙C {_signed(term)}", paint.signed(term))
    fig.inputs(trace, t, BOXES + 5, [F, IN, G, OUT], join=9)


def _gru(fig: _Figure, trace: Trace, t: int, unit: int, g: dict[str, _Gate],
         state: dict[str, float]) -> None:
    """h_t-1 → ⊙ → + → h_t along the top, blended by z and 1 − z as the z convention says;
    the reset product before U_n (r ⊙ h_t-1) or after it (r ⊙ (U_n·h_t-1 + b_hn))."""
    canvas, paint, cell = fig.canvas, fig.paint, trace.cell
    r, z, n = g["r"], g["z"], g["n"]
    h_prev, h = float(trace["h_prev"][t][unit]), state["h"]
    old = cell.z_weights == "old"  # h_t = z ⊙ h_t-1 + (1 − z) ⊙ Ĥ_t, else the other way
    keep = z.value if old else 1 - z.value
    kept, added = keep * h_prev, (1 - keep) * n.value
    RISER, Z, R, RESET, N = 14, 23, 39, 50, 62  # columns: h_t-1 down, z, r, reset ⊙, Ĥ
    TOP, BRANCH, PATH, BOXES, BUS = 1, 4, 5, 8, 13  # rows
    DOWN = N - 3  # where the reset term drops into Ĥ's box
    # the hidden state: h_t-1 → ⊙ → + → h_t
    canvas.text(TOP, 1, f"{_symbol('gru', 'h_prev')} {_signed(h_prev)}",
                paint.signed(h_prev, bold=True))
    canvas.wire([(TOP, RISER), (BUS, RISER)], paint.bus)
    canvas.wire([(TOP, 13), (TOP, Z - 1)], paint.signed(h_prev), weight="heavy", arrow=True)
    fig.node(TOP, Z, "⊙")
    canvas.wire([(TOP, Z + 1), (TOP, N - 1)], paint.signed(kept), weight="heavy", arrow=True)
    fig.inline(TOP, Z, N, _signed(kept), paint.signed(kept))
    fig.node(TOP, N, "+")
    canvas.wire([(TOP, N + 1), (TOP, N + 3)], paint.signed(h), weight="heavy", arrow=True)
    canvas.text(TOP, N + 5, f"{_symbol('gru', 'h')} {_signed(h)}", paint.signed(h, bold=True))
    # z up to the old state's ⊙ and across to the candidate's, 1 − z on one of the two ways
    z_style, complement = paint.gate(z.value, "z"), paint.gate(1 - z.value, "z")
    canvas.wire([(BOXES, Z), (BRANCH, Z)], z_style)
    fig.label(PATH, Z + 2, z.label, z_style)
    if old:  # z to h_t-1's ⊙, 1 − z to Ĥ_t's
        middle = (Z + N) // 2
        canvas.wire([(BRANCH, Z), (TOP + 1, Z)], z_style, arrow=True)
        canvas.wire([(BRANCH, Z), (BRANCH, middle - 3)], z_style)
        fig.node(BRANCH, middle, " 1−z ")
        canvas.wire([(BRANCH, middle + 3), (BRANCH, N - 1)], complement, arrow=True)
        fig.inline(BRANCH, middle + 3, N, _fraction(1 - z.value), complement)
    else:  # 1 − z to h_t-1's ⊙, z to Ĥ_t's
        canvas.wire([(BRANCH, Z), (TOP + 2, Z)], z_style)
        canvas.wire([(TOP + 2, Z), (TOP + 1, Z)], complement, arrow=True)
        fig.node(TOP + 2, Z, "1−z")
        fig.label(TOP + 2, Z + 3, _fraction(1 - z.value), complement)
        canvas.wire([(BRANCH, Z), (BRANCH, N - 1)], z_style, arrow=True)
    fig.node(BRANCH, N, "⊙")
    canvas.wire([(BRANCH - 1, N), (TOP + 1, N)], paint.signed(added), arrow=True)
    fig.label(TOP + 2, N + 2, _signed(added), paint.signed(added))
    n_style = paint.signed(n.value)
    canvas.wire([(BOXES, N), (BRANCH + 1, N)], n_style, arrow=True)
    fig.label(BRANCH + 2, N + 2, n.label, n_style)
    # r into the reset product, whose result drops into Ĥ's box
    r_style = paint.gate(r.value, "r")
    canvas.wire([(BOXES, R), (PATH, R), (PATH, RESET - 1)], r_style, arrow=True)
    fig.label(PATH + 1, R + 2, r.label, r_style)
    fig.node(PATH, RESET, "⊙")
    canvas.wire([(BUS, RESET), (PATH + 1, RESET)], paint.bus, arrow=True)
    if cell.reset == "before":  # Ĥ_t sees U_n·(r ⊙ h_t-1)
        term, product = n.terms["U(r⊙h)"], r.value * h_prev
        fig.label(BUS - 1, RESET + 2, _symbol("gru", "h_prev"), paint.bus)
        canvas.wire([(PATH, RESET + 1), (PATH, DOWN), (PATH + 1, DOWN)], paint.signed(product))
        fig.inline(PATH, RESET, DOWN, _signed(product), paint.signed(product))
        fig.node(PATH + 1, DOWN, "U_n")
        fig.label(BOXES - 1, DOWN - 6, _signed(term), paint.signed(term))
    else:  # Ĥ_t sees r ⊙ (U_n·h_t-1 + b_hn)
        inner = n.terms["Uh"] + n.terms["b_h"]
        term = r.value * inner
        fig.node(BUS - 1, RESET, "U_n")
        fig.label(BUS - 1, RESET + 3, _signed(inner), paint.signed(inner))
        canvas.wire([(PATH, RESET + 1), (PATH, DOWN), (PATH + 1, DOWN)], paint.signed(term))
        fig.inline(PATH, RESET, DOWN, _signed(term), paint.signed(term))
    canvas.wire([(PATH + 1, DOWN), (BOXES - 1, DOWN)], paint.signed(term), arrow=True)
    for letter, col in zip("zrn", (Z, R, N), strict=True):
        fig.box(BOXES, col, g[letter])
    fig.inputs(trace, t, BUS, [Z, R, N], join=RISER)


def _rnn(fig: _Figure, trace: Trace, t: int, unit: int, g: dict[str, _Gate],
         state: dict[str, float]) -> None:
    """h_t = tanh(W x_t + U h_t-1 + b): one box."""
    gate, canvas = g["h"], fig.canvas
    COL, OUT, BOXES = 32, 1, 3
    style = fig.paint.signed(gate.value)
    canvas.wire([(BOXES, COL), (OUT, COL), (OUT, COL + 5)], style, arrow=True)
    canvas.text(OUT, COL + 7, gate.label, fig.paint.signed(gate.value, bold=True))
    fig.box(BOXES, COL, gate)
    fig.inputs(trace, t, BOXES + 5, [COL], join=9)
