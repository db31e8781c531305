"""`gru-tui lab` through the real command: the JSON Lines of SPEC §12, determinism, --save and
the eval loss recomputed from its files by equations written out here, the table in a pipe,
the progress bar on a terminal only, a closed pipe, and bad options as one line with exit 2."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import pty
import subprocess
import sys

import numpy as np
import pytest

from gru_tui.cli.lab import _clip, lab
from gru_tui.core.lab import LabOptions

TINY = ["--hidden", "3", "--batch", "4", "--iterations", "7", "--eval-every", "3"]
STEP_KEYS = {"model", "iteration", "loss", "eval_loss", "seconds", "grad_norm", "params"}
FINAL_KEYS = {"model", "final", "iteration", "loss", "eval_loss", "seconds", "params"}


def test_records_follow_spec_12(cli):
    records = cli.records("lab", "--json", "--task", "hold", "--length", "6", "-m", "gru,lstm",
                          *TINY)
    steps = [r for r in records if not r.get("final")]
    finals = [r for r in records if r.get("final")]
    assert all(set(r) == STEP_KEYS for r in steps)
    assert all(set(r) == FINAL_KEYS and r["final"] is True for r in finals)
    # every iteration, the models in -m order; each model's final record right after its last
    assert [(r["model"], r["iteration"]) for r in records] == [
        *((m, i) for i in range(1, 7) for m in ("gru", "lstm")),
        ("gru", 7), ("gru", 7), ("lstm", 7), ("lstm", 7)]
    assert [r["iteration"] for r in steps if r["eval_loss"] is not None] == [3, 3, 6, 6, 7, 7]
    # g·(D·H + H² + 2H) + O·H + O with D = O = 1 (hold), H = 3: GRU g = 3, LSTM g = 4
    assert {r["model"]: r["params"] for r in records} == {"gru": 3 * 18 + 4, "lstm": 4 * 18 + 4}
    for model in ("gru", "lstm"):
        mine = [r for r in steps if r["model"] == model]
        final = next(r for r in finals if r["model"] == model)
        assert final["eval_loss"] == mine[-1]["eval_loss"] and final["loss"] == mine[-1]["loss"]
        assert final["seconds"] == mine[-1]["seconds"]
        seconds = [r["seconds"] for r in mine]
        assert seconds == sorted(seconds) and seconds[0] > 0
        assert all(r["loss"] > 0 and r["grad_norm"] > 0 for r in mine)


def without_time(records: list[dict]) -> list[dict]:
    return [{key: value for key, value in r.items() if key != "seconds"} for r in records]


def test_the_same_seed_gives_the_same_curves(cli):
    args = ["lab", "--json", "--task", "adding", "--length", "8", *TINY]
    runs = cli.many({"first": (args, {}), "again": (args, {}),
                     "other seed": ([*args, "--seed", "1"], {})})
    first, again, other = (runs[name].records() for name in ("first", "again", "other seed"))
    assert without_time(first) == without_time(again)
    assert [r["loss"] for r in first] != [r["loss"] for r in other]


# -- --save: the files alone give the reported eval loss -----------------------------------------


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def readout_of_files(tensors: dict, kind: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(h [B, T, H], ŷ [B, T, O]) from a saved state dict by PyTorch's documented equations:
    rows r, z, n (GRU, reset applied to U_n h + b_hn) and i, f, g, o (LSTM), from zero states."""
    W, U = tensors["weight_ih_l0"], tensors["weight_hh_l0"]
    b_i, b_h = tensors["bias_ih_l0"], tensors["bias_hh_l0"]
    H = U.shape[1]
    h = np.zeros((x.shape[0], H))
    c = np.zeros_like(h)
    hs = []
    for x_t in x.transpose(1, 0, 2):
        gi, gh = x_t @ W.T + b_i, h @ U.T + b_h
        if kind == "rnn":
            h = np.tanh(gi + gh)
        elif kind == "gru":
            r, z = sigmoid(gi[:, :H] + gh[:, :H]), sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
            h = (1 - z) * np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:]) + z * h
        else:
            i, f = sigmoid(gi[:, :H] + gh[:, :H]), sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
            g = np.tanh(gi[:, 2 * H:3 * H] + gh[:, 2 * H:3 * H])
            o = sigmoid(gi[:, 3 * H:] + gh[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
        hs.append(h)
    hs = np.stack(hs, axis=1)
    return hs, hs @ tensors["readout.weight"].T + tensors["readout.bias"]


def test_saved_files_give_the_reported_eval_loss(cli, tmp_path):
    from safetensors.numpy import load_file

    folder = tmp_path / "runs" / "adding"
    records = cli.records("lab", "--json", "--task", "adding", "--length", "8", "--dtype",
                          "float64", "--save", str(folder), *TINY)
    assert sorted(p.name for p in folder.iterdir()) == ["eval.npz", "gru.safetensors",
                                                        "lstm.safetensors", "rnn.safetensors"]
    with np.load(folder / "eval.npz") as held_out:
        x, y, mask = held_out["x"], held_out["y"], held_out["mask"]
    assert x.shape == (256, 8, 2) and y.shape == (256, 8, 1) and mask.shape == (256, 8)
    for kind in ("rnn", "gru", "lstm"):
        tensors = load_file(folder / f"{kind}.safetensors")
        _, y_hat = readout_of_files(tensors, kind, x)
        loss = float((mask[:, :, None] * (y_hat - y) ** 2).sum() / (y.shape[2] * mask.sum()))
        final = next(r for r in records if r["model"] == kind and r.get("final"))
        assert loss == pytest.approx(final["eval_loss"], rel=1e-12), kind
    # and `gru-tui --weights DIR/gru.safetensors` runs the trained GRU
    rows = ";".join(",".join(str(v) for v in row) for row in x[0])
    stepped = cli.records("step", "--json", "--weights", str(folder / "gru.safetensors"),
                          "--inputs", rows)
    h, _ = readout_of_files(load_file(folder / "gru.safetensors"), "gru", x[:1])
    np.testing.assert_allclose([r["h"] for r in stepped], h[0], rtol=1e-12, atol=1e-15)


def test_forget_bias_raises_the_lstm_forget_rows_only(cli, tmp_path):
    from safetensors.numpy import load_file

    common = ["lab", "--json", "--task", "copy", "--length", "2", "-m", "lstm", "--hidden", "3",
              "--iterations", "1", "--lr", "1e-12"]  # one step that changes almost nothing
    runs = cli.many({"plain": ([*common, "--save", str(tmp_path / "plain")], {}),
                     "raised": ([*common, "--forget-bias", "1", "--save",
                                 str(tmp_path / "raised")], {})})
    assert all(result.returncode == 0 for result in runs.values())
    plain = load_file(tmp_path / "plain" / "lstm.safetensors")
    raised = load_file(tmp_path / "raised" / "lstm.safetensors")
    difference = raised["bias_ih_l0"] - plain["bias_ih_l0"]  # PyTorch rows i, f, g, o
    np.testing.assert_allclose(difference[3:6], 1.0, atol=1e-5)
    np.testing.assert_allclose(np.delete(difference, range(3, 6)), 0.0, atol=1e-5)
    np.testing.assert_allclose(raised["bias_hh_l0"], plain["bias_hh_l0"], atol=1e-5)


# -- without --json, on a terminal and in a pipe -----------------------------------------------


def test_in_a_pipe_it_prints_the_table(cli):
    result = cli("lab", "--task", "delay", "--length", "5", "--delay", "2", *TINY)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "delay, T = 5: 7 iterations"
    assert lines[1].split() == ["model", "H", "params", "iter", "it/s", "s", "loss", "eval",
                                "eval", "<", "0.01"]
    assert [line.split()[1] for line in lines[2:5]] == ["RNN", "GRU", "LSTM"]
    assert all(line.split()[-1] == "done" for line in lines[2:5])


def test_a_progress_bar_only_when_stderr_is_a_terminal(cli):
    """stderr a pty: the bar is drawn there (and stdout still holds only JSON); a pipe gets
    nothing (test_records_follow_spec_12 reads an empty stderr)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "gru_tui", "lab", "--json", "--task", "hold", "--length", "6",
         *TINY], stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL,
        env=cli.env({"TERM": "xterm-256color"}))
    os.close(follower)
    stdout, _ = process.communicate(timeout=300)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert process.returncode == 0
    assert "hold" in drawn.decode(errors="replace") and b"7/7" in drawn
    assert all(json.loads(line)["model"] for line in stdout.decode().splitlines())


def test_head_closes_the_pipe_quietly(cli):
    command = (f"set +o pipefail; {sys.executable} -m gru_tui lab --json --iterations 100000 "
               "| head -1")
    completed = subprocess.run(["bash", "-c", command], capture_output=True,
                               stdin=subprocess.DEVNULL, env=cli.env(), timeout=300)
    assert completed.returncode == 0
    assert completed.stderr == b"", completed.stderr.decode(errors="replace")
    [line] = completed.stdout.decode().splitlines()
    assert json.loads(line)["iteration"] == 1


# -- options --------------------------------------------------------------------------------------


def test_the_command_defaults_are_the_labs():
    parameters = inspect.signature(lab).parameters
    for option in dataclasses.fields(LabOptions):
        if option.name in ("models", "eval_batch", "blas_threads"):  # not options of the command
            continue
        default = parameters[option.name].default
        if option.name == "clip":
            default = _clip(default)
        assert default == option.default, option.name
    assert parameters["model"].default is None  # every model, LabOptions.models


BAD = {
    "unknown task": (["--task", "sorting"], ["--task", "sorting", "delay, hold, adding, copy"]),
    "unknown model": (["-m", "gru,tcn"], ["-m", "tcn", "rnn, gru, lstm"]),
    "hidden 0": (["--hidden", "0"], ["--hidden", "positive", "0"]),
    "hidden negative": (["--hidden", "-3"], ["--hidden", "-3"]),
    "lr 0": (["--lr", "0"], ["--lr", "positive", "0"]),
    "lr negative": (["--lr", "-0.1"], ["--lr", "-0.1"]),
    "delay too long": (["--task", "delay", "--length", "5", "--delay", "5"],
                       ["--delay 5", "--length is 5"]),
    "iterations 0": (["--iterations", "0"], ["--iterations", "0"]),
    "dtype": (["--dtype", "float16"], ["--dtype", "float16"]),
    "clip": (["--clip", "-1"], ["--clip", "none", "-1"]),
    "forget bias without lstm": (["-m", "gru", "--forget-bias", "1"], ["--forget-bias", "lstm"]),
}


@pytest.fixture(scope="module")
def bad_results(cli, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    taken = folder / "taken"
    taken.write_text("")
    runs = {name: (["lab", "--json", *args], {}) for name, (args, _) in BAD.items()}
    runs["unwritable DIR"] = (["lab", "--json", "--save", str(taken / "inside")], {})
    runs["DIR is a file"] = (["lab", "--json", "--save", str(taken)], {})
    return taken, cli.many(runs)


@pytest.mark.parametrize("name", list(BAD))
def test_bad_options_get_one_line_and_exit_2(cli, bad_results, name):
    _, results = bad_results
    cli.assert_bad(results[name], *BAD[name][1])


def test_an_unwritable_save_directory_is_refused_before_training(cli, bad_results):
    taken, results = bad_results
    cli.assert_bad(results["unwritable DIR"], "--save", str(taken / "inside"), "cannot write")
    cli.assert_bad(results["DIR is a file"], "--save", str(taken), "not a directory")
