"""Presenter mode seen from outside (SPEC §13): the real `gru-tui serve ssh --present` and
`serve web --present` on a pty of their own (the teacher's terminal), real students (the
OpenSSH client through pexpect, Chromium tabs through Playwright), and two servers sharing a
lesson through a real redis-server, which the test starts on a free loopback port, stops and
starts again.

Each scenario is one test on one server and one set of clients, told step by step: a class
of 30 costs half a minute of starting apps, not to be paid again for each thing checked.
What a terminal shows is read from its output as it comes: the last "t = N /" it drew, and
the words of the status line.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_ssh import (
    BANNER,
    ROOT,
    SSH,
    alive,
    authorize,
    children,
    client_env,
    client_options,
    free_port,
    keygen,
    one_line_error,
    serve,
    server_env,
)
from test_web import CATCH_TERMINAL, Tab, browser, needs_browser, needs_textual_serve  # noqa: F401

pexpect = pytest.importorskip("pexpect", reason="pexpect drives ssh (the [test] extra)")
pytest.importorskip("asyncssh", reason="asyncssh runs the server (the [serve] extra)")
pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ptys and /proc: Linux only"),
    pytest.mark.skipif(SSH is None, reason="the OpenSSH client (ssh) is not installed"),
]

REDIS = shutil.which("redis-server")
STEP = "\x1b[C"
TAIL = 40_000  # characters of a terminal's output kept: more than a few whole frames
CLASS = 30
START_S = 240  # a class of apps starting on a busy 2-core machine: a guard, not a target
STEP_T = re.compile(r"t = (\d+) /")
CONNECT = "following the teacher · f explores on your own"
EXPLORING = "exploring on your own — f to follow the teacher"


class Terminal:
    """A program on a pty of its own, its output read as it comes."""

    def __init__(self, child) -> None:
        self.child = child
        self.tail = ""  # the end of everything it wrote
        self.fresh = ""  # what it wrote since `mark()`
        self.ended = False

    def pump(self) -> None:
        while not self.ended:
            try:
                data = self.child.read_nonblocking(1 << 16, timeout=0)
            except pexpect.TIMEOUT:
                return
            except pexpect.EOF:
                self.ended = True
                return
            self.tail = (self.tail + data)[-TAIL:]
            self.fresh = (self.fresh + data)[-TAIL:]

    def mark(self) -> None:
        self.fresh = ""

    def t(self) -> int | None:
        """The step it shows: the last "t = N /" it drew."""
        steps = STEP_T.findall(self.tail)
        return int(steps[-1]) if steps else None

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def close(self) -> int | None:
        self.child.close(force=True)
        return self.child.exitstatus


def settle(terminals, condition, what: str, timeout: float = 60) -> None:
    """Read every terminal (so that none blocks on a full pty) until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while True:
        for terminal in terminals:
            terminal.pump()
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout}s for {what}: " + " ".join(
                f"{CONNECT in t.tail}/{t.t()}/{len(t.tail)}" for t in terminals))
        time.sleep(0.02)


def spawn(program: str, args: list[str], columns: int = 80, rows: int = 24, **kwargs) -> Terminal:
    child = pexpect.spawn(program, args, dimensions=(rows, columns), encoding="utf-8",
                          codec_errors="replace", **kwargs)
    return Terminal(child)


class Presenter:
    """`gru-tui serve ssh|web --present …` in the teacher's terminal (100×30), its log in a
    file."""

    def __init__(self, home: Path, kind: str, *options: str, app_args=()) -> None:
        self.log_path = home / f"{kind}-{time.monotonic_ns()}.log"
        command = ["-m", "gru_tui", "serve", kind, "--host", "127.0.0.1", "--present",
                   "--log", str(self.log_path), *options]
        if app_args:
            command += ["--", *app_args]
        self.terminal = spawn(sys.executable, command, 100, 30, cwd=ROOT,
                              env=server_env(home))
        self.pid = self.terminal.child.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_log(self, pattern: str, terminals=(), timeout: float = 60) -> re.Match:
        settle([self.terminal, *terminals], lambda: re.search(pattern, self.log()),
               f"{pattern!r} in the server's log", timeout)
        return re.search(pattern, self.log())

    def apps(self) -> list[int]:
        return children(self.pid)


def ssh_student(port: int, key: Path, home: Path) -> Terminal:
    """`ssh -tt` to a server, on an 80×24 pty, as test_ssh.py's students connect."""
    server = SimpleNamespace(port=port, home=home)
    return spawn(SSH, ["-tt", *client_options(server, key), "127.0.0.1"],
                 env=client_env(server))


@pytest.fixture
def home(tmp_path) -> tuple[Path, Path]:
    """A home for the servers, with one student key authorized (every student uses it)."""
    key = keygen(tmp_path / "student", "student@class")
    home = tmp_path / "home"
    authorize(home, key)
    return home, key


