"""SPEC §8 and §10: `import gru_tui` loads numpy only; the engine needs numpy and nothing
else; io and core (the headless layers) import no UI library; render imports rich but never
Textual or typer. Checked in fresh interpreters, by what really lands in sys.modules."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import gru_tui

PACKAGE = Path(gru_tui.__file__).parent

PROBE = """
import importlib, json, sys
for name in {modules!r}:
    importlib.import_module(name)
third_party = sorted({{name.split(".")[0] for name in sys.modules}}
                     - set(sys.stdlib_module_names) - {{"gru_tui", "__main__", "_distutils_hack"}})
print(json.dumps(third_party))
"""


def modules_of(layer: str) -> list[str]:
    """Every module of one layer, by name."""
    folder = PACKAGE / layer
    return [f"gru_tui.{layer}"] + [f"gru_tui.{layer}.{info.name}"
                                   for info in pkgutil.walk_packages([str(folder)])]


def third_party_loaded(modules: list[str]) -> list[str]:
    """The non-standard-library packages importing `modules` loads, in a new interpreter."""
    result = subprocess.run([sys.executable, "-c", PROBE.format(modules=modules)],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_gru_tui_loads_numpy_only():
    assert third_party_loaded(["gru_tui"]) == ["numpy"]


def test_the_engine_needs_numpy_only():
    assert third_party_loaded(modules_of("engine")) == ["numpy"]


@pytest.mark.parametrize("layer", ["io", "core"])
def test_the_headless_layers_load_no_ui_library(layer):
    loaded = third_party_loaded(modules_of(layer))
    assert not set(loaded) & {"rich", "textual", "typer"}, loaded


def test_render_loads_rich_but_no_textual():
    loaded = third_party_loaded(modules_of("render"))
    assert "rich" in loaded and not set(loaded) & {"textual", "typer"}, loaded


def test_the_probe_can_see_a_ui_import():
    """The checks above are not vacuous: importing the app does pull in Textual."""
    assert "textual" in third_party_loaded(["gru_tui.app.app"])


def test_every_layer_is_probed():
    names = {name for layer in ("engine", "io", "core", "render") for name in modules_of(layer)}
    assert {"gru_tui.engine.gates", "gru_tui.io.weights", "gru_tui.core.explorer",
            "gru_tui.render.console"} <= names
