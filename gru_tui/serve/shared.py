"""What both servers share: the command line of a student's app (checked once, before the
server starts), the largest app they start, the log line, and how durations and a client's
words are written."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from gru_tui.errors import InputError

# What any real screen holds: a client that claims a larger window gets an app of this size
# (the app's memory grows with its size: 100000×100000 would take the machine down).
MAX_COLUMNS, MAX_ROWS = 1000, 500


def app_size(columns: int, rows: int) -> tuple[int, int]:
    """The size a student's app gets for a window of `columns` × `rows`."""
    return max(0, min(int(columns), MAX_COLUMNS)), max(0, min(int(rows), MAX_ROWS))


def app_command(app_args: list[str]) -> list[str]:
    """The command line that starts one student's app."""
    return [sys.executable, "-m", "gru_tui", *app_args]


def checked_app_args(app_args: list[str]) -> list[str]:
    """The teacher's app options, after the app itself accepted them (else InputError)."""
    args = [arg for arg in app_args if arg != "--"]
    completed = subprocess.run([*app_command(args), "--check"], capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, timeout=120)
    if completed.returncode != 0:
        reason = _last_message(completed.stderr) or f"exit code {completed.returncode}"
        raise InputError(f"the options after -- are not ones the app accepts: {reason}")
    return args


def served_args(weights_dir: Path | None) -> list[str]:
    """What tells every student's app that it is served: it writes nothing on this machine,
    and its l opens the shipped examples and the files under `weights_dir` only."""
    return ["--served", *(["--served-weights-dir", str(weights_dir)] if weights_dir else [])]


def checked_weights_dir(folder: str | None) -> Path | None:
    """--weights-dir as an absolute folder (None when not given), else InputError."""
    if folder is None:
        return None
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise InputError(f"--weights-dir {folder} is not a folder")
    return path.resolve()


def weights_dir_line(weights_dir: Path | None) -> str:
    """What students' l opens, for the banner."""
    if weights_dir is None:
        return "l opens the shipped examples only (--weights-dir DIR offers the files in DIR)"
    return f"l opens the shipped examples and the files in {weights_dir}"


def _last_message(stderr: str) -> str:
    """The last line of an error, without the usage box's frame."""
    lines = [line.strip("│╭╮╰╯─ ") for line in stderr.splitlines()]
    lines = [line for line in lines if line and line != "Error" and not line.startswith("Try ")]
    return lines[-1].removeprefix("gru-tui: error: ") if lines else ""


def log(message: str, file=None) -> None:
    """One line with the time, on stderr unless told otherwise."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=file or sys.stderr, flush=True)


class Throttled:
    """A log for lines that can come in floods (an exhausted resource, refusals): each text
    at most once per `period` seconds."""

    def __init__(self, period: float = 60.0, file=None) -> None:
        self.period, self.file = period, file
        self._last: dict[str, float] = {}

    def __call__(self, message: str, kind: str | None = None) -> None:
        """Log `message` unless one of its `kind` (default: the same text) was logged less
        than a period ago."""
        kind = message if kind is None else kind
        now = time.monotonic()
        if now - self._last.get(kind, -self.period) < self.period:
            return
        if len(self._last) > 100:  # the kinds seen long ago
            self._last = {seen: t for seen, t in self._last.items() if now - t < self.period}
        self._last[kind] = now
        log(message, self.file)


def duration(seconds: float) -> str:
    """12s, 3m05s, 1h02m."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def printable(text: str, limit: int = 64) -> str:
    """A client's words (user name, TERM) made safe for the teacher's terminal and log."""
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit])


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
