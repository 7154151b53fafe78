"""POST /loads: the same report as the CLI, admin only, refusals as JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from graph.settings import Settings
from graph.store.base import GraphStore

CSV = (
    "行政相对人名称,行政相对人代码_1(统一社会信用代码),行政处罚决定书文号,处罚决定日期\n"
    "商丘市华通建材有限公司,91411403MA9GKJ1F86,商市监罚〔2024〕1号,2024-01-02\n"
    "乙公司,,商市监罚〔2024〕2号,2024-13-40\n"
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings, store: GraphStore) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as c:
        yield c


def auth(settings: Settings, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KeyStore(settings.data_dir).create(role)[1]}"}


def test_admin_uploads_a_gbk_feed(
    client: TestClient, settings: Settings, store: GraphStore
) -> None:
    files = {"file": ("admin_penalties_2024.csv", CSV.encode("gbk"), "text/csv")}
    r = client.post("/loads", files=files, headers=auth(settings, "admin"))
    assert r.status_code == 200, r.text
    rep = r.json()
    assert (rep["rows_read"], rep["loaded"], rep["quarantined"]) == (2, 1, 1)
    assert rep["kind"] == "admin_penalties"
    assert store.counts()["records"] == 1
    again = client.post("/loads", files=files, headers=auth(settings, "admin")).json()
    assert again["unchanged"] == 1 and store.counts()["records"] == 1


def test_only_admin_may_load(client: TestClient, settings: Settings) -> None:
    files = {"file": ("admin_penalties_2024.csv", CSV.encode(), "text/csv")}
    for role in ("investigator", "engine", "analyst"):
        r = client.post("/loads", files=files, headers=auth(settings, role))
        assert r.status_code == 403


def test_refused_file_is_a_json_422(client: TestClient, settings: Settings) -> None:
    files = {"file": ("registry_x.csv", b"\x00\x01garbage\x00" * 20, "text/csv")}
    r = client.post("/loads", files=files, headers=auth(settings, "admin"))
    assert r.status_code == 422
    body = r.json()["error"]
    assert body["code"] == "feed_refused"
    assert body["details"]["file"] == "registry_x.csv"


def test_an_upload_name_too_long_for_a_file_system_is_a_json_400(
    client: TestClient, settings: Settings, store: GraphStore
) -> None:
    name = "admin_penalties_" + "很长的文件名" * 30 + ".csv"  # ~560 bytes of UTF-8
    files = {"file": (name, CSV.encode(), "text/csv")}
    r = client.post("/loads", files=files, headers=auth(settings, "admin"))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"]["reason"] == "name_too_long"
    assert store.counts()["records"] == 0


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
def test_an_upload_without_a_valid_key_is_refused_before_its_body_is_read(
    settings: Settings, store: GraphStore
) -> None:
    from starlette.types import Receive, Scope, Send

    app = create_app(settings, store=store)
    reads: list[int] = []

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                reads.append(len(message.get("body", b"")))
            return message

        await app(scope, counted, send)

    files = {"file": ("admin_penalties_2024.csv", CSV.encode() * 2000, "text/csv")}
    with TestClient(counting) as c:  # type: ignore[arg-type]
        for headers in (
            {},
            {"Authorization": "Bearer cl_00000000_forged"},
            auth(settings, "analyst"),
        ):
            reads.clear()
            r = c.post("/loads", files=files, headers=headers)
            assert r.status_code in (401, 403), r.text
            assert reads == [], "the upload was read before the key was checked"
        r = c.post("/loads", files=files, headers=auth(settings, "admin"))
        assert r.status_code == 200 and sum(reads) > 100_000


def test_the_upload_names_the_day_a_snapshot_was_taken(
    client: TestClient, settings: Settings, store: GraphStore
) -> None:
    body = (
        "企业名称,统一社会信用代码,法定代表人,法定代表人证件号码\n"
        "商丘市华通建材有限公司,91411403MA9GKJ1F86,王伟,411425198001011231\n"
    ).encode()
    files = {"file": ("registry_2024.csv", body, "text/csv")}
    admin = auth(settings, "admin")
    r = client.post("/loads", files=files, params={"snapshot_date": "2024-05-31"}, headers=admin)
    assert r.status_code == 200, r.text
    (rel,) = list(store.iter_relations(["legal_representative"]))
    assert rel.props["seen"][0]["on"] == "2024-05-31"
    assert rel.valid_from == "2024-05-31"  # known from the file date, with no 核准日期
    bad = client.post("/loads", files=files, params={"snapshot_date": "31/05/2024"}, headers=admin)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"
