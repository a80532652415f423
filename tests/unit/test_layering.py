"""The packages' layering, read from the source: what runs outside the services stays outside them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("hugginggpt", "services", "gateway", "edge")


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in a file, and of every string handed to a dynamic import."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and "import" in ast.unparse(node.func):
            yield node.lineno, node.args[0].value


def offenders(package: str, forbidden: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        for line, module in imported(path):
            if module == forbidden or module.startswith(forbidden + "."):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", PRODUCTION)
def test_no_production_package_imports_the_command_line_package(package: str) -> None:
    assert offenders(package, "hugginggpt_cli") == []


@pytest.mark.parametrize("package", PRODUCTION)
def test_no_production_package_imports_the_tests(package: str) -> None:
    assert offenders(package, "tests") == []


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import hugginggpt_cli\nfrom hugginggpt_cli.ask import ask\n"
                      "import importlib\nimportlib.import_module('hugginggpt_cli.launcher')\nfrom . import x\n")
    assert [m for _, m in imported(source)] == [
        "hugginggpt_cli", "hugginggpt_cli.ask", "importlib", "hugginggpt_cli.launcher"]
