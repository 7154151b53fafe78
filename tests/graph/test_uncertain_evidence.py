# ruff: noqa: E501  (feed rows are kept one per line, as in the files they stand for)
"""rules.md, "When the data does not say: uncertain evidence never punishes":
one test (or more) per bullet, through real feed files, on both stores.

The little city: 鑫源 (O1) had 甲 as legal representative in the 2022 registry
snapshot (核准日期 2019-01-01) and 乙 in the 2024 one (核准日期 2023-06-15).
Between 甲's last sighting (2022-12-31) and 乙's approval the change may have
happened on any day: neither is known to hold the role then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from graph.docs import QUARANTINE, REVIEW
from graph.propagate.engine import Measure, measures
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders.pipeline import FileLoader
from tests.builders import (
    AS_OF,
    BING,
    DING,
    JIA,
    O1,
    O2,
    O3,
    O3B,
    YI,
    ZHOU,
    make_id,
    make_uscc,
    reg,
    sid,
    write,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def loader(store: GraphStore, settings: Settings, tmp_path: Path) -> FileLoader:
    ld = FileLoader(store, settings)
    ld.load(write(tmp_path / "registry_2024.csv", [
        reg("商丘市鑫源商贸有限公司", O1, "乙", YI, "2023-06-15", "2024-05-31"),
        reg("睢县宏达纺织有限公司", O2, "丁", DING, "2015-01-01", "2024-05-31"),
        reg("商丘市金泰建材有限公司", O3, "周", ZHOU, "2016-01-01", "2024-05-31"),
        reg("商丘市金泰建材有限公司睢县分公司", O3B, "周", ZHOU, "2016-01-01", "2024-05-31",
            隶属企业名称="商丘市金泰建材有限公司", 隶属企业统一社会信用代码=O3),
    ]))  # fmt: skip
    # the older snapshot arrives later: the order of files must not matter
    ld.load(write(tmp_path / "registry_2022.csv", [
        reg("商丘市鑫源商贸有限公司", O1, "甲", JIA, "2019-01-01", "2022-12-31"),
    ]))  # fmt: skip
    return ld


def on(store: GraphStore, key: str, as_of: str = AS_OF) -> list[Measure]:
    return measures(store, sid(store, key), as_of)


def by_listing(ms: list[Measure], number: str | None = None, start: str | None = None) -> list[tuple[str, str | None]]:
    return sorted(
        (m.measure, m.extra.get("reason"))
        for m in ms
        if (number is None or m.listing["number"] == number)
        and (start is None or m.listing["dates"]["start"] == start)
    )


# -- Roles in time -------------------------------------------------------------------


def test_a_later_snapshot_ends_the_earlier_legal_representative(store: GraphStore, loader: FileLoader) -> None:
    o1 = sid(store, O1)
    lrs = {store.get_subjects([r.source])[r.source].name: (r.valid_from, r.valid_to)
           for r in store.relations_of([o1], ["legal_representative"], direction="in")}  # fmt: skip
    # 甲 from his row's 核准日期 until 乙's; 乙 from then on
    assert lrs == {"甲": ("2019-01-01", "2023-06-15"), "乙": ("2023-06-15", None)}
    # and at today's date (a "now" rule) only 乙 holds it
    from graph.evidence.roles import RoleBook

    book = RoleBook(store.relations_of([o1], ["legal_representative"], direction="in"))
    assert set(book.holders("legal_representative", o1, AS_OF)) == {sid(store, YI)}


EVENT_FEEDS = {
    # feed kind: (file, row builder for a listing of O1 on a date)
    "tax_violations": lambda d: {"纳税人名称": "商丘市鑫源商贸有限公司", "统一社会信用代码": O1, "案件性质": "偷税", "公布日期": d},
    "serious_violations": lambda d: {"企业名称": "商丘市鑫源商贸有限公司", "统一社会信用代码": O1, "列入事由": "提交虚假材料", "列入日期": d, "作出决定机关": "商丘市市场监督管理局"},
    "admin_penalties": lambda d: {"行政相对人名称": "商丘市鑫源商贸有限公司", "行政相对人类别": "法人及非法人组织", "行政相对人代码_1(统一社会信用代码)": O1,
                                  "行政处罚决定书文号": f"商应急罚〔{d[:4]}〕{d[5:7]}{d[8:]}号", "违法行为类型": "安全生产",
                                  "处罚决定日期": d, "处罚机关": "商丘市应急管理局", "失信严重程度": "严重"},
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(EVENT_FEEDS))
def test_event_time_rules_read_the_legal_representative_at_the_event(
    store: GraphStore, loader: FileLoader, tmp_path: Path, kind: str
) -> None:
    """A successor gets nothing for a violation decided before his term; the
    predecessor is implicated when his term is known, and both are only
    reviewed (role_time_unknown) when the change window covers the date."""
    row = EVENT_FEEDS[kind]
    loader.load(write(tmp_path / f"{kind}_1.csv", [row("2021-09-01"), row("2023-03-01"), row("2024-01-10")]))
    jia, yi = on(store, JIA), on(store, YI)
    punish = {"tax_violations": ["exit_restriction", "officer_disqualification"],
              "serious_violations": ["officer_disqualification"],
              "admin_penalties": ["enhanced_supervision"]}[kind]  # fmt: skip
    # before the change: 甲, known from the 2022 snapshot
    assert by_listing(jia, start="2021-09-01") == [(m, None) for m in punish]
    assert by_listing(yi, start="2021-09-01") == []
    # inside the window: nobody is known to hold it, both are looked at
    assert by_listing(jia, start="2023-03-01") == [("related_party_review", "role_time_unknown")]
    assert by_listing(yi, start="2023-03-01") == [("related_party_review", "role_time_unknown")]
    # after the change was approved: 乙 only
    assert by_listing(jia, start="2024-01-10") == []
    assert by_listing(yi, start="2024-01-10") == [(m, None) for m in punish]
    # every punitive measure's path says how the role's time was known
    for m in jia + yi:
        if m.punitive:
            (hop,) = m.path
            assert hop["time"]["state"] == "known" and hop["time"]["source"] == "snapshot"
            assert hop["from_name"] == "商丘市鑫源商贸有限公司"


def test_a_role_before_the_only_snapshot_is_unknown(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    # 丁 is seen only in the 2024 snapshot, approved 2015-01-01: a 2014 violation is before that
    loader.load(write(tmp_path / "tax_violations_2.csv", [
        {"纳税人名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "公布日期": "2014-12-01"},
        {"纳税人名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "公布日期": "2023-12-01"},
    ]))  # fmt: skip
    ding = on(store, DING, "2016-06-01")
    assert by_listing(ding, start="2014-12-01") == [("related_party_review", "role_time_unknown")]
    assert by_listing(on(store, DING), start="2023-12-01") == [
        ("exit_restriction", None), ("officer_disqualification", None)
    ]


def test_dishonest_debtor_reads_the_role_now(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    loader.load(write(tmp_path / "dishonest_debtors_1.csv", [
        {"案号": "(2022)豫14执100号", "被执行人姓名/名称": "商丘市鑫源商贸有限公司", "身份证号码/组织机构代码": O1[8:17], "发布时间": "2022-01-10"},
    ]))  # fmt: skip
    # listed in 甲's term for two years, read on each day: who holds the role then
    assert by_listing(on(store, YI, "2022-06-01")) == []
    assert by_listing(on(store, JIA, "2022-06-01")) == [("consumption_restriction", None)]
    assert by_listing(on(store, YI, "2023-01-05")) == [("related_party_review", "role_time_unknown")]
    assert by_listing(on(store, YI, "2023-06-15")) == [("consumption_restriction", None)]
    assert by_listing(on(store, JIA, "2023-06-15")) == []


# -- The record names the responsible person -------------------------------------------


def test_the_person_a_tax_record_names_is_the_one_implicated(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    loader.load(write(tmp_path / "tax_violations_3.csv", [
        {"纳税人名称": "商丘市鑫源商贸有限公司", "统一社会信用代码": O1, "公布日期": "2021-09-01",
         "法定代表人或者负责人姓名": "丙", "法定代表人或者负责人证件号码": BING,
         "负有直接责任的财务负责人姓名": "戊", "负有直接责任的财务负责人证件号码": ZHOU},
    ]))  # fmt: skip
    # the record names 丙 by ID number: he is implicated, though the graph shows 甲
    assert by_listing(on(store, BING)) == [("exit_restriction", None), ("officer_disqualification", None)]
    (m, _) = on(store, BING)
    assert m.path[0]["relation"] == "named_in_listing"
    assert m.path[0]["time"]["source"] == "named_in_record"
    # 甲 held the role by the graph at that date: a reviewer looks, nobody punishes him
    assert by_listing(on(store, JIA)) == [("related_party_review", "record_names_another")]
    # the finance officer named by number is implicated too
    assert ("exit_restriction", None) in by_listing(on(store, ZHOU))


def test_a_person_named_by_number_shows_the_record_and_is_read_in_every_listing(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """丙 is named by number as 鑫源's legal representative in a 2015 decision
    (its three years long over) and as 宏达's finance officer in a 2023 one;
    周 the other way round; both were named in 金泰's decisions of 2011–2014. Each gets the 2023 decision's measures in the role
    it names him in, whichever listing the store gives first, with a hop
    naming both parties, the day read, the record, and the listing's end."""
    tax = lambda name, uscc, day, lr, fo: {  # noqa: E731
        "纳税人名称": name, "统一社会信用代码": uscc, "公布日期": day,
        "法定代表人或者负责人姓名": "丙" if lr == BING else "周", "法定代表人或者负责人证件号码": lr,
        "负有直接责任的财务负责人姓名": "丙" if fo == BING else "周", "负有直接责任的财务负责人证件号码": fo,
    }  # fmt: skip
    loader.load(write(tmp_path / "tax_violations_9.csv", [
        tax("商丘市鑫源商贸有限公司", O1, "2015-03-01", BING, ZHOU),
        tax("睢县宏达纺织有限公司", O2, "2023-03-01", ZHOU, BING),
        # more decisions over: the store lists some of them before the live one
        *[tax("商丘市金泰建材有限公司", O3, f"201{y}-03-01", *pair) for y, pair in ((1, (BING, ZHOU)), (2, (ZHOU, BING)), (3, (BING, ZHOU)), (4, (ZHOU, BING)))],
    ]))  # fmt: skip
    for person, role, org in ((BING, "finance_officer", "睢县宏达纺织有限公司"), (ZHOU, "legal_representative", "睢县宏达纺织有限公司")):
        ms = [m for m in on(store, person) if m.rule == "major_tax_violation"]
        assert {(m.role, m.listing["dates"]["start"]) for m in ms} == {(role, "2023-03-01")}
        hop = ms[0].path[0]
        assert (hop["from_name"], hop["to_name"], hop["read_at"]) == (org, "丙" if person == BING else "周", "2023-03-01")
        assert hop["time"]["records"] == ms[0].listing["record"] == ["tax_violations:tax_violations_9.csv:2"]
        assert {m.until for m in ms} == {"2026-03-01"}


