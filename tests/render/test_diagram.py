"""The cell diagram (SPEC §11): its numbers against SPEC §1's equations written out here, its
wiring read back from the plain text by following the wires, its size, and plain output.

The readers below know the figure only as a reader would: a state line with its label at the
left, ⊙ and + nodes, boxes holding σ(…) or tanh(…), wires that turn at corners, and labels
beside wires or set into them. Every number they read is compared with the equations, so a
drawing with the right numbers in the wrong places fails.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pytest
from rich.console import Console

from gru_tui.core.examples import example_layers
from gru_tui.engine import LSTMCell, random_cell
from gru_tui.render.diagram import cell_diagram, diagram_nodes, diagram_size

# -- SPEC §1, written out again ----------------------------------------------------------------


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def reference(cell, xs, h0, c0=None) -> list[dict[str, np.ndarray]]:
    """Every vector of every step, with the products the figure shows, by SPEC §1."""
    weights = {letter: cell.gate(letter) for letter in cell.GATES}

    def affine(letter, x, h):
        W, U, b_i, b_h = weights[letter]
        return W @ x + b_i + U @ h + b_h

    h, c, steps = np.asarray(h0, float), None if c0 is None else np.asarray(c0, float), []
    for x in xs:
        s = {"x": x, "h_prev": h}
        if cell.kind == "rnn":
            s["pre"] = affine("h", x, h)
            h = np.tanh(s["pre"])
        elif cell.kind == "gru":
            s["r_pre"], s["z_pre"] = affine("r", x, h), affine("z", x, h)
            r, z = sigmoid(s["r_pre"]), sigmoid(s["z_pre"])
            W_n, U_n, b_in, b_hn = weights["n"]
            if cell.reset == "before":  # n = tanh(W_n x + b_in + U_n (r ⊙ h) + b_hn)
                s["product"] = r * h
                s["reset_term"] = U_n @ (r * h)
                s["n_pre"] = W_n @ x + b_in + s["reset_term"] + b_hn
            else:  # n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))
                s["inner"] = U_n @ h + b_hn
                s["reset_term"] = r * s["inner"]
                s["n_pre"] = W_n @ x + b_in + s["reset_term"]
            n = np.tanh(s["n_pre"])
            if cell.z_weights == "old":  # h' = z ⊙ h + (1 − z) ⊙ n
                s["kept"], s["added"] = z * h, (1 - z) * n
            else:  # h' = (1 − z) ⊙ h + z ⊙ n
                s["kept"], s["added"] = (1 - z) * h, z * n
            s.update(r=r, z=z, n=n, one_minus_z=1 - z)
            h = s["kept"] + s["added"]
        else:
            P = cell.peepholes if cell.peepholes is not None else np.zeros((3, len(h)))
            s["c_prev"] = c
            s["pi"], s["pf"] = P[0] * c, P[1] * c  # i and f see p ⊙ c
            s["i_pre"] = affine("i", x, h) + s["pi"]
            s["f_pre"] = affine("f", x, h) + s["pf"]
            s["g_pre"] = affine("g", x, h)
            i, f, g = sigmoid(s["i_pre"]), sigmoid(s["f_pre"]), np.tanh(s["g_pre"])
            c = f * c + i * g  # c' = f ⊙ c + i ⊙ g
            s["po"] = P[2] * c  # o sees p ⊙ c'
            s["o_pre"] = affine("o", x, h) + s["po"]
            o = sigmoid(s["o_pre"])
            s.update(i=i, f=f, g=g, o=o, kept=f * s["c_prev"], written=i * g, c=c,
                     squashed=np.tanh(c))
            h = o * np.tanh(c)  # h' = o ⊙ tanh(c')
        s["h"] = h
        steps.append(s)
    return steps


def unit_numbers(cell, step: dict[str, np.ndarray], j: int) -> dict[str, float]:
    """Unit j's numbers of one step: those the figure draws for this cell."""
    numbers = {k: float(v[j]) for k, v in step.items() if k != "x"}
    if cell.kind != "gru":  # only the GRU's top line carries h_t-1's own unit
        numbers.pop("h_prev")
    if cell.kind == "lstm" and cell.peepholes is None:
        for key in ("pi", "pf", "po"):
            numbers.pop(key)
    return numbers


