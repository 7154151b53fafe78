"""Faults: Neo4j stopping during a load and while serving, and the embedded
store killed with SIGKILL in the middle of writes.

The Neo4j tests really stop and start a server with scripts/neo4j.sh, but a
private one (own home directory, own free port), so that the shared server
other tests use is never taken away from them; the private server is stopped
at the end whatever happens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from graph.errors import StoreUnavailable
from graph.model import Subject
from graph.settings import Settings
from graph.store.base import Batch, GraphStore
from graph.store.embedded import EmbeddedStore
from tests.builders import Enterprises
from tests.live import REPO, free_port, kill_when_acknowledged
from tests.stores import NEO4J_PASSWORD


class PrivateNeo4j:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.uri = f"bolt://127.0.0.1:{self.port}"

    def run(self, command: str, **settings: str) -> None:
        env = {
            **os.environ,
            "CREDITLINK_NEO4J_HOME": str(self.home),
            "CREDITLINK_NEO4J_BOLT_PORT": str(self.port),
            "CREDITLINK_NEO4J_PASSWORD": NEO4J_PASSWORD,
            "CREDITLINK_NEO4J_HEAP": "512m",
            **settings,
        }
        done = subprocess.run(
            ["bash", str(REPO / "scripts" / "neo4j.sh"), command],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"neo4j.sh {command}: {done.stdout}\n{done.stderr}"

    def store(self, timeout_s: float = 3.0) -> GraphStore:
        from graph.store.neo4j import Neo4jStore

        return Neo4jStore(self.uri, password=NEO4J_PASSWORD, timeout_s=timeout_s)


@pytest.fixture(scope="module")
def neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateNeo4j]:
    server = PrivateNeo4j(Path(tmp_path_factory.mktemp("neo4j-faults")))
    try:
        server.run("start")
        yield server
    finally:
        # Stopped even when a test failed half-way (with the server up or down).
        server.run("stop")


@pytest.fixture
def running(neo4j: PrivateNeo4j) -> Iterator[PrivateNeo4j]:
    """The server is up when the test starts, and again when it ends."""
    neo4j.run("start")
    try:
        yield neo4j
    finally:
        neo4j.run("start")


FIRMS = Enterprises("MA", "商丘市测试")


def snapshot(store: GraphStore) -> dict[str, Any]:
    """What a load produced, without load times."""
    names = {s.id: s.name for s in store.iter_subjects()}
    return {
        "counts": store.counts(),
        "subjects": sorted((s.id, s.type, s.name, sorted(s.keys)) for s in store.iter_subjects()),
        "listings": sorted(
            (x.id, x.kind, names[x.subject_id], x.start, x.department)
            for x in store.iter_listings()
        ),
        "records": sorted(
            (r.id, r.digest, sorted(map(str, r.values.items())))
            for r in store.get_records(
                rid for s in names for rid in [rec.id for rec in store.records_of(s)]
            ).values()
        ),
        "quarantine": sorted(store.list_docs("quarantine")),
    }


# --- Neo4j stops in the middle of a load ---------------------------------------


def test_neo4j_stopped_mid_load_writes_nothing_and_a_rerun_matches(
    running: PrivateNeo4j, tmp_path: Path
) -> None:
    from loaders.pipeline import FileLoader

    feed = FIRMS.red_list(tmp_path / "red_list_2023.csv", range(300))
    settings = Settings(data_dir=tmp_path / "data")
    store = running.store()
    try:
        store.clear()
        real = store._upsert_records  # type: ignore[attr-defined]
        stopped = []

        def die_half_way(tx: Any, records: Any) -> None:
            # Subjects and listings of the file are already sent inside the
            # open transaction: now the server goes away.
            if not stopped:
                stopped.append(True)
                running.run("stop")
            real(tx, records)

        store._upsert_records = die_half_way  # type: ignore[attr-defined]
        with pytest.raises(StoreUnavailable) as caught:
            FileLoader(store, settings).load(feed)
        assert stopped
        assert "Neo4j" in caught.value.message and running.uri in caught.value.message
    finally:
        store.close()

    running.run("start")
    store = running.store()
    try:
        assert store.counts()["subjects"] == 0, "half a file was written"
        assert store.counts()["records"] == 0
        assert FileLoader(store, settings).load(feed).loaded == 300
        after_rerun = snapshot(store)
        store.clear()
        FileLoader(store, Settings(data_dir=tmp_path / "data2")).load(feed)
        assert snapshot(store) == after_rerun
        assert after_rerun["counts"]["subjects"] == 300
    finally:
        store.close()


# --- A file larger than Neo4j lets one transaction hold ------------------------------


def _load_under_tight_memory(
    running: PrivateNeo4j, tmp_path: Path, write_chunk: int
) -> tuple[subprocess.CompletedProcess[str], dict[str, int]]:
    """A 2,000-row red list loaded by the CLI into a server that lets one
    transaction use 8 MiB; the CLI's run and what the database holds after."""
    feed = FIRMS.red_list(tmp_path / "red_list_2023.csv", range(2000))
    running.run("stop")
    running.run("start", CREDITLINK_NEO4J_TX_MEMORY="8m")
    try:
        store = running.store()
        store.clear()
        store.close()
        env = {
            **os.environ,
            "CREDITLINK_DATA_DIR": str(tmp_path / "data"),
            "CREDITLINK_STORE": running.uri,
            "CREDITLINK_NEO4J_PASSWORD": NEO4J_PASSWORD,
            "CREDITLINK_NEO4J_WRITE_CHUNK": str(write_chunk),
        }
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "load", str(feed)],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        store = running.store()
        try:
            return done, store.counts()
        finally:
            store.close()
    finally:
        running.run("stop")  # the fixture starts it again, without the limit


