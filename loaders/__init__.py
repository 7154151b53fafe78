"""Department feeds: mappings (YAML), readers, cleaning and load reports.

The public API, for the service and the tools that load files (the routers
import nothing else from here): ``FileLoader`` loads a file into a store and
answers its ``LoadReport``, telling a ``LoadProgress`` callback how far it
is on the way if given one; ``order_files`` puts registries first;
``feed_labels`` names every feed kind and its department.

The names are resolved on first use (PEP 562): every XLSX sheet is parsed in a
child process (``python -m loaders.xlsx``), which imports this package first and
should not pay for the load pipeline it never runs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["FileLoader", "LoadProgress", "LoadReport", "feed_labels", "order_files"]

if TYPE_CHECKING:
    from loaders.pipeline import FileLoader, LoadProgress, LoadReport, order_files
else:
    # Hidden from the type checker, so that it reads the imports above and an
    # unknown name is an error rather than Any.
    _LAZY = {
        name: "loaders.pipeline"
        for name in ("FileLoader", "LoadProgress", "LoadReport", "order_files")
    }

    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            return getattr(import_module(_LAZY[name]), name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def feed_labels() -> dict[str, dict[str, str | None]]:
    """Every feed kind with its label and department, by kind."""
    from loaders.mapping import mappings

    return {
        kind: {"label": m.label, "department": m.department}
        for kind, m in sorted(mappings().items())
    }
