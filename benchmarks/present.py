"""Presenter mode under a class: `gru-tui serve ssh --present` with 30 following students.

    python benchmarks/present.py              # 30 followers, 40 keys, 3 rounds: 2–3 minutes
    python benchmarks/present.py --quick      # 10 followers, 12 keys, 2 rounds: smoke run
    python benchmarks/present.py --followers 40 --keys 60

The server is the real `python -m gru_tui serve ssh --present --open` (a temporary host key,
127.0.0.1) on a pseudo-terminal of 100×30 that this script reads as the teacher's terminal
(serve/pty_app.PtyApp runs it). The students are asyncssh client sessions with an 80×24 pty
each (serve_ssh.py's), every one following the teacher; they run in a process of their own,
so that reading 30 sessions never delays the reading of the teacher's terminal. Both
processes time with the system's monotonic clock.

(1) Teacher key → a follower's first byte: the teacher presses → then ← (t stays in range),
    one key every 0.5–1.0 s, each once every terminal has been quiet for 30 ms; for every
    key and every follower, the time from writing the key to the teacher's terminal until
    the first byte of that follower's answer. p50 / p95 / max over all keys and followers.
    Target: p95 ≤ 150 ms with 30 followers on a 2-core machine.
(2) The teacher's own key → first byte on the teacher's terminal, over such paced keys,
    first with no student connected, then with the followers of (1). Target: with 30
    followers within 1.2× of none (p95; p50 printed too).
(3) Server memory: the server process's RSS (the teacher's app is its child, not counted)
    after start-up and after each of 3 rounds of 30 students joining, following a few steps
    and leaving (connections dropped). Flat = no leak.

Figures only: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncssh
from serve_ssh import Student, children, connect, rss_kb, summary

from gru_tui.serve.pty_app import PtyApp

ROOT = Path(__file__).resolve().parents[1]
RIGHT, LEFT = b"\x1b[C", b"\x1b[D"
BANNER = re.compile(r"SSH server on 127\.0\.0\.1:(\d+)")
FOLLOWING = b"following the teacher"
QUIET_S = 0.03
ANSWER_S = 5.0  # a key not answered by then counts as unanswered


def now() -> float:
    """Seconds on the monotonic clock both processes share."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


async def quiet(*last_bytes) -> None:
    """Until nothing has been written for QUIET_S (`last_bytes` give the last times)."""
    while now() - max(last() for last in last_bytes) < QUIET_S:
        await asyncio.sleep(QUIET_S / 3)


# -- the class: a process of its own --------------------------------------------------------


class Follower(Student):
    """A student's session: the end of what it was sent, and when it came, by the shared
    clock."""

    def __init__(self) -> None:
        super().__init__()
        self.screen = bytearray()
        self.first: asyncio.Future[float] | None = None
        self.last = 0.0

    def data_received(self, data: bytes, datatype) -> None:
        self.last = now()
        self.screen = (self.screen + data)[-20_000:]
        if self.first is not None and not self.first.done():
            self.first.set_result(self.last)


async def a_class(port: int, count: int) -> None:
    """Connect `count` followers, then answer the benchmark's requests on stdin: "quiet"
    (once all have been, the next first bytes are watched), "sent TIME" (each one's first
    byte after TIME, as JSON), "leave"."""
    clients = await asyncio.gather(*(connect(port, Follower) for _ in range(count)))
    followers = [student for _, _, student in clients]
    while not all(FOLLOWING in f.screen for f in followers):
        await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    say = lambda text: print(text, flush=True)  # noqa: E731
    say("up")
    while request := (await reader.readline()).decode().split():
        if request[0] == "quiet":
            await quiet(*(lambda f=f: f.last for f in followers))
            for follower in followers:
                follower.first = loop.create_future()
            say("ready")
        elif request[0] == "sent":
            sent = float(request[1])
            done, _ = await asyncio.wait([f.first for f in followers], timeout=ANSWER_S)
            say(json.dumps([f.first.result() - sent if f.first in done else None
                            for f in followers]))
        else:
            break
    for conn, _, _ in clients:
        conn.close()


# -- the teacher ----------------------------------------------------------------------------


class Teacher:
    """The server on a pty: the teacher's terminal, and when it last wrote."""

    def __init__(self, folder: Path) -> None:
        self.log = folder / "server.log"
        env = dict(os.environ, HOME=str(folder), XDG_DATA_HOME=str(folder / "data"),
                   TERM="xterm-256color")
        for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TEXTUAL_THEME"):
            env.pop(name, None)
        command = [sys.executable, "-m", "gru_tui", "serve", "ssh", "--host", "127.0.0.1",
                   "--port", "0", "--open", "--max-sessions", "100", "--idle-timeout", "0",
                   "--present", "--log", str(self.log), "--", "--preset", "sine", "--steps",
                   "40"]
        self.pty = PtyApp(command, env, 100, 30, self._output, lambda status: None)
        self.last = 0.0
        self.first: asyncio.Future[float] | None = None
        self.screen = bytearray()

    def _output(self, data: bytes) -> None:
        self.last = now()
        self.screen = (self.screen + data)[-20_000:]
        if self.first is not None and not self.first.done():
            self.first.set_result(self.last)

    async def start(self) -> int:
        await self.pty.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace") if self.log.exists() else ""
            if (match := BANNER.search(text)) and b"0 following" in self.screen:
                return int(match[1])
            await asyncio.sleep(0.1)
        raise SystemExit(f"the server did not start:\n{self.log.read_text(errors='replace')}")


