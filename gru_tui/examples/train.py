"""Train the shipped example models (`gru-tui --example delay`, `gru-tui --example hold`).

This script is how ``gru_tui/examples/delay.safetensors`` and ``hold.safetensors`` were made;
gru-tui never imports it, and it is the one place in the project that needs PyTorch. To make
the files again (about a minute and a half on two CPU cores):

    pip install torch==2.13.0
    python gru_tui/examples/train.py

The inputs are the ``pulses`` preset: sparse pulses in ±1 on about 30 % of the steps, D = 1.
Two tasks, one file each:

- delay: the target at step t is the input of step t − 3 (zero for the first three steps);
- hold: the target is the most recent pulse (zero before the first): keep a value until a new
  one replaces it.

Each model is one recurrent layer of H = 4 units (a GRU and an LSTM per task) and a linear
readout ``y_t = w·h_t + b``, trained together with Adam on the mean squared error, on preset
seeds 1, 2, 3, …; seed 0, which the examples open on, is never trained on. The files keep
PyTorch's state-dict names (``gru.weight_ih_l0`` …, ``gru_readout.weight`` …) and record the
task and the held-out errors in their metadata.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from gru_tui.core.presets import preset_rows

HIDDEN = 4
STEPS = 60  # per training sequence
BATCH = 64
ITERATIONS = 4000
LAG = 3
HERE = Path(__file__).parent


def delayed(xs: np.ndarray) -> np.ndarray:
    ys = np.zeros_like(xs)
    ys[:, LAG:] = xs[:, :-LAG]
    return ys


def held(xs: np.ndarray) -> np.ndarray:
    ys, last = np.zeros_like(xs), np.zeros_like(xs[:, 0])
    for t in range(xs.shape[1]):
        last = np.where(xs[:, t] != 0, xs[:, t], last)
        ys[:, t] = last
    return ys


TASKS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "delay": (f"y_t = x_(t-{LAG}): repeat each input {LAG} steps later", delayed),
    "hold": ("y_t = the most recent pulse: hold it until the next one", held),
}


class Model(torch.nn.Module):
    def __init__(self, kind: str) -> None:
        super().__init__()
        layer = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind]
        self.rnn = layer(1, HIDDEN, batch_first=True)
        self.readout = torch.nn.Linear(HIDDEN, 1)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        hs, _ = self.rnn(xs)
        return self.readout(hs)


def batch(target, first_seed: int, size: int = BATCH) -> tuple[torch.Tensor, torch.Tensor]:
    """Pulse sequences from preset seeds first_seed.. and the task's targets."""
    xs = np.stack([preset_rows("pulses", 1, 0, STEPS, seed)
                   for seed in range(first_seed, first_seed + size)])
    return (torch.tensor(xs, dtype=torch.float32),
            torch.tensor(target(xs), dtype=torch.float32))


def train(task: str, kind: str) -> tuple[Model, dict]:
    target = TASKS[task][1]
    torch.manual_seed(0)
    model = Model(kind)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, ITERATIONS)
    for iteration in range(ITERATIONS):
        xs, ys = batch(target, 1 + iteration * BATCH)
        loss = torch.nn.functional.mse_loss(model(xs), ys)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    with torch.no_grad():  # held out: seeds the training never used
        xs, ys = batch(target, 10_000_000, 512)
        mse = torch.nn.functional.mse_loss(model(xs), ys).item()
        variance = ys.var().item()
    errors = {"held_out_mse": round(mse, 6), "explained": round(1 - mse / variance, 4)}
    print(f"{task} {kind}: {errors}", flush=True)
    return model, errors


def main() -> None:
    torch.set_num_threads(2)
    for task, (summary, _) in TASKS.items():
        tensors, errors = {}, {}
        for kind in ("gru", "lstm"):
            model, errors[kind] = train(task, kind)
            for name, value in model.state_dict().items():
                module, role = name.split(".", 1)
                prefix = kind if module == "rnn" else f"{kind}_readout"
                tensors[f"{prefix}.{role}"] = value.contiguous()
        out = HERE / f"{task}.safetensors"
        save_file(tensors, out, metadata={
            "task": summary, "inputs": "the pulses preset, D = 1", "hidden": str(HIDDEN),
            "trained_by": f"gru_tui/examples/train.py, torch {torch.__version__}",
            "errors": json.dumps(errors)})
        print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
