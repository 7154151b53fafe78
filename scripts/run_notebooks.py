"""Execute the analyst notebooks headless and keep the executed copies.

    python scripts/run_notebooks.py [--out DIR] [NOTEBOOK...]      (make notebooks)

Each notebook runs top to bottom in a kernel of this interpreter (the venv's),
with figures, and is written with its outputs to DIR (default
.creditlink/notebooks, not in git): open them in Jupyter or any .ipynb viewer.
A notebook that fails stops nothing else; the exit status says whether all ran.
The committed notebooks stay without outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
CELL_TIMEOUT_S = 300


def kernel_dir() -> Path:
    """A kernelspec pointing at this interpreter, first on JUPYTER_PATH, so that a
    python3 kernel installed elsewhere cannot run the notebooks instead."""
    base = Path(tempfile.mkdtemp(prefix="creditlink-kernel-"))
    spec = base / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (creditlink venv)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    return base


def run(path: Path, out: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.monotonic()
    ok = True
    try:
        client.execute()
    except CellExecutionError as exc:
        ok = False
        print(f"FAILED {path.name}: {str(exc).splitlines()[-1] if str(exc) else exc}")
    target = out / path.name
    nbformat.write(nb, target)
    figures = sum(
        1
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if "image/png" in (o.get("data") or {})
    )
    state = "ok" if ok else "FAILED"
    print(
        f"{state:>6}  {path.name}: {time.monotonic() - start:.0f} s, {figures} figures -> {target}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / ".creditlink" / "notebooks"))
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["JUPYTER_PATH"] = str(kernel_dir())
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    results = [run(p.resolve(), out) for p in paths]
    print(f"{sum(results)} of {len(results)} notebooks ran; executed copies in {out}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