# -- reading the drawing back ------------------------------------------------------------------

WIRES = set("─━┄│┃┆╭╮╰╯┏┓┗┛┬┴├┤┼┯┷▶◀▲▼")
ALONG = {"U": set("│┃┆▲▼"), "D": set("│┃┆▲▼"), "L": set("─━┄▶◀"), "R": set("─━┄▶◀")}
TURNS = {("╭", "U"): "R", ("╭", "L"): "D", ("╮", "U"): "L", ("╮", "R"): "D",
         ("╰", "D"): "R", ("╰", "L"): "U", ("╯", "D"): "L", ("╯", "R"): "U"}
STEP = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
NUMBER = re.compile(r"[+-]?(\d+\.\d\d|\de\d+)")


def is_number(word: str) -> bool:
    return NUMBER.fullmatch(word) is not None


@dataclass
class Stop:
    """Where a walk along a wire ended: the word or wire glyph there, and what it passed."""

    word: str
    row: int
    col: int
    passed: list[str] = field(default_factory=list)  # words set into the wire, in order
    path: list[tuple[int, int]] = field(default_factory=list)


class Drawing:
    def __init__(self, text: str) -> None:
        self.rows = [self._cells(line) for line in text.split("\n")]

    @staticmethod
    def _cells(line: str) -> list[str]:
        cells: list[str] = []
        for char in line:
            if unicodedata.combining(char) and cells:
                cells[-1] += char
            else:
                cells.append(char)
        return cells

    def at(self, row: int, col: int) -> str:
        if 0 <= row < len(self.rows) and 0 <= col < len(self.rows[row]):
            return self.rows[row][col]
        return " "

    def words(self, row: int) -> list[tuple[str, int]]:
        """The words of a row (runs of cells that are neither space nor wire), with their
        first columns."""
        found, word, start = [], "", 0
        for col, cell in enumerate([*self.rows[row], " "]):
            if cell == " " or cell in WIRES:
                if word:
                    found.append((word, start))
                word = ""
            else:
                start = col if not word else start
                word += cell
        return found

    def span(self, row: int, col: int) -> tuple[int, int]:
        start = end = col
        while self.at(row, start - 1) not in WIRES | {" "}:
            start -= 1
        while self.at(row, end + 1) not in WIRES | {" "}:
            end += 1
        return start, end

    def word_at(self, row: int, col: int) -> str:
        start, end = self.span(row, col)
        return "".join(self.rows[row][start : end + 1])

    def row_starting(self, word: str) -> int:
        rows = [r for r in range(len(self.rows)) if self.words(r)[:1] == [(word, 1)]]
        assert len(rows) == 1, f"{word!r} starts rows {rows}"
        return rows[0]

    def column(self, row: int, word: str, nth: int = 0) -> int:
        return [col for w, col in self.words(row) if w == word][nth]

    def value_after(self, row: int, word: str) -> float:
        """The number that follows `word` in its row: "f_t 0.65" → 0.65."""
        words = self.words(row)
        values = [words[k + 1][0] for k, (w, _) in enumerate(words[:-1]) if w == word]
        assert len(values) == 1 and is_number(values[0]), (word, words)
        return float(values[0])

    def label(self, symbol: str) -> tuple[int, tuple[int, int], float]:
        """A wire's label "symbol value": its row, the columns a wire beside it would take
        (two left of it, two right of it) and the value."""
        hits = [(r, k) for r in range(len(self.rows)) for k, (w, _) in enumerate(self.words(r))
                if w == symbol and k + 1 < len(self.words(r))
                and is_number(self.words(r)[k + 1][0])]
        assert len(hits) == 1, f"label {symbol!r} found at {hits}"
        row, k = hits[0]
        start, (value, after) = self.words(row)[k][1], self.words(row)[k + 1]
        return row, (start - 2, after + len(value) + 1), float(value)

    def follow(self, row: int, col: int, direction: str) -> Stop:
        """Walk the wire leaving (row, col) in `direction` to whatever it runs into, turning
        at corners, going straight over crossings and over words set into the wire."""
        stop = Stop("", row, col)
        while True:
            dr, dc = STEP[direction]
            row, col = row + dr, col + dc
            cell = self.at(row, col)
            stop.path.append((row, col))
            if cell in ALONG[direction]:
                continue
            if (cell, direction) in TURNS:
                direction = TURNS[(cell, direction)]
                continue
            across = "U" if direction in "LR" else "L"
            if cell in ALONG[across] and self.at(row + dr, col + dc) in ALONG[direction]:
                continue  # a crossing
            if cell == " " and direction in "LR" and self.at(row, col + dc) not in WIRES | {" "}:
                start, end = self.span(row, col + dc)
                beyond = end + 1 if dc > 0 else start - 1
                if self.at(row, beyond) == " " and self.at(row, beyond + dc) in ALONG[direction]:
                    stop.passed.append(self.word_at(row, col + dc))
                    col = beyond
                    continue
                col += dc  # the wire ends in an arrow and a space before a word: "▶ h_t"
                cell = self.at(row, col)
            assert cell != " ", f"the wire ends in nothing at ({row}, {col})"
            stop.word = cell if cell in WIRES else self.word_at(row, col)
            stop.row, stop.col = row, col
            return stop

    def box(self, stop: Stop) -> tuple[str, float, int]:
        """The box whose top border the walk reached: its operator, the number inside and
        its left edge."""
        assert stop.word in set("─━┴┷"), f"expected a box's top, got {stop.word!r}"
        left, right = stop.col, stop.col
        while self.at(stop.row, left) not in "╭┏":
            left -= 1
        while self.at(stop.row, right) not in "╮┓":
            right += 1
        inside = "".join(self.rows[stop.row + 1][left + 1 : right]).strip()
        found = re.fullmatch(r"(σ|tanh)\((.+)\)", inside)
        assert found, f"box holds {inside!r}"
        return found[1], float(found[2]), left

    def beside(self, stop: Stop, side: int = 1) -> float:
        """The one number labelling the vertical part of a walk, right of it (side 1: its
        first cell two columns right) or left of it (side -1: its last cell two columns
        left)."""
        values = set()
        for row, col in stop.path:
            for word, start in self.words(row):
                end = start + len(self._cells(word)) - 1
                if is_number(word) and (start == col + 2 if side > 0 else end == col - 2):
                    values.add(float(word))
        assert len(values) == 1, f"labels beside the wire: {values}"
        return values.pop()


