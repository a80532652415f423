"""The packages' layering, read from the source: each layer imports only what lies below it.

hugginggpt/ (what the services share) imports none of the layers above; a service imports no other service; the
gateway and the edge import no service; and hugginggpt_cli/ (command, launcher, client library) and the tests'
doubles are imported by none of them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())
OUTSIDE = ("hugginggpt_cli", "tests")
FORBIDDEN = {
    "hugginggpt": ("services", "gateway", "edge", *OUTSIDE),
    "gateway": ("services", "edge", *OUTSIDE),
    "edge": ("services", "gateway", *OUTSIDE),
    **{f"services/{name}": (*(f"services.{other}" for other in SERVICES if other != name), "gateway", "edge",
                            *OUTSIDE) for name in SERVICES},
}


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


def offenders(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    """"file:line imports module" for each import of a forbidden package (or a module inside it)."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        for line, module in imported(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(folder.parent)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_above_or_beside_it(package: str) -> None:
    assert offenders(ROOT / package, FORBIDDEN[package]) == []


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import hugginggpt_cli\nfrom hugginggpt_cli.ask import ask\n"
                      "import importlib\nimportlib.import_module('hugginggpt_cli.launcher')\nfrom . import x\n")
    assert [m for _, m in imported(source)] == [
        "hugginggpt_cli", "hugginggpt_cli.ask", "importlib", "hugginggpt_cli.launcher"]
    assert offenders(tmp_path, ("hugginggpt_cli",)) == [
        f"{tmp_path.name}/m.py:1 imports hugginggpt_cli", f"{tmp_path.name}/m.py:2 imports hugginggpt_cli.ask",
        f"{tmp_path.name}/m.py:4 imports hugginggpt_cli.launcher"]