class Class:
    """The followers' process, as the teacher's side sees it."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count

    async def join(self) -> float:
        started = now()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--class-of", str(self.count), "--port", str(self.port),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        await self.read()  # "up": every one follows
        return now() - started

    async def read(self) -> str:
        return (await asyncio.wait_for(self.process.stdout.readline(), 300)).decode()

    async def ask(self, request: str) -> str:
        self.process.stdin.write(request.encode() + b"\n")
        await self.process.stdin.drain()
        return await self.read()

    async def leave(self) -> None:
        self.process.stdin.write(b"leave\n")
        await self.process.stdin.drain()
        await self.process.wait()


async def paced(teacher: Teacher, keys: int, rng: random.Random, pupils: Class | None = None):
    """The teacher's own first bytes, and every follower's, for `keys` paced keys."""
    own: list[float | None] = []
    followers: list[float | None] = []
    loop = asyncio.get_running_loop()
    for index in range(keys):
        await asyncio.sleep(rng.uniform(0.5, 1.0))
        await quiet(lambda: teacher.last)
        if pupils is not None:
            await pupils.ask("quiet")
        teacher.first = loop.create_future()
        sent = now()
        teacher.pty.write(RIGHT if index % 2 == 0 else LEFT)
        try:
            own.append(await asyncio.wait_for(teacher.first, ANSWER_S) - sent)
        except TimeoutError:
            own.append(None)
        if pupils is not None:
            followers.extend(json.loads(await pupils.ask(f"sent {sent!r}")))
    return own, followers


def cpu_s(pid: int) -> float:
    """The user + system CPU time a process has used (Linux /proc), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(times: list[float | None], at: float) -> float:
    answered = sorted(t for t in times if t is not None)
    return answered[min(len(answered) - 1, int(at * len(answered)))]


async def benchmark(args: argparse.Namespace) -> None:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        teacher = Teacher(Path(tmp))
        port = await teacher.start()
        server = teacher.pty.pid
        try:
            await asyncio.sleep(1.0)
            (teacher_app,) = children(server)
            start_mb = rss_kb(server) / 1024
            alone, _ = await paced(teacher, args.keys, rng)
            print(summary("teacher's key → teacher's first byte, no students", alone))
            memory = []
            for number in range(1, args.rounds + 1):
                pupils = Class(port, args.followers)
                up = await pupils.join()
                if number == 1:
                    pids = [server, *children(server)]
                    before = [cpu_s(pid) for pid in pids]
                    own, followers = await paced(teacher, args.keys, rng, pupils)
                    used = [(cpu_s(pid) - was) * 1000 / args.keys
                            for pid, was in zip(pids, before, strict=True)]
                    apps = [ms for pid, ms in zip(pids[1:], used[1:], strict=True)
                            if pid != teacher_app]
                    print(summary(f"teacher's key → teacher's first byte, "
                                  f"{args.followers} followers", own))
                    print(summary(f"teacher's key → a follower's first byte, "
                                  f"{args.followers} followers", followers))
                    print(f"CPU per key: the teacher's app {used[pids.index(teacher_app)]:.1f} "
                          f"ms, the server {used[0]:.1f} ms, a follower's app "
                          f"{statistics.mean(apps):.1f} ms (max {max(apps):.1f}), all "
                          f"{sum(used):.0f} ms")
                    hwm = [rss_kb(pid, "VmHWM") / 1024 for pid in children(server)
                           if pid != teacher_app]
                    print(f"peak RSS per follower's app: mean {statistics.mean(hwm):.1f} MB, "
                          f"max {max(hwm):.1f} MB")
                else:
                    await paced(teacher, 4, rng, pupils)
                await pupils.leave()
                deadline = time.monotonic() + 30
                while len(children(server)) > 1 and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                await asyncio.sleep(1.0)
                memory.append(rss_kb(server) / 1024)
                print(f"round {number}: {args.followers} followers up in {up:.1f} s, all "
                      f"dropped; apps left {len(children(server)) - 1}; server RSS "
                      f"{memory[-1]:.1f} MB")
            print()
            print(f"server RSS: start {start_mb:.1f} MB, after rounds "
                  f"{', '.join(f'{mb:.1f}' for mb in memory)} MB")
            p95 = percentile(followers, 0.95) * 1000
            print(f"target follower p95 ≤ 150 ms: {'meets' if p95 <= 150 else 'MISSES'} "
                  f"({p95:.1f} ms)")
            ratios = {at: percentile(own, at) / percentile(alone, at) for at in (0.5, 0.95)}
            print(f"teacher with {args.followers} followers vs none: p50 {ratios[0.5]:.2f}×, "
                  f"p95 {ratios[0.95]:.2f}× (target ≤ 1.2×)")
        finally:
            await teacher.pty.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=30)
    parser.add_argument("--keys", type=int, default=40, help="paced keys of the teacher")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10 followers, 12 keys, 2 rounds")
    parser.add_argument("--class-of", type=int, help=argparse.SUPPRESS)  # the class' process
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.class_of:
        asyncio.run(a_class(args.port, args.class_of))
        return
    if args.quick:
        args.followers, args.keys, args.rounds = 10, 12, 2
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"gru-tui serve ssh --present benchmark: {args.followers} followers, {args.keys} "
          f"paced keys, {args.rounds} rounds; {os.cpu_count()} CPUs, load average "
          f"{load:.2f}; asyncssh {asyncssh.__version__}, Python {sys.version.split()[0]}")
    asyncio.run(benchmark(args))


if __name__ == "__main__":
    main()
