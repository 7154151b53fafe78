"""The role-time reader (graph/evidence/roles.py) against rules.md, "Roles in time".

Pure functions over relations: no store. The stores' part (that a relation's
time evidence survives a round trip and reloads) is in the contract suite and
the loader tests.
"""

from __future__ import annotations

from typing import Any

from graph.evidence.roles import (
    KNOWN,
    NOT_HOLDING,
    UNKNOWN,
    RoleBook,
    display_interval,
    observations,
)
from graph.model import Relation

LR = "legal_representative"


def snap(party: str, org: str, *seen: tuple[str, str | None], rtype: str = LR) -> Relation:
    """A relation shown by registry snapshots: (file date, 核准日期) pairs."""
    return Relation(
        id=f"R-{rtype}-{party}-{org}",
        type=rtype,
        source=party,
        target=org,
        props={
            "seen": [
                {"on": on, "since": since, "record": f"registry:reg_{on}.csv:1"}
                for on, since in seen
            ]
        },
    )


def dated(
    party: str,
    org: str,
    start: str | None,
    end: str | None,
    rtype: str = "officer",
    seen: str | None = None,
    **props: Any,
) -> Relation:
    p: dict[str, Any] = {"held": {"from": start, "to": end}, **props}
    if seen:
        p["seen"] = [{"on": seen, "since": start, "record": f"officers:off_{seen}.csv:1"}]
    return Relation(
        id=f"R-{rtype}-{party}-{org}-{start}-{props.get('title', '')}",
        type=rtype,
        source=party,
        target=org,
        props=p,
    )


def state(book: RoleBook, party: str, day: str, rtype: str = LR, org: str = "O") -> str:
    return book.read(rtype, party, "O" if org == "O" else org, day).state


def test_one_snapshot_is_known_from_its_approval_date_and_unknown_before() -> None:
    book = RoleBook([snap("B", "O", ("2024-05-31", "2022-03-01"))])
    assert state(book, "B", "2021-12-31") == UNKNOWN
    reading = book.read(LR, "B", "O", "2022-03-01")
    assert reading.state == KNOWN and reading.source == "snapshot"
    assert reading.detail["known_from"] == "2022-03-01"
    # goes on holding until a later snapshot names someone else
    assert state(book, "B", "2030-01-01") == KNOWN


def test_without_approval_date_the_file_date_starts_what_is_known() -> None:
    book = RoleBook([snap("B", "O", ("2024-05-31", None))])
    assert state(book, "B", "2024-05-30") == UNKNOWN
    assert state(book, "B", "2024-05-31") == KNOWN


def test_a_later_snapshot_naming_another_ends_the_earlier_with_an_unknown_window() -> None:
    # A seen on f1 = 2023-01-31; B seen on 2024-05-31 with 核准日期 a2 = 2023-06-15
    a = snap("A", "O", ("2023-01-31", "2019-01-01"))
    b = snap("B", "O", ("2024-05-31", "2023-06-15"))
    book = RoleBook([a, b])
    assert state(book, "A", "2020-01-01") == KNOWN
    # known until min(f1, a2) = f1
    assert state(book, "A", "2023-01-30") == KNOWN
    assert state(book, "A", "2023-01-31") == UNKNOWN
    assert state(book, "A", "2023-06-14") == UNKNOWN
    # known not to hold from a2
    assert state(book, "A", "2023-06-15") == NOT_HOLDING
    # B: before a2 someone else was known to hold it, then the window, then B
    assert state(book, "B", "2020-01-01") == NOT_HOLDING
    assert state(book, "B", "2023-03-01") == UNKNOWN
    assert state(book, "B", "2023-06-15") == KNOWN
    assert display_interval(a, [a, b]) == ("2019-01-01", "2023-06-15")
    assert display_interval(b, [a, b]) == ("2023-06-15", None)


def test_an_approval_before_the_earlier_file_date_closes_the_window() -> None:
    # the later row says the change was approved before the earlier file was taken
    a = snap("A", "O", ("2023-08-31", "2019-01-01"))
    b = snap("B", "O", ("2024-05-31", "2023-06-15"))
    book = RoleBook([a, b])
    assert state(book, "A", "2023-06-14") == KNOWN
    assert state(book, "A", "2023-06-15") == NOT_HOLDING
    assert state(book, "B", "2023-06-15") == KNOWN