def words_only(drawing: Drawing, row: int) -> list[str]:
    """A row's words with every number written as "#"."""
    return ["#" if is_number(w) else w for w, _ in drawing.words(row)]


def labelled_wire(drawing: Drawing, symbol: str, stop: Stop) -> float:
    """The value of the label `symbol`, after checking it labels the wire of this walk."""
    row, sides, value = drawing.label(symbol)
    assert {(row, col) for col in sides} & set(stop.path), f"{symbol} labels another wire"
    return value


def read_given(drawing: Drawing) -> dict[str, list[float]]:
    """The vectors written out under the bus: "h_t-1 = [+0.20 …]   x_t = […]"."""
    last = "".join(drawing.rows[-1])
    return {name: [float(v) for v in values.split() if is_number(v)]
            for name, values in re.findall(r"(\S+) = \[([^\]]*)\]", last)}


def read_lstm(drawing: Drawing, peepholes: bool) -> dict[str, float]:
    d, got = drawing, {}
    c = d.row_starting("C_t-1")
    assert words_only(d, c) == ["C_t-1", "#", "⊙", "#", "+", "C_t", "#"]
    got["c_prev"], got["kept"], got["c"] = (float(w) for w, _ in d.words(c) if is_number(w))
    forget, add = d.column(c, "⊙"), d.column(c, "+")
    # C_t-1 ⊙ f_t: straight down from the ⊙ to f's box
    walk = d.follow(c, forget, "D")
    _, got["f_pre"], f_box = d.box(walk)
    got["f"] = labelled_wire(d, "f_t", walk)
    # + (i_t ⊙ C̃_t): down from the + to a ⊙ fed by i's box from the left, C̃'s from the right
    product = d.follow(c, add, "D")
    assert product.word == "⊙"
    got["written"] = d.beside(product)
    walk = d.follow(product.row, product.col, "L")
    _, got["i_pre"], i_box = d.box(walk)
    got["i"] = labelled_wire(d, "i_t", walk)
    walk = d.follow(product.row, product.col, "R")
    function, got["g_pre"], _ = d.box(walk)
    assert function == "tanh"
    got["g"] = labelled_wire(d, "C̃_t", walk)
    # C_t → tanh → ⊙ o_t → h_t
    taps = [col for col, cell in enumerate(d.rows[c]) if cell == "┯"]
    squash = [d.follow(c, col, "D") for col in taps if col > add]
    squash = [walk for walk in squash if walk.word == "tanh"]
    assert len(squash) == 1
    out = d.follow(squash[0].row, squash[0].col, "D")
    assert out.word == "⊙"
    got["squashed"] = d.beside(out)
    walk = d.follow(out.row, out.col, "D")
    _, got["o_pre"], o_box = d.box(walk)
    got["o"] = labelled_wire(d, "o_t", walk)
    walk = d.follow(out.row, out.col, "R")
    assert walk.word == "h_t"
    got["h"] = d.value_after(walk.row, "h_t")
    # peepholes: dashed wires from C_t-1 into f and i, from C_t into o
    peeps = [(col, d.follow(c, col, "D")) for col in taps]
    peeps = [(col, walk) for col, walk in peeps if walk.word != "tanh"]
    assert len(peeps) == (2 if peepholes else 0)
    if peepholes:
        (before, split), (after, into_o) = peeps
        assert before < forget < add < after
        assert split.word == "├"
        into_f = d.follow(split.row, split.col, "D")
        into_i = d.follow(split.row, split.col, "R")
        for key, walk, box in (("pf", into_f, f_box), ("pi", into_i, i_box),
                               ("po", into_o, o_box)):
            assert d.box(walk)[2] == box, f"{key} enters the wrong box"
            got[key] = d.beside(walk, side=-1)
    given = read_given(d)
    return got, given


