"""The layers import downwards only: graph/ (the domain) knows neither the
loaders nor the API, loaders/ does not know the API, and the routers use the
loaders' public API (the ``loaders`` package itself), never its modules.

The source is read with ``ast``, so imports inside functions and under
``TYPE_CHECKING`` count as well as those at the top of a module.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOADER_MODULES = {
    p.stem if p.is_file() else p.name
    for p in (ROOT / "loaders").iterdir()
    if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
}


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every module ``source`` imports, relative imports
    resolved against ``module``; ``from x import y`` gives ``x.y`` as well as
    ``x`` when y may be a submodule, and ``import_module("x")`` with a literal
    gives ``x``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def loader_internal(name: str) -> bool:
    """A module of loaders/ other than the package's public face."""
    return within(name, "loaders") and name != "loaders" and name.split(".")[1] in LOADER_MODULES


def offences(folder: str, forbidden: Callable[[str], bool]) -> list[str]:
    found = []
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folder}/"
    for path in files:
        mod = module_of(path)
        text = path.read_text(encoding="utf-8")
        for line, name in imports(text, mod, is_package=path.name == "__init__.py"):
            if forbidden(name):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


def test_graph_imports_neither_loaders_nor_api() -> None:
    bad = offences("graph", lambda n: within(n, "loaders") or within(n, "api"))
    assert not bad, "graph/ is the domain and may not import the loaders or the API:\n" + (
        "\n".join(bad)
    )


def test_loaders_do_not_import_the_api() -> None:
    bad = offences("loaders", lambda n: within(n, "api"))
    assert not bad, "loaders/ may not import the API:\n" + "\n".join(bad)


def test_routers_use_only_the_loaders_public_api() -> None:
    bad = offences("api/routers", loader_internal)
    assert not bad, "routers import loaders' public API only (`from loaders import …`):\n" + (
        "\n".join(bad)
    )


def test_the_walk_sees_every_kind_of_import() -> None:
    """The checks above pass vacuously if the walk misses a form of import."""
    source = (
        "import api.app\n"
        "from loaders.pipeline import FileLoader\n"
        "from loaders import mapping, FileLoader\n"
        "def late():\n"
        "    from api.routers import web\n"
        "    import_module('loaders.readers')\n"
    )
    names = {name for _, name in imports(source, "graph.store.embedded")}
    assert {"api.app", "loaders.pipeline", "loaders.mapping", "api.routers", "loaders.readers"} <= (
        names
    )
    relative = {name for _, name in imports("from .pipeline import x\n", "loaders.cli")}
    assert "loaders.pipeline" in relative
    assert loader_internal("loaders.mapping") and loader_internal("loaders.pipeline.x")
    assert not loader_internal("loaders") and not loader_internal("loaders.FileLoader")
