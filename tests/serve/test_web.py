"""`gru-tui serve web` (SPEC §9): the real server in a subprocess, and a real Chromium.

The browser tests drive Debian's /usr/bin/chromium (``apt-get install chromium``) through
Playwright's Python package, headless, without Playwright's own browser download. textual-serve
draws the terminal with xterm.js on a canvas, so what the app shows is read from xterm.js's
buffer: a script that runs before the page's own catches the ``Terminal`` object as
textual.js stores it (``this.terminal = new Terminal(...)``).

Everything here is skipped, with the reason, when textual-serve, Playwright or Chromium is
missing; the checks of bad options need none of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import gru_tui

CHROMIUM = os.environ.get("GRU_TUI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # Without these Chromium calls home, and on a closed network its connections are refused.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Every tab's app starts with these: the step indicator shows they arrived ("t = 1 / 7").
APP_ARGS = ["--preset", "sine", "--steps", "7"]
STARTUP = 60  # seconds: a guard against a hang, not a speed test
# The gru_tui under test, wherever a server runs (its cwd is a scratch folder).
ROOT = str(Path(gru_tui.__file__).resolve().parents[1])
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [ROOT, *filter(None, [os.environ.get("PYTHONPATH")])])}

needs_textual_serve = pytest.mark.skipif(
    not __import__("importlib").util.find_spec("textual_serve"),
    reason="textual-serve is not installed (pip install 'gru-tui[serve]')")


def _browser_missing() -> str | None:
    if not __import__("importlib").util.find_spec("playwright"):
        return "Playwright's Python package is not installed (pip install playwright)"
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set GRU_TUI_CHROMIUM)"
    return None


needs_browser = pytest.mark.skipif(_browser_missing() is not None,
                                   reason=_browser_missing() or "")


# -- the server, as a teacher starts it ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gru_tui(*args: str, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gru_tui", *args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, cwd=cwd, timeout=timeout, env=ENV)


class Server:
    """`python -m gru_tui serve web ...` running in the background, its output collected."""

    def __init__(self, *args: str, cwd: Path | None = None) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gru_tui", "serve", "web", "--port", str(self.port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            cwd=cwd, env=ENV)
        self.lines: queue.Queue[str] = queue.Queue()
        self.out: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        first = self.next_line()
        match = re.search(r"students open (https?://\S+)", first)
        assert match, f"no URL in the startup line {first!r}: {self.stop()}"
        self.url = match.group(1)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.out.append(line)
            self.lines.put(line)

    def next_line(self, timeout: float = STARTUP) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the server said nothing for {timeout}s: {self.out}") from None

    def wait_for_line(self, pattern: str, timeout: float = STARTUP) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(max(0.1, deadline - time.monotonic()))
            if re.search(pattern, line):
                return line

    def apps(self) -> list[int]:
        """The process ids of the apps the server runs: its children."""
        return children(self.process.pid)

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        """Stop it as Ctrl+C does; returns the exit code and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        return code, self.process.stderr.read()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_until(condition, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout}s for {what or condition}")
        time.sleep(0.1)


def get(url: str, host: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The run failed as SPEC §5 says: exit 2, nothing on stdout, one line on stderr."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gru-tui: error: "), result.stderr
    return lines[0]


# -- bad input: one line, exit 2 -------------------------------------------------------------


@needs_textual_serve
def test_a_port_in_use_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_error_line(gru_tui("serve", "web", "--port", str(port)))
    assert f"port {port} is in use" in line and "--port" in line


def test_app_options_the_app_refuses_are_one_line():
    line = one_error_line(gru_tui("serve", "web", "--port", str(free_port()), "--",
                                  "--preset", "no-such-preset"))
    assert "options after --" in line and "no-such-preset" in line


@needs_textual_serve
@pytest.mark.parametrize(("args", "words"), [
    (["--host", "no-such-host.invalid"], "--host no-such-host.invalid"),
    (["--host", "192.0.2.1"], "not an address of this machine"),
    (["--public-url", "ftp://example.org"], "--public-url"),
])
def test_bad_addresses_are_one_line(args, words):
    assert words in one_error_line(gru_tui("serve", "web", "--port", str(free_port()), *args))