def ssh_options(home: Path) -> list[str]:
    return ["--port", "0", "--host-key", str(home / "host_key"),
            "--authorized-keys", str(home / "authorized_keys"), "--max-sessions", "40"]


# -- over SSH ---------------------------------------------------------------------------------


def test_a_class_of_30_follows_the_teacher_over_ssh(home):
    home, key = home
    teacher = Presenter(home, "ssh", *ssh_options(home), app_args=("--preset", "sine",
                                                                   "--steps", "150"))
    screen = teacher.terminal
    students: list[Terminal] = []
    everyone = [screen]
    try:
        port = int(teacher.wait_log(BANNER.pattern)[1])
        settle(everyone, lambda: "0 following · 0 exploring" in screen.tail,
               "the teacher's app and its status line")
        assert f"ssh -p {port} 127.0.0.1" in screen.tail  # how to join, on the projector
        assert "SSH server on" not in screen.tail  # the banner went to the log

        students = [ssh_student(port, key, home) for _ in range(CLASS)]
        everyone += students
        settle(everyone, lambda: all(CONNECT in s.tail and s.t() == 1 for s in students),
               "every student's app, following", START_S)
        settle(everyone, lambda: f"{CLASS} following · 0 exploring" in screen.tail,
               "the teacher's count of the class")

        screen.send(STEP * 100)  # the teacher steps 100 times
        settle(everyone, lambda: screen.t() == 101 and all(s.t() == 101 for s in students),
               "every student on the teacher's step 101", 120)

        explorer, others = students[0], students[1:]
        explorer.mark()
        explorer.send("f" + STEP * 3)  # breaks away, and steps on alone
        settle(everyone, lambda: EXPLORING in explorer.fresh and explorer.t() == 104,
               "the explorer on step 104")
        settle(everyone, lambda: f"{CLASS - 1} following · 1 exploring" in screen.tail,
               "the teacher's count of who explores")
        screen.send(STEP * 5)  # the teacher moves on; the explorer stays where it went
        settle(everyone, lambda: all(s.t() == 106 for s in others), "the class on step 106")
        assert explorer.t() == 104
        explorer.mark()
        explorer.send("f")  # rejoins at the teacher's step
        settle(everyone, lambda: explorer.t() == 106 and CONNECT in explorer.fresh,
               "the explorer back on the teacher's step")

        late = ssh_student(port, key, home)
        everyone.append(late)
        settle(everyone, lambda: late.t() == 106, "a late student on the teacher's step")
        apps = wait_apps(teacher, CLASS + 2, everyone)  # the class, the late one, the teacher

        for student in students:
            student.mark()
        screen.send("q")  # the teacher quits; the students keep their apps
        settle(everyone, lambda: all("The teacher has left" in s.fresh for s in students),
               "every student told that the teacher has left")
        settle(everyone, lambda: "the teacher's app has ended" in screen.tail,
               "the terminal given back to the server")
        assert len(teacher.apps()) == CLASS + 1 and not any(s.ended for s in students)
        students[1].send(STEP)  # exploring now: the student's own step
        settle(everyone, lambda: students[1].t() == 107, "a student stepping alone")
        assert all(s.t() == 106 for s in students[2:])

        screen.send("\x03")  # Ctrl+C in the teacher's terminal stops the server
        settle(everyone, lambda: screen.ended and all(s.ended for s in [*students, late]),
               "the server and every session to end")
        assert teacher.terminal.close() == 130
        assert not [pid for pid in apps if alive(pid)], "apps outlived the server"
        log = teacher.log()
        assert "Traceback" not in log + screen.tail
        assert "the teacher's app ended" in log and f"{CLASS + 1} sessions served" in log
    finally:
        for terminal in everyone:
            terminal.close()


def test_a_student_following_the_teacher_is_not_idle(home):
    """--idle-timeout counts a student's keys, and while following the teacher's steps."""
    home, key = home
    teacher = Presenter(home, "ssh", *ssh_options(home), "--idle-timeout", "2")
    screen = teacher.terminal
    everyone = [screen]
    try:
        port = int(teacher.wait_log(BANNER.pattern)[1])
        student = ssh_student(port, key, home)
        everyone.append(student)
        settle(everyone, lambda: CONNECT in student.tail, "the student, following", START_S)
        started, steps = time.monotonic(), 1
        while time.monotonic() - started < 3:  # longer than the timeout, without a key
            screen.send(STEP if steps % 2 else "\x1b[D")
            steps += 1
            settle(everyone, lambda want=2 - steps % 2: student.t() == want, "the step")
        assert not student.ended
        settle(everyone, lambda: "without a key pressed" in student.tail, "the idle end", 30)
        assert time.monotonic() - started >= 3
    finally:
        for terminal in everyone:
            terminal.close()


