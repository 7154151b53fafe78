# ruff: noqa: E501  (feed rows are kept one per line, as in the files they stand for)
"""Resolution on both stores: keys, bridges, every name variant of feeds.md,
namesakes, branches, mistyped and legacy codes, incremental loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.docs import REVIEW
from graph.lookup import get_subject
from graph.settings import Settings
from graph.store.base import GraphStore
from graph.views import subject_card
from loaders.pipeline import FileLoader
from tests.builders import (
    A_REG,
    DISHONEST,
    HB,
    HB2,
    PENALTY,
    REGISTRY,
    WANG1,
    WANG2,
    X1,
    X2,
    ZHANG,
    A,
    B,
    H,
    make_id,
    make_reg_no,
    make_uscc,
    mention,
    mistype,
    penalty,
    registry_rows,
    sid,
    write_csv,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def loaded(store: GraphStore, settings: Settings, tmp_path: Path) -> FileLoader:
    loader = FileLoader(store, settings)
    loader.load(write_csv(tmp_path / "registry_1.csv", REGISTRY, registry_rows()))
    return loader


# Each name variant of feeds.md, with no code at all: it must reach 汇晨 (A).
VARIANTS = {
    "full_width": "商丘市汇晨商贸有限责任公司".replace("商贸", "商贸\u3000"),
    "brackets": "汇晨（商丘市）商贸有限责任公司".replace("（商丘市）", "") + "（）",
    "spaces": "商丘市 汇晨 商贸 有限责任公司",
    "traditional": "商丘市匯晨商貿有限責任公司",
    "no_region_prefix": "汇晨商贸有限责任公司",
    "province_prefix": "河南省商丘市汇晨商贸有限责任公司",
    "short_legal_form": "商丘市汇晨商贸有限公司",
}


def test_name_variants_merge_into_the_registered_subject(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    rows = [penalty(v, n=i) for i, v in enumerate(VARIANTS.values())]
    rows.append(penalty("ＳＨＡＮＧＱＩＵ汇晨商贸有限责任公司", n=50))  # not a variant: Latin
    loaded.load(write_csv(tmp_path / "admin_penalties_v.csv", PENALTY, rows, "gbk"))
    a = sid(store, A)
    for i, variant in enumerate(VARIANTS):
        got, match = mention(store, f"admin_penalties:admin_penalties_v.csv:{i + 1}")
        assert got == a, (variant, match)
        # the normalised name is the registered one: no score needed
        assert match["method"] == "exact_name", (variant, match)
    got, _ = mention(store, f"admin_penalties:admin_penalties_v.csv:{len(VARIANTS) + 1}")
    assert got != a


def test_former_name_and_typo_with_legal_representative(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    rows = [
        penalty("永城市恒达水泥有限公司", n=1),  # 曾用名
        penalty("商丘市汇晨商茂有限责任公司", lr="张三", n=2),  # typo, corroborated
        penalty("商丘市汇辰商贸有限责任公司", n=3),  # another typo, alone: a reviewer decides
    ]
    loaded.load(write_csv(tmp_path / "admin_penalties_f.csv", PENALTY, rows, "gbk"))
    b, a = sid(store, B), sid(store, A)
    got, match = mention(store, "admin_penalties:admin_penalties_f.csv:1")
    # a former name nobody else bears is that subject's name
    assert got == b and match["method"] == "exact_name"
    got, match = mention(store, "admin_penalties:admin_penalties_f.csv:2")
    assert got == a and match["features"]["legal_representative"] == 1.0
    got, match = mention(store, "admin_penalties:admin_penalties_f.csv:3")
    assert got != a and match["reason"] == "uncertain match"
    review = store.list_docs(REVIEW)
    assert any(a in (d["a"], d["b"]) and d["features"]["name"] < 0.92 for d in review.values())


def test_gbk_penalties_with_missing_mistyped_and_legacy_codes(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    rows = [
        penalty("商丘市汇晨商贸有限责任公司", uscc=A.lower(), n=1),  # lowercase code
        penalty("永城市恒达建材有限公司", uscc=mistype(B), n=2),  # one character wrong
        penalty("商丘市汇晨商贸有限责任公司", reg=A_REG, n=3),  # 注册号 only
        penalty("商丘市汇晨商贸有限责任公司", org=A[8:17], n=4),  # 组织机构代码 only
        # no code and a typo in the name: the legal representative's number corroborates
        penalty("永城市恒达建才有限公司", uscc="N/A", lr="王伟", idn=WANG1, n=5),
        penalty("张三", cat="自然人", idn=ZHANG, n=6),
        # A mistyped code for a name nobody has: a new subject, never a merge.
        penalty("睢县无名五金有限公司", uscc=mistype(HB2), n=7),
    ]
    report = loaded.load(write_csv(tmp_path / "admin_penalties_g.csv", PENALTY, rows, "gbk"))
    assert report.encoding and report.encoding.lower() in ("gbk", "gb18030", "gb2312")
    a, b = sid(store, A), sid(store, B)
    f = "admin_penalties:admin_penalties_g.csv"
    assert mention(store, f"{f}:1") == (a, {"method": "key", "key": f"uscc:{A}"})
    got, match = mention(store, f"{f}:2")
    assert got == b and match["method"] == "exact_name"
    # The typo is reported, and the real subject does not take it as a key.
    assert f"uscc:{mistype(B)}" not in store.get_subjects([b])[b].keys
    assert any("uscc_check_mismatch" in w for w in store.get_records([f"{f}:2"])[f"{f}:2"].warnings)
    assert mention(store, f"{f}:3") == (a, {"method": "bridge", "key": f"reg_no:{A_REG}"})
    assert mention(store, f"{f}:4") == (a, {"method": "bridge", "key": f"org_code:{A[8:17]}"})
    got, match = mention(store, f"{f}:5")
    assert got == b and match["method"] == "fuzzy"
    assert match["features"]["legal_representative_id"] == 1.0
    assert "legal_representative_id" in match["corroborated"]
    # The enterprise row with its representative's ID number stays an organisation.
    assert store.get_subjects([got])[got].type == "organisation"
    assert mention(store, f"{f}:6") == (
        sid(store, ZHANG),
        {"method": "key", "key": f"id_number:{ZHANG}"},
    )
    got, match = mention(store, f"{f}:7")
    assert got not in (sid(store, HB), sid(store, HB2)) and match["method"] == "new"


def test_organisation_code_only_court_records_and_masked_people(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    masked = ZHANG[:10] + "****" + ZHANG[14:]
    rows = [
        ["(2025)豫14执1号", "商丘市汇晨商贸有限公司", f"{A[8:16]}-{A[16]}", "张三", "商丘市中级人民法院", "2025-01-02"],
        ["(2025)豫14执2号", "永城市恒达建材有限公司", B[8:17], "王伟", "商丘市中级人民法院", "2025-01-03"],
        ["(2025)豫14执3号", "张三", masked, "", "商丘市中级人民法院", "2025-01-04"],
    ]  # fmt: skip
    loaded.load(write_csv(tmp_path / "dishonest_debtors_1.csv", DISHONEST, rows))
    f = "dishonest_debtors:dishonest_debtors_1.csv"
    assert mention(store, f"{f}:1") == (
        sid(store, A),
        {"method": "bridge", "key": f"org_code:{A[8:17]}"},
    )
    assert mention(store, f"{f}:2")[0] == sid(store, B)
    # A masked number is never a key: a new subject and a review candidate.
    got, match = mention(store, f"{f}:3")
    zhang = sid(store, ZHANG)
    assert got != zhang and match["method"] == "new"
    pairs = [d for d in store.list_docs(REVIEW).values() if {d["a"], d["b"]} == {got, zhang}]
    assert pairs and pairs[0]["features"]["masked_id"] == 1.0


GUARANTEES = [
    "借款人名称",
    "借款人证件类型",
    "借款人证件号码",
    "担保人名称",
    "担保人证件类型",
    "担保人证件号码",
]


def test_namesakes_are_never_merged_by_name(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    # Two 王伟 with different ID numbers are two people; a 王伟 with no number is neither.
    assert sid(store, WANG1) != sid(store, WANG2)
    rows = [
        ["永城市恒达建材有限公司", "统一社会信用代码", B, "王伟", "身份证", ""],
        ["永城市恒达建材有限公司", "统一社会信用代码", B, "王伟", "身份证", ""],
        # Namesake enterprises: a keyless 利民食品 with another county's prefix.
        ["柘城县利民食品有限公司", "统一社会信用代码", "", "永城市恒达建材有限公司", "统一社会信用代码", B],
    ]  # fmt: skip
    loaded.load(write_csv(tmp_path / "guarantees_1.csv", GUARANTEES, rows))
    f = "guarantees:guarantees_1.csv"
    g1, m1 = mention(store, f"{f}:1", "guarantor")
    g2, _ = mention(store, f"{f}:2", "guarantor")
    assert len({g1, g2, sid(store, WANG1), sid(store, WANG2)}) == 4
    assert m1["method"] == "new"
    got, _ = mention(store, f"{f}:3", "borrower")
    assert got not in (sid(store, X1), sid(store, X2))


def test_branches_are_never_their_head_office(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    rows = [
        penalty("商丘市宏远机械有限公司睢县分公司", n=1),
        penalty("宏远机械有限公司睢县第二分公司", n=2),
        penalty("商丘市宏远机械有限公司", n=3),
        penalty("商丘市宏远机械有限公司虞城县分公司", n=4),  # a branch nobody registered
    ]
    loaded.load(write_csv(tmp_path / "admin_penalties_b.csv", PENALTY, rows, "gbk"))
    f = "admin_penalties:admin_penalties_b.csv"
    h, hb, hb2 = sid(store, H), sid(store, HB), sid(store, HB2)
    assert mention(store, f"{f}:1")[0] == hb
    assert mention(store, f"{f}:2")[0] == hb2
    assert mention(store, f"{f}:3")[0] == h
    assert mention(store, f"{f}:4")[0] not in (h, hb, hb2)
    # The registry's branch row links the branch to its head office.
    rels = store.relations_of([hb], ["branch_of"], direction="out")
    assert [r.target for r in rels] == [h]


def test_incremental_load_in_a_new_process_matches_existing_subjects(
    store: GraphStore, loaded: FileLoader, settings: Settings, tmp_path: Path
) -> None:
    before = store.counts()["subjects"]
    fresh = FileLoader(store, settings)  # a new process: the index is rebuilt from the store
    rows = [penalty("汇晨商贸有限公司", n=1), penalty("永城市恒达建材有限公司", uscc=B, n=2)]
    report = fresh.load(write_csv(tmp_path / "admin_penalties_i.csv", PENALTY, rows, "gbk"))
    assert report.subjects_created == 0
    assert store.counts()["subjects"] == before
    f = "admin_penalties:admin_penalties_i.csv"
    assert mention(store, f"{f}:1")[0] == sid(store, A)
    # And the first loader, whose index predates nothing new, still agrees.
    rows2 = [penalty("商丘市汇晨商贸有限公司", n=3)]
    loaded.load(write_csv(tmp_path / "admin_penalties_j.csv", PENALTY, rows2, "gbk"))
    assert mention(store, "admin_penalties:admin_penalties_j.csv:1")[0] == sid(store, A)
    # Reloading changes nothing, and subject ids are stable.
    ids = {s.id for s in store.iter_subjects()}
    fresh.load(tmp_path / "admin_penalties_i.csv")
    assert {s.id for s in store.iter_subjects()} == ids


def test_subject_card_explains_every_record(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    rows = [penalty("汇晨商贸有限公司", n=1), penalty("x", org=A[8:17], n=2)]
    loaded.load(write_csv(tmp_path / "admin_penalties_c.csv", PENALTY, rows, "gbk"))
    card = subject_card(store, get_subject(store, A_REG))
    methods = {r["id"]: r["match"]["method"] for r in card["records"]}
    assert methods["registry:registry_1.csv:1"] == "new"
    assert methods["admin_penalties:admin_penalties_c.csv:1"] == "exact_name"
    assert methods["admin_penalties:admin_penalties_c.csv:2"] == "bridge"
    by_name = next(r for r in card["records"] if r["match"]["method"] == "exact_name")
    assert by_name["role"] == "subject" and by_name["match"]["name"] == "汇晨商贸有限公司"
    names = {n["name"]: n["sources"] for n in card["names"]}
    assert "admin_penalties:admin_penalties_c.csv:1" in names["汇晨商贸有限公司"]


# -- each condition that decides a match --------------------------------------------
# 恒达 (B, 永城, 411481) with one character of its name wrong: 10 of 11 alike,
# just below the merge threshold; what else the record says decides.
HENGDA_TYPO = "永城市恒达建枋有限公司"


def test_a_close_name_merges_when_the_region_of_its_code_agrees_and_not_when_it_differs(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    rows = [
        # valid registration numbers nobody holds: they say where, not who;
        # 信阳 (4115) is not 商丘 (4114)
        penalty(HENGDA_TYPO, reg=make_reg_no("411526", "00000078"), n=1),
        penalty(HENGDA_TYPO, reg=make_reg_no("411481", "00000077"), n=2),
    ]
    loaded.load(write_csv(tmp_path / "admin_penalties_r.csv", PENALTY, rows))
    f = "admin_penalties:admin_penalties_r.csv"
    got, match = mention(store, f"{f}:1")
    assert got != sid(store, B) and match["method"] == "new"
    assert match["reason"] == "uncertain match"
    got, match = mention(store, f"{f}:2")
    assert got == sid(store, B) and match["method"] == "fuzzy"
    assert match["corroborated"] == ["region"]


def test_a_close_name_with_a_mistyped_code_merges_and_says_so(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    rows = [penalty(HENGDA_TYPO, uscc=mistype(B), n=1)]
    loaded.load(write_csv(tmp_path / "admin_penalties_t.csv", PENALTY, rows))
    b = sid(store, B)
    got, match = mention(store, "admin_penalties:admin_penalties_t.csv:1")
    assert got == b and match["method"] == "fuzzy"
    assert match["corroborated"] == ["region", "uscc_typo"]
    assert f"uscc:{mistype(B)}" not in store.get_subjects([b])[b].keys


def test_the_same_name_with_another_valid_code_is_another_enterprise(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    other_org = make_uscc("411400", "MA45HC99")[8:17]
    rows = [
        penalty("商丘市汇晨商贸有限责任公司", reg=make_reg_no("411400", "00000099"), n=1),
        penalty("商丘市汇晨商贸有限责任公司", org=other_org, n=2),
    ]
    loaded.load(write_csv(tmp_path / "admin_penalties_c.csv", PENALTY, rows))
    a = sid(store, A)
    f = "admin_penalties:admin_penalties_c.csv"
    got, match = mention(store, f"{f}:1")
    assert got != a and match["method"] == "new"
    # (the second may be the first one's enterprise: nothing says it is not)
    assert mention(store, f"{f}:2")[0] != a
    # two codes that differ are never a review pair either
    assert not [d for d in store.list_docs(REVIEW).values() if a in (d["a"], d["b"])]


def test_only_a_legal_representative_corroborates_as_one(
    store: GraphStore, loaded: FileLoader, tmp_path: Path
) -> None:
    officers = ["企业名称", "统一社会信用代码", "姓名", "证件号码", "职务", "任职日期"]
    loaded.load(write_csv(tmp_path / "officers_1.csv", officers, [
        ["永城市恒达建材有限公司", B, "赵六", make_id("411481", "19700303", "555"), "监事", "2019-01-01"],
    ]))  # fmt: skip
    rows = [penalty(HENGDA_TYPO, lr="赵六", n=1), penalty("永城市恒达键材有限公司", lr="王伟", n=2)]
    loaded.load(write_csv(tmp_path / "admin_penalties_l.csv", PENALTY, rows))
    f = "admin_penalties:admin_penalties_l.csv"
    # the supervisor is not the legal representative: the name disagrees
    got, match = mention(store, f"{f}:1")
    assert got != sid(store, B) and match["method"] == "new"
    got, match = mention(store, f"{f}:2")
    assert got == sid(store, B) and match["corroborated"] == ["legal_representative"]
