"""SPEC §4 and §5: Keras .keras, .weights.h5 and Keras 2 .h5 files, read with h5py only.

Files are written here with h5py and zipfile in the layouts Keras writes (keras_files.py,
beside this file); the numbers are checked against Keras' equations written out in numpy.
The files Keras itself wrote, with the outputs it computed, are in test_framework_fixtures.py.
"""

from __future__ import annotations

import base64
import json
import marshal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")
sys.path.insert(0, str(Path(__file__).parent))

import keras_files as kf  # noqa: E402

import gru_tui  # noqa: E402
from gru_tui.errors import InputError  # noqa: E402
from gru_tui.io import keras_layers  # noqa: E402
from gru_tui.io.weights import read_layers  # noqa: E402

XS = np.random.default_rng(42).uniform(-1, 1, (7, 3))


def run(layer_or_path, xs=XS, layer=None, dtype="float64"):
    cell = gru_tui.load(layer_or_path, layer=layer, dtype=dtype)
    return cell.run(xs[::-1] if cell.reverse else xs)["h"]


CASES = [("gru", {"reset_after": True}), ("gru", {"reset_after": False}), ("lstm", {}),
         ("rnn", {}), ("gru", {"reset_after": True, "bias": False}), ("lstm", {"bias": False})]


@pytest.mark.parametrize(("kind", "options"), CASES)
@pytest.mark.parametrize("fmt", ["weights.h5", "keras", "keras2", "keras2-weights"])
def test_layers_match_keras_equations(tmp_path, kind, options, fmt):
    arrays = kf.weights(kind, 3, 4, seed=1, **options)
    reset_after = options.get("reset_after", True)
    name = "my_" + kind
    config_options = {"reset_after": reset_after} if kind == "gru" else {}
    if not options.get("bias", True):
        config_options["use_bias"] = False
    config = kf.model_config([kf.layer_config(kind, name, **config_options)])
    if fmt == "weights.h5":
        path = tmp_path / "m.weights.h5"
        kf.write_keras3_h5(path, [(kind, name, arrays)])
    elif fmt == "keras":
        path = kf.write_keras_archive(tmp_path / "m.keras", [(kind, name, arrays)], config)
    else:
        path = kf.write_keras2_h5(tmp_path / "m.h5", [(kind, name, arrays)],
                                  whole_model=fmt == "keras2", config=config)
    (layer,) = read_layers(path)
    g = kf.GATES[kind]
    assert (layer.name, layer.kind, layer.direction) == (name, kind, "forward")
    assert (layer.input_size, layer.hidden_size, layer.framework) == (3, 4, "Keras")
    assert layer.parameters == sum(a.size for a in arrays)
    if kind == "gru":
        # without a bias only the config can tell; a bare .weights.h5 takes Keras' default
        knows = options.get("bias", True) or fmt in ("keras", "keras2")
        reset = "after" if reset_after or not knows else "before"
        assert layer.convention == f"reset {reset}"
        assert layer.reset == reset
    expected = kf.keras_run(kind, arrays, XS, reset_after=reset_after)
    np.testing.assert_allclose(run(path), expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(run(path, dtype="float32"), expected, rtol=0, atol=1e-5)
    assert g * 4 == layer.tensors["weight_ih"].shape[0]


def test_gru_without_bias_takes_reset_after_from_config(tmp_path):
    arrays = kf.weights("gru", 3, 4, seed=2, bias=False)
    config = kf.model_config([kf.layer_config("gru", "g", reset_after=False, use_bias=False)])
    path = kf.write_keras_archive(tmp_path / "m.keras", [("gru", "g", arrays)], config)
    assert read_layers(path)[0].reset == "before"
    np.testing.assert_allclose(run(path), kf.keras_run("gru", arrays, XS, reset_after=False),
                               rtol=0, atol=1e-10)


def test_model_order_names_bidirectional_and_go_backwards(tmp_path):
    gru = kf.weights("gru", 3, 4, seed=3)
    fwd, bwd = kf.weights("lstm", 3, 2, seed=4), kf.weights("lstm", 3, 2, seed=5)
    rnn = kf.weights("rnn", 4, 2, seed=6)
    layers = [("rnn", "zeta", rnn), ("bidirectional", "bi", ("lstm", fwd, bwd)),
              ("gru", "alpha", gru)]
    bi_config = {"class_name": "Bidirectional", "config": {
        "name": "bi", "merge_mode": "concat",
        "layer": kf.layer_config("lstm", "forward_lstm"),
        "backward_layer": kf.layer_config("lstm", "backward_lstm", go_backwards=True)}}
    config = kf.model_config([kf.layer_config("rnn", "zeta", go_backwards=True), bi_config,
                              kf.layer_config("gru", "alpha")])
    archive = kf.write_keras_archive(tmp_path / "m.keras", layers, config)
    bare = tmp_path / "m.weights.h5"
    kf.write_keras3_h5(bare, layers)
    listed = [(la.name, la.kind, la.direction) for la in read_layers(archive)]
    assert listed == [("zeta", "rnn", "reverse"), ("bi/forward_lstm", "lstm", "forward"),
                      ("bi/backward_lstm", "lstm", "reverse"), ("alpha", "gru", "forward")]
    # without config.json: h5py's order (by group name), go_backwards unknown
    assert [(la.name, la.direction) for la in read_layers(bare)] == [
        ("bi/forward_lstm", "forward"), ("bi/backward_lstm", "reverse"), ("alpha", "forward"),
        ("zeta", "forward")]
    assert gru_tui.load(archive).source.endswith("bi/forward_lstm")  # the first forward
    # run() gives a reverse layer's steps in processing order, as go_backwards returns them
    np.testing.assert_allclose(run(archive, layer="bi/backward_lstm"),
                               kf.keras_run("lstm", bwd, XS, go_backwards=True), rtol=0,
                               atol=1e-10)
    xs4 = np.random.default_rng(1).uniform(-1, 1, (5, 4))
    np.testing.assert_allclose(run(archive, xs4, layer="zeta"),
                               kf.keras_run("rnn", rnn, xs4, go_backwards=True),
                               rtol=0, atol=1e-10)


def test_keras2_bidirectional_and_dense_layers(tmp_path):
    fwd, bwd = kf.weights("gru", 3, 4, seed=7, reset_after=False), kf.weights(
        "gru", 3, 4, seed=8, reset_after=False)
    dense = [np.ones((8, 2), np.float32), np.zeros(2, np.float32)]
    path = kf.write_keras2_h5(tmp_path / "m.h5", [
        ("bidirectional", "bidirectional", ("gru", fwd, bwd)), ("dense", "dense", dense)],
        whole_model=False)
    layers = read_layers(path)
    assert [(la.name, la.direction, la.convention) for la in layers] == [
        ("bidirectional/forward_gru", "forward", "reset before"),
        ("bidirectional/backward_gru", "reverse", "reset before")]
    np.testing.assert_allclose(run(path, layer=1),
                               kf.keras_run("gru", bwd, XS, reset_after=False, go_backwards=True),
                               rtol=0, atol=1e-10)


def test_lambda_and_custom_objects_in_config_are_never_run(tmp_path):
    """config.json is plain JSON to gru-tui: a Lambda's marshalled code stays data."""
    marker = tmp_path / "ran"
    code = compile(f"open({str(marker)!r}, 'w').write('x')", "<lambda>", "exec")
    exec(code, {})  # the payload really does write the marker when run
    assert marker.exists()
    marker.unlink()
    lambda_config = {"module": "keras.layers", "class_name": "Lambda", "config": {
        "name": "boom", "function": {"class_name": "__lambda__", "config": {
            "code": base64.b64encode(marshal.dumps(code)).decode(), "defaults": None,
            "closure": None}}}, "registered_name": None}
    custom = {"module": "my_module", "class_name": "MyLayer", "config": {"name": "mine"},
              "registered_name": "Custom>MyLayer"}
    arrays = kf.weights("gru", 3, 4, seed=9)
    config = kf.model_config([lambda_config, custom, kf.layer_config("gru", "gru")])
    path = kf.write_keras_archive(tmp_path / "m.keras", [("gru", "gru", arrays)], config)
    assert [la.name for la in read_layers(path)] == ["gru"]
    np.testing.assert_allclose(run(path), kf.keras_run("gru", arrays, XS), rtol=0, atol=1e-10)
    assert not marker.exists()


@pytest.mark.parametrize(("option", "value", "shown"), [
    ("activation", "relu", "activation relu"),
    ("recurrent_activation", "hard_silu", "recurrent_activation hard_silu"),
    ("recurrent_activation", {"class_name": "MySigmoid"}, "recurrent_activation MySigmoid"),
    ("activation", {"module": "x", "class_name": "function", "config": "my_act",
                    "registered_name": "function"}, "activation function"),
])
def test_non_default_activations_are_refused(tmp_path, option, value, shown):
    config = kf.model_config([kf.layer_config("gru", "enc", **{option: value})])
    path = kf.write_keras_archive(tmp_path / "m.keras",
                                  [("gru", "enc", kf.weights("gru", 3, 4))], config)
    with pytest.raises(InputError, match=f"layer enc: {shown} is not supported"):
        read_layers(path)


def test_missing_h5py_is_one_clear_line(tmp_path, monkeypatch):
    import builtins

    path = tmp_path / "m.keras"
    kf.write_keras_archive(path, [("gru", "g", kf.weights("gru", 3, 4))])
    real_import = builtins.__import__

    def no_h5py(name, *args, **kwargs):
        if name == "h5py" or name.startswith("h5py."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_h5py)
    with pytest.raises(InputError, match=r"^install gru-tui\[keras\] to read .keras files$"):
        read_layers(path)


def test_member_size_is_checked_before_reading(tmp_path, monkeypatch):
    path = kf.write_keras_archive(tmp_path / "m.keras", [("gru", "g", kf.weights("gru", 3, 4))])
    monkeypatch.setattr(keras_layers, "MAX_FILE_BYTES", 1000)
    with pytest.raises(InputError, match=r"model\.weights\.h5 unpacks to"):
        read_layers(path)


# -- the bad-file matrix, through the real command ------------------------------------------


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, list[str]]]:
    files: dict[str, tuple[Path, list[str]]] = {}
    good = kf.weights("gru", 3, 4)
    config = kf.model_config([kf.layer_config("gru", "enc")])

    def add(name, path, *needles):
        files[name] = (path, [str(path), *needles])

    whole = kf.write_keras_archive(tmp_path / "whole.keras", [("gru", "enc", good)], config)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    add("truncated .keras", truncated, "not a readable .keras archive")
    h5 = tmp_path / "whole.weights.h5"
    kf.write_keras3_h5(h5, [("gru", "enc", good)])
    cut = tmp_path / "truncated.weights.h5"
    cut.write_bytes(h5.read_bytes()[:3000])
    add("truncated .h5", cut, "not a readable HDF5 file")
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    add("empty", empty, "is empty")
    text = tmp_path / "text.h5"
    text.write_text("this is not HDF5\n" * 10)
    add("not HDF5", text, "is not an HDF5 file")
    not_zip = tmp_path / "text.keras"
    not_zip.write_text("hello\n")
    add("not a zip", not_zip, "is not a .keras archive")
    add("zip without weights", kf.write_keras_archive(tmp_path / "noweights.keras", None,
                                                      config), "without model.weights.h5")
    huge = kf.write_keras_archive(tmp_path / "huge.keras", [("gru", "enc", good)], config)
    kf.claim_size(huge, "model.weights.h5", 0x7FFF0000)
    add("huge member", huge, "model.weights.h5 unpacks to 2048 MiB", "up to 1024 MiB")
    wrong = [good[0], np.zeros((4, 10), np.float32), good[2]]
    add("wrong shape", kf.write_keras_archive(tmp_path / "wrong.keras", [("gru", "enc", wrong)],
                                              config),
        "layers/gru/cell/vars/1 (recurrent_kernel)", "shape (4, 10)", "expected (4, 12)")
    wrong_bias = [good[0], good[1], np.zeros((3, 12), np.float32)]
    kf.write_keras3_h5(tmp_path / "bias.weights.h5", [("gru", "enc", wrong_bias)])
    add("wrong bias", tmp_path / "bias.weights.h5", "vars/2 (bias) has shape (3, 12)",
        "expected (12,) or (2, 12)")
    ints = [good[0].astype(np.int32), good[1], good[2]]
    add("int dtype", kf.write_keras2_h5(tmp_path / "ints.h5", [("gru", "gru", ints)]),
        "gru/gru/gru_cell/kernel:0 holds int32 values, expected floats")
    nan = [good[0], good[1], np.full((2, 12), np.nan, np.float32)]
    kf.write_keras3_h5(tmp_path / "nan.weights.h5", [("gru", "enc", nan)])
    add("nan", tmp_path / "nan.weights.h5", "layers/gru/cell/vars/2 (bias) holds NaN or inf")
    add("missing recurrent_kernel",
        kf.write_keras_archive(tmp_path / "norec.keras", [("gru", "enc", good[:1])], config),
        "layer enc has no recurrent_kernel")
    dense = [np.ones((3, 2), np.float32), np.zeros(2, np.float32)]
    add("no recurrent layer", kf.write_keras2_h5(tmp_path / "dense.h5",
                                                 [("dense", "dense", dense)]),
        "holds no recurrent layer")
    relu = kf.model_config([kf.layer_config("gru", "enc", activation="relu")])
    add("relu", kf.write_keras_archive(tmp_path / "relu.keras", [("gru", "enc", good)], relu),
        "layer enc: activation relu is not supported")
    lam = kf.model_config([{"class_name": "Lambda", "config": {"name": "boom", "function": {
        "class_name": "__lambda__", "config": {"code": "AAAA"}}}}])
    lonely = tmp_path / "lambda.keras"
    with zipfile.ZipFile(lonely, "w") as archive:
        archive.writestr("config.json", json.dumps(lam))
        archive.writestr("model.weights.h5", kf.keras3_bytes([]))
    add("lambda only", lonely, "holds no recurrent layer")
    bad_json = kf.write_keras_archive(tmp_path / "badjson.keras", [("gru", "enc", good)],
                                      members={"config.json": "{not json"})
    add("config not JSON", bad_json, "config.json is not valid JSON")
    units = kf.model_config([kf.layer_config("gru", "enc", units=5)])
    add("units", kf.write_keras_archive(tmp_path / "units.keras", [("gru", "enc", good)], units),
        "layer enc: the config says units 5, its tensors hold 4")
    add("member not HDF5", kf.write_keras_archive(tmp_path / "nothdf5.keras", None, config,
                                                  weights_bytes=b"not hdf5 at all" * 10),
        "model.weights.h5 is not a readable HDF5 file")
    linked = tmp_path / "linked.weights.h5"
    kf.write_keras3_h5(linked, [("gru", "enc", good)])
    with h5py.File(linked, "a") as handle:
        handle["layers"]["lstm"] = h5py.ExternalLink("/etc/passwd", "/")
    add("external link", linked, "layers/lstm is an external link to /etc/passwd")
    missing = tmp_path / "missing.h5"
    kf.write_keras2_h5(missing, [("gru", "gru", good)])
    with h5py.File(missing, "a") as handle:
        names = [*list(handle["model_weights"].attrs["layer_names"]), b"ghost"]
        handle["model_weights"].attrs["layer_names"] = np.array(names)
    add("listed layer missing", missing, "layer ghost is listed but missing")
    return files