def test_a_file_too_large_for_one_neo4j_transaction_is_refused_cleanly(
    running: PrivateNeo4j, tmp_path: Path
) -> None:
    """Written as one transaction (a write chunk larger than the file), the
    file is refused: the CLI says what happened and what to do (no
    traceback), and nothing of the file is written."""
    done, counts = _load_under_tight_memory(running, tmp_path, write_chunk=10**6)
    # a refused file is reported, and the load exits 1 (other files would still load)
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr[-2000:])
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
    assert "refused: Neo4j refused the transaction: it needs more memory" in done.stdout
    assert "CREDITLINK_NEO4J_TX_MEMORY" in done.stdout
    assert counts["subjects"] == 0 and counts["records"] == 0


def test_the_same_file_loads_whole_when_written_in_parts(
    running: PrivateNeo4j, tmp_path: Path
) -> None:
    """What the server refused as one transaction it takes as parts of 100
    items (graph/store/neo4j_loads.py): every row loaded, nothing refused."""
    done, counts = _load_under_tight_memory(running, tmp_path, write_chunk=100)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert "read 2000, loaded 2000" in done.stdout
    assert counts["records"] == 2000 and counts["subjects"] == 2000, counts


# --- Neo4j stops while the API serves ----------------------------------------------


def test_api_answers_503_while_neo4j_is_down_and_recovers_by_itself(
    running: PrivateNeo4j, tmp_path: Path
) -> None:
    settings = Settings(
        store=running.uri,
        neo4j_password=NEO4J_PASSWORD,
        data_dir=tmp_path / "data",
        query_timeout_s=8,
    )
    seed = running.store()
    seed.clear()
    seed.write(Batch(subjects=[Subject(id="S-org", type="organisation", name="甲公司")]))
    seed.close()
    key = KeyStore(settings.data_dir).create("analyst")[1]
    h = {"Authorization": f"Bearer {key}"}

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/subjects/S-org", headers=h).status_code == 200

        running.run("stop")
        for path, headers in (("/health", {}), ("/subjects/S-org", h)):
            r = client.get(path, headers=headers)
            assert r.status_code == 503, (path, r.status_code, r.text)
            body = r.json()["error"]
            assert body["code"] == "store_unavailable"
            assert "Neo4j" in body["message"]
            # /health is public: no address of the store in any answer
            assert running.uri not in r.text and str(running.port) not in r.text, r.text

        running.run("start")
        deadline = time.monotonic() + 60
        while client.get("/health").status_code != 200:
            assert time.monotonic() < deadline, "the app did not recover by itself"
            time.sleep(0.5)
        r = client.get("/subjects/S-org", headers=h)
        assert r.status_code == 200 and r.json()["name"] == "甲公司"


# --- the embedded store killed during writes --------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from graph.model import Subject
    from graph.store.base import Batch
    from graph.store.embedded import EmbeddedStore

    store = EmbeddedStore(Path(sys.argv[1]), compact_bytes=int(sys.argv[2]))
    i = int(sys.argv[3])
    while True:
        store.write(Batch(
            subjects=[Subject(id=f"S-{i}-{j}", type="person", name=f"人{i}-{j}")
                      for j in range(50)],
            docs=[("acks", f"{i:06d}", {"batch": i})],
        ))
        print(i, flush=True)  # acknowledged: write() returned
        i += 1
    """
)


def check_prefix(path: Path) -> int:
    """Reopen; the state must be batches 0..k, each whole. Returns k + 1."""
    store = EmbeddedStore(path)
    try:
        acks = sorted(int(k) for k in store.list_docs("acks"))
        n = len(acks)
        assert acks == list(range(n)), "not a prefix of the batches"
        subjects = {s.id for s in store.iter_subjects()}
        assert subjects == {f"S-{i}-{j}" for i in range(n) for j in range(50)}
        return n
    finally:
        store.close()


@pytest.mark.parametrize("compact_bytes", [64 * 1024, 256 * 1024 * 1024])
def test_embedded_store_survives_sigkill_during_writes(tmp_path: Path, compact_bytes: int) -> None:
    path = tmp_path / "store"
    written = 0
    for _ in range(3):
        acked = kill_when_acknowledged(
            WRITER, [str(path), str(compact_bytes), str(written)], written + 40
        )
        # Every acknowledged batch survived; at most the one in flight more.
        written = check_prefix(path)
        assert acked + 1 <= written <= acked + 2, (acked, written)
