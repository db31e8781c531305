"""`gru-tui step` (SPEC §2, §3): records, options, presets and the human view, end to end.

Numbers are checked against the Python API (SPEC §8) run on the same inputs: an independent
path from the command line through the engine, so these tests catch broken plumbing (wrong
order, wrong state carried, an option not passed on), not errors in the equations.
"""

from __future__ import annotations

import itertools
import json
import math
import re

import numpy as np
import pytest

import gru_tui

XS = [[0.5, -0.3, 0.8], [0.1, 0.2, 0.3], [-1.0, 0.25, 2.0]]
INLINE = "0.5,-0.3,0.8;0.1,0.2,0.3;-1,0.25,2"

# README "Presets": name → default number of steps.
PRESET_STEPS = {"slides": 8, "sine": 24, "impulse": 30, "step": 20, "noise": 20, "remember": 60}


def sine_row(k: int, width: int = 3) -> list[float]:
    """Row k (0-based) of the sine preset: 0.8·sin(2πk/12), components a third of a turn apart."""
    return [0.8 * math.sin(2 * math.pi * k / 12 + 2 * math.pi * j / 3) for j in range(width)]


def by_model(records: list[dict], model: str) -> list[dict]:
    return [r for r in records if r["model"] == model]


# -- the built-in example and the shape of the records ---------------------------------------


@pytest.fixture(scope="module")
def example_run(cli):
    """`gru-tui step --json`: the built-in example with the default models."""
    return cli("step", "--json")


@pytest.fixture(scope="module")
def example(example_run) -> list[dict]:
    return example_run.records()


def test_json_lines_one_object_per_line(example_run):
    result = example_run
    assert result.returncode == 0
    assert result.stderr == ""
    lines = result.stdout.split("\n")
    assert lines[-1] == "", "output ends with a newline"
    for line in lines[:-1]:
        assert line.strip() == line and line
        assert isinstance(json.loads(line), dict)


def test_builtin_example_starts_from_the_slides(cli, example):
    gru, lstm = example[0], example[1]
    assert (gru["model"], gru["t"]) == ("gru", 1)
    assert (lstm["model"], lstm["t"]) == ("lstm", 1)
    for record in (gru, lstm):
        assert record["x"] == cli.SLIDE_X1
        assert record["h_prev"] == cli.SLIDE_H0
    assert lstm["c_prev"] == cli.SLIDE_C0


def test_builtin_example_continues_with_the_sine_preset(example):
    xs = [r["x"] for r in by_model(example, "gru")]
    assert len(xs) == PRESET_STEPS["slides"]
    for k in range(1, len(xs)):
        assert xs[k] == pytest.approx(sine_row(k), abs=0.5e-4 + 1e-12)  # rounded to 4 decimals


def test_default_models_are_gru_then_lstm_ordered_by_t(example):
    steps = PRESET_STEPS["slides"]
    assert [(r["t"], r["model"]) for r in example] == [
        (t, m) for t in range(1, steps + 1) for m in ("gru", "lstm")
    ]


@pytest.mark.parametrize("model", ["gru", "lstm", "rnn"])
def test_record_keys_in_spec_order(cli, model):
    records = cli.records("step", "--json", "--model", "gru,lstm,rnn", "--steps", "2")
    mine = by_model(records, model)
    assert len(mine) == 2
    for record in mine:
        assert list(record)[: len(cli.RECORD_KEYS[model])] == cli.RECORD_KEYS[model]
        assert record["model"] == model
        assert isinstance(record["t"], int)
        for key in cli.RECORD_KEYS[model][2:]:
            assert all(isinstance(v, float) for v in record[key]), key
            assert len(record[key]) == 3, key


def test_model_order_follows_the_option_order(cli):
    records = cli.records("step", "--json", "-m", "lstm", "--model", "rnn", "-m", "gru",
                          "--steps", "3")
    assert [(r["t"], r["model"]) for r in records] == [
        (t, m) for t in (1, 2, 3) for m in ("lstm", "rnn", "gru")
    ]


def test_comma_separated_models_equal_repeated_option(cli):
    repeated = cli("step", "--json", "--model", "rnn", "--model", "gru", "--steps", "3")
    commas = cli("step", "--json", "--model", "rnn,gru", "--steps", "3")
    assert repeated.returncode == commas.returncode == 0
    assert commas.stdout == repeated.stdout
    assert [r["model"] for r in commas.records()] == ["rnn", "gru"] * 3


