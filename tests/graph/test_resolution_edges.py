"""Resolution at its edges, through feed files on both stores: the scores that
land exactly on a threshold (a merge at 0.92, a review candidate at 0.75, a
tie of namesakes), what a merge or a new subject says about itself (its score,
runner-up, key and reason), a county prefix that makes a name another
enterprise's, a renamed enterprise found by its former name, a poor candidate
that blocking ranks first, the index kept between loads, a record read again,
and the reviewer's view of masked ID numbers (whether a candidate represents
the record's organisation).

Each test pins a decision of graph/resolve/resolver.py that mutation testing
found unchecked: who is merged, who is a review candidate, and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from graph.docs import REVIEW
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders.pipeline import FileLoader
from tests.builders import (
    HB2,
    PENALTY,
    REGISTRY,
    X1,
    X2,
    ZHANG,
    A,
    B,
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

OFFICERS = ["企业名称", "统一社会信用代码", "姓名", "证件号码", "职务", "任职日期"]
# A 注册号 nobody holds says only where the enterprise registered: 商丘 (4114)
# agrees with every enterprise of the little city, 信阳 (4115) with none.
SHANGQIU_REG = make_reg_no("411400", "00000055")
XINYANG_REG = make_reg_no("411526", "00000056")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def load_registry(
    store: GraphStore, settings: Settings, tmp_path: Path, extra: Sequence[list[str]] = ()
) -> FileLoader:
    """The resolution tests' little city, plus the enterprises a test adds."""
    loader = FileLoader(store, settings)
    loader.load(write_csv(tmp_path / "registry_1.csv", REGISTRY, registry_rows() + list(extra)))
    return loader


def registered(name: str, uscc: str, former: str = "") -> list[str]:
    return [name, uscc, "", "", "", "", former, "", ""]


def reviews_of(store: GraphStore, subject: str) -> dict[str, tuple[float, dict[str, Any]]]:
    """The review pairs a subject is in: other subject -> (score, features)."""
    out: dict[str, tuple[float, dict[str, Any]]] = {}
    for d in store.list_docs(REVIEW).values():
        if subject in (d["a"], d["b"]):
            other = d["b"] if d["a"] == subject else d["a"]
            out[other] = (d["score"], d["features"])
    return out


# -- who is merged ----------------------------------------------------------------