def test_the_order_snapshots_were_loaded_in_does_not_matter() -> None:
    a = snap("A", "O", ("2023-01-31", "2019-01-01"))
    b = snap("B", "O", ("2024-05-31", "2023-06-15"))
    forward, backward = RoleBook([a, b]), RoleBook([b, a])
    for day in ("2019-06-01", "2023-02-01", "2023-07-01", "2025-01-01"):
        for party in ("A", "B"):
            assert state(forward, party, day) == state(backward, party, day)


def test_a_holder_who_returns_holds_twice_and_not_in_between() -> None:
    a = snap("A", "O", ("2020-12-31", "2018-01-01"), ("2024-12-31", "2024-03-01"))
    b = snap("B", "O", ("2022-12-31", "2021-06-01"))
    book = RoleBook([a, b])
    assert state(book, "A", "2019-01-01") == KNOWN
    assert state(book, "A", "2022-01-01") == NOT_HOLDING
    assert state(book, "B", "2022-01-01") == KNOWN
    assert state(book, "A", "2023-06-01") == UNKNOWN  # between B's last sighting and a3
    assert state(book, "A", "2024-06-01") == KNOWN
    assert state(book, "B", "2024-06-01") == NOT_HOLDING


def test_a_stated_interval_is_known_inside_and_known_not_to_hold_outside() -> None:
    book = RoleBook([dated("P", "O", "2018-03-01", "2020-03-01", title="经理")])
    assert state(book, "P", "2018-02-28", "officer") == NOT_HOLDING
    assert state(book, "P", "2018-03-01", "officer") == KNOWN
    assert state(book, "P", "2020-02-29", "officer") == KNOWN
    # 离任日期 is the first day the role no longer holds
    assert state(book, "P", "2020-03-01", "officer") == NOT_HOLDING


def test_an_interval_without_a_start_is_unknown_until_its_end() -> None:
    book = RoleBook([dated("P", "O", None, "2020-03-01", title="经理")])
    reading = book.read("officer", "P", "O", "2019-01-01")
    assert reading.state == UNKNOWN and reading.source == "no_evidence"
    assert state(book, "P", "2020-03-01", "officer") == NOT_HOLDING


def test_a_later_officers_snapshot_without_an_open_ended_officer_ends_the_role() -> None:
    p = dated("P", "O", "2015-01-01", None, seen="2020-12-31", title="经理")
    q = dated("Q", "O", "2021-03-01", None, seen="2022-12-31", title="经理")
    book = RoleBook([p, q])
    assert state(book, "P", "2020-06-01", "officer") == KNOWN
    # officers are many at a time: only the later file's date dates the change
    assert state(book, "P", "2021-06-01", "officer") == UNKNOWN
    assert state(book, "P", "2022-12-31", "officer") == NOT_HOLDING
    assert state(book, "Q", "2022-01-01", "officer") == KNOWN


def test_a_dated_successor_ends_an_open_ended_legal_representative_on_his_first_day() -> None:
    a = dated("A", "O", "2015-01-01", None, rtype=LR, seen="2024-01-31", title="法定代表人")
    b = dated("B", "O", "2021-07-01", None, rtype=LR, seen="2024-01-31", title="法定代表人")
    book = RoleBook([a, b])
    assert state(book, "A", "2021-06-30") == KNOWN
    assert state(book, "A", "2021-07-01") == NOT_HOLDING
    assert state(book, "B", "2021-07-01") == KNOWN


def test_two_holders_known_on_one_day_is_a_contradiction_read_as_unknown() -> None:
    a = dated("A", "O", "2015-01-01", "2022-01-01", rtype=LR)
    b = snap("B", "O", ("2024-05-31", "2020-01-01"))
    book = RoleBook([a, b])
    reading = book.read(LR, "A", "O", "2021-01-01")
    assert reading.state == UNKNOWN and reading.source == "conflict"
    assert state(book, "B", "2021-01-01") == UNKNOWN
    assert state(book, "B", "2022-01-01") == KNOWN


