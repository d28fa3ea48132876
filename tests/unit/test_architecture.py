"""The architecture rules of DESIGN.md, enforced on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "provider" / "bedrock_rft_provider"
PURE_CORE = ["data", "rewards", "jobs", "evaluation"]


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the file's package
                parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)[: -node.level]
                base = ".".join(parts)
                found.append((node.lineno, f"{base}.{node.module}" if node.module else base))
            elif node.module:
                found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("folder", PURE_CORE)
def test_pure_core_never_imports_airflow(folder: str) -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}: imports {module}"
        for path in sorted((PACKAGE / folder).rglob("*.py"))
        for line, module in _imported_modules(path)
        if module == "airflow" or module.startswith("airflow.")
    ]
    assert offenders == []


def test_rewards_imports_nothing_else_from_the_package() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}: imports {module}"
        for path in sorted((PACKAGE / "rewards").rglob("*.py"))
        for line, module in _imported_modules(path)
        if module.startswith("bedrock_rft_provider") and not module.startswith("bedrock_rft_provider.rewards")
    ]
    assert offenders == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """Guard against a checker that passes because it parses nothing."""
    bad = tmp_path / "bad.py"
    bad.write_text("from airflow.sdk import DAG\nimport os, airflow\n\ndef f():\n    import airflow.models\n")
    assert [module for _, module in _imported_modules(bad)] == [
        "airflow.sdk",
        "os",
        "airflow",
        "airflow.models",
    ]
