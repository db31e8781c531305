"""The training lab's memory tasks: seeded batches of inputs, targets and a mask.

A batch is a pure function of the task, its options, the batch size, the seed and the batch's
index: ``task.batch(size, seed, index)`` draws from numpy's PCG64 seeded with (seed, 0, index),
``task.held_out(size, seed)`` from (seed, 1), a stream no training batch uses. Every batch holds

    x [B, T, D]   inputs          y [B, T, O]   targets          mask [B, T]   1 where scored

and the lab's loss is the mean squared error over the masked-in steps (see
:mod:`gru_tui.engine.training`). Steps are counted from 1 in these docstrings.

- delay (D = O = 1): x_t uniform in [−1, 1]; y_t = x_{t−K} for t > K, scored there; the
  first K steps have nothing to repeat yet and are masked out. T = --length, K = --delay.
- hold (D = O = 1): each step is a pulse with probability 0.3 (the ``pulses`` preset's rate),
  of a height uniform in [−1, 1], else 0; y_t = the latest pulse at or before t, 0 before
  the first; every step scored. T = --length.
- adding (D = 2, O = 1; Hochreiter & Schmidhuber 1997, in its common modern form): channel 1
  holds values uniform in [0, 1], channel 2 is 1 at exactly two steps, one uniform in the
  first ⌊T/2⌋ steps and one uniform in the rest, else 0; only the last step is scored, with
  target the sum of the two marked values. Predicting the mean, 1, scores 1/6 ≈ 0.167.
  T = --length.
- copy (D = A + 1, O = A, A = 4 symbols): a pattern of P = 3 symbols drawn uniformly, one
  one-hot step each; then --length blank steps (all zeros); then a recall cue (channel A + 1
  set to 1); then P blank steps in which the targets are the pattern's one-hot vectors, the
  only scored steps. T = 2P + --length + 1. Predicting 1/A everywhere scores (A − 1)/A²
  ≈ 0.19: one-hot targets under MSE, so the readout learns to point at the right symbol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gru_tui.errors import InputError

PULSE_RATE = 0.3  # the pulses preset's rate (gru-tui --preset pulses)
COPY_SYMBOLS = 4  # A
COPY_PATTERN = 3  # P


@dataclass(frozen=True)
class Batch:
    x: np.ndarray  # [B, T, D]
    y: np.ndarray  # [B, T, O]
    mask: np.ndarray  # [B, T]


@dataclass(frozen=True)
class Task:
    """One task with its options; subclasses define the draws."""

    length: int
    name: ClassVar[str]
    summary: ClassVar[str]
    input_size: ClassVar[int]
    output_size: ClassVar[int]
    default_length: ClassVar[int]
    # the held-out loss under which the README counts the task as learned
    threshold: ClassVar[float]

    def __post_init__(self) -> None:
        if isinstance(self.length, bool) or int(self.length) != self.length or self.length < 1:
            raise InputError(f"--length must be a positive integer, got {self.length}")

    @property
    def steps(self) -> int:
        """T, the length of every sequence."""
        return self.length

    def batch(self, size: int, seed: int = 0, index: int = 0) -> Batch:
        """Training batch number `index` (0, 1, …) of `size` sequences."""
        if index < 0:
            raise ValueError(f"batch index must be non-negative, got {index}")
        return self._draw(size, np.random.default_rng([seed, 0, index]))

    def held_out(self, size: int, seed: int = 0) -> Batch:
        """The held-out batch: a stream no training batch draws from."""
        return self._draw(size, np.random.default_rng([seed, 1]))

    def describe(self) -> dict:
        """The task's settings, for records and file metadata."""
        return {"task": self.name, "length": self.length, "steps": self.steps,
                "input_size": self.input_size, "output_size": self.output_size}

    def _draw(self, size: int, rng: np.random.Generator) -> Batch:
        raise NotImplementedError