def read_gru(drawing: Drawing, reset: str, z_weights: str) -> dict[str, float]:
    d, got = drawing, {}
    top = d.row_starting("h_t-1")
    assert words_only(d, top) == ["h_t-1", "#", "⊙", "#", "+", "h_t", "#"]
    got["h_prev"], got["kept"], got["h"] = (float(w) for w, _ in d.words(top) if is_number(w))
    keep, add = d.column(top, "⊙"), d.column(top, "+")
    # the old state's weight: z straight up from its box, or 1 − z on that way
    walk = d.follow(top, keep, "D")
    if z_weights == "new":
        assert walk.word == "1−z"
        got["one_minus_z"] = d.value_after(walk.row, "1−z")
        walk = d.follow(walk.row, walk.col, "D")
    split = walk
    assert split.word == "├"
    walk = d.follow(split.row, split.col, "D")
    _, got["z_pre"], _ = d.box(walk)
    got["z"] = labelled_wire(d, "z_t", walk)
    # the candidate's weight, across to the ⊙ under the +
    across = d.follow(split.row, split.col, "R")
    assert across.word == "⊙"
    if z_weights == "old":
        assert across.passed[0] == "1−z" and len(across.passed) == 2
        got["one_minus_z"] = float(across.passed[1])
    else:
        assert across.passed == []
    product = d.follow(top, add, "D")
    assert (product.row, product.col) == (across.row, across.col)
    got["added"] = d.beside(product)
    walk = d.follow(product.row, product.col, "D")
    function, got["n_pre"], n_box = d.box(walk)
    assert function == "tanh"
    got["n"] = labelled_wire(d, "Ĥ_t", walk)
    # r: from its box (the middle one) up and across into the reset ⊙
    border = walk.row
    stubs = [col for col, cell in enumerate(d.rows[border]) if cell in "┴┷"]
    assert len(stubs) == 3
    walk = d.follow(border, stubs[1], "U")
    assert walk.word == "⊙" and walk.passed == []
    got["r"] = labelled_wire(d, "r_t", walk)
    got["r_pre"] = d.box(Stop("┴", border, stubs[1]))[1]
    reset_node = walk
    # the path from the bus through the reset product into Ĥ's box: the order of ⊙ and U_n
    feed = d.follow(reset_node.row, reset_node.col, "D")
    into = d.follow(reset_node.row, reset_node.col, "R")
    if feed.word == "U_n":  # U_n·h_t-1 + b_hn first, then ⊙ r
        order = ["bus", "U_n", "⊙", "Ĥ"]
        got["inner"] = d.value_after(feed.row, "U_n")
        bus = d.follow(feed.row, feed.col, "D")
        assert len(into.passed) == 1
        got["reset_term"] = float(into.passed[0])
        entry = into
    else:  # h_t-1 ⊙ r first, then U_n
        order = ["bus", "⊙", "U_n", "Ĥ"]
        bus = feed
        assert d.word_at(bus.row - 1, bus.col + 2) == "h_t-1"
        assert into.word == "U_n" and len(into.passed) == 1
        got["product"] = float(into.passed[0])
        entry = d.follow(into.row, into.col, "D")
        got["reset_term"] = d.beside(entry, side=-1)
    assert bus.word == "┴" and bus.row == len(d.rows) - 2, "the reset ⊙ is fed from the bus"
    assert d.box(entry)[2] == n_box, "the reset term enters Ĥ's box"
    assert order == (["bus", "⊙", "U_n", "Ĥ"] if reset == "before" else
                     ["bus", "U_n", "⊙", "Ĥ"])
    return got, read_given(d)


