"""The app's own messages: small dataclasses, as toolong's are."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class ExplorerChanged(Message):
    """The explorer's state changed (a step, an edit, a new setting): a screen showing it
    over the main screen redraws."""
