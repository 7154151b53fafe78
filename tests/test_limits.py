"""Limits: oversized bodies get a 413, out-of-range limit/depth/batch parameters
a 400 or 422, and a request that runs too long a 504 — all as JSON, on every
endpoint (the guards are middlewares; the parameter test walks the schema)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, Request
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import require
from api.keys import KeyStore
from graph.model import Subject
from graph.settings import Settings
from graph.store.base import Batch
from graph.store.embedded import EmbeddedStore

# Query parameters whose size the settings cap (max_page_size, max_depth, max_nodes, max_batch).
CAPPED = re.compile(r"^(limit|page_size|size|depth|max_depth|max_nodes|nodes|batch)$")


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
    async def echo(request: Request, _: object = Depends(require("read"))) -> dict[str, Any]:
        return {"bytes": len(await request.body())}

    @app.get("/test-slow")
    def slow(_: object = Depends(require("read"))) -> dict[str, Any]:
        time.sleep(2)
        return {"done": True}

    @app.post("/test-slow-write")
    def slow_write(_: object = Depends(require("load"))) -> dict[str, Any]:
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
    t0 = time.monotonic()
    r = client.get("/test-slow", headers=admin)
    elapsed = time.monotonic() - t0
    assert r.status_code == 504
    body = r.json()
    assert body["error"]["code"] == "query_timeout"
    assert elapsed < 1.5, elapsed  # answered at the deadline, not when the handler ended
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
