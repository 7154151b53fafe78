"""`make bench` keeps working: the benchmark runs end to end on a small city,
on both stores, and prints every figure of BENCHMARKS.md's table with the
baseline measured in the same run beside the figures that have one. No figure
is judged here (speed is the benchmark's business, not a test's)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.live import REPO
from tests.stores import NEO4J_PASSWORD, NEO4J_URI, open_neo4j

# figure -> whether a baseline of the same run stands beside it
FIGURES = {
    "load, embedded": True,
    "peak RSS of the benchmark process": False,
    "depth-2 neighbours, embedded": True,
    "measures of one subject, embedded": False,
    "measures of 1,000 subjects (POST /checks), embedded": False,
    "server start (opens the store once)": False,
    "1,000-row file through `creditlink load`, handed to the server (first": True,
    "1,000-row file through `creditlink load`, handed to the server (the next": True,
    "HTTP GET /subjects/{key}, 16 clients": True,
    "HTTP depth-2 neighbours, 16 clients": True,
    "load, Neo4j": True,
    "depth-2 neighbours, Neo4j": True,
    "hop by hop (before reach): depth-2 neighbours, Neo4j": True,
    "shortest paths <= 4, random pairs, Neo4j": True,
    "measures of one subject, Neo4j": False,
    "measures of 1,000 subjects (POST /checks), Neo4j": False,
}


def test_the_benchmark_prints_every_figure_with_its_baseline() -> None:
    open_neo4j().close()  # fails loudly, with how to start it, if Neo4j is not up
    args = ["--enterprises", "50", "--samples", "20", "--http-requests", "50"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", *args, "--neo4j", NEO4J_URI],
        cwd=REPO,
        env={**os.environ, "CREDITLINK_NEO4J_PASSWORD": NEO4J_PASSWORD},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    table = done.stdout[
        done.stdout.index("| figure | creditlink | baseline (same run) | ratio |") :
    ]
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:] if line.startswith("|")]
    shown = {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows}
    for figure, has_baseline in FIGURES.items():
        [(name, (value, baseline, ratio))] = [
            (k, v) for k, v in shown.items() if k.startswith(figure)
        ]
        assert value, name
        assert bool(baseline) == has_baseline and bool(ratio) == has_baseline, (
            name,
            baseline,
            ratio,
        )
        if has_baseline:
            assert "×" in ratio, (name, ratio)
    assert len(shown) == len(FIGURES), sorted(shown)
