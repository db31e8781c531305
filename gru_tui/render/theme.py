"""Names, symbols, scales, colours and one-line explanations of every vector, defined once.

The command line and the app both draw from this table, so a gate is called the same thing,
written with the same symbol and painted the same colour everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from gru_tui.engine.gates import TABLES

MODEL_TITLES = {"gru": "GRU", "lstm": "LSTM", "rnn": "Simple RNN"}
MODEL_SHORT = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}

# How a vector's values are drawn:
#   "gate"   σ outputs, 0..1, a bar growing from the left;
#   "signed" tanh-valued, −1..1, a bar growing from a centre axis;
#   "state"  unbounded (inputs, the LSTM cell state), centred, with its own visible range.


@dataclass(frozen=True)
class VectorInfo:
    key: str  # the record key of SPEC §3
    symbol: str  # the seed slides' notation
    name: str
    scale: str
    role: str  # what it does, in one line


def _v(key: str, symbol: str, name: str, scale: str, role: str) -> VectorInfo:
    return VectorInfo(key, symbol, name, scale, role)


def _gate(model: str, letter: str, name: str, role: str) -> VectorInfo:
    """A gate or candidate: its record key and symbol from the engine's gate table."""
    gate = TABLES[model].gate(letter)
    return VectorInfo(gate.name, gate.symbol, name, "gate" if gate.squash == "σ" else "signed",
                      role)


_X = _v("x", "x_t", "input", "state", "what the sequence feeds in at this step")
_H_PREV = _v("h_prev", "h_t-1", "previous hidden state",
             "signed", "the memory carried over from the step before")

VECTORS: dict[str, tuple[VectorInfo, ...]] = {
    "gru": (
        _X,
        _H_PREV,
        _gate("gru", "r", "reset gate",
              "how much of the old memory may shape the candidate (0: ignore the past)"),
        _gate("gru", "z", "update gate",
              "per unit, how much old memory is kept rather than replaced by the candidate"),
        _gate("gru", "n", "candidate",
              "a proposal for the new memory, from the input and the reset-filtered past"),
        _v("h", "h_t", "hidden state", "signed",
           "the new memory: old memory and candidate blended by the update gate"),
    ),
    "lstm": (
        _X,
        _H_PREV,
        _v("c_prev", "C_t-1", "previous cell state", "state",
           "the long-term memory carried over from the step before"),
        _gate("lstm", "f", "forget gate",
              "how much of each cell-state unit survives from the step before"),
        _gate("lstm", "i", "input gate",
              "how much of the candidate gets written into the cell state"),
        _gate("lstm", "g", "candidate",
              "new content that could be written into the cell state"),
        _gate("lstm", "o", "output gate",
              "how much of the cell state is shown as the hidden state"),
        _v("c", "C_t", "cell state", "state",
           "the long-term memory: what survived forgetting plus what was written"),
        _v("h", "h_t", "hidden state", "signed",
           "what the cell shows the next step and the layer above: o ⊙ tanh(C_t)"),
    ),
    "rnn": (
        _X,
        _H_PREV,
        _v("h", "h_t", "hidden state", "signed",
           "tanh of input and old memory together; nothing decides what to keep"),
    ),
}

# With z weighting the new state (Olah's blog, Wikipedia) the update gate's job reads the
# other way round.
UPDATE_ROLE_Z_NEW = "per unit, how much of the candidate replaces the old memory"

# Okabe–Ito colours: distinguishable with every common colour-vision deficiency. Sign is also
# carried by direction, so NO_COLOR loses nothing. One palette for dark backgrounds, a deeper
# one for light backgrounds.
COLOURS = {
    "gate": "#2BA884",  # bluish green
    "positive": "#E69F00",  # orange
    "negative": "#3C91D6",  # blue
    "axis": "#888888",
    "neutral": "#5F5F5F",  # a heat strip's cell at zero
}
COLOURS_LIGHT = {
    "gate": "#009E73",
    "positive": "#D55E00",  # vermillion
    "negative": "#0072B2",
    "axis": "#808080",
    "neutral": "#B4B4B4",
}


def palette(dark: bool = True) -> dict[str, str]:
    """The colours for a dark or a light background."""
    return COLOURS if dark else COLOURS_LIGHT


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
