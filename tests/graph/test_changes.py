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
from tests.builders import listing, load_city, org, person, rel

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


# -- who a change reaches: each condition of graph/propagate/changes.py --------------


def test_a_listed_persons_expiry_reaches_the_organisations_the_reference_rule_names(
    city_store: GraphStore, settings: Settings
) -> None:
    # L-person (孙丽, 2023-05-01) ends after 2 years: the organisations where she is
    # legal representative or director now are flagged, not where she was before
    # nor where she only holds shares
    body = feed(city_store, settings, "2025-04-30", "2025-05-02T09:00:00+08:00")
    assert body["by_time"]["listed"] == ["P-debtor"]
    assert body["by_time"]["implicated"] == ["O-person-director", "O-person-lr"]


def test_a_severe_penalty_reaches_the_legal_representative_only_for_its_violation_types(
    city_store: GraphStore, settings: Settings
) -> None:
    # L-safety (安全生产) and L-env (环境保护), both 2023-01-10, severe: 3 years
    body = feed(city_store, settings, "2026-01-09", "2026-01-11T09:00:00+08:00")
    assert body["by_time"]["listed"] == ["O-env", "O-safety"]
    assert body["by_time"]["implicated"] == ["P-safety-lr"]


def _org_with_two_listings(store: GraphStore) -> None:
    store.write(
        Batch(
            subjects=[
                org("O-two", "商丘市双单测试有限公司"),
                person("P-two-lr", "甘宁"),
                person("P-two-new", "陆逊"),
                person("P-two-gone", "吕蒙"),
            ],
            relations=[
                rel("legal_representative", "P-two-gone", "O-two", "2015-01-01", "2023-06-01"),
                # appointed after the listing started: holds the role when it ends
                rel("legal_representative", "P-two-new", "O-two", "2023-06-01"),
                rel("officer", "P-two-lr", "O-two", "2015-01-01", title="监事"),
            ],
            listings=[
                # sorted first: a severe penalty whose type implicates nobody
                listing(
                    "L-a-env",
                    "admin_penalties",
                    "O-two",
                    "2022-03-01",
                    number="商环罚〔2022〕1号",
                    severity="严重",
                    violation_type="环境保护",
                ),
                listing(
                    "L-b-debt", "dishonest_debtors", "O-two", "2023-03-01", number="(2023)测2号"
                ),
            ],
        )
    )


def test_roles_held_now_are_read_on_the_last_day_whatever_came_before(
    store: GraphStore, settings: Settings
) -> None:
    _org_with_two_listings(store)
    # both listings end on 2025-03-01
    body = feed(store, settings, "2025-02-28", "2025-03-01T09:00:00+08:00")
    assert body["by_time"]["listed"] == ["O-two"]
    assert body["by_time"]["implicated"] == ["P-two-new"]
    assert [m.measure for m in measures(store, "P-two-new", "2025-02-28")] == [
        "consumption_restriction"
    ]


def test_changes_on_the_last_day_of_the_window_are_in_it(
    store: GraphStore, settings: Settings
) -> None:
    _org_with_two_listings(store)
    body = feed(store, settings, "2025-02-27", "2025-03-01T00:30:00+08:00")
    assert body["by_time"]["listed"] == ["O-two"]
    assert feed(store, settings, "2025-03-01", "2025-03-02T09:00:00+08:00")["subjects"] == []


def test_an_undated_listing_does_not_hide_the_others(store: GraphStore, settings: Settings) -> None:
    _org_with_two_listings(store)
    # a commendation without a date, sorted before the others
    red = listing("L-0-red", "red_list", "O-two", "2020-01-01", list_type="A级纳税人")
    red.start = None
    store.write(Batch(listings=[red]))
    body = feed(store, settings, "2025-02-28", "2025-03-01T09:00:00+08:00")
    assert body["by_time"]["listed"] == ["O-two"]


def test_relations_that_start_or_end_reach_both_ends_and_only_relations_rules_read(
    store: GraphStore, settings: Settings
) -> None:
    store.write(
        Batch(
            subjects=[
                org("O-r", "商丘市关系测试有限公司"),
                org("O-r-branch", "商丘市关系测试有限公司分公司"),
                person("P-r-in", "关羽"),
                person("P-r-out", "张飞"),
            ],
            relations=[
                rel("legal_representative", "P-r-out", "O-r", "2015-01-01", "2026-03-05"),
                rel("legal_representative", "P-r-in", "O-r", "2026-03-05"),
                # a branch opening changes no measure
                rel("branch_of", "O-r-branch", "O-r", "2026-03-06"),
            ],
        )
    )
    body = feed(store, settings, "2026-03-01", "2026-03-12T09:00:00+08:00")
    assert body["by_time"]["related"] == ["O-r", "P-r-in", "P-r-out"]
    assert body["by_time"]["listed"] == body["by_time"]["implicated"] == []


