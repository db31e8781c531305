"""Names, symbols, scales, colours and one-line explanations of every vector, defined once.

The command line and the app both draw from this table, so a gate is called the same thing,
written with the same symbol and painted the same colour everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from gru_tui.engine.gates import TABLES

MODEL_TITLES = {"gru": "GRU", "lstm": "LSTM", "rnn": "Simple RNN"}
MODEL_SHORT = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}

# How a vector's values are drawn, one scale per kind of quantity, the same in every panel:
#   "gate"   σ outputs, 0..1, a bar growing from the left;
#   "signed" inputs, hidden states and the GRU's candidate: one range around 0 shared by x_t,
#            h_0, h_t-1, Ĥ_t and h_t (±1 unless an input or a state goes beyond);
#   "state"  the LSTM's cell state and what is written into it (C_0, C_t-1, C̃_t, C_t): a
#            range of its own, since the cell state is not bounded.
SCALES = ("gate", "signed", "state")
NAME_WIDTH, LABEL_WIDTH, SHORT_WIDTH = 21, 11, 6  # the longest name, label and short form


@dataclass(frozen=True)
class VectorInfo:
    key: str  # the record key of SPEC §3
    symbol: str  # the seed slides' notation
    name: str  # in words, in full
    scale: str  # one of SCALES
    role: str  # what it does, in one line
    label: str = ""  # the name in at most LABEL_WIDTH cells, for narrow panels
    short: str = ""  # in at most SHORT_WIDTH cells, for the narrowest
    colour: str = ""  # its palette key; "" for values coloured by their sign

    def words(self, room: int) -> str:
        """The vector's name in words for a column of `room` cells: in full from NAME_WIDTH
        (every name then fits), as its label from LABEL_WIDTH, else in short (cut below
        SHORT_WIDTH). A panel's names column is one of these widths, so its names read
        alike."""
        if room >= NAME_WIDTH:
            return self.name
        if room >= LABEL_WIDTH:
            return self.label or self.name[:room]
        return (self.short or self.label or self.name)[:max(room, 0)]


def _v(key: str, symbol: str, name: str, scale: str, role: str, label: str,
       short: str) -> VectorInfo:
    return VectorInfo(key, symbol, name, scale, role, label, short)


def _gate(model: str, letter: str, name: str, role: str, label: str, short: str) -> VectorInfo:
    """A gate or candidate: its record key and symbol from the engine's gate table; a σ gate
    gets its own colour, a candidate the scale of what it proposes to."""
    gate = TABLES[model].gate(letter)
    if gate.squash == "σ":
        return VectorInfo(gate.name, gate.symbol, name, "gate", role, label, short,
                          f"{model}.{letter}")
    scale = "state" if model == "lstm" else "signed"  # C̃_t is written into the cell state
    return VectorInfo(gate.name, gate.symbol, name, scale, role, label, short)


_X = _v("x", "x_t", "input", "signed", "what the sequence feeds in at this step", "input",
        "input")
_H_PREV = _v("h_prev", "h_t-1", "previous hidden state", "signed",
             "the memory carried over from the step before", "previous", "prev h")

VECTORS: dict[str, tuple[VectorInfo, ...]] = {
    "gru": (
        _X,
        _H_PREV,
        _gate("gru", "r", "reset gate",
              "how much of the old memory may shape the candidate (0: ignore the past)",
              "reset gate", "reset"),
        _gate("gru", "z", "update gate",
              "per unit, how much old memory is kept rather than replaced by the candidate",
              "update gate", "update"),
        _gate("gru", "n", "candidate",
              "a proposal for the new memory, from the input and the reset-filtered past",
              "candidate", "cand."),
        _v("h", "h_t", "hidden state", "signed",
           "the new memory: old memory and candidate blended by the update gate", "hidden",
           "hidden"),
    ),
    "lstm": (
        _X,
        _H_PREV,
        _v("c_prev", "C_t-1", "previous cell state", "state",
           "the long-term memory carried over from the step before", "prev. cell", "prev C"),
        _gate("lstm", "f", "forget gate",
              "how much of each cell-state unit survives from the step before", "forget gate",
              "forget"),
        _gate("lstm", "i", "input gate",
              "how much of the candidate gets written into the cell state", "input gate",
              "input"),
        _gate("lstm", "g", "candidate",
              "new content that could be written into the cell state", "candidate",
              "cand."),
        _gate("lstm", "o", "output gate",
              "how much of the cell state is shown as the hidden state", "output gate",
              "output"),
        _v("c", "C_t", "cell state", "state",
           "the long-term memory: what survived forgetting plus what was written",
           "cell state", "cell"),
        _v("h", "h_t", "hidden state", "signed",
           "what the cell shows the next step and the layer above: o ⊙ tanh(C_t)", "hidden",
           "hidden"),
    ),
    "rnn": (
        _X,
        _H_PREV,
        _v("h", "h_t", "hidden state", "signed",
           "tanh of input and old memory together; nothing decides what to keep", "hidden",
           "hidden"),
    ),
}

# The initial states, as the inputs panel names them (it edits them; x_t is VECTORS' own).
INITIAL_STATES = {
    "h0": _v("h_prev", "h_0", "initial hidden state", "signed",
             "the memory the run starts from", "initial h", "init h"),
    "c0": _v("c_prev", "C_0", "initial cell state", "state",
             "the long-term memory the LSTM starts from", "initial C", "init C"),
}

# With z weighting the new state (Olah's blog, Wikipedia) the update gate's job reads the
# other way round.
UPDATE_ROLE_Z_NEW = "per unit, how much of the candidate replaces the old memory"

# Okabe–Ito and Paul Tol colours, chosen by simulating protanopia, deuteranopia and
# tritanopia (Machado 2009): the gates of one model stay apart under each. The gates have
# hues by role, shared by the two gated cells: green keeps the memory (GRU z, LSTM f: what
# `k` opens), yellow / gold reads it (GRU r reads the past into the candidate, LSTM o reads
# the cell out), violet / indigo writes it (the LSTM's i). Candidates and states are orange
# when positive and blue when negative; sign and size are also carried by direction and
# length, so NO_COLOR loses nothing. "gate" is the colour of any gate without one of its own.
# Besides colours, a palette holds the text styles its background reads well in ("text.…").
_DARK_GATES = {"gru.z": "#2BA884", "lstm.f": "#2BA884", "gru.r": "#F0E442",
               "lstm.o": "#F0E442", "lstm.i": "#906EF7"}
COLOURS = {
    "gate": "#2BA884",  # bluish green
    **_DARK_GATES,
    "positive": "#E69F00",  # orange
    "negative": "#3C91D6",  # blue
    "axis": "#888888",
    "neutral": "#5F5F5F",  # a heat strip's cell at zero
    "memory": "#E0E0E0",  # the memory panel's strips: brighter is more dependence
    "rule": "#4A6A8A",  # the rule of a panel's header row
    "rule.focus": "#FFA62B",  # … when it has the focus
    "text.muted": "dim",
    "text.note": "italic dim",
}
COLOURS_LIGHT = {
    "gate": "#007A5A",
    "gru.z": "#007A5A", "lstm.f": "#007A5A", "gru.r": "#7A5C00", "lstm.o": "#7A5C00",
    "lstm.i": "#332288",  # indigo
    "positive": "#B34700",  # a deep vermillion: values are written in it too
    "negative": "#005A9C",
    "axis": "#808080",
    "neutral": "#B4B4B4",
    "memory": "#202020",
    "rule": "#6A8AAA",
    "rule.focus": "#C06000",
    "text.muted": "dim",
    "text.note": "italic dim",
}
# For a projected screen: black on white, deeper colours, and no dim, grey or italic text.
COLOURS_PROJECTOR = {
    "gate": "#006B4F",
    "gru.z": "#006B4F", "lstm.f": "#006B4F", "gru.r": "#6B5000", "lstm.o": "#6B5000",
    "lstm.i": "#332288",
    "positive": "#B84A00",
    "negative": "#0053A0",
    "axis": "#000000",
    "neutral": "#C8C8C8",
    "memory": "#000000",
    "rule": "#000000",
    "rule.focus": "#B00060",
    "text.muted": "none",
    "text.note": "none",
}


def palette(dark: bool = True, projector: bool = False) -> dict[str, str]:
    """The colours (and text styles) for a dark or a light background, or a projector."""
    if projector:
        return COLOURS_PROJECTOR
    return COLOURS if dark else COLOURS_LIGHT


def vector_colour(colours: dict[str, str], info: VectorInfo, value: float) -> str:
    """The colour of one value of a vector: a gate's own hue, else by the value's sign."""
    if info.colour:
        return colours.get(info.colour, colours["gate"])
    return colours["positive" if value >= 0 else "negative"]


def vector_info(model: str, key: str) -> VectorInfo:
    for info in VECTORS[model]:
        if info.key == key:
            return info
    raise KeyError(f"{model} has no vector {key!r}")


def role_text(model: str, key: str, z_weights: str = "old") -> str:
    """The one-line explanation, following the GRU's z convention."""
    if model == "gru" and key == "update" and z_weights == "new":
        return UPDATE_ROLE_Z_NEW
    return vector_info(model, key).role
