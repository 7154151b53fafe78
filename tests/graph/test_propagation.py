"""Who gets which measure, on both stores: one test per rule of rules.md, one per
"not implicated" case, time (expiry, repair, removal, roles read at the right
date), the shape of an answer, and the batch's constant number of round trips."""

from __future__ import annotations

from typing import Any

import pytest

from graph.model import Listing
from graph.propagate.engine import Measure, listings_with_status, measures, measures_many
from graph.propagate.status import listing_status, min_repair_date
from graph.store.base import Batch, GraphStore
from graph.store.embedded import EmbeddedStore
from tests.builders import AS_OF, city, listing, load_city, many


@pytest.fixture
def city_store(store: GraphStore) -> GraphStore:
    load_city(store)
    return store


def got(store: GraphStore, sid: str, as_of: str = AS_OF) -> set[tuple[str, str]]:
    return {(m.rule, m.measure) for m in measures(store, sid, as_of)}


def only(store: GraphStore, sid: str, as_of: str = AS_OF) -> list[Measure]:
    return measures(store, sid, as_of)


DEBTOR_ORG = {
    ("dishonest_debtor", "consumption_restriction"),
    ("dishonest_debtor", "procurement_exclusion"),
    ("dishonest_debtor", "bidding_restriction"),
    ("dishonest_debtor", "subsidy_restriction"),
}


# -- dishonest_debtor ---------------------------------------------------------


def test_dishonest_debtor_organisation_gets_the_subject_measures(city_store: GraphStore) -> None:
    assert got(city_store, "O-debtor") == DEBTOR_ORG
    assert all(m.direct and m.path == [] for m in only(city_store, "O-debtor"))


def test_dishonest_debtor_person_is_also_disqualified(city_store: GraphStore) -> None:
    assert got(city_store, "P-debtor") == DEBTOR_ORG | {
        ("dishonest_debtor", "officer_disqualification")
    }


@pytest.mark.parametrize(
    ("sid", "role"),
    [
        ("P-lr", "legal_representative"),
        ("P-principal", "principal"),
        ("P-declared", "actual_controller"),
    ],
)
def test_dishonest_debtor_implicates_the_roles_held_now(
    city_store: GraphStore, sid: str, role: str
) -> None:
    ms = only(city_store, sid)
    assert [(m.rule, m.measure, m.role) for m in ms] == [
        ("dishonest_debtor", "consumption_restriction", role)
    ]
    (hop,) = ms[0].path
    assert hop["from"] == "O-debtor" and hop["to"] == sid
    assert hop["from_name"] == "商丘市甲建材有限公司"
    assert hop["read_at"] == AS_OF and hop["records"]
    # how the role's time was known on the day read
    assert hop["time"]["state"] == "known" and hop["time"]["source"] == "dated"


def test_a_title_alone_is_a_reason_to_look_not_to_punish(city_store: GraphStore) -> None:
    """directly_responsible is a person the record names in that capacity; the
    finance officer's title alone gives related_party_review (rules.md)."""
    ms = only(city_store, "P-cfo")
    assert [(m.rule, m.measure, m.role, m.extra.get("reason")) for m in ms] == [
        ("dishonest_debtor", "related_party_review", "directly_responsible", "title_only")
    ]
    assert not ms[0].punitive


# -- not implicated -------------------------------------------------------------


@pytest.mark.parametrize(
    "sid",
    [
        "P-old-lr",  # left the role before now
        "P-supervisor",  # a role the rule does not name
        "P-minor-holder",  # a plain shareholder
        "O-branch",  # branch of a listed head office
        "O-head",  # head office of a listed branch
        "P-old-guarantor",  # guarantee ended before as_of
        "O-person-former",  # the listed person left the role before now
        "O-person-holding",  # the listed person is only a shareholder
        "P-tax-lr-new",  # appointed after the violation date
        "P-env-lr",  # severe penalty, but not 安全生产/食品药品
    ],
)
def test_not_implicated(city_store: GraphStore, sid: str) -> None:
    assert only(city_store, sid) == []


def test_guarantor_gets_the_alert_only(city_store: GraphStore) -> None:
    for sid in ("P-guarantor", "O-guarantor-co"):
        ms = only(city_store, sid)
        assert {(m.rule, m.measure, m.punitive) for m in ms} == {
            ("loan_default_guarantee", "guarantee_risk_alert", False)
        }
        assert ms[0].path[0]["relation"] == "guarantees"


