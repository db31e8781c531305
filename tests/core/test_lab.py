"""The headless training lab: its records, determinism, the NaN stop, bad options, and the saved
files, from which the reported eval_loss is recomputed here with the equations written out."""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pytest

import gru_tui
from gru_tui.core.lab import Lab, matched_hidden_sizes
from gru_tui.errors import InputError
from gru_tui.io.weights import read_layers

SMALL = {"hidden": 4, "batch": 8, "iterations": 12, "eval_every": 5, "eval_batch": 16,
         "lr": 0.01, "length": 10}
KEYS = ["model", "iteration", "loss", "eval_loss", "seconds", "grad_norm", "params"]
FINAL_KEYS = ["model", "final", "iteration", "loss", "eval_loss", "seconds", "params"]
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def count(kind: str, D: int, H: int, O: int) -> int:  # noqa: E741
    return GATES[kind] * (D * H + H * H + 2 * H) + O * H + O


def test_records_follow_the_schema():
    records = list(Lab("adding", **SMALL).run())
    assert [r["model"] for r in records[:3]] == ["rnn", "gru", "lstm"]
    for model in ("rnn", "gru", "lstm"):
        mine = [r for r in records if r["model"] == model]
        steps, final = mine[:-1], mine[-1]
        assert [list(r) for r in steps] == [KEYS] * 12
        assert [r["iteration"] for r in steps] == list(range(1, 13))
        evaluated = [r["iteration"] for r in steps if r["eval_loss"] is not None]
        assert evaluated == [5, 10, 12]  # every eval_every, and the last
        assert list(final) == FINAL_KEYS and final["final"] is True
        assert final["iteration"] == 12 and final["eval_loss"] == steps[-1]["eval_loss"]
        assert all(r["params"] == count(model, 2, 4, 1) for r in mine)
        seconds = [r["seconds"] for r in steps]
        assert seconds == sorted(seconds) and seconds[0] > 0
        for r in steps:
            assert math.isfinite(r["loss"]) and r["grad_norm"] > 0
    json.dumps(records, allow_nan=False)  # plain JSON: no NaN anywhere


