"""Redis pub/sub between servers (SPEC §13): one teacher, students on many machines.

``serve … --present --relay redis://…`` publishes every message of the lesson on the channel
``NAME:lesson`` and keeps the latest state in the key ``NAME:state``, for servers that join
late; ``serve … --follow redis://…`` subscribes and hands each message to its own students.
Those servers report their students on ``NAME:class``, which the teacher's status line adds
up. NAME is "gru-tui", or what the address asks for with ``?channel=NAME``.

A lost connection is retried with backoff; the students keep their last state meanwhile, and
the teacher's status line says so. A message too long or not a lesson's is dropped with a log
line. The password never appears in a log or status line (``redis://:***@host:6379/0``); it
may come from $GRU_TUI_REDIS_PASSWORD instead of the command line, which other users of the
machine can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import socket
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlsplit

from gru_tui.core.lesson import MAX_MESSAGE
from gru_tui.errors import InputError
from gru_tui.io.inputs import parse_json
from gru_tui.serve.shared import log

if TYPE_CHECKING:
    from gru_tui.serve.lesson import Lesson

PASSWORD_ENV = "GRU_TUI_REDIS_PASSWORD"
DEFAULT_CHANNEL = "gru-tui"
_CHANNEL = re.compile(r"[A-Za-z0-9._-]{1,64}")
STATE_TTL_S = 12 * 3600  # the latest state's key outlives a lesson by half a day at most
BACKOFF_S = (0.5, 8.0)  # the first wait before reconnecting, doubled up to the second
CLASS_EVERY_S = 5.0  # a following server's count of its students, at least this often
CLASS_GONE_S = 15.0  # a server not heard of for this long has no students any more
LISTEN_S = 1.0
DROPPED_LOG_EVERY_S = 10.0
USAGE = "a Redis address is redis://[:PASSWORD@]HOST[:PORT][/DB][?channel=NAME]"


@dataclass(frozen=True)
class RelayAddress:
    url: str  # for redis-py, the password in it
    shown: str  # for people: the password as ***
    channel: str
    password: str

    def secret(self, text: str) -> str:
        """`text` with the password, should a library have quoted it, blacked out."""
        return text.replace(self.password, "***") if self.password else text


def relay_address(text: str, flag: str) -> RelayAddress:
    """The address of --relay or --follow, checked (InputError says why, without the
    password)."""
    try:
        parts = urlsplit(text)
        port = parts.port or 6379
        host = parts.hostname
    except ValueError:
        raise InputError(f"{flag}: {USAGE}") from None
    if parts.scheme not in ("redis", "rediss") or not host:
        raise InputError(f"{flag}: {USAGE}")
    database = parts.path.strip("/") or "0"
    if not database.isdigit():
        raise InputError(f"{flag}: the database after the port is a number, like /0")
    query = parse_qs(parts.query, keep_blank_values=True)
    channel = query.pop("channel", [DEFAULT_CHANNEL])[-1]
    if query or not _CHANNEL.fullmatch(channel):
        raise InputError(f"{flag}: {USAGE}; NAME of letters, digits, . _ -")
    password = unquote(parts.password or "") or os.environ.get(PASSWORD_ENV, "")
    user = unquote(parts.username or "")
    where = f"[{host}]" if ":" in host else host
    login = f"{quote(user, safe='')}:{quote(password, safe='')}@" if password or user else ""
    shown_login = f"{user}:***@" if password else (f"{user}@" if user else "")
    suffix = f"{where}:{port}/{int(database)}"
    shown = f"{parts.scheme}://{shown_login}{suffix}"
    if channel != DEFAULT_CHANNEL:
        shown += f"?channel={channel}"
    return RelayAddress(f"{parts.scheme}://{login}{suffix}", shown, channel, password)


def need_redis(flag: str) -> None:
    """redis-py comes with the [serve] extra: without it, say so."""
    try:
        import redis.asyncio  # noqa: F401
    except ImportError:
        raise InputError(f"install gru-tui[serve] to use {flag} (it needs redis)") from None


class _Drops:
    """Log lines for dropped messages: the first at once, then a count at most every 10 s."""

    def __init__(self) -> None:
        self.since = 0.0
        self.count = 0

    def dropped(self, why: str) -> None:
        now = time.monotonic()
        if now - self.since >= DROPPED_LOG_EVERY_S:
            more = f" (and {self.count} more before it)" if self.count else ""
            log(f"relay: {why}{more}")
            self.since, self.count = now, 0
        else:
            self.count += 1


class Relay:
    """This server's side of the relay: publishing the teacher's messages, or following."""

    def __init__(self, address: RelayAddress, lesson: Lesson, publishing: bool) -> None:
        import redis.asyncio  # the [serve] extra; checked when the options were

        self.redis = redis
        self.address = address
        self.lesson = lesson
        self.publishing = publishing
        self.lesson_channel = f"{address.channel}:lesson"
        self.state_key = f"{address.channel}:state"
        self.class_channel = f"{address.channel}:class"
        self.server = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._waiting: deque[tuple[bytes, str]] = deque()  # (message, kind) not yet published
        self._wake = asyncio.Event()
        self._counts = (0, 0)
        self._servers: dict[str, tuple[float, tuple[int, int]]] = {}
        self._drops = _Drops()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def offer(self, line: bytes, what: str) -> None:
        """A message of kind `what` for the other servers; a newer state replaces one not
        yet sent."""
        if what == "state":
            self._drop_waiting_states()
        self._waiting.append((line, what))
        self._wake.set()

    def _drop_waiting_states(self) -> None:
        self._waiting = deque(item for item in self._waiting if item[1] != "state")

    def class_changed(self, counts: tuple[int, int]) -> None:
        self._counts = counts
        self._wake.set()

    async def stop(self) -> None:
        """Give what is waiting a moment to go out, then close."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while self._waiting and self.lesson.relay_status == "ok":
                    await asyncio.sleep(0.02)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    # -- the connection --------------------------------------------------------------------

    async def _run(self) -> None:
        errors = self.redis.exceptions.RedisError, OSError
        delay = BACKOFF_S[0]
        while True:
            client = self.redis.asyncio.from_url(
                self.address.url, socket_connect_timeout=5, socket_timeout=10,
                health_check_interval=10)
            started = time.monotonic()
            reason = ""
            try:
                await client.ping()
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._listen(client))
                    group.create_task(self._send(client))
            except* errors as failure:
                reason = self.address.secret(str(failure.exceptions[0]) or
                                             type(failure.exceptions[0]).__name__)
            finally:
                with contextlib.suppress(*errors):
                    await client.aclose()
            if time.monotonic() - started > 2 * BACKOFF_S[1]:
                delay = BACKOFF_S[0]  # it had been up a good while: start the backoff again
            self.lesson.relay_said(f"lost, retrying in {delay:g} s", reason[:120])
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_S[1])

    async def _listen(self, client) -> None:
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.class_channel if self.publishing
                                   else self.lesson_channel)
            if not self.publishing:  # a server joining late starts from the latest state
                latest = await client.get(self.state_key)
                if latest is not None:
                    self._deliver(latest)
            self.lesson.relay_said("ok")
            while True:
                item = await pubsub.get_message(ignore_subscribe_messages=True,
                                                timeout=LISTEN_S)
                if item is not None and item.get("type") == "message":
                    if self.publishing:
                        self._heard_of(item["data"])
                    else:
                        self._deliver(item["data"])
                if self.publishing:
                    self._forget_silent_servers()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _send(self, client) -> None:
        if self.publishing:  # after a loss, the other servers catch up with the latest
            self._drop_waiting_states()
            self._waiting.extendleft(reversed(list(self.lesson.catch_up())))
        sent_counts = None
        last_beat = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLASS_EVERY_S / 2):
                    await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                line, what = self._waiting[0]
                async with client.pipeline(transaction=False) as pipe:
                    if what != "marker":  # the state, or the end: what a late server needs
                        pipe.set(self.state_key, line, ex=STATE_TTL_S)
                    pipe.publish(self.lesson_channel, line)
                    await pipe.execute()
                self._waiting.popleft()
            beat = time.monotonic() - last_beat >= CLASS_EVERY_S
            if not self.publishing and (self._counts != sent_counts or beat):
                following, exploring = self._counts
                await client.publish(self.class_channel, json.dumps(
                    {"server": self.server, "following": following, "exploring": exploring}))
                sent_counts, last_beat = self._counts, time.monotonic()

    # -- what comes in ---------------------------------------------------------------------

    def _deliver(self, data: bytes) -> None:
        if len(data) > MAX_MESSAGE:
            self._drops.dropped(f"dropped a message of {len(data)} bytes, more than the "
                                f"{MAX_MESSAGE} a message may have")
            return
        self.lesson.take(data, "the relay", self._drops.dropped)

    def _heard_of(self, data: bytes) -> None:
        """A following server's count of its students."""
        try:
            report = parse_json(data)  # never a RecursionError
            server, counts = report["server"], (report["following"], report["exploring"])
            if not (isinstance(server, str) and len(server) <= 200
                    and all(isinstance(n, int) and 0 <= n < 100_000 for n in counts)):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            self._drops.dropped("dropped a message that is not a server's count of its "
                                "students")
            return
        self._servers[server] = (time.monotonic(), counts)
        self._forget_silent_servers()

    def _forget_silent_servers(self) -> None:
        now = time.monotonic()
        self._servers = {server: heard for server, heard in self._servers.items()
                         if now - heard[0] < CLASS_GONE_S}
        self.lesson.other_servers({server: counts for server, (_, counts)
                                   in self._servers.items()})