def test_branch_listing_stays_with_the_branch(city_store: GraphStore) -> None:
    assert got(city_store, "O-branch-listed") == DEBTOR_ORG
    assert got(city_store, "O-head") == set()


# -- actual control --------------------------------------------------------------


def test_inferred_controllers_get_review_not_punishment(city_store: GraphStore) -> None:
    holdco = only(city_store, "O-holdco")
    assert [(m.rule, m.measure, m.punitive, m.role) for m in holdco] == [
        ("dishonest_debtor", "related_party_review", False, "inferred_controller")
    ]
    top = only(city_store, "P-top")
    assert len(top) == 1 and top[0].measure == "related_party_review"
    assert top[0].extra["cumulative_share"] == pytest.approx(0.56)
    assert [(h["from"], h["to"], h["share"]) for h in top[0].path] == [
        ("O-debtor", "O-holdco", 0.7),
        ("O-holdco", "P-top", 0.8),
    ]


def test_a_rule_for_listed_organisations_reaches_their_inferred_controllers(
    city_store: GraphStore,
) -> None:
    """A rule book whose debtor rule fires for organisations only still flags
    the companies that control a listed organisation through shareholdings,
    and a person's listing flags nobody through them."""
    import yaml

    from graph.rules import RULES_FILE, parse_rules

    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    rule = next(r for r in data["rules"] if r["id"] == "dishonest_debtor")
    rule["trigger"]["subject_type"] = "organisation"
    orgs = parse_rules(data)
    rule["trigger"]["subject_type"] = "person"
    persons = parse_rules(data)
    inferred = [
        (m.measure, m.role)
        for m in measures(city_store, "O-holdco", AS_OF, book=orgs)
        if m.rule == "dishonest_debtor"
    ]
    assert inferred == [("related_party_review", "inferred_controller")]
    assert [
        m
        for m in measures(city_store, "O-holdco", AS_OF, book=persons)
        if m.rule == "dishonest_debtor"
    ] == []


def test_an_inferred_controllers_review_reads_every_listing_and_shows_its_chain(
    store: GraphStore,
) -> None:
    """P holds 60% of O, whose first listing is a penalty (no rule on control
    reads it) and second a court listing: the court listing still gives P his
    review, lasting as the listing does, with a path naming each hop's two
    parties and the shareholding it is."""
    from tests.builders import org, person, rel

    store.write(
        Batch(
            subjects=[person("P-60", "王控"), org("O-60", "甲控股公司")],
            relations=[rel("shareholder", "P-60", "O-60", share=0.6)],
            listings=[
                listing(
                    "L-60-1",
                    "admin_penalties",
                    "O-60",
                    "2024-01-01",
                    number="罚1号",
                    severity="严重",
                ),
                listing("L-60-2", "dishonest_debtors", "O-60", "2024-01-01", number="(2024)60号"),
            ],
        )
    )
    (m,) = [m for m in only(store, "P-60") if m.role == "inferred_controller"]
    assert (m.measure, m.listing["id"], m.until) == ("related_party_review", "L-60-2", "2026-01-01")
    assert [(h["from_name"], h["to_name"], h["role"]) for h in m.path] == [
        ("甲控股公司", "王控", "shareholder")
    ]


def test_declared_inferred_relation_is_review_only(store: GraphStore) -> None:
    b = city()
    for r in b.relations:
        if r.type == "actual_controller":
            r.props["basis"] = "inferred"
    store.write(b)
    assert got(store, "P-declared") == {("dishonest_debtor", "related_party_review")}


