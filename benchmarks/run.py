# ruff: noqa: E501  (table rows are kept one per line)
"""`make bench`: every figure beside a baseline measured in the same run.

    python -m benchmarks.run [--enterprises 5000] [--neo4j bolt://127.0.0.1:7687]
                             [--http-requests 2000] [--skip-http]

| figure | baseline (same run, same machine) |
| --- | --- |
| load rows/s, embedded (and Neo4j) | plain pandas read + networkx build of the same files |
| depth-2 neighbours p50/p99, embedded | networkx ``ego_graph`` radius 2 on the baseline graph |
| depth-2 neighbours p50/p99, Neo4j | one hand-written Cypher ``(s)-[*1..2]-(n)`` query |
| HTTP req/s and p99 of look-ups, 16 clients | ``GET /health`` on the same server |
| measures p99, ``POST /checks``-sized batch | (absolute: the targets are 50 ms and 1 s) |
| a 1,000-row file through ``creditlink load``, handed to the server | the same CLI loading it directly (open, load, close) |

Prints one table at the end; BENCHMARKS.md records it with the machine.
Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx

from benchmarks.baseline import build
from benchmarks.queries import percentiles
from graph.errors import FeedError
from graph.propagate.engine import measures, measures_many
from graph.settings import Settings
from graph.store import open_store
from graph.store.base import GraphStore, breadth_first
from graph.traverse import neighbours, shortest_paths
from loaders.pipeline import FileLoader, order_files
from loaders.sample_city import generate

ROWS: list[tuple[str, str, str, str]] = []


def row(figure: str, value: str, baseline: str = "", ratio: str = "") -> None:
    ROWS.append((figure, value, baseline, ratio))
    print(f"  {figure}: {value}" + (f"  | baseline {baseline}  | {ratio}" if baseline else ""))


def lat(samples: list[float]) -> str:
    p50, _, p99, _ = percentiles(samples)
    return f"p50 {p50:.2f} / p99 {p99:.2f} ms"


def sample_times(fn: Callable[[Any], Any], items: list[Any]) -> list[float]:
    out = []
    for x in items:
        t = time.perf_counter()
        fn(x)
        out.append(time.perf_counter() - t)
    return out


def load(store: GraphStore, settings: Settings, files: list[Path]) -> tuple[int, float]:
    loader = FileLoader(store, settings)
    rows = 0
    t = time.perf_counter()
    for path in files:
        try:
            rows += loader.load(path).rows_read
        except FeedError as exc:
            # A small city has feeds with no rows (no repairs yet): the loader
            # refuses those files, as it would a department's, and the run goes on.
            print(f"  {path.name}: refused ({exc.message})")
    return rows, time.perf_counter() - t


def bench_load(
    files: list[Path], tmp: Path, args: argparse.Namespace, plain: nx.MultiDiGraph, base: tuple[int, float]
) -> Settings:
    print("load")
    base_rows, base_s = base
    base_rate = base_rows / base_s
    settings = Settings(data_dir=tmp / "data")
    store = open_store(settings)
    try:
        rows, secs = load(store, settings, files)
        subjects = store.counts()["subjects"]
    finally:
        store.close()
    rate = rows / secs
    row(
        f"load, embedded, {args.enterprises:,} enterprises ({rows:,} rows)",
        f"{rate:,.0f} rows/s ({secs:.1f} s)",
        f"{base_rate:,.0f} rows/s ({base_s:.1f} s)",
        f"{rate / base_rate:.2f}× the baseline",
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    row("peak RSS of the benchmark process", f"{peak:.2f} GiB for {subjects:,} subjects")
    bench_queries_embedded(settings, plain, args)
    return settings


def bench_queries_embedded(settings: Settings, plain: nx.MultiDiGraph, args: argparse.Namespace) -> None:
    print("queries, embedded")
    rng = random.Random(args.seed)
    store = open_store(settings)
    try:
        ids = [s.id for s in store.iter_subjects()]
        pick = [rng.choice(ids) for _ in range(args.samples)]
        ours = sample_times(lambda sid: neighbours(store, sid, 2, max_nodes=10_000), pick)
        undirected = plain.to_undirected(as_view=True)
        nodes = list(plain.nodes)
        base = sample_times(lambda n: nx.ego_graph(undirected, n, radius=2), [rng.choice(nodes) for _ in pick])
        row("depth-2 neighbours, embedded", lat(ours), lat(base), _ratio(ours, base))
        ms = sample_times(lambda sid: measures(store, sid, args.as_of), pick)
        row("measures of one subject, embedded", lat(ms))
        batches = [[rng.choice(ids) for _ in range(1000)] for _ in range(5)]
        checks = sample_times(lambda b: measures_many(store, b, args.as_of), batches)
        row("measures of 1,000 subjects (POST /checks), embedded", lat(checks))
    finally:
        store.close()


def _ratio(ours: list[float], base: list[float]) -> str:
    o50, _, o99, _ = percentiles(ours)
    b50, _, b99, _ = percentiles(base)
    return f"{o50 / max(b50, 1e-9):.1f}× / {o99 / max(b99, 1e-9):.1f}× the baseline"


def bench_neo4j(files: list[Path], tmp: Path, args: argparse.Namespace, base_rate: float) -> None:
    print("Neo4j")
    settings = Settings(
        store=args.neo4j,
        data_dir=tmp / "neo4j-data",
        neo4j_password=os.environ.get("CREDITLINK_NEO4J_PASSWORD", "creditlink-dev"),
    )
    store = open_store(settings)
    try:
        store.clear()
        rows, secs = load(store, settings, files)
        rate = rows / secs
        row(f"load, Neo4j ({rows:,} rows)", f"{rate:,.0f} rows/s ({secs:.1f} s)",
            f"{base_rate:,.0f} rows/s (pandas + networkx)", f"{rate / base_rate:.2f}×")  # fmt: skip
        rng = random.Random(args.seed)
        ids = [s.id for s in store.iter_subjects()]
        pick = [rng.choice(ids) for _ in range(min(args.samples, 300))]
        ours = sample_times(lambda sid: neighbours(store, sid, 2, max_nodes=10_000), pick)
        driver = store._driver  # type: ignore[attr-defined]
        query = (
            "MATCH (s:Subject {id: $id})-[*1..2]-(n:Subject) "
            "RETURN count(DISTINCT n) AS n"
        )

        def cypher(sid: str) -> None:
            with driver.session(database=settings.neo4j_database) as session:
                session.run(query, id=sid).consume()

        base = sample_times(cypher, pick)
        row("depth-2 neighbours, Neo4j", lat(ours), lat(base) + " (one Cypher query)", _ratio(ours, base))
        # the same answer hop by hop (how the store answered before reach()), for the record
        hops = sample_times(lambda sid: breadth_first(store, sid, 2, max_nodes=10_000), pick)
        row("hop by hop (before reach): depth-2 neighbours, Neo4j", lat(hops), lat(base), _ratio(hops, base))
        pairs = [(rng.choice(ids), rng.choice(ids)) for _ in pick]
        path_query = (
            "MATCH (a:Subject {id: $a}) MATCH (b:Subject {id: $b}) "
            "MATCH p = shortestPath((a)-[*..4]-(b)) WHERE all(x IN nodes(p) WHERE x:Subject) "
            "RETURN length(p) AS n"
        )

        def cypher_path(pair: tuple[str, str]) -> None:
            with driver.session(database=settings.neo4j_database) as session:
                session.run(path_query, a=pair[0], b=pair[1]).consume()

        ours_p = sample_times(lambda pair: shortest_paths(store, pair[0], pair[1], 4), pairs)
        base_p = sample_times(cypher_path, pairs)
        row("shortest paths <= 4, random pairs, Neo4j", lat(ours_p),
            lat(base_p) + " (Cypher shortestPath)", _ratio(ours_p, base_p))  # fmt: skip
        ms = sample_times(lambda sid: measures(store, sid, args.as_of), pick)
        row("measures of one subject, Neo4j", lat(ms))
        batch = [rng.choice(ids) for _ in range(1000)]
        checks = sample_times(lambda b: measures_many(store, b, args.as_of), [batch] * 3)
        row("measures of 1,000 subjects (POST /checks), Neo4j", lat(checks))
    finally:
        store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_http(settings: Settings, args: argparse.Namespace) -> None:
    print("HTTP (16 clients)")
    from api.keys import KeyStore

    key = KeyStore(settings.data_dir).create("engine", label="bench")[1]
    store = open_store(settings)
    try:
        keys = [k for s in store.iter_subjects("organisation") for k in s.keys[:1]]
    finally:
        store.close()
    port = _free_port()
    env = {**os.environ, "CREDITLINK_DATA_DIR": str(settings.data_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if _get(port, "/health", {})[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        rng = random.Random(args.seed)
        auth = {"Authorization": f"Bearer {key}"}
        health = _crowd(port, lambda: "/health", {}, args.http_requests)
        look = _crowd(port, lambda: "/subjects/" + rng.choice(keys), auth, args.http_requests)
        hood = _crowd(port, lambda: f"/subjects/{rng.choice(keys)}/neighbors?depth=2", auth, args.http_requests)
        h_rate, h_lat = health
        for name, (rate, samples) in (("GET /subjects/{key}", look), ("depth-2 neighbours", hood)):
            p99 = percentiles(samples)[2]
            hp99 = percentiles(h_lat)[2]
            row(f"HTTP {name}, 16 clients", f"{rate:,.0f} req/s, p99 {p99:.1f} ms",
                f"/health {h_rate:,.0f} req/s, p99 {hp99:.1f} ms",
                f"{rate / h_rate:.2f}× the req/s, {p99 / max(hp99, 1e-9):.1f}× the p99")  # fmt: skip
    finally:
        server.terminate()
        server.wait(30)


def bench_cli_load(settings: Settings, tmp: Path, args: argparse.Namespace) -> None:
    """What an operator waits for when a department's 1,000-row file comes in:
    ``creditlink load`` on the bench's store, directly (it opens the store,
    loads, compacts on close) and handed to a running server (loaders.handoff)."""
    print("CLI load of a 1,000-row file")
    generate(tmp / "extra", enterprises=1000, seed=args.seed + 1)
    header, *lines = (tmp / "extra" / "officers_2026.csv").read_text(encoding="utf-8").splitlines()
    parts = []
    for i in range(3):  # new people and enterprises, 1,000 rows each
        part = tmp / f"officers_extra{i}.csv"
        part.write_text("\n".join([header, *lines[i * 1000 : (i + 1) * 1000]]) + "\n", encoding="utf-8")
        parts.append(part)
    env = {**os.environ, "CREDITLINK_DATA_DIR": str(settings.data_dir), "CREDITLINK_STORE": "embedded"}

    def cli_load(path: Path) -> float:
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "api.cli", "load", str(path)], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"creditlink load {path.name} failed:\n{done.stdout[-800:]}{done.stderr[-800:]}")
        return time.perf_counter() - t

    direct = cli_load(parts[0])
    port = _free_port()
    announced = settings.data_dir / "store" / "server.json"
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        t = time.perf_counter()
        while not announced.exists():
            if server.poll() is not None or time.perf_counter() - t > 600:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        started = time.perf_counter() - t
        first = cli_load(parts[1])
        then = cli_load(parts[2])
    finally:
        server.terminate()
        server.wait(120)
    row("server start (opens the store once)", f"{started:.1f} s")
    for name, secs in (("first after the server starts", first), ("the next", then)):
        row(f"1,000-row file through `creditlink load`, handed to the server ({name})",
            f"{secs:.2f} s", f"{direct:.2f} s (the CLI loading it directly)", f"{secs / direct:.2f}× the baseline")  # fmt: skip


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _crowd(
    port: int, path: Callable[[], str], headers: dict[str, str], total: int
) -> tuple[float, list[float]]:
    """``total`` requests from 16 threads on loopback: (requests/s, latencies)."""
    paths = [path() for _ in range(total)]
    lock = threading.Lock()
    samples: list[float] = []

    def worker(mine: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for p in mine:
            t = time.perf_counter()
            conn.request("GET", p, headers=headers)
            conn.getresponse().read()
            with lock:
                samples.append(time.perf_counter() - t)
        conn.close()

    threads = [threading.Thread(target=worker, args=(paths[i::16],)) for i in range(16)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return total / (time.perf_counter() - t), samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enterprises", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--as-of", default="2026-11-01")
    ap.add_argument("--neo4j", help="a Neo4j URI to load and query too (its database is cleared)")
    ap.add_argument("--http-requests", type=int, default=2000)
    ap.add_argument("--skip-http", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        generate(tmp / "city", enterprises=args.enterprises, seed=args.seed)
        files = order_files([p for p in (tmp / "city").iterdir() if p.name != "truth.json"])
        plain, base_rows, base_s = build(files)
        settings = bench_load(files, tmp, args, plain, (base_rows, base_s))
        bench_cli_load(settings, tmp, args)
        if not args.skip_http:
            bench_http(settings, args)
        if args.neo4j:
            bench_neo4j(files, tmp, args, base_rows / base_s)
    print("\n| figure | creditlink | baseline (same run) | ratio |\n| --- | --- | --- | --- |")
    for figure, value, baseline, ratio in ROWS:
        print(f"| {figure} | {value} | {baseline} | {ratio} |")


if __name__ == "__main__":
    main()
