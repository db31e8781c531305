"""Command-line costs: start-up time of `gru-tui step --json`, and memory of a long stream.

    python benchmarks/cli.py            # the full run, about a minute
    python benchmarks/cli.py --quick    # a smoke run, a few seconds

(a) Start-up: the wall time of ``python -m gru_tui step --json`` on the built-in example
    against ``python -c "import numpy"`` (the same interpreter), median of interleaved runs,
    and which heavy packages (textual, rich, …) that path imports, from ``-X importtime``.
(b) Streaming: peak RSS, wall time and records/s of ``step --json --steps N --hidden 3``
    written to /dev/null, for two lengths N ten times apart: a flat peak shows the stream
    runs in constant memory. The peak is the child's own ``ru_maxrss``, read with
    ``os.wait4`` on that one process.

Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

PYTHON = sys.executable
STEP_JSON = (PYTHON, "-m", "gru_tui", "step", "--json")
IMPORT_NUMPY = (PYTHON, "-c", "import numpy")
BARE_PYTHON = (PYTHON, "-c", "pass")
MAX_STARTUP_RATIO = 2.5  # step --json / import numpy
MAX_PEAK_MB = 150
WATCHED = ("textual", "rich", "typer", "click", "pydantic", "numpy", "gru_tui")
RECORDS_PER_STEP = 2  # the default models: gru and lstm


def run_once(command, stdout=subprocess.DEVNULL) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one run of `command` in a fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{error}")
    # ru_maxrss is in KiB on Linux, in bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return wall, usage.ru_maxrss * scale / 1e6


def startup(runs: int) -> dict:
    commands = {"step --json": STEP_JSON, "import numpy": IMPORT_NUMPY, "python -c pass":
                BARE_PYTHON}
    for command in commands.values():  # warm the file cache and the .pyc files
        run_once(command)
    times = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so drifts in machine load hit all alike
        for name, command in commands.items():
            times[name].append(run_once(command)[0])
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["step --json"] / medians["import numpy"]
    return {
        "runs": runs,
        "median_s": medians,
        "min_s": {name: min(values) for name, values in times.items()},
        "ratio": ratio,
        "target": f"≤ {MAX_STARTUP_RATIO:g}× import numpy",
        "met": ratio <= MAX_STARTUP_RATIO,
        "imports": imported_packages(),
    }


def imported_packages() -> dict:
    """Which watched packages `step --json` imports, and the cumulative time of each.

    A package's time is that of its own first import line in ``-X importtime`` (what it pulls
    in included; parts imported later, lazily, not). The total adds up the outermost imports.
    """
    command = (PYTHON, "-X", "importtime", *STEP_JSON[1:])
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    package_ms: dict[str, float] = {}
    seen: set[str] = set()
    total_ms = 0.0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, field = line.split("|")
        if not cumulative.strip().isdigit():  # the header line
            continue
        name, ms = field.strip(), int(cumulative) / 1000
        seen.add(name.split(".")[0])
        if name in WATCHED:
            package_ms.setdefault(name, ms)
        if len(field) - len(field.lstrip()) == 1:  # nesting depth 0
            total_ms += ms
    return {
        "imported": {name: name in seen for name in WATCHED},
        "package_ms": package_ms,
        "total_ms": total_ms,
    }


def stream(steps: int) -> dict:
    command = (*STEP_JSON, "--steps", str(steps), "--hidden", "3")
    wall, peak_mb = run_once(command)
    records = steps * RECORDS_PER_STEP
    return {
        "steps": steps,
        "records": records,
        "wall_s": wall,
        "records_per_s": records / wall,
        "peak_rss_mb": peak_mb,
        "target": f"< {MAX_PEAK_MB} MB",
        "met": peak_mb < MAX_PEAK_MB,
    }


def check_record_count() -> None:
    """The records/s figures assume two records a step; make sure that still holds."""
    steps = 50
    out = subprocess.run((*STEP_JSON, "--steps", str(steps), "--hidden", "3"),
                         capture_output=True, text=True, check=True).stdout
    count = len(out.splitlines())
    if count != steps * RECORDS_PER_STEP:
        raise SystemExit(f"expected {steps * RECORDS_PER_STEP} records, got {count}")


def verdict(met: bool) -> str:
    return "ok" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 5 start-ups, 100 000 and 10 000 steps")
    args = parser.parse_args()
    runs = 5 if args.quick else 15
    lengths = (10_000, 100_000) if args.quick else (100_000, 1_000_000)

    print(f"gru-tui CLI benchmark: python {platform.python_version()} ({PYTHON}), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print()
    print(f"(a) start-up, median of {runs} interleaved runs each (min in brackets)")
    result = startup(runs)
    for name, median in result["median_s"].items():
        print(f"    {name:<16} {median * 1000:7.1f} ms  ({result['min_s'][name] * 1000:.1f})")
    print(f"    step --json / import numpy = {result['ratio']:.2f}×   target "
          f"{result['target']}: {verdict(result['met'])}")
    imports = result["imports"]
    print(f"    imports on that path ({imports['total_ms']:.0f} ms in all): " + ", ".join(
        f"{name} " + (f"yes ({imports['package_ms'][name]:.0f} ms)" if name in
                      imports["package_ms"] else ("yes" if seen else "no"))
        for name, seen in imports["imported"].items()))
    print()

    check_record_count()
    print(f"(b) streaming `step --json --steps N --hidden 3` (gru + lstm, {RECORDS_PER_STEP} "
          "records a step, float64) to /dev/null")
    print(f"    {'steps':>9}  {'records':>9}  {'wall s':>7}  {'records/s':>9}  "
          f"{'peak RSS MB':>11}  target")
    peaks = []
    for steps in lengths:
        row = stream(steps)
        peaks.append(row["peak_rss_mb"])
        print(f"    {row['steps']:>9}  {row['records']:>9}  {row['wall_s']:7.2f}  "
              f"{row['records_per_s']:9.0f}  {row['peak_rss_mb']:11.1f}  "
              f"{row['target']}: {verdict(row['met'])}", flush=True)
    print(f"    peak RSS at {lengths[1]:,} steps / at {lengths[0]:,} steps = "
          f"{peaks[1] / peaks[0]:.2f} (1.00 is constant memory)")
    print()
    print(f"load average at the end {os.getloadavg()[0]:.2f} (figures are noisy above ~0.5 "
          "on a 2-core machine)")


if __name__ == "__main__":
    main()
