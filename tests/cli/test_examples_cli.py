"""`--example NAME` on `step` and the app's command line, and session files that remember
where their weights came from (an example, or a weight file and its layer)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import save_file

import gru_tui
from gru_tui.core.examples import EXAMPLES, example_layers
from gru_tui.core.explorer import Explorer
from gru_tui.core.presets import preset_rows
from gru_tui.core.scenario import Scenario
from gru_tui.core.session import save_session
from gru_tui.io.weights import load_layer


def by_model(records: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for record in records:
        out.setdefault(record["model"], []).append(record)
    return out


@pytest.mark.parametrize("name", ["delay", "hold"])  # slides: tests/io/test_examples.py
def test_step_runs_the_example_on_its_own_inputs(cli, name):
    records = by_model(cli.records("step", "--json", "--example", name))
    assert list(records) == ["gru", "lstm"]
    xs = preset_rows("pulses", 1, 0, 40)
    for model, mine in records.items():
        assert [r["x"] for r in mine] == xs.tolist()
        trace = gru_tui.load(EXAMPLES[name].path, layer=f"{model}.l0").run(xs)
        assert [r["h"] for r in mine] == trace["h"].tolist()
        assert len(mine[0]["h"]) == 4


def test_an_example_takes_model_inputs_steps_and_dtype(cli):
    records = cli.records("step", "--json", "-e", "delay", "-m", "lstm", "-i", "0.5;0;0;0",
                          "--dtype", "float32")
    assert {r["model"] for r in records} == {"lstm"} and len(records) == 4
    cell = gru_tui.load(EXAMPLES["delay"].path, layer="lstm.l0", dtype="float32")
    trace = cell.run(np.array([[0.5], [0], [0], [0]]))
    assert [r["c"] for r in records] == trace["c"].tolist()
    assert len(cli.records("step", "--json", "-e", "hold", "-n", "7", "-m", "gru")) == 7


@pytest.mark.parametrize(("args", "needles"), [
    (["-e", "nope"], ["unknown example 'nope'", "delay, hold"]),
    (["-e", "delay", "-m", "rnn"], ["--example delay has no rnn"]),
    (["-e", "delay", "--seed", "2"], ["--seed", "--example"]),
    (["-e", "delay", "--hidden", "3"], ["--hidden 3", "H = 4"]),
    (["-e", "delay", "--weights", "x.safetensors"], ["--example and --weights"]),
    (["-e", "delay", "-i", "1,2"], ["--inputs has 2 values", "takes 1"]),
    (["-e", "delay", "--h0", "1,2"], ["--h0 has 2 values", "4"]),
])
def test_bad_example_options_get_one_line(cli, args, needles):
    cli.assert_bad(cli("step", "--json", *args), *needles)


def test_a_session_remembers_the_example_and_replays_it(cli, tmp_path):
    explorer = Explorer(Scenario(models=("gru", "lstm"), reset="after", preset="pulses",
                                 weights=example_layers("hold"), example="hold"))
    explorer.t = 5
    explorer.nudge(0.25)  # an edited input
    path = save_session(explorer, tmp_path / "lesson.json")
    data = json.loads(path.read_text())
    assert data["example"] == "hold" and "seed" not in data and "weights" not in data
    records = by_model(cli.records("step", "--json", "--session", str(path)))
    for model in ("gru", "lstm"):
        assert [r["h"] for r in records[model]] == explorer.traces[model]["h"].tolist()


def test_a_session_remembers_its_weight_file_and_layer(cli, tmp_path):
    rng = np.random.default_rng(4)
    tensors = {f"enc.weight_ih_l0{s}": rng.normal(size=(9, 2)).astype("f4")
               for s in ("", "_reverse")}
    tensors |= {f"enc.weight_hh_l0{s}": rng.normal(size=(9, 3)).astype("f4")
                for s in ("", "_reverse")}
    weights = tmp_path / "model.safetensors"
    save_file(tensors, str(weights))
    layer = load_layer(weights, "enc.l0_reverse")
    explorer = Explorer(Scenario(models=("gru",), reset="after", preset="sine",
                                 weights=(layer,)))
    session = save_session(explorer, tmp_path / "s.json")
    data = json.loads(session.read_text())
    assert data["weights"] == [{"file": str(weights.resolve()), "layer": "enc.l0_reverse"}]
    records = cli.records("step", "--json", "--session", str(session))
    assert [r["h"] for r in records] == explorer.traces["gru"]["h"].tolist()
    # the run is the file's reverse layer on the given inputs, last first
    xs = preset_rows("sine", 2, 0, 24)
    expected = gru_tui.load(weights, layer="enc.l0_reverse").run(xs[::-1])["h"]
    np.testing.assert_array_equal([r["h"] for r in records], expected)
    weights.unlink()  # the file has gone: one line naming the session and the file
    cli.assert_bad(cli("step", "--json", "--session", str(session)), str(session),
                   "model.safetensors", "no such file")


@pytest.mark.parametrize(("field", "value", "needle"), [
    ("example", "nope", "unknown example 'nope'"),
    ("example", 3, '"example" has the wrong type'),
    ("weights", [], '"weights" lists no layer'),
    ("weights", [{"file": 1}], 'each of "weights"'),
    ("weights", "x", '"weights" has the wrong type'),
])
def test_bad_weight_sources_in_a_session(cli, tmp_path, field, value, needle):
    explorer = Explorer(Scenario())
    session = save_session(explorer, tmp_path / "s.json")
    data = json.loads(session.read_text())
    data[field] = value
    session.write_text(json.dumps(data))
    cli.assert_bad(cli("step", "--json", "--session", str(session)), str(session), needle)


def test_the_help_names_every_preset_and_example(cli):
    from gru_tui.core.presets import PRESETS

    text = " ".join(cli("step", "--help", env={"COLUMNS": "200"}).stdout.split())
    for name in (*PRESETS, *EXAMPLES):
        assert name in text, name