def test_a_name_with_another_countys_prefix_is_never_the_same_name(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """永城市恒达建材 is the only 恒达建材 registered; 夏邑县恒达建材 is another
    county's enterprise of that name, so the exact-name rule does not attach
    it (rules.md): the close name is a review candidate, marked as a
    contradicting prefix."""
    loader = load_registry(store, settings, tmp_path)
    loader.load(
        write_csv(
            tmp_path / "admin_penalties_p.csv", PENALTY, [penalty("夏邑县恒达建材有限公司", n=1)]
        )
    )
    got, match = mention(store, "admin_penalties:admin_penalties_p.csv:1")
    b = sid(store, B)
    assert got != b
    assert match == {"method": "new", "reason": "uncertain match"}
    score, features = reviews_of(store, got)[b]
    assert score == 0.87 and features["region_prefix"] == 0.0


def test_a_close_name_merges_at_exactly_the_merge_threshold_and_shows_its_runner_up(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """天和贸 for the registered 天河贸: 9 of 10 characters alike (0.90) and
    the region of its 注册号 agrees (+0.02): 0.92 is the merge threshold, and
    it merges. 天河商贸 is a weaker candidate more than 0.02 behind, so the
    winner is clear; the match keeps both scores. 天和贸易发展投资集团 shares
    more of the name's rare bigrams, so blocking ranks it first, but it could
    not reach even a review: it must not hide the others."""
    loader = load_registry(store, settings, tmp_path, [
        registered("商丘市天河贸有限公司", make_uscc("411400", "MA55TH01")),
        registered("商丘市天河商贸有限公司", make_uscc("411400", "MA56TH02")),
        registered("商丘市天和贸易发展投资集团股份有限公司", make_uscc("411400", "MA57TH03")),
    ])  # fmt: skip
    rows = [penalty("商丘市天和贸有限公司", reg=SHANGQIU_REG, n=1)]
    loader.load(write_csv(tmp_path / "admin_penalties_m.csv", PENALTY, rows))
    got, match = mention(store, "admin_penalties:admin_penalties_m.csv:1")
    assert got == sid(store, make_uscc("411400", "MA55TH01"))
    assert match == {
        "method": "fuzzy",
        "score": 0.92,
        "features": {"name": 0.9, "former_name": 0.0, "region": 1.0, "branch": False},
        "corroborated": ["region"],
        "runner_up": 0.8771,
    }


def test_a_renamed_enterprise_is_found_by_the_former_name_its_row_gives(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """A registry row without codes for 新汇晨科技, 曾用名 汇晨商贸: the new
    name is not like the old one at all, the former name is the registered
    汇晨's, and a former name corroborates (rules.md)."""
    loader = load_registry(store, settings, tmp_path)
    loader.load(write_csv(tmp_path / "registry_2.csv", REGISTRY, [
        registered("商丘市新汇晨科技有限公司", "", former="商丘市汇晨商贸有限责任公司"),
    ]))  # fmt: skip
    got, match = mention(store, "registry:registry_2.csv:1")
    assert got == sid(store, A)
    assert match["method"] == "fuzzy" and match["corroborated"] == ["former_name"]
    assert match["features"]["former_name"] == 0.96


def test_the_index_kept_between_loads_keeps_what_it_knew_of_a_subject(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """A penalty names 恒达 by its former name: the loader notes the subject
    again with that name only. Its registered name and region must stay in the
    index, so that the next file's close name (one character wrong) is still
    corroborated by the region of its 注册号 (永城, 411481) and merges, as it
    does in a new process (test_resolution.py)."""
    loader = load_registry(store, settings, tmp_path)
    loader.load(
        write_csv(
            tmp_path / "admin_penalties_1.csv", PENALTY, [penalty("永城市恒达水泥有限公司", n=1)]
        )
    )
    assert mention(store, "admin_penalties:admin_penalties_1.csv:1")[0] == sid(store, B)
    rows = [penalty("永城市恒达建枋有限公司", reg=make_reg_no("411481", "00000077"), n=2)]
    loader.load(write_csv(tmp_path / "admin_penalties_2.csv", PENALTY, rows))
    got, match = mention(store, "admin_penalties:admin_penalties_2.csv:1")
    assert got == sid(store, B)
    assert match["method"] == "fuzzy" and match["corroborated"] == ["region"]


def test_a_subject_noted_again_keeps_its_registration_number_against_another(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """汇晨 is registered with a 注册号. A penalty names it by its short name, so
    the loader notes it again without that number; the next penalty, a close
    name carrying another valid 注册号, is another enterprise (two registration
    numbers are never one subject), in this process as in a new one."""
    loader = load_registry(store, settings, tmp_path)
    rows = [penalty("汇晨商贸有限公司", n=1)]
    loader.load(write_csv(tmp_path / "admin_penalties_1.csv", PENALTY, rows))
    assert mention(store, "admin_penalties:admin_penalties_1.csv:1")[0] == sid(store, A)
    rows = [penalty("商丘市汇晨商茂有限责任公司", reg=SHANGQIU_REG, n=2)]
    loader.load(write_csv(tmp_path / "admin_penalties_2.csv", PENALTY, rows))
    got, match = mention(store, "admin_penalties:admin_penalties_2.csv:1")
    assert got != sid(store, A)
    assert match["method"] == "new"


# -- who is a review candidate, and why ----------------------------------------------


def test_namesakes_without_a_prefix_tie_and_a_reviewer_decides(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """利民食品 without a county is as like 永城市利民食品 as 夏邑县利民食品 and
    柘城县利民食品 (0.97 each; the last one's former name, less alike, is kept
    as a feature but does not change its score): a tie never merges, and all
    three are candidates."""
    third = make_uscc("411424", "MA64LM08")
    loader = load_registry(store, settings, tmp_path, [
        registered("柘城县利民食品有限公司", third, former="柘城县利民粮油有限公司"),
    ])  # fmt: skip
    loader.load(
        write_csv(tmp_path / "admin_penalties_t.csv", PENALTY, [penalty("利民食品有限公司", n=1)])
    )
    got, match = mention(store, "admin_penalties:admin_penalties_t.csv:1")
    # above the merge threshold on the name alone: a name-only match
    assert match == {"method": "new", "reason": "name_only"}
    reviews = reviews_of(store, got)
    assert {k: v[0] for k, v in reviews.items()} == {
        sid(store, X1): 0.97,
        sid(store, X2): 0.97,
        sid(store, third): 0.97,
    }
    assert reviews[sid(store, third)][1]["former_name"] > 0.0


def test_a_corroborated_tie_is_still_a_tie(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """The region of the record's 注册号 (商丘) agrees with both 利民食品: 0.99
    each, corroborated, and still no clear winner, so a reviewer decides."""
    loader = load_registry(store, settings, tmp_path)
    rows = [penalty("利民食品有限公司", reg=SHANGQIU_REG, n=1)]
    loader.load(write_csv(tmp_path / "admin_penalties_t.csv", PENALTY, rows))
    got, match = mention(store, "admin_penalties:admin_penalties_t.csv:1")
    assert got not in (sid(store, X1), sid(store, X2))
    assert match == {"method": "new", "reason": "uncertain match"}
    reviews = reviews_of(store, got)
    assert {k: v[0] for k, v in reviews.items()} == {sid(store, X1): 0.99, sid(store, X2): 0.99}
    assert all(v[1]["region"] == 1.0 for v in reviews.values())


def test_a_name_only_match_at_exactly_the_merge_threshold_says_so(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """Two enterprises registered under one name (a deregistered one's name
    taken again), and a record of that name whose 注册号 is from 信阳: each is
    1.00 - 0.08 = 0.92 on the name alone, the reason a pending listing shows is
    name_only."""
    first, second = make_uscc("411400", "MA58JH01"), make_uscc("411403", "MA59JH02")
    loader = load_registry(store, settings, tmp_path, [
        registered("商丘市金穗面粉有限公司", first),
        registered("商丘市金穗面粉有限公司", second),
    ])  # fmt: skip
    rows = [penalty("商丘市金穗面粉有限公司", reg=XINYANG_REG, n=1)]
    loader.load(write_csv(tmp_path / "admin_penalties_j.csv", PENALTY, rows))
    got, match = mention(store, "admin_penalties:admin_penalties_j.csv:1")
    assert match == {"method": "new", "reason": "name_only"}
    reviews = reviews_of(store, got)
    assert {k: v[0] for k, v in reviews.items()} == {
        sid(store, first): 0.92,
        sid(store, second): 0.92,
    }


def test_a_score_of_exactly_the_review_threshold_is_a_candidate(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """天和粮油店 against the registered 地河粮油店: 6 of 8 characters alike,
    0.75, the review threshold itself."""
    other = make_uscc("411400", "MA60DH01")
    loader = load_registry(store, settings, tmp_path, [registered("商丘市地河粮油店", other)])
    loader.load(
        write_csv(tmp_path / "admin_penalties_r.csv", PENALTY, [penalty("商丘市天和粮油店", n=1)])
    )
    got, match = mention(store, "admin_penalties:admin_penalties_r.csv:1")
    assert match == {"method": "new", "reason": "uncertain match"}
    assert {k: v[0] for k, v in reviews_of(store, got).items()} == {sid(store, other): 0.75}


# -- what a new subject says about itself ---------------------------------------------


def test_a_new_subject_says_why_nothing_identified_it(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """What the mention keeps when no subject is found: the mistyped code it was
    made for (so the load does not count it as unresolved), and the reason."""
    loader = load_registry(store, settings, tmp_path)
    nobody = make_uscc("411400", "MA61NB01")
    report = loader.load(write_csv(tmp_path / "admin_penalties_n.csv", PENALTY, [
        # a name that normalises to nothing and an organisation code nobody has
        penalty("（）", org=nobody[8:17], n=1),
        # a mistyped code, a name nobody has
        penalty("睢县无名五金有限公司", uscc=mistype(HB2), n=2),
        # a person with no ID number
        penalty("赵钱孙", cat="自然人", n=3),
    ]))  # fmt: skip
    f = "admin_penalties:admin_penalties_n.csv"
    assert mention(store, f"{f}:1")[1] == {"method": "new", "reason": "no name and no key"}
    assert mention(store, f"{f}:2")[1] == {"method": "new", "key": f"uscc:{mistype(HB2)}"}
    assert mention(store, f"{f}:3")[1] == {
        "method": "new",
        "reason": "person without a full ID number",
    }
    assert report.unresolved == 2
    # a branch's head office named only by a mistyped code
    branch = make_uscc("411424", "MA62HY09")
    head = mistype(make_uscc("411400", "MA63HK01"))
    loader.load(write_csv(tmp_path / "registry_2.csv", REGISTRY, [
        ["商丘市宏远机械有限公司柘城县分公司", branch, "", "", "", "", "", "", head],
    ]))  # fmt: skip
    got = mention(store, "registry:registry_2.csv:1", "head_office")[1]
    assert got == {"method": "new", "key": f"uscc:{head}", "reason": "no name and no key"}


def test_a_record_read_again_is_resolved_again_not_redirected_to_itself(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """A corrected row (same file, same row) of a name nobody has: its subject
    exists from the first reading, which is no reviewer's merge."""
    loader = load_registry(store, settings, tmp_path)
    path = tmp_path / "admin_penalties_a.csv"
    loader.load(write_csv(path, PENALTY, [penalty("商丘市无名小吃店", n=1)]))
    first, match = mention(store, "admin_penalties:admin_penalties_a.csv:1")
    assert match == {"method": "new"}
    loader.load(write_csv(path, PENALTY, [penalty("商丘市无名小吃店", n=2)]))
    assert mention(store, "admin_penalties:admin_penalties_a.csv:1") == (first, {"method": "new"})


# -- masked ID numbers ------------------------------------------------------------------


def test_a_masked_candidate_represents_the_records_organisation_only_as_its_legal_representative(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """Officers rows naming people by masked numbers. 张三 is 汇晨's legal
    representative: a stronger candidate (0.88), and the reviewer is told why.
    周七 is only a supervisor of 汇晨: the visible digits and the name (0.80),
    nothing more."""
    zhou = make_id("411403", "19770404", "777")
    loader = load_registry(store, settings, tmp_path)
    loader.load(write_csv(tmp_path / "officers_1.csv", OFFICERS, [
        ["商丘市汇晨商贸有限责任公司", A, "周七", zhou, "监事", "2019-01-01"],
    ]))  # fmt: skip

    def masked(number: str) -> str:
        return number[:10] + "****" + number[14:]

    loader.load(write_csv(tmp_path / "officers_2.csv", OFFICERS, [
        ["商丘市汇晨商贸有限责任公司", A, "张三", masked(ZHANG), "董事", "2024-01-01"],
        ["商丘市汇晨商贸有限责任公司", A, "周七", masked(zhou), "董事", "2024-01-01"],
    ]))  # fmt: skip
    f = "officers:officers_2.csv"
    for row, person, score, features in [
        (
            1,
            ZHANG,
            0.88,
            {"name": 1.0, "masked_id": 1.0, "legal_representative_of_record_organisation": 1.0},
        ),
        (2, zhou, 0.8, {"name": 1.0, "masked_id": 1.0}),
    ]:
        got, match = mention(store, f"{f}:{row}", "officer")
        assert got != sid(store, person) and match["method"] == "new"
        assert reviews_of(store, got) == {sid(store, person): (score, features)}


def test_a_masked_number_of_a_common_name_finds_its_one_person_among_many_namesakes(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """Sixty officers called 王伟 (the commonest name there is), each with his
    own ID number: a masked number whose visible digits agree with one of them
    makes that one a candidate, whichever of the sixty he is."""
    loader = load_registry(store, settings, tmp_path)
    numbers = [make_id("411403", f"19{60 + i // 12:02d}0101", f"{100 + i:03d}") for i in range(60)]
    loader.load(write_csv(tmp_path / "officers_1.csv", OFFICERS, [
        ["商丘市汇晨商贸有限责任公司", A, "王伟", n, "监事", "2019-01-01"] for n in numbers
    ]))  # fmt: skip
    # the one the store lists last: a search that stopped early would miss him
    last = max(numbers, key=lambda n: sid(store, n))
    masked = last[:10] + "****" + last[14:]
    loader.load(write_csv(tmp_path / "officers_2.csv", OFFICERS, [
        ["永城市恒达建材有限公司", B, "王伟", masked, "董事", "2024-01-01"],
    ]))  # fmt: skip
    got, _ = mention(store, "officers:officers_2.csv:1", "officer")
    assert set(reviews_of(store, got)) == {sid(store, last)}


def test_a_masked_number_is_compared_with_namesakes_beyond_a_full_first_search(
    store: GraphStore, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name search finds names containing the text, so 王伟东, 王伟华… fill a
    first search for 王伟: the wide one that follows still finds the one 王伟
    whose number agrees (a check would otherwise say clear). Past the widest
    search the new subject's match says some namesake may not have been
    compared."""
    from graph.resolve import resolver

    monkeypatch.setattr(resolver, "MASKED_SEARCH", (1, 12))
    loader = load_registry(store, settings, tmp_path)
    others = [make_id("411403", "19700101", f"{300 + i:03d}") for i in range(8)]
    wang = make_id("411403", "19800101", "400")
    names = [f"王伟{c}" for c in "东华明强军峰平刚"] + ["王伟"]
    rows = [
        ["商丘市汇晨商贸有限责任公司", A, name, n, "监事", "2019-01-01"]
        for name, n in zip(names, [*others, wang], strict=True)
    ]
    loader.load(write_csv(tmp_path / "officers_1.csv", OFFICERS, rows))
    # the search lists by id: the first hit is another's name, not his
    assert sid(store, wang) != min(sid(store, n) for n in [*others, wang])
    masked = wang[:10] + "****" + wang[14:]
    loader.load(write_csv(tmp_path / "officers_2.csv", OFFICERS, [
        ["永城市恒达建材有限公司", B, "王伟", masked, "董事", "2024-01-01"],
    ]))  # fmt: skip
    got, match = mention(store, "officers:officers_2.csv:1", "officer")
    assert set(reviews_of(store, got)) == {sid(store, wang)}
    assert "namesakes_beyond_search" not in match
    # the widest search full: what was seen is still compared, and the match says so
    monkeypatch.setattr(resolver, "MASKED_SEARCH", (1, 6))
    loader.load(write_csv(tmp_path / "officers_3.csv", OFFICERS, [
        ["夏邑县嘉禾贸易有限公司", X2, "王伟", masked, "董事", "2024-01-01"],
    ]))  # fmt: skip
    _, match = mention(store, "officers:officers_3.csv:1", "officer")
    assert match["namesakes_beyond_search"] is True


def test_in_a_big_register_blocking_keeps_the_candidates_most_like_the_name(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """450 more enterprises whose names share only 有限公司 with 恒达建枋: more
    than the 400 candidates the scorer is given. Those sharing the name's
    rarest bigrams (恒达, 达建) come first, so 恒达 is not cut and the close
    name, corroborated by the region of its 注册号 (永城), merges."""
    others = [
        registered(f"商丘市测试{i}号有限公司", make_uscc("411403", f"MB{i:06d}"))
        for i in range(450)
    ]
    loader = load_registry(store, settings, tmp_path, others)
    rows = [penalty("永城市恒达建枋有限公司", reg=make_reg_no("411481", "00000077"), n=1)]
    loader.load(write_csv(tmp_path / "admin_penalties_big.csv", PENALTY, rows))
    got, match = mention(store, "admin_penalties:admin_penalties_big.csv:1")
    assert got == sid(store, B)
    assert match["method"] == "fuzzy" and match["corroborated"] == ["region"]
