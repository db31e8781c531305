"""`gru-tui serve web`: the app in web browsers, one app process per tab (SPEC §9).

Built on textual-serve: its page runs xterm.js and opens a websocket; every websocket gets its
own app process, driven by Textual's web driver over pipes. On top of textual-serve this module

- binds the listening sockets itself, first, so a port in use is a one-line error;
- writes the page's websocket and static URLs from the address the browser used (its Host
  header), or from ``--public-url`` behind a proxy, instead of textual-serve's fixed
  ``http://HOST:PORT``, which is unreachable from other machines when HOST is 0.0.0.0; and
  answers only for this machine's own names and addresses and --public-url's host, so a
  page of another site cannot reach it by DNS rebinding (``X-Forwarded-*`` headers are never
  taken: behind a proxy, --public-url says where students are);
- closes a connection that has not sent a whole request within REQUEST_TIMEOUT_S;
- starts each app without a shell, in its own process group, so the teacher's Ctrl+C reaches
  only the server, which then ends every session and returns without a traceback;
- bounds the class with ``--max-sessions`` and logs one line per tab opened or closed;
- refuses websockets whose Origin is not the page's own (another site's page in a student's
  browser), and ignores frames it cannot read (deeply nested JSON, sizes like Infinity);
- tells every app that it is served (it writes nothing on this machine; `l` opens only the
  shipped examples and the files under --weights-dir);
- serves its own page (templates/page.html), which loads nothing from other sites.

textual-serve is imported only here, and only when the server starts: without it, the command
says which extra to install.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import json
import os
import shlex
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from gru_tui.errors import InputError
from gru_tui.serve.lesson import NO_LINK, Lesson
from gru_tui.serve.shared import (
    MAX_COLUMNS,
    MAX_ROWS,
    Throttled,
    app_command,
    duration,
    log,
    printable,
    served_args,
    weights_dir_line,
)

TITLE = "gru-tui"
GRACE = 5.0  # seconds an app has to quit before its process group is killed
# A connection must have sent a whole request this long after it opened or after the last
# answer (aiohttp's keep-alive timer, which also closes half-sent requests), else it closes.
REQUEST_TIMEOUT_S = 10.0
ALL_INTERFACES = ("0.0.0.0", "::", "")
# Our page, not textual-serve's: no fonts from Google, a plain "session ended" notice.
TEMPLATES = str(Path(__file__).with_name("templates"))


def run_web_server(*, host: str, port: int, app_args: list[str], public_url: str | None = None,
                   max_sessions: int | None = None, lesson: Lesson | None = None,
                   weights_dir: Path | None = None) -> None:
    """Serve the app until Ctrl+C (SIGINT) or SIGTERM; every browser tab gets its own app
    (following the teacher of `lesson`, when there is one)."""
    server_class = _server_class()
    public_url = _checked_public_url(public_url)
    if max_sessions is not None and max_sessions < 1:
        raise InputError(f"--max-sessions must be at least 1, not {max_sessions}")
    sockets = listen(host, port)
    port = sockets[0].getsockname()[1]
    urls = [public_url] if public_url else student_urls(host, port)
    server = server_class(app_command([*app_args, *served_args(weights_dir)]),
                          public_url=public_url, max_sessions=max_sessions, lesson=lesson,
                          hosts=answered_hosts(host, public_url))
    with lesson.output() if lesson else contextlib.nullcontext():
        server.run(sockets, announce=lambda: _announce(host, port, urls, app_args, max_sessions,
                                                       weights_dir),
                   connect=urls[0])


# -- the listening sockets -------------------------------------------------------------------


def listen(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address HOST names (one port for all), else InputError."""
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"--host {host} is not an address to listen on: {reason}") from None
    sockets: list[socket.socket] = []
    seen = set()
    # "::" alone listens for IPv4 too; a name with both kinds of address gets a socket of each.
    v6only = len({info[0] for info in infos}) > 1
    try:
        for family, kind, proto, _, address in infos:
            if (family, address[:2]) in seen:
                continue
            seen.add((family, address[:2]))
            if sockets:  # port 0: every address listens on the port the first one got
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
            sock.bind(address)
            sock.listen(128)
            sock.setblocking(False)
    except OSError as error:
        for sock in sockets:
            sock.close()
        raise InputError(_listen_problem(error, host, port, where)) from None
    return sockets


