"""`gru-tui serve ssh` under a class: many concurrent SSH sessions, each stepping.

    python benchmarks/serve_ssh.py              # 30 sessions, 3 rounds, about 2 minutes
    python benchmarks/serve_ssh.py --quick      # 10 sessions, smoke run
    python benchmarks/serve_ssh.py --sessions 40 --keys 30

The server is the real `python -m gru_tui serve ssh` (with --open and a temporary host key,
on 127.0.0.1), the clients are asyncssh's (the load is the server's and the apps', not
OpenSSH's), each asking for a pty of 80×24 and a shell, as `ssh -t` does.

(1) Key → first byte: every session presses → then ← (so t stays in range) at random
    moments, one key every 0.5–1.5 s per session (a class stepping through the example), and
    times each key until the first byte of the answer reaches the client; p50 / p95 / max
    over all keys of all sessions. Then a burst: every session presses → at the same moment,
    the worst case. Target (issue 6): p95 ≤ 100 ms in the paced run.
(2) Peak RSS per session: VmHWM of every app process (/proc), mean and max.
(3) Server memory: the server process's own RSS after start-up and after each of 3 rounds of
    connect-all / step / disconnect-all (connections dropped, apps ended by the server).
    Flat = no leak.

Figures only: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncssh

ROOT = Path(__file__).resolve().parents[1]
READY = b"t = 1 /"
RIGHT, LEFT = b"\x1b[C", b"\x1b[D"
BANNER = re.compile(r"SSH server on 127\.0\.0\.1:(\d+)")


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


class Student(asyncssh.SSHClientSession):
    """One client session: remembers when output arrives."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.ready = asyncio.Event()
        self.waiting: asyncio.Future[float] | None = None
        self.last_byte = 0.0
        self.closed = asyncio.Event()

    def data_received(self, data: bytes, datatype) -> None:
        now = time.perf_counter()
        self.last_byte = now
        if not self.ready.is_set():
            self.buffer += data
            if READY in self.buffer:
                self.ready.set()
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(now)

    def connection_lost(self, exc) -> None:
        self.closed.set()


async def connect(port: int, session=Student):
    conn = await asyncssh.connect("127.0.0.1", port, username="student", known_hosts=None,
                                  client_keys=None, agent_path=None, config=None,
                                  password=None, preferred_auth="none,publickey")
    chan, student = await conn.create_session(session, term_type="xterm-256color",
                                              term_size=(80, 24), encoding=None)
    return conn, chan, student


async def quiet(student: Student, silence: float = 0.03) -> None:
    while time.perf_counter() - student.last_byte < silence:
        await asyncio.sleep(silence / 3)


async def press(chan, student: Student, key: bytes) -> float | None:
    """Seconds from writing `key` to the first byte of the answer (None: no answer in 5 s)."""
    await quiet(student)
    student.waiting = asyncio.get_running_loop().create_future()
    sent = time.perf_counter()
    chan.write(key)
    try:
        first = await asyncio.wait_for(student.waiting, 5)
    except TimeoutError:
        return None
    return first - sent


async def paced(chan, student: Student, keys: int, rng: random.Random) -> list[float | None]:
    times = []
    for index in range(keys):
        await asyncio.sleep(rng.uniform(0.5, 1.5))
        times.append(await press(chan, student, RIGHT if index % 2 == 0 else LEFT))
    return times


def summary(label: str, times: list[float | None]) -> str:
    answered = sorted(t * 1000 for t in times if t is not None)
    missing = len(times) - len(answered)
    if not answered:
        return f"{label}: no answers"
    p95 = answered[min(len(answered) - 1, int(0.95 * len(answered)))]
    text = (f"{label}: n={len(answered)}  p50 {statistics.median(answered):6.1f} ms  "
            f"p95 {p95:6.1f} ms  max {answered[-1]:6.1f} ms")
    return text + (f"  ({missing} keys unanswered)" if missing else "")


