"""SPEC §4 and §5: torch.save checkpoints, read without torch and without running anything.

The ckpt_* fixtures were written once by the real PyTorch (tests/fixtures/
make_torch_checkpoints.py says how), with the outputs torch computed; every layer must
reproduce them per step to 1e-5 in float32, here without torch. The traps are archives
written opcode by opcode (torch_pickles.py, beside this file): each is first shown to run
code under a plain unpickler, then refused with one line, or ignored, by gru-tui.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

import torch_pickles as tp

import gru_tui
from gru_tui.errors import InputError
from gru_tui.io import torch_checkpoint
from gru_tui.io.torch_checkpoint import read_checkpoint
from gru_tui.io.weights import read_layers

FIXTURES = Path(__file__).parent.parent / "fixtures"
TOLERANCE = 1e-5
GATES = {"gru": 3, "lstm": 4, "rnn": 1}


def expected(name: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"{name}.expected.npz", allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def close(mine, theirs) -> None:
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOLERANCE)


# -- files torch wrote ------------------------------------------------------------------------

# file, the layer's name as inspect lists it, kind
SINGLE = [
    ("ckpt_gru.pt", "l0", "gru"),
    ("ckpt_lstm.pth", "l0", "lstm"),
    ("ckpt_rnn.bin", "l0", "rnn"),
    ("ckpt_nested.pt", "state_dict.encoder.rnn.l0", "lstm"),
    ("ckpt_optimizer.pth", "model.rnn.l0", "gru"),
    ("ckpt_lightning.ckpt", "state_dict.model.rnn.l0", "gru"),
    ("ckpt_half.pt", "l0", "lstm"),
    ("ckpt_bf16.pt", "l0", "gru"),
]


@pytest.mark.parametrize(("filename", "name", "kind"), SINGLE)
def test_one_layer_checkpoints_step_as_torch_stepped(filename, name, kind):
    path = FIXTURES / filename
    numbers = expected(path.stem)
    (layer,) = read_layers(path)  # optimizers, heads, hyper-parameters: no other layer
    assert (layer.name, layer.kind, layer.direction) == (name, kind, "forward")
    assert (layer.input_size, layer.hidden_size) == (3, 4)
    assert layer.parameters == GATES[kind] * 4 * (3 + 4 + 2)
    trace = gru_tui.load(path, dtype="float32").run(numbers["x"])
    close(trace["h"], numbers["h"])
    if kind == "lstm":
        close(trace["c"], numbers["c"])


def test_stacked_bidirectional_gru():
    path = FIXTURES / "ckpt_bigru.pt"
    numbers = expected("ckpt_bigru")
    assert [la.name for la in read_layers(path)] == ["l0", "l0_reverse", "l1", "l1_reverse"]

    def run(layer, xs):
        cell = gru_tui.load(path, layer=layer, dtype="float32")
        return cell.run(xs[::-1])["h"][::-1] if cell.reverse else cell.run(xs)["h"]

    x = numbers["x"]
    l0 = np.concatenate([run("l0", x), run("l0_reverse", x)], axis=1)
    l1 = np.concatenate([run("l1", l0), run("l1_reverse", l0)], axis=1)
    close(l1, numbers["output"])
    close(np.stack([l0[-1, :4], l0[0, 4:], l1[-1, :4], l1[0, 4:]]), numbers["h_n"])


def test_cells_saved_with_pickle_protocol_4():
    path = FIXTURES / "ckpt_cells.pt"
    numbers = expected("ckpt_cells")
    assert [(la.name, la.kind) for la in read_layers(path)] == [("gru_cell", "gru"),
                                                                ("lstm_cell", "lstm")]
    close(gru_tui.load(path, "gru_cell", "float32").run(numbers["x"])["h"], numbers["gru_cell/h"])
    lstm = gru_tui.load(path, "lstm_cell", "float32").run(numbers["x"])
    close(lstm["h"], numbers["lstm_cell/h"])
    close(lstm["c"], numbers["lstm_cell/c"])


def test_views_of_one_storage_read_as_torch_holds_them():
    tensors = read_checkpoint(FIXTURES / "ckpt_views.pt")
    theirs = expected("ckpt_views")
    assert list(tensors) == ["weight", "transposed", "rows", "column", "scalar"]
    for key, value in theirs.items():
        assert tensors[key].dtype == np.float32 and tensors[key].shape == value.shape, key
        np.testing.assert_array_equal(tensors[key], value, err_msg=key)


def test_nested_keys_name_every_tensor_and_nothing_else():
    tensors = read_checkpoint(FIXTURES / "ckpt_lightning.ckpt")
    callback = "callbacks.ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}"
    state = [f"state_dict.model.{module}.{role}" for module, roles in
             [("rnn", ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]),
              ("head", ["weight", "bias"])] for role in roles]
    # its Adam never stepped: an empty "state"; the hyper-parameters hold no tensor
    assert list(tensors) == [*state, f"{callback}.best_model_score"]
    assert tensors[f"{callback}.best_model_score"] == np.float32(0.25)
    optimizer = read_checkpoint(FIXTURES / "ckpt_optimizer.pth")
    assert [key for key in optimizer if key.startswith("optimizer.")] == [
        f"optimizer.state.{i}.{key}" for i in range(6)
        for key in ("step", "exp_avg", "exp_avg_sq")]
    assert "epoch" not in optimizer and "model.rnn.weight_ih_l0" in optimizer
    assert list(read_checkpoint(FIXTURES / "ckpt_gru.pt")) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]  # its own keys


def test_half_and_bfloat16_are_widened_exactly():
    half = read_checkpoint(FIXTURES / "ckpt_half.pt")
    assert {a.dtype for a in half.values()} == {np.dtype(np.float16)}
    bf16 = read_checkpoint(FIXTURES / "ckpt_bf16.pt")
    for array in bf16.values():
        assert array.dtype == np.float32
        assert not (array.view(np.uint32) & 0xFFFF).any()  # bfloat16's 16 bits, no more
    assert len({float(v) for a in bf16.values() for v in a.ravel()}) > 40  # not all zeros


def test_fixtures_through_the_command_line(cli, tmp_path):
    runs = {}
    for filename in ("ckpt_lstm.pth", "ckpt_lightning.ckpt", "ckpt_rnn.bin"):
        np.save(tmp_path / f"{filename}.npy", expected(Path(filename).stem)["x"])
        runs[filename] = (["step", "--json", "--dtype", "float32", "--weights",
                           str(FIXTURES / filename), "-i", str(tmp_path / f"{filename}.npy")],
                          {})
    runs["inspect"] = (["inspect", "--json", str(FIXTURES / "ckpt_lightning.ckpt")], {})
    runs["table"] = (["inspect", str(FIXTURES / "ckpt_nested.pt")], {})
    results = cli.many(runs)
    for filename in ("ckpt_lstm.pth", "ckpt_lightning.ckpt", "ckpt_rnn.bin"):
        numbers = expected(Path(filename).stem)
        records = results[filename].records()
        assert [r["t"] for r in records] == list(range(1, 7))
        close(np.array([r["h"] for r in records]), numbers["h"])
        if "c" in numbers:
            close(np.array([r["c"] for r in records]), numbers["c"])
    assert results["inspect"].returncode == 0, results["inspect"].stderr
    assert json.loads(results["inspect"].stdout) == [{
        "index": 0, "name": "state_dict.model.rnn.l0", "kind": "gru", "direction": "forward",
        "input_size": 3, "hidden_size": 4, "convention": "reset after",
        "parameters": 3 * 4 * (3 + 4 + 2), "recurrent_activation": "sigmoid",
        "activations_assumed": None}]
    assert "state_dict.encoder.rnn.l0" in results["table"].stdout


def test_reading_a_checkpoint_imports_neither_torch_nor_anything_it_names():
    code = ("import sys, gru_tui; gru_tui.load(sys.argv[1]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'argparse', 'numpy.testing', 'torch_pickles')))")
    done = subprocess.run([sys.executable, "-c", code, str(FIXTURES / "ckpt_lightning.ckpt")],
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_a_torch_archive_is_read_whatever_its_suffix(tmp_path):
    for suffix in (".npz", ".zip", ".weights"):
        copy = tmp_path / f"model{suffix}"
        copy.write_bytes((FIXTURES / "ckpt_gru.pt").read_bytes())
        assert [la.name for la in read_layers(copy)] == ["l0"]
    script = tmp_path / "scripted.zip"
    script.write_bytes((FIXTURES / "ckpt_torchscript.pt").read_bytes())
    with pytest.raises(InputError, match="is a TorchScript archive"):
        read_layers(script)
    np.savez(tmp_path / "plain.npz", **tp.gru_state())  # a real .npz still goes to numpy
    assert [la.name for la in read_layers(tmp_path / "plain.npz")] == ["l0"]


# -- refusals ---------------------------------------------------------------------------------


def refusals(tmp_path):
    """name → (path, needles of the one-line message)."""
    files = {}

    def add(name, filename, content, *needles):
        path = tmp_path / filename
        if content is not None:
            path.write_bytes(content)
        files[name] = (path, needles)

    add("torchscript", "script.pt", (FIXTURES / "ckpt_torchscript.pt").read_bytes(),
        "script.pt is a TorchScript archive (torch.jit.save); gru-tui reads state dicts: "
        'torch.save(model.state_dict(), "model.pt")')
    add("legacy", "old.pth", (FIXTURES / "ckpt_legacy.pt").read_bytes(),
        "old.pth is a legacy torch.save file", "_use_new_zipfile_serialization=False",
        'torch.save(torch.load("old.pth", weights_only=True), "old.pth")')
    add("plain pickle", "plain.pt", pickle.dumps({"weight_ih_l0": [1.0]}),
        "plain.pt is a plain pickle, not a torch.save zip archive", "never unpickles")
    add("pkl", "model.pkl", pickle.dumps({"weight_ih_l0": [1.0]}),
        "model.pkl is a pickle; gru-tui never unpickles one")
    add("garbage", "junk.ckpt", bytes(range(256)) * 4,
        "junk.ckpt is not a torch.save checkpoint (a zip archive holding data.pkl)")
    np.savez(tmp_path / "arrays.npz", **tp.gru_state())
    add("npz named pt", "arrays.bin", (tmp_path / "arrays.npz").read_bytes(),
        "arrays.bin is not a torch.save checkpoint")
    whole = (FIXTURES / "ckpt_gru.pt").read_bytes()
    add("truncated", "cut.pt", whole[: len(whole) // 2], "cut.pt is not a readable torch.save "
        "checkpoint")
    add("empty", "empty.pt", b"", "empty.pt is empty")
    add("missing", "nowhere.pt", None, "nowhere.pt: no such file")
    os.mkfifo(tmp_path / "fifo.pt")  # reading it would wait for a writer forever
    files["fifo"] = (tmp_path / "fifo.pt", ("fifo.pt is not a regular file",))
    files["device"] = (Path("/dev/zero"), ("/dev/zero is not a regular file",))
    (tmp_path / "folder.pt").mkdir()
    files["directory"] = (tmp_path / "folder.pt", ("folder.pt is a directory, not a file",))
    with (tmp_path / "huge.pt").open("wb") as handle:  # sparse: no disk used
        handle.truncate((1 << 30) + 1)
    files["huge"] = (tmp_path / "huge.pt", ("huge.pt is 1024 MiB", "up to 1024 MiB"))
    state = tp.gru_state()
    state["weight_hh_l0"] = state["weight_hh_l0"][:, :1].copy()
    files["wrong shape"] = (tp.state_archive(tmp_path / "shape.pt", state),
                            ("shape.pt: weight_hh_l0 has shape (6, 1), expected (6, 2)",))
    return files


def test_refusals_through_the_command_line(cli, tmp_path):
    files = refusals(tmp_path)
    runs = {}
    for name, (path, _) in files.items():
        runs[("inspect", name)] = (["inspect", str(path)], {})
    for name in ("torchscript", "legacy", "fifo"):
        runs[("step", name)] = (["step", "--json", "--weights", str(files[name][0])], {})
    results = cli.many(runs)
    for (_, name), result in results.items():
        cli.assert_bad(result, *files[name][1])
    with pytest.raises(InputError, match="TorchScript"):  # the API says the same
        gru_tui.load(files["torchscript"][0])


def test_a_path_with_control_characters_stays_one_line(cli, tmp_path):
    path = tmp_path / "evil\nname\x1b[2J.pt"
    path.write_bytes(b"not a zip at all")
    line = cli.assert_bad(cli("inspect", str(path)), "is not a torch.save checkpoint")
    assert "evil\\nname\\x1b[2J.pt" in line
    with pytest.raises(InputError) as caught:
        read_checkpoint(path)
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


# -- traps ------------------------------------------------------------------------------------


def marker_command(marker):
    return f"open({str(marker)!r}, 'w').close()"


def traps(tmp_path, marker):
    """name → (items added to a good GRU state dict, or a whole archive, needles); no
    needles: the trap is ignored and the state dict loads."""
    command = marker_command(marker)
    cases = {
        "os.system": [tp.call(tp.global_("os", "system"), tp.text(f"touch '{marker}'"))],
        "__reduce__ os.system": [tp.embedded(tp.WritesOnReduce(marker))],
        "builtins.exec": [tp.call(tp.global_("builtins", "exec"), tp.text(command))],
        "__builtin__.eval": [tp.call(tp.global_("__builtin__", "eval"), tp.text(command))],
        "subprocess": [tp.call(tp.global_("subprocess", "check_call"),
                               tp.tuple_of(tp.text("touch"), tp.text(str(marker))))],
        "getattr chain": [tp.call(tp.global_("builtins", "getattr"),
                                  tp.global_("collections", "OrderedDict"), tp.text("fromkeys"))],
        "dunder chain": [tp.text("collections") + tp.text("OrderedDict.__init__.__globals__")
                         + b"\x93"],  # STACK_GLOBAL
        "torch.load": [tp.call(tp.global_("torch", "load"), tp.text("/etc/passwd"))],
        "numpy runstring": [tp.call(tp.global_("numpy.testing._private.utils", "runstring"),
                                    tp.text(command), b"}")],
        "INST os.system": [b"(" + tp.text(f"touch '{marker}'") + b"ios\nsystem\n"],
        "OBJ os.system": [b"(" + tp.global_("os", "system") + tp.text(f"touch '{marker}'")
                          + b"o"],
        # ignored: classes never imported, their calls and state absorbed
        "__setstate__": [tp.embedded(tp.WritesOnSetstate(marker))],
        "INST foreign class": [b"(" + tp.text(str(marker)) + b"itorch_pickles\nWritesOnInit\n"],
        "OBJ foreign class": [b"(" + tp.global_("torch_pickles", "WritesOnInit")
                              + tp.text(str(marker)) + b"o"],
        "BUILD on a tensor": [tp.tensor("0", (6, 3)) + b"}" + tp.text("size")
                              + tp.tuple_of(tp.integer(10**9)) + b"sb"],
        "BUILD on a rebuild function": [
            tp.global_("torch", "Size") + b"N}" + tp.text("__defaults__")
            + tp.tuple_of(tp.tuple_of(tp.integer(7))) + b"s\x86b"],
        "foreign items": [tp.global_("torch_pickles", "WritesOnInit") + b")\x81(" + tp.text("k")
                          + tp.tensor("0", (6, 3)) + b"u(" + tp.text(str(marker)) + b"e"],
    }
    needles = {
        "os.system": ("asks for os.system, which could run code; refused, nothing from the "
                      "file was run",),
        "__reduce__ os.system": ("asks for posix.system",),
        "builtins.exec": ("asks for builtins.exec",),
        "__builtin__.eval": ("asks for __builtin__.eval",),
        "subprocess": ("asks for subprocess.check_call",),
        "getattr chain": ("asks for builtins.getattr",),
        "dunder chain": ("asks for collections.OrderedDict.__init__.__globals__",),
        "torch.load": ("asks for torch.load",),
        "numpy runstring": ("asks for numpy.testing._private.utils.runstring",),
        "INST os.system": ("asks for os.system",),
        "OBJ os.system": ("asks for os.system",),
    }
    return {name: (items, needles.get(name, ())) for name, items in cases.items()}


# the traps that a plain unpickler runs by itself (the others are refused for what they name)
LIVE = ["os.system", "__reduce__ os.system", "builtins.exec", "__builtin__.eval", "subprocess",
        "numpy runstring", "INST os.system", "OBJ os.system", "__setstate__",
        "INST foreign class", "OBJ foreign class"]


@pytest.mark.parametrize("name", LIVE)
def test_the_traps_run_code_when_unpickled_plainly(tmp_path, name):
    marker = tmp_path / f"marker of {name}"
    (ops, *_), _ = traps(tmp_path, marker)[name]
    with contextlib.suppress(Exception):  # some fail after running: the marker tells
        pickle.loads(tp.pickled(ops))
    assert marker.exists()


def test_traps_are_refused_or_ignored_never_run(cli, tmp_path):
    marker = tmp_path / "MARKER"
    state = tp.gru_state()
    runs, files = {}, {}
    for name, (items, needles) in traps(tmp_path, marker).items():
        path = tp.state_archive(tmp_path / f"{name.replace(' ', '_')}.pt", state,
                                [(f"trap{i}", ops) for i, ops in enumerate(items)])
        files[name] = (path, needles)
        runs[name] = (["inspect", "--json", str(path)], {})
    results = cli.many(runs)
    for name, (path, needles) in files.items():
        if needles:
            cli.assert_bad(results[name], path.name, *needles)
            with pytest.raises(InputError, match="could run code"):
                read_checkpoint(path)
        else:  # ignored: the state dict loads, exactly as stored
            assert results[name].returncode == 0, (name, results[name].stderr)
            assert [la["name"] for la in json.loads(results[name].stdout)] == ["l0"]
            tensors = read_checkpoint(path)
            assert list(tensors)[:4] == list(state), name
            for key, value in state.items():
                np.testing.assert_array_equal(tensors[key], value)
    assert not marker.exists(), "a trap from a weight file was run"


def test_a_file_cannot_change_how_later_files_are_read(tmp_path):
    """BUILD with slot state sets a bare function's __defaults__ for good; torch.Size()
    must still give () in the next file."""
    (trap,), _ = traps(tmp_path, tmp_path / "m")["BUILD on a rebuild function"]
    read_checkpoint(tp.state_archive(tmp_path / "a.pt", tp.gru_state(), [("x", trap)]))
    scalar = tp.call(tp.global_("torch._utils", "_rebuild_tensor_v2"), tp.storage_id("0", 1),
                     tp.integer(0), tp.call(tp.global_("torch", "Size")), tp.tuple_of(),
                     b"\x89", tp.call(tp.global_("collections", "OrderedDict")))
    later = tp.write_archive(tmp_path / "b.pt", tp.pickled(tp.dict_of([("s", scalar)])),
                             {"0": np.float32(1.5).tobytes()})
    value = read_checkpoint(later)["s"]
    assert value.shape == () and value == 1.5


def broken_archives(tmp_path):
    """name → (path, needles): archives whose storages, entries or pickle are wrong."""
    state = tp.gru_state()
    items, storages = tp.state_items(state)
    cases = {}

    def archive(name, data_pkl, storages, *needles, **options):
        path = tmp_path / f"{name.replace(' ', '_')}.pt"
        cases[name] = (tp.write_archive(path, data_pkl, storages, **options), needles)

    eight = {**storages, "9": bytes(8)}  # a storage no state tensor uses

    def with_item(ops):
        return tp.pickled(tp.dict_of([*items, ("extra", ops)]))

    good = tp.pickled(tp.dict_of(items))
    archive("storage outside", with_item(tp.tensor("../../etc/passwd", (2,))), storages,
            "refers to storage '../../etc/passwd', which is not an entry name")
    archive("storage missing", with_item(tp.tensor("99", (2,))), storages,
            "refers to archive/data/99, which the archive does not hold")
    archive("persistent id not a storage", with_item(b"Pevil\n"), storages,
            "refers to 'evil', which is not a storage of this archive")
    archive("storage claims more", with_item(tp.tensor("9", (1000,))), eight,
            "archive/data/9 holds 8 bytes but its storage claims 4,000")
    archive("huge storage", with_item(tp.tensor("9", (2**40,))), eight,
            "declares more than 1024 MiB of storages")
    archive("huge view", with_item(tp.tensor("0", (2**20, 2**20), stride=(0, 0), numel=18)),
            storages, "declares more than 1024 MiB of tensors")
    archive("view past the end", with_item(tp.tensor("0", (19,), numel=18)), storages,
            "extra reaches past the end of its storage (archive/data/0, 72 bytes)")
    archive("strided past the end", with_item(tp.tensor("0", (6, 3), stride=(3, 2), numel=18)),
            storages, "extra reaches past the end of its storage")
    archive("negative stride", with_item(tp.tensor("0", (3,), stride=(-1,), offset=2,
                                                   numel=18)), storages,
            "extra has a malformed size, stride or offset")
    archive("unknown dtype", with_item(tp.call(
        tp.global_("torch._utils", "_rebuild_tensor_v3"),
        tp.storage_id("9", 8, "UntypedStorage", "torch.storage"), tp.integer(0),
        tp.tuple_of(tp.integer(4)), tp.tuple_of(tp.integer(1)), b"\x89",
        tp.call(tp.global_("collections", "OrderedDict")), tp.global_("torch", "float8_e4m3fn"))),
        eight, "extra holds torch.float8_e4m3fn values, which gru-tui does not read")
    archive("same storage two ways", with_item(tp.tensor("0", (2,), numel=2)), storages,
            "declares storage 0 twice, differently")
    archive("two tensors one name", tp.pickled(tp.dict_of([
        *items, ("a.b", tp.tensor("0", (18,))), ("a", tp.dict_of([("b", tp.tensor("1", (12,)))]))
    ])), storages, "two tensors are named a.b")
    archive("entry outside", good, storages, "zip entry '../evil' points outside the archive",
            extra={"../evil": b"x"})
    archive("absolute entry", good, storages, "zip entry '/etc/cron.d/x' points outside",
            extra={"/etc/cron.d/x": b"x"})
    archive("byte order", good, storages, "archive/byteorder says middle, expected little or big",
            byteorder=b"middle")
    archive("no data.pkl", good, storages, "is not a torch.save checkpoint", root="a/b")
    archive("memo index", tp.pickled(b"N" + b"r\xff\xff\xff\x7f"), storages,
            "archive/data.pkl uses memo index 2,147,483,647")
    archive("deep tuple key", tp.pickled(b"}N" + b"\x85" * 1_000_000 + b"Ns"), storages,
            "archive/data.pkl nests objects more than 100 levels deep")
    # lists nested through memo aliases, which the opcode walk cannot see: the key walk can
    chain = b"]r\x00\x00\x00\x00" + b"".join(  # L[k - 1].append(L[k]), via LONG_BINGET
        b"j" + (k - 1).to_bytes(4, "little") + b"]r" + k.to_bytes(4, "little") + b"a0"
        for k in range(1, 150))
    archive("deep through aliases", tp.pickled(chain + b"0}" + tp.text("x")
                                               + b"j\x00\x00\x00\x00s"), storages,
            "nests objects more than 100 levels deep")
    archive("too many operations", tp.pickled(b"(" + b"N" * 1_000_001 + b"l"), storages,
            "has more than 1,000,000 pickle operations")
    archive("not a pickle", b"\xff\xfe garbage", storages, "archive/data.pkl is not a valid "
            "pickle")
    archive("BUILD on a class", with_item(tp.global_("collections", "OrderedDict") + b"N}"
                                          + tp.text("x") + b"Ns\x86b"), storages,
            "is not a readable torch.save checkpoint")
    archive("out-of-band buffer", with_item(b"\x97"), storages,
            "is not a readable torch.save checkpoint")
    return cases


def test_broken_archives_are_refused_with_one_line(cli, tmp_path):
    cases = broken_archives(tmp_path)
    results = cli.many({name: (["inspect", str(path)], {}) for name, (path, _) in cases.items()})
    for name, (path, needles) in cases.items():
        cli.assert_bad(results[name], path.name, *needles)


def test_a_control_character_key_is_escaped(tmp_path):
    state = {f"enc\x1b[31m\n.{key}": value for key, value in tp.gru_state().items()}
    tensors = read_checkpoint(tp.state_archive(tmp_path / "k.pt", state))
    assert next(iter(tensors)) == "enc\\x1b[31m\\n.weight_ih_l0"
    assert [la.name for la in read_layers(tmp_path / "k.pt")] == ["enc\\x1b[31m\\n.l0"]


def test_big_endian_storages_are_read_in_their_byte_order(tmp_path):
    state = tp.gru_state()
    items, storages = tp.state_items(state)
    swapped = {key: np.frombuffer(data, "<f4").astype(">f4").tobytes()
               for key, data in storages.items()}
    path = tp.write_archive(tmp_path / "big.pt", tp.pickled(tp.dict_of(items)), swapped,
                            byteorder=b"big")
    for key, value in read_checkpoint(path).items():
        assert value.dtype == np.float32 and value.dtype.isnative
        np.testing.assert_array_equal(value, state[key])


def test_untyped_storages_of_torch_2_with_a_dtype(tmp_path):
    """_rebuild_tensor_v3 (torch ≥ 2.1 for dtypes without a typed storage): bytes + dtype."""
    values = np.arange(6, dtype="<u2")
    ops = tp.call(tp.global_("torch._utils", "_rebuild_tensor_v3"),
                  tp.storage_id("0", 12, "UntypedStorage", "torch.storage"), tp.integer(1),
                  tp.tuple_of(tp.integer(2), tp.integer(2)),
                  tp.tuple_of(tp.integer(1), tp.integer(2)), b"\x89",
                  tp.call(tp.global_("collections", "OrderedDict")), tp.global_("torch", "uint16"))
    path = tp.write_archive(tmp_path / "u16.pt", tp.pickled(tp.dict_of([("u", ops)])),
                            {"0": values.tobytes()})
    np.testing.assert_array_equal(read_checkpoint(path)["u"], [[1, 3], [2, 4]])


def test_limits_on_the_pickle_and_the_zip_directory(tmp_path, monkeypatch):
    path = tp.state_archive(tmp_path / "m.pt", tp.gru_state())
    monkeypatch.setattr(torch_checkpoint, "MAX_PICKLE_BYTES", 100)
    with pytest.raises(InputError, match=r"m.pt: archive/data.pkl is [\d,]+ bytes; gru-tui "
                                         r"reads pickles up to 100 bytes"):
        read_checkpoint(path)
    monkeypatch.undo()
    many = tp.write_archive(tmp_path / "many.pt", tp.pickled(b"}"), {},
                            extra={f"archive/x/{i}": b"" for i in range(2000)})
    monkeypatch.setattr(torch_checkpoint, "MAX_DIRECTORY_BYTES", 10_000)
    with pytest.raises(InputError, match=r"many.pt: its zip directory is [\d,]+ bytes; "
                                         r"gru-tui reads up to 10,000 bytes"):
        read_checkpoint(many)
    monkeypatch.setattr(torch_checkpoint, "MAX_TENSORS", 3)
    with pytest.raises(InputError, match="holds more than 3 tensors"):
        read_checkpoint(path)


def test_the_worst_traps_stay_within_bounded_memory(tmp_path):
    """In a fresh process, every trap that would make an unpickler allocate is refused with
    the peak memory (ru_maxrss) far below what the trap asks for."""
    cases = broken_archives(tmp_path)
    heavy = [str(cases[name][0]) for name in ("memo index", "deep tuple key", "huge storage",
                                              "huge view", "too many operations")]
    code = ("import json, resource, sys\n"
            "from gru_tui.io.torch_checkpoint import read_checkpoint\n"
            "from gru_tui.errors import InputError\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "lines = []\n"
            "for path in sys.argv[1:]:\n"
            "    try:\n"
            "        read_checkpoint(path)\n"
            "    except InputError as error:\n"
            "        lines.append(str(error))\n"
            "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print(json.dumps([lines, before, after]))\n")
    done = subprocess.run([sys.executable, "-c", code, *heavy], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    lines, before, after = json.loads(done.stdout)
    assert len(lines) == len(heavy)
    assert (after - before) < 300 * 1024, (before, after)  # KiB: < 300 MiB more than at start


# -- never another exception ------------------------------------------------------------------


SEEDS = [FIXTURES / name for name in ("ckpt_gru.pt", "ckpt_lightning.ckpt", "ckpt_views.pt")]


def _outcome(path: Path) -> None:
    try:
        tensors = read_checkpoint(path)
    except InputError as error:
        assert "\n" not in str(error)
    else:
        assert all(isinstance(value, np.ndarray) for value in tensors.values())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_mutated_files_give_input_errors_or_tensors(tmp_path_factory, seed, data):
    raw = bytearray(seed.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(1, len(raw)))]
    path = tmp_path_factory.mktemp("mutated") / seed.name
    path.write_bytes(bytes(raw))
    _outcome(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_mutated_pickles_give_input_errors_or_tensors(tmp_path_factory, seed, data):
    """The pickle changed and zipped again with a right CRC, so the unpickler meets it."""
    with zipfile.ZipFile(seed) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    name = next(key for key in entries if key.endswith("/data.pkl"))
    pkl = bytearray(entries[name])
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(pkl) - 1))
        if data.draw(st.booleans()):
            pkl[position] = data.draw(st.integers(0, 255))
        else:
            pkl[position:position] = data.draw(st.binary(min_size=1, max_size=6))
    entries[name] = bytes(pkl)
    path = tmp_path_factory.mktemp("mutated") / seed.name
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in entries.items():
            archive.writestr(key, value)
    _outcome(path)


# -- against torch, when it is installed ------------------------------------------------------


def _flatten(torch, value, prefix=""):
    """torch.load's object flattened by the rule of read_checkpoint, written again here."""
    if isinstance(value, torch.Tensor):
        yield prefix, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(torch, item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _flatten(torch, item, f"{prefix}.{index}" if prefix else str(index))


@pytest.mark.parametrize("filename", ["ckpt_gru.pt", "ckpt_lstm.pth", "ckpt_rnn.bin",
                                      "ckpt_bigru.pt", "ckpt_nested.pt", "ckpt_optimizer.pth",
                                      "ckpt_half.pt", "ckpt_bf16.pt", "ckpt_cells.pt",
                                      "ckpt_views.pt"])
def test_fixtures_hold_what_torch_load_finds(filename):
    torch = pytest.importorskip("torch")
    # weights_only=True cannot read pickle protocol 4 (ckpt_cells): these files are ours
    theirs = dict(_flatten(torch, torch.load(FIXTURES / filename, weights_only=False)))
    mine = read_checkpoint(FIXTURES / filename)
    assert list(mine) == list(theirs)
    for key, tensor in theirs.items():
        np.testing.assert_array_equal(mine[key], tensor.float().numpy() if
                                      tensor.dtype == torch.bfloat16 else tensor.numpy())


def test_lightning_fixture_holds_classes_no_one_can_import():
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception, match=r"TrainingConfig|AttributeDict"):
        torch.load(FIXTURES / "ckpt_lightning.ckpt", weights_only=False)