def test_bad_keras_files(tmp_path, cli):
    files = bad_files(tmp_path)
    assert len(files) >= 12
    runs = {}
    for name, (path, _) in files.items():
        runs[("step", name)] = ["step", "--json", "--weights", str(path)]
        runs[("inspect", name)] = ["inspect", str(path)]
    for (command, name), result in cli.many({k: (v, {}) for k, v in runs.items()}).items():
        needles = files[name][1]
        assert result.returncode == 2, (command, name, result.stderr)
        assert result.stdout == "", (command, name)
        assert "Traceback" not in result.stderr, (command, name, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, (command, name, result.stderr)
        for needle in needles:
            assert needle in result.stderr, (command, name, needle, result.stderr)


def test_missing_h5py_through_the_command(tmp_path):
    path = kf.write_keras_archive(tmp_path / "m.keras", [("gru", "g", kf.weights("gru", 3, 4))])
    script = ("import sys; sys.modules['h5py'] = None; sys.argv = ['gru-tui', 'inspect', "
              f"{str(path)!r}]; from gru_tui.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.strip().endswith(": install gru-tui[keras] to read .keras files")


def test_inspect_lists_keras_layers(tmp_path, cli):
    fwd, bwd = kf.weights("gru", 5, 4, seed=1), kf.weights("gru", 5, 4, seed=2)
    lstm = kf.weights("lstm", 8, 3, seed=3)
    path = tmp_path / "m.weights.h5"
    kf.write_keras3_h5(path, [("bidirectional", "bi", ("gru", fwd, bwd)),
                              ("lstm", "dec", lstm)])
    results = cli.many({"table": (["inspect", str(path)], {}),
                        "json": (["inspect", str(path), "--json"], {})})
    assert results["table"].returncode == 0, results["table"].stderr
    for word in ("bi/forward_gru", "bi/backward_gru", "dec", "reset after", "standard"):
        assert word in results["table"].stdout
    listed = json.loads(results["json"].stdout)
    assumed = {"recurrent_activation": "sigmoid", "activations_assumed": "Keras 3 defaults"}
    assert listed == [
        {"index": 0, "name": "bi/forward_gru", "kind": "gru", "direction": "forward",
         "input_size": 5, "hidden_size": 4, "convention": "reset after",
         "parameters": 3 * 4 * (5 + 4 + 2), **assumed},
        {"index": 1, "name": "bi/backward_gru", "kind": "gru", "direction": "reverse",
         "input_size": 5, "hidden_size": 4, "convention": "reset after",
         "parameters": 3 * 4 * (5 + 4 + 2), **assumed},
        {"index": 2, "name": "dec", "kind": "lstm", "direction": "forward", "input_size": 8,
         "hidden_size": 3, "convention": "standard", "parameters": 4 * 3 * (8 + 3 + 1),
         **assumed},
    ]


def test_nested_and_subclassed_model_layouts(tmp_path):
    """Keras 3 saves a nested model under its own layers/ and a subclassed model's layers
    under their attribute names (as Keras 3.15.1 wrote them for a check)."""
    gru, lstm = kf.weights("gru", 3, 4, seed=10), kf.weights("lstm", 4, 2, seed=11)
    path = tmp_path / "nested.weights.h5"
    with h5py.File(path, "w") as handle:
        handle.create_group("vars").attrs["name"] = "outer"
        outer = handle.create_group("layers")
        inner = outer.create_group("sequential")
        inner.create_group("vars").attrs["name"] = "inner"
        inner_gru = inner.create_group("layers").create_group("gru")
        inner_gru.create_group("vars").attrs["name"] = "g"
        kf._cell(inner_gru, "gru", gru)
        top = outer.create_group("lstm")
        top.create_group("vars").attrs["name"] = "l"
        kf._cell(top, "lstm", lstm)
    assert [(la.name, la.kind) for la in read_layers(path)] == [("l", "lstm"),
                                                                 ("inner/g", "gru")]
    np.testing.assert_allclose(run(path, layer="inner/g"), kf.keras_run("gru", gru, XS),
                               rtol=0, atol=1e-10)
    sub = tmp_path / "sub.weights.h5"
    with h5py.File(sub, "w") as handle:
        handle.create_group("vars").attrs["name"] = "sub"
        enc = handle.create_group("enc")
        enc.create_group("vars").attrs["name"] = "enc"
        kf._cell(enc, "gru", gru)
        head = handle.create_group("head")
        head.create_group("vars").attrs["name"] = "dense"
        head["vars"].create_dataset("0", data=np.ones((4, 1), np.float32))
        handle.create_group("optimizer").create_group("vars").create_dataset(
            "0", data=np.zeros(3, np.float32))
    assert [(la.name, la.kind) for la in read_layers(sub)] == [("enc", "gru")]


def test_keras_2_2_names_and_nested_models_in_h5(tmp_path):
    """Standalone Keras 2.2 named tensors without a cell level (gru_1/kernel:0,
    bidirectional_1/forward_gru_1/kernel:0); a nested model's group lists its layers'."""
    gru = kf.weights("gru", 3, 4, seed=12, reset_after=False)
    fwd, bwd = kf.weights("lstm", 3, 2, seed=13), kf.weights("lstm", 3, 2, seed=14)
    rnn = kf.weights("rnn", 4, 2, seed=15)
    roles = ("kernel", "recurrent_kernel", "bias")
    path = tmp_path / "old.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = np.array([b"gru_1", b"bidirectional_1", b"inner"])

        def layer(name, entries):
            group = handle.create_group(name)
            for weight_name, array in entries:
                group.create_dataset(weight_name, data=array)
            group.attrs["weight_names"] = np.array([w.encode() for w, _ in entries])

        layer("gru_1", [(f"gru_1/{r}:0", a) for r, a in zip(roles, gru, strict=True)])
        layer("bidirectional_1", [
            (f"bidirectional_1/{half}_lstm_1/{r}:0", a)
            for half, arrays in (("forward", fwd), ("backward", bwd))
            for r, a in zip(roles, arrays, strict=True)])
        layer("inner", [("dense_1/kernel:0", np.ones((3, 4), np.float32)),
                        ("batch_norm/gamma:0", np.ones(4, np.float32)),
                        *[(f"simple_rnn_3/simple_rnn_cell_3/{r}:0", a)
                          for r, a in zip(roles, rnn, strict=True)]])
    layers = read_layers(path)
    assert [(la.name, la.kind, la.direction, la.convention) for la in layers] == [
        ("gru_1", "gru", "forward", "reset before"),
        ("bidirectional_1/forward_lstm_1", "lstm", "forward", "standard"),
        ("bidirectional_1/backward_lstm_1", "lstm", "reverse", "standard"),
        ("inner/simple_rnn_3", "rnn", "forward", "tanh")]
    np.testing.assert_allclose(run(path), kf.keras_run("gru", gru, XS, reset_after=False),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(run(path, layer=2),
                               kf.keras_run("lstm", bwd, XS, go_backwards=True), rtol=0,
                               atol=1e-10)
