"""SPEC §10: the package's layers. `lint-imports` (CI) checks that imports only go down the
layers; these tests check what a layers contract cannot: no import circles between modules,
and no module loose at the package's top."""

from __future__ import annotations

from pathlib import Path

import pytest

import gru_tui

grimp = pytest.importorskip("grimp")  # comes with import-linter, in the test extra

PACKAGE = Path(gru_tui.__file__).parent
LAYERS = ("cli", "serve", "app", "render", "core", "io", "engine")


def import_circles(graph) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(component)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return circles


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("gru_tui", exclude_type_checking_imports=True)


def test_no_import_circles(graph):
    assert import_circles(graph) == []


def test_the_circle_finder_sees_a_circle(graph):
    """Not vacuous: one added import back up makes a circle it reports."""
    graph.add_import(importer="gru_tui.engine.gates", imported="gru_tui.engine.cells")
    circles = import_circles(graph)
    assert any({"gru_tui.engine.gates", "gru_tui.engine.cells"} <= circle for circle in circles)
    graph.remove_import(importer="gru_tui.engine.gates", imported="gru_tui.engine.cells")


def test_every_module_lives_in_a_layer():
    """At the top only the public API, the entry point, the errors and data folders."""
    loose = {path.name for path in PACKAGE.glob("*.py")}
    assert loose == {"__init__.py", "__main__.py", "errors.py"}
    folders = {path.name for path in PACKAGE.iterdir()
               if path.is_dir() and path.name != "__pycache__"}
    assert folders == {*LAYERS, "examples"}
