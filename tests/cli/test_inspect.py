"""SPEC §4 and §5 through the real command: `gru-tui inspect FILE`, `--weights` and `--layer`,
and the bad weight files (exit 2, one line on stderr, nothing on stdout, no traceback, and
nothing from the file ever executed)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from safetensors.numpy import save_file

import gru_tui

rng = np.random.default_rng(11)


def gru_tensors(D=5, H=4, prefix="encoder.rnn.", bidirectional=True):
    tensors = {}
    for suffix in ("", "_reverse") if bidirectional else ("",):
        tensors[f"{prefix}weight_ih_l0{suffix}"] = rng.uniform(-1, 1, (3 * H, D)).astype("f4")
        tensors[f"{prefix}weight_hh_l0{suffix}"] = rng.uniform(-1, 1, (3 * H, H)).astype("f4")
        tensors[f"{prefix}bias_ih_l0{suffix}"] = rng.uniform(-1, 1, 3 * H).astype("f4")
        tensors[f"{prefix}bias_hh_l0{suffix}"] = rng.uniform(-1, 1, 3 * H).astype("f4")
    return tensors


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file(gru_tensors(), str(path))
    return path


def test_inspect_table_and_json(cli, model_file):
    results = cli.many({"table": (["inspect", str(model_file)], {}),
                        "json": (["inspect", str(model_file), "--json"], {})})
    table = results["table"]
    assert table.returncode == 0 and table.stderr == ""
    for word in ("encoder.rnn.l0", "encoder.rnn.l0_reverse", "gru", "forward", "reverse",
                 "reset after", "132", "params"):
        assert word in table.stdout
    listed = json.loads(results["json"].stdout)
    stated = {"recurrent_activation": "sigmoid", "activations_assumed": None}
    assert listed == [
        {"index": 0, "name": "encoder.rnn.l0", "kind": "gru", "direction": "forward",
         "input_size": 5, "hidden_size": 4, "convention": "reset after", "parameters": 132,
         **stated},
        {"index": 1, "name": "encoder.rnn.l0_reverse", "kind": "gru", "direction": "reverse",
         "input_size": 5, "hidden_size": 4, "convention": "reset after", "parameters": 132,
         **stated},
    ]


def test_step_runs_the_loaded_layer(cli, model_file):
    xs = rng.uniform(-1, 1, (6, 5)).round(3)
    inline = ";".join(",".join(str(v) for v in row) for row in xs)
    runs = {
        "default": (["step", "--json", "--weights", str(model_file), "-i", inline], {}),
        "reverse": (["step", "--json", "--weights", str(model_file), "--layer",
                     "encoder.rnn.l0_reverse", "-i", inline], {}),
        "index": (["step", "--json", "--weights", str(model_file), "--layer", "1", "-i",
                   inline, "--dtype", "float32"], {}),
        "preset": (["step", "--json", "--weights", str(model_file), "-p", "sine", "-n", "4"],
                   {}),
        "human": (["step", "--weights", str(model_file), "-n", "2"], {}),
        "same": (["step", "--json", "--weights", str(model_file), "--gru-reset", "after",
                  "-H", "4", "-m", "gru", "-n", "2"], {}),
    }
    results = cli.many(runs)
    records = results["default"].records()
    cell = gru_tui.load(model_file)
    trace = cell.run(xs)
    assert [r["model"] for r in records] == ["gru"] * 6
    assert [r["t"] for r in records] == list(range(1, 7))
    for t, record in enumerate(records):
        for key in ("x", "reset", "update", "candidate", "h"):
            assert record[key] == trace[key][t].tolist(), key
    # a reverse layer: processing order, each record with the x it consumed
    backward = results["reverse"].records()
    reverse_trace = gru_tui.load(model_file, layer=1).run(xs[::-1])
    assert [r["x"] for r in backward] == xs[::-1].tolist()
    assert [r["h"] for r in backward] == reverse_trace["h"].tolist()
    as_float32 = results["index"].records()
    expected = gru_tui.load(model_file, layer=1, dtype="float32").run(xs[::-1])["h"]
    np.testing.assert_array_equal(np.array([r["h"] for r in as_float32], np.float32), expected)
    preset = results["preset"].records()
    assert len(preset) == 4 and all(len(r["x"]) == 5 and len(r["h"]) == 4 for r in preset)
    human = " ".join(results["human"].stdout.split())
    assert "model.safetensors: encoder.rnn.l0" in human
    assert results["same"].returncode == 0, results["same"].stderr


def assert_bad(result, *needles):
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 2, (result.args, result.returncode, result.stderr)
    assert result.stdout == "", result.args
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


class WritesMarker:
    """Unpickling this would create the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def bad_files(tmp_path):
    """name → (path, needles of the one-line message)."""
    marker = tmp_path / "MARKER"
    files = {}

    def add(name, filename, content, *needles):
        path = tmp_path / filename
        if isinstance(content, dict):
            if filename.endswith(".npz"):
                np.savez(path, **content)
            else:
                save_file(content, str(path))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        files[name] = (path, needles)

    good = gru_tensors(prefix="", bidirectional=False)
    save_file(good, str(tmp_path / "good.safetensors"))
    whole = (tmp_path / "good.safetensors").read_bytes()
    add("missing", "nowhere.safetensors", None, "nowhere.safetensors", "no such file")
    add("empty", "empty.safetensors", b"", "empty.safetensors", "is empty")
    add("truncated", "cut.safetensors", whole[: len(whole) // 2], "cut.safetensors",
        "not a readable .safetensors file")
    add("corrupt", "junk.safetensors", bytes(rng.integers(0, 256, 300, dtype=np.uint8)),
        "junk.safetensors", "not a readable .safetensors file")
    add("not weights", "notes.txt", b"hello, these are not weights\n", "notes.txt",
        "not a .safetensors or .npz file")
    np.savez(tmp_path / "pickled.npz", **good,
             evil=np.array([WritesMarker(marker)], dtype=object))
    files["pickled npz"] = (tmp_path / "pickled.npz", ("pickled.npz", "evil",
                                                      "pickled object array"))
    add("raw pickle as npz", "raw.npz", pickle.dumps(WritesMarker(marker)), "raw.npz",
        "holds pickled data", "never unpickles")
    add("torch pickle", "model.pt", pickle.dumps(WritesMarker(marker)), "model.pt",
        "never unpickles")
    np.savez(tmp_path / "whole.npz", **good)
    npz = (tmp_path / "whole.npz").read_bytes()
    add("truncated npz", "cut.npz", npz[: len(npz) // 2], "cut.npz", "not a readable .npz")
    add("integers", "ints.safetensors",
        {**good, "weight_ih_l0": good["weight_ih_l0"].astype(np.int64)},
        "ints.safetensors", "weight_ih_l0 holds int64 values, expected floats")
    bad_shape = {**good, "weight_hh_l0": np.zeros((12, 5), np.float32)}
    add("wrong shape", "shape.npz", bad_shape, "shape.npz",
        "weight_hh_l0 has shape (12, 5), expected (12, 4)")
    add("wrong bias", "bias.safetensors", {**good, "bias_hh_l0": np.zeros(11, np.float32)},
        "bias_hh_l0 has shape (11,), expected (12,)")
    add("missing tensor", "partial.safetensors",
        {k: v for k, v in good.items() if k != "weight_hh_l0"}, "weight_hh_l0 is missing")
    add("missing bias", "nobias.npz", {k: v for k, v in good.items() if k != "bias_ih_l0"},
        "bias_ih_l0 is missing")
    add("nan", "nan.safetensors",
        {**good, "bias_ih_l0": np.full(12, np.nan, np.float32)}, "bias_ih_l0 holds NaN")
    add("no layer", "linear.safetensors", {"fc.weight": np.ones((2, 3), np.float32)},
        "linear.safetensors", "no recurrent layer")
    add("onnx", "model.onnx", b"\x08\x07", "model.onnx", "no GRU, LSTM or RNN node")
    with (tmp_path / "huge.safetensors").open("wb") as handle:  # sparse: no disk used
        handle.truncate((1 << 30) + 1)
    files["huge"] = (tmp_path / "huge.safetensors", ("huge.safetensors", "1024 MiB"))
    (tmp_path / "folder.npz").mkdir()
    files["directory"] = (tmp_path / "folder.npz", ("folder.npz", "directory"))
    return marker, files


def test_bad_weight_files(cli, tmp_path):
    marker, files = bad_files(tmp_path)
    assert len(files) >= 12
    runs = {}
    for name, (path, _) in files.items():
        runs[("step", name)] = (["step", "--json", "--weights", str(path)], {})
        runs[("inspect", name)] = (["inspect", str(path)], {})
    results = cli.many(runs)
    for (_command, name), result in results.items():
        assert_bad(result, *files[name][1])
    assert not marker.exists(), "a pickle from a weight file was executed"


def test_bad_choices_with_good_weights(cli, model_file):
    w = ["step", "--json", "--weights", str(model_file)]
    runs = {
        "layer": ([*w, "--layer", "decoder"], ("no layer 'decoder'; the file has: "
                                               "encoder.rnn.l0, encoder.rnn.l0_reverse",)),
        "index": ([*w, "--layer", "5"], ("no layer 5",)),
        "width": ([*w, "-i", "1,2,3;4,5,6"], ("--inputs row 1 has 3 values, the model takes 5",)),
        "hidden": ([*w, "-H", "3"], ("--hidden 3", "H = 4")),
        "seed": ([*w, "--seed", "2"], ("--seed",)),
        "reset": ([*w, "--gru-reset", "before"], ("--gru-reset before",)),
        "z": ([*w, "--z-weights", "new"], ("--z-weights new",)),
        "model": ([*w, "-m", "lstm"], ("--model lstm", "gru")),
        "h0": ([*w, "--h0", "1,2,3"], ("--h0 has 3 values", "4")),
        "layer alone": (["step", "--json", "--layer", "0"], ("--layer", "--weights")),
        "app": (["--weights", str(model_file), "--layer", "x"], ("no layer 'x'",)),
    }
    results = cli.many({name: (args, {}) for name, (args, _) in runs.items()})
    for name, (_, needles) in runs.items():
        assert_bad(results[name], *needles)


def header_metadata(path) -> dict[str, str]:
    """A safetensors file's metadata, read from its JSON header as the format defines it."""
    with open(path, "rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        return json.loads(handle.read(length)).get("__metadata__", {})


@pytest.mark.parametrize("name", ["hold", "delay"])
def test_inspect_an_example_says_where_it_lives_and_what_its_file_records(cli, name):
    """`gru-tui inspect --example hold`: the layers, the file they are in, and the task and
    held-out errors the training wrote into it."""
    from gru_tui.core.examples import EXAMPLES

    path = EXAMPLES[name].path
    result = cli("inspect", "--example", name, env={"COLUMNS": "200"})
    assert result.returncode == 0 and result.stderr == ""
    out = result.stdout
    assert str(path) in out and "gru.l0" in out and "lstm.l0" in out
    recorded = header_metadata(path)
    assert recorded["task"] in out and recorded["inputs"] in out
    for model, errors in json.loads(recorded["errors"]).items():
        assert f"{model}: held_out_mse {errors['held_out_mse']}" in out
    listed = json.loads(cli("inspect", "--example", name, "--json").stdout)
    assert [layer["name"] for layer in listed] == ["gru.l0", "lstm.l0"]


def test_inspect_the_slides_example_and_a_file_with_metadata(cli, tmp_path):
    slides = cli("inspect", "-e", "slides", env={"COLUMNS": "200"})
    assert slides.returncode == 0 and "slides.gru" in slides.stdout
    assert "made by gru-tui" in slides.stdout
    path = tmp_path / "noted.safetensors"
    save_file(gru_tensors(bidirectional=False), str(path),
              metadata={"task": "copy the first input", "epochs": "12"})
    noted = cli("inspect", str(path), env={"COLUMNS": "200"}).stdout
    assert "Metadata" in noted and "copy the first input" in noted and "epochs" in noted
    assert noted.index("task") < noted.index("epochs")  # the task first


@pytest.mark.parametrize(("args", "needle"), [
    ([], "needs a FILE or --example NAME"),
    (["model.safetensors", "--example", "hold"], "not both"),
    (["--example", "nope"], "unknown example 'nope'"),
])
def test_inspect_needs_one_file_or_example(cli, args, needle):
    cli.assert_bad(cli("inspect", *args), needle)