def without_time(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def test_same_options_same_numbers_bit_for_bit():
    first = without_time(Lab("hold", **SMALL).run())
    lab = Lab("hold", **SMALL)
    assert without_time(lab.run()) == first
    lab.restart()
    assert without_time(lab.run()) == first
    other_seed = without_time(Lab("hold", seed=1, **SMALL).run())
    assert other_seed[0]["loss"] != first[0]["loss"]


def test_every_model_sees_the_same_batches():
    """A model trained alone draws the curve it draws beside the others."""
    together = without_time(Lab("delay", **SMALL).run())
    alone = without_time(Lab("delay", models=["lstm"], **SMALL).run())
    assert alone == [r for r in together if r["model"] == "lstm"]


def test_training_lowers_the_loss():
    lab = Lab("delay", models=["gru"], hidden=8, iterations=150, eval_every=50, lr=0.02,
              length=12, delay=2)
    records = [r for r in lab.run() if r["eval_loss"] is not None and "final" not in r]
    losses = [r["eval_loss"] for r in records]
    assert losses[-1] < 0.5 * losses[0]


def test_a_diverging_model_stops_with_a_notice_and_the_others_go_on():
    lab = Lab("adding", **SMALL)
    lab._models["rnn"].network.params[0] = np.nan  # its first loss is NaN
    records = list(lab.run())
    rnn = [r for r in records if r["model"] == "rnn"]
    assert len(rnn) == 1 and rnn[0]["final"] is True
    assert rnn[0]["stopped"] == ("rnn stopped at iteration 1: its loss became NaN "
                                 "(try a smaller --lr)")
    assert lab.notices == [rnn[0]["stopped"]]
    assert [r["iteration"] for r in records if r["model"] == "gru"][-1] == 12
    json.dumps(records, allow_nan=False)


def test_a_huge_learning_rate_stops_every_model_early():
    lab = Lab("delay", **{**SMALL, "lr": 1e37})
    records = list(lab.run())
    finals = [r for r in records if r.get("final")]
    assert [r["model"] for r in finals] == ["rnn", "gru", "lstm"]
    assert all("stopped" in r and r["iteration"] < 12 for r in finals)
    assert lab.done and lab.step() == []
    json.dumps(records, allow_nan=False)


def test_models_come_in_the_order_given():
    lab = Lab("hold", models="lstm, rnn", **SMALL)
    assert lab.models == ("lstm", "rnn")
    assert [r["model"] for r in lab.step()] == ["lstm", "rnn"]


def test_match_params_gives_about_the_gru_count():
    sizes = matched_hidden_sizes(("rnn", "gru", "lstm"), 32, 2, 1)
    target = count("gru", 2, 32, 1)
    assert sizes["gru"] == 32
    for kind in ("rnn", "lstm"):  # closest of every H, checked by brute force
        best = min(range(1, 200), key=lambda H, k=kind: abs(count(k, 2, H, 1) - target))
        assert sizes[kind] == best
    assert sizes["rnn"] > 32 > sizes["lstm"]
    lab = Lab("adding", match_params=True, **SMALL)
    assert lab.hidden_sizes == matched_hidden_sizes(("rnn", "gru", "lstm"), 4, 2, 1)
    assert lab.cell("rnn").hidden_size == lab.hidden_sizes["rnn"]


def test_cell_and_readout_are_the_trained_model():
    lab = Lab("copy", **SMALL)
    list(lab.run())
    cell = lab.cell("gru")
    assert isinstance(cell, gru_tui.GRUCell) and cell.reset == "after"
    assert cell.dtype == np.float32
    W_out, b_out = lab.readout("gru")
    assert W_out.shape == (4, 4) and b_out.shape == (4,)
    held_out = lab.held_out
    y_hat = np.stack([cell.run(x)["h"] @ W_out.T + b_out for x in held_out.x])
    mask = held_out.mask[:, :, None]
    loss = (mask * (y_hat - held_out.y) ** 2).sum() / (4 * held_out.mask.sum())
    final = lab.history("gru")[-1]
    assert final["final"] and loss == pytest.approx(final["eval_loss"], rel=1e-5)
    with pytest.raises(InputError, match="no model 'rnn2'"):
        lab.cell("rnn2")


def test_a_ui_thread_can_read_while_a_worker_trains():
    lab = Lab("hold", **{**SMALL, "iterations": 40})
    worker = threading.Thread(target=lambda: list(lab.run()))
    worker.start()
    cells = [lab.cell("lstm") for _ in range(20)]
    worker.join(timeout=120)
    assert not worker.is_alive() and lab.done
    assert all(cell.hidden_size == 4 for cell in cells)
    assert len(lab.history("lstm")) == 41


# -- saved files ------------------------------------------------------------------------------


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def run_written_out(tensors: dict, kind: str, x: np.ndarray) -> np.ndarray:
    """ŷ [B, T, O] from a saved state dict: PyTorch's equations, gate rows in PyTorch's order
    (r, z, n; i, f, g, o), reset "after", written out in float64."""
    W, U = tensors["weight_ih_l0"].astype(float), tensors["weight_hh_l0"].astype(float)
    b_i, b_h = tensors["bias_ih_l0"].astype(float), tensors["bias_hh_l0"].astype(float)
    H = U.shape[1]
    B, T, _ = x.shape
    h, c = np.zeros((B, H)), np.zeros((B, H))
    hs = []
    for t in range(T):
        gi, gh = x[:, t] @ W.T + b_i, h @ U.T + b_h
        if kind == "rnn":
            h = np.tanh(gi + gh)
        elif kind == "gru":
            r = sigmoid(gi[:, :H] + gh[:, :H])
            z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
            n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
            h = (1 - z) * n + z * h
        else:
            a = gi + gh
            i, f = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H])
            g, o = np.tanh(a[:, 2 * H : 3 * H]), sigmoid(a[:, 3 * H :])
            c = f * c + i * g
            h = o * np.tanh(c)
        hs.append(h)
    W_out, b_out = tensors["readout.weight"].astype(float), tensors["readout.bias"].astype(float)
    return np.stack(hs, axis=1) @ W_out.T + b_out