def test_single_model(cli):
    records = cli.records("step", "--json", "--model", "lstm")
    assert {r["model"] for r in records} == {"lstm"}
    assert [r["t"] for r in records] == list(range(1, PRESET_STEPS["slides"] + 1))


def test_state_carries_from_step_to_step(cli):
    records = cli.records("step", "--json", "-m", "gru,lstm,rnn", "--preset", "noise",
                          "--steps", "6")
    for model in ("gru", "lstm", "rnn"):
        mine = by_model(records, model)
        assert [r["t"] for r in mine] == list(range(1, 7))
        for before, after in itertools.pairwise(mine):
            assert after["h_prev"] == before["h"]
            if model == "lstm":
                assert after["c_prev"] == before["c"]


def test_example_matches_the_python_api(cli):
    records = cli.records("step", "--json", "-m", "gru,lstm,rnn")
    for model in ("gru", "lstm", "rnn"):
        cli.assert_matches_api(records, model, h0=cli.SLIDE_H0, c0=cli.SLIDE_C0)


def test_floats_round_trip(cli, example):
    """Full precision: the text of every float reads back to the engine's float64 exactly."""
    trace = cli.api_trace("gru", [r["x"] for r in by_model(example, "gru")], cli.SLIDE_H0)
    text = example[0]["update"]
    assert text == trace["update"][0].tolist()
    assert any(len(repr(v)) > 12 for v in text), "values are not rounded for display"


# -- inputs in every form ---------------------------------------------------------------------


def _write_inputs(tmp_path, form: str):
    """(argument to --inputs, stdin) holding XS in the given form."""
    rows_json = json.dumps(XS)
    csv = "\n".join(",".join(repr(v) for v in row) for row in XS) + "\n"
    if form == "inline":
        return INLINE, None
    if form == "inline-spaces":
        return "0.5, -0.3, 0.8; 0.1 0.2 0.3 ; -1,0.25,2", None
    if form == "json-rows":
        return rows_json, None
    if form == "json-file":
        (tmp_path / "xs.json").write_text(rows_json)
        return str(tmp_path / "xs.json"), None
    if form == "csv-file":
        (tmp_path / "xs.csv").write_text(csv)
        return str(tmp_path / "xs.csv"), None
    if form == "csv-file-header":
        (tmp_path / "xs.csv").write_text("x1,x2,x3\n" + csv)
        return str(tmp_path / "xs.csv"), None
    if form == "csv-file-crlf":
        (tmp_path / "xs.csv").write_bytes(("a,b,c\n" + csv).replace("\n", "\r\n").encode())
        return str(tmp_path / "xs.csv"), None
    if form == "npy-file":
        np.save(tmp_path / "xs.npy", np.array(XS))
        return str(tmp_path / "xs.npy"), None
    if form == "stdin-inline":
        return "-", csv
    if form == "stdin-json":
        return "-", rows_json
    raise AssertionError(form)


FORMS = ["inline", "inline-spaces", "json-rows", "json-file", "csv-file", "csv-file-header",
         "csv-file-crlf", "npy-file", "stdin-inline", "stdin-json"]


@pytest.fixture(scope="module")
def inline_run(form_runs):
    return form_runs["inline"]


def test_inline_inputs_match_the_python_api(cli, inline_run):
    records = inline_run.records()
    assert [(r["t"], r["model"]) for r in records] == [
        (t, m) for t in (1, 2, 3) for m in ("gru", "lstm", "rnn")
    ]
    for model in ("gru", "lstm", "rnn"):
        mine = by_model(records, model)
        assert [r["x"] for r in mine] == XS
        assert mine[0]["h_prev"] == [0.0, 0.0, 0.0], "zeros when --h0 is not given"
        if model == "lstm":
            assert mine[0]["c_prev"] == [0.0, 0.0, 0.0], "zeros when --c0 is not given"
        cli.assert_matches_api(records, model)


@pytest.fixture(scope="module")
def form_runs(cli, tmp_path_factory):
    """The XS run with its inputs in every form, several runs at a time."""
    runs = {}
    for form in FORMS:
        source, stdin = _write_inputs(tmp_path_factory.mktemp(form), form)
        runs[form] = (["step", "--json", "-m", "gru,lstm,rnn", "--inputs", source],
                      {"stdin": stdin})
    return cli.many(runs)


