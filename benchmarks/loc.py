"""Lines of Python per top-level package (non-blank, non-comment), printed as JSON for RESULTS."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Generated from the protos by scripts/gen_protos.sh: nobody writes it, so it is not counted.
GENERATED = ROOT / "hugginggpt" / "v1"


def count_lines(path: Path) -> int:
    """Lines that are neither blank nor only a comment."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def count_tree(folder: Path) -> int:
    """Counted lines of every .py file under folder, generated code left out."""
    return sum(
        count_lines(path)
        for path in folder.rglob("*.py")
        if GENERATED not in path.parents and "__pycache__" not in path.parts
    )


def packages() -> list[Path]:
    """Top-level packages (services/ split per service) and tests/."""
    found: list[Path] = []
    for folder in sorted(ROOT.iterdir()):
        if folder.name == "services":
            found.extend(sorted(p for p in folder.iterdir() if (p / "__init__.py").exists()))
        elif (folder / "__init__.py").exists() and folder.name != "tests":
            found.append(folder)
    found.append(ROOT / "tests")
    return found


def main() -> None:
    counts = {str(p.relative_to(ROOT)): count_tree(p) for p in packages()}
    counts["total (without tests)"] = sum(v for k, v in counts.items() if k != "tests")
    json.dump(counts, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
