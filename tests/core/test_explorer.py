"""The headless core of the app (gru_tui.core.explorer), without Textual.

Every edit is checked against an independent path: a fresh ``gru_tui.random_cell(...).run`` of
the explorer's new inputs and initial states, with the weights and conventions the test
expects (not the ones the explorer reports), compared float for float.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gru_tui
from gru_tui.core.explorer import MAX_EDIT, Explorer
from gru_tui.core.presets import PRESETS, SLIDE_C0, SLIDE_H0, SLIDE_X, preset_rows
from gru_tui.core.scenario import MODELS, Scenario
from gru_tui.engine import CELLS
from gru_tui.errors import InputError

RECORD_KEYS = {model: cls.RECORD_KEYS for model, cls in CELLS.items()}
SLIDES_STEPS = PRESETS["slides"].steps


def reference(ex: Explorer, model: str, *, seed: int = 0, reset: str = "before",
              z_weights: str = "old", scale: float = 1.0,
              offsets: dict[str, float] | None = None):
    """A fresh run of `model` on the explorer's inputs and states, from settings we choose."""
    conventions = {"reset": reset, "z_weights": z_weights} if model == "gru" else {}
    cell = gru_tui.random_cell(model, ex.input_size, ex.hidden_size, seed=seed, **conventions)
    if scale != 1.0 or offsets:
        H = ex.hidden_size
        b_i = np.array(cell.b_i)
        for gate, value in (offsets or {}).items():
            k = cell.GATES.index(gate)
            b_i[k * H:(k + 1) * H] += value
        cell = type(cell)(np.array(cell.W), np.array(cell.U) * scale, b_i, np.array(cell.b_h),
                          **conventions)
    c0 = ex.scenario.c0 if model == "lstm" else None
    return cell.run(np.array(ex.xs), np.array(ex.scenario.h0), c0)


def assert_fresh(ex: Explorer, models=MODELS, **settings) -> None:
    """The explorer's traces equal a fresh run, key for key, bit for bit."""
    for model in models:
        ref = reference(ex, model, **settings)
        trace = ex.traces[model]
        assert trace.steps == ex.steps
        for key in RECORD_KEYS[model]:
            assert np.array_equal(trace[key], ref[key]), (model, key)


def snapshot(ex: Explorer) -> dict[str, dict[str, np.ndarray]]:
    """A deep copy of every trace's record arrays."""
    return {model: {key: np.array(trace[key]) for key in RECORD_KEYS[model]}
            for model, trace in ex.traces.items()}


def state_copy(ex: Explorer):
    return np.array(ex.xs), np.array(ex.scenario.h0), np.array(ex.scenario.c0)


# -- the built-in example ------------------------------------------------------------------


def test_starts_on_the_built_in_example():
    ex = Explorer()
    assert ex.t == 0 and ex.unit == 0 and (ex.target, ex.component) == ("x", 0)
    assert ex.steps == SLIDES_STEPS and ex.input_size == 3 and ex.hidden_size == 3
    assert ex.xs[0].tolist() == SLIDE_X.tolist()
    assert ex.scenario.h0.tolist() == SLIDE_H0.tolist()
    assert ex.scenario.c0.tolist() == SLIDE_C0.tolist()
    assert ex.visible == ("gru", "lstm")
    assert set(ex.traces) == set(MODELS)  # every model computed, two shown
    assert ex.value == 0.5
    assert_fresh(ex)


def test_cursor_and_unit_are_clamped_on_creation():
    ex = Explorer(t=100, unit=50)
    assert ex.t == SLIDES_STEPS - 1 and ex.unit == 2
    ex = Explorer(t=-4, unit=-1)
    assert ex.t == 0 and ex.unit == 0


# -- moving ---------------------------------------------------------------------------------


