"""No import cycle inside the package (issue 11): every module-to-module import, at any depth (function
bodies and ``TYPE_CHECKING`` blocks included), forms a graph without cycles."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "provider" / "bedrock_rft_provider"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports. ``from pkg import mod`` is an edge to ``pkg.mod``
    (a submodule's implicit import of its parent package is not a cycle)."""
    paths = {_module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                    package = package[: len(package) - (node.level - 1)]
                    base = ".".join([*package, *([base] if base else [])])
                modules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in paths]
                targets = modules if len(modules) == len(node.names) else [base, *modules]
            graph[name].update(t for t in targets if t in paths and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle() -> None:
    assert cycles(import_graph(PACKAGE)) == []


def test_the_detector_finds_a_lazy_and_a_type_checking_cycle(tmp_path: Path) -> None:
    """The shape the sandbox had: a function-level import one way, a TYPE_CHECKING import back."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "plane.py").write_text("def start():\n    from pkg.training import Run\n")
    (pkg / "training.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .plane import start\n"
    )
    (pkg / "other.py").write_text("from pkg import plane, training\n")
    assert cycles(import_graph(pkg)) == [["pkg.plane", "pkg.training"]]


def test_importing_a_submodule_from_its_package_is_not_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("def lazy():\n    from pkg.server import serve\n")
    (pkg / "server.py").write_text("from pkg import config\n")
    (pkg / "config.py").write_text("")
    assert cycles(import_graph(pkg)) == []
