"""The app seen from outside: start-up, key-press latency and bytes per step, through a pty.

    python benchmarks/app.py                    # the full run, about two minutes
    python benchmarks/app.py --quick            # a smoke run, about 20 seconds
    python benchmarks/app.py --against main     # this tree and another commit side by side

With --against REF, the same figures are measured for the package as it is at REF (exported
with `git archive`, run from a temporary folder on PYTHONPATH, with this interpreter and its
libraries), interleaved with this tree's, so both see the same load: before and after, in one
run. A summary then puts the issue's targets side by side.

Every figure is measured on a real ``python -m gru_tui`` process whose stdin, stdout and
stderr are the slave end of a pseudo-terminal (TERM=xterm-256color, window size set with
TIOCSWINSZ before the start), read from the master end, exactly as a terminal would:

(1) Time to first frame: from spawn until the bytes read contain the status bar's
    "t = 1 /", median of several runs, next to ``python -c "import textual.app"``.
(2) Key press → first byte: with the app up and idle, write → ("\\x1b[C") to the master and
    time until the first byte of the answer; then read until 30 ms pass in silence; ← next,
    so t stays in range. p50 / p95 / max, the time to the last byte of the answer, and the
    app's own CPU time per key (from /proc), the figure other load changes least.
(3) Bytes per step: everything the app writes after one key, until silence (output that
    comes within 150 ms more still counts for that key, and never for the next one).

Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import os
import platform
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field

PYTHON = sys.executable
APP = (PYTHON, "-m", "gru_tui")
IMPORT_TEXTUAL = (PYTHON, "-c", "import textual.app")
READY = b"t = 1 /"  # the status bar's step counter: the first frame is on screen
RIGHT, LEFT = b"\x1b[C", b"\x1b[D"
QUIET_S = 0.030  # silence that ends an answer
GUARD_S = 0.150  # then this much more silence before the next key; bytes in it are late
SETTLE_S = 0.5  # silence that counts as idle after start-up
MAX_STARTUP_RATIO = 3.0  # first frame / import textual.app
MAX_P95_MS = 30.0  # key → first byte, at 80×24 and at 200×60 with H = 256
MAX_STEP_BYTES = 4096  # at 80×24
SIZES = ((80, 24), (200, 60))
# Where the apps run: `python -m` puts the working directory first on sys.path, and a
# checkout there would shadow the build on PYTHONPATH.
NEUTRAL = tempfile.gettempdir()
HIDDEN = (3, 256)


@dataclass(frozen=True)
class Build:
    """The package measured: this tree (no path), or another commit's exported to `path`."""

    name: str
    path: str | None = None