def test_move_and_go_clamp_to_the_run():
    ex = Explorer()
    ex.move(-1)
    assert ex.t == 0
    ex.move(3)
    assert ex.t == 3
    ex.go(100)
    assert ex.t == SLIDES_STEPS - 1
    ex.move(1)
    assert ex.t == SLIDES_STEPS - 1
    ex.go(-5)
    assert ex.t == 0
    ex.go(4)
    assert ex.t == 4
    assert ex.value == ex.xs[4][0]  # the component cursor reads x at the new t


def test_choose_component_walks_x_then_h0_then_c0_and_wraps():
    ex = Explorer()
    seen = [(ex.target, ex.component)]
    for _ in range(9):
        ex.choose_component(1)
        seen.append((ex.target, ex.component))
    assert seen == [("x", 0), ("x", 1), ("x", 2), ("h0", 0), ("h0", 1), ("h0", 2),
                    ("c0", 0), ("c0", 1), ("c0", 2), ("x", 0)]
    ex.choose_component(-1)
    assert (ex.target, ex.component) == ("c0", 2)
    ex.choose_component(-3)
    assert (ex.target, ex.component) == ("h0", 2)


def test_choose_component_skips_c0_when_the_lstm_is_hidden():
    ex = Explorer()
    ex.toggle_model("lstm")
    seen = [(ex.target, ex.component)]
    for _ in range(6):
        ex.choose_component(1)
        seen.append((ex.target, ex.component))
    assert seen == [("x", 0), ("x", 1), ("x", 2), ("h0", 0), ("h0", 1), ("h0", 2), ("x", 0)]
    ex.choose_component(-1)
    assert (ex.target, ex.component) == ("h0", 2)
    with pytest.raises(InputError, match="C_0"):
        ex.choose_target("c0")
    assert ex.target == "h0"


def test_choose_unit_wraps():
    ex = Explorer()
    ex.choose_unit(1)
    assert ex.unit == 1
    ex.choose_unit(2)
    assert ex.unit == 0
    ex.choose_unit(-1)
    assert ex.unit == 2


# -- editing values -------------------------------------------------------------------------

EDITS = {
    "nudge +0.1": (lambda ex: ex.nudge(0.1), lambda old: round(old + 0.1, 10)),
    "nudge -0.1": (lambda ex: ex.nudge(-0.1), lambda old: round(old - 0.1, 10)),
    "nudge +0.01": (lambda ex: ex.nudge(0.01), lambda old: round(old + 0.01, 10)),
    "nudge -0.01": (lambda ex: ex.nudge(-0.01), lambda old: round(old - 0.01, 10)),
    "set 0.25": (lambda ex: ex.set_value(0.25), lambda old: 0.25),
    "set '-1.5'": (lambda ex: ex.set_value("-1.5"), lambda old: -1.5),
    "set 1e4": (lambda ex: ex.set_value(MAX_EDIT), lambda old: MAX_EDIT),
    "set ' -2e-3 '": (lambda ex: ex.set_value(" -2e-3 "), lambda old: -0.002),
    "zero": (lambda ex: ex.zero(), lambda old: 0.0),
}
# (target, component, t) — x at a middle step, and each initial state
PLACES = [("x", 1, 3), ("x", 2, 0), ("h0", 0, 2), ("h0", 2, 5), ("c0", 1, 4)]


def place(ex: Explorer, target: str, component: int, t: int) -> None:
    ex.go(t)
    ex.choose_target(target)
    ex.component = component


@pytest.mark.parametrize(("target", "component", "t"), PLACES)
@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_changes_exactly_the_selected_component(edit, target, component, t):
    ex = Explorer()
    place(ex, target, component, t)
    xs, h0, c0 = state_copy(ex)
    act, expected = EDITS[edit]
    old = ex.value
    act(ex)
    assert ex.value == expected(old)
    assert (ex.target, ex.component, ex.t) == (target, component, t)  # the cursor stays
    want = {"x": xs, "h0": h0, "c0": c0}
    if target == "x":
        want["x"][t, component] = expected(old)
    else:
        want[target][component] = expected(old)
    assert np.array_equal(ex.xs, want["x"])
    assert np.array_equal(ex.scenario.h0, want["h0"])
    assert np.array_equal(ex.scenario.c0, want["c0"])
    assert_fresh(ex)


