"""Benchmark: ``POST /checks`` of 1,000 subjects on the embedded store.

Builds a synthetic city (organisations with legal representatives, directors,
guarantees, shareholdings, dishonest-debtor and tax listings), then times the
whole HTTP call (auth, resolution, propagation, JSON) for 1,000 subjects given
by id, and for 1,000 given by name. Prints figures; asserts nothing about time
(see tests/graph/test_propagation.py for the round-trip bound).

The embedded store answers in-process, so a store call costs no network round
trip. ``--latency-ms`` adds a sleep to every store call to model one (a Neo4j
server in the same data centre: about 1 ms), which is what name resolution
(one ``store.search`` per distinct normalised name: the protocol has no batched
name look-up) is sensitive to.

    .venv/bin/python benchmarks/checks.py [--subjects 5000] [--batch 1000] [--runs 5]
        [--latency-ms 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from graph.settings import Settings
from graph.store.embedded import EmbeddedStore
from tests.builders import AS_OF, many


class Counting:
    """Counts store calls made through the protocol, per method, and optionally
    sleeps ``latency_s`` in each to model a network round trip."""

    def __init__(self, inner: EmbeddedStore, latency_s: float = 0.0) -> None:
        self.inner = inner
        self.latency_s = latency_s
        self.calls = 0
        self.by_method: dict[str, int] = {}
        # name resolution may call the store from several threads
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.calls = 0
            self.by_method = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def counted(*a: Any, **k: Any) -> Any:
            with self._lock:
                self.calls += 1
                self.by_method[name] = self.by_method.get(name, 0) + 1
            if self.latency_s:
                time.sleep(self.latency_s)
            return attr(*a, **k)

        return counted


def timed(
    client: TestClient, body: dict[str, Any], headers: dict[str, str], runs: int
) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = client.post("/checks", json=body, headers=headers)
        out.append(time.perf_counter() - t0)
        r.raise_for_status()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=5000, help="organisations in the graph")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--latency-ms", type=float, default=0.0, help="simulated round trip per store call"
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="creditlink-bench-") as tmp:
        t0 = time.perf_counter()
        batch = many(args.subjects)
        inner = EmbeddedStore(Path(tmp) / "store")
        inner.write(batch)
        build = time.perf_counter() - t0
        store = Counting(inner, args.latency_ms / 1000)
        settings = Settings(data_dir=Path(tmp) / "data", max_batch=args.batch, query_timeout_s=120)
        headers = {"Authorization": f"Bearer {KeyStore(settings.data_dir).create('engine')[1]}"}
        orgs = [s for s in batch.subjects if s.type == "organisation"]
        step = max(1, len(orgs) // args.batch)
        chosen = orgs[::step][: args.batch]
        by_id = {"scenario": "procurement", "as_of": AS_OF, "subjects": [s.id for s in chosen]}
        by_name = {**by_id, "subjects": [s.name for s in chosen]}
        with TestClient(create_app(settings, store=store)) as client:  # type: ignore[arg-type]
            client.post("/checks", json=by_id, headers=headers).raise_for_status()  # warm-up
            store.reset()
            r = client.post("/checks", json=by_id, headers=headers)
            calls = store.calls
            counts = r.json()["counts"]
            store.reset()
            r = client.post("/checks", json=by_name, headers=headers)
            name_calls = dict(store.by_method)
            name_counts = r.json()["counts"]
            ids_t = timed(client, by_id, headers, args.runs)
            names_t = timed(client, by_name, headers, max(1, args.runs // 2))
        print(
            f"graph: {len(batch.subjects)} subjects, {len(batch.relations)} relations, "
            f"{len(batch.listings)} listings (built in {build:.2f}s)"
        )
        print(
            f"POST /checks, {len(chosen)} subjects by id: {counts}; "
            f"store calls per request: {calls}"
        )
        print(
            f"  by id:   median {statistics.median(ids_t) * 1000:.0f} ms, "
            f"min {min(ids_t) * 1000:.0f} ms, max {max(ids_t) * 1000:.0f} ms over {len(ids_t)} runs"
        )
        print(
            f"  by name: median {statistics.median(names_t) * 1000:.0f} ms "
            f"over {len(names_t)} runs; {name_counts}; "
            f"store calls: {sum(name_calls.values())} ({name_calls.get('search', 0)} searches)"
        )
        if args.latency_ms:
            print(f"  (every store call slept {args.latency_ms:g} ms)")
        inner.close()


if __name__ == "__main__":
    main()
