"""Bring mutmut's working copy (mutants/) up to date with the tree before a run.

mutmut copies the source folders into mutants/ once and afterwards rewrites
only the Python files it mutates: a changed rule book, model or feed mapping,
and a module deleted from the tree, would stay as they were in mutants/, and
the tests there would run against yesterday's data (the unmutated run then
fails and no mutant is tried). Mutmut's own bookkeeping (*.meta, *.spans) and
the Python files it manages are left alone.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWN = (".meta", ".spans")


def sync(source: Path, copy: Path) -> list[str]:
    changed: list[str] = []
    for path in sorted(source.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".py":
            continue
        target = copy / path.relative_to(source)
        if not target.exists() or target.read_bytes() != path.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            changed.append(str(target.relative_to(ROOT)))
    for path in sorted(copy.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.name.endswith(OWN):
            continue
        if not (source / path.relative_to(copy)).exists():
            path.unlink()
            changed.append(f"{path.relative_to(ROOT)} (deleted)")
    return changed


def main() -> int:
    mutants = ROOT / "mutants"
    if not mutants.is_dir():
        return 0  # mutmut makes a fresh copy
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    folders = config["tool"]["mutmut"]["source_paths"] + ["tests"]
    for folder in folders:
        for line in sync(ROOT / folder, mutants / folder):
            print(f"mutation_sync: {line}")
    shutil.copy2(ROOT / "pyproject.toml", mutants / "pyproject.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
