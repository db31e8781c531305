"""`gru-tui serve ssh` seen from outside: the real server in a subprocess, the real OpenSSH
client (`ssh -tt`, `sftp`, `scp`) driven through a pty with pexpect.

The server listens on 127.0.0.1, port 0 (its banner names the port it got), with a host key
and an authorized_keys file in a temporary folder and HOME / XDG_DATA_HOME pointing there, so
nothing of the developer's own ~/.ssh is read or written. Client keys come from
`ssh-keygen -t ed25519 -N ''`.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import resource
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

SSH = shutil.which("ssh")
pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ptys and /proc: Linux only"),
    pytest.mark.skipif(SSH is None, reason="the OpenSSH client (ssh) is not installed: "
                                           "apt-get install openssh-client"),
]
pexpect = pytest.importorskip("pexpect", reason="pexpect drives ssh (the [test] extra)")
pytest.importorskip("asyncssh", reason="asyncssh runs the server (the [serve] extra)")

ROOT = Path(__file__).resolve().parents[2]  # the app runs from here: this checkout's gru_tui
READY = "t = 1 /"  # the status bar's step counter: the app is on screen
RIGHT = "\x1b[C"
STARTUP_S = 60
BANNER = re.compile(r"SSH server on 127\.0\.0\.1:(\d+), host key (SHA256:[A-Za-z0-9+/=]+)")
CLEAN_ENV = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "COLUMNS", "LINES", "TEXTUAL_THEME",
             "COLORTERM", "SSH_AUTH_SOCK", "DISPLAY")


def wait_for(condition: Callable[[], object], timeout: float = 10.0, step: float = 0.05):
    """Poll until `condition()` is truthy; return its value (None on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (zombies included), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Keys:
    alice: Path  # in authorized_keys
    mallory: Path  # not


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    fingerprint: str
    log_path: Path
    home: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, text: str, timeout: float = 10.0) -> bool:
        return bool(wait_for(lambda: text in self.log(), timeout))

    def apps(self) -> list[int]:
        return children(self.process.pid)

    def no_apps_left(self, timeout: float = 10.0) -> bool:
        return bool(wait_for(lambda: not self.apps(), timeout))

    def stop(self, signum: int = signal.SIGINT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def server_env(home: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in CLEAN_ENV}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), PYTHONPATH=str(ROOT))
    return env


def start_server(home: Path, *options: str, app_args: tuple[str, ...] = (),
                 host_key: bool = True, authorized: bool = True, cwd: Path = ROOT,
                 open_files: int | None = None) -> Server:
    """The server in `cwd` (the checkout: where `-m gru_tui` finds it), with at most
    `open_files` file descriptors when given."""
    home.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "gru_tui", "serve", "ssh", "--host", "127.0.0.1",
               "--port", "0"]
    if host_key:
        command += ["--host-key", str(home / "host_key")]
    if authorized:
        command += ["--authorized-keys", str(home / "authorized_keys")]
    command += [*options]
    if app_args:
        command += ["--", *app_args]
    log_path = home / f"server-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log:
        limit = None if open_files is None else lambda: resource.setrlimit(
            resource.RLIMIT_NOFILE, (open_files, open_files))
        process = subprocess.Popen(command, cwd=cwd, env=server_env(home), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=limit)
    match = wait_for(lambda: BANNER.search(log_path.read_text(errors="replace"))
                     or process.poll() is not None, STARTUP_S)
    if not isinstance(match, re.Match):
        process.kill()
        pytest.fail(f"the server did not start:\n{log_path.read_text(errors='replace')}")
    return Server(process, int(match[1]), match[2], log_path, home)


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f",
                    str(path)], check=True, stdin=subprocess.DEVNULL)
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Keys:
    folder = tmp_path_factory.mktemp("client-keys")
    return Keys(keygen(folder / "alice", "alice@laptop"), keygen(folder / "mallory", "mallory"))


def authorize(home: Path, *public_keys: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    text = "# the class\n" + "".join(Path(f"{key}.pub").read_text() for key in public_keys)
    (home / "authorized_keys").write_text(text)


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys) -> Iterator[Server]:
    """The shared server: alice's key authorized, default options."""
    home = tmp_path_factory.mktemp("server")
    authorize(home, keys.alice)
    running = start_server(home)
    yield running
    running.stop()