def test_an_inferred_controller_is_nothing_to_a_role_without_inferred_measures(
    store: GraphStore,
) -> None:
    """The reference rule implicates an organisation whose declared actual
    controller is a listed person; it names no measure for an inferred one. O-a
    and O-b each have a listed person as inferred controller (undated: the time
    of the role unknown) and another, declared, one: each gets the declared
    controller's review and nothing, not even a review, from the inferred one,
    whichever of the two relations is met first."""
    from tests.builders import org, person, rel

    inferred = {"basis": "inferred"}
    store.write(
        Batch(
            subjects=[
                org("O-a", "甲公司"),
                org("O-b", "乙公司"),
                person("P-a", "王"),
                person("P-z", "李"),
            ],
            relations=[
                rel("actual_controller", "P-a", "O-a", None, **inferred),
                rel("actual_controller", "P-z", "O-a", "2020-01-01"),
                rel("actual_controller", "P-a", "O-b", "2020-01-01"),
                rel("actual_controller", "P-z", "O-b", None, **inferred),
            ],
            listings=[
                listing("L-a", "dishonest_debtors", "P-a", "2024-01-01", number="(2024)5号"),
                listing("L-z", "dishonest_debtors", "P-z", "2024-01-01", number="(2024)6号"),
            ],
        )
    )
    for org_id, declared in (("O-a", "L-z"), ("O-b", "L-a")):
        ms = [m for m in only(store, org_id) if m.rule == "dishonest_debtor_reference"]
        assert [(m.measure, m.listing["id"], m.extra.get("reason")) for m in ms] == [
            ("related_party_review", declared, None)
        ]


def test_cumulative_share_sums_over_paths(store: GraphStore) -> None:
    from tests.builders import org, person, rel

    store.write(
        Batch(
            subjects=[person("P", "甲"), org("A", "A公司"), org("B", "B公司"), org("C", "C公司")],
            relations=[
                rel("shareholder", "P", "A", share=0.5),
                rel("shareholder", "P", "B", share=0.5),
                rel("shareholder", "A", "C", share=0.6),
                rel("shareholder", "B", "C", share=0.4),
            ],
            listings=[listing("L-C", "dishonest_debtors", "C", "2024-01-01", number="X1")],
        )
    )
    (m,) = only(store, "P")
    # 0.5*0.6 + 0.5*0.4 = 0.5: at the threshold, through two chains
    assert m.measure == "related_party_review" and m.extra["cumulative_share"] == 0.5
    assert len(m.extra["chains"]) == 2
    assert [h["share"] for h in m.path] == [0.6, 0.5]  # the strongest chain first


# -- dishonest_debtor_reference --------------------------------------------------


@pytest.mark.parametrize(
    ("sid", "role"), [("O-person-lr", "legal_representative"), ("O-person-director", "director")]
)
def test_listed_person_flags_their_organisations(
    city_store: GraphStore, sid: str, role: str
) -> None:
    ms = only(city_store, sid)
    assert [(m.rule, m.measure, m.role) for m in ms] == [
        ("dishonest_debtor_reference", "related_party_review", role)
    ]
    assert ms[0].path[0]["from"] == "P-debtor" and ms[0].path[0]["to"] == sid


# -- major_tax_violation -------------------------------------------------------------


def test_tax_violation_subject_and_implicated(city_store: GraphStore) -> None:
    assert got(city_store, "O-tax") == {
        ("major_tax_violation", "procurement_exclusion"),
        ("major_tax_violation", "tax_credit_grade_d"),
        ("major_tax_violation", "enhanced_supervision"),
    }
    expected = {
        ("major_tax_violation", "exit_restriction"),
        ("major_tax_violation", "officer_disqualification"),
    }
    # held the role at the violation date, left since: still implicated
    assert got(city_store, "P-tax-lr-then") == expected
    assert only(city_store, "P-tax-lr-then")[0].path[0]["read_at"] == "2023-05-01"
    fo = only(city_store, "P-tax-fo")
    assert {(m.rule, m.measure) for m in fo} == expected
    assert fo[0].path[0]["relation"] == "named_in_listing" and fo[0].path[0]["records"]


def test_tax_listing_ends_after_three_years(city_store: GraphStore) -> None:
    assert got(city_store, "O-tax", "2026-04-30")
    for sid in ("O-tax", "P-tax-lr-then", "P-tax-fo"):
        assert got(city_store, sid, "2026-05-01") == set()


# -- serious_violation_list ----------------------------------------------------------


def test_serious_violation_disqualifies_the_lr_for_three_years(city_store: GraphStore) -> None:
    assert got(city_store, "O-serious") == {
        ("serious_violation_list", "procurement_exclusion"),
        ("serious_violation_list", "bidding_restriction"),
        ("serious_violation_list", "enhanced_supervision"),
    }
    (m,) = only(city_store, "P-sv-lr")  # LR at the listing date, though not now
    assert (m.measure, m.until) == ("officer_disqualification", "2025-03-01")
    assert only(city_store, "P-sv-lr", "2025-03-01") == []
    # 严重违法失信名单: at most 3 years from the listing date (rules.md)
    assert got(city_store, "O-serious", "2025-02-28")
    assert got(city_store, "O-serious", "2025-03-01") == set()


