"""Query latency on a loaded sample city: neighbourhoods, paths, measures, batch checks.

    python -m benchmarks.queries --enterprises 5000 [--store bolt://127.0.0.1:7687]
    python -m benchmarks.queries --data-dir DIR     # an embedded store loaded before

Prints p50/p95/p99 (milliseconds) of

- ``graph.traverse.neighbours(depth=2)`` around random subjects;
- ``graph.traverse.shortest_paths`` between random pairs (mostly unconnected,
  so the search runs to its depth limit) and between linked pairs (the far
  end of a random walk of 2–4 hops, so a path exists);
- ``graph.propagate.engine.measures`` per subject, and ``measures_many`` over
  batches of 1,000 subjects (a POST /checks), when the engine is present.

Figures only, no asserts. Loading into Neo4j clears its database first.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from graph.settings import Settings
from graph.store import open_store
from graph.store.base import GraphStore
from graph.traverse import neighbours, shortest_paths


def percentiles(samples: list[float]) -> tuple[float, float, float, float]:
    """p50, p95, p99 and max, in milliseconds (nearest rank)."""
    xs = sorted(samples)

    def rank(p: float) -> float:
        return xs[min(len(xs) - 1, max(0, round(p * len(xs) + 0.5) - 1))] * 1000

    return rank(0.50), rank(0.95), rank(0.99), xs[-1] * 1000


def report(name: str, samples: list[float], note: str = "") -> None:
    if not samples:
        print(f"{name:<34} no samples")
        return
    p50, p95, p99, worst = percentiles(samples)
    print(
        f"{name:<34} n={len(samples):>5}  p50 {p50:8.2f}  p95 {p95:8.2f}  "
        f"p99 {p99:8.2f}  max {worst:8.2f} ms  {note}"
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def random_walk(store: GraphStore, start: str, hops: int, rng: random.Random) -> str | None:
    here, seen = start, {start}
    for _ in range(hops):
        rels = store.relations_of([here])
        nxt = sorted({r.other(here) for r in rels} - seen)
        if not nxt:
            return None
        here = rng.choice(nxt)
        seen.add(here)
    return here


@contextmanager
def loaded_store(args: argparse.Namespace) -> Iterator[GraphStore]:
    if args.data_dir:
        store = open_store(Settings(store="embedded", data_dir=Path(args.data_dir)), read_only=True)
        try:
            yield store
        finally:
            store.close()
        return
    from loaders.pipeline import FileLoader, order_files
    from loaders.sample_city import generate

    with tempfile.TemporaryDirectory() as tmp:
        city = Path(tmp) / "city"
        generate(city, enterprises=args.enterprises, seed=args.seed)
        settings = Settings(store=args.store, data_dir=Path(tmp) / "data")
        store = open_store(settings)
        try:
            if args.store != "embedded":
                store.clear()
            loader = FileLoader(store, settings)
            t = time.perf_counter()
            for path in order_files([p for p in city.iterdir() if p.name != "truth.json"]):
                loader.load(path)
            print(f"loaded {args.enterprises} enterprises in {time.perf_counter() - t:.1f}s")
            yield store
        finally:
            store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enterprises", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--store", default="embedded")
    ap.add_argument("--data-dir", help="an embedded store already loaded (skips the load)")
    ap.add_argument("--samples", type=int, default=1_000)
    ap.add_argument("--as-of", default=date.today().isoformat())
    args = ap.parse_args()
    settings = Settings()
    rng = random.Random(args.seed)

    with loaded_store(args) as store:
        print(f"store {store.name}: {store.counts()}")
        ids = [s.id for s in store.iter_subjects()]
        sample = [rng.choice(ids) for _ in range(args.samples)]

        times, sizes = [], []
        for sid in sample:
            dt, hood = timed(partial(neighbours, store, sid, 2, max_nodes=settings.max_nodes))
            times.append(dt)
            sizes.append(len(hood.nodes))
        sizes.sort()
        report(
            "neighbours depth 2",
            times,
            f"(nodes: median {sizes[len(sizes) // 2]}, max {sizes[-1]})",
        )

        depth = settings.max_depth
        times, found = [], 0
        for sid in sample[: args.samples // 2]:
            other = rng.choice(ids)
            dt, paths = timed(partial(shortest_paths, store, sid, other, depth))
            times.append(dt)
            found += bool(paths)
        report(f"shortest_paths random pairs <={depth}", times, f"({found} connected)")

        times, found = [], 0
        for sid in sample[args.samples // 2 :]:
            far = random_walk(store, sid, rng.randint(2, 4), rng)
            if far is None:
                continue
            dt, paths = timed(partial(shortest_paths, store, sid, far, depth))
            times.append(dt)
            found += bool(paths)
        report(f"shortest_paths linked pairs <={depth}", times, f"({found} connected)")

        if importlib.util.find_spec("graph.propagate.engine") is None:
            print("graph.propagate.engine not present: no measures figures")
            return
        from graph.propagate import engine

        as_of = args.as_of
        times, counted = [], 0
        for sid in sample:
            dt, got = timed(partial(engine.measures, store, sid, as_of))
            times.append(dt)
            counted += bool(got)
        report(f"measures per subject ({as_of})", times, f"({counted} with measures)")

        times = []
        for _ in range(5):
            batch = [rng.choice(ids) for _ in range(settings.max_batch)]
            dt, _got = timed(partial(engine.measures_many, store, batch, as_of))
            times.append(dt)
        report(f"measures_many x{settings.max_batch} (check)", times)


if __name__ == "__main__":
    main()