def test_repair_decisions_taking_effect_reach_the_listings_they_name_by_id_and_number(
    store: GraphStore, settings: Settings
) -> None:
    store.write(
        Batch(
            subjects=[org(f"O-rep{i}", f"商丘市修复{i}有限公司") for i in range(3)]
            + [person(f"P-rep{i}", f"修复人{i}") for i in range(3)],
            relations=[
                rel("legal_representative", f"P-rep{i}", f"O-rep{i}", "2015-01-01")
                for i in range(3)
            ],
            listings=[
                # two listings without a number, repaired by id, and one by number
                listing("L-rep0", "abnormal_operations", "O-rep0", "2024-01-01"),
                listing("L-rep1", "dishonest_debtors", "O-rep1", "2024-01-01"),
                listing(
                    "L-rep2", "dishonest_debtors", "O-rep2", "2024-01-01", number="(2024)测9号"
                ),
                listing(
                    "L-fix01",
                    "credit_repairs",
                    "O-rep0",
                    "2024-06-10",
                    repairs=["L-rep0", "L-rep1"],
                ),
                listing("L-fix2", "credit_repairs", "O-rep2", "2024-06-10", number="(2024)测9号"),
            ],
        )
    )
    body = feed(store, settings, "2024-06-09", "2024-06-11T09:00:00+08:00")
    assert body["by_time"]["listed"] == ["O-rep0", "O-rep1", "O-rep2"]
    assert body["by_time"]["implicated"] == ["P-rep1", "P-rep2"]


def _shorter_disqualification() -> Any:
    """A memorandum whose implication ends before its listing can: the serious
    violations rule with a one-year disqualification (a rule book is data)."""
    import yaml

    from graph.rules import RULES_FILE, parse_rules

    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    rule = next(r for r in data["rules"] if r["id"] == "serious_violation_list")
    rule["implicated"][0]["duration_years"] = 1
    # roles read before it: one without a time limit, one with a longer one
    officer = {"relations": ["officer"], "time": "event", "measures": ["related_party_review"]}
    rule["implicated"][:0] = [
        {**officer, "role": "supervisor", "titles": ["supervisor"]},
        {**officer, "role": "director", "titles": ["director"], "duration_years": 2},
    ]
    return parse_rules(data)


def test_an_implication_ending_before_its_listing_reaches_that_party_alone(
    store: GraphStore,
) -> None:
    from graph.propagate.changes import time_changes

    book = _shorter_disqualification()
    store.write(
        Batch(
            subjects=[
                org("O-sv", "商丘市严违测试有限公司"),
                person("P-sv", "黄忠"),
                org("O-sv-gone", "商丘市严违已移出有限公司"),
                person("P-sv-gone", "魏延"),
            ],
            relations=[
                rel("legal_representative", "P-sv", "O-sv", "2015-01-01"),
                rel("legal_representative", "P-sv-gone", "O-sv-gone", "2015-01-01"),
            ],
            listings=[
                listing("L-sv", "serious_violations", "O-sv", "2024-03-01"),
                # removed before its year was over: the implication ended with it
                listing(
                    "L-sv-gone", "serious_violations", "O-sv-gone", "2024-03-01", end="2024-09-01"
                ),
            ],
        )
    )
    got = time_changes(store, "2025-02-28", "2025-03-01", book=book)
    assert (got.listed, got.implicated, got.related) == (set(), {"P-sv"}, set())
    assert measures(store, "P-sv", "2025-02-28", book=book)
    assert measures(store, "P-sv", "2025-03-01", book=book) == []
    assert time_changes(store, "2025-03-01", "2025-03-02", book=book).subjects() == set()