# -- severe_admin_penalty ---------------------------------------------------------------


def test_severe_safety_penalty_reaches_the_lr(city_store: GraphStore) -> None:
    assert got(city_store, "O-safety") == {
        ("severe_admin_penalty", "enhanced_supervision"),
        ("severe_admin_penalty", "procurement_exclusion"),
    }
    assert got(city_store, "P-safety-lr") == {("severe_admin_penalty", "enhanced_supervision")}
    assert got(city_store, "O-env") == got(city_store, "O-safety")


def test_minor_and_general_penalties(city_store: GraphStore) -> None:
    assert got(city_store, "O-minor") == set()  # 轻微: not published
    assert got(city_store, "O-general") == set()  # 一般: no joint punishment rule


# -- abnormal_operations, loan_default_guarantee, red_list_suspension -----------------------


def test_abnormal_operations(city_store: GraphStore) -> None:
    assert got(city_store, "O-abnormal") == {("abnormal_operations", "enhanced_supervision")}
    assert got(city_store, "O-abnormal-removed") == set()


def test_loan_default_gives_the_borrower_nothing_and_guarantors_an_alert(
    city_store: GraphStore,
) -> None:
    assert got(city_store, "O-loan") == set()
    assert got(city_store, "O-guarantor-co") == {("loan_default_guarantee", "guarantee_risk_alert")}
    assert got(city_store, "O-guarantor-co", "2025-01-01") == set()  # guarantee ended


def test_red_list_subject_with_punitive_listing_loses_incentives(city_store: GraphStore) -> None:
    ms = [m for m in only(city_store, "O-red") if m.rule == "red_list_suspension"]
    assert [(m.measure, m.listing["id"]) for m in ms] == [("incentive_suspension", "L-red-penalty")]
    assert ms[0].extra["commendations"][0]["id"] == "L-red"
    assert got(city_store, "O-red-clean") == set()


# -- time ------------------------------------------------------------------------------


def test_repaired_listing_retracts_everything(city_store: GraphStore) -> None:
    assert got(city_store, "O-repaired", "2024-01-14") == DEBTOR_ORG
    assert got(city_store, "P-repaired-lr", "2024-01-14") == {
        ("dishonest_debtor", "consumption_restriction")
    }
    assert got(city_store, "O-repaired") == set()
    assert got(city_store, "P-repaired-lr") == set()


def test_expired_removed_and_pending_listings(city_store: GraphStore) -> None:
    assert got(city_store, "O-expired", "2022-12-31") == DEBTOR_ORG
    assert got(city_store, "P-expired-lr", "2022-12-31")
    assert got(city_store, "O-expired", "2023-01-01") == set()  # 2 years
    assert got(city_store, "P-expired-lr") == set()
    assert got(city_store, "O-removed") == set()
    assert got(city_store, "O-debtor", "2023-02-28") == set()  # starts later


def test_listing_statuses(city_store: GraphStore) -> None:
    by_id = {v["id"]: v["dates"] for v in listings_with_status(city_store, "O-repaired", AS_OF)}
    assert by_id["L-repaired"]["status"] == "repaired"
    assert by_id["L-repaired"]["repair"] == "L-repair"
    assert by_id["L-repair"]["status"] == "decision"
    states = {
        sid: listings_with_status(city_store, sid, AS_OF)[0]["dates"]["status"]
        for sid in ("O-expired", "O-removed", "O-debtor", "O-minor")
    }
    assert states == {
        "O-expired": "expired",
        "O-removed": "removed",
        "O-debtor": "active",
        "O-minor": "expired",
    }
    assert listings_with_status(city_store, "O-debtor", "2023-01-01")[0]["dates"]["status"] == (
        "pending"
    )

    # the investigator reads why a listing no longer (or not yet) counts
    def reason(sid: str, as_of: str = AS_OF) -> str | None:
        return listings_with_status(city_store, sid, as_of)[-1]["dates"].get("reason")

    assert [reason(s) for s in ("O-repaired", "O-expired", "O-removed", "O-debtor", "O-minor")] == [
        "credit repair decision", "2-year period", "removal date", None, "not published (轻微)",
    ]  # fmt: skip
    assert reason("O-debtor", "2023-01-01") == "starts after as_of"
    # a minor penalty is never published: over the day it starts
    minor = listings_with_status(city_store, "O-minor", AS_OF)[-1]["dates"]
    assert (minor["status"], minor["until"]) == ("expired", "2024-05-01")
    # a repair decided after the day read does not end the listing yet, nor
    # bound its end: it lasts its two years as far as that day knows
    before = {
        v["id"]: v["dates"] for v in listings_with_status(city_store, "O-repaired", "2024-01-01")
    }
    assert (before["L-repaired"]["status"], before["L-repaired"]["until"]) == (
        "active",
        "2025-03-01",
    )


