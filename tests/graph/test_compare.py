# ruff: noqa: E501  (the cases are kept one per line, as a table)
"""The scorer and its vetoes (graph/resolve/compare.py): the numbers that decide
merge, review or a new subject. Each piece of evidence moves a pair's score by
the documented amount, says in the features whether it agreed (a feature at
1.0 corroborates a close name), and the hard rules veto pairs whatever the
score. Pure functions: no store."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.resolve.compare import (
    CandidateInfo,
    PartyEvidence,
    branch_qualifier,
    conflict,
    corroboration,
    name_similarity,
    numbers_in,
    score,
    score_bound,
    uscc_distance,
)

MERGE_AT = 0.92
U1 = "91411403MA45HC0100"


def cand(*names: str, **more: Any) -> CandidateInfo:
    return CandidateInfo(id="S-1", type="organisation", norm_names=list(names), **more)


# A typo in a name without a region prefix: 87.5% alike, and every piece of
# evidence on top of that.
NAME, TYPO = "汇晨商贸有限公司", "汇晨商茂有限公司"
BASE = {"name": 0.875, "former_name": 0.0, "branch": False}
# 25 characters after the prefix, one of them different: 96% alike, exactly the
# weight of a former name borne unchanged.
MOVED_CORE = "恒达新型环保节能墙体建筑装饰材料科技研究院有限公司"
MOVED_FROM, MOVED_TO = "永城市" + MOVED_CORE.replace("装饰", "装修"), "夏邑县" + MOVED_CORE
CASES: list[tuple[str, PartyEvidence, CandidateInfo, float, dict[str, Any]]] = [
    ("name alone", PartyEvidence(NAME), cand(TYPO), 0.875, {}),
    ("same region", PartyEvidence(NAME, region="411403"), cand(TYPO, region="411422"), 0.895,
     {"region": 1.0}),
    ("another region", PartyEvidence(NAME, region="411403"), cand(TYPO, region="411503"), 0.795,
     {"region": 0.0}),
    ("same legal representative by number",
     PartyEvidence(NAME, legal_rep_id="X1", legal_rep_name="王伟"),
     cand(TYPO, legal_rep_ids=["X1"], legal_rep_names=["李四"]), 0.935,
     {"legal_representative_id": 1.0}),
    ("another legal representative by number", PartyEvidence(NAME, legal_rep_id="X1"),
     cand(TYPO, legal_rep_ids=["X2"]), 0.775, {"legal_representative_id": 0.0}),
    ("same legal representative by name", PartyEvidence(NAME, legal_rep_name="王伟"),
     cand(TYPO, legal_rep_names=["王伟"]), 0.915, {"legal_representative": 1.0}),
    ("another legal representative by name", PartyEvidence(NAME, legal_rep_name="王伟"),
     cand(TYPO, legal_rep_names=["李四"]), 0.815, {"legal_representative": 0.0}),
    ("the record names no legal representative", PartyEvidence(NAME),
     cand(TYPO, legal_rep_names=["王伟"], legal_rep_ids=["X2"]), 0.875, {}),
    ("a mistyped USCC", PartyEvidence(NAME, suspect_uscc=U1), cand(TYPO, usccs=[U1]), 0.955,
     {"uscc_typo": 1.0}),
    ("everything agrees: never above 1",
     PartyEvidence(NAME, region="411403", legal_rep_id="X1", suspect_uscc=U1),
     cand(NAME, region="411403", legal_rep_ids=["X1"], usccs=[U1]), 1.0,
     {"name": 1.0, "region": 1.0, "legal_representative_id": 1.0, "uscc_typo": 1.0}),
    ("the same name in another region", PartyEvidence(NAME, region="411403"),
     cand(NAME, region="411503"), 0.92, {"name": 1.0, "region": 0.0}),
    ("the same name but its prefix, in another region",
     PartyEvidence("商丘市" + NAME, region="411403"), cand(NAME, region="411503"), 0.89,
     {"name": 0.97, "region": 0.0}),
    ("two county prefixes", PartyEvidence("永城市利民食品有限公司"), cand("夏邑县利民食品有限公司"),
     0.87, {"name": 0.97, "region_prefix": 0.0}),
    ("the candidate's best name decides the prefix", PartyEvidence("夏邑县利民食品有限公司"),
     cand("夏邑县利民食品有限公司", "永城市利民食品厂"), 1.0, {"name": 1.0}),
    ("another number", PartyEvidence("商丘市第一建筑工程有限公司"),
     cand("商丘市第二建筑工程有限公司"), 0.7731, {"name": 0.9231, "digits": 0.0}),
    ("the record's former name is the candidate's name",
     PartyEvidence("永城市恒达新材料有限公司", former_norm_names=["永城市恒达建材有限公司"]),
     cand("永城市恒达建材有限公司"), 0.96, {"name": 0.8696, "former_name": 0.96}),
    ("the candidate's former name is the record's name", PartyEvidence("永城市恒达建材有限公司"),
     cand("永城市恒达新材料有限公司", former_norm_names=["永城市恒达建材有限公司"]), 0.96,
     {"name": 0.8696, "former_name": 0.96}),
    ("a candidate without a name", PartyEvidence(NAME), cand(), 0.0, {"name": 0.0}),
    # The candidate dropped the record's name and now bears one in another county,
    # as close to it as the dropped one (after FORMER_FACTOR): the contradicting
    # prefix still counts, so a reviewer decides instead of a merge.
    ("a current name as close as the former one, in another county", PartyEvidence(MOVED_FROM),
     cand(MOVED_TO, former_norm_names=[MOVED_FROM]), 0.86,
     {"name": 0.96, "former_name": 0.96, "region_prefix": 0.0}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("party", "candidate", "expected", "features"),
    [pytest.param(p, c, s, f, id=label) for label, p, c, s, f in CASES],
)
def test_each_piece_of_evidence_moves_the_score_and_says_so(
    party: PartyEvidence, candidate: CandidateInfo, expected: float, features: dict[str, Any]
) -> None:
    got, feats = score(party, candidate)
    assert got == pytest.approx(expected, abs=1e-4)
    assert feats == {**BASE, **features}
    assert score_bound(party, candidate) >= got


def test_only_agreeing_evidence_corroborates_a_close_name() -> None:
    assert corroboration({"name": 0.9}, MERGE_AT) == []
    assert corroboration({"name": 0.9, "former_name": 0.0, "region": 0.0}, MERGE_AT) == []
    assert corroboration(
        {"region": 1.0, "legal_representative": 1.0, "legal_representative_id": 1.0,
         "uscc_typo": 1.0, "former_name": 0.96}, MERGE_AT,
    ) == ["region", "legal_representative", "legal_representative_id", "uscc_typo", "former_name"]  # fmt: skip
    # a former name corroborates from the merge threshold on
    assert corroboration({"former_name": MERGE_AT}, MERGE_AT) == ["former_name"]
    assert corroboration({"former_name": MERGE_AT - 0.01}, MERGE_AT) == []


def test_name_similarity_reads_the_name_without_its_region_prefix_too() -> None:
    assert name_similarity(NAME, NAME) == 1.0
    assert name_similarity("商丘市" + NAME, NAME) == 0.97
    # a typo, with a prefix on one side only: the names without it are compared
    assert name_similarity("商丘市" + TYPO, NAME) == 0.875
    assert name_similarity(NAME, "商丘市" + TYPO) == 0.875


def test_numbers_and_ordinals_in_names() -> None:
    assert numbers_in("商丘市第一建筑工程有限公司") == "#1"
    assert numbers_in("商丘市第十一建筑工程有限公司") == "#101"
    assert numbers_in("商丘市第二十一建筑工程有限公司") == "#2101"
    assert numbers_in("睢县3号楼第二分店") == "3#2"
    assert numbers_in("商丘市汇晨商贸有限公司") == ""


def test_one_typo_in_a_code_is_a_distance_of_one() -> None:
    assert uscc_distance(U1, U1) == 0
    assert uscc_distance(U1, U1[:12] + "7" + U1[13:]) == 1
    # two neighbours swapped: one typo
    swapped = U1[:10] + U1[11] + U1[10] + U1[12:]
    assert uscc_distance(U1, swapped) == uscc_distance(swapped, U1) == 1
    # two changes, neighbours or not, are two
    assert uscc_distance(U1, U1[:10] + "ZZ" + U1[12:]) == 2
    assert uscc_distance(U1, U1[:4] + "0" + U1[5:10] + "Q" + U1[11:]) == 2
    swapped_apart = U1[:10] + U1[12] + U1[11] + U1[10] + U1[13:]
    assert uscc_distance(U1, swapped_apart) == 2


def test_hard_rules_veto_a_pair_whatever_its_score() -> None:
    head = "商丘市宏远机械有限公司"
    # a branch is never another branch of the same head office ...
    branch = PartyEvidence(head + "睢县分公司", is_branch=True)
    assert conflict(branch, cand(head + "夏邑分公司", is_branch=True)) == "different_branch"
    # ... but may be the same branch with a typo in the head office's name
    assert conflict(branch, cand("商丘市宏远机诫有限公司睢县分公司", is_branch=True)) is None
    # head offices without a legal form, branches without 公司: the whole names differ
    assert branch_qualifier("宏远机械睢县分公司") == "宏远机械睢县分公司"
    assert branch_qualifier("商丘市宏远睢县分店") == "宏远睢县分店"
    assert branch_qualifier(head + "睢县分公司") == "睢县分公司"
    assert (
        conflict(PartyEvidence("宏远机械睢县分公司", is_branch=True),
                 cand("宏远机械夏邑分公司", is_branch=True))
        == "different_branch"
    )  # fmt: skip
    assert (
        conflict(
            PartyEvidence("宏远睢县分店", is_branch=True), cand("宏远夏邑分店", is_branch=True)
        )
        == "different_branch"
    )
    # a person is never matched by name
    assert (
        conflict(PartyEvidence("王伟"), CandidateInfo("P-1", "person", ["王伟"]))
        == "person_by_name"
    )
    # codes: a mistyped USCC is the candidate's only one typo away
    typo = PartyEvidence(NAME, suspect_uscc=U1[:12] + "7" + U1[13:])
    assert conflict(typo, cand(NAME, usccs=[U1])) is None
    assert conflict(typo, cand(NAME, usccs=[U1[:10] + "ZZ" + U1[12:]])) == "different_uscc"
    # two typos away is already another code: not one subject, not a review pair
    assert conflict(typo, cand(NAME, usccs=[U1[:4] + "0" + U1[5:]])) == "different_uscc"
    assert conflict(typo, cand(NAME)) is None
    assert conflict(PartyEvidence(NAME, reg_nos=["R1"]), cand(NAME, reg_nos=["R2"])) == (
        "different_reg_no"
    )
    assert conflict(PartyEvidence(NAME, reg_nos=["R1"]), cand(NAME, reg_nos=["R2", "R1"])) is None
    assert conflict(PartyEvidence(NAME, org_codes=["C1"]), cand(NAME, org_codes=["C2"])) == (
        "different_org_code"
    )
    assert conflict(PartyEvidence(NAME, reg_nos=["R1"]), cand(NAME, org_codes=["C2"])) is None


# -- the bound that lets the resolver skip candidates ------------------------------

PREFIXES = ["", "商丘市", "永城市", "夏邑县"]
CORES = ["汇晨商贸有限公司", "汇晨商茂有限公司", "第一建筑工程有限公司", "第二建筑工程有限公司",
         "宏远机械有限公司睢县分公司", "利民食品有限公司", "3号利民食品厂"]  # fmt: skip
names = st.builds(lambda p, c: p + c, st.sampled_from(PREFIXES), st.sampled_from(CORES))
regions = st.sampled_from([None, "411403", "411422", "411503"])
people = st.sampled_from(["王伟", "李四"])
codes = st.sampled_from([U1, U1[:12] + "7" + U1[13:], U1[:10] + "ZZ" + U1[12:]])


@settings(max_examples=300, deadline=None)
@given(
    party=st.builds(
        PartyEvidence, norm_name=names, former_norm_names=st.lists(names, max_size=1),
        region=regions, legal_rep_name=st.none() | people, legal_rep_id=st.none() | people,
        suspect_uscc=st.none() | codes,
    ),
    candidate=st.builds(
        CandidateInfo, id=st.just("S-1"), type=st.just("organisation"),
        norm_names=st.lists(names, max_size=2), former_norm_names=st.lists(names, max_size=1),
        region=regions, usccs=st.lists(codes, max_size=1),
        legal_rep_names=st.lists(people, max_size=2), legal_rep_ids=st.lists(people, max_size=1),
    ),
)  # fmt: skip
def test_the_bound_is_never_below_the_score(party: PartyEvidence, candidate: CandidateInfo) -> None:
    """The resolver skips a candidate whose bound is below the review threshold:
    a bound below the score would lose a merge or a review pair. (A score of 0,
    clipped from below, reaches no threshold; its bound may be lower.)"""
    got = score(party, candidate)[0]
    assert score_bound(party, candidate) >= got or got == 0.0


# What the bound may add to the score: only the candidate's legal representatives
# are unknown when it is taken, so only an agreeing one's points.
TIGHT: list[tuple[str, PartyEvidence, CandidateInfo, float]] = [
    ("nothing but the name", PartyEvidence(NAME), cand(TYPO), 0.0),
    ("the record's region only", PartyEvidence(NAME, region="411403"), cand(TYPO), 0.0),
    ("the candidate's region only", PartyEvidence(NAME), cand(TYPO, region="411403"), 0.0),
    ("one region", PartyEvidence(NAME, region="411403"), cand(TYPO, region="411422"), 0.0),
    ("another number", PartyEvidence("商丘市第一建筑工程有限公司"),
     cand("商丘市第二建筑工程有限公司"), 0.0),
    ("a mistyped USCC", PartyEvidence(NAME, suspect_uscc=U1), cand(TYPO, usccs=[U1]), 0.0),
    ("a legal representative's number", PartyEvidence(NAME, legal_rep_id="X1"), cand(TYPO), 0.06),
    ("a legal representative's name", PartyEvidence(NAME, legal_rep_name="王伟"), cand(TYPO), 0.04),
    ("both", PartyEvidence(NAME, legal_rep_id="X1", legal_rep_name="王伟"), cand(TYPO), 0.06),
]  # fmt: skip


@pytest.mark.parametrize(
    ("party", "candidate", "unknown"),
    [pytest.param(p, c, u, id=label) for label, p, c, u in TIGHT],
)
def test_the_bound_adds_only_what_the_unknown_legal_representatives_could(
    party: PartyEvidence, candidate: CandidateInfo, unknown: float
) -> None:
    """The bound exists so that the resolver skips the hundreds of candidates
    blocking hands it for a common name; a bound that counts evidence the pair
    does not have (a region on one side only, an agreement that already failed)
    skips none of them and every load scores them all."""
    assert score_bound(party, candidate) == pytest.approx(score(party, candidate)[0] + unknown)
