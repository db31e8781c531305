"""Training-lab speed: iterations per second of gru-tui's numpy training next to PyTorch's.

    python benchmarks/lab.py              # the full table, 3–6 minutes
    python benchmarks/lab.py --quick      # a smoke run, under a minute
    python benchmarks/lab.py --json       # the rows as one JSON object
    python benchmarks/lab.py --no-torch   # gru-tui only
    python benchmarks/lab.py --tasks      # the README's table: every task at the lab's defaults

One training iteration, float32, batch B = 32, T = 50 steps, D = 2 inputs and O = 1 output
(the adding task's sizes), at H = 32 and H = 128, for the simple RNN, the GRU and the LSTM:

- gru-tui: ``Network.loss_and_gradient`` (forward, masked MSE, exact BPTT), global
  gradient-norm clipping at 1 and an Adam step — what ``Lab.step`` does per model;
- torch: ``nn.RNN / nn.GRU / nn.LSTM(D, H, batch_first=True)`` + ``nn.Linear(H, O)``, the same
  masked MSE, ``backward()``, ``clip_grad_norm_(…, 1.0)`` and ``torch.optim.Adam.step()``.

Each side runs in its own child process at 1 and at 2 threads (numpy's OpenBLAS threads are
fixed when numpy loads, so ``OPENBLAS_NUM_THREADS`` is set in the child's environment; torch's
with ``torch.set_num_threads``), and each side's best thread count is compared. A figure is
the best mean over repeats of 10 iterations, after warm-up; the children are run in
interleaved rounds, so a burst of load hits every side alike, and the best of the rounds is
kept. Peak memory: the growth of the child's resident set (VmHWM, reset after set-up) while
it trains a few iterations at T = 200. Figures only: nothing here asserts a timing.

``--tasks`` runs ``Lab(task)`` with every default for each task (a minute or two in all) and
prints, per model, the parameter count, the first evaluation (every 50 iterations) whose
held-out loss is below the task's threshold with the model's training seconds until then,
and the final held-out loss, as a markdown table; then the LSTM on copy again with
``--forget-bias 1`` (Keras's unit_forget_bias).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

MODELS = ("rnn", "gru", "lstm")
SIZES = (32, 128)
BATCH, STEPS, INPUTS, OUTPUTS = 32, 50, 2, 1
MEMORY_STEPS = 200
THREADS = (1, 2)
TARGETS = {32: 1.0, 128: 1.5}  # gru-tui ms / torch ms at most, per H
# --tasks: runs beyond every task at the defaults; the LSTM with Keras's forget bias on copy
EXTRA_RUNS = (("copy", {"models": ("lstm",), "forget_bias": 1.0}),)


def batch(steps: int):
    """The adding task's first training batch, float32."""
    from gru_tui.core.tasks import make_task

    data = make_task("adding", length=steps).batch(BATCH, seed=0, index=0)
    return tuple(a.astype("float32") for a in (data.x, data.y, data.mask))


def numpy_iteration(model: str, H: int, steps: int):
    from gru_tui.engine.training import Adam, Network, clip_gradient

    x, y, mask = batch(steps)
    conventions = {"reset": "after"} if model == "gru" else {}
    network = Network.create(model, INPUTS, H, OUTPUTS, dtype="float32", **conventions)
    adam = Adam(network.params, lr=0.01)

    def iteration() -> None:
        network.loss_and_gradient(x, y, mask)
        clip_gradient(network.grads, 1.0)
        adam.step(network.grads)

    return iteration


def torch_iteration(model: str, H: int, steps: int):
    import torch

    x, y, mask = (torch.from_numpy(a) for a in batch(steps))
    torch.manual_seed(0)
    layer = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[model](
        INPUTS, H, batch_first=True)
    readout = torch.nn.Linear(H, OUTPUTS)
    params = [*layer.parameters(), *readout.parameters()]
    adam = torch.optim.Adam(params, lr=0.01)
    weights = mask[:, :, None]
    norm = OUTPUTS * mask.sum()

    def iteration() -> None:
        adam.zero_grad()
        loss = (weights * (readout(layer(x)[0]) - y) ** 2).sum() / norm
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        adam.step()

    return iteration


def set_up(side: str, threads: int):
    if side == "torch":
        import torch

        torch.set_num_threads(threads)
        return torch_iteration
    return numpy_iteration


def worker(side: str, threads: int, sizes, repeats: int) -> list[dict]:
    """Time every (model, H) on one side at one thread count (in this child process)."""
    make = set_up(side, threads)
    rows = []
    for H in sizes:
        for model in MODELS:
            iteration = make(model, H, STEPS)
            for _ in range(10):
                iteration()
            best = best_cpu = float("inf")
            for _ in range(repeats):
                wall, cpu = time.perf_counter(), time.process_time()
                for _ in range(10):
                    iteration()
                best = min(best, (time.perf_counter() - wall) / 10)
                best_cpu = min(best_cpu, (time.process_time() - cpu) / 10)
            rows.append({"side": side, "threads": threads, "model": model, "H": H,
                         "ms": best * 1e3, "cpu_ms": best_cpu * 1e3})
    return rows


