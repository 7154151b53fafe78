"""Load throughput and memory of the embedded store on a generated sample city.

    python -m benchmarks.load --enterprises 20000 [--store bolt://127.0.0.1:7687] [--profile OUT]

Prints rows/s overall and per feed (with the time spent in ``store.write``
apart from reading, cleaning and resolving), keyed vs fuzzy-matched parties, the
process's peak RSS and the resident memory per million subjects — both in the
loading process (which also holds the loader's own memory) and, for the
embedded store, in a fresh process that only opens the store, as a server does.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graph.settings import Settings
from graph.store import open_store
from graph.store.base import Batch, GraphStore
from loaders.pipeline import FileLoader, order_files
from loaders.sample_city import generate


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class _WriteTimer:
    """Accumulates the time of ``store.write`` so the store's share of a load
    can be told apart from the loader's own work."""

    def __init__(self, store: GraphStore) -> None:
        self.seconds = 0.0
        # CPU time too: on a shared machine wall time moves with other load.
        self.cpu = 0.0
        self._write = store.write
        store.write = self  # type: ignore[method-assign]

    def __call__(self, batch: Batch) -> None:
        t, c = time.perf_counter(), time.process_time()
        try:
            self._write(batch)
        finally:
            self.seconds += time.perf_counter() - t
            self.cpu += time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enterprises", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--store", default="embedded")
    ap.add_argument("--profile", help="write cProfile stats of the load to this file")
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
        writes = _WriteTimer(store)
        loader = FileLoader(store, settings)
        profiler = cProfile.Profile() if args.profile else None
        gc.collect()
        base = rss_mib()
        files = order_files([p for p in city.iterdir() if p.name != "truth.json"])
        rows = keyed = fuzzy = 0
        t_all, c_all = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        for path in files:
            t = time.perf_counter()
            w0 = writes.seconds
            rep = loader.load(path)
            dt = time.perf_counter() - t
            dw = writes.seconds - w0
            rows += rep.rows_read
            keyed += rep.matched.get("key", 0) + rep.matched.get("bridge", 0)
            keyed += rep.matched.get("new", 0) - rep.unresolved
            fuzzy += rep.matched.get("fuzzy", 0) + rep.unresolved
            rate = rep.rows_read / dt
            rest = rep.rows_read / max(dt - dw, 1e-9)
            print(
                f"  {path.name:<34} {rep.rows_read:>8} rows {dt:7.2f}s {rate:9.0f} rows/s"
                f"  (store {dw:6.2f}s; without it {rest:8.0f} rows/s)"
            )
        total = time.perf_counter() - t_all
        cpu = time.process_time() - c_all
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        counts = store.counts()
        gc.collect()
        used = rss_mib() - base
        print(f"loaded {rows} rows in {total:.1f}s: {rows / total:.0f} rows/s")
        rest = total - writes.seconds
        print(
            f"  store.write {writes.seconds:.1f}s; everything else {rest:.1f}s "
            f"= {rows / max(rest, 1e-9):.0f} rows/s without the store"
        )
        print(
            f"  CPU: {cpu:.1f}s, of which store.write {writes.cpu:.1f}s; without the store "
            f"{rows / max(cpu - writes.cpu, 1e-9):.0f} rows/s of CPU"
        )
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
        if args.store == "embedded":
            # A child process so that nothing of the load (freed but still
            # resident memory, caches, imported readers) is counted.
            subprocess.run(
                [sys.executable, "-c", _OPEN, str(settings.data_dir / "store")], check=True
            )


_OPEN = """
import gc, os, sys, time
from pathlib import Path
from graph.store.embedded import EmbeddedStore

def rss_mib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

gc.collect()
base = rss_mib()
t = time.perf_counter()
store = EmbeddedStore(Path(sys.argv[1]))
took = time.perf_counter() - t
gc.collect()
used = rss_mib() - base
n = max(store.counts()["subjects"], 1)
print(
    f"reopen in a fresh process: {took:.1f}s, +{used:.0f} MiB resident "
    f"= {used / 1024 / n * 1e6:.2f} GiB per million subjects"
)
"""


if __name__ == "__main__":
    main()
