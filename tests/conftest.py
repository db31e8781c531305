"""Shared test settings: a plain, reproducible environment for every test."""

import pytest


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    """Colour and theme come from the test, never from the developer's shell."""
    for name in ("NO_COLOR", "TEXTUAL_THEME", "FORCE_COLOR", "COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
