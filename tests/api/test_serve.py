"""``creditlink serve`` as deployed, on loopback: what its log prints, bodies that
arrive in many small chunks, a hostile workbook, and the one-writer refusal at
start-up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.keys import KeyStore
from tests.builders import FAR_CELL
from tests.live import LiveServer, cli, env_for

PERSON_ID = "411425198001011231"
SPELLED = [
    PERSON_ID,
    "411425800101123",  # the legacy 15-digit form
    "411425-19800101-1231",
    "".join(chr(ord(c) + 0xFEE0) for c in PERSON_ID),
]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    env = env_for(tmp_path / "data", max_upload_bytes="65536")
    keys = {
        r: KeyStore(tmp_path / "data").create(r)[1] for r in ("admin", "investigator", "analyst")
    }
    with LiveServer(env) as server:
        yield server, keys


def test_the_access_log_masks_id_numbers_and_drops_queries_naming_subjects(
    served: tuple[LiveServer, dict[str, str]],
) -> None:
    server, keys = served
    with server.client(keys["investigator"]) as inv, server.client(keys["analyst"]) as ana:
        for value in SPELLED:
            inv.get(f"/subjects/{value}")
            ana.get(f"/subjects/{value}")
            inv.get("/subjects/search", params={"q": value})
            inv.get("/subjects/S-x", params={"key": value})
            inv.get(f"/nowhere/{value}/x")
        inv.get("/audit", params={"limit": 1})  # a query with no subject is kept
    server.stop()
    log = server.output()
    access = [line for line in log.splitlines() if '"GET ' in line]
    assert len(access) >= 4 * len(SPELLED)
    digits = re.sub(r"[\s\-]", "", log)
    for value in SPELLED:
        assert value not in log
        assert value.replace("-", "") not in digits
    assert "19800101" not in log and "800101" not in log
    assert any("/subjects/411425********1231" in line for line in access), access[:5]
    assert any("?[query left out]" in line for line in access)
    assert any("/audit?limit=1" in line for line in access)


def test_an_upload_in_many_small_chunks_meets_the_size_limit(
    served: tuple[LiveServer, dict[str, str]],
) -> None:
    server, keys = served
    boundary = "chunkedboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="red_list_big.csv"\r\nContent-Type: text/csv\r\n\r\n'
        "主体名称,统一社会信用代码,红名单类型\r\n"
    ).encode()
    sent = {"chunks": 0}

    def body() -> Iterator[bytes]:
        yield head
        for i in range(2000):  # 2000 chunks of ~60 bytes: 120 KB, past the 64 KB limit
            sent["chunks"] += 1
            yield f"商丘市分块{i:05d}有限公司,,纳税信用A级\r\n".encode()
        yield f"\r\n--{boundary}--\r\n".encode()

    with server.client(keys["admin"]) as api:
        r = api.post(
            "/loads",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert r.status_code == 413, r.text[:300]
        assert r.json()["error"]["code"] == "too_large"
        assert api.get("/health").status_code == 200
        # Under the limit, the same chunked way, the file loads.
        small = (
            head + "".join(f"商丘市分块{i}有限公司,,纳税信用A级\r\n" for i in range(50)).encode()
        )
        r = api.post(
            "/loads",
            content=iter(
                [small[i : i + 7] for i in range(0, len(small), 7)]
                + [f"\r\n--{boundary}--\r\n".encode()]
            ),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert r.status_code == 200, r.text[:300]
        assert r.json()["loaded"] == 50


def test_the_far_cell_workbook_gets_a_4xx_and_the_server_stays_up(
    served: tuple[LiveServer, dict[str, str]],
) -> None:
    server, keys = served
    with server.client(keys["admin"]) as api:
        r = api.post(
            "/loads", files={"file": ("red_list_far.xlsx", FAR_CELL, "application/octet-stream")}
        )
        assert r.status_code == 422, r.text[:300]
        assert r.json()["error"]["details"]["reason"] == "sheet_too_large"
        assert api.get("/health").status_code == 200
    assert server.proc is not None and server.proc.poll() is None


def test_a_second_writer_cannot_start_and_says_who_holds_the_store(
    served: tuple[LiveServer, dict[str, str]], tmp_path: Path
) -> None:
    server, _keys = served
    second = LiveServer(server.env)
    try:
        second.start(wait=False)
        assert second.proc is not None
        assert second.proc.wait(60) == 2
        assert f"pid {server.proc.pid}" in second.output()  # type: ignore[union-attr]
        assert "Traceback" not in second.output()
    finally:
        second.kill()  # whatever happened, no server is left behind
        second.__exit__()
    # and the first is unharmed
    assert httpx.get(server.url + "/health").status_code == 200
    report = cli(["quarantine", "--json"], server.env)
    assert report.returncode == 0, report.stderr
