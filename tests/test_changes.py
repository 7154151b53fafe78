"""GET /changes for changes that come with time alone, on both stores: listings
that start, expire or are repaired on a date, time-limited implications that end,
relations whose validity starts or ends, each with the parties the rules reach
through them; and a quiet window answers empty. The clock is fixed per test."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import clock
from api.keys import KeyStore
from graph.propagate.engine import measures
from graph.settings import Settings
from graph.store.base import Batch, GraphStore
from tests.graphs import listing, load_city, org, person, rel

CITY = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def city_store(store: GraphStore) -> GraphStore:
    load_city(store)
    return store


def feed(
    store: GraphStore, settings: Settings, since: str, now: str, expect: int = 200
) -> dict[str, Any]:
    app = create_app(settings, store=store)
    fixed = datetime.fromisoformat(now)
    app.dependency_overrides[clock] = lambda: fixed
    key = KeyStore(settings.data_dir).create("engine")[1]
    with TestClient(app) as c:
        r = c.get("/changes", params={"since": since}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == expect, r.text
    body: dict[str, Any] = r.json()
    return body


def test_tax_listing_expiring_after_three_years_is_in_the_feed(
    city_store: GraphStore, settings: Settings
) -> None:
    # L-tax was published 2023-05-01: 3 years later, on 2026-05-01, it ends
    body = feed(city_store, settings, "2026-04-30", "2026-05-02T10:00:00+08:00")
    assert body["days"] == {"from": "2026-04-30", "to": "2026-05-02"}
    assert body["by_time"]["listed"] == ["O-tax"]
    # the LR at the violation date (left since) and the finance officer the
    # decision names; not the LR appointed after it
    assert body["by_time"]["implicated"] == ["P-tax-fo", "P-tax-lr-then"]
    assert body["subjects"] == ["O-tax", "P-tax-fo", "P-tax-lr-then"]
    assert (body["entries"], body["changed"]) == (0, [])
    # and the measures did change over that day
    assert measures(city_store, "P-tax-fo", "2026-04-30")
    assert measures(city_store, "P-tax-fo", "2026-05-01") == []


def test_the_day_of_since_is_already_known(city_store: GraphStore, settings: Settings) -> None:
    """A poll at noon on 2026-05-01 saw that day's answer: the expiry is behind it."""
    body = feed(city_store, settings, "2026-05-01T12:00:00+08:00", "2026-05-02T10:00:00+08:00")
    assert body["subjects"] == [] and body["total"] == 0


def test_nothing_changes_gives_an_empty_feed(city_store: GraphStore, settings: Settings) -> None:
    body = feed(city_store, settings, "2026-11-20", "2026-11-27T09:00:00+08:00")
    assert body["by_time"] == {"listed": [], "implicated": [], "related": []}
    assert (body["total"], body["subjects"], body["entries"]) == (0, [], 0)


def test_legal_representative_leaving_shows_both_ends(
    city_store: GraphStore, settings: Settings
) -> None:
    city_store.write(
        Batch(
            subjects=[org("O-left", "商丘市离任测试有限公司"), person("P-left", "许可")],
            relations=[rel("legal_representative", "P-left", "O-left", "2015-01-01", "2026-03-10")],
            listings=[
                listing("L-left", "dishonest_debtors", "O-left", "2025-06-01", number="(2025)测1号")
            ],
        )
    )
    body = feed(city_store, settings, "2026-03-01", "2026-03-12T09:00:00+08:00")
    assert body["by_time"]["related"] == ["O-left", "P-left"]
    assert body["subjects"] == ["O-left", "P-left"]
    assert measures(city_store, "P-left", "2026-03-09")
    assert measures(city_store, "P-left", "2026-03-10") == []


def test_expiry_reaches_every_party_the_rules_name_and_no_other(
    city_store: GraphStore, settings: Settings
) -> None:
    # L-debtor (2023-03-01) ends after 2 years, on 2025-03-01
    body = feed(city_store, settings, "2025-02-27", "2025-03-02T09:00:00+08:00")
    assert "O-debtor" in body["by_time"]["listed"]
    reached = set(body["by_time"]["implicated"])
    # roles held now, the guarantor's alert, and the inferred controllers (two hops up)
    assert {"P-lr", "P-principal", "P-cfo", "P-declared", "P-guarantor", "O-holdco", "P-top"} <= (
        reached
    )
    everyone = set(body["subjects"])
    for sid in ("P-old-lr", "P-supervisor", "P-minor-holder", "O-branch", "P-old-guarantor"):
        assert sid not in everyone, sid


def test_time_limited_implication_ending_reaches_the_party_only(
    city_store: GraphStore, settings: Settings
) -> None:
    # serious_violation_list disqualifies the LR at the listing date (2022-03-01)
    # for 3 years, and the listing itself ends then too (at most 3 years)
    body = feed(city_store, settings, "2025-02-27", "2025-03-02T09:00:00+08:00")
    assert "P-sv-lr" in body["by_time"]["implicated"]
    assert "O-serious" in body["by_time"]["listed"]


def test_repair_decision_loaded_with_its_date(city_store: GraphStore, settings: Settings) -> None:
    # L-repair (a loaded decision, not an API repair: nothing in the change log)
    # takes effect on 2024-01-15
    body = feed(city_store, settings, "2024-01-10", "2024-01-16T09:00:00+08:00")
    assert body["entries"] == 0
    assert body["subjects"] == ["O-repaired", "P-repaired-lr"]


def test_moved_shareholding_reaches_the_holders_above(
    store: GraphStore, settings: Settings
) -> None:
    store.write(
        Batch(
            subjects=[person("P-up", "甲"), org("A", "A公司"), org("B", "B公司")],
            relations=[
                rel("shareholder", "P-up", "A", "2015-01-01", share=0.9),
                rel("shareholder", "A", "B", "2015-01-01", "2026-03-10", share=0.8),
            ],
            listings=[listing("L-B", "dishonest_debtors", "B", "2025-06-01", number="X")],
        )
    )
    body = feed(store, settings, "2026-03-01", "2026-03-12T09:00:00+08:00")
    assert body["subjects"] == ["A", "B", "P-up"]
    assert [m.measure for m in measures(store, "P-up", "2026-03-09")] == ["related_party_review"]
    assert measures(store, "P-up", "2026-03-10") == []


@pytest.mark.parametrize(
    "since", ["2026-11-28", "2026-11-27T12:00:00+08:00", "2026-11-27T04:00:00Z", "9999-12-31"]
)
def test_since_in_the_future_is_refused(
    city_store: GraphStore, settings: Settings, since: str
) -> None:
    body = feed(city_store, settings, since, "2026-11-27T11:00:00+08:00", expect=400)
    assert "future" in body["error"]["message"]


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "20261101", "2026-11-01T25:00"])
def test_since_must_be_an_iso_date_or_date_time(
    city_store: GraphStore, settings: Settings, since: str
) -> None:
    body = feed(city_store, settings, since, "2026-11-27T11:00:00+08:00", expect=400)
    assert "ISO date" in body["error"]["message"]


def test_a_date_is_the_start_of_that_day_in_the_city(
    city_store: GraphStore, settings: Settings
) -> None:
    # the city's midnight is 16:00 UTC the day before: not in the future at 17:00 UTC
    now = datetime(2026, 11, 27, 1, 0, tzinfo=CITY).isoformat()
    body = feed(city_store, settings, "2026-11-27", now)
    assert body["days"] == {"from": "2026-11-27", "to": "2026-11-27"}