def wait_apps(server: Presenter, count: int, terminals) -> list[int]:
    settle(terminals, lambda: len(server.apps()) == count, f"{count} app processes")
    return server.apps()


# -- in the browser ---------------------------------------------------------------------------


@needs_textual_serve
@needs_browser
def test_five_tabs_follow_the_teacher_in_the_browser(home, browser):  # noqa: F811
    home, _ = home
    port = free_port()
    teacher = Presenter(home, "web", "--port", str(port), app_args=("--preset", "sine",
                                                                     "--steps", "30"))
    screen = teacher.terminal
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    context.add_init_script(CATCH_TERMINAL)
    try:
        url = teacher.wait_log(r"students open (http://\S+)")[1]
        settle([screen], lambda: "0 following · 0 exploring" in screen.tail, "the teacher")
        assert url in screen.tail
        tabs = [Tab(context, url) for _ in range(5)]
        for tab in tabs:
            tab.wait_for(CONNECT)
        settle([screen], lambda: "5 following · 0 exploring" in screen.tail, "the count")
        screen.send(STEP * 10)
        for tab in tabs:
            tab.wait_for("t = 11 /")
        first, others = tabs[0], tabs[1:]
        first.page.keyboard.press("f")  # no click first: the page gave the terminal the keys
        first.wait_for(EXPLORING)
        for _ in range(2):
            first.page.keyboard.press("ArrowRight")
        first.wait_for("t = 13 /")
        settle([screen], lambda: "4 following · 1 exploring" in screen.tail, "the count")
        screen.send(STEP * 5)
        for tab in others:
            tab.wait_for("t = 16 /")
        assert "t = 13 /" in first.screen()
        first.page.keyboard.press("f")
        first.wait_for("t = 16 /")
        late = Tab(context, url)
        late.wait_for("t = 16 /")
        settle([screen], lambda: len(teacher.apps()) == 7, "six tabs' apps and the teacher's")
        apps = teacher.apps()
        screen.send("q")
        for tab in tabs:
            tab.wait_for("the teacher has left")
        others[0].page.keyboard.press("ArrowRight")
        others[0].wait_for("t = 17 /")
        screen.send("\x03")
        settle([screen], lambda: screen.ended, "the server to stop", 60)
        assert screen.close() == 0
        assert not [pid for pid in apps if alive(pid)], "apps outlived the server"
        assert "Traceback" not in teacher.log() + screen.tail
    finally:
        context.close()
        screen.close()


# -- two servers, one lesson, through Redis --------------------------------------------------


class Redis:
    """Debian's redis-server on a free loopback port, with a password and no disk."""

    def __init__(self, folder: Path, password: str) -> None:
        self.port = free_port()
        self.folder, self.password = folder, password
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--requirepass", self.password, "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not self.client_ok():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password,
                           socket_timeout=5)

    def client_ok(self) -> bool:
        import redis

        try:
            return bool(self.client().ping())
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.mark.skipif(REDIS is None, reason="redis-server is not installed: apt-get install "
                                          "redis-server")
