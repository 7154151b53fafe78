"""The audit log: every request with a key is on disk before its answer leaves,
ID numbers in it are masked, only admins read it, and nothing edits it."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Body
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import ChecksCaller
from api.keys import KeyStore
from graph.settings import Settings
from graph.store.embedded import EmbeddedStore

PERSON_ID = "411425198001011231"
MASKED = "411425********1231"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, store=EmbeddedStore(None))

    # Stands in for the checks router: a POST /checks body names the keys checked.
    @app.post("/checks")
    def checks(body: Annotated[dict[str, Any], Body()], _: ChecksCaller) -> dict[str, Any]:
        return {"checked": len(body.get("subjects", []))}

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def key(settings: Settings, role: str) -> tuple[str, dict[str, str]]:
    info, secret = KeyStore(settings.data_dir).create(role)
    return info.key_id, {"Authorization": f"Bearer {secret}"}


def lines(settings: Settings) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted((settings.data_dir / "audit").glob("audit-*.jsonl")):
        out.extend(json.loads(line) for line in path.read_text().splitlines())
    return out


def test_every_request_with_a_key_is_recorded(client: TestClient, settings: Settings) -> None:
    kid, h = key(settings, "analyst")
    r = client.get(f"/subjects/{PERSON_ID}", headers=h, params={"q": PERSON_ID})
    # written before the answer was returned: it is already in the file
    entry = lines(settings)[-1]
    assert entry["key_id"] == kid
    assert entry["role"] == "analyst"
    assert entry["method"] == "GET"
    assert entry["endpoint"] == "/subjects/{key}"
    assert entry["status"] == r.status_code
    assert entry["bytes"] == len(r.content)
    assert entry["subjects"] == [MASKED]
    assert entry["at"].endswith("+00:00")
    assert PERSON_ID not in json.dumps(lines(settings))


def test_requests_without_a_key_are_not_recorded_bad_keys_are(
    client: TestClient, settings: Settings
) -> None:
    client.get("/health")
    client.get("/subjects/S-x")
    assert lines(settings) == []
    client.get("/subjects/S-x", headers={"Authorization": "Bearer cl_dead_beef"})
    (entry,) = lines(settings)
    assert entry["key_id"] is None and entry["status"] == 401


def test_refusals_are_recorded_with_their_status(client: TestClient, settings: Settings) -> None:
    kid, h = key(settings, "engine")
    assert client.get("/subjects/S-x", headers=h).status_code == 403
    assert client.get(f"/nowhere/{PERSON_ID}", headers=h).status_code == 404
    forbidden, unknown = lines(settings)
    assert (forbidden["key_id"], forbidden["status"]) == (kid, 403)
    assert unknown["status"] == 404 and unknown["matched"] is False
    assert PERSON_ID not in unknown["endpoint"]


def test_keys_in_a_checks_body_are_recorded_masked(client: TestClient, settings: Settings) -> None:
    _, h = key(settings, "engine")
    body = {"subjects": [PERSON_ID, "91411403MA9GKJ1F2X"], "purpose": "procurement"}
    r = client.post("/checks", json=body, headers=h)
    assert r.status_code == 200, r.text
    entry = lines(settings)[-1]
    assert entry["endpoint"] == "/checks"
    assert entry["subjects"] == [MASKED, "91411403MA9GKJ1F2X"]


def test_admin_reads_and_filters_the_log(client: TestClient, settings: Settings) -> None:
    akid, admin = key(settings, "admin")
    ikid, inv = key(settings, "investigator")
    client.get(f"/subjects/{PERSON_ID}", headers=inv)
    client.get("/subjects/S-other", headers=inv)
    client.get("/subjects/S-third", headers=admin)

    r = client.get("/audit", headers=admin, params={"subject": PERSON_ID})
    assert r.status_code == 200
    found = r.json()["entries"]
    assert [e["key_id"] for e in found] == [ikid]
    assert PERSON_ID not in r.text
    # The masked form finds it too; so does the audit query just made, which
    # asked about that subject itself.
    again = client.get("/audit", headers=admin, params={"subject": MASKED}).json()["entries"]
    assert [(e["key_id"], e["endpoint"]) for e in again] == [
        (akid, "/audit"),
        (ikid, "/subjects/{key}"),
    ]

    mine = client.get("/audit", headers=admin, params={"key_id": ikid}).json()["entries"]
    assert {e["endpoint"] for e in mine} == {"/subjects/{key}"} and len(mine) == 2
    newest = client.get("/audit", headers=admin, params={"limit": 1}).json()["entries"]
    assert len(newest) == 1 and newest[0]["endpoint"] == "/audit"  # newest first

    future = client.get("/audit", headers=admin, params={"since": "2999-01-01"}).json()
    assert future["count"] == 0
    bad = client.get("/audit", headers=admin, params={"since": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"
    too_many = client.get("/audit", headers=admin, params={"limit": settings.max_page_size + 1})
    assert too_many.status_code == 400


@pytest.mark.parametrize("role", ["investigator", "engine", "analyst"])
def test_only_admins_read_the_log(client: TestClient, settings: Settings, role: str) -> None:
    _, h = key(settings, role)
    r = client.get("/audit", headers=h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_no_api_edits_or_deletes_the_log(client: TestClient, settings: Settings) -> None:
    _, admin = key(settings, "admin")
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert client.request(method, "/audit", headers=admin).status_code == 405
    schema = client.get("/openapi.json").json()
    audit_ops = {m for p, ops in schema["paths"].items() if "audit" in p for m in ops}
    assert audit_ops == {"get"}


def test_the_log_file_is_append_only_and_private(client: TestClient, settings: Settings) -> None:
    _, h = key(settings, "admin")
    client.get("/audit", headers=h)
    audit = client.app.state.audit  # type: ignore[attr-defined]
    assert audit._fd is not None
    assert fcntl.fcntl(audit._fd, fcntl.F_GETFL) & os.O_APPEND
    (path,) = (settings.data_dir / "audit").glob("audit-*.jsonl")
    assert path.stat().st_mode & 0o077 == 0
    before = path.read_bytes()
    client.get("/audit", headers=h)
    assert path.read_bytes().startswith(before)  # earlier lines untouched


def test_a_torn_last_line_is_skipped_not_fatal(client: TestClient, settings: Settings) -> None:
    _, h = key(settings, "admin")
    client.get("/audit", headers=h)
    (path,) = (settings.data_dir / "audit").glob("audit-*.jsonl")
    with path.open("ab") as fh:
        fh.write(b'{"at": "2024-01-01T00:00:00.000+00:00", "key_')  # a crash mid-append
    r = client.get("/audit", headers=h)
    assert r.status_code == 200 and r.json()["count"] >= 1


def test_an_unwritable_log_withholds_the_answer(client: TestClient, settings: Settings) -> None:
    _, h = key(settings, "admin")
    audit = client.app.state.audit  # type: ignore[attr-defined]

    def broken(entry: dict[str, Any]) -> None:
        raise OSError(28, "No space left on device")

    audit.append = broken
    r = client.get("/audit", headers=h)
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "audit_unavailable"


# The same number as people type it: spaced, dashed, full-width, lower-case, 15 digits.
SPELLINGS = [
    "4114 2519 8001 0112 31",
    "411425-19800101-1231",
    "".join(chr(ord(c) + 0xFEE0) for c in PERSON_ID),
    "411425800101123",
    f" {PERSON_ID} ",
]


def test_id_numbers_are_normalised_before_masking_and_digesting(
    client: TestClient, settings: Settings
) -> None:
    _, admin = key(settings, "admin")
    ikid, inv = key(settings, "investigator")
    for spelling in SPELLINGS:
        client.get(f"/subjects/{spelling}", headers=inv)
        client.get("/subjects/search", params={"q": spelling}, headers=inv)
    entries = [e for e in lines(settings) if e["key_id"] == ikid]
    assert len(entries) == 2 * len(SPELLINGS)
    assert all(e["subjects"] == [MASKED] for e in entries), [e["subjects"] for e in entries]
    found = client.get("/audit", headers=admin, params={"subject": PERSON_ID}).json()["entries"]
    assert len([e for e in found if e["key_id"] == ikid]) == 2 * len(SPELLINGS)
    # and the other way round: asked with a spelling, it finds them all too
    found = client.get("/audit", headers=admin, params={"subject": SPELLINGS[2]}).json()["entries"]
    assert len([e for e in found if e["key_id"] == ikid]) == 2 * len(SPELLINGS)
    assert PERSON_ID not in json.dumps(lines(settings))


@pytest.mark.parametrize("padding", ["whitespace", "field", "nested"])
def test_every_subject_of_a_padded_check_is_audited(
    client: TestClient, settings: Settings, padding: str
) -> None:
    """However a check's body is padded, an answered check is audited with its
    subjects; a body too large to audit whole is refused before any look-up."""
    _, h = key(settings, "engine")
    for size in (100_000, 900_000, 4_500_000):
        subjects = [PERSON_ID, "91411403MA9GKJ1F2X"]
        body: dict[str, Any] = {"purpose": "procurement", "subjects": subjects}
        if padding == "whitespace":
            raw = "{" + " " * size + json.dumps(body, ensure_ascii=False)[1:]
        elif padding == "field":
            raw = json.dumps({"pad": "x" * size, **body})
        else:
            raw = json.dumps({**body, "meta": {"pad": ["y" * 1000] * (size // 1000)}})
        r = client.post("/checks", content=raw, headers={**h, "Content-Type": "application/json"})
        entry = lines(settings)[-1]
        assert entry["status"] == r.status_code
        if r.status_code == 413:
            assert r.json()["error"]["code"] == "too_large"
            assert size > settings.max_json_bytes
            continue
        assert r.status_code == 200, (size, r.text[:300])
        assert entry["subjects"] == [MASKED, "91411403MA9GKJ1F2X"], (size, entry["subjects"])


def test_concurrent_lines_share_fsyncs_and_each_is_on_disk_before_append_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: thirty-two requests finishing together cost a few disk
    flushes, not thirty-two, and no append returns before an fsync that
    started after its line was written has finished."""
    import threading
    import time

    import api.audit as audit_module
    from api.audit import AuditLog

    log = AuditLog(tmp_path / "audit")
    real_fsync = os.fsync
    lock = threading.Lock()
    done_upto = [0]  # lines covered by the fsyncs finished so far
    flushes = [0]

    def slow_fsync(fd: int) -> None:
        covers = log._written  # the lines written when this flush begins
        time.sleep(0.02)  # a disk that takes its time
        real_fsync(fd)
        with lock:
            done_upto[0] = max(done_upto[0], covers)
            flushes[0] += 1

    monkeypatch.setattr(audit_module.os, "fsync", slow_fsync)
    returned_with: dict[int, int] = {}
    start = threading.Barrier(32)

    def request(n: int) -> None:
        start.wait()
        log.append({"at": "2026-11-28T08:00:00+00:00", "n": n})
        with lock:
            returned_with[n] = done_upto[0]

    threads = [threading.Thread(target=request, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    lines = [json.loads(x) for x in (tmp_path / "audit" / "audit-2026-11-28.jsonl").open()]
    position = {line["n"]: i + 1 for i, line in enumerate(lines)}
    assert sorted(position) == list(range(32))
    for n, covered in returned_with.items():
        assert position[n] <= covered, (n, position[n], covered)
    assert flushes[0] < 16, flushes[0]
