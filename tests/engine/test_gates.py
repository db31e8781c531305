"""The gate table: every framework's row order, as each framework documents it, written out
here independently, and the reordering between them."""

from __future__ import annotations

import numpy as np
import pytest

from gru_tui.engine import CELLS, TABLES
from gru_tui.engine.gates import (
    KIND_BY_GATE_COUNT,
    from_engine_order,
    rows_in_order,
    to_engine_order,
)

# As the frameworks' documentation names the stacked blocks, translated to the engine's letters
# (the candidate is PyTorch's n / g, ONNX's and Keras' h / c).
DOCUMENTED = {
    # torch.nn.GRU: weight_ih_l0 = (W_ir | W_iz | W_in); torch.nn.LSTM: (W_ii | W_if | W_ig | W_io)
    ("pytorch", "gru"): "rzn", ("pytorch", "lstm"): "ifgo",
    # ONNX GRU: W[zrh]; ONNX LSTM: W[iofc]
    ("onnx", "gru"): "zrn", ("onnx", "lstm"): "iofg",
    # Keras GRU kernel columns z, r, h; Keras LSTM kernel columns i, f, c, o
    ("keras", "gru"): "zrn", ("keras", "lstm"): "ifgo",
}


@pytest.mark.parametrize(("framework", "kind"), list(DOCUMENTED))
def test_framework_orders_are_as_documented(framework, kind):
    assert "".join(TABLES[kind].order(framework)) == DOCUMENTED[framework, kind]


def test_cells_take_their_gates_and_records_from_the_table():
    for kind, cls in CELLS.items():
        assert TABLES[kind].letters == cls.GATES and TABLES[kind].records == cls.RECORD_KEYS
    assert KIND_BY_GATE_COUNT == {3: "gru", 4: "lstm", 1: "rnn"}


def test_record_names_symbols_and_squashing():
    gru, lstm = TABLES["gru"], TABLES["lstm"]
    assert [(g.name, g.symbol, g.squash) for g in gru.gates] == [
        ("reset", "r_t", "σ"), ("update", "z_t", "σ"), ("candidate", "Ĥ_t", "tanh")]
    assert {g.letter: g.name for g in lstm.gates} == {
        "i": "input", "f": "forget", "o": "output", "g": "candidate"}
    assert "".join(g.letter for g in lstm.in_taught_order) == "figo"


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("framework", ["pytorch", "onnx", "keras"])
def test_reordering_moves_whole_blocks_and_comes_back(kind, framework):
    H = 2
    order = TABLES[kind].order(framework)
    stacked = np.concatenate([np.full((H, 3), k) for k in range(len(order))])  # block k = k
    engine = to_engine_order(kind, framework, stacked)
    for k, letter in enumerate(TABLES[kind].letters):
        assert (engine[k * H:(k + 1) * H] == order.index(letter)).all()
    np.testing.assert_array_equal(from_engine_order(kind, framework, engine), stacked)
    np.testing.assert_array_equal(rows_in_order(stacked, order, order), stacked)
