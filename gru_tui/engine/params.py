"""How many parameters each cell has: the slides' formula and what frameworks allocate."""

from __future__ import annotations

from gru_tui.engine.gates import KINDS, gate_count

FRAMEWORKS = ("slides", "pytorch", "keras", "onnx")


def parameter_count(kind: str, input_size: int, hidden_size: int, bias_vectors: int = 1) -> int:
    """g·(D·H + H·H + b·H): g gates, each with W (H×D), U (H×H) and b bias vectors of H.

    With one bias vector this is the seed slides' formula; PyTorch, ONNX and Keras's GRU with
    reset_after=True keep two (an input and a recurrent bias).
    """
    D, H = input_size, hidden_size
    return gate_count(kind) * (D * H + H * H + bias_vectors * H)


def bias_vectors(kind: str, framework: str) -> int:
    """How many bias vectors per gate a framework allocates by default."""
    if framework in ("pytorch", "onnx"):
        return 2
    if framework == "keras":  # GRU defaults to reset_after=True, with two bias rows
        return 2 if kind == "gru" else 1
    if framework == "slides":
        return 1
    raise ValueError(f"unknown framework {framework!r}")


def parameter_table(input_size: int, hidden_size: int) -> dict[str, dict[str, int]]:
    """{kind: {framework: count}} for the GRU, LSTM and simple RNN."""
    return {
        kind: {fw: parameter_count(kind, input_size, hidden_size, bias_vectors(kind, fw))
               for fw in FRAMEWORKS}
        for kind in KINDS
    }