def test_a_date_that_is_not_yyyy_mm_dd_is_refused_naming_the_parameter_and_value() -> None:
    """The API's callers read which parameter was wrong and what it got (the
    same refusal in-process: the API test runs the handler in another thread,
    where mutation testing does not see this function called)."""
    from graph.errors import InvalidInput
    from graph.propagate.status import parse_as_of

    for value, name in (("2024-13-01", None), ("20240601", "since")):
        with pytest.raises(InvalidInput) as refused:
            parse_as_of(value) if name is None else parse_as_of(value, name)
        shown = name or "as_of"
        assert refused.value.message == f"{shown} must be an ISO date YYYY-MM-DD"
        assert refused.value.details == {"parameter": shown, "value": value}
    assert parse_as_of("2024-06-01") == "2024-06-01"


def test_a_repair_whose_subject_is_unknown_ends_a_listing_alone_under_its_number(
    store: GraphStore,
) -> None:
    """A repair decision whose party could not be identified (its own, unknown
    subject) under a 案号 that one listing holds ends that listing; under a
    案号 of two joint debtors it ends neither (which one it is for is unknown)."""
    from tests.builders import org

    store.write(
        Batch(
            subjects=[org(f"O-{x}", f"{x}公司") for x in ("sole", "j1", "j2", "who")],
            listings=[
                listing("L-sole", "dishonest_debtors", "O-sole", "2024-01-01", number="(2024)7号"),
                listing("L-j1", "dishonest_debtors", "O-j1", "2024-01-01", number="(2024)8号"),
                listing("L-j2", "dishonest_debtors", "O-j2", "2024-01-01", number="(2024)8号"),
                listing("R-7", "credit_repairs", "O-who", "2024-03-01", number="(2024)7号"),
                listing("R-8", "credit_repairs", "O-who", "2024-03-01", number="(2024)8号"),
            ],
        )
    )
    assert only(store, "O-sole") == []
    assert only(store, "O-sole", "2024-02-29") != []
    for joint in ("O-j1", "O-j2"):
        assert {m.listing["id"] for m in only(store, joint)} == {f"L-{joint[2:]}"}


def _penalty(severity: str, **props: Any) -> Listing:
    return listing(
        "L", "admin_penalties", "O", "2024-01-31", number="N", severity=severity, **props
    )


def test_penalty_periods_follow_severity() -> None:
    general = _penalty("一般")
    assert listing_status(general, "2025-01-30", []).status == "active"
    assert listing_status(general, "2025-01-31", []).status == "expired"
    assert listing_status(_penalty("严重"), "2027-01-30", []).status == "active"
    assert listing_status(_penalty("严重"), "2027-01-31", []).status == "expired"
    early = _penalty("严重", publicity_end="2024-12-31")
    assert listing_status(early, "2024-12-31", []).status == "active"
    assert listing_status(early, "2025-01-01", []).reason == "publicity end (公示截止期)"
    assert min_repair_date(general) == "2024-04-30"  # 3 months, clamped to month end
    assert min_repair_date(_penalty("严重")) == "2025-01-31"


def test_court_may_set_another_period() -> None:
    lst = listing("L", "dishonest_debtors", "O", "2020-01-01", number="N", period_years=3)
    assert listing_status(lst, "2022-06-01", []).status == "active"
    assert listing_status(lst, "2023-01-01", []).status == "expired"


# -- the answer ------------------------------------------------------------------------------


