"""Named input sequences, generated row by row so any length streams in constant memory.

Rows are a pure function of (preset, D, seed, step index): a window [start, stop) is the same
whether a run is generated whole or in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from gru_tui.errors import InputError

# The seed slide "LSTM vs GRU": a 3-D worked example.
SLIDE_X = np.array([0.5, -0.3, 0.8])
SLIDE_H0 = np.array([0.2, 0.4, -0.1])
SLIDE_C0 = np.array([0.6, -0.2, 0.3])

SINE_PERIOD = 12
STEP_ONSET = 4
NOISE_AMPLITUDE = 1.0
PULSE_RATE = 0.3


@dataclass(frozen=True)
class Preset:
    name: str
    steps: int  # default length
    summary: str


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("slides", 8, "the slides' x_1 = [0.5, -0.3, 0.8], then the sine preset"),
        Preset("sine", 24, f"0.8·sin(2π t/{SINE_PERIOD}), each component a third of a turn later"),
        Preset("impulse", 30, "all ones at t = 1, zeros after: how long does it echo?"),
        Preset("step", 20, f"zeros for {STEP_ONSET} steps, ones after"),
        Preset("noise", 20, "uniform noise in ±1, from --seed"),
        Preset("pulses", 40, f"pulses in ±1 on {PULSE_RATE:.0%} of steps, from --seed: the "
               "examples' inputs"),
        Preset("remember", 60, "a cue of ±1 at t = 1, then a long quiet: remember the first input"),
    )
}


# Gates of untrained weights sit near 0.5, so a random GRU or LSTM forgets about as fast as a
# random simple RNN. Trained models hold their keep gates open (and Keras initialises the
# LSTM's forget bias to 1): this offset on the GRU's update gate and the LSTM's forget gate
# does the same, to show why gated cells remember (the memory view, README).
KEEP_GATE_OFFSET = 2.0


def keep_gates_open(z_weights: str = "old", offset: float = KEEP_GATE_OFFSET):
    """Bias offsets (Scenario.bias_offsets) that hold the GRU's and the LSTM's keep gates open:
    +offset on the LSTM's f; on the GRU's z, +offset when z weights the old state, −offset
    when it weights the new one (then 1 − z keeps)."""
    return (("gru", "z", offset if z_weights == "old" else -offset), ("lstm", "f", offset))


def preset_rows(name: str, input_size: int, start: int, stop: int, seed: int = 0) -> np.ndarray:
    """Rows start..stop−1 (0-based) of a preset, as a [stop − start, D] float64 array.

    Values are rounded to four decimals, so they read cleanly in records and on screen.
    """
    return np.round(_rows(name, input_size, start, stop, seed), 4) + 0.0  # + 0.0: no -0.0


def _rows(name: str, input_size: int, start: int, stop: int, seed: int) -> np.ndarray:
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    D, t = input_size, np.arange(start, stop)[:, None]
    if name == "slides":
        rows = _rows("sine", D, start, stop, seed)
        if start == 0 and stop > 0:
            rows[0] = np.resize(SLIDE_X, D)
        return rows
    if name == "sine":
        phase = 2 * np.pi * np.arange(D)[None, :] / 3
        return 0.8 * np.sin(2 * np.pi * t / SINE_PERIOD + phase)
    if name == "impulse":
        return np.where(t == 0, 1.0, 0.0) * np.ones((1, D))
    if name == "step":
        return np.where(t >= STEP_ONSET, 1.0, 0.0) * np.ones((1, D))
    if name == "noise":
        return _uniform(seed, start, stop, D, -NOISE_AMPLITUDE, NOISE_AMPLITUDE)
    if name == "pulses":
        draws = _uniform(seed, start, stop, 2 * D, -1.0, 1.0)  # per value: pulse?, amplitude
        pulse = draws[:, :D] < 2 * PULSE_RATE - 1
        return np.where(pulse, draws[:, D:], 0.0)
    # remember: a ±1 cue whose signs alternate by component, then silence
    cue = np.where(np.arange(D) % 2 == 0, 1.0, -1.0)
    return np.where(t == 0, 1.0, 0.0) * cue[None, :]


def _uniform(seed: int, start: int, stop: int, width: int, low: float,
             high: float) -> np.ndarray:
    """Rows start..stop−1 of a seeded uniform stream `width` values wide."""
    generator = np.random.PCG64(seed)
    generator.advance(start * width)  # one 64-bit draw per value: jump straight to `start`
    return np.random.Generator(generator).uniform(low, high, size=(stop - start, width))


def preset_chunks(name: str, input_size: int, steps: int, seed: int = 0,
                  chunk: int = 4096) -> Iterator[np.ndarray]:
    """The preset's first `steps` rows, `chunk` rows at a time."""
    for start in range(0, steps, chunk):
        yield preset_rows(name, input_size, start, min(start + chunk, steps), seed)