@pytest.mark.parametrize(("target", "component", "t"), PLACES)
def test_randomise_changes_the_selected_vector_only(target, component, t):
    ex = Explorer()
    place(ex, target, component, t)
    xs, h0, c0 = state_copy(ex)
    ex.randomise()
    new = ex.target_vector()
    old = {"x": xs[t], "h0": h0, "c0": c0}[target]
    assert not np.array_equal(new, old)
    assert np.all(np.abs(new) <= 1) and np.array_equal(new, np.round(new, 4))
    if target == "x":
        assert np.array_equal(np.delete(ex.xs, t, axis=0), np.delete(xs, t, axis=0))
    else:
        assert np.array_equal(ex.xs, xs)
    for other, before in (("h0", h0), ("c0", c0)):
        if other != target:
            assert np.array_equal(ex.scenario.h0 if other == "h0" else ex.scenario.c0, before)
    assert_fresh(ex)


def test_randomise_is_reproducible_and_moves_on():
    first, second = Explorer(), Explorer()
    first.randomise()
    second.randomise()
    assert np.array_equal(first.xs, second.xs)
    once = np.array(first.xs[0])
    first.randomise()
    assert not np.array_equal(first.xs[0], once)  # the next draw, not the same one again


@pytest.mark.parametrize("t", [0, 3, SLIDES_STEPS - 1])
def test_an_input_edit_at_t_leaves_the_steps_before_t_untouched(t):
    ex = Explorer()
    ex.go(t)
    before = snapshot(ex)
    ex.set_value(0.9)
    ex.choose_component(1)
    ex.nudge(-0.3)
    after = snapshot(ex)
    for model in MODELS:
        for key in RECORD_KEYS[model]:
            assert np.array_equal(after[model][key][:t], before[model][key][:t]), (model, key)
        # step t itself did change
        assert not np.array_equal(after[model]["h"][t], before[model]["h"][t]), model
    assert_fresh(ex)


@pytest.mark.parametrize("target", ["h0", "c0"])
def test_an_initial_state_edit_redoes_the_whole_run(target):
    ex = Explorer()
    ex.go(5)
    ex.choose_target(target)
    before = snapshot(ex)
    ex.set_value(-0.9)
    after = snapshot(ex)
    models = ("gru", "lstm", "rnn") if target == "h0" else ("lstm",)
    for model in models:
        assert not np.array_equal(after[model]["h"][0], before[model]["h"][0]), model
    if target == "c0":  # C_0 feeds the LSTM only
        for model in ("gru", "rnn"):
            assert np.array_equal(after[model]["h"], before[model]["h"])
    assert_fresh(ex)


BAD_VALUES = ["abc", "", "0.5.1", "nan", "NaN", "inf", "-inf", "Infinity", 1e5, -1e5,
              "1e300", "-1e300", float("nan"), float("inf"), None, MAX_EDIT * 1.0001]


@pytest.mark.parametrize("target", ["x", "h0", "c0"])
@pytest.mark.parametrize("bad", BAD_VALUES, ids=repr)
def test_set_value_refuses_bad_numbers_and_keeps_the_old_value(bad, target):
    ex = Explorer()
    ex.go(2)
    ex.choose_target(target)
    ex.component = 1
    old_value = ex.value
    xs, h0, c0 = state_copy(ex)
    before = snapshot(ex)
    with pytest.raises(InputError) as error:
        ex.set_value(bad)
    message = str(error.value)
    assert "\n" not in message
    assert "[2]" in message  # names the component, counted from 1
    assert ex.value == old_value
    assert np.array_equal(ex.xs, xs)
    assert np.array_equal(ex.scenario.h0, h0) and np.array_equal(ex.scenario.c0, c0)
    after = snapshot(ex)
    for model in MODELS:
        for key in RECORD_KEYS[model]:
            assert np.array_equal(after[model][key], before[model][key])