def export(ref: str) -> Build:
    """The package as it is at git `ref`, in a temporary folder (removed at exit)."""
    root = subprocess.run(("git", "rev-parse", "--show-toplevel"), check=True,
                          capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(("git", "rev-parse", "--short", ref), check=True, cwd=root,
                            capture_output=True, text=True).stdout.strip()
    folder = tempfile.mkdtemp(prefix="gru-tui-bench-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    archive = subprocess.run(("git", "archive", commit, "gru_tui"), check=True, cwd=root,
                             capture_output=True).stdout
    subprocess.run(("tar", "-x", "-C", folder), input=archive, check=True)
    return Build(f"{ref} ({commit})", folder)


def _environment(build: Build | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("NO_COLOR", "TEXTUAL_THEME", "FORCE_COLOR", "COLUMNS", "LINES", "COLORTERM",
                 "TEXTUAL", "TEXTUAL_DEBUG", "PYTHONPATH"):
        env.pop(name, None)
    env["TERM"] = "xterm-256color"
    if build is not None and build.path:
        env["PYTHONPATH"] = build.path  # ahead of the installed (editable) package
    return env


def _controlling_terminal() -> None:  # in the child, after setsid: the pty becomes its tty
    with contextlib.suppress(OSError):
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclass
class PtyApp:
    """One run of the app on a pseudo-terminal of `cols`×`rows`."""

    args: tuple[str, ...] = ()
    cols: int = 80
    rows: int = 24
    build: Build | None = None
    started: float = 0.0
    process: subprocess.Popen | None = None
    master: int = -1
    output: bytearray = field(default_factory=bytearray)

    def __enter__(self) -> PtyApp:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        self.master = master
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            (*APP, *self.args), stdin=slave, stdout=slave, stderr=slave,
            env=_environment(self.build), cwd=NEUTRAL,
            start_new_session=True, preexec_fn=_controlling_terminal, close_fds=True)
        os.close(slave)
        return self

    def __exit__(self, *exc) -> None:
        self.quit()

    def _read(self, timeout: float) -> bytes:
        """What the app wrote within `timeout` seconds; b"" on silence or exit."""
        ready, _, _ = select.select([self.master], [], [], max(timeout, 0.0))
        if not ready:
            return b""
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:  # EIO: the child closed the slave end
            return b""
        self.output += data
        return data

    def wait_for(self, needle: bytes, timeout: float = 30.0) -> float:
        """Seconds from spawn until `needle` has been read."""
        deadline = time.perf_counter() + timeout
        searched = 0
        while time.perf_counter() < deadline:
            if self._read(deadline - time.perf_counter()):
                if self.output.find(needle, max(searched - len(needle), 0)) >= 0:
                    return time.perf_counter() - self.started
                searched = len(self.output)
            elif self.process and self.process.poll() is not None:
                break
        tail = bytes(self.output[-2000:]).decode(errors="replace")
        raise SystemExit(f"no {needle!r} from {' '.join(APP + self.args)} within "
                         f"{timeout:g} s; last output:\n{tail}")

    def drain(self, quiet: float = QUIET_S, limit: float = 10.0) -> tuple[int, float]:
        """(bytes, time of the last one) read until `quiet` seconds pass without output."""
        count, last = 0, time.perf_counter()
        stop = last + limit
        while time.perf_counter() < stop:
            data = self._read(quiet)
            if not data:
                break
            count += len(data)
            last = time.perf_counter()
        return count, last

    def press(self, key: bytes) -> tuple[float, float, int, bytes]:
        """(seconds to the first byte, to the last byte, bytes, the answer) for one key."""
        mark = len(self.output)
        os.write(self.master, key)
        sent = time.perf_counter()
        first = self._read(5.0)
        if not first:
            raise SystemExit(f"no answer to {key!r} within 5 s")
        first_at = time.perf_counter()
        rest, last_at = self.drain()
        return first_at - sent, max(last_at, first_at) - sent, len(first) + rest, \
            bytes(self.output[mark:])

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the app has used so far (Linux: /proc), else None."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:  # type: ignore[union-attr]
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def quit(self) -> None:
        """Send q and wait for a clean exit; kill the process group if it does not come."""
        process = self.process
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.poll() is None:
                os.write(self.master, b"q")
        deadline = time.perf_counter() + 5.0
        while process.poll() is None and time.perf_counter() < deadline:
            self._read(0.05)  # keep reading: a full pty would block the app's last writes
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(self.master)
        self.process = None


# -- (1) time to first frame ------------------------------------------------------------------


def first_frame(build: Build) -> float:
    with PtyApp(build=build) as app:
        return app.wait_for(READY)


def import_textual() -> float:
    start = time.perf_counter()
    subprocess.run(IMPORT_TEXTUAL, check=True, stdout=subprocess.DEVNULL, env=_environment(),
                   cwd=NEUTRAL)
    return time.perf_counter() - start


def startup(runs: int, builds: list[Build]) -> dict[str, dict]:
    """For every build: the first frame's median and minimum over `runs`, interleaved with
    each other and with bare `import textual.app`, so drifts in load hit all alike."""
    for build in builds:
        first_frame(build)  # warm the file cache and the .pyc files
    import_textual()
    frames: dict[str, list[float]] = {build.name: [] for build in builds}
    imports = []
    for _ in range(runs):
        for build in builds:
            frames[build.name].append(first_frame(build))
        imports.append(import_textual())
    base = statistics.median(imports)
    results = {}
    for name, times in frames.items():
        frame = statistics.median(times)
        results[name] = {"runs": runs, "frame_s": frame, "frame_min_s": min(times),
                         "import_s": base, "import_min_s": min(imports),
                         "ratio": frame / base, "met": frame / base <= MAX_STARTUP_RATIO}
    return results


# -- (2) and (3) key presses -----------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(round(q / 100 * (len(ordered) - 1)), len(ordered) - 1)
    return ordered[index]


def keys(cols: int, rows: int, hidden: int, presses: int, memory: bool = False,
         build: Build | None = None) -> dict:
    args = ("--hidden", str(hidden)) if hidden != 3 else ()
    with PtyApp(args, cols, rows, build) as app:
        app.wait_for(READY)
        app.drain(quiet=SETTLE_S)  # the rest of start-up: idle from here
        if memory:  # the memory panel on (m), its first profile drawn
            os.write(app.master, b"m")
            app.wait_for(b"at t = 1")
            app.drain(quiet=SETTLE_S)
        idle, _ = app.drain(quiet=1.0, limit=1.0)  # should be silent
        firsts, lasts, sizes, unseen, late = [], [], [], 0, 0
        cpu_before = app.cpu_seconds()
        for k in range(presses):
            right = k % 2 == 0
            mark = len(app.output)
            first, last, size, _ = app.press(RIGHT if right else LEFT)
            # Output after the 30 ms silence still belongs to this key (a second frame on
            # a loaded machine): count it here, and never let it pass for the next answer.
            extra, _ = app.drain(quiet=GUARD_S)
            late += extra > 0
            firsts.append(first * 1000)
            lasts.append(last * 1000)
            sizes.append(size + extra)
            if (b"t = 2 /" if right else b"t = 1 /") not in app.output[mark:]:
                unseen += 1  # the step counter did not change: the key was not applied
        cpu_after = app.cpu_seconds()
    cpu = None if cpu_before is None or cpu_after is None else \
        (cpu_after - cpu_before) / presses * 1000
    return {
        "cols": cols, "rows": rows, "hidden": hidden, "presses": presses, "memory": memory,
        "p50": percentile(firsts, 50), "p95": percentile(firsts, 95), "max": max(firsts),
        "last_p50": percentile(lasts, 50), "last_p95": percentile(lasts, 95),
        "bytes_mean": statistics.fmean(sizes), "bytes_max": max(sizes),
        "idle_bytes": idle, "unseen": unseen, "late": late, "cpu_ms": cpu,
        "met": percentile(firsts, 95) <= MAX_P95_MS if (cols, rows, hidden, memory) in (
            (80, 24, 3, False), (200, 60, 256, False)) else None,
        "bytes_met": max(sizes) <= MAX_STEP_BYTES if (cols, rows) == (80, 24) else None,
        "build": build.name if build else "",
    }


def cpu_text(ms: float | None) -> str:
    return "n/a" if ms is None else f"{ms:.1f}"


def verdict(met: bool | None) -> str:
    return "—" if met is None else ("ok" if met else "MISSED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3 start-ups, 20 key presses per configuration")
    parser.add_argument("--against", metavar="REF",
                        help="measure the package at this git commit too, side by side")
    args = parser.parse_args()
    runs, presses = (3, 20) if args.quick else (7, 100)
    builds = [*([export(args.against)] if args.against else []), Build("this tree")]

    import textual  # only for its version, in this process

    print(f"gru-tui app benchmark: python {platform.python_version()} ({PYTHON}), textual "
          f"{textual.__version__}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}")
    print("through a pty, TERM=xterm-256color; builds: " + ", ".join(b.name for b in builds))
    print()
    print(f"(1) time to first frame (\"t = 1 /\" read), 80×24, median of {runs} interleaved "
          "runs (min in brackets)")
    started = startup(runs, builds)
    for build in builds:
        result = started[build.name]
        print(f"    {'gru-tui, ' + build.name:<31} {result['frame_s'] * 1000:7.1f} ms  "
              f"({result['frame_min_s'] * 1000:.1f})   {result['ratio']:.2f}× import   target "
              f"≤ {MAX_STARTUP_RATIO:g}×: {verdict(result['met'])}")
    some, bare = started[builds[0].name], "python -c 'import textual.app'"
    print(f"    {bare:<31} {some['import_s'] * 1000:7.1f} ms  ({some['import_min_s'] * 1000:.1f})")
    print()
    print(f"(2) key → first byte in ms, {presses} presses alternating → / ←, each answer read "
          f"until {QUIET_S * 1000:g} ms of silence (target p95 ≤ {MAX_P95_MS:g} ms at 80×24 "
          "and at 200×60 with H = 256)")
    print(f"(3) bytes written per step (target ≤ {MAX_STEP_BYTES} at 80×24)")
    header = ("size", "H", "build", "p50", "p95", "max", "last p50", "last p95", "cpu/key",
              "bytes mean", "bytes max")
    widths = (7, 6, 20, 6, 6, 6, 8, 8, 7, 10, 9)
    print("    " + "  ".join(f"{name:>{width}}" for name, width in zip(header, widths,
                                                                      strict=True))
          + "  p95     bytes")
    rows = []
    configurations = [(size, hidden, False) for size in SIZES for hidden in HIDDEN]
    configurations += [(size, hidden, True) for size in SIZES for hidden in HIDDEN]
    for (cols, lines), hidden, memory in configurations:
        for build in builds:  # one configuration for every build before the next one
            row = keys(cols, lines, hidden, presses, memory, build)
            rows.append(row)
            cells = (f"{cols}×{lines}", f"{hidden}{'+m' if memory else ''}", build.name[:20],
                     f"{row['p50']:.1f}", f"{row['p95']:.1f}", f"{row['max']:.1f}",
                     f"{row['last_p50']:.1f}", f"{row['last_p95']:.1f}",
                     cpu_text(row["cpu_ms"]), f"{row['bytes_mean']:.0f}", row["bytes_max"])
            print("    " + "  ".join(f"{cell:>{width}}" for cell, width in zip(cells, widths,
                                                                              strict=True))
                  + f"  {verdict(row['met']):<6}  {verdict(row['bytes_met'])}", flush=True)
    print("    H+m: with the memory panel open (m), whose profile a step reuses")
    print("    last: key → the last byte of the answer; cpu/key: the app's own user + system")
    print("    CPU ms per key (from /proc), which other load on the machine barely changes")
    for row in rows:
        where = f"{row['cols']}×{row['rows']}, H = {row['hidden']}, {row['build']}"
        if row["unseen"]:
            print(f"    warning: {row['unseen']} of {row['presses']} answers at {where} did "
                  "not show the new step counter")
        if row["late"]:
            print(f"    note: {row['late']} of {row['presses']} answers at {where} went on "
                  f"after {QUIET_S * 1000:g} ms of silence (in the bytes, not in last)")
        if row["idle_bytes"]:
            print(f"    note: {row['idle_bytes']} bytes written in 1 s of idling at {where}")
    print()
    summary(builds, started, rows)
    print()
    print(f"load average at the end {os.getloadavg()[0]:.2f} (figures are noisy above ~0.5 "
          "on a 2-core machine)")


def summary(builds: list[Build], started: dict[str, dict], rows: list[dict]) -> None:
    """The issue's targets, every build side by side."""
    def row(cols: int, lines: int, hidden: int, build: Build) -> dict:
        return next(r for r in rows if (r["cols"], r["rows"], r["hidden"], r["memory"],
                                        r["build"]) == (cols, lines, hidden, False, build.name))

    figures = [
        ("bytes per step, 80×24 (max)", f"≤ {MAX_STEP_BYTES}",
         lambda b: f"{row(80, 24, 3, b)['bytes_max']}"),
        ("key → first byte p95, 80×24", f"≤ {MAX_P95_MS:g} ms",
         lambda b: f"{row(80, 24, 3, b)['p95']:.1f} ms"),
        ("key → first byte p95, 200×60, H = 256", f"≤ {MAX_P95_MS:g} ms",
         lambda b: f"{row(200, 60, 256, b)['p95']:.1f} ms"),
        ("  (last byte p95, 200×60, H = 256)", "",
         lambda b: f"{row(200, 60, 256, b)['last_p95']:.1f} ms"),
        ("  (app CPU per key, 200×60, H = 256)", "",
         lambda b: f"{cpu_text(row(200, 60, 256, b)['cpu_ms'])} ms"),
        ("first frame / import textual.app", f"≤ {MAX_STARTUP_RATIO:g}×",
         lambda b: f"{started[b.name]['ratio']:.2f}×"),
    ]
    print("summary: the issue's targets")
    print(f"    {'':<40} {'target':>9}  " + "  ".join(f"{b.name[:20]:>20}" for b in builds))
    for name, target, value in figures:
        print(f"    {name:<40} {target:>9}  " + "  ".join(f"{value(b):>20}" for b in builds))


if __name__ == "__main__":
    main()