def test_sources_about_one_party_that_disagree_give_unknown() -> None:
    # registry snapshot says P holds it since 2019; an officers row says P only
    # took office in 2021: in 2020 one source says yes, the other no
    reg = snap("P", "O", ("2024-05-31", "2019-01-01"))
    off = dated("P", "O", "2021-01-01", None, rtype=LR, title="法定代表人")
    book = RoleBook([reg, off])
    reading = book.read(LR, "P", "O", "2020-01-01")
    assert reading.state == UNKNOWN and reading.source == "conflict"
    assert state(book, "P", "2022-01-01") == KNOWN


def test_a_party_with_no_relation_does_not_hold_the_role() -> None:
    book = RoleBook([snap("A", "O", ("2024-05-31", None))])
    assert state(book, "Z", "2025-01-01") == NOT_HOLDING


def test_holders_lists_everyone_the_evidence_may_put_in_the_role() -> None:
    a = snap("A", "O", ("2023-01-31", "2019-01-01"))
    b = snap("B", "O", ("2024-05-31", "2023-06-15"))
    book = RoleBook([a, b])
    assert set(book.holders(LR, "O", "2023-03-01")) == {"A", "B"}
    assert set(book.holders(LR, "O", "2020-01-01")) == {"A"}
    assert set(book.holders(LR, "O", "2024-01-01")) == {"B"}


def test_legacy_relations_read_their_valid_dates_as_stated() -> None:
    rel = Relation("R1", LR, "A", "O", valid_from="2015-01-01", valid_to=None)
    book = RoleBook([rel])
    assert state(book, "A", "2014-12-31") == NOT_HOLDING
    assert state(book, "A", "2016-01-01") == KNOWN
    undated = Relation("R2", LR, "A", "O2")
    assert RoleBook([undated]).read(LR, "A", "O2", "2016-01-01").state == UNKNOWN


def test_an_open_ended_term_contradicted_by_another_holders_sighting_stops_knowing() -> None:
    # an officers row that lost its 离任日期 says 乙 since 2015; the registry saw
    # 甲 as legal representative in 2016, approved 2016-01-01. That 核准日期 is the
    # latest approved change, which may postdate the change of representative:
    # 乙's row knows nothing after its 任职日期 that no snapshot confirms.
    yi = dated("乙", "O", "2015-01-01", None, rtype=LR, seen="2024-12-29", title="法定代表人")
    jia = snap("甲", "O", ("2016-06-30", "2016-01-01"))
    book = RoleBook([yi, jia])
    assert state(book, "乙", "2015-06-01") == UNKNOWN
    reading = book.read(LR, "乙", "O", "2020-01-01")
    assert reading.state == UNKNOWN
    # the row's dates are what is read (and found wanting), not an absence of evidence
    assert reading.source == "dated"
    assert reading.detail["contradicted_by"] == "registry:reg_2016-06-30.csv:1"
    # a registry snapshot that still showed 乙 on 2015-09-30 is knowledge up to it
    seen_yi = snap("乙", "O", ("2015-09-30", "2015-01-01"))
    book = RoleBook([yi, seen_yi, jia])
    assert state(book, "乙", "2015-06-01") == KNOWN
    assert state(book, "乙", "2015-12-01") == UNKNOWN


def test_an_officer_who_returns_is_known_not_to_hold_on_the_snapshot_without_him() -> None:
    # 甲 on the 2020 and 2022 officer snapshots, not on the 2021 one (丙 is):
    # on the day of the 2021 snapshot he is known not to hold, and between the
    # stretches the time is unknown, not "not holding" for good
    jia = snap(
        "甲", "O", ("2020-06-30", "2020-01-01"), ("2022-06-30", "2022-03-01"), rtype="officer"
    )
    bing = snap("丙", "O", ("2021-06-30", "2021-03-01"), rtype="officer")
    book = RoleBook([jia, bing])
    assert state(book, "甲", "2020-03-01", rtype="officer") == KNOWN
    assert state(book, "甲", "2021-06-30", rtype="officer") == NOT_HOLDING
    assert state(book, "甲", "2021-12-31", rtype="officer") == UNKNOWN
    assert state(book, "甲", "2022-06-30", rtype="officer") == KNOWN