async def round_trip(port: int, server_pid: int, sessions: int, keys: int, measure: bool,
                     rng: random.Random) -> dict:
    started = time.perf_counter()
    clients = await asyncio.gather(*(connect(port) for _ in range(sessions)))
    await asyncio.gather(*(asyncio.wait_for(student.ready.wait(), 120)
                           for _, _, student in clients))
    result: dict = {"all_up_s": time.perf_counter() - started}
    await asyncio.sleep(1.0)  # let the last first frames settle
    if measure:
        runs = await asyncio.gather(*(paced(chan, student, keys, rng)
                                      for _, chan, student in clients))
        result["paced"] = [t for run in runs for t in run]
        await asyncio.sleep(0.5)
        burst = await asyncio.gather(*(press(chan, student, RIGHT) for _, chan, student in clients))
        result["burst"] = list(burst)
        apps = children(server_pid)
        result["hwm_kb"] = [rss_kb(pid, "VmHWM") for pid in apps]
    else:
        await asyncio.gather(*(press(chan, student, RIGHT) for _, chan, student in clients))
    for conn, _, _ in clients:
        conn.close()  # dropped connections: the server ends and reaps every app
    deadline = time.monotonic() + 30
    while children(server_pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    result["left"] = len(children(server_pid))
    await asyncio.sleep(0.5)
    result["server_kb"] = rss_kb(server_pid)
    return result


def start_server(folder: Path, max_sessions: int) -> tuple[subprocess.Popen, int, Path]:
    log = folder / "server.log"
    env = dict(os.environ, HOME=str(folder), XDG_DATA_HOME=str(folder / "data"))
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TEXTUAL_THEME", "COLORTERM"):
        env.pop(name, None)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gru_tui", "serve", "ssh", "--host", "127.0.0.1", "--port",
             "0", "--open", "--max-sessions", str(max_sessions), "--idle-timeout", "0"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = BANNER.search(log.read_text(errors="replace"))
        if match:
            return process, int(match[1]), log
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')}")


async def main_async(args: argparse.Namespace) -> None:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        process, port, _log = start_server(Path(tmp), args.sessions + 5)
        try:
            await asyncio.sleep(1.0)
            before = rss_kb(process.pid)
            print(f"server RSS after start-up: {before / 1024:.1f} MB")
            rounds = []
            for number in range(1, args.rounds + 1):
                result = await round_trip(port, process.pid, args.sessions, args.keys,
                                          number == 1, rng)
                rounds.append(result)
                print(f"round {number}: {args.sessions} sessions up in {result['all_up_s']:.1f} s,"
                      f" all dropped; apps left {result['left']}; server RSS "
                      f"{result['server_kb'] / 1024:.1f} MB")
            first = rounds[0]
            print()
            print(summary(f"key → first byte, paced (1 key / 0.5–1.5 s per session, "
                          f"{args.sessions} sessions)", first["paced"]))
            print(summary(f"key → first byte, burst ({args.sessions} keys at once)",
                          first["burst"]))
            hwm = [kb / 1024 for kb in first["hwm_kb"] if kb]
            if hwm:
                print(f"peak RSS per session (app VmHWM, {len(hwm)} apps): mean "
                      f"{statistics.mean(hwm):.1f} MB, max {max(hwm):.1f} MB, total "
                      f"{sum(hwm):.0f} MB")
            after = [r["server_kb"] / 1024 for r in rounds]
            print(f"server RSS: start {before / 1024:.1f} MB, after rounds "
                  f"{', '.join(f'{mb:.1f}' for mb in after)} MB")
            answered = sorted(t for t in first["paced"] if t is not None)
            if answered:
                p95 = answered[min(len(answered) - 1, int(0.95 * len(answered)))] * 1000
                verdict = "meets" if p95 <= 100 else "MISSES"
                print(f"target p95 ≤ 100 ms (paced): {verdict} ({p95:.1f} ms)")
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--keys", type=int, default=20, help="paced keys per session")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10 sessions, 6 keys, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.sessions, args.keys, args.rounds = 10, 6, 2
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"gru-tui serve ssh benchmark: {args.sessions} sessions, {args.keys} paced keys each, "
          f"{args.rounds} rounds; {os.cpu_count()} CPUs, load average {load:.2f}; "
          f"asyncssh {asyncssh.__version__}, Python {sys.version.split()[0]}")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