@pytest.fixture
def own_home(tmp_path, keys) -> Path:
    """A home for a server of the test's own, alice's key authorized."""
    home = tmp_path / "home"
    authorize(home, keys.alice)
    return home


def client_options(server: Server, key: Path, *more: str) -> list[str]:
    """`more` first: for each option, ssh keeps the first value it is given."""
    return [*more, "-F", "/dev/null", "-p", str(server.port), "-i", str(key),
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20"]


def client_env(server: Server, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(server.home),
            "TERM": "xterm-256color", **extra}


def session(server: Server, key: Path, columns: int = 80, rows: int = 24, *more: str,
            env: dict[str, str] | None = None):
    """`ssh -tt` to the server on a pty of columns×rows, as a student's terminal; everything
    it printed is in `child.logfile_read.getvalue()`."""
    child = pexpect.spawn(SSH, ["-tt", *client_options(server, key, *more), "127.0.0.1"],
                          env=env or client_env(server), dimensions=(rows, columns),
                          timeout=30, encoding="utf-8", codec_errors="replace")
    child.logfile_read = io.StringIO()
    return child


def run_ssh(server: Server, key: Path, *args: str, program: str = "ssh",
            timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([program, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=client_env(server))


def ended(child, timeout: float = 20) -> int:
    """Wait for an ssh client to exit; its exit status."""
    child.expect(pexpect.EOF, timeout=timeout)
    child.close()
    return child.exitstatus if child.exitstatus is not None else 128 + child.signalstatus


# ---- a session: the app, keys, resizes, quit -------------------------------------------------


def test_the_app_appears_follows_keys_and_resizes_and_q_closes_the_connection(server, keys):
    child = session(server, keys.alice)
    child.expect_exact(READY)
    child.expect_exact(" / ")  # the rest of the first frame
    child.send(RIGHT)
    child.expect_exact("t = 2 /")
    child.send(RIGHT)
    child.expect_exact("t = 3 /")
    child.setwinsize(12, 50)  # the kernel sends SIGWINCH to ssh, which tells the server
    child.expect_exact("this one is 50×12")
    child.setwinsize(40, 130)
    child.expect_exact("t = 3 /")
    child.send("q")
    assert ended(child) == 0
    assert server.no_apps_left(), server.apps()
    assert server.wait_log("disconnect")
    log = server.log()
    assert re.search(r"\(alice@laptop\) from 127\.0\.0\.1:\d+: connect \(80×24, "
                     r"xterm-256color", log), log
    assert re.search(r"\(alice@laptop\) from 127\.0\.0\.1:\d+: disconnect after \d+s: quit",
                     log), log


def test_colorterm_from_the_client_reaches_the_app(server, keys):
    plain = session(server, keys.alice)
    plain.expect_exact(READY)
    plain.expect_exact("38;5;")
    plain.send("q")
    plain.expect(pexpect.EOF)
    truecolor = session(server, keys.alice, 80, 24, "-o", "SetEnv=COLORTERM=truecolor")
    truecolor.expect_exact(READY)
    truecolor.expect_exact("38;2;")
    truecolor.send("q")
    truecolor.expect(pexpect.EOF)
    assert "38;5;" in plain.logfile_read.getvalue()  # 256 colours from TERM alone
    assert "38;2;" not in plain.logfile_read.getvalue()
    assert "38;2;" in truecolor.logfile_read.getvalue()  # 24-bit with COLORTERM=truecolor


# ---- who may enter ---------------------------------------------------------------------------


def test_an_unknown_key_is_refused(server, keys):
    result = run_ssh(server, keys.mallory, "-tt", *client_options(server, keys.mallory),
                     "127.0.0.1")
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr
    assert READY not in result.stdout
    assert server.wait_log("refused: no authorized key")
    assert not server.apps()


def test_the_banner_fingerprint_is_the_key_ssh_sees_and_the_file_is_0600(server, keys):
    key_file = server.home / "host_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    listed = subprocess.run(["ssh-keygen", "-lf", str(key_file)], capture_output=True,
                            text=True, check=True).stdout
    assert server.fingerprint in listed and "ED25519" in listed
    verbose = run_ssh(server, keys.alice, "-v", *client_options(server, keys.alice),
                      "-o", "LogLevel=DEBUG", "127.0.0.1", "true")
    assert f"Server host key: ssh-ed25519 {server.fingerprint}" in verbose.stderr
    banner = server.log()
    assert f"ssh -p {server.port} 127.0.0.1" in banner  # how students connect
    assert "who may enter: 1 key in" in banner


# ---- nothing but the app ---------------------------------------------------------------------

EXPLANATION = "gru-tui: this server only shows the gru-tui app in a terminal"


@pytest.mark.parametrize(("flags", "command"), [((), ("ls", "-la")), (("-tt",), ("ls",)),
                                               (("-T",), ())],
                         ids=["exec", "exec-with-tty", "no-tty"])
def test_commands_and_sessions_without_a_terminal_get_one_line_and_a_failure(server, keys,
                                                                            flags, command):
    result = run_ssh(server, keys.alice, *flags, *client_options(server, keys.alice),
                     "127.0.0.1", *command)
    assert result.returncode == 1
    output = (result.stdout + result.stderr).strip().splitlines()
    assert len(output) == 1 and output[0].startswith(EXPLANATION), output
    assert f"ssh -t -p {server.port} 127.0.0.1" in output[0]
    assert server.wait_log("only the app in a terminal is offered")


def test_sftp_and_scp_are_refused(server, keys, tmp_path):
    options = client_options(server, keys.alice)
    options[options.index("-p")] = "-P"  # sftp and scp spell the port -P
    sftp = run_ssh(server, keys.alice, "-b", "-", *options, "127.0.0.1", program="sftp")
    assert sftp.returncode != 0
    assert "subsystem request failed" in sftp.stderr
    scp = run_ssh(server, keys.alice, *options, f"127.0.0.1:{ROOT / 'README.md'}",
                  str(tmp_path / "copy"), program="scp")  # the SFTP protocol (OpenSSH ≥ 9)
    assert scp.returncode != 0
    legacy = run_ssh(server, keys.alice, "-O", *options, f"127.0.0.1:{ROOT / 'README.md'}",
                     str(tmp_path / "copy"), program="scp")  # scp -O: an exec of "scp -f"
    assert legacy.returncode != 0
    assert EXPLANATION in legacy.stderr
    assert not (tmp_path / "copy").exists()
    assert server.wait_log("refused the 'sftp' subsystem")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_port_forwarding_and_x11_are_refused(server, keys):
    remote = run_ssh(server, keys.alice, *client_options(server, keys.alice),
                     "-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9", "127.0.0.1")
    assert remote.returncode == 255
    assert "remote port forwarding failed" in remote.stderr

    local_port = free_port()
    tunnel = subprocess.Popen(
        [SSH, *client_options(server, keys.alice, "-o", "LogLevel=INFO"), "-N",
         "-L", f"{local_port}:127.0.0.1:{server.port}", "127.0.0.1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=client_env(server), text=True)
    try:
        connection = wait_for(lambda: _connect(local_port), 15)
        assert connection is not None, "ssh -L did not listen"
        with connection:
            connection.settimeout(10)
            assert connection.recv(100) == b""  # the tunnel was closed at once: nothing got through
    finally:
        tunnel.terminate()
        _, stderr = tunnel.communicate(timeout=60)  # a bound: a loaded machine is slow to reap
    assert "administratively prohibited" in stderr
    assert server.wait_log("refused port forwarding")

    x11 = session(server, keys.alice, 80, 24, "-X", "-o", "ForwardX11Trusted=yes",
                  "-o", "LogLevel=INFO", env=client_env(server, DISPLAY=":73"))
    x11.expect_exact("X11 forwarding request failed")
    x11.expect_exact(READY)  # the app still comes, without X11
    x11.send("q")
    assert ended(x11) == 0


def _connect(port: int) -> socket.socket | None:
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError:
        return None


# ---- robustness ------------------------------------------------------------------------------


def test_garbage_and_killed_clients_leave_the_server_serving(server, keys):
    for garbage in (os.urandom(4096), b"SSH-2.0-nonsense\r\n" + os.urandom(2048),
                    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b""):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(garbage)
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(10)
            with contextlib.suppress(OSError):
                while sock.recv(4096):
                    pass
    victim = session(server, keys.alice)
    victim.expect_exact(READY)
    assert wait_for(server.apps, 5)
    os.kill(victim.pid, signal.SIGKILL)  # the student's laptop dies mid-session
    victim.close()
    assert server.no_apps_left(), "the app of a dropped connection is still there"
    assert server.wait_log("disconnect after")

    fresh = session(server, keys.alice)
    fresh.expect_exact(READY)
    fresh.send(RIGHT)
    fresh.expect_exact("t = 2 /")
    fresh.send("q")
    assert ended(fresh) == 0
    assert server.process.poll() is None
    assert "Traceback" not in server.log()


def test_a_crashing_app_ends_only_its_own_session(server, keys):
    first = session(server, keys.alice)
    first.expect_exact(READY)
    apps = wait_for(lambda: len(server.apps()) == 1 and server.apps(), 5)
    assert apps
    second = session(server, keys.alice)
    second.expect_exact(READY)
    os.kill(apps[0], signal.SIGKILL)  # the first student's app dies
    assert ended(first) == 128 + signal.SIGKILL
    assert server.wait_log("the app exited with status 137")
    second.send(RIGHT)
    second.expect_exact("t = 2 /")
    second.send("q")
    assert ended(second) == 0
    assert server.no_apps_left()


# ---- servers of the tests' own ---------------------------------------------------------------


def test_max_sessions_turns_the_next_student_away_politely(own_home, keys):
    server = start_server(own_home, "--max-sessions", "1")
    try:
        assert "at most 1 session at once" in server.log()
        first = session(server, keys.alice)
        first.expect_exact(READY)
        second = session(server, keys.alice)
        second.expect_exact("the class is full (1 session running)")
        assert ended(second) == 1
        assert READY not in second.logfile_read.getvalue()
        assert len(server.apps()) == 1
        first.send("q")
        assert ended(first) == 0
        assert server.no_apps_left()
        third = session(server, keys.alice)  # a place is free again
        third.expect_exact(READY)
        third.send("q")
        assert ended(third) == 0
    finally:
        server.stop()


def test_idle_timeout_ends_the_session_with_a_message(own_home, keys):
    server = start_server(own_home, "--idle-timeout", "2")
    try:
        child = session(server, keys.alice)
        child.expect_exact(READY)
        child.send(RIGHT)  # a key resets the clock
        child.expect_exact("t = 2 /")
        started = time.monotonic()
        child.expect_exact("without a key pressed", timeout=15)
        assert time.monotonic() - started >= 1.5
        assert ended(child) != 0
        assert "\x1b[?1049l" in child.logfile_read.getvalue()  # the terminal is given back
        assert server.no_apps_left()
        assert server.wait_log("idle for 2s")
    finally:
        server.stop()


def test_options_after_double_dash_reach_every_app(own_home, keys):
    server = start_server(own_home, app_args=("--steps", "5", "--model", "rnn"))
    try:
        assert "every app starts as: gru-tui --steps 5 --model rnn" in server.log()
        for _ in range(2):
            child = session(server, keys.alice)
            child.expect_exact("t = 1 / 5")
            child.send("q")
            assert ended(child) == 0
    finally:
        server.stop()


def test_ctrl_c_ends_every_session_and_the_server_cleanly(own_home, keys):
    server = start_server(own_home)
    students = [session(server, keys.alice) for _ in range(2)]
    for child in students:
        child.expect_exact(READY)
    apps = wait_for(lambda: len(server.apps()) == 2 and server.apps(), 10)
    assert apps
    server.process.send_signal(signal.SIGINT)  # Ctrl+C in the teacher's terminal
    for child in students:  # (read on meanwhile, as the students' terminals do)
        child.expect_exact("the teacher stopped the server")
        assert ended(child) != 0
    assert server.process.wait(timeout=20) == 130
    assert not [pid for pid in apps if alive(pid)]
    log = server.log()
    assert "Traceback" not in log
    assert "server stopped (2 sessions served)" in log


def test_sigterm_stops_the_server_with_status_0(own_home):
    server = start_server(own_home)
    assert server.stop(signal.SIGTERM) == 0
    assert "Traceback" not in server.log()


def test_the_host_key_is_made_once_0600_in_the_data_folder_and_reused(own_home):
    first = start_server(own_home, host_key=False)
    assert "made now, kept in" in first.log()
    assert first.stop() == 130
    key_file = own_home / "data" / "gru-tui" / "ssh_host_ed25519_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.fingerprint in subprocess.run(["ssh-keygen", "-lf", str(key_file)],
                                               capture_output=True, text=True).stdout
    second = start_server(own_home, host_key=False)
    second.stop()
    assert second.fingerprint == first.fingerprint
    assert f"from {key_file}" in second.log()


def test_open_lets_any_key_in_and_says_so(tmp_path, keys):
    server = start_server(tmp_path / "home", "--open", authorized=False)
    try:
        assert "WARNING: --open: ANYONE" in server.log()
        child = session(server, keys.mallory)
        child.expect_exact(READY)
        child.send("q")
        assert ended(child) == 0
    finally:
        server.stop()


def test_authorized_keys_are_re_read_when_the_file_changes(own_home, keys):
    server = start_server(own_home)
    try:
        refused = run_ssh(server, keys.mallory, *client_options(server, keys.mallory),
                          "127.0.0.1", "true")
        assert refused.returncode == 255
        authorize(own_home, keys.alice, keys.mallory)
        child = session(server, keys.mallory)
        child.expect_exact(READY)
        child.send("q")
        assert ended(child) == 0
        assert server.wait_log("2 keys")
    finally:
        server.stop()


# ---- what a hostile student tries -------------------------------------------------------------


def pty_size(pid: int) -> tuple[int, int]:
    """(columns, rows) of the terminal a process reads its keys from."""
    fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NOCTTY)
    try:
        rows, columns, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ,
                                                                bytes(8)))
    finally:
        os.close(fd)
    return columns, rows