def test_without_textual_serve_the_error_names_the_extra():
    code = ("import sys; sys.modules['textual_serve'] = None; from gru_tui.cli import main; "
            f"main(['serve', 'web', '--port', '{free_port()}'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=120, env=ENV)
    assert "install gru-tui[serve]" in one_error_line(result)


def test_misused_options_get_the_usage_message():
    result = gru_tui("serve", "web", "--max-sessions", "0")
    assert result.returncode == 2 and result.stdout == "" and "--max-sessions" in result.stderr


def test_the_app_runs_under_a_named_textual_driver_even_on_pipes():
    """textual-serve runs the app on pipes with TEXTUAL_DRIVER set: the app, not `step` text."""
    env = {**ENV, "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver", "COLUMNS": "100",
           "ROWS": "30"}
    app = subprocess.Popen([sys.executable, "-m", "gru_tui", *APP_ARGS], env=env,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert app.stdout.readline() == b"__GANGLION__\n"  # the web driver's greeting
        quit_packet = json.dumps({"type": "quit"}).encode()
        app.stdin.write(b"M" + len(quit_packet).to_bytes(4, "big") + quit_packet)
        app.stdin.flush()
        app.stdout.read()
        assert app.wait(timeout=STARTUP) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


# -- the server without a browser ------------------------------------------------------------


@needs_textual_serve
def test_the_page_points_where_the_browser_came_from():
    """With 0.0.0.0, textual-serve alone would send ws://0.0.0.0:PORT/ws to every browser."""
    server = Server("--host", "0.0.0.0")
    name = socket.gethostname().lower()  # a name of this machine, as a student's browser has it
    try:
        assert not server.url.startswith("http://0.0.0.0"), server.url
        status, page = get(f"http://127.0.0.1:{server.port}/", host=f"{name}:{server.port}")
        assert status == 200
        assert f'data-session-websocket-url="ws://{name}:{server.port}/ws"' in page
        assert f"http://{name}:{server.port}/static/js/textual.js" in page
        assert "no login" in server.next_line() + server.next_line() + server.next_line()
    finally:
        assert server.stop()[0] == 0


@needs_textual_serve
def test_names_this_server_does_not_answer_for_get_nothing():
    """DNS rebinding: a page of evil.example, its name pointed at this machine, would pass an
    Origin check against its own Host. Only this machine's names and addresses, and
    --public-url's host, get pages, files or sessions; X-Forwarded-Host is never taken."""
    import asyncio

    import aiohttp

    server = Server()
    evil = f"evil.example:{server.port}"

    async def handshake(host: str, origin: str) -> int:
        async with aiohttp.ClientSession() as client:
            try:
                websocket = await client.ws_connect(server.url.replace("http", "ws", 1) + "/ws",
                                                    headers={"Host": host, "Origin": origin})
            except aiohttp.WSServerHandshakeError as error:
                return error.status
            await websocket.close()
            return 101

    try:
        for path in ("/", "/static/js/textual.js", "/download/x"):
            status, body = get(server.url + path, host=evil)
            assert status == 421 and "does not answer for that host name" in body, path
        assert asyncio.run(handshake(evil, f"http://{evil}")) == 421
        assert server.apps() == []
        assert get(server.url + "/", host=f"localhost:{server.port}")[0] == 200
        request = urllib.request.Request(server.url + "/", headers={"X-Forwarded-Host": evil})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = response.read().decode()
        assert f'data-session-websocket-url="ws://127.0.0.1:{server.port}/ws"' in page
        assert "evil" not in page
        assert asyncio.run(handshake(f"127.0.0.1:{server.port}", server.url)) == 101
        refusals = [line for line in server.out if "refused requests for host" in line]
        assert len(refusals) == 1, refusals  # once, not per request
    finally:
        assert server.stop()[0] == 0


@needs_textual_serve
def test_half_sent_requests_are_closed():
    server = Server()
    try:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
        for sock in idle:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never the blank line
        for sock in idle:
            sock.settimeout(STARTUP)
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(100) == b""  # closed by the server
            sock.close()
        assert get(server.url + "/")[0] == 200
    finally:
        assert server.stop()[0] == 0


def test_frames_and_sizes_from_the_browser_are_read_safely():
    from gru_tui.serve.web import _frame, _whole, answers_for

    assert _frame('["resize", {"width": 100}]') == ("resize", {"width": 100})
    for junk in ("[" * 100_000 + "]" * 100_000, "not json", "[1, 2, 3]", "{}", "7"):
        assert _frame(junk) == (None, None)
    for value, expected in ((float("inf"), 80), (float("nan"), 80), ("12", 12), (None, 80),
                            (10**6, 1000), (-5, 10), (1e300, 1000)):
        assert _whole(value, 80, 10, 1000) == expected, value
    hosts = frozenset({"lab-pc", "gru.example.org"})
    for host in ("lab-pc:8000", "LAB-PC.:8000", "gru.example.org", "127.0.0.1:8000",
                 "[::1]:8000", "192.168.1.20", "localhost:8000", "app.localhost", None):
        assert answers_for(host, hosts), host
    for host in ("evil.example:8000", "lab-pc.evil.example", "", ":8000", "lab-pc:notaport",
                 "[::1"):
        assert not answers_for(host, hosts), host


def _ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@needs_textual_serve
@pytest.mark.skipif(not _ipv6(), reason="no IPv6 on this machine")
def test_host_double_colon_takes_ipv4_and_ipv6():
    server = Server("--host", "::")
    try:
        for address in ("127.0.0.1", "[::1]"):
            assert get(f"http://{address}:{server.port}/")[0] == 200, address
    finally:
        assert server.stop()[0] == 0


@needs_textual_serve
def test_public_url_is_what_the_page_uses_behind_a_proxy():
    server = Server("--public-url", "https://gru.example.org/")
    try:
        assert server.url == "https://gru.example.org"
        status, page = get(f"http://127.0.0.1:{server.port}/")
        assert status == 200
        assert 'data-session-websocket-url="wss://gru.example.org/ws"' in page
        assert "https://gru.example.org/static/css/xterm.css" in page
    finally:
        assert server.stop()[0] == 0


@needs_textual_serve
def test_ctrl_c_without_sessions_stops_quietly():
    server = Server()
    code, stderr = server.stop(signal.SIGINT)
    assert code == 0 and stderr == ""
    assert "stopped" in server.out[-1]


@needs_textual_serve
def test_garbage_and_dropped_connections_leave_the_server_serving(tmp_path):
    import asyncio

    import aiohttp

    server = Server("--weights-dir", str(tmp_path), "--", *APP_ARGS, cwd=tmp_path)

    async def visit(junk: list, drop: bool) -> list[bytes]:
        """Open a session like textual.js, send junk, step once (the session lives on), then
        drop or close the connection; the app's command line."""
        received = b""
        async with aiohttp.ClientSession() as client:
            socket_url = server.url.replace("http", "ws", 1) + "/ws?width=100&height=30"
            websocket = await client.ws_connect(socket_url)

            async def read_until(text: bytes) -> None:
                nonlocal received
                deadline = time.monotonic() + STARTUP
                while text not in received and time.monotonic() < deadline:
                    message = await websocket.receive(timeout=STARTUP)
                    if message.type == aiohttp.WSMsgType.BINARY:
                        received += message.data
                    elif message.type != aiohttp.WSMsgType.TEXT:  # closed
                        break
                assert text in received, f"the session ended before {text!r}"

            await read_until(b"t = 1 / 7")
            for item in junk:
                await (websocket.send_bytes(item) if isinstance(item, bytes)
                       else websocket.send_str(item))
            await websocket.send_str(json.dumps(["stdin", "\x1b[C"]))  # → : one step on
            await read_until(b"t = 2 / 7")
            cmdline = Path(f"/proc/{server.apps()[0]}/cmdline").read_bytes().split(b"\0")
            if drop:  # no closing handshake: the TCP connection just goes
                websocket._response.connection.transport.abort()
            else:
                await websocket.close()
        return cmdline

    try:
        assert f"l opens the shipped examples and the files in {tmp_path}" in (
            server.next_line() + server.next_line())
        junk = [b"\x00\xff binary", "not json", "[]", '["stdin"]', '["resize", "big"]',
                '{"stdin": 1}', '["stdin", 42]', '["ping", "x"]', '["no-such-kind", {}]',
                '["resize", {"width": Infinity, "height": -Infinity}]',
                '["resize", {"width": NaN, "height": 1e999}]',
                '["stdin", ' + "[" * 100_000 + "]" * 100_000 + "]"]
        for drop in (True, False):
            cmdline = asyncio.run(visit(junk, drop))
            assert [b"--served", b"--served-weights-dir", str(tmp_path).encode()] == \
                cmdline[-4:-1]  # the app knows it is served, and which files l may open
            wait_until(lambda: server.apps() == [], what="the app of a gone connection to end")
        server.wait_for_line(r"session 2 closed")
        status, page = get(server.url + "/")
        assert status == 200 and "textual-terminal" in page
    finally:
        code, stderr = server.stop()
    assert code == 0 and "Traceback" not in stderr + "".join(server.out)


@needs_textual_serve
def test_other_sites_pages_cannot_open_sessions():
    """A page of another site, open in a student's browser, may not start apps here."""
    import asyncio

    import aiohttp

    server = Server()

    async def status(origin: str) -> int:
        async with aiohttp.ClientSession() as client:
            try:
                websocket = await client.ws_connect(server.url.replace("http", "ws", 1) + "/ws",
                                                    headers={"Origin": origin})
            except aiohttp.WSServerHandshakeError as error:
                return error.status
            await websocket.close()
            return 101

    try:
        assert asyncio.run(status("http://evil.example")) == 403
        assert server.apps() == []
        assert asyncio.run(status(server.url)) == 101
    finally:
        assert server.stop()[0] == 0


# -- in a real browser -----------------------------------------------------------------------

# Runs before textual.js: keeps every xterm.js Terminal the page makes in window.gruTerminals.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true,
                                             enumerable: true});
    if (value && value.buffer && value.buffer.active) {
      (window.gruTerminals = window.gruTerminals || []).push(value);
    }
  },
});
"""
SCREEN_TEXT = """() => {
  const terminal = (window.gruTerminals || [])[0];
  if (!terminal) return null;
  const buffer = terminal.buffer.active, rows = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    // xterm.js keeps cells past the right edge after a narrowing resize: only the visible ones.
    rows.push(line ? line.translateToString(true, 0, terminal.cols) : "");
  }
  return rows.join("\\n");
}"""


@pytest.fixture(scope="module")
def browser():
    if reason := _browser_missing():
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Tab:
    """One browser tab on the server's page, and what its terminal shows."""

    def __init__(self, context, url: str) -> None:
        self.page = context.new_page()
        self.page.goto(url)

    def screen(self) -> str:
        return self.page.evaluate(SCREEN_TEXT) or ""

    def wait_for(self, text: str, timeout: float = STARTUP) -> str:
        deadline = time.monotonic() + timeout
        while text not in (screen := self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")
            time.sleep(0.1)
        return screen

    def press(self, key: str) -> None:
        self.page.locator(".xterm-helper-textarea").focus()
        self.page.keyboard.press(key)


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.add_init_script(CATCH_TERMINAL)
    yield context
    context.close()


@pytest.fixture
def server(tmp_path):
    server = Server("--", *APP_ARGS, cwd=tmp_path)
    yield server
    server.stop()


@needs_textual_serve
@needs_browser
def test_the_app_appears_in_the_browser_and_keys_step_it(server, context):
    requested = []
    context.on("request", lambda request: requested.append(request.url))
    tab = Tab(context, server.url)
    screen = tab.wait_for("─ LSTM ─")  # the last panel is drawn
    assert "─ GRU ─" in screen and "─ Inputs ─" in screen
    assert "t = 1 / 7" in screen  # --steps 7 after -- reached the app
    tab.press("ArrowRight")
    tab.wait_for("t = 2 / 7")
    tab.press("End")
    tab.wait_for("t = 7 / 7")
    # The page loads nothing from other sites (a classroom may have no internet).
    assert requested and all(url.startswith(server.url + "/") for url in requested), requested
    tab.press("q")  # quitting ends the session, and the page says so
    tab.page.locator(".ended").wait_for(state="visible", timeout=STARTUP * 1000)
    wait_until(lambda: server.apps() == [], what="the app to end")


def side_by_side(screen: str) -> bool:
    """Whether the GRU and LSTM panels share a row: the app's layout for 120 columns or more."""
    return any("─ GRU ─" in line and "─ LSTM ─" in line for line in screen.splitlines())


@needs_textual_serve
@needs_browser
def test_the_app_follows_the_size_of_the_tab(server, context):
    tab = Tab(context, server.url)
    size = "() => [window.gruTerminals[0].cols, window.gruTerminals[0].rows]"
    tab.page.set_viewport_size({"width": 1600, "height": 900})
    wait_until(lambda: side_by_side(tab.wait_for("─ LSTM ─")), what="the wide layout")
    tab.page.set_viewport_size({"width": 400, "height": 300})  # below the app's minimum
    wait_until(lambda: tab.page.evaluate(size)[0] < 60, what="xterm.js to fit the small tab")
    columns, rows = tab.page.evaluate(size)
    tab.wait_for(f"this one is {columns}×{rows}")  # the app got exactly the tab's size
    tab.page.set_viewport_size({"width": 1600, "height": 900})
    wait_until(lambda: side_by_side(tab.screen()), what="the wide layout again")
    assert "t = 1 / 7" in tab.screen()


@needs_textual_serve
@needs_browser
def test_every_tab_is_its_own_session_and_process(server, context):
    first = Tab(context, server.url)
    first.wait_for("t = 1 / 7")
    first.press("ArrowRight")
    first.wait_for("t = 2 / 7")
    wait_until(lambda: len(server.apps()) == 1, what="one app process")
    (first_app,) = server.apps()

    second = Tab(context, server.url)
    second.wait_for("t = 1 / 7")  # a fresh app, not a view of the first
    wait_until(lambda: len(server.apps()) == 2, what="a second app process")
    assert first_app in server.apps()
    second.press("ArrowRight")
    second.press("ArrowRight")
    second.wait_for("t = 3 / 7")
    assert "t = 2 / 7" in first.screen()

    second.page.close()  # a closed tab ends its app, and only its app
    wait_until(lambda: server.apps() == [first_app], what="the second app to end")
    server.wait_for_line(r"session 2 closed")
    first.press("ArrowLeft")
    first.wait_for("t = 1 / 7")


@needs_textual_serve
@needs_browser
def test_saving_in_the_browser_downloads_instead_of_writing_on_the_server(server, context,
                                                                         tmp_path):
    tab = Tab(context, server.url)
    tab.wait_for("t = 1 / 7")
    tab.press("ArrowRight")
    tab.wait_for("t = 2 / 7")
    # textual.js opens the file's single-use URL in a new tab; Chromium reports the download
    # on the tab that opened it.
    with tab.page.expect_download(timeout=30_000) as started:
        tab.press("S")
    download = started.value
    assert re.fullmatch(r"gru-tui-session-\d{8}-\d{6}\.json", download.suggested_filename)
    session = json.loads(Path(download.path()).read_text())
    assert session["format"] == "gru-tui session" and session["t"] == 2
    with context.expect_page(timeout=30_000) as opened:
        tab.press("Control+s")  # the screenshot, which the browser must not take as its own
    screenshot = opened.value  # Textual has the browser show it, in a tab of its own
    # the SVG's own document is all the checks below need (a loaded machine may be slow to
    # fire "load" for it)
    screenshot.wait_for_load_state("domcontentloaded", timeout=60_000)
    assert "/download/" in screenshot.url
    assert screenshot.locator("svg").count() > 0
    assert list(tmp_path.iterdir()) == []  # nothing written where the server runs


@needs_textual_serve
@needs_browser
def test_max_sessions_turns_the_next_tab_away(context, tmp_path):
    server = Server("--max-sessions", "1", "--", *APP_ARGS, cwd=tmp_path)
    try:
        Tab(context, server.url).wait_for("t = 1 / 7")
        wait_until(lambda: len(server.apps()) == 1, what="one app process")
        turned_away = context.new_page()
        response = turned_away.goto(server.url)
        assert response.status == 503
        assert "The class is full" in turned_away.content()
        assert len(server.apps()) == 1
    finally:
        server.stop()


@needs_textual_serve
@needs_browser
def test_ctrl_c_ends_every_session_cleanly(context, tmp_path):
    server = Server("--", *APP_ARGS, cwd=tmp_path)
    tabs = [Tab(context, server.url) for _ in range(2)]
    for tab in tabs:
        tab.wait_for("t = 1 / 7")
    wait_until(lambda: len(server.apps()) == 2, what="two app processes")
    apps = server.apps()
    code, stderr = server.stop(signal.SIGINT)
    assert code == 0, stderr
    assert "Traceback" not in stderr + "".join(server.out)
    assert "stopped" in server.out[-1]
    for pid in apps:
        assert not Path(f"/proc/{pid}").exists(), f"app {pid} outlived the server"
