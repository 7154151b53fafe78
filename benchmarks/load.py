"""Load throughput and memory of the embedded store on a generated sample city.

    python -m benchmarks.load --enterprises 20000 [--store bolt://127.0.0.1:7687]

Prints rows/s overall and per feed, keyed vs fuzzy-matched parties, the
process's peak RSS and the resident memory per million subjects.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import tempfile
import time
from pathlib import Path

from graph.settings import Settings
from graph.store import open_store
from loaders.pipeline import FileLoader, order_files
from loaders.sample_city import generate


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enterprises", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--store", default="embedded")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        city = Path(tmp) / "city"
        t0 = time.perf_counter()
        generate(city, enterprises=args.enterprises, seed=args.seed)
        print(f"generated {args.enterprises} enterprises in {time.perf_counter() - t0:.1f}s")
        settings = Settings(store=args.store, data_dir=Path(tmp) / "data")
        store = open_store(settings)
        if args.store != "embedded":
            store.clear()
        loader = FileLoader(store, settings)
        gc.collect()
        base = rss_mib()
        files = order_files([p for p in city.iterdir() if p.name != "truth.json"])
        rows = keyed = fuzzy = 0
        t_all = time.perf_counter()
        for path in files:
            t = time.perf_counter()
            rep = loader.load(path)
            dt = time.perf_counter() - t
            rows += rep.rows_read
            keyed += rep.matched.get("key", 0) + rep.matched.get("bridge", 0)
            keyed += rep.matched.get("new", 0) - rep.unresolved
            fuzzy += rep.matched.get("fuzzy", 0) + rep.unresolved
            rate = rep.rows_read / dt
            print(f"  {path.name:<34} {rep.rows_read:>8} rows {dt:7.2f}s {rate:9.0f} rows/s")
        total = time.perf_counter() - t_all
        counts = store.counts()
        gc.collect()
        used = rss_mib() - base
        print(f"loaded {rows} rows in {total:.1f}s: {rows / total:.0f} rows/s")
        print(f"parties matched by key/bridge: {keyed}, fuzzy or keyless: {fuzzy}")
        print(f"store: {counts}")
        subjects = max(counts["subjects"], 1)
        print(
            f"memory: +{used:.0f} MiB resident for {subjects} subjects "
            f"= {used / 1024 / subjects * 1e6:.2f} GiB per million subjects; "
            f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
        )
        t = time.perf_counter()
        store.close()
        print(f"close (snapshot) {time.perf_counter() - t:.1f}s")


if __name__ == "__main__":
    main()
