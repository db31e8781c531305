"""Weight files that reach outside themselves or would cost gigabytes (issue 11, items 1, 9
and 12's file cases): every one refused with one line through the real command, exit 2.

- HDF5 external links, soft links, virtual datasets and external storage, wherever they sit
  in a Keras file: refused before anything is followed; strace shows the linked file is never
  touched (skipped without strace).
- Bombs: each refused run happens in a subprocess whose address space is capped at
  ADDRESS_SPACE (gru-tui's own baseline is about 200 MiB), so a bound that broke would fail
  with MemoryError instead of taking the machine; hard-link DAGs and deep nesting within a
  time guard.
- ONNX attributes of the wrong type, for every attribute of every recurrent operator
  (hypothesis draws the wrong types).
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

h5py = pytest.importorskip("h5py")
onnx = pytest.importorskip("onnx")
from onnx import AttributeProto, TensorProto, helper, numpy_helper  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))

import keras_files as kf  # noqa: E402

from gru_tui.errors import InputError  # noqa: E402
from gru_tui.io import layers as io_layers  # noqa: E402
from gru_tui.io.weights import read_layers  # noqa: E402

ADDRESS_SPACE = 640 << 20
GOOD = kf.weights("gru", 3, 4)


def bounded(cli, *args):
    return cli(*args, address_space=ADDRESS_SPACE, timeout=120)


# -- links: never followed, never opened --------------------------------------------------------


def target_file(tmp_path) -> Path:
    """A file a link points to, holding what a Keras layer holds: following would work."""
    target = tmp_path / "secret-target.h5"
    kf.write_keras3_h5(target, [("gru", "g", GOOD)])
    with h5py.File(target, "a") as handle:
        handle["data"] = GOOD[0]
    return target


def linked_files(tmp_path) -> dict[str, tuple[Path, str]]:
    """name → (a file with a link or a dataset stored elsewhere, what the refusal says)."""
    target = str(target_file(tmp_path))
    files = {}

    def keras3(name, where, link, says):
        path = tmp_path / f"{name}.weights.h5"
        kf.write_keras3_h5(path, [("gru", "enc", GOOD)])
        with h5py.File(path, "a") as handle:
            if where in handle:
                del handle[where]
            handle[where] = link
        files[name] = (path, says)

    external = "is an external link to " + target
    keras3("layers", "layers", h5py.ExternalLink(target, "/layers"), "layers " + external)
    keras3("cell", "layers/gru/cell", h5py.ExternalLink(target, "/layers/gru/cell"), external)
    keras3("cell vars", "layers/gru/cell/vars",
           h5py.ExternalLink(target, "/layers/gru/cell/vars"), "layers/gru/cell/vars " + external)
    keras3("tensor", "layers/gru/cell/vars/0",
           h5py.ExternalLink(target, "/layers/gru/cell/vars/0"), external)
    keras3("elsewhere", "optimizer", h5py.ExternalLink(target, "/"), "optimizer " + external)
    keras3("soft", "layers/gru/cell/vars/1", h5py.SoftLink("/layers/gru/cell/vars/0"),
           "layers/gru/cell/vars/1 is a soft link to /layers/gru/cell/vars/0")

    def keras2(name, where, says):
        path = tmp_path / f"{name}.h5"
        kf.write_keras2_h5(path, [("gru", "gru", GOOD)])
        with h5py.File(path, "a") as handle:
            del handle[where]
            handle[where] = h5py.ExternalLink(target, "/layers/gru/cell")
        files[name] = (path, f"{where} {says}")

    keras2("model_weights", "model_weights", external)
    keras2("layer group", "model_weights/gru", external)
    keras2("middle group", "model_weights/gru/gru", external)

    virtual = tmp_path / "virtual.weights.h5"
    kf.write_keras3_h5(virtual, [("gru", "enc", GOOD)])
    with h5py.File(virtual, "a") as handle:
        del handle["layers/gru/cell/vars/0"]
        layout = h5py.VirtualLayout(shape=GOOD[0].shape, dtype="f4")
        layout[...] = h5py.VirtualSource(target, "data", shape=GOOD[0].shape)
        handle["layers/gru/cell/vars"].create_virtual_dataset("0", layout)
    files["virtual dataset"] = (virtual, "layers/gru/cell/vars/0 keeps its values in other files")
    stored_elsewhere = tmp_path / "external.weights.h5"
    kf.write_keras3_h5(stored_elsewhere, [("gru", "enc", GOOD)])
    with h5py.File(stored_elsewhere, "a") as handle:
        del handle["layers/gru/cell/vars/0"]
        handle["layers/gru/cell/vars"].create_dataset(
            "0", shape=GOOD[0].shape, dtype="f4", external=[(target, 0, GOOD[0].nbytes)])
    files["external storage"] = (stored_elsewhere, "keeps its values in other files")

    cell_link = (tmp_path / "cell.weights.h5").read_bytes()  # the "cell" file above, zipped
    files["in a .keras"] = (kf.write_keras_archive(tmp_path / "linked.keras", None,
                                                   weights_bytes=cell_link), external)
    return files


def test_links_are_refused_wherever_they_sit_and_never_followed(cli, tmp_path):
    files = linked_files(tmp_path)
    strace = shutil.which("strace")
    runs = {}
    for name, (path, _) in files.items():
        log = tmp_path / f"{name}.strace"
        prefix = (strace, "-f", "-qq", "-e", "trace=%file", "-o", str(log)) if strace else ()
        runs[name] = (["inspect", str(path)], {"prefix": prefix})
    for name, result in cli.many(runs).items():
        path, says = files[name]
        cli.assert_bad(result, str(path), says, "which gru-tui does not follow")
        if strace:
            touched = (tmp_path / f"{name}.strace").read_text()
            assert str(path) in touched  # the trace did see the file that was read
            assert "secret-target" not in touched, (name, "the linked file was touched")
    if not strace:
        pytest.skip("strace is not installed: refusals checked, not the files touched")


# -- HDF5 walks: once per group, within bounds ----------------------------------------------


def test_a_hard_link_dag_is_walked_once_per_group(cli, tmp_path):
    """40 levels of groups, each linked twice from the one above: 2⁴⁰ paths, 40 groups."""
    path = tmp_path / "dag.weights.h5"
    kf.write_keras3_h5(path, [])
    with h5py.File(path, "a") as handle:
        level = handle.create_group("layers/level0")
        for k in range(1, 40):
            below = handle.create_group(f"level{k}")
            level["a"], level["b"] = below, below
            level = below
        gru = level.create_group("gru")
        gru.create_group("vars").attrs["name"] = "deep"
        kf._cell(gru, "gru", GOOD)
    result = bounded(cli, "inspect", "--json", str(path))
    assert result.returncode == 0, result.stderr
    (layer,) = json.loads(result.stdout)  # found once, by the first path to it
    assert layer["name"] == "level0/" + "a/" * 39 + "deep"


def test_groups_nested_too_deep_are_refused(cli, tmp_path):
    path = tmp_path / "deep.weights.h5"
    kf.write_keras3_h5(path, [])
    with h5py.File(path, "a") as handle:
        handle.create_group("layers/" + "/".join(f"g{k}" for k in range(80)))
    cli.assert_bad(bounded(cli, "inspect", str(path)), "nested more than 64 groups deep")


@pytest.mark.parametrize("kind", ["h5", "onnx"])
def test_every_walk_has_a_time_bound(tmp_path, monkeypatch, kind):
    if kind == "h5":
        path = tmp_path / "m.weights.h5"
        kf.write_keras3_h5(path, [("gru", "enc", GOOD)])
    else:
        path = tmp_path / "m.onnx"
        onnx.save(one_node_model({}), str(path))
    assert read_layers(path)
    monkeypatch.setattr(io_layers, "WALK_SECONDS", -1.0)  # already past
    with pytest.raises(InputError, match="walking its structure took more than -1 s"):
        read_layers(path)


# -- files that cost gigabytes --------------------------------------------------------------


def test_fill_value_datasets_are_refused_before_any_is_read(cli, tmp_path):
    """Datasets never written take no room in the file but read as their whole shape: six
    of 384 MiB each in a file of a few KiB."""
    path = tmp_path / "fill.weights.h5"
    kf.write_keras3_h5(path, [("gru", f"enc{k}", GOOD) for k in range(6)])
    with h5py.File(path, "a") as handle:
        for group in handle["layers"].values():
            del group["cell/vars/0"]
            group["cell/vars"].create_dataset("0", shape=(3 << 25,), dtype="f4", fillvalue=0.5)
    assert path.stat().st_size < 100_000
    cli.assert_bad(bounded(cli, "inspect", str(path)), "(kernel) of shape (100663296,) brings "
                   "the file's tensors to 1152 MiB", "gru-tui reads up to 1024 MiB of tensors")


def deflated_zeros(archive: zipfile.ZipFile, name: str, head: bytes, total: int) -> None:
    """A member of `head` then zeros up to `total` bytes, deflated: about 1 KiB per MiB."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as member:
        member.write(head)
        chunk = bytes(1 << 20)
        for _ in range((total - len(head)) >> 20):
            member.write(chunk)