def read_rnn(drawing: Drawing) -> dict[str, float]:
    d = drawing
    border = next(r for r in range(len(d.rows)) if "╭" in d.rows[r] and "┴" in d.rows[r])
    stub = d.rows[border].index("┴")
    walk = d.follow(border, stub, "U")
    assert walk.word == "h_t"
    function, pre, _ = d.box(Stop("┴", border, stub))
    assert function == "tanh"
    return {"pre": pre, "h": d.value_after(walk.row, "h_t")}, read_given(d)


def read(text: str, cell) -> tuple[dict[str, float], dict[str, list[float]]]:
    drawing = Drawing(text)
    if cell.kind == "lstm":
        return read_lstm(drawing, cell.peepholes is not None)
    if cell.kind == "gru":
        return read_gru(drawing, cell.reset, cell.z_weights)
    return read_rnn(drawing)


def plain(trace, t, j, **options) -> str:
    return cell_diagram(trace, t, j, styled=False, **options).plain


# -- the cells and runs the tests draw ----------------------------------------------------------

D, H, T = 4, 5, 6


def peephole_lstm(seed: int = 3) -> LSTMCell:
    base = random_cell("lstm", D, H, seed=seed)
    peepholes = np.random.default_rng(seed).uniform(-1.5, 1.5, (3, H))
    return LSTMCell(base.W, base.U, base.b_i, base.b_h, peepholes=peepholes)


CELLS = {
    "rnn": lambda: random_cell("rnn", D, H, seed=1),
    **{f"gru-{reset}-{z}": (lambda reset=reset, z=z: random_cell(
        "gru", D, H, seed=2, reset=reset, z_weights=z))
       for reset in ("before", "after") for z in ("old", "new")},
    "lstm": lambda: random_cell("lstm", D, H, seed=3),
    "lstm-peepholes": peephole_lstm,
}


@dataclass
class Run:
    cell: object
    xs: np.ndarray
    h0: np.ndarray
    c0: np.ndarray | None

    @property
    def trace(self):
        return self.cell.run(self.xs, self.h0, self.c0)

    def expected(self, t: int, j: int) -> dict[str, float]:
        return unit_numbers(self.cell, reference(self.cell, self.xs, self.h0, self.c0)[t], j)


def run(name: str) -> Run:
    cell = CELLS[name]()
    rng = np.random.default_rng(7)
    xs, h0 = rng.uniform(-1.5, 1.5, (T, D)), rng.uniform(-1, 1, H)
    return Run(cell, xs, h0, rng.uniform(-2, 2, H) if cell.kind == "lstm" else None)


def assert_numbers(got: dict[str, float], expected: dict[str, float]) -> None:
    """Every number read equals the equations' value rounded to two decimals."""
    assert set(got) == set(expected), set(got) ^ set(expected)
    for key, value in expected.items():
        assert abs(got[key] - value) <= 0.005 + 1e-12, f"{key}: drawn {got[key]}, is {value}"