def test_answer_carries_rule_basis_listing_and_checkable_path(city_store: GraphStore) -> None:
    (m,) = only(city_store, "P-lr")
    d = m.to_dict()
    assert d["basis"].startswith("法释〔2015〕17号")
    assert d["listing"]["feed"] == "dishonest_debtors"
    assert d["listing"]["number"] == "(2023)豫14执123号"
    assert d["listing"]["department"] == "测试部门"
    assert d["listing"]["dates"]["start"] == "2023-03-01"
    assert d["listing"]["dates"]["status"] == "active"
    assert d["listing"]["dates"]["until"] == "2025-03-01"
    assert d["listing"]["record"] == ["dishonest_debtors:test.csv:L-debtor"]
    (hop,) = d["path"]
    assert hop["relation"] == "legal_representative" and hop["role"] == "legal_representative"
    assert hop["valid_from"] == "2020-01-01" and hop["valid_to"] is None
    records = city_store.get_records(hop["records"])
    assert set(records) == set(hop["records"])  # every hop's records exist


def test_both_stores_give_identical_answers(city_store: GraphStore) -> None:
    reference = EmbeddedStore(None)
    load_city(reference)
    ids = [s.id for s in city().subjects]
    for as_of in ("2022-06-01", AS_OF, "2025-06-01"):
        mine = measures_many(city_store, ids, as_of)
        theirs = measures_many(reference, ids, as_of)
        assert {k: [m.to_dict() for m in v] for k, v in mine.items()} == {
            k: [m.to_dict() for m in v] for k, v in theirs.items()
        }


class Counting:
    """A store proxy that counts protocol calls (round trips)."""

    def __init__(self, inner: GraphStore) -> None:
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if callable(attr):

            def counted(*a: Any, **k: Any) -> Any:
                self.calls += 1
                return attr(*a, **k)

            return counted
        return attr


def test_batch_needs_a_constant_number_of_round_trips(store: GraphStore) -> None:
    batch = many(400)
    store.write(batch)
    ids = [s.id for s in batch.subjects]
    one, all_ = Counting(store), Counting(store)
    single = measures_many(one, ids[:1], AS_OF)  # type: ignore[arg-type]
    everyone = measures_many(all_, ids, AS_OF)  # type: ignore[arg-type]
    # subjects, relations, named parties, related subjects, listings, repairs,
    # plus at most one call per ownership hop (control_depth=4): whatever the batch size
    bound = 6 + 4
    assert one.calls <= bound and all_.calls <= bound, (one.calls, all_.calls)
    assert everyone[ids[0]] == single[ids[0]]
    assert sum(1 for v in everyone.values() if v) > 40


def test_one_role_asserted_twice_is_one_measure_with_both_paths(store: GraphStore) -> None:
    """The registry (no dates) and the officers feed (with dates) both say who the
    legal representative is: one measure, two paths, not two measures."""
    from tests.builders import org, person, rel

    store.write(
        Batch(
            subjects=[org("O-x", "甲公司"), person("P-x", "王伟")],
            relations=[
                rel("legal_representative", "P-x", "O-x", valid_from=None),
                rel("legal_representative", "P-x", "O-x", valid_from="2016-01-01"),
            ],
            listings=[
                listing("L-x", "dishonest_debtors", "O-x", "2024-01-01", number="(2024)豫14执1号")
            ],
        )
    )
    found = [m for m in measures(store, "P-x", AS_OF) if m.rule == "dishonest_debtor"]
    assert [(m.measure, m.role) for m in found] == [
        ("consumption_restriction", "legal_representative")
    ]
    assert len(found[0].extra["other_paths"]) == 1
    assert found[0].path != found[0].extra["other_paths"][0]


# -- red-list suspension: the subject's own listings only -----------------------------------


