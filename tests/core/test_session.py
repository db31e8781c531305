"""Session files: save and load keep every field, and `step --session FILE --json` replays the
explorer's numbers exactly; bad session files are refused as SPEC §5 says.

The replays go through the real command in a subprocess (``python -m gru_tui``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from gru_tui.core.explorer import Explorer
from gru_tui.core.scenario import Scenario
from gru_tui.core.session import FORMAT, VERSION, load_session, save_session
from gru_tui.engine import CELLS
from gru_tui.errors import InputError

STRIPPED_ENV = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "COLUMNS", "LINES", "TEXTUAL_THEME")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in STRIPPED_ENV}
    return subprocess.run([sys.executable, "-m", "gru_tui", *args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, env=env, timeout=300)


def run_many(argv: dict[str, list[str]]) -> dict[str, subprocess.CompletedProcess]:
    """Independent runs at the same time; each is its own process."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(run_cli, *args) for name, args in argv.items()}
        return {name: future.result() for name, future in futures.items()}


def records(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_replays(explorer: Explorer, lines: list[dict]) -> None:
    """The records are the explorer's traces: shown models, in order, every key, exactly."""
    models = list(explorer.visible)
    assert len(lines) == explorer.steps * len(models)
    for index, record in enumerate(lines):
        t, k = divmod(index, len(models))
        model = models[k]
        assert record["model"] == model and record["t"] == t + 1
        trace = explorer.traces[model]
        for key in CELLS[model].RECORD_KEYS:
            assert record[key] == trace[key][t].tolist(), (model, t + 1, key)


def edited_explorer() -> Explorer:
    """An explorer after one of every kind of change."""
    ex = Explorer()
    ex.go(2)
    ex.set_value(0.123456789)
    ex.choose_component(1)
    ex.nudge(0.1)
    ex.insert_step()
    ex.randomise()
    ex.choose_target("h0")
    ex.set_value(-0.75)
    ex.choose_target("c0")
    ex.set_value(1.5)
    ex.reseed()
    ex.toggle_reset()
    ex.toggle_z_weights()
    ex.set_bias_offset("lstm", "f", 1.0)
    ex.set_bias_offset("gru", "z", -0.5)
    ex.set_recurrent_scale(1.25)
    ex.toggle_model("rnn")
    ex.choose_unit(2)
    ex.go(5)
    return ex


# -- save and load --------------------------------------------------------------------------


def test_save_and_load_keep_every_field(tmp_path):
    ex = edited_explorer()
    path = save_session(ex, tmp_path / "session.json")
    assert path == tmp_path / "session.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT and data["version"] == VERSION
    assert data["models"] == ["gru", "lstm", "rnn"]
    assert data["t"] == 6 and data["unit"] == 3  # counted from 1 in the file
    assert data["seed"] == 1 and data["gru_reset"] == "after" and data["z_weights"] == "new"
    assert data["recurrent_scale"] == 1.25 and data["hidden"] == 3

    loaded = load_session(path)
    sc, mine = loaded.scenario, ex.scenario
    assert loaded.t == ex.t == 5 and loaded.unit == ex.unit == 2
    assert sc.models == ex.visible
    assert sc.hidden_size == 3 and sc.seed == 1 and sc.dtype == "float64"
    assert sc.reset == "after" and sc.z_weights == "new"
    assert set(sc.bias_offsets) == {("lstm", "f", 1.0), ("gru", "z", -0.5)}
    assert sc.recurrent_scale == 1.25
    assert np.array_equal(sc.inputs, mine.inputs) and sc.inputs.dtype == np.float64
    assert sc.inputs[2].tolist()[0] == 0.123456789
    assert np.array_equal(sc.h0, mine.h0) and np.array_equal(sc.c0, mine.c0)

    again = Explorer(sc, t=loaded.t, unit=loaded.unit, visible=sc.models)
    for model in ex.visible:
        for key in CELLS[model].RECORD_KEYS:
            assert np.array_equal(again.traces[model][key], ex.traces[model][key]), key
    second = save_session(again, tmp_path / "again.json")
    assert json.loads(second.read_text()) == data


def test_a_saved_session_keeps_the_shown_models_order(tmp_path):
    ex = Explorer(visible=("rnn", "gru"))
    loaded = load_session(save_session(ex, tmp_path / "s.json"))
    assert loaded.scenario.models == ("rnn", "gru")


def test_float32_and_wide_sessions_round_trip(tmp_path):
    ex = Explorer(Scenario(hidden=5, dtype="float32", preset="noise", seed=3, models=("lstm",)))
    loaded = load_session(save_session(ex, tmp_path / "s.json"))
    assert loaded.scenario.dtype == "float32" and loaded.scenario.hidden_size == 5
    assert loaded.scenario.models == ("lstm",)
    assert np.array_equal(loaded.scenario.inputs, ex.xs)
    assert np.array_equal(loaded.scenario.h0, np.zeros(5))


# -- replay with `step --session FILE --json` -----------------------------------------------


def replay_cases() -> dict[str, Explorer]:
    cases = {"built-in": Explorer(), "every edit": edited_explorer()}
    ex = Explorer(visible=("rnn", "lstm", "gru"))  # the file's order, not MODELS'
    ex.go(7)
    ex.set_value(-3.25)
    ex.insert_step()
    cases["models reordered"] = ex
    ex = Explorer(Scenario(hidden=4, preset="impulse", dtype="float32", models=("lstm", "gru")))
    ex.set_bias_offset("lstm", "f", 2.0)
    ex.set_recurrent_scale(0.5)
    ex.reseed(9)
    cases["float32 impulse"] = ex
    ex = Explorer()
    ex.load_preset("remember")
    ex.delete_step()
    ex.toggle_reset()
    cases["preset, delete, reset after"] = ex
    return cases


def test_step_replays_the_explorer_exactly(tmp_path):
    cases = replay_cases()
    paths = {name: save_session(ex, tmp_path / f"{k}.json")
             for k, (name, ex) in enumerate(cases.items())}
    results = run_many({name: ["step", "--session", str(path), "--json"]
                        for name, path in paths.items()})
    for name, ex in cases.items():
        lines = records(results[name])
        assert [r["model"] for r in lines[: len(ex.visible)]] == list(ex.visible), name
        assert_replays(ex, lines)


# -- bad session files ----------------------------------------------------------------------

GOOD = {"format": FORMAT, "version": VERSION, "models": ["gru", "lstm"], "hidden": 3,
        "inputs": [[0.5, -0.3, 0.8], [0.1, 0.2, 0.3]], "h0": [0.2, 0.4, -0.1],
        "c0": [0.6, -0.2, 0.3], "t": 1, "unit": 1}


def without(key: str) -> dict:
    return {k: v for k, v in GOOD.items() if k != key}


BAD_FILES = {  # name: (file text, or None for a directory or a missing file; words of the line)
    "not json": ('{"format": "gru-tui session", ', ["not valid JSON"]),
    "empty": ("", ["not valid JSON"]),
    "a list": ("[1, 2, 3]", ["not a gru-tui session"]),
    "wrong format": (json.dumps({**GOOD, "format": "something else"}),
                     ["not a gru-tui session"]),
    "no format": (json.dumps(without("format")), ["not a gru-tui session"]),
    "wrong version": (json.dumps({**GOOD, "version": 99}), ["version 99"]),
    "missing inputs": (json.dumps(without("inputs")), ['"inputs"']),
    "empty inputs": (json.dumps({**GOOD, "inputs": []}), ['"inputs"']),
    "NaN": (json.dumps(GOOD).replace("0.8", "NaN"), ["NaN"]),
    "Infinity in h0": (json.dumps(GOOD).replace("-0.1", "-Infinity"), ["Infinity"]),
    "ragged inputs": (json.dumps({**GOOD, "inputs": [[1, 2, 3], [4, 5]]}), ['"inputs"']),
    "words in inputs": (json.dumps({**GOOD, "inputs": [[1, "two", 3]]}), ['"inputs"']),
    "wrong t type": (json.dumps({**GOOD, "t": "one"}), ['"t"']),
    "wrong dtype": (json.dumps({**GOOD, "dtype": "float16"}), ['"dtype"']),
    "wrong gru_reset": (json.dumps({**GOOD, "gru_reset": "middle"}), ['"gru_reset"']),
    "h0 two rows": (json.dumps({**GOOD, "h0": [[1, 2, 3]]}), ['"h0"']),
    "directory": (None, ["directory"]),
    "missing file": (None, ["no such file"]),
}
# Refused with exit 2 and one line, but the line names a command-line option instead of the
# session file: the Scenario's checks run after the file's own, and nothing adds "where".
NO_FILE_NAMED = {
    "wrong h0 length": (json.dumps({**GOOD, "h0": [0.2, 0.4]}), ["h0"]),
    "wrong c0 length": (json.dumps({**GOOD, "c0": [0.6]}), ["c0"]),
    "unknown model": (json.dumps({**GOOD, "models": ["gru", "transformer"]}), ["transformer"]),
    "no models": (json.dumps({**GOOD, "models": []}), ["model"]),
    "negative seed": (json.dumps({**GOOD, "seed": -1}), ["seed"]),
    "zero hidden": (json.dumps({**GOOD, "hidden": 0}), ["hidden"]),
    "negative U scale": (json.dumps({**GOOD, "recurrent_scale": -1}), ["scale"]),
    "unknown gate offset": (json.dumps({**GOOD, "bias_offsets": [["gru", "q", 1]]}), ["gru.q"]),
}
# Not refused at all: a Python traceback and exit 1.
CRASHES = {
    "short bias offset": (json.dumps({**GOOD, "bias_offsets": [["gru", "r"]]}),
                          ["bias_offsets"]),
    "bias offset not a number": (json.dumps({**GOOD, "bias_offsets": [["gru", "r", "big"]]}),
                                 ["bias_offsets"]),
    "bias offset not a list": (json.dumps({**GOOD, "bias_offsets": [5]}), ["bias_offsets"]),
}
ALL_BAD = {**BAD_FILES, **NO_FILE_NAMED, **CRASHES}


def write_bad(tmp_path, name: str):
    text, _ = ALL_BAD[name]
    path = tmp_path / (name.replace(" ", "-") + ".json")
    if name == "directory":
        path.mkdir()
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bad_results(tmp_path_factory):
    """Every bad file through `step --json` and through the app's `--session`, in parallel."""
    folder = tmp_path_factory.mktemp("bad-sessions")
    paths = {name: write_bad(folder, name) for name in ALL_BAD}
    argv = {}
    for name, path in paths.items():
        argv[("step", name)] = ["step", "--session", str(path), "--json"]
        argv[("app", name)] = ["--session", str(path)]
    return paths, run_many(argv)


def assert_one_line_error(result, *needles: str) -> str:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize("how", ["step", "app"])
@pytest.mark.parametrize("name", list(ALL_BAD))
def test_a_bad_session_file_is_refused_in_one_line(bad_results, name, how):
    paths, results = bad_results
    _, needles = ALL_BAD[name]
    line = assert_one_line_error(results[(how, name)], *needles)
    assert str(paths[name]) in line
    assert line.startswith("gru-tui: error: ")


def test_load_session_raises_input_error_naming_the_file(tmp_path):
    for name in BAD_FILES:
        path = write_bad(tmp_path, name)
        with pytest.raises(InputError) as error:
            load_session(path)
        assert str(path) in str(error.value), name


def test_t_and_unit_are_clamped_into_the_run(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({**GOOD, "t": 50, "unit": 9}))
    loaded = load_session(path)
    assert loaded.t == 1 and loaded.unit == 2
    path.write_text(json.dumps({**GOOD, "t": -3, "unit": 0}))
    loaded = load_session(path)
    assert loaded.t == 0 and loaded.unit == 0


def test_session_with_other_run_options_is_refused(tmp_path):
    path = save_session(Explorer(), tmp_path / "s.json")
    results = run_many({
        "step inputs": ["step", "--session", str(path), "--json", "--inputs", "1,2,3"],
        "step model": ["step", "--session", str(path), "--json", "--model", "rnn"],
        "step preset": ["step", "--session", str(path), "--json", "--preset", "sine"],
        "step h0": ["step", "--session", str(path), "--json", "--h0", "0,0,0"],
        "app inputs": ["--session", str(path), "--inputs", "1,2,3"],
    })
    for name, result in results.items():
        option = "--" + name.split()[1]
        assert_one_line_error(result, "--session", option)


def test_session_with_settings_options_is_refused(tmp_path):
    path = save_session(Explorer(), tmp_path / "s.json")
    results = run_many({
        "seed": ["step", "--session", str(path), "--json", "--seed", "5"],
        "gru-reset": ["step", "--session", str(path), "--json", "--gru-reset", "after"],
        "z-weights": ["step", "--session", str(path), "--json", "--z-weights", "new"],
        "dtype": ["step", "--session", str(path), "--json", "--dtype", "float32"],
    })
    for name, result in results.items():
        assert_one_line_error(result, "--session", f"--{name}")


def test_a_chosen_recurrent_activation_is_kept(tmp_path):
    scenario = Scenario(recurrent_activation="hard_sigmoid", preset="sine", steps=5)
    explorer = Explorer(scenario)
    path = save_session(explorer, tmp_path / "s.json")
    assert json.loads(path.read_text())["recurrent_activation"] == "hard_sigmoid"
    again = Explorer(load_session(path).scenario)
    assert again.traces["gru"].cell.recurrent_activation == \
        explorer.traces["gru"].cell.recurrent_activation != "sigmoid"
    np.testing.assert_array_equal(again.traces["lstm"]["h"], explorer.traces["lstm"]["h"])
    plain = save_session(Explorer(Scenario()), tmp_path / "p.json")
    assert "recurrent_activation" not in json.loads(plain.read_text())