def test_a_keras_member_larger_than_it_says_is_stopped_where_it_says(cli, tmp_path):
    """model.weights.h5 says 12 KiB and unpacks to 1 GiB: read a chunk at a time, it stops
    at 12 KiB and its CRC is wrong."""
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        deflated_zeros(archive, "model.weights.h5", kf.keras3_bytes([("gru", "g", GOOD)]),
                       1 << 30)
    kf.claim_size(path, "model.weights.h5", 12 << 10)
    assert path.stat().st_size < 2 << 20
    cli.assert_bad(bounded(cli, "inspect", str(path)), "not a readable .keras archive",
                   "Bad CRC-32")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bzip2", "lzma"])
def test_members_zipfile_cannot_unpack_in_bounded_chunks_are_refused(cli, tmp_path, method):
    keras = kf.write_keras_archive(tmp_path / "m.keras", [("gru", "g", GOOD)])
    recompressed = tmp_path / "recompressed.keras"
    with zipfile.ZipFile(keras) as source, zipfile.ZipFile(recompressed, "w", method) as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info))
    npz = tmp_path / "m.npz"
    with zipfile.ZipFile(npz, "w", method) as archive:
        buffer = io.BytesIO()
        np.save(buffer, np.ones((12, 4), np.float32))
        archive.writestr("weight_ih_l0.npy", buffer.getvalue())
    name = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}[method]
    for path, member in ((recompressed, "model.weights.h5"), (npz, "weight_ih_l0.npy")):
        cli.assert_bad(bounded(cli, "inspect", str(path)), f"{member} is compressed with {name}",
                       "gru-tui unpacks stored and deflated members only")