def test_an_unknown_reading_says_why_for_the_investigator() -> None:
    # before the first snapshot's 核准日期: unknown, and the hop says so
    before = RoleBook([snap("B", "O", ("2024-05-31", "2022-03-01"))]).read(
        LR, "B", "O", "2021-12-31"
    )
    assert (before.state, before.source) == (UNKNOWN, "snapshot")
    assert before.detail["why"] == "before_known_from"
    assert before.detail["known_from"] == "2022-03-01"
    # a dated term that ended, and a later snapshot showing him again: the two
    # sources disagree, and the reading lists both
    book = RoleBook(
        [
            dated("B", "O", "2015-01-01", "2020-01-01", rtype=LR, title="法定代表人"),
            snap("B", "O", ("2021-06-30", "2021-03-01")),
        ]
    )
    both = book.read(LR, "B", "O", "2021-06-30")
    assert (both.state, both.source) == (UNKNOWN, "conflict")
    assert both.detail["why"] == "sources_disagree"
    assert [(s["state"], s["source"]) for s in both.detail["sources"]] == [
        (NOT_HOLDING, "dated"),
        (KNOWN, "snapshot"),
    ]


def test_a_legal_representatives_reading_names_the_other_holder() -> None:
    nothing = RoleBook([]).read(LR, "B", "O", "2021-01-01")
    assert (nothing.state, nothing.source, nothing.detail) == (NOT_HOLDING, "no_evidence", {})
    # A shown from 2022-03-01; B's stated term 2015-01-01 .. 2023-01-01
    a = snap("A", "O", ("2024-05-31", "2022-03-01"))
    b = dated("B", "O", "2015-01-01", "2023-01-01", rtype=LR, title="法定代表人")
    book = RoleBook([a, b])
    # before A is known, B is: A is known not to hold, and the reading says who did
    early = book.read(LR, "A", "O", "2021-12-31")
    assert (early.state, early.source) == (NOT_HOLDING, "another_holder")
    assert early.detail["holder"] == "B"
    assert book.holders(LR, "O", "2021-12-31") == {"B": book.read(LR, "B", "O", "2021-12-31")}
    assert book.holders(LR, "O", "2021-12-31")["B"].known
    # both known on one day: one role, two holders, so neither is known
    both = book.read(LR, "A", "O", "2022-06-30")
    assert (both.state, both.source) == (UNKNOWN, "conflict")
    assert (both.detail["why"], both.detail["others"]) == ("another_holder_known", ["B"])


def test_a_damaged_sighting_is_ignored_not_fatal() -> None:
    # a stored sighting without its file date says nothing about time
    rel = snap("B", "O", ("2024-05-31", "2022-03-01"))
    rel.props["seen"].append({"since": "2023-01-01", "record": "registry:x.csv:9"})
    assert [o.on for o in observations(rel)] == ["2024-05-31"]
    assert state(RoleBook([rel]), "B", "2022-06-01") == KNOWN


def test_only_the_same_feeds_snapshots_end_an_officer() -> None:
    # 甲 on the registry's officer lists of 2020 and 2022; an officers file of
    # 2021 (another feed, another view of the board) lists only 丙: it says
    # nothing of 甲, who stays known in between
    jia = snap(
        "甲", "O", ("2020-06-30", "2020-01-01"), ("2022-06-30", "2022-01-01"), rtype="officer"
    )
    bing = Relation(
        id="R-officer-丙-O",
        type="officer",
        source="丙",
        target="O",
        props={"seen": [{"on": "2021-06-30", "since": None, "record": "officers:off.csv:1"}]},
    )
    assert state(RoleBook([jia, bing]), "甲", "2021-06-30", rtype="officer") == KNOWN


def test_a_stated_end_cuts_a_snapshot_run() -> None:
    # a row shown on a snapshot, whose record also states when it ended
    rel = snap("甲", "O", ("2020-06-30", "2020-01-01"), rtype="officer")
    rel.props["held"] = {"from": None, "to": "2020-09-01"}
    book = RoleBook([rel])
    assert state(book, "甲", "2020-08-01", rtype="officer") == KNOWN
    assert state(book, "甲", "2020-10-01", rtype="officer") == NOT_HOLDING