# -- the numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize(("t", "j"), [(0, 0), (2, 4), (5, 2)])
def test_every_number_is_the_equations_value_in_its_place(name, t, j):
    case = run(name)
    got, given = read(plain(case.trace, t, j), case.cell)
    assert_numbers(got, case.expected(t, j))
    h_prev = case.h0 if t == 0 else reference(case.cell, case.xs, case.h0, case.c0)[t - 1]["h"]
    for symbol, vector in (("x_t", case.xs[t]), ("h_t-1", h_prev)):
        assert len(given[symbol]) >= 2
        assert np.allclose(given[symbol], vector[: len(given[symbol])], atol=0.005)


def test_the_numbers_in_the_wrong_places_fail():
    """The check can fail: the f and i boxes' contents swapped, the readers notice."""
    case = run("lstm")
    text = plain(case.trace, 1, 1)
    assert_numbers(read(text, case.cell)[0], case.expected(1, 1))
    f_box = re.search(r"σ\([^)]*\)", text)[0]
    i_box = re.findall(r"σ\([^)]*\)", text)[1]
    assert f_box != i_box
    swapped = text.replace(f_box, "@").replace(i_box, f_box).replace("@", i_box)
    with pytest.raises(AssertionError):
        assert_numbers(read(swapped, case.cell)[0], case.expected(1, 1))


def test_the_slides_worked_example():
    """The seed slide "LSTM Calculation (3D Vector Example)": x_1 = [0.5, -0.3, 0.8],
    h_0 = [0.2, 0.4, -0.1], C_0 = [0.6, -0.2, 0.3] give f = [0.65, 0.42, 0.78],
    i = [0.53, 0.71, 0.48], C̃ = [0.32, -0.54, 0.67] and C_t = f ⊙ C_0 + i ⊙ C̃; the GRU
    slide gives r = [0.58, 0.73, 0.45], z = [0.66, 0.42, 0.51]. (The slide prints C_t's third
    unit as 0.55; its own gates give 0.78 × 0.3 + 0.48 × 0.67 = 0.5556.)"""
    x1, h0, c0 = [0.5, -0.3, 0.8], [0.2, 0.4, -0.1], [0.6, -0.2, 0.3]
    f, i, g = (0.65, 0.42, 0.78), (0.53, 0.71, 0.48), (0.32, -0.54, 0.67)
    cells = {layer.kind: layer.cell() for layer in example_layers("slides")}
    lstm, gru = cells["lstm"].run([x1], h0, c0), cells["gru"].run([x1], h0)
    for j in range(3):
        drawing = Drawing(plain(lstm, 0, j))
        got, _ = read_lstm(drawing, peepholes=False)
        assert (got["c_prev"], got["f"], got["i"], got["g"]) == (c0[j], f[j], i[j], g[j])
        assert got["c"] == round(f[j] * c0[j] + i[j] * g[j], 2)
        drawing = Drawing(plain(gru, 0, j))
        assert drawing.label("r_t")[2] == (0.58, 0.73, 0.45)[j]
        assert drawing.label("z_t")[2] == (0.66, 0.42, 0.51)[j]
    first = plain(lstm, 0, 0)  # the acceptance line: f 0.65, i 0.53, C̃ 0.32, C_t 0.56
    for shown in ("f_t 0.65", "i_t 0.53", "C̃_t +0.32", "C_t +0.56"):
        assert shown in first


# -- the wiring --------------------------------------------------------------------------------


@pytest.mark.parametrize("peepholes", [False, True])
def test_lstm_cell_state_runs_along_the_top_through_forget_then_write(peepholes):
    """C_t-1 → ⊙ (f_t below) → + (⊙ of i_t and C̃_t below) → C_t, left to right."""
    d = Drawing(plain(run("lstm-peepholes" if peepholes else "lstm").trace, 3, 1))
    c = d.row_starting("C_t-1")
    assert words_only(d, c) == ["C_t-1", "#", "⊙", "#", "+", "C_t", "#"]
    product = d.follow(c, d.column(c, "+"), "D")
    assert product.word == "⊙"
    sources = [d.follow(product.row, product.col, side) for side in "LR"]
    assert [d.box(walk)[0] for walk in sources] == ["σ", "tanh"]
    assert d.label("i_t")[1][0] < product.col < d.label("C̃_t")[1][1]