def _listen_problem(error: OSError, host: str, port: int, where: str) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"port {port} is in use on {host or 'all addresses'}: choose another with --port"
    if error.errno == errno.EACCES:
        return f"no permission to listen on {where} (ports below 1024 need privileges)"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine"
    return f"cannot listen on {where}: {error.strerror or error}"


# -- the addresses students open ------------------------------------------------------------


def _checked_public_url(public_url: str | None) -> str | None:
    if public_url is None:
        return None
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"--public-url {public_url!r} is not an http:// or https:// address "
                         "like https://gru.example.org or http://192.168.1.20:8000")
    return public_url.rstrip("/")


def student_urls(host: str, port: int) -> list[str]:
    """The addresses to give the class: this machine's LAN address and name for 0.0.0.0."""
    if host not in ALL_INTERFACES:
        return [_url(host, port)]
    names = []
    # No packet is sent: connecting a UDP socket only picks the outgoing interface.
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            names.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        names.append(socket.gethostname())
    names = [name for name in dict.fromkeys(names) if name and name != "0.0.0.0"]
    return [_url(name, port) for name in names] or [_url("localhost", port)]


def answered_hosts(host: str, public_url: str | None) -> frozenset[str]:
    """The names a browser may ask this server for (any address too, see `answers_for`):
    this machine's names, the one it listens on, and --public-url's host."""
    names = {socket.gethostname()}
    with contextlib.suppress(OSError):
        names.add(socket.getfqdn())
    if host not in ALL_INTERFACES:
        names.add(host)
    if public_url:
        names.add(urlsplit(public_url).hostname or "")
    return frozenset(name.lower().rstrip(".") for name in names if name)


def answers_for(host_header: str | None, hosts: frozenset[str]) -> bool:
    """Whether a request for `host_header` is for this server. An address is (a browser that
    used it came here); a name must be localhost, one of `hosts` or end in .localhost, so a
    page whose name someone else's DNS points here (DNS rebinding) gets nothing."""
    if host_header is None:  # HTTP/1.0, not a browser
        return True
    try:
        parts = urlsplit(f"//{host_header}")
        name, _ = parts.hostname, parts.port
    except ValueError:  # a port that is not one, a bracket not closed
        return False
    if not name:
        return False
    name = name.rstrip(".")
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return name in hosts or name == "localhost" or name.endswith(".localhost")


def _url(host: str, port: int) -> str:
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}" if port == 80 else f"http://{host}:{port}"


def _announce(host: str, port: int, urls: list[str], app_args: list[str],
              max_sessions: int | None, weights_dir: Path | None) -> None:
    also = f" (or {', '.join(urls[1:])})" if len(urls) > 1 else ""
    _say(f"serving the app on the web: students open {urls[0]}{also}")
    details = ["one session per browser tab"]
    if max_sessions:
        details.append(f"at most {max_sessions} at once")
    if app_args:
        details.append(f"every app starts with {shlex.join(app_args)}")
    _say("; ".join(details) + "; Ctrl+C stops the server and every session")
    _say(f"{weights_dir_line(weights_dir)}; files students save come to their browser")
    if host not in ("127.0.0.1", "::1", "localhost"):
        _say(f"no login: anyone who can reach this machine on port {port} gets a session")


def _say(line: str) -> None:
    print(f"gru-tui: {line}", flush=True)


def _log(line: str) -> None:
    log(line, file=sys.stdout)


# -- the server, on top of textual-serve -----------------------------------------------------


