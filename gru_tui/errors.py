"""The one exception for bad data from a user, its kind that names a setting, and how any
message is made safe to show."""

from __future__ import annotations

from collections.abc import Mapping


class InputError(ValueError):
    """Bad values, rows, files or shapes: the message is one line naming what and where."""


class SettingError(InputError):
    """A bad setting of a run, said in the domain's words ("hidden size must be …").

    The message is a template with a ``{setting}`` field for each setting it names, so the
    command line can say ``--hidden`` and a session file ``"hidden"``: :meth:`worded` fills
    in their own names. Values are already in the template (braces doubled).
    """

    # How the headless core calls the settings.
    NAMES: Mapping[str, str] = {
        "models": "models", "hidden": "hidden size", "seed": "seed", "steps": "steps",
        "inputs": "inputs", "preset": "preset", "h0": "h0", "c0": "c0",
    }

    def __init__(self, template: str) -> None:
        self.template = template
        super().__init__(self.worded(self.NAMES))

    def worded(self, names: Mapping[str, str]) -> str:
        """The message with each setting called as `names` says (the core's name otherwise)."""
        return self.template.format_map({**self.NAMES, **names})

    @staticmethod
    def quote(value: object) -> str:
        """A value for a template: its text with braces doubled."""
        return str(value).replace("{", "{{").replace("}", "}}")


def escaped(message: str) -> str:
    """`message` with every control or invisible character written as its escape (\\n,
    \\x1b, \\u202e): one line on any terminal, and nothing in it a terminal would obey."""
    if message.isprintable():
        return message
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)