def memory_worker(side: str, model: str, H: int) -> dict:
    """Peak growth of the resident set while training a few iterations at T = 200."""
    iteration = set_up(side, 1)(model, H, MEMORY_STEPS)
    before = status("VmRSS")
    reset = reset_peak()
    for _ in range(3):
        iteration()
    peak = status("VmHWM") if reset else None
    return {"side": side, "model": model, "H": H, "T": MEMORY_STEPS,
            "peak_mb": None if peak is None else (peak - before) / 1024}


def status(field: str) -> int:
    """A field of /proc/self/status, in kB."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> bool:
    """Reset VmHWM to the current resident set (Linux); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def child(args: list[str], threads: int = 1):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          env=env, check=False, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def measure(sides, rounds: int, repeats: int, on_round=None) -> dict:
    """Best wall and CPU ms per (side, threads, model, H) over interleaved rounds of child
    processes."""
    best: dict[tuple, dict] = {}
    for number in range(rounds):
        for side in sides:
            for threads in THREADS:
                args = ["--worker", side, "--threads", str(threads), "--repeats", str(repeats)]
                for row in child(args, threads):
                    key = (side, threads, row["model"], row["H"])
                    kept = best.setdefault(key, row)
                    kept["ms"] = min(kept["ms"], row["ms"])
                    kept["cpu_ms"] = min(kept["cpu_ms"], row["cpu_ms"])
        if on_round is not None:
            on_round(number + 1)
    return best


def table(best: dict, sides) -> list[dict]:
    rows = []
    for H in SIZES:
        for model in MODELS:
            row = {"model": model, "H": H}
            for side in sides:
                runs = [best[(side, threads, model, H)] for threads in THREADS]
                fastest = min(runs, key=lambda r: r["ms"])
                row[side] = {"ms": fastest["ms"], "threads": fastest["threads"],
                             "by_threads": {r["threads"]: r["ms"] for r in runs},
                             "cpu_ms_1_thread": best[(side, 1, model, H)]["cpu_ms"]}
            if "torch" in sides:
                ratio = row["numpy"]["ms"] / row["torch"]["ms"]
                row["ratio"] = ratio
                row["cpu_ratio_1_thread"] = (row["numpy"]["cpu_ms_1_thread"]
                                             / row["torch"]["cpu_ms_1_thread"])
                row["target"] = TARGETS[H]
                row["met"] = ratio <= TARGETS[H]
            rows.append(row)
    return rows


def memory(sides) -> list[dict]:
    return [child(["--memory", side, "--model", model, "--hidden", str(H)])
            for H in SIZES for model in MODELS for side in sides]


def environment(sides) -> dict:
    import numpy as np

    import gru_tui

    info = {"python": platform.python_version(), "numpy": np.__version__,
            "gru_tui": gru_tui.__version__, "cpus": os.cpu_count(),
            "machine": platform.machine(), "load_average": round(os.getloadavg()[0], 2)}
    if "torch" in sides:
        import torch

        info["torch"] = torch.__version__
    return info


def print_table(info: dict, rows: list[dict], sides, rounds: int) -> None:
    torch_text = f"torch {info['torch']}" if "torch" in info else "no torch"
    print(f"gru-tui {info['gru_tui']} training benchmark: float32, B = {BATCH}, T = {STEPS}, "
          f"D = {INPUTS}, O = {OUTPUTS}; one iteration = forward, BPTT, clip, Adam")
    print(f"python {info['python']}, numpy {info['numpy']}, {torch_text}, {info['cpus']} CPUs "
          f"{info['machine']}; best of {rounds} interleaved rounds, each side at its best of "
          f"1 and 2 threads")
    print()
    header = ("model", "H", "gru-tui ms", "it/s", "(1 thr / 2 thr)", "torch ms", "it/s",
              "(1 thr / 2 thr)", "ratio", "target")
    widths = (5, 4, 10, 7, 16, 9, 7, 16, 6, 0)
    print("  ".join(h.ljust(w) if w else h for h, w in zip(header, widths, strict=True)))
    for row in rows:
        cells = [row["model"], str(row["H"])]
        for side in ("numpy", "torch"):
            if side in row:
                run = row[side]
                by = run["by_threads"]
                cells += [f"{run['ms']:.2f}", f"{1e3 / run['ms']:.0f}",
                          f"({by[1]:.2f} / {by[2]:.2f})"]
            else:
                cells += ["—", "—", ""]
        if "ratio" in row:
            verdict = "ok" if row["met"] else "MISSED"
            cells += [f"{row['ratio']:.2f}×", f"≤ {row['target']:g}× {verdict}"]
        else:
            cells += ["—", ""]
        print("  ".join((c.ljust(w) if i < 2 else c.rjust(w)) if w else c
                        for i, (c, w) in enumerate(zip(cells, widths, strict=True))))


