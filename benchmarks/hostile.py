"""What a hostile student or a fuzzer costs the teacher's machine, in figures.

    python benchmarks/hostile.py            # about three minutes
    python benchmarks/hostile.py --quick    # fewer connections and bytes, rough figures

(1) Endless and blocking sources through `gru-tui step --json`: exit code, wall time and the
    process's peak RSS for --inputs /dev/zero, a FIFO nobody writes, a FIFO with an endless
    writer, `-` fed from /dev/zero, a sparse 3 GiB session file, and a .npy declaring 2^40
    rows.
(2) `serve ssh`, one student (asyncssh's client on a pty): the app's peak RSS at 80×24, and
    after a window-change to 100000×100000 (the app gets 1000×500); then the server's peak
    RSS while the student sends 64 MiB of keys as fast as SSH lets them through, how much got
    through in that time, and the server's log line.
(3) `serve ssh` with RLIMIT_NOFILE 256 and 300 idle TCP connections from 127.0.0.2: how long a
    student from 127.0.0.1 waits for the app's first byte, and how many log lines the flood
    cost.
(4) `serve web` and 150 half-sent HTTP requests: how many are still open 12 s later.

Figures only: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncssh

ROOT = Path(__file__).resolve().parents[1]
BANNER = re.compile(r"SSH server on 127\.0\.0\.1:(\d+)")
WEB_URL = re.compile(r"students open (http://\S+)")


def peak_kb(pid: int) -> int:
    """VmHWM of a process, in kB (0 once it is gone)."""
    try:
        return int(re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())[1])
    except (OSError, TypeError):
        return 0


def timed_cli(*args: str, stdin=subprocess.DEVNULL) -> tuple[int, float, int, str]:
    """(exit code, seconds, peak RSS in MiB, stderr's first line) of one gru-tui command."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "gru_tui", *args], stdin=stdin,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    stderr = process.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    line = (stderr.splitlines() or [""])[0]
    return process.returncode, time.monotonic() - started, usage.ru_maxrss // 1024, line


def sources(folder: Path) -> None:
    print("(1) endless and blocking sources: gru-tui step --json")
    print(f"    {'source':34} {'exit':>4} {'seconds':>8} {'peak MiB':>9}  message")
    fifo, endless = folder / "fifo", folder / "endless"
    os.mkfifo(fifo)
    os.mkfifo(endless)
    writer = subprocess.Popen(["sh", "-c", f"yes 1,2,3 > {endless}"])
    sparse = folder / "sparse.json"
    with sparse.open("wb") as file:
        file.truncate(3 << 30)
    huge = folder / "huge.npy"
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 3), }"
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    huge.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)
    cases = [("--inputs /dev/zero", ["--inputs", "/dev/zero"]),
             ("--inputs FIFO without a writer", ["--inputs", str(fifo)]),
             ("--inputs FIFO, endless writer", ["--inputs", str(endless)]),
             ("--inputs - from /dev/zero", ["--inputs", "-"]),
             ("--session sparse 3 GiB", ["--session", str(sparse)]),
             ("--inputs .npy of 2^40 rows", ["--inputs", str(huge)])]
    with open("/dev/zero", "rb") as zeros:
        for name, args in cases:
            code, seconds, peak, line = timed_cli("step", "--json", *args, stdin=zeros)
            print(f"    {name:34} {code:>4} {seconds:>8.2f} {peak:>9}  {line[16:90]}")
    writer.kill()
    with open(os.open(endless, os.O_RDONLY | os.O_NONBLOCK), "rb"):
        pass
    writer.wait()


def start_ssh(folder: Path, limit_files: int | None = None) -> tuple[subprocess.Popen, int, Path]:
    log = folder / f"ssh-{time.monotonic_ns()}.log"
    limit = None if limit_files is None else lambda: resource.setrlimit(
        resource.RLIMIT_NOFILE, (limit_files, limit_files))
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gru_tui", "serve", "ssh", "--host", "127.0.0.1", "--port",
             "0", "--open", "--host-key", str(folder / "host_key")], cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=limit)
    while not (match := BANNER.search(log.read_text(errors="replace"))):
        time.sleep(0.1)
    return server, int(match[1]), log


def app_of(server: subprocess.Popen) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == server.pid:
                    return int(entry.name)
            except OSError:
                continue
    return 0