def test_messages_say_what_was_wrong():
    ex = Explorer()
    with pytest.raises(InputError, match="not a number"):
        ex.set_value("abc")
    with pytest.raises(InputError, match="finite"):
        ex.set_value("nan")
    with pytest.raises(InputError, match="beyond"):
        ex.set_value(1e5)


def test_nudge_past_the_limit_is_refused():
    ex = Explorer()
    ex.set_value(-MAX_EDIT)
    with pytest.raises(InputError):
        ex.nudge(-0.1)
    assert ex.value == -MAX_EDIT
    ex.nudge(0.1)
    assert ex.value == -MAX_EDIT + 0.1


# -- editing the sequence -------------------------------------------------------------------


@pytest.mark.parametrize("t", [0, 2, SLIDES_STEPS - 1])
def test_insert_step_copies_x_t_after_t_and_moves_onto_it(t):
    ex = Explorer()
    ex.go(t)
    xs = np.array(ex.xs)
    before = snapshot(ex)
    ex.insert_step()
    assert ex.steps == SLIDES_STEPS + 1
    assert ex.t == t + 1
    assert np.array_equal(ex.xs, np.insert(xs, t + 1, xs[t], axis=0))
    for model in MODELS:  # the steps up to t are the same run
        assert np.array_equal(ex.traces[model]["h"][: t + 1], before[model]["h"][: t + 1])
    assert_fresh(ex)


def test_delete_step_removes_step_t_and_keeps_the_last_one():
    ex = Explorer()
    ex.go(2)
    xs = np.array(ex.xs)
    ex.delete_step()
    assert ex.steps == SLIDES_STEPS - 1 and ex.t == 2
    assert np.array_equal(ex.xs, np.delete(xs, 2, axis=0))
    assert_fresh(ex)
    ex.go(ex.steps - 1)
    ex.delete_step()  # deleting the last step moves the cursor back
    assert ex.steps == SLIDES_STEPS - 2 and ex.t == ex.steps - 1
    assert_fresh(ex)
    while ex.steps > 1:
        ex.delete_step()
    assert ex.t == 0
    last = np.array(ex.xs)
    with pytest.raises(InputError, match="at least one step"):
        ex.delete_step()
    assert ex.steps == 1 and np.array_equal(ex.xs, last)
    assert_fresh(ex)


@pytest.mark.parametrize("name", list(PRESETS))
def test_load_preset_starts_from_the_states_the_command_line_gives_it(cli, name):
    """`p` then a preset in the app = `gru-tui -p NAME`: the same inputs and the same h_0 and
    C_0 (the slides' for `slides`, zeros for the others), whatever the states were before."""
    ex = Explorer()
    ex.go(3)
    ex.choose_target("h0")
    ex.set_value(0.7)  # an edited state does not carry over into the preset
    ex.load_preset(name)
    assert ex.t == 0
    assert ex.steps == PRESETS[name].steps
    assert np.array_equal(ex.xs, preset_rows(name, 3, 0, PRESETS[name].steps, seed=0))
    first = {r["model"]: r for r in cli("step", "-p", name, "--json", "-n", "1").records()}
    assert np.array_equal(ex.scenario.h0, first["gru"]["h_prev"])
    assert np.array_equal(ex.scenario.c0, first["lstm"]["c_prev"])
    assert_fresh(ex)


def test_load_preset_with_a_length_and_an_unknown_name():
    ex = Explorer()
    ex.load_preset("sine", steps=5)
    assert ex.steps == 5
    assert np.array_equal(ex.xs, preset_rows("sine", 3, 0, 5))
    xs = np.array(ex.xs)
    with pytest.raises(InputError, match="unknown preset"):
        ex.load_preset("nope")
    assert np.array_equal(ex.xs, xs)


def test_load_preset_keeps_the_input_width():
    ex = Explorer(Scenario(inputs=np.ones((4, 5))))
    ex.load_preset("sine")
    assert ex.xs.shape == (PRESETS["sine"].steps, 5)
    assert_fresh(ex)


