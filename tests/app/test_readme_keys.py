"""The README's key tables name every key of the one registry (gru_tui/app/keys.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gru_tui.app.keys import KEYS

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
TABLE_KEYS = {cell for row in re.findall(r"^\|(.+)\|$", README, re.M)
              for cell in re.findall(r"`([^`]+)`", row)}


def shown(key) -> list[str]:
    """How the help screen writes a key, split as the README's rows write it ("d / escape")."""
    return [part.strip() for part in (key.shown or key.keys).split(" / ")]


@pytest.mark.parametrize("key", KEYS, ids=lambda key: f"{key.keys}:{key.action}")
def test_every_registered_key_is_in_a_readme_table(key):
    missing = [name for name in shown(key) if name not in TABLE_KEYS]
    assert not missing, f"README has no table row with `{missing[0]}` ({key.description})"