def _server_class():
    """The server class, built on textual-serve when it is installed (else InputError)."""
    try:
        import aiohttp_jinja2
        from aiohttp import WSMsgType, web
        from textual_serve.app_service import AppService
        from textual_serve.server import Server
    except ImportError:
        raise InputError("install gru-tui[serve] to serve the app on the web") from None

    class AppProcess(AppService):
        """One tab's app: started without a shell, in a process group of its own."""

        def __init__(self, argv: list[str], pass_fds: tuple[int, ...] = (), **kwargs) -> None:
            super().__init__(shlex.join(argv), **kwargs)
            self.argv = argv
            self.pass_fds = pass_fds  # open in the app too (a lesson's socket)
            self._ending: asyncio.Task | None = None

        async def _open_app_process(self, width: int = 80, height: int = 24):
            environment = self._build_environment(width=width, height=height)
            pipe = asyncio.subprocess.PIPE
            self._process = await asyncio.create_subprocess_exec(
                *self.argv, stdin=pipe, stdout=pipe, stderr=pipe, env=environment,
                start_new_session=True, pass_fds=self.pass_fds)
            self._stdin = self._process.stdin
            return self._process

        def end(self) -> asyncio.Task:
            """Ask the app to quit; kill its process group if it has not after GRACE seconds."""
            if self._ending is None:
                self._ending = asyncio.ensure_future(self._end())
            return self._ending

        async def _end(self) -> None:
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.stop()), GRACE)
            process = self._process
            if process is None:
                return
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            if self._task is not None:  # the reader ends at the end of the pipe
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
                self._task = None

    class WebServer(Server):
        def __init__(self, argv: list[str], *, public_url: str | None,
                     max_sessions: int | None, lesson: Lesson | None,
                     hosts: frozenset[str]) -> None:
            super().__init__(shlex.join(argv), title=TITLE, public_url=public_url or "",
                             templates_path=TEMPLATES)
            self.argv = argv
            self.fixed_url = public_url
            self.max_sessions = max_sessions
            self.hosts = hosts
            self.sessions: dict[int, Session] = {}
            self.opened = 0
            self.lesson = lesson
            self.refusals = Throttled(file=sys.stdout)

        # The page: URLs from the address the browser used, unless --public-url says better.

        def base_url(self, request) -> str:
            return self.fixed_url or f"{request.scheme}://{request.host}"

        async def _make_app(self):
            app = await super()._make_app()
            app.middlewares.append(self.only_own_hosts)
            return app

        @web.middleware
        async def only_own_hosts(self, request, handler):
            """Every request names this server in its Host header, or gets nothing."""
            host = request.headers.get("Host")
            if not answers_for(host, self.hosts):
                self.refusals(f"refused requests for host {printable(host or '', 80)!r}, "
                              "which this server does not answer for (another name for it? "
                              "--public-url http://NAME:PORT)", kind="host")
                raise web.HTTPMisdirectedRequest(
                    text="gru-tui: this server does not answer for that host name\n")
            return await handler(request)

        def full(self) -> bool:
            return self.max_sessions is not None and len(self.sessions) >= self.max_sessions

        async def handle_index(self, request):
            if self.full():
                return web.Response(status=503, content_type="text/html", text=_full_page(
                    self.max_sessions))
            base = self.base_url(request)
            websocket_scheme = "wss" if base.startswith("https:") else "ws"
            font_size = _whole(request.query.get("fontsize"), 16, 6, 64)
            context = {
                "title": TITLE,
                "font_size": font_size,
                "websocket_url": f"{websocket_scheme}:{base.split(':', 1)[1]}/ws",
                "static": f"{base}/static/",
            }
            return aiohttp_jinja2.render_template("page.html", request, context)

        # One websocket, one tab, one app process.

        async def handle_websocket(self, request):
            peer = request.remote or "?"
            origin = request.headers.get("Origin")
            if origin is not None and _origin(origin) != _origin(self.base_url(request)):
                # Another site's page, in a student's browser, may not open sessions here.
                _log(f"refused a websocket from {peer} for a page of {printable(origin)}")
                raise web.HTTPForbidden(text="gru-tui: sessions open from this server's page\n")
            websocket = web.WebSocketResponse(heartbeat=15)
            await websocket.prepare(request)
            if self.full():
                _log(f"refused a tab from {peer}: {self.max_sessions} sessions are running")
                await websocket.send_bytes(
                    f"\r\n The class is full ({self.max_sessions} sessions); try again "
                    "later.\r\n".encode())
                await websocket.close()
                return websocket
            width = _whole(request.query.get("width"), 80, 10, MAX_COLUMNS)
            height = _whole(request.query.get("height"), 24, 4, MAX_ROWS)
            self.opened += 1
            number = self.opened
            link = self.lesson.student() if self.lesson else NO_LINK
            app = AppProcess(self.argv + link.args, pass_fds=link.pass_fds,
                             write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                             close=websocket.close, download_manager=self.download_manager)
            session = Session(number, peer, app)
            self.sessions[number] = session
            _log(f"session {number} opened from {peer} ({len(self.sessions)} running)")
            try:
                await app.start(width, height)
                link.started()
                await self.relay(websocket, app)
            except asyncio.CancelledError:
                pass
            except Exception as error:  # a broken tab never stops the server
                _log(f"session {number}: {type(error).__name__}: {error}")
            finally:
                link.close()
                await asyncio.shield(app.end())
                del self.sessions[number]
                _log(f"session {number} closed after {session.age()} "
                     f"({len(self.sessions)} running)")
                with contextlib.suppress(Exception):
                    await websocket.close()
            return websocket

        async def relay(self, websocket, app) -> None:
            """The browser's keys, mouse, size and focus, to the app."""
            async for message in websocket:
                if message.type != WSMsgType.TEXT:
                    continue
                kind, data = _frame(message.data)
                if kind == "stdin" and isinstance(data, str):
                    await app.send_bytes(data.encode("utf-8"))
                elif kind == "resize" and isinstance(data, dict):
                    await app.set_terminal_size(_whole(data.get("width"), 80, 10, MAX_COLUMNS),
                                                _whole(data.get("height"), 24, 4, MAX_ROWS))
                elif kind == "ping":
                    await websocket.send_json(["pong", data])
                elif kind == "blur":
                    await app.blur()
                elif kind == "focus":
                    await app.focus()

        async def on_startup(self, app) -> None:
            """No banner from textual-serve: `run` says where to go."""

        # Running and stopping.

        def run(self, sockets: list[socket.socket], announce, connect: str) -> None:
            asyncio.run(self.main(sockets, announce, connect))

        async def main(self, sockets: list[socket.socket], announce, connect: str) -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(number, stop.set)
            runner = web.AppRunner(await self._make_app(), handle_signals=False,
                                   access_log=None, shutdown_timeout=GRACE,
                                   keepalive_timeout=REQUEST_TIMEOUT_S)
            await runner.setup()
            try:
                for sock in sockets:
                    await web.SockSite(runner, sock).start()
                announce()
                if self.lesson:
                    await self.lesson.start(connect)
                await stop.wait()
                if self.lesson:
                    await self.lesson.stop()
                if self.sessions:
                    _say(f"stopping: ending {len(self.sessions)} session(s)")
                await asyncio.gather(*(session.app.end() for session in
                                       list(self.sessions.values())))
            finally:
                await runner.cleanup()
                for number in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(number)
            _say("stopped")

    return WebServer