def npy_header(shape, dtype="<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(  # the magic string, then the header
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def test_an_npz_whose_members_unpack_to_gigabytes_is_refused_before_reading(cli, tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        deflated_zeros(archive, "weight_ih_l0.npy", npy_header((9 << 24,)), 9 << 27)
    assert path.stat().st_size < 2 << 20
    cli.assert_bad(bounded(cli, "inspect", str(path)),
                   "weight_ih_l0 of shape (150994944,) brings the file's tensors to 1152 MiB")


@pytest.mark.parametrize(("header", "says"), [
    (npy_header((1 << 40,)), "weight_ih_l0 of shape (1099511627776,) brings the file's tensors"),
    (npy_header((1 << 20, 1 << 20, 1 << 20)), "brings the file's tensors to"),
    (np.lib.format.magic(1, 0) + b"\xff\xff{'descr': '<f8'", "weight_ih_l0 cannot be read"),
    (np.lib.format.magic(1, 0) + (72).to_bytes(2, "little")
     + b"{'descr': {'a': {'b': 1}}, 'fortran_order': False, 'shape': (3,), }".ljust(71) + b"\n",
     "weight_ih_l0 cannot be read"),
])
def test_npz_member_headers_are_checked(cli, tmp_path, header, says):
    path = tmp_path / "h.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weight_ih_l0.npy", header + bytes(64))
    cli.assert_bad(bounded(cli, "inspect", str(path)), says)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_any_npz_member_header_gives_an_input_error_or_layers(tmp_path, tail):
    path = tmp_path / "fuzz.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weight_ih_l0.npy", np.lib.format.magic(1, 0) + tail)
    with pytest.raises(InputError):
        read_layers(path)


