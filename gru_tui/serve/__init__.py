"""Classroom serving: one gru-tui app per student, over SSH or in a browser (SPEC §9).

Both servers start every student's app as its own process with the same command line, the
teacher's options after `--`; those options are checked once, before the server starts.
"""

from __future__ import annotations

import subprocess
import sys

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