# -- changing the models --------------------------------------------------------------------


def test_reseed_moves_to_the_next_seed_deterministically():
    ex = Explorer()
    h_before = np.array(ex.traces["gru"]["h"])
    ex.reseed()
    assert ex.scenario.seed == 1
    assert not np.array_equal(ex.traces["gru"]["h"], h_before)
    assert_fresh(ex, seed=1)
    ex.reseed()
    assert ex.scenario.seed == 2
    assert_fresh(ex, seed=2)
    ex.reseed(7)
    assert ex.scenario.seed == 7
    assert_fresh(ex, seed=7)
    other = Explorer()
    other.reseed(7)
    for model in MODELS:
        assert np.array_equal(other.traces[model]["h"], ex.traces[model]["h"])


def test_reseed_keeps_edits_and_cursor():
    ex = Explorer()
    ex.go(4)
    ex.set_value(0.33)
    xs = np.array(ex.xs)
    ex.reseed()
    assert ex.t == 4 and np.array_equal(ex.xs, xs)
    assert_fresh(ex, seed=1)


def test_toggle_reset_changes_the_gru_only():
    ex = Explorer()
    before = snapshot(ex)
    ex.toggle_reset()
    assert ex.scenario.reset == "after"
    assert ex.traces["gru"].cell.reset == "after"
    assert not np.array_equal(ex.traces["gru"]["candidate"], before["gru"]["candidate"])
    assert not np.array_equal(ex.traces["gru"]["h"], before["gru"]["h"])
    for model in ("lstm", "rnn"):
        assert np.array_equal(ex.traces[model]["h"], before[model]["h"])
    assert_fresh(ex, reset="after")
    ex.toggle_reset()
    assert ex.scenario.reset == "before"
    assert np.array_equal(ex.traces["gru"]["h"], before["gru"]["h"])
    assert_fresh(ex)


def test_toggle_z_changes_which_state_z_weights():
    ex = Explorer()
    before = snapshot(ex)
    ex.toggle_z_weights()
    assert ex.scenario.z_weights == "new"
    assert_fresh(ex, z_weights="new")
    gru = ex.traces["gru"]
    assert not np.array_equal(gru["h"], before["gru"]["h"])
    # h' = (1 − z) ⊙ h + z ⊙ n, on the first step where the inputs are the same
    z, n, h = gru["update"][0], gru["candidate"][0], gru["h_prev"][0]
    assert np.allclose(gru["h"][0], (1 - z) * h + z * n, rtol=0, atol=1e-15)
    ex.toggle_reset()
    assert_fresh(ex, reset="after", z_weights="new")
    ex.toggle_z_weights()
    assert_fresh(ex, reset="after", z_weights="old")


def test_lstm_forget_bias_offset_raises_the_forget_gate_everywhere():
    ex = Explorer()
    before = snapshot(ex)
    ex.set_bias_offset("lstm", "f", 1.0)
    assert ex.bias_offset("lstm", "f") == 1.0
    assert ex.scenario.bias_offsets == (("lstm", "f", 1.0),)
    assert np.all(ex.traces["lstm"]["forget"] > before["lstm"]["forget"])
    for model in ("gru", "rnn"):
        assert np.array_equal(ex.traces[model]["h"], before[model]["h"])
    assert_fresh(ex, offsets=None, models=("gru", "rnn"))
    assert_fresh(ex, offsets={"f": 1.0}, models=("lstm",))
    ex.set_bias_offset("lstm", "f", 1.5)  # replaces, does not add up
    assert ex.bias_offset("lstm", "f") == 1.5
    assert_fresh(ex, offsets={"f": 1.5}, models=("lstm",))
    ex.set_bias_offset("lstm", "f", 0.0)
    assert ex.scenario.bias_offsets == ()
    assert np.array_equal(ex.traces["lstm"]["forget"], before["lstm"]["forget"])


