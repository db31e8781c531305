"""Memory-profile speed: ms for the full sensitivity profile ‖∂h_T/∂x_t‖ of a run.

    python benchmarks/gradients.py            # the full table, about half a minute
    python benchmarks/gradients.py --quick    # a smoke run, a few seconds
    python benchmarks/gradients.py --json     # the rows as one JSON object

For each model (GRU with reset "before" and "after", LSTM, simple RNN) and each run shape
(T, H), with D = 3 at H = 3 and D = 64 otherwise, it times ``gru_tui.memory_profile(trace)``
on a trace computed beforehand (float64 weights from seed 0, inputs uniform in ±1): every
per-step Jacobian, the backward pass and the norms. The forward run, ``cell.run(xs)``, is
timed beside it for scale. Each figure is the median of several repeats, after a warm-up;
"profile cpu" is the CPU time of the process (every BLAS thread), steadier than wall time on
a busy machine — with OPENBLAS_NUM_THREADS=1 it is the work itself. Figures only: nothing
here asserts a timing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

import gru_tui

SHAPES = ((200, 3), (200, 256), (1000, 64))  # (T, H)
VARIANTS = (
    ("gru (reset before)", "gru", {"reset": "before"}),
    ("gru (reset after)", "gru", {"reset": "after"}),
    ("lstm", "lstm", {}),
    ("rnn", "rnn", {}),
)
TARGET_MS = 5.0  # the profile at H = 3 (T = 200) must cost less than this: one app edit


def median_ms(run, repeats: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (all its threads), in ms."""
    run()  # warm-up
    times, cpu = [], []
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    finally:
        gc.enable()
    return statistics.median(times) * 1e3, statistics.median(cpu) * 1e3


def measure(shapes, repeats_for, on_row=None) -> list[dict]:
    rows = []
    for T, H in shapes:
        D = 3 if H == 3 else 64
        xs = np.random.default_rng(1).uniform(-1, 1, size=(T, D))
        for label, model, conventions in VARIANTS:
            cell = gru_tui.random_cell(model, D, H, seed=0, **conventions)
            trace = cell.run(xs)
            repeats = repeats_for(T, H)
            profile_ms, profile_cpu_ms = median_ms(
                lambda trace=trace: gru_tui.memory_profile(trace), repeats)
            run_ms, _ = median_ms(lambda cell=cell, xs=xs: cell.run(xs), repeats)
            row = {"model": label, "T": T, "H": H, "D": D, "repeats": repeats,
                   "profile_ms": profile_ms, "profile_cpu_ms": profile_cpu_ms, "run_ms": run_ms,
                   "target": None if H != 3 else profile_ms < TARGET_MS}
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def print_row(row: dict) -> None:
    target = "" if row["target"] is None else (
        f"< {TARGET_MS:g} ms {'ok' if row['target'] else 'MISSED'}")
    print(f"{row['model']:<19}  {row['T']:>5}  {row['H']:>4}  {row['D']:>3}  "
          f"{row['profile_ms']:>11.2f}  {row['profile_cpu_ms']:>11.2f}  {row['run_ms']:>10.2f}  "
          f"{target}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer repeats")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON only")
    args = parser.parse_args()

    def repeats_for(T: int, H: int) -> int:
        if args.quick:
            return 2
        return 31 if H <= 3 else 5

    info = {"python": platform.python_version(), "numpy": np.__version__,
            "gru_tui": gru_tui.__version__, "cpus": os.cpu_count(),
            "load_average": round(os.getloadavg()[0], 2), "dtype": "float64",
            "blas_threads_env": {k: v for k, v in os.environ.items()
                                 if k.endswith("_NUM_THREADS")}}
    if not args.json:
        print(f"gru-tui {info['gru_tui']} memory-profile benchmark: float64, median of N "
              f"repeats; python {info['python']}, numpy {info['numpy']}, {info['cpus']} CPUs, "
              f"load average {info['load_average']:.2f}")
        print()
        print(f"{'model':<19}  {'T':>5}  {'H':>4}  {'D':>3}  {'profile ms':>11}  "
              f"{'profile cpu':>11}  {'run ms':>10}  target")
        print("-" * 85)
        if info["blas_threads_env"]:
            print("thread settings: " + ", ".join(f"{k}={v}" for k, v in
                                                  info["blas_threads_env"].items()))
    started = time.perf_counter()
    rows = measure(SHAPES, repeats_for, on_row=None if args.json else print_row)
    info["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        json.dump({"environment": info, "rows": rows}, sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        print()
        print(f"Target: the profile at (T, H) = (200, 3) under {TARGET_MS:g} ms (one edit in "
              "the app); larger shapes run in the app's worker.")
        print(f"({info['seconds']} s; load average at the end {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
