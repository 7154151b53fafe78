"""Every analyst notebook under notebooks/ runs top to bottom without an error.

Each notebook generates a small sample city, loads it into an in-memory store,
runs its analysis and ends in assertions against the generator's truth, so a
notebook that runs is a notebook whose findings were checked.

The kernel is this interpreter's: a kernelspec pointing at ``sys.executable``
is written to a temporary directory put first on ``JUPYTER_PATH``, so a
``python3`` kernel installed elsewhere (user or system) cannot shadow the
venv's, and nothing outside the test's temporary directory is touched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.live import REPO
from tests.stores import NEO4J_URI

NOTEBOOKS = REPO / "notebooks"
CELL_TIMEOUT_S = 120
KERNEL = "python3"


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    # A glob that finds nothing would make the parametrised test below vanish.
    names = {p.stem for p in _notebooks()}
    assert {"exploring_linkages", "guarantee_circles", "hidden_links", "data_quality"} <= names


@pytest.fixture
def venv_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (creditlink venv)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    # The notebooks must build their own sample city, not open a developer's
    # data directory or Neo4j server.
    for var in ("CREDITLINK_DATA_DIR", "CREDITLINK_STORE", "CREDITLINK_TRUTH"):
        monkeypatch.delenv(var, raising=False)
    # exploring_linkages asks its questions again of this (test) Neo4j, which it clears
    monkeypatch.setenv("CREDITLINK_SCRATCH_NEO4J", NEO4J_URI)
    return KERNEL


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_notebook_runs(path: Path, venv_kernel: str) -> None:
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), (
        f"{path.name}: commit notebooks with outputs cleared"
    )
    client = NotebookClient(
        nb,
        kernel_name=venv_kernel,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name}: {exc}", pytrace=False)
    assert any(cell.cell_type == "code" and "assert" in cell.source for cell in nb.cells), (
        f"{path.name} checks nothing"
    )
    figures = [
        o
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if "image/png" in (o.get("data") or {})
    ]
    assert figures, f"{path.name} draws nothing"
    # the last code cells are the checks: they ran (an assert that failed would have raised)
    streams = "".join(
        o.get("text", "") for cell in nb.cells for o in cell.get("outputs", []) if o.get("name")
    )
    if path.stem == "exploring_linkages":
        assert "Neo4j and networkx agree on every question" in streams