def test_no_student_gets_an_app_larger_than_a_real_screen(server, keys):
    child = session(server, keys.alice, 0xFFFF, 0xFFFF)  # the largest a terminal can say
    try:
        assert server.wait_log("connect (1000×500, "), server.log()
        app = wait_for(lambda: server.apps() and server.apps()[0], 20)
        assert wait_for(lambda: pty_size(app) == (1000, 500))
        child.setwinsize(30, 100)
        assert wait_for(lambda: pty_size(app) == (100, 30))
        child.setwinsize(0xFFFF, 0xFFFF)  # a window-change as large
        assert wait_for(lambda: pty_size(app) == (1000, 500)), pty_size(app)
    finally:
        child.close(force=True)
    assert server.no_apps_left()


# The load dialog's path field, focused and empty: its cursor on the placeholder's first letter.
FIELD_FOCUSED = r"o\x1b\[0m\x1b\[[\d;]+mr a file in"


def test_a_served_student_opens_only_the_teachers_folder_and_writes_nothing(own_home, keys,
                                                                           tmp_path):
    from safetensors.numpy import save_file

    folder, work = tmp_path / "class", tmp_path / "work"
    folder.mkdir()
    work.mkdir()
    rng = np.random.default_rng(0)
    tensors = {"rnn.weight_ih_l0": rng.normal(size=(6, 3)).astype("f4"),
               "rnn.weight_hh_l0": rng.normal(size=(6, 2)).astype("f4")}
    save_file(tensors, str(folder / "gru.safetensors"))
    save_file(tensors, str(tmp_path / "exam_answers.safetensors"))
    server = start_server(own_home, "--weights-dir", str(folder), cwd=work)
    try:
        assert f"l opens the shipped examples and the files in {folder}" in server.log()
        child = session(server, keys.alice, 120, 40)
        child.expect_exact(READY)
        child.send("l")
        child.expect_exact("gru.safetensors")  # listed: the folder's files
        child.send("\t")
        child.expect(FIELD_FOCUSED)
        child.send(str(tmp_path / "exam_answers.safetensors") + "\r")
        child.expect_exact("on this server")  # refused, as any name outside the folder
        child.send("\x15")  # ctrl+u clears the field
        child.expect(FIELD_FOCUSED)
        child.send("gru.safetensors\r")
        child.expect_exact("Running gru.safetensors")
        child.send("\x13")  # ctrl+s
        child.expect_exact("Not saved")
        child.send("S")
        child.expect_exact("\x1b]52;c;")  # the session goes to the student's clipboard
        child.send("q")
        assert ended(child) == 0
    finally:
        server.stop()
    assert list(work.iterdir()) == []
    assert [path.name for path in folder.iterdir()] == ["gru.safetensors"]