def test_hidden_sizes_are_checked_over_every_model_before_drawing(cli):
    """5790 units: under 1 GiB for one LSTM, 2 GiB for the three models together."""
    result = bounded(cli, "step", "--json", "--hidden", "5790", "-m", "rnn,gru,lstm")
    cli.assert_bad(result, "--hidden 5790 needs 2.0 GiB of weights for rnn, gru, lstm",
                   "gru-tui stops at 1 GiB")


# -- ONNX: constant bombs, declared shapes, attribute types ------------------------------------


def one_node_model(attrs, W=None, nodes=(), initializers=None, op="GRU", inputs=None):
    """A one-GRU model (D = 3, H = 4) whose W is `W` (an initializer's name or a node's
    output) and R, B initializers."""
    rng = np.random.default_rng(0)
    stored = {"W": rng.uniform(-1, 1, (1, 12, 3)), "R": rng.uniform(-1, 1, (1, 12, 4)),
              "B": rng.uniform(-1, 1, (1, 24))} if initializers is None else initializers
    node = helper.make_node(op, inputs or ["X", W or "W", "R", "B"], ["Y"], hidden_size=4,
                            **attrs)
    graph = helper.make_graph(
        [*nodes, node], "g", [helper.make_tensor_value_info("X", TensorProto.DOUBLE, None)],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)],
        initializer=[numpy_helper.from_array(value, name) for name, value in stored.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def onnx_bombs() -> dict[str, tuple[object, str]]:
    huge = [1, 12, 1 << 31]
    constant = helper.make_node("Constant", [], ["shape"], value=ints("shape", huge))
    big_dims = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[1 << 40],
                           raw_data=b"\0" * 4)  # 2⁴⁰ values declared, 1 stored
    empty = helper.make_node("ConstantOfShape", ["empty_shape"], ["empty"])
    return {
        "ConstantOfShape": (one_node_model({}, "Wbig", [constant, helper.make_node(
            "ConstantOfShape", ["shape"], ["Wbig"])]),
            "folding ConstantOfShape node 'Wbig' (25,769,803,776 values)"),
        "Expand": (one_node_model({}, "Wbig", [constant, helper.make_node(
            "Constant", [], ["one"], value=numpy_helper.from_array(np.ones(1), "one")),
            helper.make_node("Expand", ["one", "shape"], ["Wbig"])]), "folding Expand node"),
        "Tile": (one_node_model({}, "Wbig", [helper.make_node(
            "Constant", [], ["reps"], value=ints("reps", [1, 1, 1 << 31])),
            helper.make_node("Tile", ["W", "reps"], ["Wbig"])]), "folding Tile node"),
        "reducing an empty axis": (one_node_model({}, "Wbig", [
            helper.make_node("Constant", [], ["empty_shape"],
                             value=ints("empty_shape", [0, 1 << 40])),
            empty, helper.make_node("ReduceSum", ["empty"], ["Wbig"], keepdims=1)]),
            "folding ReduceSum node"),
        "declared shape 2^40": (_with_initializer(big_dims),
                                "tensor W of shape (1099511627776,) brings"),
    }


def _with_initializer(tensor):
    """The one-node model with one initializer replaced by `tensor`."""
    model = one_node_model({})
    for stored in model.graph.initializer:
        if stored.name == tensor.name:
            stored.CopyFrom(tensor)
    return model


def test_onnx_bombs_are_refused_in_bounded_memory(cli, tmp_path):
    runs, says = {}, {}
    for name, (model, needle) in onnx_bombs().items():
        path = tmp_path / f"{name.replace(' ', '_')}.onnx"
        onnx.save(model, str(path))
        assert path.stat().st_size < 10_000
        runs[name] = (["inspect", str(path)], {"address_space": ADDRESS_SPACE, "timeout": 120})
        says[name] = needle
    for name, result in cli.many(runs).items():
        cli.assert_bad(result, says[name])
        if name != "declared shape 2^40":
            assert "gru-tui reads up to 1024 MiB of tensors from one file" in result.stderr