def test_one_lesson_across_two_servers_through_redis(home, tmp_path):
    pytest.importorskip("redis", reason="redis-py carries the relay (the [serve] extra)")
    home, key = home
    password = "s3cret-" + os.urandom(4).hex()
    redis = Redis(tmp_path, password)
    url = f"redis://:{password}@127.0.0.1:{redis.port}/0?channel=room-7"
    teacher = Presenter(home, "ssh", *ssh_options(home), "--relay", url,
                        app_args=("--preset", "sine", "--steps", "40"))
    screen = teacher.terminal
    second_log = tmp_path / "second.log"
    with open(second_log, "wb") as output:
        second = subprocess.Popen(
            [sys.executable, "-m", "gru_tui", "serve", "ssh", "--host", "127.0.0.1",
             "--follow", url, *ssh_options(home)], cwd=ROOT, env=server_env(home),
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    everyone = [screen]
    try:
        match = None
        deadline = time.monotonic() + 60
        while not (match := BANNER.search(second_log.read_text(errors="replace"))):
            assert second.poll() is None and time.monotonic() < deadline, second_log.read_text()
            time.sleep(0.05)
        teacher.wait_log(BANNER.pattern)
        settle(everyone, lambda: "relay" not in screen.tail[-2000:] or "relay ok"
               in screen.tail, "the teacher's app")
        students = [ssh_student(int(match[1]), key, home) for _ in range(2)]
        everyone += students
        settle(everyone, lambda: all(CONNECT in s.tail for s in students), "two students "
               "on the second server", START_S)
        settle(everyone, lambda: "2 following · 0 exploring · 2 servers" in screen.tail,
               "the teacher's count across servers")
        screen.send(STEP * 5)
        settle(everyone, lambda: all(s.t() == 6 for s in students), "step 6 on the second")

        redis.stop()  # mid-lesson
        screen.mark()
        settle(everyone, lambda: "relay lost" in screen.fresh, "the teacher told of the loss")
        screen.send(STEP * 3)
        settle(everyone, lambda: screen.t() == 9, "the teacher on step 9")
        assert all(s.t() == 6 and not s.ended for s in students)  # they keep the last state

        screen.mark()
        redis.start()  # on the same port: both servers come back by themselves
        settle(everyone, lambda: all(s.t() == 9 for s in students), "step 9 after the "
               "restart", 60)
        settle(everyone, lambda: "relay ok" in screen.fresh, "the teacher's relay ok")

        client = redis.client()
        for junk in (b"not json", b"x" * (5 << 20), b'{"format": "gru-tui lesson"}',
                     b'{"format": "gru-tui lesson", "version": 1, "lesson": "old", "seq": 1, '
                     b'"state": []}'):
            client.publish("room-7:lesson", junk)
        deadline = time.monotonic() + 30
        while second_log.read_text().count("relay: ") < 1:
            assert time.monotonic() < deadline, second_log.read_text()
            time.sleep(0.05)
        screen.send(STEP)
        settle(everyone, lambda: all(s.t() == 10 for s in students), "step 10 after junk")

        screen.send("q")
        settle(everyone, lambda: all("The teacher has left" in s.tail for s in students),
               "the students on the second server told the teacher has left")
        screen.send("\x03")
        settle(everyone, lambda: screen.ended, "the teacher's server to stop")
        second.send_signal(signal.SIGINT)
        assert second.wait(timeout=30) == 130
        logs = teacher.log() + second_log.read_text() + screen.tail
        assert "dropped a message" in second_log.read_text()
        assert "redis://:***@127.0.0.1" in logs  # the relay is named, its password never
        assert password not in logs
        assert "Traceback" not in logs
    finally:
        for terminal in everyone:
            terminal.close()
        if second.poll() is None:
            second.kill()
        redis.stop()


# -- bad options: one line, exit 2, before anything listens -----------------------------------


def test_a_lessons_options_are_checked_against_each_other_and_the_machine(tmp_path):
    from gru_tui.errors import InputError
    from gru_tui.serve.lesson import LessonOptions

    taken = tmp_path / "taken.jsonl"
    taken.write_text("")
    secret = "hunter2-" + os.urandom(4).hex()
    cases = [
        (dict(record="x.jsonl"), "--record goes with --present"),
        (dict(relay="redis://127.0.0.1:1/0"), "--relay goes with --present"),
        (dict(log="x.log"), "--log goes with --present"),
        (dict(present=True, follow="redis://127.0.0.1:1/0"), "choose one"),
        (dict(present=True, record=str(taken)), "already exists"),
        (dict(present=True), "run the server in a terminal"),  # pytest's stdin is none
        (dict(follow="http://127.0.0.1:6379"), "a Redis address is redis://"),
        (dict(follow=f"redis://:{secret}@127.0.0.1:6379/zero"), "the database after the port"),
        (dict(follow="redis://127.0.0.1/0?channel=a b"), "NAME of letters"),
    ]
    for options, words in cases:
        with pytest.raises(InputError, match=re.escape(words)) as error:
            LessonOptions(**options).checked([])
        assert secret not in str(error.value)
    with pytest.raises(InputError, match="--record after --"):
        LessonOptions(present=True).checked(["--steps", "9", "--record", "x.jsonl"])
    assert LessonOptions().checked(["--steps", "9"]) is None  # no lesson: nothing changes


def test_bad_lesson_options_are_one_line_before_anything_listens(home):
    home, _ = home
    one_line_error(serve(home, "--relay", "redis://127.0.0.1:1/0"), "--relay goes with "
                   "--present")
    no_redis = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['redis'] = None; "
         "from gru_tui.cli import main; main(['serve', 'web', '--follow', "
         "'redis://127.0.0.1:1/0'])"], cwd=ROOT, env=server_env(home), capture_output=True,
        text=True, timeout=60, stdin=subprocess.DEVNULL)
    one_line_error(no_redis, "install gru-tui[serve] to use --follow (it needs redis)")


@pytest.mark.parametrize("kind", ["ssh", "web"])
def test_serve_help_lists_the_lessons_options(kind):
    result = subprocess.run([sys.executable, "-m", "gru_tui", "serve", kind, "--help"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    for option in ("--present", "--record", "--relay", "--follow", "--log"):
        assert option in result.stdout
    assert "redis://[:PASSWORD@]HOST[:PORT][/DB]" in result.stdout