@pytest.mark.parametrize("form", FORMS[1:])
def test_every_input_form_gives_the_same_run(form_runs, inline_run, form):
    result = form_runs[form]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == inline_run.stdout


def test_short_option_and_relative_file_name(cli, tmp_path, inline_run):
    (tmp_path / "xs.csv").write_text(INLINE.replace(";", "\n"))
    result = cli("step", "--json", "-m", "gru,lstm,rnn", "-i", "xs.csv", cwd=tmp_path)
    assert result.stdout == inline_run.stdout


def test_one_json_row_is_one_step(cli):
    records = cli.records("step", "--json", "-m", "rnn", "--inputs", "[0.5, -0.3, 0.8]")
    assert [r["x"] for r in records] == [XS[0]]


def test_one_dimensional_npy_is_one_step(cli, tmp_path):
    np.save(tmp_path / "x.npy", np.array(XS[0]))
    records = cli.records("step", "--json", "-m", "rnn", "--inputs", str(tmp_path / "x.npy"))
    assert [r["x"] for r in records] == [XS[0]]


@pytest.mark.parametrize("dtype", ["float32", "int64", "uint8"])
def test_npy_of_other_number_types(cli, tmp_path, dtype):
    rows = np.array([[1, 2, 3], [4, 5, 6]], dtype=dtype)
    np.save(tmp_path / "x.npy", rows)
    records = cli.records("step", "--json", "-m", "rnn", "--inputs", str(tmp_path / "x.npy"))
    assert [r["x"] for r in records] == rows.astype(float).tolist()


def test_input_width_sets_the_model_width(cli):
    records = cli.records("step", "--json", "-m", "gru,lstm", "--inputs", "1,2,3,4,5;6,7,8,9,10")
    assert [len(r["x"]) for r in records] == [5] * 4
    assert all(len(r["h"]) == 3 for r in records)
    for model in ("gru", "lstm"):
        cli.assert_matches_api(records, model)


def test_extreme_finite_values_are_accepted(cli):
    """SPEC §3: any finite value, ±1e308 included; the outputs stay finite (float64)."""
    rows = "1e308,-1e308,1e308;-1e308,1e308,-1e308;0,0,0"
    records = cli.records("step", "--json", "-m", "gru,lstm,rnn", "--inputs", rows,
                          "--h0", "1e308,-1e308,0", "--c0", "-1e308,1e308,0")
    assert len(records) == 9
    assert records[0]["x"] == [1e308, -1e308, 1e308]
    assert records[0]["h_prev"] == [1e308, -1e308, 0.0]
    for record in records:
        for key, values in record.items():
            if isinstance(values, list):
                assert all(math.isfinite(v) for v in values), (record["model"], key)
        for gate in ("reset", "update", "forget", "input", "output"):
            if gate in record:
                assert all(0.0 <= v <= 1.0 for v in record[gate])


@pytest.mark.parametrize("reset", ["before", "after"])
def test_extreme_values_with_both_reset_placements(cli, reset):
    records = cli.records("step", "--json", "-m", "gru", "--gru-reset", reset,
                          "--z-weights", "new", "--inputs", "1e308,-1e308,1e308;1,1,1",
                          "--h0", "1e308,1e308,1e308")
    assert all(math.isfinite(v) for r in records for v in r["h"])


# -- initial states ----------------------------------------------------------------------------


def test_h0_and_c0_are_the_first_previous_states(cli):
    h0, c0 = [0.25, -0.5, 0.125], [1.5, -2.0, 0.75]
    records = cli.records("step", "--json", "-m", "gru,lstm,rnn", "--inputs", INLINE,
                          "--h0", "0.25,-0.5,0.125", "--c0", json.dumps(c0))
    for record in records[:3]:
        assert record["t"] == 1
        assert record["h_prev"] == h0
    assert by_model(records, "lstm")[0]["c_prev"] == c0
    for model in ("gru", "lstm", "rnn"):
        cli.assert_matches_api(records, model, h0=h0, c0=c0)


def test_h0_alone_leaves_c0_at_zeros(cli):
    records = cli.records("step", "--json", "-m", "lstm", "--inputs", INLINE, "--h0", "[1, 2, 3]")
    assert records[0]["h_prev"] == [1.0, 2.0, 3.0]
    assert records[0]["c_prev"] == [0.0, 0.0, 0.0]
    cli.assert_matches_api(records, "lstm", h0=[1.0, 2.0, 3.0])