def test_hand_written_archives_are_what_torch_reads(tmp_path):
    torch = pytest.importorskip("torch")
    state = tp.gru_state()
    theirs = torch.load(tp.state_archive(tmp_path / "m.pt", state), weights_only=True)
    assert {k: v.numpy().tolist() for k, v in theirs.items()} == {
        k: v.tolist() for k, v in state.items()}


@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_live_torch_saves_in_every_protocol_and_dtype(tmp_path, protocol, dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(protocol)
    net = torch.nn.Module()
    net.rnn = torch.nn.LSTM(3, 5, num_layers=2).to(getattr(torch, dtype))
    net.tied = net.rnn.weight_hh_l1  # a Parameter sharing a storage: _rebuild_parameter
    path = tmp_path / "m.pt"
    torch.save({"model": net.state_dict(), "params": list(net.parameters())[:2],
                "view": net.rnn.weight_ih_l0.detach()[1:, ::2]}, path,
               pickle_protocol=protocol)
    mine = read_checkpoint(path)
    theirs = dict(_flatten(torch, torch.load(path, weights_only=False)))  # made just here
    assert list(mine) == list(theirs)
    for key, tensor in theirs.items():
        np.testing.assert_array_equal(mine[key], tensor.detach().float().numpy()
                                      if dtype == "bfloat16" else tensor.detach().numpy())