@pytest.mark.parametrize("reset", ["before", "after"])
@pytest.mark.parametrize("z_weights", ["old", "new"])
def test_gru_state_runs_along_the_top_and_1_minus_z_goes_where_the_convention_says(
        reset, z_weights):
    d = Drawing(plain(run(f"gru-{reset}-{z_weights}").trace, 2, 3))
    top = d.row_starting("h_t-1")
    assert words_only(d, top) == ["h_t-1", "#", "⊙", "#", "+", "h_t", "#"]
    up = d.follow(top, d.column(top, "⊙"), "D")
    # z weights the old state: z rises straight to h_t-1's ⊙; 1 − z sits on the way to Ĥ's
    assert (up.word == "1−z") == (z_weights == "new")
    read_gru(d, reset, z_weights)  # walks the reset path and checks ⊙ and U_n's order


@pytest.mark.parametrize("name", CELLS)
def test_boxes_stand_in_diagram_nodes_order_and_the_selected_one_is_heavy(name):
    case = run(name)
    letters = diagram_nodes(case.cell)
    expected = case.expected(4, 0)
    pre = {"rnn": {"h": "pre"}}.get(case.cell.kind, {k: f"{k}_pre" for k in letters})
    for selected in (None, *letters):
        d = Drawing(plain(case.trace, 4, 0, selected=selected))
        border = next(r for r in range(len(d.rows)) if d.rows[r].count("╮") +
                      d.rows[r].count("┓") == len(letters))
        corners = [col for col, cell in enumerate(d.rows[border]) if cell in "╭┏"]
        boxes = [d.box(Stop("─", border, col + 1)) for col in corners]
        assert [value for _, value, _ in boxes] == pytest.approx(
            [expected[pre[letter]] for letter in letters], abs=0.005)
        heavy = [d.rows[border][col] == "┏" for col in corners]
        assert heavy == [letter == selected for letter in letters]


# -- size and output ---------------------------------------------------------------------------


EXTREME = {"xs": [[1e308, -1e308, 5e307, 2.0], [0.5, 1e-9, -0.0, 3.0]],
           "h0": [1e308, -1e308, 0.0, 1.0, -1.0], "c0": [1e308, -1e308, 1e5, -99.999, 0.0]}


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("extreme", [False, True])
def test_one_model_fits_80_columns_at_its_stated_size(name, extreme):
    cell = CELLS[name]()
    if extreme:
        trace = cell.run(EXTREME["xs"], EXTREME["h0"],
                         EXTREME["c0"] if cell.kind == "lstm" else None)
    else:
        trace = run(name).trace
    width, height = diagram_size(cell)
    assert width <= 80
    for t in range(trace.steps if extreme else 1):
        for j in range(H):
            lines = plain(trace, t, j).split("\n")
            assert len(lines) == height
            assert max(Drawing._cells(line).__len__() for line in lines) <= width


@pytest.mark.parametrize("name", CELLS)
def test_plain_output_has_no_escape_codes_and_a_terminal_gets_colour(name):
    trace = run(name).trace
    out = io.StringIO()
    Console(file=out, width=80, force_terminal=False).print(
        cell_diagram(trace, 1, 1, styled=False))
    assert "\x1b" not in out.getvalue()
    assert not cell_diagram(trace, 1, 1, styled=False).spans
    coloured = io.StringIO()
    Console(file=coloured, width=80, force_terminal=True, color_system="truecolor").print(
        cell_diagram(trace, 1, 1))
    assert "\x1b[" in coloured.getvalue()


def test_bad_arguments_are_refused_with_a_clear_message():
    trace = run("gru-before-old").trace
    with pytest.raises(ValueError, match="step 6"):
        cell_diagram(trace, T, 0)
    with pytest.raises(ValueError, match="unit 5"):
        cell_diagram(trace, 0, H)
    with pytest.raises(ValueError, match="no gate 'f'"):
        cell_diagram(trace, 0, 0, selected="f")