def test_a_later_snapshot_ends_a_term_before_its_stated_end() -> None:
    # 甲's term is stated to 2023-01-01, but the registry showed 乙 from
    # 2021-03-01 (and 甲 last on 2020-06-30): from 2021-03-01 甲 does not hold
    jia = dated("甲", "O", "2015-01-01", "2023-01-01", rtype=LR, title="法定代表人")
    jia.props["seen"] = [
        {"on": "2020-06-30", "since": "2015-01-01", "record": "registry:a.csv:1"}
    ]
    yi = snap("乙", "O", ("2021-06-30", "2021-03-01"))
    assert state(RoleBook([jia, yi]), "甲", "2022-01-01") == NOT_HOLDING


def test_between_two_returns_the_time_is_unknown_again() -> None:
    # on the 2020, 2022 and 2024 snapshots, not on those of 2021 and 2023
    shown = [(d, d) for d in ("2020-06-30", "2022-06-30", "2024-06-30")]
    jia = snap("甲", "O", *shown, rtype="officer")
    bing = snap("丙", "O", ("2021-06-30", None), ("2023-06-30", None), rtype="officer")
    book = RoleBook([jia, bing])
    assert state(book, "甲", "2021-06-30", rtype="officer") == NOT_HOLDING
    assert state(book, "甲", "2021-12-31", rtype="officer") == UNKNOWN
    assert state(book, "甲", "2023-06-30", rtype="officer") == NOT_HOLDING


def test_the_first_sighting_of_another_holder_is_the_one_cited() -> None:
    # two sightings of 甲 inside 乙's open-ended term: the earlier one is cited
    yi = dated("乙", "O", "2015-01-01", None, rtype=LR, seen="2024-12-29", title="法定代表人")
    jia = snap("甲", "O", ("2017-06-30", "2017-01-01"), ("2016-06-30", "2016-01-01"))
    reading = RoleBook([yi, jia]).read(LR, "乙", "O", "2020-01-01")
    assert reading.detail["contradicted_by"] == "registry:reg_2016-06-30.csv:1"


def test_a_name_in_the_record_is_compared_as_written_width_and_spacing_aside() -> None:
    from graph.evidence.identity import same_person_name

    # the same name: full-width letters, spaces, middle dots of transliterated names
    assert same_person_name("阿依·买买提", ["阿依买买提"])
    assert same_person_name("阿依 买买提", ["阿依・买买提"])
    assert same_person_name("ＭＡＸ　ＬＩＮ", ["MAX LIN"])
    # any other letter is another name
    assert not same_person_name("MAX LIN", ["MA LIN"])
    assert not same_person_name("XU LIN", ["U LIN"])
    assert not same_person_name("阿依·买买", ["阿依买买提"])
    # an empty name names no one
    assert not same_person_name(" · ", ["·"])


def test_two_posts_making_one_role_read_as_the_longer() -> None:
    """Two officers rows put P in the role (two titles of one group): on a day
    both hold, the reading is the one known longest, open-ended above all."""
    short = dated("P", "O", "2024-01-01", "2024-12-31", title="负责人")
    long = dated("P", "O", "2024-01-01", "2025-06-30", title="主要负责人")
    reading = RoleBook([short, long]).read("officer", "P", "O", "2024-06-01")
    assert (reading.state, reading.detail["valid_to"]) == (KNOWN, "2025-06-30")
    reading = RoleBook([long, short]).read("officer", "P", "O", "2024-06-01")
    assert reading.detail["valid_to"] == "2025-06-30"
    open_ended = dated("P", "O", "2023-01-01", None, title="负责人")
    reading = RoleBook([long, open_ended]).read("officer", "P", "O", "2024-06-01")
    assert (reading.state, reading.detail["valid_to"]) == (KNOWN, None)
    # after the shorter post ends, the longer alone holds
    assert RoleBook([short, long]).read("officer", "P", "O", "2025-01-01").known