def test_presets_other_than_the_example_start_from_zeros(cli):
    records = cli.records("step", "--json", "--preset", "sine", "--steps", "2")
    assert records[0]["h_prev"] == [0.0, 0.0, 0.0]
    assert records[1]["c_prev"] == [0.0, 0.0, 0.0]


def test_hidden_sets_the_state_width(cli):
    records = cli.records("step", "--json", "-m", "gru,lstm,rnn", "--hidden", "5", "--steps", "3")
    for record in records:
        assert len(record["x"]) == 3
        for key in cli.RECORD_KEYS[record["model"]][3:]:
            assert len(record[key]) == 5, (record["model"], key)
    for model in ("gru", "lstm", "rnn"):
        first = by_model(records, model)[0]
        cli.assert_matches_api(records, model, h0=first["h_prev"], c0=first.get("c_prev"),
                               hidden=5)


def test_hidden_is_inferred_from_h0(cli):
    records = cli.records("step", "--json", "-m", "gru,lstm,rnn", "--inputs", INLINE,
                          "--h0", "0.1,-0.2")
    for record in records:
        assert len(record["h"]) == 2
    assert by_model(records, "lstm")[0]["c_prev"] == [0.0, 0.0]
    for model in ("gru", "lstm", "rnn"):
        cli.assert_matches_api(records, model, h0=[0.1, -0.2])


def test_hidden_agreeing_with_h0(cli):
    records = cli.records("step", "--json", "-m", "rnn", "--inputs", INLINE, "--h0", "0.1,-0.2",
                          "--hidden", "2")
    cli.assert_matches_api(records, "rnn", h0=[0.1, -0.2])


# -- weights and conventions -------------------------------------------------------------------


def test_same_seed_same_bytes(cli):
    args = ("step", "--json", "-m", "gru,lstm,rnn", "--preset", "noise", "--steps", "5")
    first, second = cli(*args, "--seed", "3"), cli(*args, "--seed", "3")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout


def test_different_seed_different_weights(cli):
    args = ("step", "--json", "-m", "gru,lstm,rnn", "--inputs", INLINE)
    zero, one = cli.records(*args, "--seed", "0"), cli.records(*args, "-s", "1")
    assert [r["x"] for r in zero] == [r["x"] for r in one]
    for a, b in zip(zero, one, strict=True):
        assert a["h"] != b["h"], a["model"]
    for model in ("gru", "lstm", "rnn"):
        cli.assert_matches_api(one, model, seed=1)


def test_default_seed_is_zero(cli):
    args = ("step", "--json", "--steps", "3")
    assert cli(*args).stdout == cli(*args, "--seed", "0").stdout


def test_noise_preset_follows_the_seed(cli):
    args = ("step", "--json", "-m", "rnn", "--preset", "noise", "--steps", "4")
    zero, seven = cli.records(*args), cli.records(*args, "--seed", "7")
    assert [r["x"] for r in zero] != [r["x"] for r in seven]
    for record in zero + seven:
        assert all(-1.0 <= v <= 1.0 for v in record["x"])
    cli.assert_matches_api(seven, "rnn", seed=7)


@pytest.mark.parametrize(("reset", "z_weights"), [("after", "old"), ("before", "new"),
                                                  ("after", "new"), ("before", "old")])
def test_gru_conventions(cli, reset, z_weights):
    args = ("step", "--json", "-m", "gru,lstm", "--inputs", INLINE, "--h0", "0.2,0.4,-0.1")
    default = cli.records(*args)
    records = cli.records(*args, "--gru-reset", reset, "--z-weights", z_weights)
    cli.assert_matches_api(records, "gru", h0=[0.2, 0.4, -0.1], reset=reset, z_weights=z_weights)
    changed = by_model(records, "gru") != by_model(default, "gru")
    assert changed == ((reset, z_weights) != ("before", "old"))
    assert by_model(records, "lstm") == by_model(default, "lstm"), "GRU conventions only"