def print_cpu(rows: list[dict]) -> None:
    """The steadier figure on a busy machine: CPU time per iteration at one thread."""
    print()
    print("At one thread, CPU time per iteration (what other load changes least):")
    for row in rows:
        ours = row["numpy"]["cpu_ms_1_thread"]
        text = f"  {row['model']:<5} H = {row['H']:<4} gru-tui {ours:7.2f} ms"
        if "torch" in row:
            theirs = row["torch"]["cpu_ms_1_thread"]
            text += f"   torch {theirs:7.2f} ms   ratio {row['cpu_ratio_1_thread']:.2f}×"
        print(text)


def print_memory(rows: list[dict]) -> None:
    print()
    print(f"Peak memory while training at T = {MEMORY_STEPS} (growth of the resident set, MB):")
    for row in rows:
        peak = "—" if row["peak_mb"] is None else f"{row['peak_mb']:.1f}"
        side = "gru-tui" if row["side"] == "numpy" else "torch"
        print(f"  {row['model']:<5} H = {row['H']:<4} {side:<8} {peak}")


def tasks_table(iterations: int | None) -> list[dict]:
    from gru_tui.core.lab import Lab
    from gru_tui.core.tasks import TASKS

    runs = [(name, {}) for name in TASKS] + [(name, options) for name, options in EXTRA_RUNS]
    rows = []
    for name, options in runs:
        lab = Lab(name, **options, **({} if iterations is None else {"iterations": iterations}))
        for record in lab.run():
            if record.get("final"):
                reached = lab.progress(record["model"])["reached"]
                rows.append({"task": name, "length": lab.task.length, "model": record["model"],
                             "options": options, "threshold": TASKS[name].threshold,
                             "params": record["params"],
                             "reached": reached and dict(zip(("iteration", "seconds"), reached,
                                                             strict=True)),
                             "eval_loss": record["eval_loss"],
                             "iterations": record["iteration"], "seconds": record["seconds"],
                             "stopped": record.get("stopped")})
    return rows


def print_tasks(rows: list[dict]) -> None:
    print("| task | model | params | reaches the threshold | final eval loss | seconds |")
    print("| --- | --- | ---: | --- | ---: | ---: |")
    for row in rows:
        reached = row["reached"]
        when = (f"at {reached['iteration']} ({reached['seconds']:.1f} s)" if reached
                else f"not reached in {row['iterations']}")
        loss = "—" if row["eval_loss"] is None else f"{row['eval_loss']:.4f}"
        task = f"{row['task']} (< {row['threshold']:g})"
        model = row["model"] + "".join(f" --{key.replace('_', '-')} {value:g}"
                                       for key, value in row["options"].items()
                                       if key != "models")
        print(f"| {task} | {model} | {row['params']} | {when} | {loss} | "
              f"{row['seconds']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round, 3 repeats")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON only")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--tasks", action="store_true",
                        help="train every task at the lab's defaults: the README's table")
    parser.add_argument("--iterations", type=int, help="with --tasks: instead of the default")
    parser.add_argument("--worker", choices=("numpy", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--memory", choices=("numpy", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=7, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--hidden", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        json.dump(worker(args.worker, args.threads, SIZES, args.repeats), sys.stdout)
        return
    if args.memory:
        json.dump(memory_worker(args.memory, args.model, args.hidden), sys.stdout)
        return

    if args.tasks:
        load = os.getloadavg()[0]
        rows = tasks_table(args.iterations)
        if args.json:
            json.dump(rows, sys.stdout, indent=1)
            print()
        else:
            print_tasks(rows)
            print(f"(load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end)")
        return
    sides = ("numpy",) if args.no_torch else ("numpy", "torch")
    if "torch" in sides:
        try:
            import torch  # noqa: F401
        except ImportError:
            sides = ("numpy",)
    rounds, repeats = (1, 3) if args.quick else (3, 7)
    info = environment(sides)
    started = time.perf_counter()
    progress = None if args.json else (lambda n: print(f"round {n} of {rounds} done",
                                                       file=sys.stderr, flush=True))
    rows = table(measure(sides, rounds, repeats, progress), sides)
    peaks = memory(sides)
    info["seconds"] = round(time.perf_counter() - started, 1)
    info["load_average_end"] = round(os.getloadavg()[0], 2)
    if args.json:
        json.dump({"environment": info, "rows": rows, "memory": peaks}, sys.stdout, indent=1)
        print()
        return
    print_table(info, rows, sides, rounds)
    print_cpu(rows)
    print_memory(peaks)
    met = [row["met"] for row in rows if "met" in row]
    print()
    print(f"Targets: at H = 32 gru-tui at least as fast as torch (ratio ≤ 1), at H = 128 within "
          f"1.5×. {sum(met)} of {len(met)} met.")
    print(f"({info['seconds']} s; load average {info['load_average']:.2f} at the start, "
          f"{info['load_average_end']:.2f} at the end: figures are noisy above ~0.5 on a "
          "2-core machine)")


if __name__ == "__main__":
    main()