@dataclass
class Session:
    number: int
    peer: str
    app: object
    started: float = field(default_factory=time.monotonic)

    def age(self) -> str:
        return duration(time.monotonic() - self.started)


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, as a browser writes its Origin header."""
    parts = urlsplit(url.strip().lower())
    netloc = parts.netloc
    default = {"http": ":80", "https": ":443"}.get(parts.scheme)
    if default and netloc.endswith(default):
        netloc = netloc.removesuffix(default)
    return f"{parts.scheme}://{netloc}"


def _frame(text: str) -> tuple[object, object]:
    """(kind, data) of a textual.js message; (None, None) for anything else (not JSON, JSON
    nested too deeply to read, not a pair), which the relay ignores."""
    try:
        kind, data = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None, None
    return kind, data


def _whole(value, default: int, low: int, high: int) -> int:
    """A size from the browser, as an int within [low, high]; junk (a string, NaN,
    Infinity) gives the default."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return min(max(number, low), high)


def _full_page(max_sessions: int | None) -> str:
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>gru-tui: the class is full"
            "</title></head><body style='font-family: sans-serif; margin: 3em'>"
            f"<h1>The class is full</h1><p>{max_sessions} sessions are running, the most this "
            "server takes. Reload this page when someone has closed theirs.</p></body></html>")