async def one_student(port: int, flood_bytes: int, server: subprocess.Popen) -> None:
    async with asyncssh.connect("127.0.0.1", port, known_hosts=None, username="student",
                                client_keys=None) as conn:
        process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24),
                                            encoding=None)
        await process.stdout.readuntil(b"t = 1 /")
        app = app_of(server)
        small = peak_kb(app)
        process.change_terminal_size(100_000, 100_000)
        await asyncio.wait_for(process.stdout.read(1 << 16), 60)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and peak_kb(app) <= small:  # the redraw at 1000×500
            await asyncio.sleep(0.2)
        print(f"    app peak RSS at 80×24: {small / 1024:.0f} MiB; after a window-change to "
              f"100000×100000 (1000×500 given): {peak_kb(app) / 1024:.0f} MiB")
        process.change_terminal_size(80, 24)
        before = peak_kb(server.pid)
        sent, chunk = 0, b"j" * 65536
        started = time.monotonic()
        while sent < flood_bytes and time.monotonic() - started < 20:
            process.stdin.write(chunk)
            await process.stdin.drain()  # SSH's flow control: waits while the server pauses
            sent += len(chunk)
        elapsed = time.monotonic() - started
        print(f"    a flood of keys: {sent / 2**20:.0f} MiB through in {elapsed:.1f} s; the "
              f"server's peak RSS {before / 1024:.0f} → {peak_kb(server.pid) / 1024:.0f} MiB")
        process.close()


def ssh_student(folder: Path, quick: bool) -> None:
    print("(2) serve ssh: one student's window and keys")
    server, port, log = start_ssh(folder)
    try:
        asyncio.run(one_student(port, (16 if quick else 64) << 20, server))
        lines = [line for line in log.read_text().splitlines() if "slowed" in line]
        print(f"    log: {lines[0].split(': ', 1)[1] if lines else '(no slowed line)'}")
    finally:
        server.terminate()
        server.wait()


async def first_byte(port: int) -> float:
    started = time.monotonic()
    async with asyncssh.connect("127.0.0.1", port, known_hosts=None, username="student",
                                client_keys=None, connect_timeout=60) as conn:
        process = await conn.create_process(term_type="xterm", term_size=(80, 24),
                                            encoding=None)
        await process.stdout.read(1)
        process.close()
    return time.monotonic() - started


def login_flood(folder: Path, quick: bool) -> None:
    count = 100 if quick else 300
    print(f"(3) serve ssh, RLIMIT_NOFILE 256, {count} idle connections from 127.0.0.2")
    server, port, log = start_ssh(folder, limit_files=256)
    idle = []
    try:
        quiet = asyncio.run(first_byte(port))
        lines_before = len(log.read_text().splitlines())
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.2", 0))
            sock.connect(("127.0.0.1", port))
            idle.append(sock)
        try:
            flooded = f"{asyncio.run(first_byte(port)):.2f} s"
        except (OSError, asyncssh.Error, TimeoutError) as error:
            flooded = f"locked out ({type(error).__name__})"
        lines = [line for line in log.read_text().splitlines()[lines_before:]
                 if "refus" in line or "error" in line]  # not the student's own lines
        print(f"    a student's first byte: {quiet:.2f} s quiet, {flooded} during the flood; "
              f"{len(lines)} log line(s) for the flood")
    finally:
        for sock in idle:
            sock.close()
        server.terminate()
        server.wait()


def half_sent_requests(quick: bool) -> None:
    count = 50 if quick else 150
    print(f"(4) serve web, {count} half-sent HTTP requests")
    server = subprocess.Popen([sys.executable, "-m", "gru_tui", "serve", "web", "--port", "0"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        url = WEB_URL.search(server.stdout.readline())[1]
        port = int(url.rsplit(":", 1)[1])
        socks = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sock.setblocking(False)
            socks.append(sock)
        started = time.monotonic()
        time.sleep(12)
        still_open = 0
        for sock in socks:
            try:
                still_open += sock.recv(1) != b""
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
            sock.close()
        print(f"    still open {time.monotonic() - started:.0f} s later: {still_open} of "
              f"{count}")
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    print(f"load average {os.getloadavg()[0]:.2f}; {sys.executable}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        sources(folder)
        ssh_student(folder, quick)
        login_flood(folder, quick)
    half_sent_requests(quick)


if __name__ == "__main__":
    main()
