"""What both servers share: the command line of a student's app (checked once, before the
server starts), the log line, and how durations and a client's words are written."""

from __future__ import annotations

import subprocess
import sys
import time

from gru_tui.errors import InputError


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


def _last_message(stderr: str) -> str:
    """The last line of an error, without the usage box's frame."""
    lines = [line.strip("│╭╮╰╯─ ") for line in stderr.splitlines()]
    lines = [line for line in lines if line and line != "Error" and not line.startswith("Try ")]
    return lines[-1].removeprefix("gru-tui: error: ") if lines else ""


def log(message: str, file=None) -> None:
    """One line with the time, on stderr unless told otherwise."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=file or sys.stderr, flush=True)


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
