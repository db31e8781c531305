"""Engine speed: µs per timestep of gru-tui's cells next to a numpy floor and PyTorch.

    python benchmarks/engine.py            # the full table, 15–20 s
    python benchmarks/engine.py --quick    # a smoke run, a few seconds
    python benchmarks/engine.py --json     # the rows as one JSON object

For each model (GRU with reset "before" and "after", LSTM, simple RNN) and each shape
(D, H) it times, in float32 over T steps, batch of one:

- gru-tui: ``cell.run(xs)`` on a [T, D] array, everything included (input checks, the
  input projection for all steps, the recurrent loop, storing every gate);
- floor: a bare numpy loop doing only the T recurrent matrix-vector products with a U of
  shape (g·H, H) (g = 3 GRU, 4 LSTM, 1 RNN), ``U.dot(h, out)`` — the irreducible per-step
  cost of any numpy implementation that steps one timestep at a time;
- torch: ``torch.nn.GRU / LSTM / RNN`` forward on a [T, 1, D] tensor under
  ``torch.no_grad()``, with torch's default threads (when torch is importable).

Each figure is the best of several repeats; the repeats of the variants are interleaved so a
noisy moment hits all of them alike. Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable

import numpy as np

import gru_tui

SHAPES = ((3, 3), (64, 256), (128, 1024))  # (D, H)
STEPS = 2000
GATE_COUNT = {"gru": 3, "lstm": 4, "rnn": 1}
TORCH_CLASS = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}
# Rows: (label, model, cell conventions)
VARIANTS = (
    ("gru (reset before)", "gru", {"reset": "before"}),
    ("gru (reset after)", "gru", {"reset": "after"}),
    ("lstm", "lstm", {}),
    ("rnn", "rnn", {}),
)
SMALL, WIDE = (3, 3), (64, 256)
MAX_FLOOR_RATIO = 2.0  # gru-tui / floor at H = 256, GRU and LSTM
MAX_TORCH_RATIO_WIDE = 1.0  # gru-tui / torch.nn.GRU at H = 256
MAX_TORCH_RATIO_SMALL = 0.7  # gru-tui / torch at (3, 3), GRU and RNN (not torch's fused LSTM)


def targets(model: str, shape: tuple[int, int]) -> list[tuple[str, str, float]]:
    """The targets of one row: (description, ratio key, largest allowed ratio)."""
    found = []
    if shape == WIDE and model in ("gru", "lstm"):
        found.append((f"≤ {MAX_FLOOR_RATIO:g}× floor", "vs_floor", MAX_FLOOR_RATIO))
    if shape == WIDE and model == "gru":
        found.append((f"≤ {MAX_TORCH_RATIO_WIDE:g}× torch", "vs_torch", MAX_TORCH_RATIO_WIDE))
    if shape == SMALL and model in ("gru", "rnn"):
        found.append((f"≤ {MAX_TORCH_RATIO_SMALL:g}× torch", "vs_torch", MAX_TORCH_RATIO_SMALL))
    return found


def load_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def best_of(runs: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Best wall time in seconds of each callable; repeats interleaved, GC off while timing."""
    for run in runs.values():  # warm-up: caches, lazy initialisation, oneDNN primitives
        run()
    best = dict.fromkeys(runs, float("inf"))
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, run in runs.items():
                start = time.perf_counter()
                run()
                best[name] = min(best[name], time.perf_counter() - start)
    finally:
        gc.enable()
    return best


def engine_run(model: str, D: int, H: int, conventions: dict, xs: np.ndarray):
    cell = gru_tui.random_cell(model, D, H, seed=0, dtype="float32", **conventions)
    return lambda: cell.run(xs)