def test_a_penalty_naming_the_legal_representative_by_number_reads_its_type(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """As by name: 丁, named by number on severe penalties of two types in
    turn, is implicated for the 安全生产 ones, each of them."""
    loader.load(write(tmp_path / "admin_penalties_10.csv", [
        {"行政相对人名称": "睢县宏达纺织有限公司", "行政相对人代码_1(统一社会信用代码)": O2, "法定代表人": "丁", "证件类型": "身份证", "证件号码": DING,
         "行政处罚决定书文号": f"睢环罚〔2024〕{n}号", "违法行为类型": kind, "处罚决定日期": "2024-03-01", "失信严重程度": "严重失信"}
        for n, kind in enumerate(["环境保护", "安全生产"] * 3)
    ]))  # fmt: skip
    ms = [m for m in on(store, DING) if m.measure == "enhanced_supervision"]
    assert sorted(m.listing["number"] for m in ms) == ["睢环罚〔2024〕1号", "睢环罚〔2024〕3号", "睢环罚〔2024〕5号"]
    assert {m.path[0]["relation"] for m in ms} == {"named_in_listing"}


def test_a_record_naming_the_legal_representative_by_name_alone(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    loader.load(write(tmp_path / "serious_violations_2.csv", [
        # names 甲 by name, on a day the graph knows 甲 held the role
        {"企业名称": "商丘市鑫源商贸有限公司", "统一社会信用代码": O1, "法定代表人": "甲", "列入日期": "2022-03-01"},
        # and by name in the change window: a name is no identity, the graph does not know
        {"企业名称": "商丘市鑫源商贸有限公司", "统一社会信用代码": O1, "法定代表人": "甲", "列入日期": "2023-03-01"},
    ]))  # fmt: skip
    assert by_listing(on(store, JIA), start="2022-03-01") == [("officer_disqualification", None)]
    (m,) = [m for m in on(store, JIA) if m.listing["dates"]["start"] == "2022-03-01"]
    assert m.path[0]["time"]["source"] == "named_in_record"
    assert m.path[0]["time"]["graph"]["state"] == "known"
    assert by_listing(on(store, JIA), start="2023-03-01") == [("related_party_review", "role_time_unknown")]
    # 乙, whom the record does not name, is only looked at
    assert by_listing(on(store, YI), start="2023-03-01") == [("related_party_review", "record_names_another")]


def test_a_name_written_with_or_without_its_dot_or_spaces_is_the_same_name(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    o4 = make_uscc("411403", "MA65AY05")
    ayi = make_id("653101", "19750101", "777")
    loader.load(write(tmp_path / "registry_2020.csv", [
        reg("商丘市天山果业有限公司", o4, "阿依·买买提", ayi, "2018-01-01", "2020-12-31"),
    ]))  # fmt: skip
    loader.load(write(tmp_path / "serious_violations_3.csv", [
        {"企业名称": "商丘市天山果业有限公司", "统一社会信用代码": o4, "法定代表人": name, "列入日期": day}
        for name, day in [("阿依买买提", "2019-03-01"), ("阿依\u3000买买提", "2019-04-01"), ("阿依·买买", "2019-05-01")]
    ]))  # fmt: skip
    got = on(store, ayi, "2019-06-01")
    assert by_listing(got, start="2019-03-01") == [("officer_disqualification", None)]
    # the path says the record named him, by the name it gave, and what the graph knew
    (named,) = [m for m in got if m.listing["dates"]["start"] == "2019-03-01"]
    time = named.path[0]["time"]
    assert (time["state"], time["source"], time["name"]) == ("known", "named_in_record", "阿依买买提")
    assert time["graph"]["state"] == "known"
    assert by_listing(got, start="2019-04-01") == [("officer_disqualification", None)]
    # another name is another person, whatever the graph says
    assert by_listing(got, start="2019-05-01") == [("related_party_review", "record_names_another")]


def test_a_title_alone_never_punishes(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    loader.load(write(tmp_path / "officers_1.csv", [
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "姓名": "甲", "证件号码": JIA, "职务": "财务负责人", "任职日期": "2018-01-01"},
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_2.csv", [
        {"案号": "(2024)豫14执7号", "被执行人姓名/名称": "睢县宏达纺织有限公司", "身份证号码/组织机构代码": O2[8:17], "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    got = [(m.rule, m.measure, m.role, m.extra.get("reason")) for m in on(store, JIA) if m.listing["number"] == "(2024)豫14执7号"]
    assert got == [("dishonest_debtor", "related_party_review", "directly_responsible", "title_only")]
    # the review's hop says why, and the review lasts as the listing does (2 years)
    (m,) = [m for m in on(store, JIA) if m.listing["number"] == "(2024)豫14执7号"]
    assert [h["reason"] for h in m.path] == ["title_only"]
    assert m.until == "2026-02-01"


# -- Who the subject is ---------------------------------------------------------------


def test_an_organisations_penalty_never_lands_on_its_legal_representative(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    loader.load(write(tmp_path / "admin_penalties_2.csv", [
        # no category, no code; the legal representative's number in 证件号码
        {"行政相对人名称": "商丘市鑫源商贸有限公司", "法定代表人": "乙", "证件号码": YI, "行政处罚决定书文号": "商市监罚〔2024〕9号",
         "违法行为类型": "安全生产", "处罚决定日期": "2024-03-01", "失信严重程度": "严重失信"},
    ]))  # fmt: skip
    o1, yi = sid(store, O1), sid(store, YI)
    (lst,) = [x for x in store.listings_of([o1]) if x.number == "商市监罚〔2024〕9号"]
    assert lst.props["parties"] == {"legal_representative": yi}
    assert store.listings_of([yi]) == []
    assert store.get_subjects([yi])[yi].name == "乙"
    # 严重失信 is 严重: the company is punished directly, 乙 as its named legal representative
    assert ("enhanced_supervision", None) in by_listing(on(store, O1))
    assert by_listing(on(store, YI)) == [("enhanced_supervision", None)]
    assert all(not m.direct for m in on(store, YI))


def test_a_close_name_alone_lists_nobody_and_the_candidate_is_reviewed(
    store: GraphStore, settings: Settings, loader: FileLoader, tmp_path: Path
) -> None:
    loader.load(write(tmp_path / "dishonest_debtors_3.csv", [
        {"案号": "(2024)豫14执8号", "被执行人姓名/名称": "睢县宏运纺织有限公司", "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    o2 = sid(store, O2)
    assert on(store, O2) == []
    assert any(o2 in (d["a"], d["b"]) for d in store.list_docs(REVIEW).values())
    body = check(store, settings, [O2])
    assert body["result"] == "review" and body["restrictions"] == []
    assert [p["listing"]["number"] for p in body["pending"]] == ["(2024)豫14执8号"]


def test_a_name_close_enough_to_merge_still_needs_something_else_to_agree(
    store: GraphStore, settings: Settings, loader: FileLoader, tmp_path: Path
) -> None:
    o5 = make_uscc("411402", "MA66JT06")
    loader.load(write(tmp_path / "registry_2023.csv", [
        reg("商丘市梁园区金泰建筑材料有限公司", o5, "丙", BING, "2019-01-01", "2023-12-31"),
    ]))  # fmt: skip
    # one character off in sixteen: 94% alike, above the merge threshold
    loader.load(write(tmp_path / "dishonest_debtors_7.csv", [
        {"案号": "(2024)豫14执20号", "被执行人姓名/名称": "商丘市梁园区金泰建筑材科有限公司", "发布时间": "2024-02-01"},
        # another court's typo, with the legal representative
        {"案号": "(2024)豫14执21号", "被执行人姓名/名称": "商丘市梁园区金泰建筑村料有限公司", "发布时间": "2024-02-02",
         "法定代表人或者负责人姓名": "丙"},
    ]))  # fmt: skip
    # the name alone: a reviewer decides, nobody is punished meanwhile
    numbers = {m.listing["number"] for m in on(store, o5)}
    assert "(2024)豫14执20号" not in numbers
    pending = check(store, settings, [o5])["pending"]
    assert [(p["listing"]["number"], p["reason"]) for p in pending] == [("(2024)豫14执20号", "name_only")]
    # the legal representative agrees: the same enterprise, punished as such
    assert numbers == {"(2024)豫14执21号"}
    rec = store.get_records(["dishonest_debtors:dishonest_debtors_7.csv:2"])["dishonest_debtors:dishonest_debtors_7.csv:2"]
    assert rec.mentions[0].match["method"] == "fuzzy"
    assert rec.mentions[0].match["corroborated"] == ["legal_representative"]


def test_a_former_name_in_another_county_is_another_enterprise(
    store: GraphStore, settings: Settings, loader: FileLoader, tmp_path: Path
) -> None:
    """夏邑县嘉禾贸易 was once 夏邑县利民食品. A court row for 永城市利民食品 (no
    code) matches that former name but for its county: another enterprise, as
    with current names. It waits for a reviewer; it never lists 嘉禾."""
    o6 = make_uscc("411426", "MA67JH07")
    loader.load(write(tmp_path / "registry_2023b.csv", [
        reg("夏邑县嘉禾贸易有限公司", o6, "丙", BING, "2019-01-01", "2023-12-31", 曾用名="夏邑县利民食品有限公司"),
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_14.csv", [
        {"案号": "(2024)豫14执94号", "被执行人姓名/名称": "永城市利民食品有限公司", "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    assert on(store, o6) == []
    rec = store.get_records(["dishonest_debtors:dishonest_debtors_14.csv:1"])[
        "dishonest_debtors:dishonest_debtors_14.csv:1"
    ]
    assert rec.mentions[0].subject_id != sid(store, o6)
    assert rec.mentions[0].match["method"] == "new"
    assert check(store, settings, [o6])["restrictions"] == []


def test_a_dash_or_the_name_itself_in_former_names_matches_nobody(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A registry row whose 曾用名 repeats its own name, and a row without a code
    whose 曾用名 is a dash: neither is a former name, and the two enterprises,
    whose names have little in common, stay two."""
    o7 = make_uscc("411403", "MA68HC08")
    loader.load(write(tmp_path / "registry_2023c.csv", [
        reg("汇晨商贸有限公司", o7, "丙", BING, "2019-01-01", "2023-12-31", 曾用名="汇晨商贸有限公司"),
    ]))  # fmt: skip
    loader.load(write(tmp_path / "registry_2023d.csv", [
        reg("商丘市汇晨建材有限公司", "", "", "", "2019-01-01", "2023-12-31", 曾用名="（—）"),
    ]))  # fmt: skip
    rec = store.get_records(["registry:registry_2023d.csv:1"])["registry:registry_2023d.csv:1"]
    assert rec.mentions[0].subject_id != sid(store, o7)
    subjects = store.get_subjects([sid(store, o7), rec.mentions[0].subject_id])
    assert [s.attrs.get("former_names") for s in subjects.values()] == [None, None]


def test_a_branch_row_with_its_head_offices_code_is_not_the_head_office(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    loader.load(write(tmp_path / "dishonest_debtors_4.csv", [
        {"案号": "(2024)豫14执9号", "被执行人姓名/名称": "商丘市金泰建材有限公司睢县分公司", "身份证号码/组织机构代码": O3[8:17], "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    assert on(store, O3) == []
    assert {m.measure for m in on(store, O3B)} >= {"procurement_exclusion"}


def check(store: GraphStore, settings: Settings, subjects: list[str]) -> dict[str, Any]:
    with TestClient(create_app(settings, store=store)) as c:
        key = KeyStore(settings.data_dir).create("engine")[1]
        r = c.post("/checks", json={"scenario": "procurement", "subjects": subjects, "as_of": AS_OF},
                   headers={"Authorization": f"Bearer {key}"})  # fmt: skip
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()["results"][0]
        return result


# -- Masked ID numbers ----------------------------------------------------------------


def test_a_masked_id_agreeing_with_one_person_makes_his_check_review(
    store: GraphStore, settings: Settings, loader: FileLoader, tmp_path: Path
) -> None:
    masked = DING[:10] + "****" + DING[14:]
    loader.load(write(tmp_path / "dishonest_debtors_5.csv", [
        {"案号": "(2024)豫14执10号", "被执行人姓名/名称": "丁", "身份证号码/组织机构代码": masked, "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    ding = sid(store, DING)
    assert on(store, DING) == []  # no measure until a reviewer confirms
    body = check(store, settings, [DING])
    assert body["result"] == "review"
    assert body["pending"][0]["reason"] == "masked_id_agrees"
    assert body["pending"][0]["listing"]["number"] == "(2024)豫14执10号"
    from graph.views import subject_card

    card = subject_card(store, store.get_subjects([ding])[ding], AS_OF)
    assert [p["listing"]["number"] for p in card["pending_identity"]] == ["(2024)豫14执10号"]
    # a reviewer rejects the pair: the check is clear again
    pair = body["pending"][0]["pair"]
    from graph.resolve.judgements import judge

    a, b = pair.split("|")
    judge(store, {"kind": "reject", "a": a, "b": b}, by="reviewer-1")
    assert check(store, settings, [DING])["result"] == "clear"


def test_a_masked_person_who_represented_the_records_organisation_is_the_likelier_candidate(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A reviewer sees why one 甲 is likelier than another: he was (or is) the
    legal representative of the organisation the same record names."""
    jia2 = make_id("411403", "19700304", "111")  # the same visible digits as 甲
    loader.load(write(tmp_path / "registry_2021.csv", [
        reg("睢县远航物流有限公司", make_uscc("411422", "MA67YH07"), "甲", jia2, "2016-01-01", "2021-12-31"),
    ]))  # fmt: skip
    masked = JIA[:10] + "****" + JIA[14:]
    loader.load(write(tmp_path / "officers_2.csv", [
        # 甲 left 鑫源 as legal representative in 2023 (乙 since): a masked number
        {"企业名称": "商丘市鑫源商贸有限公司", "统一社会信用代码": O1, "姓名": "甲", "证件号码": masked,
         "职务": "监事", "任职日期": "2024-01-01"},
    ]))  # fmt: skip
    rid = "officers:officers_2.csv:1"
    pairs = {
        d["b"] if d["a"] != sid(store, JIA) and d["a"] != sid(store, jia2) else d["a"]: d
        for d in store.list_docs(REVIEW).values()
        if d["record"] == rid
    }
    assert pairs[sid(store, JIA)]["score"] == 0.88
    assert pairs[sid(store, JIA)]["features"] == {
        "name": 1.0, "masked_id": 1.0, "legal_representative_of_record_organisation": 1.0,
    }  # fmt: skip
    # the other 甲's number agrees with the visible digits too, but he never represented 鑫源
    assert (pairs[sid(store, jia2)]["score"], pairs[sid(store, jia2)]["features"]) == (
        0.8, {"name": 1.0, "masked_id": 1.0},
    )  # fmt: skip


def test_only_open_pairs_of_active_listings_not_yet_his_own_keep_a_check_waiting(
    store: GraphStore, settings: Settings, loader: FileLoader, tmp_path: Path
) -> None:
    masked = DING[:10] + "****" + DING[14:]
    path = tmp_path / "dishonest_debtors_5.csv"
    rows = [
        {"案号": f"(2024)豫14执1{i}号", "被执行人姓名/名称": "丁", "身份证号码/组织机构代码": masked, "发布时间": day}
        for i, day in enumerate(["2024-02-01", "2024-02-02", "2024-07-01", "2024-02-04"])
    ]  # fmt: skip
    loader.load(write(path, rows))
    pending = check(store, settings, [DING])["pending"]
    # the listing published after the day asked about does not wait yet
    assert [p["listing"]["number"] for p in pending] == ["(2024)豫14执10号", "(2024)豫14执11号", "(2024)豫14执13号"]
    from graph.resolve.judgements import judge

    # a reviewer says the second is someone else ...
    a, b = pending[1]["pair"].split("|")
    judge(store, {"kind": "reject", "a": a, "b": b}, by="reviewer-1")
    # ... and the court corrects the first: his full number, so his own listing now
    loader.load(write(path, [{**rows[0], "身份证号码/组织机构代码": DING}, *rows[1:]]))
    body = check(store, settings, [DING])
    assert body["result"] == "restricted"
    # why: his own listing restricts, and one more may be his
    assert body["reasons"] == ["dishonest_debtor:procurement_exclusion", "pending_identity:dishonest_debtors"]
    (lst,) = [x for x in store.iter_listings(["dishonest_debtors"]) if x.number == "(2024)豫14执13号"]
    assert body["pending"] == [{
        "reason": "masked_id_agrees",
        "pair": pending[2]["pair"],
        "record": "dishonest_debtors:dishonest_debtors_5.csv:4",
        "listing": {"id": lst.id, "feed": "dishonest_debtors", "subject": lst.subject_id,
                    "number": "(2024)豫14执13号", "department": "中级人民法院",
                    "start": "2024-02-04", "end": None},
    }]  # fmt: skip


# -- Dates ----------------------------------------------------------------------------


def test_a_listing_without_a_start_date_is_quarantined(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    rep = loader.load(write(tmp_path / "dishonest_debtors_6.csv", [
        {"案号": "(2024)豫14执11号", "被执行人姓名/名称": "商丘市鑫源商贸有限公司", "身份证号码/组织机构代码": O1[8:17]},
        {"案号": "(2024)豫14执12号", "被执行人姓名/名称": "商丘市鑫源商贸有限公司", "身份证号码/组织机构代码": O1[8:17], "发布时间": "9999-12-31"},
    ]))  # fmt: skip
    assert (rep.loaded, rep.quarantined) == (0, 2)
    q = store.list_docs(QUARANTINE)
    assert {d["reason"] for d in q.values()} == {"no_start_date"}
    assert {d["column"] for d in q.values()} == {"发布时间"}
    assert on(store, O1) == []


def test_placeholder_dates_are_no_date_with_a_warning(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    rep = loader.load(write(tmp_path / "abnormal_operations_1.csv", [
        {"企业名称": "商丘市鑫源商贸有限公司", "统一社会信用代码": O1, "列入日期": "2024-01-02", "移出日期": "0000-00-00"},
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "列入日期": "2024-01-02", "移出日期": "1900-01-01"},
    ]))  # fmt: skip
    assert rep.loaded == 2 and rep.warning_reasons == {"placeholder_date": 2}
    for key in (O1, O2):
        assert by_listing(on(store, key, "2030-01-01")) == [("enhanced_supervision", None)]


def test_end_dates_are_the_last_day_that_holds(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    loader.load(write(tmp_path / "guarantees_1.csv", [
        {"借款人名称": "商丘市鑫源商贸有限公司", "借款人证件类型": "统一社会信用代码", "借款人证件号码": O1,
         "担保人名称": "睢县宏达纺织有限公司", "担保人证件类型": "统一社会信用代码", "担保人证件号码": O2,
         "担保起始日期": "2023-01-01", "担保到期日期": "2024-06-30"},
    ]))  # fmt: skip
    loader.load(write(tmp_path / "loan_defaults_1.csv", [
        {"借款人名称": "商丘市鑫源商贸有限公司", "借款人证件类型": "统一社会信用代码", "借款人证件号码": O1, "违约日期": "2024-03-01"},
    ]))  # fmt: skip
    assert by_listing(on(store, O2, "2024-06-30")) == [("guarantee_risk_alert", None)]
    assert by_listing(on(store, O2, "2024-07-01")) == []
    loader.load(write(tmp_path / "admin_penalties_3.csv", [
        {"行政相对人名称": "商丘市鑫源商贸有限公司", "行政相对人代码_1(统一社会信用代码)": O1, "行政处罚决定书文号": "商市监罚〔2024〕10号",
         "处罚决定日期": "2024-01-10", "公示截止期": "2024-12-31", "失信严重程度": "一般"},
    ]))  # fmt: skip
    got = [m for m in on(store, O1, "2024-12-31") if m.listing["number"] == "商市监罚〔2024〕10号"]
    assert got == []  # 一般 gives no measure; the listing's status is what counts
    from graph.propagate.engine import listings_with_status

    views = {v["number"]: v for v in listings_with_status(store, sid(store, O1), "2024-12-31")}
    assert views["商市监罚〔2024〕10号"]["dates"]["status"] == "active"
    views = {v["number"]: v for v in listings_with_status(store, sid(store, O1), "2025-01-01")}
    assert views["商市监罚〔2024〕10号"]["dates"]["status"] == "expired"


def test_an_end_before_its_start_is_quarantined(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    rep = loader.load(write(tmp_path / "guarantees_2.csv", [
        {"借款人名称": "商丘市鑫源商贸有限公司", "借款人证件号码": O1, "担保人名称": "睢县宏达纺织有限公司", "担保人证件号码": O2,
         "担保起始日期": "2024-01-01", "担保到期日期": "2023-06-30"},
    ]))  # fmt: skip
    assert (rep.loaded, rep.quarantined, rep.reasons) == (0, 1, {"end_before_start": 1})
    (q,) = store.list_docs(QUARANTINE).values()
    assert q["column"] == "担保到期日期" and q["file"] == "guarantees_2.csv" and q["row"] == 1


# -- Serious violations, severity words, repairs, shares ---------------------------------


def test_severity_words_are_read_as_the_rules_three(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    loader.load(write(tmp_path / "admin_penalties_4.csv", [
        {"行政相对人名称": "睢县宏达纺织有限公司", "行政相对人代码_1(统一社会信用代码)": O2, "行政处罚决定书文号": "睢市监罚〔2024〕1号",
         "违法行为类型": "食品药品", "处罚决定日期": "2024-01-10", "失信严重程度": "严重失信"},
    ]))  # fmt: skip
    ms = on(store, O2)
    assert {m.measure for m in ms} == {"enhanced_supervision", "procurement_exclusion"}
    # the basis follows the violation type
    assert all("食品药品" in m.basis and "安全生产" not in m.basis for m in ms)


def test_a_repair_for_one_joint_debtor_leaves_the_other_listed(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    loader.load(write(tmp_path / "dishonest_debtors_7.csv", [
        {"案号": "(2023)豫14执50号", "被执行人姓名/名称": "商丘市鑫源商贸有限公司", "身份证号码/组织机构代码": O1[8:17], "发布时间": "2023-09-01"},
        {"案号": "(2023)豫14执50号", "被执行人姓名/名称": "睢县宏达纺织有限公司", "身份证号码/组织机构代码": O2[8:17], "发布时间": "2023-09-01"},
    ]))  # fmt: skip
    loader.load(write(tmp_path / "credit_repairs_1.csv", [
        {"主体名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "原决定文号": "(2023)豫14执50号", "修复决定日期": "2024-03-01"},
    ]))  # fmt: skip
    assert by_listing(on(store, O2), "(2023)豫14执50号") == []
    assert ("procurement_exclusion", None) in by_listing(on(store, O1), "(2023)豫14执50号")


def test_a_bare_share_is_a_percentage(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    loader.load(write(tmp_path / "shareholders_1.csv", [
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "股东名称": "商丘市鑫源商贸有限公司", "股东类型": "企业法人",
         "证件号码": O1, "出资比例": "1", "出资日期": "2030-12-31"},
    ]))  # fmt: skip
    (rel,) = store.relations_of([sid(store, O2)], ["shareholder"], direction="in")
    assert rel.props["share"] == pytest.approx(0.01)
    # 出资日期 is when the contribution is due, not when the holding began
    assert rel.props["contribution_due"] == "2030-12-31" and rel.valid_from != "2030-12-31"


def test_two_roles_give_two_readings(store: GraphStore, loader: FileLoader, tmp_path: Path) -> None:
    # 乙 guarantees 鑫源's loan and is its legal representative
    loader.load(write(tmp_path / "guarantees_3.csv", [
        {"借款人名称": "商丘市鑫源商贸有限公司", "借款人证件号码": O1, "担保人名称": "乙", "担保人证件类型": "身份证", "担保人证件号码": YI,
         "担保起始日期": "2023-01-01", "担保到期日期": "2026-12-31"},
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_8.csv", [
        {"案号": "(2024)豫14执60号", "被执行人姓名/名称": "商丘市鑫源商贸有限公司", "身份证号码/组织机构代码": O1[8:17], "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    got = {(m.rule, m.measure, m.role) for m in on(store, YI)}
    assert got == {("dishonest_debtor", "consumption_restriction", "legal_representative"),
                   ("loan_default_guarantee", "guarantee_risk_alert", "guarantor")}  # fmt: skip


def test_an_empty_legal_representative_cell_in_a_later_snapshot_is_no_change(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    loader.load(write(tmp_path / "registry_2025.csv", [
        reg("商丘市鑫源商贸有限公司", O1, "", "", "2024-09-01", "2025-01-31"),
    ]))  # fmt: skip
    assert by_listing(on(store, YI, "2025-06-01")) == []  # nothing listed, but:
    from graph.evidence.roles import RoleBook

    o1 = sid(store, O1)
    book = RoleBook(store.relations_of([o1], ["legal_representative"], direction="in"))
    assert book.read("legal_representative", sid(store, YI), o1, "2025-06-01").known



# -- Which of a person's posts the rule reads ------------------------------------------


def test_another_post_at_the_same_enterprise_is_not_the_role_the_rule_reads(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """丙 was 宏达's 主要负责人 until 2023 and is its 监事 since 2024: on the day the
    rule reads (a dishonest-debtor listing reads the principal now), the post he
    holds is not a principal's, and the earlier one has ended. 周, its 负责人 now,
    is the principal the rule implicates."""
    loader.load(write(tmp_path / "officers_3.csv", [
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "姓名": "丙", "证件号码": BING, "职务": "主要负责人", "任职日期": "2018-01-01", "离任日期": "2023-12-31"},
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "姓名": "丙", "证件号码": BING, "职务": "监事", "任职日期": "2024-01-01"},
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "姓名": "周", "证件号码": ZHOU, "职务": "负责人", "任职日期": "2024-01-01", "离任日期": "2024-12-31"},
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_9.csv", [
        {"案号": "(2024)豫14执90号", "被执行人姓名/名称": "睢县宏达纺织有限公司", "身份证号码/组织机构代码": O2[8:17], "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    assert [m for m in on(store, BING) if m.listing["number"] == "(2024)豫14执90号"] == []
    (zhou,) = [m for m in on(store, ZHOU) if m.listing["number"] == "(2024)豫14执90号"]
    assert (zhou.rule, zhou.measure, zhou.role) == ("dishonest_debtor", "consumption_restriction", "principal")
    # read now, the implication lasts as long as the post: it ends on his 离任日期
    # (the day he leaves, rules.md lists it among no inclusive ends)
    assert zhou.until == "2024-12-31", zhou.until
    assert [m.role for m in on(store, ZHOU, "2024-12-30") if m.listing["number"] == "(2024)豫14执90号"] == ["principal"]
    assert [m for m in on(store, ZHOU, "2024-12-31") if m.listing["number"] == "(2024)豫14执90号"] == []


def test_a_limited_implication_ends_when_its_years_are_up(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A serious-violation listing disqualifies the legal representative named
    in it for three years (rules.yaml duration_years): the measure says when."""
    loader.load(write(tmp_path / "serious_violations_9.csv", [
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "法定代表人": "丁", "列入日期": "2023-03-01"},
    ]))  # fmt: skip
    (m,) = [m for m in on(store, DING) if m.rule == "serious_violation_list"]
    assert (m.measure, m.role, m.until) == ("officer_disqualification", "legal_representative", "2026-03-01")
    assert [m for m in on(store, DING, "2026-03-01") if m.rule == "serious_violation_list"] == []
    # the enterprise's own measures end with the listing, three years on
    assert {(m.measure, m.until) for m in on(store, O2) if m.rule == "serious_violation_list"} == {
        ("procurement_exclusion", "2026-03-01"), ("bidding_restriction", "2026-03-01"),
        ("enhanced_supervision", "2026-03-01"),
    }  # fmt: skip
    # removed from the list before its years are up: the removal ends it
    loader.load(write(tmp_path / "serious_violations_9.csv", [
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "法定代表人": "丁", "列入日期": "2023-03-01", "移出日期": "2024-09-01"},
    ]))  # fmt: skip
    (m,) = [m for m in on(store, DING) if m.rule == "serious_violation_list"]
    assert m.until == "2024-09-01"


def test_a_limited_implication_shorter_than_the_listing_ends_first(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A city whose rule book disqualifies the named legal representative for
    one year only: his measure ends a year after the listing, though the
    listing itself runs on for three."""
    import yaml

    from graph.rules import RULES_FILE, parse_rules

    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    rule = next(r for r in data["rules"] if r["id"] == "serious_violation_list")
    rule["implicated"][0]["duration_years"] = 1
    book = parse_rules(data)
    loader.load(write(tmp_path / "serious_violations_10.csv", [
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "法定代表人": "丁", "列入日期": "2023-03-01"},
    ]))  # fmt: skip
    (m,) = [m for m in measures(store, sid(store, DING), "2023-06-01", book=book) if m.rule == "serious_violation_list"]
    assert (m.measure, m.until) == ("officer_disqualification", "2024-03-01")
    assert [m for m in measures(store, sid(store, DING), "2024-03-01", book=book) if m.rule == "serious_violation_list"] == []
    # the same when the record names him by number: the year is his, from the listing's start
    loader.load(write(tmp_path / "serious_violations_11.csv", [
        {"企业名称": "商丘市金泰建材有限公司", "统一社会信用代码": O3, "法定代表人": "周", "法定代表人证件号码": ZHOU, "列入日期": "2023-03-01"},
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "法定代表人": "周", "法定代表人证件号码": ZHOU, "列入日期": "2023-04-01"},
        {"企业名称": "商丘市鑫源商贸有限公司", "统一社会信用代码": O1, "法定代表人": "周", "法定代表人证件号码": ZHOU, "列入日期": "2023-05-01", "移出日期": "2023-12-31"},
    ]))  # fmt: skip
    # removed before its year is up: the removal ends his measure
    removed = [m.until for m in measures(store, sid(store, ZHOU), "2023-06-01", book=book) if m.listing["dates"]["start"] == "2023-05-01"]
    assert removed == ["2023-12-31"]
    named = {m.listing["dates"]["start"]: (m.path[0]["relation"], m.until) for m in measures(store, sid(store, ZHOU), "2024-03-15", book=book) if m.rule == "serious_violation_list"}
    assert named == {"2023-04-01": ("named_in_listing", "2024-04-01")}
    assert [m for m in measures(store, sid(store, ZHOU), "2024-04-01", book=book) if m.rule == "serious_violation_list"] == []


# -- Every relation and listing is read, whatever comes first -----------------------------


def test_a_guarantee_to_the_person_does_not_hide_the_one_by_him(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """乙 borrowed under 丙's guarantee (丙 → 乙) and guarantees 鑫源's loan
    (乙 → 鑫源). When 鑫源 is listed, the guarantee by him is the one that
    alerts; the one to him is read first here and must not end the reading."""
    # several guarantees to him, so that whatever order a store returns them
    # in, one comes before the guarantee by him
    lenders = [("丙", BING), ("周", ZHOU), ("丁", DING), ("甲", JIA)]
    loader.load(write(tmp_path / "guarantees_4.csv", [
        {"借款人名称": "乙", "借款人证件类型": "身份证", "借款人证件号码": YI, "担保人名称": name, "担保人证件类型": "身份证", "担保人证件号码": key,
         "担保起始日期": "2023-01-01", "担保到期日期": "2026-12-31"}
        for name, key in lenders
    ]))  # fmt: skip
    loader.load(write(tmp_path / "guarantees_5.csv", [
        {"借款人名称": "商丘市鑫源商贸有限公司", "借款人证件号码": O1, "担保人名称": "乙", "担保人证件类型": "身份证", "担保人证件号码": YI,
         "担保起始日期": "2023-01-01", "担保到期日期": "2026-12-31"},
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_10.csv", [
        {"案号": "(2024)豫14执61号", "被执行人姓名/名称": "商丘市鑫源商贸有限公司", "身份证号码/组织机构代码": O1[8:17], "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    yi = sid(store, YI)
    got = {(m.subject, m.rule, m.measure, m.role) for m in on(store, YI)}
    assert got == {(yi, "dishonest_debtor", "consumption_restriction", "legal_representative"),
                   (yi, "loan_default_guarantee", "guarantee_risk_alert", "guarantor")}  # fmt: skip
    # they guarantee 乙, who is not listed: nothing
    assert on(store, BING) == []


def test_a_penalty_of_another_type_does_not_hide_the_one_the_role_reads(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """Severe penalties of 宏达, 环境保护 and 安全生产 in turn. The legal
    representative is implicated for the 安全生产 ones only (listing_props),
    each of them, whichever order the store gives."""
    loader.load(write(tmp_path / "admin_penalties_9.csv", [
        {"行政相对人名称": "睢县宏达纺织有限公司", "行政相对人代码_1(统一社会信用代码)": O2, "法定代表人": "丁", "行政处罚决定书文号": f"睢环罚〔2024〕{n}号",
         "违法行为类型": kind, "处罚决定日期": "2024-03-01", "失信严重程度": "严重失信"}
        for n, kind in enumerate(["环境保护", "安全生产"] * 3)
    ]))  # fmt: skip
    got = sorted(m.listing["number"] for m in on(store, DING) if m.measure == "enhanced_supervision")
    assert got == ["睢环罚〔2024〕1号", "睢环罚〔2024〕3号", "睢环罚〔2024〕5号"]
    own = on(store, O2)
    assert {m.listing["number"] for m in own} == {f"睢环罚〔2024〕{n}号" for n in range(6)}
    assert all(m.subject == sid(store, O2) and m.direct for m in own)


def test_an_open_guarantee_of_an_open_default_alerts_with_no_end(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """Neither the guarantee (no 担保到期日期) nor the default (not settled) says
    when it ends: the alert holds with no end, and its path names the guarantor."""
    loader.load(write(tmp_path / "guarantees_6.csv", [
        {"借款人名称": "睢县宏达纺织有限公司", "借款人证件号码": O2, "担保人名称": "周", "担保人证件类型": "身份证", "担保人证件号码": ZHOU,
         "担保起始日期": "2022-01-01"},
    ]))  # fmt: skip
    loader.load(write(tmp_path / "loan_defaults_1.csv", [
        {"借款人名称": "睢县宏达纺织有限公司", "借款人证件号码": O2, "违约日期": "2024-01-15", "违约金额(万元)": "120"},
    ]))  # fmt: skip
    (m,) = on(store, ZHOU)
    assert (m.rule, m.measure, m.role, m.until) == ("loan_default_guarantee", "guarantee_risk_alert", "guarantor", None)
    (hop,) = m.path
    assert (hop["from"], hop["to"], hop["to_name"]) == (sid(store, O2), sid(store, ZHOU), "周")


def test_a_role_read_now_ends_the_measure_where_the_snapshots_stop_knowing(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """甲 is 鑫源's legal representative in the 2022 snapshot (file date
    2022-12-31); the 2024 one names 乙 from 2023-06-15. Read in 2022, the
    restriction on 甲 lasts as long as the snapshots know he holds the post:
    up to the 2022 file date, not to the end of the listing."""
    loader.load(write(tmp_path / "dishonest_debtors_11.csv", [
        {"案号": "(2022)豫14执5号", "被执行人姓名/名称": "商丘市鑫源商贸有限公司", "身份证号码/组织机构代码": O1[8:17], "发布时间": "2022-06-01"},
    ]))  # fmt: skip
    (m,) = [m for m in on(store, JIA, "2022-12-01") if m.listing["number"] == "(2022)豫14执5号"]
    assert (m.measure, m.role, m.until) == ("consumption_restriction", "legal_representative", "2022-12-31")
    assert m.path[0]["time"]["known_until"] == "2022-12-31"


def test_one_measure_reached_by_two_posts_lasts_as_the_longer_and_shows_both(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """周 is 宏达's principal by two officers rows (负责人 to 2024-12-31, 主要负责人
    to 2025-06-30): one restriction, lasting as the longer post does, with the
    other post's path kept as evidence. His own listing's measures come first."""
    loader.load(write(tmp_path / "officers_4.csv", [
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "姓名": "周", "证件号码": ZHOU, "职务": title, "任职日期": "2024-01-01", "离任日期": end}
        for title, end in (("负责人", "2024-12-31"), ("主要负责人", "2025-06-30"))
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_12.csv", [
        {"案号": "(2024)豫14执91号", "被执行人姓名/名称": "睢县宏达纺织有限公司", "身份证号码/组织机构代码": O2[8:17], "发布时间": "2024-02-01"},
        {"案号": "(2024)豫14执92号", "被执行人姓名/名称": "周", "身份证号码/组织机构代码": ZHOU, "发布时间": "2024-03-01"},
    ]))  # fmt: skip
    ms = on(store, ZHOU)
    (m,) = [m for m in ms if m.listing["number"] == "(2024)豫14执91号"]
    assert (m.measure, m.role, m.until) == ("consumption_restriction", "principal", "2025-06-30")
    (other,) = m.extra["other_paths"]
    assert {m.path[0]["title"], other[0]["title"]} == {"负责人", "主要负责人"}
    # once the shorter post has ended, the other still makes him principal: no
    # conflict between two posts, the restriction holds (not a review)
    later = [m for m in on(store, ZHOU, "2025-01-01") if m.listing["number"] == "(2024)豫14执91号"]
    assert [(m.measure, m.extra.get("reason")) for m in later] == [("consumption_restriction", None)]
    # his own listing's measures (direct) come before what others' listings give him
    assert [x.direct for x in ms] == sorted((x.direct for x in ms), reverse=True)
    assert ms[0].direct and not ms[-1].direct


def test_two_posts_both_ended_before_the_day_read_implicate_nobody(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """周 was 宏达's 董事长 to 2020 and its 总经理 to 2021 (both titles the
    court's directly responsible persons are looked for under): a listing of
    2024 finds him in neither post, so he gets nothing, not even a review."""
    loader.load(write(tmp_path / "officers_6.csv", [
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "姓名": "周", "证件号码": ZHOU, "职务": title, "任职日期": "2015-01-01", "离任日期": end}
        for title, end in (("董事长", "2020-12-31"), ("总经理", "2021-12-31"))
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_16.csv", [
        {"案号": "(2024)豫14执96号", "被执行人姓名/名称": "睢县宏达纺织有限公司", "身份证号码/组织机构代码": O2[8:17], "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    assert [m for m in on(store, ZHOU) if m.listing["number"] == "(2024)豫14执96号"] == []


def test_one_post_ended_and_another_of_unknown_time_is_unknown(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """周's 董事长 post at 宏达 ended in 2020; his 总经理 post has no dates and is
    first seen in the 2024-05-31 file. Read on 2024-03-01, whether he was
    总经理 then is unknown, so the court's directly responsible person may be
    him: a reviewer looks (the ended post does not make it "not holding")."""
    loader.load(write(tmp_path / "officers_7.csv", [
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "姓名": "周", "证件号码": ZHOU, "职务": title, "任职日期": start, "离任日期": end, "数据日期": "2024-05-31"}
        for title, start, end in (("董事长", "2015-01-01", "2020-12-31"), ("总经理", "", ""))
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_17.csv", [
        {"案号": "(2024)豫14执97号", "被执行人姓名/名称": "睢县宏达纺织有限公司", "身份证号码/组织机构代码": O2[8:17], "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    ms = [m for m in on(store, ZHOU, "2024-03-01") if m.listing["number"] == "(2024)豫14执97号"]
    assert [(m.measure, m.role, m.extra.get("reason")) for m in ms] == [("related_party_review", "directly_responsible", "title_only")]
    assert ms[0].path[0]["time"]["state"] == "unknown"


def test_a_dated_post_outlasting_a_post_the_snapshots_know_decides_the_end(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """周's 主要负责人 post has no dates: the files of 2024-01-31 and 2024-05-31
    show it and that of 2024-07-31 does not, so it is known to hold up to
    2024-05-31. His 负责人 post runs to 2024-12-31. Read on 2024-03-01, the
    restriction lasts as the longer known post does: to 2024-12-31, not to
    the last file that showed the other."""
    posts = {"主要负责人": ("", ""), "负责人": ("2024-01-01", "2024-12-31")}
    for day, titles in (("2024-01-31", posts), ("2024-05-31", posts), ("2024-07-31", ["负责人"])):
        loader.load(write(tmp_path / f"officers_{day}.csv", [
            {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "姓名": "周", "证件号码": ZHOU, "职务": title, "任职日期": posts[title][0], "离任日期": posts[title][1], "数据日期": day}
            for title in titles
        ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_18.csv", [
        {"案号": "(2024)豫14执98号", "被执行人姓名/名称": "睢县宏达纺织有限公司", "身份证号码/组织机构代码": O2[8:17], "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    ms = [m for m in on(store, ZHOU, "2024-03-01") if m.listing["number"] == "(2024)豫14执98号" and m.role == "principal"]
    assert [(m.measure, m.until) for m in ms] == [("consumption_restriction", "2024-12-31")]


def test_several_posts_reaching_one_measure_last_as_the_longest_whatever_their_order(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """Four principals of 宏达, two posts each, the longer post listed first or
    second, and an open post (no 离任日期) beside a dated one: each restriction
    lasts as long as his longest post (as the listing does if one is open: its
    two years end on 2026-02-01), and keeps the other
    post's path, once, as evidence."""
    people = {make_id("411422", f"1970010{i}", f"{i}1{i}"): ends for i, ends in enumerate(
        [("2024-12-31", "2025-06-30"), ("2025-06-30", "2024-12-31"), ("", "2025-06-30"), ("2025-06-30", "")], start=1
    )}  # fmt: skip
    loader.load(write(tmp_path / "officers_5.csv", [
        {"企业名称": "睢县宏达纺织有限公司", "统一社会信用代码": O2, "姓名": f"周{n}", "证件号码": pid, "职务": title, "任职日期": "2024-01-01", "离任日期": end}
        for n, (pid, ends) in enumerate(people.items()) for title, end in zip(("负责人", "主要负责人"), ends, strict=True)
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_13.csv", [
        {"案号": "(2024)豫14执93号", "被执行人姓名/名称": "睢县宏达纺织有限公司", "身份证号码/组织机构代码": O2[8:17], "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    got = {}
    for pid in people:
        (m,) = [m for m in on(store, pid) if m.listing["number"] == "(2024)豫14执93号"]
        (other,) = m.extra["other_paths"]
        assert other and other != m.path and {m.path[0]["title"], other[0]["title"]} == {"负责人", "主要负责人"}
        got[pid] = (m.measure, m.role, m.until)
    assert list(got.values()) == [
        ("consumption_restriction", "principal", "2025-06-30"),
        ("consumption_restriction", "principal", "2025-06-30"),
        ("consumption_restriction", "principal", "2026-02-01"),
        ("consumption_restriction", "principal", "2026-02-01"),
    ]
