"""Limits: oversized bodies get a 413, out-of-range limit/depth/batch parameters
a 400 or 422, and a request that runs too long a 504 — all as JSON, on every
endpoint (the guards are middlewares; the parameter test walks the schema)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import LoadCaller, ReadCaller, StoreDep
from api.keys import KeyStore
from api.limits import heavy
from graph.model import Subject
from graph.settings import Settings
from graph.store.base import Batch
from graph.store.embedded import EmbeddedStore

# Query parameters whose size the settings cap (max_page_size, max_depth, max_nodes, max_batch).
CAPPED = re.compile(r"^(limit|page_size|size|depth|max_depth|max_nodes|nodes|batch)$")


# what the /test-slow handler has seen
SLOW: dict[str, Any] = {"answered": threading.Event(), "finished": False}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", max_upload_bytes=1000, max_json_bytes=1000, query_timeout_s=0.5
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    store = EmbeddedStore(None)
    store.write(Batch(subjects=[Subject(id="S-org", type="organisation", name="甲公司")]))
    app = create_app(settings, store=store)

    @app.post("/test-echo")
    async def echo(request: Request, _: ReadCaller) -> dict[str, Any]:
        return {"bytes": len(await request.body())}

    @app.get("/test-slow")
    def slow(_: ReadCaller) -> dict[str, Any]:
        # Runs until the test has its answer (or 30 s): an answer that waited
        # for the handler would find it finished.
        SLOW["answered"].wait(30)
        SLOW["finished"] = True
        return {"done": True}

    @app.post("/test-slow-write")
    def slow_write(_: LoadCaller) -> dict[str, Any]:
        time.sleep(1)
        return {"written": True}

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {KeyStore(settings.data_dir).create('admin')[1]}"}


def audit_statuses(settings: Settings) -> list[tuple[str, int]]:
    out = []
    for path in (settings.data_dir / "audit").glob("audit-*.jsonl"):
        for line in path.read_text().splitlines():
            e = json.loads(line)
            out.append((e["endpoint"], e["status"]))
    return out


def test_oversized_body_declared_length_is_413(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/test-echo", content=b"x" * 1001, headers=admin)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert client.post("/test-echo", content=b"x" * 1000, headers=admin).json() == {"bytes": 1000}


def test_oversized_streamed_body_is_413(client: TestClient, admin: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"y" * 100

    r = client.post("/test-echo", content=chunks(), headers=admin)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"


def test_oversized_body_is_refused_before_auth_too(client: TestClient) -> None:
    r = client.post("/test-echo", content=b"x" * 5000)
    assert r.status_code == 413


def test_slow_request_is_cut_off_with_504(
    client: TestClient, admin: dict[str, str], settings: Settings
) -> None:
    SLOW["answered"].clear()
    SLOW["finished"] = False
    r = client.get("/test-slow", headers=admin)
    # answered at the deadline, while the handler was still running
    assert SLOW["finished"] is False
    SLOW["answered"].set()
    assert r.status_code == 504
    body = r.json()
    assert body["error"]["code"] == "query_timeout"
    assert ("/test-slow", 504) in audit_statuses(settings)


def test_writes_are_not_cut_off(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/test-slow-write", headers=admin)
    assert r.status_code == 200 and r.json() == {"written": True}


def test_capped_parameters_refuse_huge_values(client: TestClient, admin: dict[str, str]) -> None:
    """Every documented integer parameter named like a cap refuses 10**7 and -1."""
    schema = client.get("/openapi.json").json()
    tried = 0
    for path, ops in schema["paths"].items():
        url = re.sub(r"\{[^}]+\}", "S-org", path)
        for method, op in ops.items():
            for param in op.get("parameters", []):
                if param.get("in") != "query" or not CAPPED.match(param["name"]):
                    continue
                for value in (10**7, -1):
                    r = client.request(
                        method.upper(), url, params={param["name"]: value}, headers=admin
                    )
                    assert r.status_code in (400, 422), (method, path, param["name"], r.text)
                    assert r.json()["error"]["code"] in (
                        "limit_exceeded",
                        "invalid_request",
                        "invalid_input",
                    )
                    tried += 1
    assert tried >= 2  # at least /audit?limit=


# --- bounded work: the pool, its queue, deadlines that free workers ---------------------


Pooled = tuple[TestClient, dict[str, Any], dict[str, str]]


@pytest.fixture
def pooled(tmp_path: Path) -> Iterator[Pooled]:
    """An app with one heavy worker and one queue place, and routes to fill them."""
    settings = Settings(
        data_dir=tmp_path / "data", query_timeout_s=0.6, heavy_workers=1, heavy_queue=1
    )
    store = EmbeddedStore(None)
    store.write(Batch(subjects=[Subject(id="S-org", type="organisation", name="甲公司")]))
    app = create_app(settings, store=store)
    seen: dict[str, Any] = {"calls": 0, "release": threading.Event(), "ran": []}

    @app.get("/test-heavy")
    @heavy
    def held(store: StoreDep, _: ReadCaller, tag: str = "") -> dict[str, Any]:
        seen["ran"].append(tag)
        seen["release"].wait(10)
        return {"tag": tag}

    @app.get("/test-grind")
    @heavy
    def grind(store: StoreDep, _: ReadCaller) -> dict[str, Any]:
        # Work that would run for 20 s, a store call every 10 ms.
        for _ in range(2000):
            store.counts()
            seen["calls"] += 1
            time.sleep(0.01)
        return {"done": True}

    analyst = {"Authorization": f"Bearer {KeyStore(settings.data_dir).create('analyst')[1]}"}
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, seen, analyst
        seen["release"].set()


def test_a_full_pool_answers_429_with_retry_after_at_once(pooled: Pooled) -> None:
    client, seen, h = pooled
    answers: dict[str, Any] = {}

    def ask(tag: str) -> None:
        answers[tag] = client.get("/test-heavy", params={"tag": tag}, headers=h)

    running = threading.Thread(target=ask, args=("running",))
    running.start()
    _wait_for(lambda: seen["ran"] == ["running"])
    queued = threading.Thread(target=ask, args=("queued",))
    queued.start()
    time.sleep(0.1)
    refused = client.get("/test-heavy", params={"tag": "third"}, headers=h)
    # 429, not the 504 of a request that waited for a place until its deadline
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "overloaded"
    assert int(refused.headers["Retry-After"]) >= 1
    seen["release"].set()
    running.join(10)
    queued.join(10)
    # The first ran; the queued one either ran after it or was cut off at its
    # deadline while waiting (and then never started).
    assert answers["running"].status_code in (200, 504)
    assert "third" not in seen["ran"]


def test_a_timeout_answers_on_time_and_frees_its_worker(pooled: Pooled) -> None:
    client, seen, h = pooled
    r = client.get("/test-grind", headers=h)
    assert r.status_code == 504 and r.json()["error"]["code"] == "query_timeout"
    # on time: long before the 2,000 store calls of its work
    assert seen["calls"] < 2000, seen["calls"]
    # The handler stops at its next store call after the deadline ...
    calls = seen["calls"]
    time.sleep(0.3)
    assert seen["calls"] - calls <= 1, (calls, seen["calls"])
    # ... so the one worker is free for the next request at once.
    seen["release"].set()
    # 200: the one worker took it (a worker still grinding would leave it
    # queued until its deadline, 504)
    r = client.get("/test-heavy", params={"tag": "after"}, headers=h)
    assert r.status_code == 200 and r.json() == {"tag": "after"}


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_quality_is_computed_once_per_store_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.routers import quality as quality_router

    computed: list[int] = []
    real_report = quality_router.quality_report

    def slow_report(store: Any) -> dict[str, Any]:
        computed.append(store.counts()["subjects"])
        time.sleep(0.3)
        return real_report(store)

    monkeypatch.setattr(quality_router, "quality_report", slow_report)
    settings = Settings(data_dir=tmp_path / "data", heavy_workers=1, heavy_queue=2)
    store = EmbeddedStore(tmp_path / "store")
    store.write(Batch(subjects=[Subject(id="S-a", type="organisation", name="甲公司")]))
    h = {"Authorization": f"Bearer {KeyStore(settings.data_dir).create('analyst')[1]}"}
    with TestClient(create_app(settings, store=store)) as client:
        answers: list[Any] = []
        crowd = [
            threading.Thread(target=lambda: answers.append(client.get("/quality", headers=h)))
            for _ in range(10)
        ]
        for t in crowd:
            t.start()
        for t in crowd:
            t.join(30)
        # Ten callers, one worker, two queue places: one computation, shared.
        assert [r.status_code for r in answers] == [200] * 10
        assert computed == [1]
        # the report's own time tells one computation from another
        shared = {r.json()["generated_at"] for r in answers}
        assert len(shared) == 1
        assert client.get("/quality", headers=h).json()["generated_at"] in shared
        assert computed == [1]
        store.write(Batch(subjects=[Subject(id="S-b", type="organisation", name="乙公司")]))
        assert client.get("/quality", headers=h).json()["generated_at"] not in shared
        assert computed == [1, 2]
    store.close()