def floor_run(model: str, H: int, T: int):
    """T recurrent products h ← (U h)[:H] with U (g·H × H), and nothing else.

    U's leading H×H block is orthogonal so h keeps its norm: no overflow, no subnormals
    (which would slow the products down) however long the run.
    """
    g = GATE_COUNT[model]
    rng = np.random.default_rng(0)
    U = rng.uniform(-1, 1, size=(g * H, H)) / np.sqrt(H)
    U[:H] = np.linalg.qr(rng.standard_normal((H, H)))[0]
    U = np.ascontiguousarray(U, dtype=np.float32)
    a, b = np.empty(g * H, np.float32), np.empty(g * H, np.float32)
    a_h, b_h = a[:H], b[:H]
    a_h[:] = rng.uniform(-1, 1, size=H) / np.sqrt(H)
    dot = U.dot
    pairs = range(T // 2)

    def run() -> None:
        for _ in pairs:  # two steps per turn, ping-ponging between buffers
            dot(a_h, b)
            dot(b_h, a)

    return run


def torch_run(torch, model: str, D: int, H: int, xs: np.ndarray):
    torch.manual_seed(0)
    module = getattr(torch.nn, TORCH_CLASS[model])(D, H).eval()
    x = torch.from_numpy(xs).unsqueeze(1)  # [T, 1, D]: batch of one

    def run() -> None:
        with torch.no_grad():
            module(x)

    return run


def measure(shapes, T: int, repeats_for, torch, on_row=None) -> list[dict]:
    rows = []
    rng = np.random.default_rng(1)
    for D, H in shapes:
        xs = rng.uniform(-1, 1, size=(T, D)).astype(np.float32)
        repeats = repeats_for(H)
        for model in GATE_COUNT:
            variants = [v for v in VARIANTS if v[1] == model]
            runs = {label: engine_run(model, D, H, conv, xs) for label, _, conv in variants}
            runs["floor"] = floor_run(model, H, T)
            if torch is not None:
                runs["torch"] = torch_run(torch, model, D, H, xs)
            best = {name: seconds / T * 1e6 for name, seconds in best_of(runs, repeats).items()}
            for label, _, _ in variants:
                ours, floor, theirs = best[label], best["floor"], best.get("torch")
                row = {
                    "model": label, "D": D, "H": H, "T": T, "repeats": repeats,
                    "gru_tui_us": ours, "floor_us": floor, "torch_us": theirs,
                    "vs_floor": ours / floor,
                    "vs_torch": None if theirs is None else ours / theirs,
                }
                row["targets"] = [
                    {"target": text, "met": None if row[key] is None else row[key] <= limit}
                    for text, key, limit in targets(model, (D, H))
                ]
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return rows


def environment(torch, T: int) -> dict:
    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gru_tui": gru_tui.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "load_average": round(os.getloadavg()[0], 2),
        "steps": T,
        "dtype": "float32",
        "blas_threads_env": {k: v for k, v in os.environ.items()
                             if k.endswith("_NUM_THREADS")},
    }
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


COLUMNS = ("model", "D", "H", "gru-tui µs/step", "floor µs/step", "torch µs/step",
           "gru-tui/floor", "gru-tui/torch", "target")
WIDTHS = (19, 4, 5, 15, 13, 13, 13, 13, 0)


def fmt(value, spec: str, unit: str = "") -> str:
    return "—" if value is None else format(value, spec) + unit


def print_header(info: dict) -> None:
    torch_text = (f"torch {info['torch']}, {info['torch_threads']} threads (torch default)"
                  if "torch" in info else "torch not installed: torch columns empty")
    print(f"gru-tui {info['gru_tui']} engine benchmark: float32, T = {info['steps']} steps, "
          f"batch 1, best of N repeats")
    print(f"python {info['python']}, numpy {info['numpy']}, {torch_text}, "
          f"{info['cpus']} CPUs {info['machine']}, load average {info['load_average']:.2f}")
    if info["blas_threads_env"]:
        print("thread settings: " + ", ".join(f"{k}={v}" for k, v in
                                              info["blas_threads_env"].items()))
    print()
    print("  ".join(c.ljust(w) if w else c for c, w in zip(COLUMNS, WIDTHS, strict=True)))
    print("-" * (sum(WIDTHS) + 2 * len(WIDTHS) + 24))


def print_row(row: dict) -> None:
    verdicts = "; ".join(
        f"{t['target']} {'—' if t['met'] is None else ('ok' if t['met'] else 'MISSED')}"
        for t in row["targets"]
    )
    cells = (row["model"], str(row["D"]), str(row["H"]), fmt(row["gru_tui_us"], ".2f"),
             fmt(row["floor_us"], ".2f"), fmt(row["torch_us"], ".2f"),
             fmt(row["vs_floor"], ".2f", "×"), fmt(row["vs_torch"], ".2f", "×"), verdicts)
    text = "  ".join(
        (c.ljust(w) if i < 3 else c.rjust(w)) if w else c
        for i, (c, w) in enumerate(zip(cells, WIDTHS, strict=True))
    )
    print(text, flush=True)


def print_footer(rows: list[dict]) -> None:
    print()
    print("Targets: at H = 256, gru-tui ≤ 2× floor for GRU and LSTM and no slower than "
          "torch.nn.GRU;")
    print("         at (3, 3), gru-tui ≤ 0.7× torch for GRU and RNN. torch's LSTM runs a fused "
          "oneDNN kernel:")
    print("         its ratio is reported, with no target. torch.nn.GRU places the reset gate "
          "'after'.")
    verdicts = [t["met"] for row in rows for t in row["targets"] if t["met"] is not None]
    print(f"{sum(verdicts)} of {len(verdicts)} targets met.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 200 steps, 2 repeats (figures are rough)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON only")
    parser.add_argument("--no-torch", action="store_true", help="skip the torch column")
    args = parser.parse_args()

    torch = None if args.no_torch else load_torch()
    T = 200 if args.quick else STEPS

    def repeats_for(H: int) -> int:
        if args.quick:
            return 2
        return 3 if H >= 1024 else 7

    info = environment(torch, T)
    if not args.json:
        print_header(info)
    started = time.perf_counter()
    rows = measure(SHAPES, T, repeats_for, torch, on_row=None if args.json else print_row)
    info["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        json.dump({"environment": info, "rows": rows}, sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        print_footer(rows)
        print(f"({info['seconds']} s; load average at the end {os.getloadavg()[0]:.2f}: figures "
              "are noisy above ~0.5 on a 2-core machine)")


if __name__ == "__main__":
    main()