def test_reset_after_differs_from_api_default(cli):
    """Guards the test above: "after" really is a different equation on these inputs."""
    records = cli.records("step", "--json", "-m", "gru", "--inputs", INLINE, "--h0", "1,-1,1",
                          "--gru-reset", "after")
    trace = cli.api_trace("gru", XS, [1.0, -1.0, 1.0])
    assert [r["candidate"] for r in records] != trace["candidate"].tolist()


def test_float32_is_close_to_float64_and_matches_the_api(cli):
    f64 = cli.records("step", "--json", "-m", "gru,lstm,rnn")
    f32 = cli.records("step", "--json", "-m", "gru,lstm,rnn", "--dtype", "float32")
    assert len(f32) == len(f64)
    assert f32[0]["x"] == [float(np.float32(v)) for v in cli.SLIDE_X1]
    biggest = 0.0
    for a, b in zip(f32, f64, strict=True):
        assert list(a) == list(b)
        for key in cli.RECORD_KEYS[a["model"]][2:]:
            diff = np.max(np.abs(np.array(a[key]) - np.array(b[key])))
            assert diff < 1e-5, (a["model"], a["t"], key)
            biggest = max(biggest, diff)
    assert biggest > 0, "float32 gave exactly the float64 numbers"
    for model in ("gru", "lstm", "rnn"):
        cli.assert_matches_api(f32, model, h0=cli.SLIDE_H0, c0=cli.SLIDE_C0, dtype="float32")


def test_float64_is_the_default(cli):
    args = ("step", "--json", "-m", "lstm", "--steps", "3")
    assert cli(*args).stdout == cli(*args, "--dtype", "float64").stdout


# -- presets and --steps ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def preset_runs(cli):
    """Each preset at its own length (default models) and at --steps 5 (all three models)."""
    runs = {}
    for preset in PRESET_STEPS:
        runs[preset] = (["step", "--json", "--preset", preset], {})
        runs[f"{preset} -n 5"] = (["step", "--json", "-p", preset, "--steps", "5",
                                   "-m", "rnn,gru,lstm"], {})
    return cli.many(runs)


@pytest.mark.parametrize("preset", list(PRESET_STEPS))
def test_preset_default_length(preset_runs, preset):
    records = preset_runs[preset].records()
    assert len(records) == 2 * PRESET_STEPS[preset]
    assert records[-1]["t"] == PRESET_STEPS[preset]


@pytest.mark.parametrize("preset", list(PRESET_STEPS))
def test_preset_steps(cli, preset_runs, preset):
    records = preset_runs[f"{preset} -n 5"].records()
    assert len(records) == 5 * 3
    assert [(r["t"], r["model"]) for r in records] == [
        (t, m) for t in range(1, 6) for m in ("rnn", "gru", "lstm")
    ]
    h0 = cli.SLIDE_H0 if preset == "slides" else None
    c0 = cli.SLIDE_C0 if preset == "slides" else None
    for model in ("gru", "lstm", "rnn"):
        cli.assert_matches_api(records, model, h0=h0, c0=c0)


def test_preset_slides_is_the_builtin_example(preset_runs, example_run):
    assert preset_runs["slides"].stdout == example_run.stdout


def test_steps_on_the_builtin_example(cli):
    records = cli.records("step", "--json", "--steps", "3")
    assert len(records) == 6
    assert records[0]["x"] == cli.SLIDE_X1


def test_steps_longer_than_one_chunk(cli):
    """A long run streams in windows; the state must carry across them."""
    records = cli.records("step", "--json", "-m", "rnn", "--steps", "5000")
    assert [r["t"] for r in records] == list(range(1, 5001))
    for before, after in itertools.pairwise(records):
        assert after["h_prev"] == before["h"]


@pytest.mark.parametrize(("preset", "expected"), [
    ("impulse", [[1.0] * 3] + [[0.0] * 3] * 29),
    ("step", [[0.0] * 3] * 4 + [[1.0] * 3] * 16),
    ("sine", [pytest.approx(sine_row(k), abs=0.5e-4 + 1e-12) for k in range(24)]),
])
def test_preset_values(preset_runs, preset, expected):
    records = by_model(preset_runs[preset].records(), "gru")
    assert [r["x"] for r in records] == expected


def test_remember_preset_is_one_cue_then_quiet(preset_runs):
    records = by_model(preset_runs["remember"].records(), "gru")
    xs = [r["x"] for r in records]
    assert all(abs(v) == 1.0 for v in xs[0])
    assert all(v == 0.0 for row in xs[1:] for v in row)


