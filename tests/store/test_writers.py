"""Several processes on one data directory, as operators run them: ``creditlink
load`` while ``creditlink serve`` runs, two loads at once, either party killed
with SIGKILL at a random point, restarts. Nothing is lost, nothing doubled, on
both stores.

The embedded store has one writer (the server): a CLI load is handed to it
(loaders.handoff) and any other second writer is refused at once with a message
naming the first; read-only commands run beside it and see what it
committed. Neo4j serves many writers: the CLI load commits, the server sees it
at once, and the server's next load resolves against it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from api.keys import KeyStore
from graph.store.base import GraphStore
from graph.store.embedded import EmbeddedStore
from tests.builders import Enterprises
from tests.live import REPO, LiveServer, cli, cli_start, env_for
from tests.stores import NEO4J_PASSWORD, NEO4J_URI, open_neo4j

FIRMS = Enterprises("MW", "商丘市写者")


@pytest.fixture(params=["embedded", "neo4j"])
def kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    if value == "neo4j":
        store = open_neo4j()
        store.clear()
        store.close()
    return value


@pytest.fixture
def env(kind: str, tmp_path: Path) -> dict[str, str]:
    store = "embedded" if kind == "embedded" else NEO4J_URI
    return env_for(tmp_path / "data", store, neo4j_password=NEO4J_PASSWORD)


def reader(kind: str, env: dict[str, str]) -> GraphStore:
    """The store as a process that only reads opens it (beside any writer)."""
    if kind == "embedded":
        return EmbeddedStore(Path(env["CREDITLINK_DATA_DIR"]) / "store", read_only=True)
    return open_neo4j()


def counts(kind: str, env: dict[str, str]) -> dict[str, int]:
    store = reader(kind, env)
    try:
        return store.counts()
    finally:
        store.close()


def admin(env: dict[str, str]) -> str:
    return KeyStore(Path(env["CREDITLINK_DATA_DIR"])).create("admin")[1]


def upload(client: httpx.Client, path: Path) -> httpx.Response:
    return client.post("/loads", files={"file": (path.name, path.read_bytes(), "text/csv")})


def test_a_cli_load_while_serving_is_refused_or_seen_and_survives_a_restart(
    kind: str, env: dict[str, str], tmp_path: Path
) -> None:
    first = FIRMS.red_list(tmp_path / "red_list_a.csv", range(40))
    second = FIRMS.red_list(tmp_path / "red_list_b.csv", range(40, 80))
    # The second file's enterprises again, by name only: resolved to the same subjects.
    by_name = FIRMS.red_list(tmp_path / "red_list_c.csv", range(40, 80), "市场监管局", codes=False)
    key = admin(env)
    with LiveServer(env) as server, server.client(key) as api:
        assert upload(api, first).status_code == 200  # the server's loader has built its index
        done = cli(["load", str(second)], env)
        if kind == "embedded":
            # One writer: the CLI hands its file to the server, which says so.
            assert done.returncode == 0, done.stdout + done.stderr
            assert f"the server at {server.url} (pid {server.proc.pid})" in done.stderr  # type: ignore[union-attr]
            assert "red_list_b.csv (red_list): read 40, loaded 40" in done.stdout, done.stdout
            # Loaded by the server itself: it answers at once, no restart.
            assert api.get(f"/subjects/{FIRMS.uscc(79)}").status_code == 200
            # Readers run beside it and see what it committed.
            shown = cli(["quality", "--json"], env)
            assert shown.returncode == 0, shown.stderr
            assert counts(kind, env)["records"] == 80
            assert upload(api, second).json()["unchanged"] == 40
        else:
            assert done.returncode == 0, done.stdout + done.stderr
            # Visible to the server within a second.
            deadline = time.monotonic() + 1.0
            while api.get(f"/subjects/{FIRMS.uscc(79)}").status_code != 200:
                assert time.monotonic() < deadline, "the server does not see the CLI's load"
                time.sleep(0.05)
        report = upload(api, by_name).json()
        assert report["loaded"] == 40 and report["subjects_created"] == 0, report
    with LiveServer(env) as server, server.client(key) as api:
        for i in (0, 39, 40, 79):
            assert api.get(f"/subjects/{FIRMS.uscc(i)}").status_code == 200, i
        again = upload(api, second).json()
        assert again["unchanged"] == 40, again
    got = counts(kind, env)
    assert (got["subjects"], got["records"], got["listings"]) == (80, 120, 120), got


def test_two_cli_loads_at_once(kind: str, env: dict[str, str], tmp_path: Path) -> None:
    """Two files naming the same 100 enterprises, loaded by two processes started together."""
    files = [
        FIRMS.red_list(tmp_path / "red_list_a.csv", range(100), "税务局"),
        FIRMS.red_list(tmp_path / "red_list_b.csv", range(100), "市场监管局"),
    ]
    procs = [cli_start(["load", str(f)], env) for f in files]
    outcomes = [(p.wait(300), p.communicate()) for p in procs]
    for (code, (out, err)), path in zip(outcomes, files, strict=True):
        if code == 0:
            continue
        # Only the embedded store refuses a second writer, and says who it is.
        assert kind == "embedded" and code == 2, (code, out, err)
        other = next(p for p in procs if p.returncode == 0)
        assert f"pid {other.pid}" in err, err
        assert "already has a writer" in err, err
        assert cli(["load", str(path)], env).returncode == 0
    got = counts(kind, env)
    assert (got["subjects"], got["records"], got["listings"]) == (100, 200, 200), got


def _post_quietly(server: LiveServer, key: str, path: Path) -> None:
    """An upload whose answer may never come (the server is killed under it)."""
    try:
        with server.client(key) as api:
            upload(api, path)
    except httpx.HTTPError:
        pass


def _assert_whole_or_absent(kind: str, env: dict[str, str], n: int, base: int) -> None:
    got = counts(kind, env)
    # A load is one transaction: the file is there entirely, or not at all, and
    # the records table agrees with the graph.
    assert got["records"] in (base, base + n), got
    assert got["listings"] == got["records"] and got["subjects"] == got["records"], got


@pytest.mark.parametrize("party", ["cli", "server"])
def test_kill_9_at_random_points_loses_and_doubles_nothing(
    kind: str, env: dict[str, str], tmp_path: Path, party: str
) -> None:
    rng = random.Random(f"{kind}-{party}")
    rows = 600
    files = [
        FIRMS.red_list(tmp_path / f"red_list_{k}.csv", range(k * rows, (k + 1) * rows))
        for k in range(3)
    ]
    key = admin(env) if party == "server" else ""
    for k, path in enumerate(files):
        delay = rng.uniform(0.3, 3.0)
        if party == "cli":
            proc = cli_start(["load", str(path)], env)
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            assert proc.stdout is not None and proc.stderr is not None
            proc.stdout.close()
            proc.stderr.close()
        else:
            server = LiveServer(env).start()
            sender = threading.Thread(target=_post_quietly, args=(server, key, path))
            sender.start()
            time.sleep(delay)
            server.kill()
            sender.join(60)
            server.__exit__()
        _assert_whole_or_absent(kind, env, rows, k * rows)
        # Whatever the kill left, loading the file again completes it, once.
        if party == "cli":
            done = cli(["load", "--json", str(path)], env)
            assert done.returncode == 0, done.stderr
        else:
            with LiveServer(env) as server, server.client(key) as api:
                assert upload(api, path).status_code == 200
        _assert_whole_or_absent(kind, env, rows, k * rows)
        assert counts(kind, env)["records"] == (k + 1) * rows
    # And once more changes nothing.
    done = cli(["load", "--json", *map(str, files)], env)
    assert done.returncode == 0, done.stderr
    reports = json.loads(done.stdout.strip().splitlines()[-1])["reports"]
    assert [r["unchanged"] for r in reports] == [rows] * 3
    assert counts(kind, env)["subjects"] == 3 * rows


# A writer killed after its journal fsync and before its SQLite commit: the
# one window a random kill rarely hits, so it is hit here on purpose.
_DIE_BEFORE_SQLITE_COMMIT = """
import os, sys
from graph.store.embedded.records import RecordFile
def die(self, seq):
    if self.in_txn and seq > 0:
        os._exit(9)
RecordFile.commit = die
from api.cli import main
sys.exit(main(["load", sys.argv[1]]))
"""


def test_a_writer_killed_between_journal_and_records_leaves_readers_whole(
    tmp_path: Path,
) -> None:
    env = env_for(tmp_path / "data", "embedded")
    path = FIRMS.red_list(tmp_path / "red_list.csv", range(30))
    died = subprocess.run(
        [sys.executable, "-c", _DIE_BEFORE_SQLITE_COMMIT, str(path)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert died.returncode == 9, died.stderr
    # The journal holds the load; a reader (no writer alive) sees the whole
    # file, records included, not a graph whose records are missing.
    got = counts("embedded", env)
    assert got["listings"] == got["records"] == got["subjects"] == 30, got
    done = cli(["load", "--json", str(path)], env)
    assert done.returncode == 0, done.stderr
    assert counts("embedded", env)["records"] == 30