def test_every_way_a_listing_ends_or_starts_by_itself_is_a_change(
    store: GraphStore, settings: Settings
) -> None:
    store.write(
        Batch(
            subjects=[org(f"O-t{i}", f"商丘市时变{i}有限公司") for i in range(5)],
            listings=[
                # a removal date, the last day of publicity, the last day of validity
                listing("L-t0", "abnormal_operations", "O-t0", "2024-01-01", end="2025-03-05"),
                listing(
                    "L-t1",
                    "admin_penalties",
                    "O-t1",
                    "2024-06-01",
                    number="商罚〔2024〕1号",
                    severity="一般",
                    publicity_end="2025-03-04",
                ),
                listing(
                    "L-t2",
                    "admin_penalties",
                    "O-t2",
                    "2024-06-01",
                    number="商罚〔2024〕2号",
                    severity="一般",
                    valid_until="2025-03-04",
                ),
                # decided earlier, in force from a later day
                listing("L-t3", "abnormal_operations", "O-t3", "2025-03-05"),
                # nothing happens to this one in the window
                listing("L-t4", "abnormal_operations", "O-t4", "2024-01-01", end="2025-04-01"),
            ],
        )
    )
    body = feed(store, settings, "2025-03-01", "2025-03-06T09:00:00+08:00")
    assert body["by_time"]["listed"] == ["O-t0", "O-t1", "O-t2", "O-t3"]
    undated = listing("L-t5", "red_list", "O-t4", "2020-01-01", end="2025-03-05")
    undated.start = None
    store.write(Batch(listings=[undated]))
    body = feed(store, settings, "2025-03-01", "2025-03-06T09:00:00+08:00")
    assert body["by_time"]["listed"] == ["O-t0", "O-t1", "O-t2", "O-t3", "O-t4"]


def test_the_feed_reads_control_on_its_last_day_and_no_deeper_than_it_may(
    store: GraphStore,
) -> None:
    from graph.propagate.changes import time_changes

    store.write(
        Batch(
            subjects=[org(o, o) for o in ("O-c", "O-c1", "O-c2")]
            + [person(p, p) for p in ("P-c-top", "P-c-sold", "P-c-old")],
            relations=[
                rel("shareholder", "P-c-top", "O-c2", "2015-01-01", share=1.0),
                rel("shareholder", "O-c2", "O-c1", "2015-01-01", share=1.0),
                rel("shareholder", "O-c1", "O-c", "2015-01-01", share=1.0),
                rel("shareholder", "P-c-sold", "O-c", "2015-01-01", "2025-01-01", share=0.6),
                rel("shareholder", "P-c-old", "O-c1", "2015-01-01", "2025-01-01", share=0.6),
                # a holding that moves in the window, below the same holders
                rel("shareholder", "O-c1", "O-c2", "2025-03-04", share=0.1),
            ],
            listings=[
                listing("L-c", "dishonest_debtors", "O-c", "2023-03-04", number="(2023)测5号")
            ],
        )
    )
    got = time_changes(store, "2025-03-01", "2025-03-06", control_depth=2)
    assert got.listed == {"O-c"}
    # the seller held 60% until 2025-01-01; P-c-top is three hops above O-c
    assert got.implicated == {"O-c1", "O-c2"}
    # ... and two above the holding that moved
    assert got.related == {"O-c1", "O-c2", "P-c-top"}
    shallow = time_changes(store, "2025-03-01", "2025-03-06", control_depth=1)
    assert (shallow.implicated, shallow.related) == ({"O-c1"}, {"O-c1", "O-c2"})
    deeper = time_changes(store, "2025-03-01", "2025-03-06", control_depth=3)
    assert deeper.implicated == {"O-c1", "O-c2", "P-c-top"}


def test_a_person_listed_reaches_the_enterprises_he_represents(store: GraphStore) -> None:
    """A dishonest-debtor listing of a person puts the enterprises where he is
    legal representative under review (dishonest_debtor_reference, a rule for
    persons only): the day it starts, they are in the feed too; an
    enterprise's listing does not reach its representative's other posts."""
    from graph.propagate.changes import time_changes

    store.write(
        Batch(
            subjects=[
                person("P-dd", "赵云"),
                org("O-dd-rep", "商丘市常山贸易有限公司"),
                org("O-dd-listed", "商丘市当阳贸易有限公司"),
                person("P-dd-lr", "张飞"),
                org("O-dd-other", "商丘市涿郡贸易有限公司"),
            ],
            relations=[
                rel("legal_representative", "P-dd", "O-dd-rep", "2015-01-01"),
                rel("legal_representative", "P-dd-lr", "O-dd-listed", "2015-01-01"),
                rel("legal_representative", "P-dd-lr", "O-dd-other", "2015-01-01"),
            ],
            listings=[
                listing("L-dd-person", "dishonest_debtors", "P-dd", "2025-03-01"),
                listing("L-dd-org", "dishonest_debtors", "O-dd-listed", "2025-03-01"),
            ],
        )
    )
    got = time_changes(store, "2025-02-28", "2025-03-01")
    assert got.listed == {"P-dd", "O-dd-listed"}
    assert got.implicated == {"O-dd-rep", "P-dd-lr"}
    reviewed = measures(store, "O-dd-rep", "2025-03-01")
    assert any(m.rule == "dishonest_debtor_reference" for m in reviewed)
    assert measures(store, "O-dd-other", "2025-03-01") == []


