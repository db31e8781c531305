"""SPEC §8: `import gru_tui` must not import Textual; the engine and the data modules stay
free of every UI library (textual, rich, typer), so notebooks and scripts load numpy only."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import gru_tui

UI_LIBRARIES = ("textual", "rich", "typer")
PACKAGE = Path(gru_tui.__file__).parent

PROBE = """
import json, sys
{imports}
ui = sorted(name for name in sys.modules
            if name.split(".")[0] in {libraries!r})
print(json.dumps(ui))
"""


@pytest.mark.parametrize("imports", [
    "import gru_tui",
    "import gru_tui.engine",
    "import gru_tui.io.inputs, gru_tui.io.presets, gru_tui.io.records, gru_tui.scenario",
    "import gru_tui, gru_tui.engine, gru_tui.io.inputs, gru_tui.io.presets, "
    "gru_tui.io.records, gru_tui.scenario, gru_tui.errors",
    "import gru_tui.io.weights",
])
def test_import_loads_no_ui_library(imports):
    code = PROBE.format(imports=imports, libraries=set(UI_LIBRARIES))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"{imports!r} loaded {loaded}"


def test_the_probe_can_see_a_ui_import():
    """The check above is not vacuous: importing the CLI does pull in typer."""
    code = PROBE.format(imports="import gru_tui.cli", libraries=set(UI_LIBRARIES))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "typer" in json.loads(result.stdout.strip().splitlines()[-1])


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every import statement in a file, wherever it sits (functions
    included)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)):
            roots.add(str(node.args[0].value).split(".")[0])
    return roots


ENGINE_FILES = sorted((PACKAGE / "engine").glob("*.py"))


def test_engine_files_found():
    names = {path.name for path in ENGINE_FILES}
    assert {"__init__.py", "cells.py", "activations.py"} <= names


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: p.name)
def test_engine_sources_import_no_ui_library(path):
    bad = imported_roots(path) & set(UI_LIBRARIES)
    assert not bad, f"{path.name} imports {sorted(bad)}"
    text = path.read_text(encoding="utf-8")
    for library in UI_LIBRARIES:  # no sneaking in through __import__("rich") either
        assert f'__import__("{library}' not in text and f"__import__('{library}" not in text