def masked_mse(y_hat, y, mask) -> float:
    return float((mask[:, :, None] * (y_hat - y) ** 2).sum() / (y.shape[2] * mask.sum()))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A float64 lab trained a little and saved, with its records."""
    folder = tmp_path_factory.mktemp("lab") / "run"
    lab = Lab("adding", save_to=folder, dtype="float64", **SMALL)
    assert folder.is_dir()  # made before anything trained
    records = list(lab.run())
    written = lab.save()
    return folder, lab, records, written


def test_save_writes_every_model_and_the_held_out_batch(saved):
    folder, _, _, written = saved
    names = sorted(path.name for path in written)
    assert names == ["eval.npz", "gru.safetensors", "lstm.safetensors", "rnn.safetensors"]
    assert sorted(path.name for path in folder.iterdir()) == names
    modes = {path.stat().st_mode & 0o777 for path in written}
    assert len(modes) == 1  # the user's usual mode for every file


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_eval_loss_is_recomputed_from_the_files(saved, kind):
    from safetensors.numpy import load_file

    folder, _, records, _ = saved
    tensors = load_file(folder / f"{kind}.safetensors")
    assert sorted(tensors) == ["bias_hh_l0", "bias_ih_l0", "readout.bias", "readout.weight",
                               "weight_hh_l0", "weight_ih_l0"]
    with np.load(folder / "eval.npz") as held_out:
        x, y, mask = held_out["x"], held_out["y"], held_out["mask"]
    assert x.shape == (16, 10, 2) and y.shape == (16, 10, 1) and mask.shape == (16, 10)
    final = next(r for r in records if r["model"] == kind and r.get("final"))
    loss = masked_mse(run_written_out(tensors, kind, x), y, mask)
    assert loss == pytest.approx(final["eval_loss"], rel=1e-12)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_eval_loss_is_recomputed_by_torch(saved, kind):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    folder, _, records, _ = saved
    state = load_file(folder / f"{kind}.safetensors")
    layer = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "rnn": torch.nn.RNN}[kind](
        2, 4, batch_first=True).double()
    readout = torch.nn.Linear(4, 1).double()
    layer.load_state_dict({k: v for k, v in state.items() if not k.startswith("readout.")})
    readout.load_state_dict({"weight": state["readout.weight"], "bias": state["readout.bias"]})
    with np.load(folder / "eval.npz") as held_out:
        x, y, mask = (torch.from_numpy(held_out[k]) for k in ("x", "y", "mask"))
    with torch.no_grad():
        y_hat = readout(layer(x)[0])
    loss = ((mask[:, :, None] * (y_hat - y) ** 2).sum() / mask.sum()).item()
    final = next(r for r in records if r["model"] == kind and r.get("final"))
    assert loss == pytest.approx(final["eval_loss"], rel=1e-12)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_the_loader_reads_the_files(saved, kind):
    from safetensors import safe_open

    folder, lab, _, _ = saved
    path = folder / f"{kind}.safetensors"
    layers = read_layers(path)
    assert [(layer.kind, layer.input_size, layer.hidden_size) for layer in layers] == [
        (kind, 2, 4)]
    cell = gru_tui.load(path)  # what `gru-tui --weights DIR/gru.safetensors` opens
    trained = lab.cell(kind)
    assert cell.conventions == trained.conventions
    for name in ("W", "U", "b_i", "b_h"):
        np.testing.assert_array_equal(getattr(cell, name), getattr(trained, name))
    W_out, b_out = lab.readout(kind)
    x = lab.held_out.x[:3]  # the loaded layer and the readout give the lab's own outputs
    y_hat = np.stack([cell.run(xs)["h"] @ W_out.T + b_out for xs in x])
    np.testing.assert_allclose(y_hat, lab.predict(kind, x), rtol=1e-12, atol=1e-15)
    with safe_open(path, "numpy") as handle:
        meta = handle.metadata()
    assert json.loads(meta["task"])["task"] == "adding"
    assert meta["iterations"] == "12" and meta["seed"] == "0" and meta["model"] == kind
    final = lab.history(kind)[-1]
    assert json.loads(meta["eval_loss"]) == final["eval_loss"]


def test_float32_files_reproduce_the_reported_loss(tmp_path):
    from safetensors.numpy import load_file

    lab = Lab("delay", models=["lstm"], **SMALL)
    records = list(lab.run())
    lab.save(tmp_path)
    tensors = load_file(tmp_path / "lstm.safetensors")
    assert tensors["weight_hh_l0"].dtype == np.float32
    with np.load(tmp_path / "eval.npz") as held_out:
        loss = masked_mse(run_written_out(tensors, "lstm", held_out["x"]), held_out["y"],
                          held_out["mask"])
    assert loss == pytest.approx(records[-1]["eval_loss"], rel=1e-5)


# -- bad options ------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "message"), [
    ({"task": "sorting"},
     "--task: unknown task 'sorting'; choose one of delay, hold, adding, copy"),
    ({"hidden": 0}, "--hidden must be a positive integer, got 0"),
    ({"hidden": -4}, "--hidden must be a positive integer, got -4"),
    ({"lr": 0.0}, "--lr must be a positive number, got 0.0"),
    ({"lr": -0.1}, "--lr must be a positive number, got -0.1"),
    ({"lr": math.nan}, "--lr must be a positive number, got nan"),
    ({"task": "delay", "delay": 60, "length": 50},
     "--delay 60 needs sequences longer than 60 steps; --length is 50"),
    ({"models": ["gru", "tcn"]}, "-m: unknown model 'tcn'; choose from rnn, gru, lstm"),
    ({"models": ["gru", "gru"]}, "-m names a model twice: gru,gru"),
    ({"models": []}, "-m needs at least one model: rnn, gru, lstm"),
    ({"batch": 0}, "--batch must be a positive integer, got 0"),
    ({"iterations": 0}, "--iterations must be a positive integer, got 0"),
    ({"eval_every": 0}, "--eval-every must be a positive integer, got 0"),
    ({"clip": 0}, "--clip must be a positive number, got 0"),
    ({"dtype": "float16"}, "--dtype must be float32 or float64, got float16"),
    ({"seed": -1}, "--seed must be a non-negative integer, got -1"),
])
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(InputError) as caught:
        Lab(**options)
    assert str(caught.value) == message


def test_an_unwritable_save_directory_is_refused_before_training(tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("")
    with pytest.raises(InputError) as caught:
        Lab("hold", save_to=a_file, **SMALL)
    assert str(caught.value) == f"--save {a_file}: exists and is not a directory"
    with pytest.raises(InputError) as caught:
        Lab("hold", save_to=a_file / "inside", **SMALL)
    assert str(caught.value).startswith(f"--save {a_file / 'inside'}: cannot write there (")
    assert "\n" not in str(caught.value)


def test_training_runs_on_one_blas_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    controller = threadpoolctl.ThreadpoolController()
    if not controller.select(user_api="blas").lib_controllers:
        pytest.skip("threadpoolctl finds no BLAS library here")

    def blas_threads() -> set[int]:
        return {info["num_threads"] for info in controller.info() if info["user_api"] == "blas"}

    seen = []
    lab = Lab("delay", models=["rnn"], **SMALL)
    network = lab._models["rnn"].network
    train = network.loss_and_gradient

    def watched(*args):
        seen.append(blas_threads())
        return train(*args)

    network.loss_and_gradient = watched
    before = blas_threads()
    with controller.limit(limits=2, user_api="blas"):
        lab.step()
        assert blas_threads() == {2}  # the limit ends with the step
    assert seen == [{1}] and blas_threads() == before
    with pytest.raises(InputError, match="--blas-threads must be a positive integer, got 0"):
        Lab(blas_threads=0)