def test_expired_keys_and_options_the_server_cannot_honour_keep_students_out(own_home, keys,
                                                                             tmp_path):
    carol, dave = keygen(tmp_path / "carol", "carol"), keygen(tmp_path / "dave", "dave")
    line = lambda options, key: f"{options} {Path(f'{key}.pub').read_text()}"  # noqa: E731
    (own_home / "authorized_keys").write_text(
        line('expiry-time="20000101"', keys.alice) + line('command="/bin/sh"', keys.mallory)
        + line("no-pty", carol) + line('restrict,pty,expiry-time="29991231"', dave))
    server = start_server(own_home)
    try:
        log = server.log()
        assert "line 2 (mallory) refused: its option command is not one gru-tui can" in log
        assert "who may enter: 3 keys" in log
        for key in (keys.alice, keys.mallory):
            refused = run_ssh(server, key, "-tt", *client_options(server, key), "127.0.0.1")
            assert refused.returncode == 255 and "Permission denied" in refused.stderr
            assert READY not in refused.stdout
        assert server.wait_log("refused: the key's expiry-time in authorized keys has passed")
        no_pty = session(server, carol)
        no_pty.expect_exact("gives yours no terminal (no-pty)")
        assert ended(no_pty) == 1
        assert READY not in no_pty.logfile_read.getvalue()
        child = session(server, dave)
        child.expect_exact(READY)
        child.send("q")
        assert ended(child) == 0
    finally:
        server.stop()