def test_bias_offsets_on_several_gates():
    ex = Explorer()
    ex.set_bias_offset("gru", "z", -2.0)
    ex.set_bias_offset("gru", "n", 0.5)
    ex.set_bias_offset("rnn", "h", 1.0)
    before_update = reference(ex, "gru")["update"]
    assert np.all(ex.traces["gru"]["update"][0] < before_update[0])
    assert_fresh(ex, models=("gru",), offsets={"z": -2.0, "n": 0.5})
    assert_fresh(ex, models=("rnn",), offsets={"h": 1.0})
    assert_fresh(ex, models=("lstm",))
    with pytest.raises(InputError):
        ex.set_bias_offset("gru", "q", 1.0)


@pytest.mark.parametrize("scale", [0.0, 0.5, 1.25, 3.0])
def test_recurrent_scale_multiplies_every_u(scale):
    ex = Explorer()
    before = snapshot(ex)
    ex.set_recurrent_scale(scale)
    assert ex.scenario.recurrent_scale == scale
    assert_fresh(ex, scale=scale)
    for model in MODELS:
        assert np.array_equal(ex.traces[model].cell.U,
                              gru_tui.random_cell(model, 3, 3, seed=0).U * scale)
        assert not np.array_equal(ex.traces[model]["h"], before[model]["h"])
    ex.set_recurrent_scale(1.0)
    assert_fresh(ex)


def test_scale_and_offsets_combine_with_conventions():
    ex = Explorer()
    ex.set_recurrent_scale(0.8)
    ex.set_bias_offset("lstm", "f", 1.0)
    ex.toggle_reset()
    ex.reseed()
    assert_fresh(ex, models=("gru",), seed=1, reset="after", scale=0.8)
    assert_fresh(ex, models=("lstm",), seed=1, scale=0.8, offsets={"f": 1.0})
    assert_fresh(ex, models=("rnn",), seed=1, scale=0.8)


def test_toggle_model_keeps_one_visible():
    ex = Explorer()
    ex.toggle_model("rnn")
    assert ex.visible == ("gru", "lstm", "rnn")
    ex.toggle_model("gru")
    assert ex.visible == ("lstm", "rnn")
    ex.toggle_model("gru")  # shown again, in the models' order
    assert ex.visible == ("gru", "lstm", "rnn")
    ex.toggle_model("gru")
    ex.toggle_model("lstm")
    assert ex.visible == ("rnn",)
    with pytest.raises(InputError, match="one model must stay visible"):
        ex.toggle_model("rnn")
    assert ex.visible == ("rnn",)
    assert_fresh(ex)  # hiding does not change the numbers


def test_hiding_the_lstm_moves_the_cursor_off_c0():
    ex = Explorer()
    ex.choose_target("c0")
    ex.component = 2
    ex.toggle_model("lstm")
    assert (ex.target, ex.component) == ("h0", 2)


def test_explorer_is_independent_of_its_scenario_source():
    """Edits replace the scenario; they never write into arrays the caller handed in."""
    inputs = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    h0 = np.array([0.1, -0.1])
    kept = copy.deepcopy((inputs, h0))
    ex = Explorer(Scenario(inputs=inputs, h0=h0, models=("rnn",)))
    assert ex.visible == ("rnn",) and ex.input_size == 2 and ex.hidden_size == 2
    ex.set_value(9.0)
    ex.choose_target("h0")
    ex.set_value(0.5)
    ex.randomise()
    assert np.array_equal(inputs, kept[0]) and np.array_equal(h0, kept[1])
    assert_fresh(ex)


def test_a_wide_hidden_state():
    ex = Explorer(Scenario(hidden=64))
    assert ex.hidden_size == 64
    assert np.array_equal(ex.scenario.h0, np.zeros(64))  # not the slides' H = 3 states
    ex.choose_unit(-1)
    assert ex.unit == 63
    ex.go(3)
    ex.set_value(0.1)
    assert_fresh(ex)