WRONG_TYPED = {  # issue 11: each a traceback before
    "clip as STRING": ({"clip": "3"}, "attribute clip is a STRING; ONNX's GRU takes a FLOAT"),
    "clip as INTS": ({"clip": [3, 4]}, "attribute clip is a INTS; ONNX's GRU takes a FLOAT"),
    "activations as INT": ({"activations": 1},
                           "attribute activations is a INT; ONNX's GRU takes a STRINGS"),
    "activations as FLOATS": ({"activations": [1.0, 2.0]},
                              "attribute activations is a FLOATS; ONNX's GRU takes a STRINGS"),
    "layout as FLOAT": ({"layout": 1.0}, "attribute layout is a FLOAT; ONNX's GRU takes a INT"),
}


def test_attributes_of_the_wrong_type_are_one_line(cli, tmp_path):
    runs = {}
    for name, (attrs, _) in WRONG_TYPED.items():
        model = one_node_model(attrs, inputs=["X", "W", "R", "B", "", "h0"])
        model.graph.initializer.append(numpy_helper.from_array(np.zeros((1, 1, 4)), "h0"))
        path = tmp_path / f"{name.replace(' ', '_')}.onnx"
        onnx.save(model, str(path))
        runs[name] = (["step", "--json", "--weights", str(path)], {})
    for name, result in cli.many(runs).items():
        cli.assert_bad(result, "node node0: " + WRONG_TYPED[name][1])


VALUES = {AttributeProto.FLOAT: 0.5, AttributeProto.INT: 1, AttributeProto.STRING: "forward",
          AttributeProto.FLOATS: [0.5], AttributeProto.INTS: [1],
          AttributeProto.STRINGS: ["Sigmoid"]}


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["GRU", "LSTM", "RNN"]), st.data())
def test_every_attribute_of_any_other_type_is_refused(op, data):
    """Every attribute ONNX's schema lists, given any other type than the schema's."""
    schema = onnx.defs.get_schema(op, 17, "")
    name = data.draw(st.sampled_from(sorted(schema.attributes)))
    expected = schema.attributes[name].type.value
    given_type = data.draw(st.sampled_from([t for t in VALUES if t != expected]))
    attribute = helper.make_attribute(name, VALUES[given_type])
    assert attribute.type == given_type
    g = {"GRU": 3, "LSTM": 4, "RNN": 1}[op]
    stored = {"W": np.ones((1, g * 4, 3)), "R": np.ones((1, g * 4, 4))}
    model = one_node_model({}, op=op, initializers=stored, inputs=["X", "W", "R"])
    model.graph.node[0].attribute.append(attribute)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.onnx"
        onnx.save(model, str(path))
        with pytest.raises(InputError, match=f"attribute {name} is a "
                                             f"{AttributeProto.AttributeType.Name(given_type)}"):
            read_layers(path)


FIXTURES = Path(__file__).parent.parent / "fixtures"
FRAMEWORK_FILES = sorted(path.name for path in FIXTURES.iterdir()
                         if not path.name.endswith((".py", ".expected.npz")))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(FRAMEWORK_FILES), st.data())
def test_damaged_framework_files_give_layers_or_one_input_error(monkeypatch, tmp_path, name,
                                                                data):
    """Files the frameworks wrote, with 3 bytes inserted, flipped or set to a huge number
    (issue 11: a 3-byte insertion used 3.3 GB): layers, or an InputError. The budget is
    lowered to 64 MiB here, so a mutant that gets past it cannot take this process far."""
    monkeypatch.setattr(io_layers, "MAX_TENSOR_BYTES", 64 << 20)
    raw = bytearray((FIXTURES / name).read_bytes())
    at = data.draw(st.integers(0, len(raw) - 4))
    how = data.draw(st.sampled_from(["insert", "flip", "huge"]))
    if how == "insert":
        raw[at:at] = data.draw(st.binary(min_size=3, max_size=3))
    elif how == "flip":
        raw[at] ^= 1 << data.draw(st.integers(0, 7))
    else:
        raw[at:at + 4] = data.draw(st.sampled_from([b"\xff\xff\xff\x7f", b"\x00\x00\x00\x40"]))
    path = tmp_path / name
    path.write_bytes(bytes(raw))
    try:
        read_layers(path)
    except InputError as error:
        assert len(str(error).splitlines()) == 1
