"""Parameter counts: the seed slides' formula, what PyTorch allocates, and Keras's layout."""

from __future__ import annotations

import pytest

import gru_tui
from gru_tui.engine import parameter_count, parameter_table

SIZES = [(1, 1), (3, 3), (3, 5), (10, 2), (7, 64), (128, 256)]  # (D, H)
GATES = {"gru": 3, "lstm": 4, "rnn": 1}


def slides(kind, D, H):
    return {"gru": 3 * (D * H + H * H + H),
            "lstm": 4 * (D * H + H * H + H),
            "rnn": 1 * (D * H + H * H + H)}[kind]


def two_biases(kind, D, H):
    """PyTorch and ONNX: W_ih, W_hh and two bias vectors per gate."""
    return {"gru": 3 * (D * H + H * H + 2 * H),
            "lstm": 4 * (D * H + H * H + 2 * H),
            "rnn": 1 * (D * H + H * H + 2 * H)}[kind]


def keras(kind, D, H):
    """Keras 3 defaults: GRU(reset_after=True) keeps a (2, 3H) bias; LSTM and SimpleRNN one
    bias row. kernel (D, gH) + recurrent_kernel (H, gH) + bias."""
    return {"gru": D * 3 * H + H * 3 * H + 2 * 3 * H,
            "lstm": D * 4 * H + H * 4 * H + 4 * H,
            "rnn": D * H + H * H + H}[kind]


@pytest.mark.parametrize(("D", "H"), SIZES)
@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_slide_formula(kind, D, H):
    assert parameter_count(kind, D, H) == slides(kind, D, H)
    assert parameter_count(kind, D, H, bias_vectors=2) == two_biases(kind, D, H)


def test_the_worked_example_numbers():
    """D = H = 3: 3·(9 + 9 + 3) = 63, 4·21 = 84, 21."""
    assert parameter_count("gru", 3, 3) == 63
    assert parameter_count("lstm", 3, 3) == 84
    assert parameter_count("rnn", 3, 3) == 21
    assert gru_tui.parameter_count is parameter_count


@pytest.mark.parametrize(("D", "H"), SIZES)
def test_parameter_table(D, H):
    table = parameter_table(D, H)
    assert set(table) == {"gru", "lstm", "rnn"}
    for kind, counts in table.items():
        assert counts["slides"] == slides(kind, D, H)
        assert counts["pytorch"] == two_biases(kind, D, H)
        assert counts["onnx"] == two_biases(kind, D, H)
        assert counts["keras"] == keras(kind, D, H)


@pytest.mark.parametrize(("D", "H"), SIZES)
@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_pytorch_allocates_what_the_table_says(kind, D, H):
    torch = pytest.importorskip("torch")
    module = getattr(torch.nn, {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}[kind])(D, H)
    allocated = sum(p.numel() for p in module.parameters())
    assert parameter_table(D, H)[kind]["pytorch"] == allocated
    cell = getattr(torch.nn, {"gru": "GRUCell", "lstm": "LSTMCell", "rnn": "RNNCell"}[kind])(D, H)
    assert sum(p.numel() for p in cell.parameters()) == allocated


@pytest.mark.parametrize("kind", ["gru", "lstm", "rnn"])
def test_engine_cells_hold_the_two_bias_count(kind):
    D, H = 4, 6
    cell = gru_tui.random_cell(kind, D, H)
    held = cell.W.size + cell.U.size + cell.b_i.size + cell.b_h.size
    assert held == parameter_table(D, H)[kind]["pytorch"]