def memory(pid: int, field: str = "VmHWM") -> int:
    """A process's peak (VmHWM) or current (VmRSS) resident memory, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M)[1]) * 1024


def test_a_student_flooding_keys_is_slowed_and_the_server_stays_small(server, keys):
    child = subprocess.Popen([SSH, "-tt", *client_options(server, keys.alice), "127.0.0.1"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=client_env(server))
    peak_before = memory(server.process.pid)

    def flood() -> None:
        with contextlib.suppress(OSError):
            for _ in range(512):  # 32 MiB of a key the app does not bind
                child.stdin.write(b"j" * 65536)

    writer = threading.Thread(target=flood, daemon=True)
    try:
        assert wait_for(server.apps, 30)
        writer.start()
        assert server.wait_log("slowed: keys arrive faster than the app takes them", 60)
    finally:
        child.kill()
        child.wait()
        writer.join(30)
    assert server.no_apps_left()
    assert memory(server.process.pid) - peak_before < 16 << 20
    assert server.log().count("slowed:") == 1


def test_idle_connections_cannot_lock_the_class_out(own_home, keys):
    server = start_server(own_home, open_files=256)  # 300 idle connections would need more
    idle = []
    try:
        for _ in range(300):
            sock = socket.socket()
            idle.append(sock)
            sock.bind(("127.0.0.2", 0))  # another address of this machine: another "client"
            sock.connect(("127.0.0.1", server.port))
        assert server.wait_log("refusing connections: 48 from 127.0.0.2"), server.log()
        child = session(server, keys.alice)  # from 127.0.0.1: still gets in
        child.expect_exact(READY)
        child.send("q")
        assert ended(child) == 0
        log = server.log()
        assert log.count("refusing connections") == 1  # once, not per attempt
        assert "Too many open files" not in log and "Traceback" not in log
    finally:
        for sock in idle:
            sock.close()
        refused = server.wait_log(" connections while the limit was reached")
        server.stop()
    assert refused, server.log()


# ---- bad input: one line, exit 2, before anything listens -------------------------------------


def serve(home: Path, *args: str) -> subprocess.CompletedProcess:
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-m", "gru_tui", "serve", "ssh", "--host",
                           "127.0.0.1", "--port", "0", *args], cwd=ROOT, env=server_env(home),
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gru-tui: error: "), result.stderr
    for word in words:
        assert word in lines[0]


def test_a_missing_default_authorized_keys_file_is_a_one_line_error(tmp_path):
    one_line_error(serve(tmp_path / "home"), ".ssh/authorized_keys does not exist", "--open")


def test_authorized_keys_errors(tmp_path):
    home = tmp_path / "home"
    one_line_error(serve(home, "--authorized-keys", str(tmp_path / "nope")), "does not exist")
    junk = tmp_path / "junk"
    junk.write_text("hello\nssh-ed25519 notbase64 x\n")
    one_line_error(serve(home, "--authorized-keys", str(junk)), "holds no public key")
    unreadable = tmp_path / "folder"
    unreadable.mkdir()
    one_line_error(serve(home, "--authorized-keys", str(unreadable)), "folder")
    one_line_error(serve(home, "--open", "--authorized-keys", str(junk)), "--open")


def test_bad_host_key_files_are_one_line_errors(own_home):
    ak = str(own_home / "authorized_keys")
    garbage = own_home / "garbage_key"
    garbage.write_bytes(b"not a key at all\n")
    garbage.chmod(0o600)
    one_line_error(serve(own_home, "--authorized-keys", ak, "--host-key", str(garbage)),
                   "not a private key")
    loose = own_home / "loose_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(loose)], check=True)
    loose.chmod(0o644)
    one_line_error(serve(own_home, "--authorized-keys", ak, "--host-key", str(loose)),
                   "chmod 600")
    locked = own_home / "locked_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(locked)],
                   check=True)
    one_line_error(serve(own_home, "--authorized-keys", ak, "--host-key", str(locked)),
                   "passphrase")
    one_line_error(serve(own_home, "--authorized-keys", ak, "--host-key",
                         str(own_home / "no" / "such" / "key")), "does not exist")


def test_bad_options_are_one_line_errors(own_home):
    ak = ["--authorized-keys", str(own_home / "authorized_keys"),
          "--host-key", str(own_home / "host_key")]
    one_line_error(serve(own_home, *ak, "--", "--preset", "no-such-preset"),
                   "the options after -- are not ones the app accepts")
    one_line_error(serve(own_home, *ak, "--max-sessions", "0"), "--max-sessions")
    one_line_error(serve(own_home, *ak, "--idle-timeout", "-1"), "--idle-timeout")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = serve(own_home, *ak, "--port", port)
    one_line_error(result, f"cannot listen on 127.0.0.1:{port}")


def test_without_asyncssh_the_command_says_what_to_install(monkeypatch):
    from gru_tui.errors import InputError
    from gru_tui.serve import ssh

    monkeypatch.setattr(ssh, "asyncssh", None)
    with pytest.raises(InputError, match=r"install gru-tui\[serve\]"):
        ssh.run_ssh_server(host="127.0.0.1", port=0, app_args=[])


def test_the_app_gets_the_clients_term_colorterm_and_lang_and_nothing_else(monkeypatch):
    from gru_tui.serve.ssh import app_environment

    for name, value in {"TERM": "screen", "COLORTERM": "truecolor", "LC_ALL": "de_DE.UTF-8",
                        "SSH_AUTH_SOCK": "/tmp/agent", "DISPLAY": ":0"}.items():
        monkeypatch.setenv(name, value)  # the teacher's own terminal and session
    env = app_environment("xterm-kitty", {"COLORTERM": "24bit", "LANG": "fr_FR.UTF-8",
                                          "LD_PRELOAD": "/tmp/evil.so", "PATH": "/tmp"})
    assert (env["TERM"], env["COLORTERM"], env["LANG"]) == ("xterm-kitty", "24bit",
                                                             "fr_FR.UTF-8")
    assert env["PATH"] == os.environ["PATH"] and "LD_PRELOAD" not in env
    assert not {"LC_ALL", "SSH_AUTH_SOCK", "DISPLAY"} & set(env)
    odd = app_environment("xterm\x1b]0;owned\x07", {"LANG": "C; rm -rf /", "COLORTERM": ""})
    assert (odd["TERM"], odd["LANG"]) == ("xterm-256color", "C.UTF-8")
    assert "COLORTERM" not in odd


def test_serve_ssh_help_lists_every_option():
    result = subprocess.run([sys.executable, "-m", "gru_tui", "serve", "ssh", "--help"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0
    for option in ("--host", "--port", "--authorized-keys", "--open", "--host-key",
                   "--max-sessions", "--idle-timeout"):
        assert option in result.stdout