def test_red_list_suspension_needs_a_listing_against_the_subject_itself(
    store: GraphStore,
) -> None:
    """rules.md: "any active listing ... against a red_list subject". A red-list
    person who is legal representative of a listed company is restricted through
    it (propagated), which does not suspend their incentives; their own listing does."""
    from tests.builders import org, person, rel

    store.write(
        Batch(
            subjects=[org("O-listed", "甲公司"), person("P-red", "王红"), person("P-red2", "李红")],
            relations=[rel("legal_representative", "P-red", "O-listed", "2020-01-01")],
            listings=[
                listing("L-o", "dishonest_debtors", "O-listed", "2024-01-01", number="(2024)1号"),
                listing("L-red", "red_list", "P-red", "2023-01-01", end="2026-01-01"),
                listing("L-red2", "red_list", "P-red2", "2023-01-01", end="2024-12-01"),
                listing("L-own", "dishonest_debtors", "P-red2", "2024-02-01", number="(2024)2号"),
            ],
        )
    )
    propagated = only(store, "P-red")
    assert [(m.rule, m.measure, m.direct) for m in propagated] == [
        ("dishonest_debtor", "consumption_restriction", False)
    ]
    assert not any(m.measure == "incentive_suspension" for m in propagated)
    (own,) = [m for m in only(store, "P-red2") if m.rule == "red_list_suspension"]
    assert (own.measure, own.direct, own.listing["id"]) == ("incentive_suspension", True, "L-own")
    # the commendation ends before the listing: nothing is left to suspend after it
    assert own.until == "2024-12-01"
    assert got(store, "P-red2", "2024-12-01") >= {("dishonest_debtor", "consumption_restriction")}
    assert ("red_list_suspension", "incentive_suspension") not in got(store, "P-red2", "2024-12-01")


def test_a_suspension_lasts_while_the_listing_and_some_commendation_hold(store: GraphStore) -> None:
    """王 has two commendations, one open and one ending 2025-01-01: his
    incentives stay suspended as long as his own listing (two years, to
    2026-02-01), not only until the dated commendation ends. 李's open
    commendation outlasts his listing (ended by the court on 2024-12-01): the
    suspension ends with the listing."""
    from tests.builders import person

    store.write(
        Batch(
            subjects=[person("P-red3", "王红"), person("P-red4", "李红")],
            listings=[
                listing("L-red3a", "red_list", "P-red3", "2023-01-01"),
                listing("L-red3b", "red_list", "P-red3", "2023-01-01", end="2025-01-01"),
                listing("L-own3", "dishonest_debtors", "P-red3", "2024-02-01", number="(2024)3号"),
                listing("L-red4", "red_list", "P-red4", "2023-01-01"),
                listing(
                    "L-own4",
                    "dishonest_debtors",
                    "P-red4",
                    "2024-02-01",
                    end="2024-12-01",
                    number="(2024)4号",
                ),
            ],
        )
    )
    (three,) = [m for m in only(store, "P-red3") if m.rule == "red_list_suspension"]
    assert (three.listing["id"], three.until) == ("L-own3", "2026-02-01")
    assert {c["id"] for c in three.extra["commendations"]} == {"L-red3a", "L-red3b"}
    (four,) = [m for m in only(store, "P-red4") if m.rule == "red_list_suspension"]
    assert (four.listing["id"], four.until) == ("L-own4", "2024-12-01")


# -- inferred control is read on as_of -------------------------------------------------------


def test_only_now_rules_use_inferred_control() -> None:
    """The engine computes inferred control for as_of; no rule reads it at the
    listing date (graph/propagate/engine.py explains why that is enough)."""
    from graph.rules import rulebook

    uses = [
        (r.id, role.role, role.time)
        for r in rulebook().rules
        for role in r.implicated
        if role.inferred_measures
    ]
    assert uses == [("dishonest_debtor", "actual_controller", "now")]


def test_inferred_control_is_read_on_as_of_not_at_the_listing_date(store: GraphStore) -> None:
    from tests.builders import org, person, rel

    store.write(
        Batch(
            subjects=[org("C", "丙公司"), person("P-new", "新"), person("P-gone", "旧")],
            relations=[
                # took control after the listing date
                rel("shareholder", "P-new", "C", "2024-03-01", share=0.5),
                # held control at the listing date, sold before as_of
                rel("shareholder", "P-gone", "C", "2015-01-01", "2024-05-01", share=0.5),
            ],
            listings=[listing("L-C", "dishonest_debtors", "C", "2024-01-01", number="(2024)3号")],
        )
    )
    (m,) = only(store, "P-new")
    assert (m.measure, m.role, m.path[0]["read_at"]) == (
        "related_party_review",
        "inferred_controller",
        AS_OF,
    )
    assert only(store, "P-gone") == []
    assert got(store, "P-gone", "2024-04-30") == {("dishonest_debtor", "related_party_review")}


