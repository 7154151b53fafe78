"""No endpoint answers 500 for a date the loaders accept, nor for the extremes
of ISO dates a caller may send (9999-12-31, 0001-01-01), on both stores.

Stored data includes what older versions of the loader stored (a listing that
starts on 9999-12-31, a relation valid to 9999-12-31) and the latest dates the
loader accepts today (2100-12-31, whose maximum period ends in 2103).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from graph.settings import Settings
from graph.store.base import Batch, GraphStore
from tests.builders import ID_LR, USCC_DEBTOR, listing, load_city, rel

EXTREMES = ["9999-12-31", "0001-01-01", "2100-12-31", "1900-01-01"]


@pytest.fixture
def client(tmp_path: Path, store: GraphStore) -> Iterator[tuple[TestClient, dict[str, str]]]:
    load_city(store)
    store.write(
        Batch(
            relations=[
                rel("legal_representative", "P-lr", "O-serious", "0001-01-01", "9999-12-31"),
            ],
            listings=[
                listing("L-far", "dishonest_debtors", "O-debtor", "9999-12-31", number="(9999)1号"),
                listing("L-late", "tax_violations", "O-debtor", "2100-12-31"),
                listing(
                    "L-old", "admin_penalties", "O-debtor", "0001-01-01", number="罚〔1〕1号",
                    severity="严重", publicity_end="9999-12-31", valid_until="9999-12-31",
                ),
            ],
        )
    )
    settings = Settings(data_dir=tmp_path / "data")
    with TestClient(create_app(settings, store=store)) as c:
        key = KeyStore(settings.data_dir).create("investigator")[1]
        yield c, {"Authorization": f"Bearer {key}"}


def _ok(r: object) -> None:
    status = r.status_code  # type: ignore[attr-defined]
    assert status < 500, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/json")  # type: ignore[attr-defined]


@pytest.mark.parametrize("day", EXTREMES)
def test_every_dated_endpoint_answers_for_extreme_dates(
    client: tuple[TestClient, dict[str, str]], day: str
) -> None:
    c, h = client
    for path in (
        f"/subjects/{USCC_DEBTOR}/measures",
        f"/subjects/{ID_LR}/measures",
        f"/subjects/{USCC_DEBTOR}/listings",
        f"/subjects/{USCC_DEBTOR}/neighbors",
        "/paths",
    ):
        params = {"as_of": day}
        if path == "/paths":
            params |= {"from": ID_LR, "to": USCC_DEBTOR}
        r = c.get(path, params=params, headers=h)
        _ok(r)
        assert r.status_code == 200, (path, r.text)
    r = c.post(
        "/checks",
        json={"scenario": "procurement", "subjects": [USCC_DEBTOR, ID_LR], "as_of": day},
        headers=h,
    )
    _ok(r)
    assert r.status_code == 200
    r = c.get("/changes", params={"since": day}, headers=h)
    _ok(r)
    # a day after today is refused as the future; any past day is answered
    assert r.status_code == (400 if day > "2100" else 200), r.text
    r = c.post("/repairs", json={"listing": "罚〔1〕1号", "decided": day}, headers=h)
    _ok(r)


def test_listings_far_in_the_future_are_pending_and_the_old_one_has_ended(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, h = client
    r = c.get(f"/subjects/{USCC_DEBTOR}/listings", params={"as_of": "2024-06-01"}, headers=h)
    status = {x["id"]: x["dates"]["status"] for x in r.json()["listings"]}
    assert status["L-far"] == "pending" and status["L-late"] == "pending"
    # 严重 lasts at most 3 years from its (absurd) decision date
    assert status["L-old"] == "expired"
    r = c.get(f"/subjects/{USCC_DEBTOR}/listings", params={"as_of": "9999-12-31"}, headers=h)
    dates = {x["id"]: x["dates"] for x in r.json()["listings"]}
    # a 2-year period from the last day there is saturates at that day instead
    # of overflowing: the listing's end is 9999-12-31, where it has ended
    assert (dates["L-far"]["status"], dates["L-far"]["until"]) == ("expired", "9999-12-31")