# -- the human view -------------------------------------------------------------------------

COLOUR_PARAMS = re.compile(r"^(3[0-9]|4[0-9]|9[0-7]|10[0-7])$")


def colour_codes(text: str) -> list[str]:
    """SGR sequences that set a foreground or background colour."""
    found = []
    for params in re.findall(r"\x1b\[([0-9;]*)m", text):
        if any(COLOUR_PARAMS.match(p) for p in params.split(";")):
            found.append(params)
    return found


@pytest.fixture(scope="module")
def human(cli):
    """`gru-tui step` on the built-in example, stdout a pipe."""
    result = cli("step")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_step_prints_the_example_for_a_person(human):
    assert "t = 1 / 8" in human
    assert "t = 8 / 8" in human
    assert "t = 9" not in human
    for value in ("+0.5000", "-0.3000", "+0.8000", "+0.2000", "+0.4000", "-0.1000", "+0.6000",
                  "-0.2000", "+0.3000"):
        assert value in human, value
    for name in ("reset gate", "update gate", "candidate", "forget gate", "input gate",
                 "output gate", "cell state", "hidden state"):
        assert name in human, name
    assert "{" not in human, "the human view is not JSON"


def test_no_command_without_a_terminal_prints_the_example(cli, human):
    """In a pipe or a script, `gru-tui` prints what `gru-tui step` prints, and exits."""
    # "q" on stdin closes the app should one open anyway, so this cannot hang.
    result = cli(stdin="q")
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout == human


def test_no_command_takes_the_step_options(cli):
    args = ("--model", "rnn", "--inputs", INLINE, "--h0", "1,2,3")
    plain, step = cli(*args), cli("step", *args)
    assert plain.returncode == 0 and plain.stderr == ""
    assert plain.stdout == step.stdout
    assert "t = 3 / 3" in plain.stdout


def test_human_view_has_no_escape_codes_in_a_pipe(human):
    assert "\x1b" not in human


def test_human_view_follows_the_options(cli):
    result = cli("step", "-m", "rnn", "--inputs", INLINE)
    assert result.returncode == 0 and result.stderr == ""
    assert "t = 1 / 3" in result.stdout and "t = 3 / 3" in result.stdout
    assert "+2.0000" in result.stdout and "-1.0000" in result.stdout
    assert "reset gate" not in result.stdout
    assert "hidden state" in result.stdout


def test_human_values_match_the_records(cli):
    record = cli.records("step", "--json", "-m", "gru", "-n", "1")[0]
    text = cli("step", "-m", "gru", "-n", "1").stdout
    for key in ("reset", "update"):  # gates lie in [0, 1]: a sign is optional
        for value in record[key]:
            assert f"{value:.4f}" in text, (key, value)
    for key in ("candidate", "h"):
        for value in record[key]:
            assert f"{value:+.4f}" in text, (key, value)


def test_force_color_gives_colour_codes(cli):
    """Guards the NO_COLOR tests: the check below does see colour when there is some."""
    result = cli("step", "-n", "1", env={"FORCE_COLOR": "1"})
    assert result.returncode == 0
    assert colour_codes(result.stdout)


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"NO_COLOR": "1", "FORCE_COLOR": "1"}],
                         ids=["NO_COLOR", "NO_COLOR+FORCE_COLOR"])
def test_no_color(cli, env):
    result = cli("step", "-n", "2", env=env)
    assert result.returncode == 0
    assert result.stderr == ""
    assert colour_codes(result.stdout) == []
    assert "t = 2 / 2" in result.stdout
    assert "+0.5000" in result.stdout


# -- version and help -------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(cli, flag):
    result = cli(flag)
    assert result.returncode == 0
    assert result.stderr == ""
    assert gru_tui.__version__ in result.stdout
    assert len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(cli, flag):
    result = cli(flag)
    assert result.returncode == 0
    assert result.stderr == ""
    assert "Traceback" not in result.stdout
    for command in ("step", "params"):
        assert command in result.stdout


def test_step_help_lists_every_option(cli):
    result = cli("step", "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0
    for option in ("--model", "--inputs", "--preset", "--steps", "--h0", "--c0", "--hidden",
                   "--seed", "--gru-reset", "--z-weights", "--dtype", "--json"):
        assert option in result.stdout, option