def test_the_log_since_a_time_reaches_related_parties_and_controllers(store: GraphStore) -> None:
    """What the engine polls between loads: the subjects the log names since its
    last poll, their direct related parties, and the controllers above them;
    a damaged entry is passed over and the entries after it still count. The
    window is one day with no listing in it, so time alone adds nothing."""
    from datetime import UTC, timedelta

    from graph.docs import CHANGES
    from graph.propagate.changes import change_feed

    now = datetime(2031, 6, 10, 3, 0, tzinfo=UTC)
    at = [(now - timedelta(minutes=m)).isoformat(timespec="seconds") for m in (30, 10)]
    store.write(
        Batch(
            subjects=[
                org("O-log", "商丘市日志有限公司"),
                person("P-log-lr", "关羽"),
                org("O-log-holder", "商丘市控股有限公司"),
                person("P-log-top", "刘备"),
                person("P-log", "诸葛亮"),
                org("O-log-far", "商丘市无关有限公司"),
                person("P-log-far", "曹操"),
                org("O-log-led", "商丘市蜀汉有限公司"),
                org("O-log-exholder", "商丘市前股东有限公司"),
                person("P-log-extop", "孙权"),
            ],
            relations=[
                rel("legal_representative", "P-log-lr", "O-log"),
                rel("shareholder", "O-log-holder", "O-log", share=0.8),
                rel("shareholder", "P-log-top", "O-log-holder", share=0.9),
                rel("legal_representative", "P-log-far", "O-log-far"),
                # the logged person leads an enterprise: reached from his end
                rel("legal_representative", "P-log", "O-log-led"),
                # a holding that ended in 2030: its holder is a direct related
                # party, but whoever holds that holder controls nothing now
                rel("shareholder", "O-log-exholder", "O-log", valid_to="2030-01-01", share=0.8),
                rel("shareholder", "P-log-extop", "O-log-exholder", share=0.9),
            ],
            docs=[
                # before the poll's start: not counted
                (CHANGES, "2031-06-09T00:00:00+00:00|old",
                 {"at": "2031-06-09T00:00:00+00:00", "subjects": ["O-log-far"]}),
                # damaged: passed over
                (CHANGES, "2031-06-10T02:00:00+00:00|bad",
                 {"at": "yesterday", "subjects": ["P-log-far"]}),
                (CHANGES, f"{at[0]}|a", {"at": at[0], "subjects": ["O-log"]}),
                (CHANGES, f"{at[1]}|b", {"at": at[1], "subjects": ["P-log"]}),
            ],
        )
    )
    got = change_feed(store, now - timedelta(hours=2), now, threshold=0.5, control_depth=4)
    assert (got.entries, got.latest, got.changed) == (2, at[1], ["O-log", "P-log"])
    assert got.by_time.subjects() == set()
    # the LR and the direct holder one hop out; the holder's holder controls
    # 0.9 x 0.8 = 72% of O-log: an inferred controller, several hops up
    assert got.subjects == sorted(
        ["O-log", "P-log", "P-log-lr", "O-log-holder", "P-log-top", "O-log-led", "O-log-exholder"]
    )
    # an entry logged in the very second a poll starts is in that poll
    edge = change_feed(store, datetime.fromisoformat(at[1]), now, threshold=0.5, control_depth=4)
    assert (edge.entries, edge.changed) == (1, ["P-log"])
    quiet = change_feed(store, now - timedelta(minutes=5), now, threshold=0.5, control_depth=4)
    assert (quiet.entries, quiet.latest, quiet.changed, quiet.subjects) == (0, None, [], [])


def test_since_is_read_as_the_instant_it_names() -> None:
    from datetime import UTC

    from graph.errors import InvalidInput
    from graph.propagate.changes import parse_time

    eight = datetime(2024, 6, 1, 0, 0, tzinfo=UTC)
    assert parse_time("2024-06-01T08:00:00+08:00") == eight
    assert parse_time("2024-06-01T00:00:00Z") == eight
    assert parse_time(" 2024-06-01T00:00:00 ") == eight  # naive: UTC
    assert parse_time("2024-06-01") == datetime(2024, 6, 1, tzinfo=CITY)  # the city's day
    for bad in ("20240601", "2024-W22-6", "yesterday"):
        with pytest.raises(InvalidInput) as refused:
            parse_time(bad)
        assert refused.value.details == {"parameter": "since", "value": bad}
        assert refused.value.message.startswith("since must be an ISO date")
