"""The lesson's part of the status line: who follows whom (SPEC §13), drawn before the rest."""

from __future__ import annotations

from rich.text import Text


def lesson_notice(text: str) -> Text:
    """" following the teacher · f explores on your own " in reverse, or nothing."""
    return Text.assemble((f" {text} ", "bold reverse"), " ") if text else Text()