@dataclass(frozen=True)
class Delay(Task):
    """y_t = x_{t−K}: repeat each input K steps later."""

    delay: int = 3
    name = "delay"
    summary = "output the input of --delay K steps before"
    input_size = 1
    output_size = 1
    default_length = 50
    threshold = 0.01  # predicting 0 scores 1/3

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.delay, bool) or int(self.delay) != self.delay or self.delay < 1:
            raise InputError(f"--delay must be a positive integer, got {self.delay}")
        if self.delay >= self.length:
            raise InputError(f"--delay {self.delay} needs sequences longer than {self.delay} "
                             f"steps; --length is {self.length}")

    def describe(self) -> dict:
        return {**super().describe(), "delay": self.delay}

    def _draw(self, size, rng):
        T, K = self.length, self.delay
        x = rng.uniform(-1.0, 1.0, size=(size, T, 1))
        y = np.zeros_like(x)
        y[:, K:] = x[:, :-K]
        mask = np.zeros((size, T))
        mask[:, K:] = 1.0
        return Batch(x, y, mask)


@dataclass(frozen=True)
class Hold(Task):
    """y_t = the latest pulse: keep a value until a new one replaces it."""

    name = "hold"
    summary = "the latest pulse, kept until the next one"
    input_size = 1
    output_size = 1
    default_length = 50
    threshold = 0.02  # predicting 0 scores about 0.3

    def _draw(self, size, rng):
        T = self.length
        draws = rng.uniform(-1.0, 1.0, size=(size, T, 2))  # per step: pulse?, height
        pulse = draws[:, :, 0] < 2 * PULSE_RATE - 1
        x = np.where(pulse, draws[:, :, 1], 0.0)
        latest = np.maximum.accumulate(np.where(pulse, np.arange(T), -1), axis=1)
        held = np.take_along_axis(x, np.maximum(latest, 0), axis=1)
        y = np.where(latest >= 0, held, 0.0)
        return Batch(x[:, :, None], y[:, :, None], np.ones((size, T)))


@dataclass(frozen=True)
class Adding(Task):
    """The sum of the two marked values, at the last step."""

    name = "adding"
    summary = "the sum of two marked values, given at the last step"
    input_size = 2
    output_size = 1
    default_length = 100
    threshold = 0.01  # predicting 1 scores 1/6

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.length < 2:
            raise InputError(f"the adding task needs --length of at least 2, got {self.length}")

    def _draw(self, size, rng):
        T, half = self.length, self.length // 2
        values = rng.uniform(0.0, 1.0, size=(size, T))
        first = rng.integers(0, half, size=size)
        second = rng.integers(half, T, size=size)
        rows = np.arange(size)
        markers = np.zeros((size, T))
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        y = np.zeros((size, T, 1))
        y[:, -1, 0] = values[rows, first] + values[rows, second]
        mask = np.zeros((size, T))
        mask[:, -1] = 1.0
        return Batch(np.stack([values, markers], axis=2), y, mask)


@dataclass(frozen=True)
class Copy(Task):
    """Write back a pattern of P symbols after --length blanks and a cue."""

    name = "copy"
    summary = f"remember {COPY_PATTERN} symbols across --length blanks and write them back"
    input_size = COPY_SYMBOLS + 1
    output_size = COPY_SYMBOLS
    default_length = 20
    threshold = 0.01  # predicting 1/A scores 3/16

    @property
    def steps(self) -> int:
        return 2 * COPY_PATTERN + self.length + 1

    def _draw(self, size, rng):
        A, P, T = COPY_SYMBOLS, COPY_PATTERN, self.steps
        symbols = rng.integers(0, A, size=(size, P))
        one_hot = np.eye(A)[symbols]  # [B, P, A]
        cue = P + self.length  # 0-based step of the cue
        x = np.zeros((size, T, A + 1))
        x[:, :P, :A] = one_hot
        x[:, cue, A] = 1.0
        y = np.zeros((size, T, A))
        y[:, cue + 1 :] = one_hot
        mask = np.zeros((size, T))
        mask[:, cue + 1 :] = 1.0
        return Batch(x, y, mask)


TASKS: dict[str, type[Task]] = {cls.name: cls for cls in (Delay, Hold, Adding, Copy)}


def make_task(name: str, length: int | None = None, delay: int = 3) -> Task:
    """The task called `name` with its options (`length` None: the task's default)."""
    if name not in TASKS:
        raise InputError(f"--task: unknown task {name!r}; choose one of {', '.join(TASKS)}")
    cls = TASKS[name]
    length = cls.default_length if length is None else length
    return Delay(length, delay) if cls is Delay else cls(length)
