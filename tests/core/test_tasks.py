"""Each task's batches against its definition, written out again here with plain loops."""

from __future__ import annotations

import numpy as np
import pytest

from gru_tui.core.tasks import TASKS, make_task
from gru_tui.errors import InputError


def test_delay_repeats_the_input_k_steps_later():
    task = make_task("delay", length=12, delay=4)
    batch = task.batch(5, seed=3, index=2)
    assert batch.x.shape == (5, 12, 1) and batch.y.shape == (5, 12, 1)
    assert np.abs(batch.x).max() <= 1 and batch.x.std() > 0.4  # uniform in [−1, 1]
    for b in range(5):
        for t in range(12):
            if t < 4:
                assert batch.mask[b, t] == 0 and batch.y[b, t, 0] == 0
            else:
                assert batch.mask[b, t] == 1 and batch.y[b, t, 0] == batch.x[b, t - 4, 0]


def test_hold_keeps_the_latest_pulse():
    batch = make_task("hold", length=40).batch(50, seed=1)
    x, y = batch.x[:, :, 0], batch.y[:, :, 0]
    for b in range(50):
        latest = 0.0
        for t in range(40):
            if x[b, t] != 0:
                latest = x[b, t]
            assert y[b, t] == latest
    assert (batch.mask == 1).all()
    assert np.abs(x).max() <= 1
    assert 0.26 < (x != 0).mean() < 0.34  # about 30 % of the steps are pulses


def test_adding_sums_the_two_marked_values_at_the_end():
    T = 21
    batch = make_task("adding", length=T).batch(200, seed=2)
    values, markers = batch.x[:, :, 0], batch.x[:, :, 1]
    assert values.min() >= 0 and values.max() <= 1
    for b in range(200):
        marked = [t for t in range(T) if markers[b, t] == 1]
        assert len(marked) == 2 and set(markers[b]) <= {0.0, 1.0}
        first, second = marked
        assert first < T // 2 <= second  # one in the first half, one in the rest
        for t in range(T):
            scored = t == T - 1
            assert batch.mask[b, t] == (1 if scored else 0)
            expected = values[b, first] + values[b, second] if scored else 0.0
            assert batch.y[b, t, 0] == expected
    firsts = np.argmax(markers, axis=1)
    assert len(set(firsts)) == T // 2  # every position of the first half occurs


def test_copy_writes_the_pattern_back_after_the_gap_and_the_cue():
    gap, A, P = 5, 4, 3
    task = make_task("copy", length=gap)
    assert (task.steps, task.input_size, task.output_size) == (2 * P + gap + 1, A + 1, A)
    batch = task.batch(30, seed=4)
    for b in range(30):
        pattern = []
        for t in range(P):  # one symbol a step, one-hot, no cue
            row = batch.x[b, t]
            assert row[:A].sum() == 1 and row[A] == 0
            pattern.append(int(np.argmax(row[:A])))
        for t in range(P, P + gap):
            assert (batch.x[b, t] == 0).all()
        cue = P + gap
        assert batch.x[b, cue, A] == 1 and (batch.x[b, cue, :A] == 0).all()
        for k in range(P):
            t = cue + 1 + k
            assert (batch.x[b, t] == 0).all() and batch.mask[b, t] == 1
            assert batch.y[b, t].tolist() == [1.0 if s == pattern[k] else 0.0 for s in range(A)]
        assert batch.mask[b, : cue + 1].sum() == 0 and (batch.y[b, : cue + 1] == 0).all()
    symbols = np.argmax(batch.x[:, :P, :A], axis=2)
    assert set(symbols.ravel()) == set(range(A))


@pytest.mark.parametrize("name", list(TASKS))
def test_a_batch_is_a_pure_function_of_seed_and_index(name):
    task = make_task(name, length=16)
    first = task.batch(4, seed=5, index=7)
    again = task.batch(4, seed=5, index=7)
    for a, b in zip((first.x, first.y, first.mask), (again.x, again.y, again.mask),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(task.batch(4, seed=5, index=8).x, first.x)
    assert not np.array_equal(task.batch(4, seed=6, index=7).x, first.x)
    held_out = task.held_out(4, seed=5)
    np.testing.assert_array_equal(held_out.x, task.held_out(4, seed=5).x)
    for index in range(20):  # the held-out stream is no training batch's
        assert not np.array_equal(held_out.x, task.batch(4, seed=5, index=index).x)


@pytest.mark.parametrize(("args", "message"), [
    (("delay", 50, 60), "--delay 60 needs sequences longer than 60 steps; --length is 50"),
    (("delay", 10, 10), "--delay 10 needs sequences longer than 10 steps; --length is 10"),
    (("delay", 10, 0), "--delay must be a positive integer, got 0"),
    (("hold", 0), "--length must be a positive integer, got 0"),
    (("copy", -3), "--length must be a positive integer, got -3"),
    (("adding", 1), "the adding task needs --length of at least 2, got 1"),
    (("sorting",), "--task: unknown task 'sorting'; choose one of delay, hold, adding, copy"),
])
def test_bad_sizes_are_refused_in_one_line(args, message):
    with pytest.raises(InputError) as caught:
        make_task(*args)
    assert str(caught.value) == message