def test_an_event_time_inferred_role_is_refused(store: GraphStore) -> None:
    import yaml

    from graph.errors import ConfigError
    from graph.rules import RULES_FILE, parse_rules

    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    tax = next(r for r in data["rules"] if r["id"] == "major_tax_violation")
    tax["implicated"].append(
        {
            "role": "actual_controller",
            "relations": ["actual_controller"],
            "time": "event",
            "measures": ["exit_restriction"],
            "inferred_measures": ["related_party_review"],
        }
    )
    load_city(store)
    with pytest.raises(ConfigError, match="query date only") as refused:
        measures(store, "O-tax", AS_OF, book=parse_rules(data))
    assert refused.value.details == {"rule": "major_tax_violation", "role": "actual_controller"}


def test_an_inferred_controllers_path_is_the_strongest_chain(store: GraphStore) -> None:
    """P holds C through two companies: 90% of Z, which holds 35% of C (31.5%),
    and 50% of B, which holds 40% of C (20%): 51.5% in all. The measure's path
    is the chain through Z, the stronger one, though B's last hop is the
    larger and B sorts first by id; both chains are its evidence, strongest
    first."""
    from tests.builders import org, person, rel

    store.write(
        Batch(
            subjects=[
                org("C", "丙公司"), org("Z-via", "甲控股"), org("B-via", "乙控股"),
                person("P-top", "顶"),
            ],
            relations=[
                rel("shareholder", "P-top", "Z-via", share=0.9),
                rel("shareholder", "Z-via", "C", share=0.35),
                rel("shareholder", "P-top", "B-via", share=0.5),
                rel("shareholder", "B-via", "C", share=0.4),
            ],
            listings=[listing("L-C2", "dishonest_debtors", "C", "2024-01-01", number="(2024)4号")],
        )
    )  # fmt: skip
    (m,) = only(store, "P-top")
    assert m.role == "inferred_controller"
    assert m.extra["cumulative_share"] == pytest.approx(0.515)
    assert [h["to"] for h in m.path] == ["Z-via", "P-top"]
    assert [[h["to"] for h in chain] for chain in m.extra["chains"]] == [
        ["Z-via", "P-top"], ["B-via", "P-top"],
    ]  # fmt: skip


def test_a_role_read_through_two_relation_types_lasts_as_the_longer(store: GraphStore) -> None:
    """A city's rule book may read one role through two kinds of relation (here
    the principal: an officer post titled 负责人, or being legal representative).
    Each relation is read on its own and gives its own end; the restriction
    lasts while either holds, whichever of the two the engine meets first, and
    to the listing's end when one is open (a debtor is listed for two years)."""
    import yaml

    from graph.rules import RULES_FILE, parse_rules
    from tests.builders import org, person, rel

    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    debtor = next(r for r in data["rules"] if r["id"] == "dishonest_debtor")
    principal = next(r for r in debtor["implicated"] if r["role"] == "principal")
    principal["relations"] = ["officer", "legal_representative"]
    book = parse_rules(data)
    ends = {"1": ("2024-12-31", "2025-06-30"), "2": ("2025-06-30", "2024-12-31"),
            "3": (None, "2025-06-30"), "4": ("2025-06-30", None)}  # fmt: skip
    batch = Batch()
    for i, (as_rep, as_officer) in ends.items():
        batch.subjects += [org(f"O-two-{i}", f"甲{i}公司"), person(f"P-two-{i}", f"王{i}")]
        batch.relations += [
            rel("legal_representative", f"P-two-{i}", f"O-two-{i}", "2024-01-01", as_rep),
            rel("officer", f"P-two-{i}", f"O-two-{i}", "2024-01-01", as_officer, title="负责人"),
        ]
        batch.listings.append(
            listing(f"L-two-{i}", "dishonest_debtors", f"O-two-{i}", "2024-02-01")
        )
    store.write(batch)
    got = {}
    for i in ends:
        (m,) = [m for m in measures(store, f"P-two-{i}", AS_OF, book=book) if m.role == "principal"]
        (other,) = m.extra["other_paths"]
        assert {m.path[0]["relation"], other[0]["relation"]} == {"officer", "legal_representative"}
        got[i] = (m.measure, m.until)
    assert got == {
        "1": ("consumption_restriction", "2025-06-30"),
        "2": ("consumption_restriction", "2025-06-30"),
        "3": ("consumption_restriction", "2026-02-01"),
        "4": ("consumption_restriction", "2026-02-01"),
    }
