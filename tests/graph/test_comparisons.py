"""The resolver's comparisons (graph/resolve/compare.py): score and upper bound
come from one list of declared levels, so the bound the resolver prunes with
never falls below a score the pair could reach."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from graph.resolve.compare import COMPARISONS, CandidateInfo, PartyEvidence, score, score_bound

NAMES = ["商丘市华通建材有限公司", "华通建材有限公司", "永城市华通建材有限公司", "华通建才有限公司",
         "睢县华通第二分公司", "商丘市华通建材3号店"]  # fmt: skip
maybe = st.one_of(st.none(), st.sampled_from(["411403", "411422", "411481"]))
person = st.one_of(st.none(), st.sampled_from(["王伟", "李强"]))
number = st.one_of(st.none(), st.sampled_from(["411403198001011231", "411422197505051112"]))


@settings(deadline=None)  # the first call loads the name converter
@given(
    name=st.sampled_from(NAMES),
    former=st.lists(st.sampled_from(NAMES), max_size=1),
    cand_names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=2),
    cand_former=st.lists(st.sampled_from(NAMES), max_size=1),
    region=maybe,
    cand_region=maybe,
    lr_name=person,
    lr_id=number,
    cand_lr_names=st.lists(st.sampled_from(["王伟", "李强"]), max_size=2),
    cand_lr_ids=st.lists(st.sampled_from(["411403198001011231", "411422197505051112"]), max_size=2),
    suspect=st.one_of(st.none(), st.just("91411403MA45HC01XY")),
    usccs=st.lists(st.just("91411403MA45HC01X1"), max_size=1),
)
def test_the_bound_is_never_below_the_score(
    name: str, former: list[str], cand_names: list[str], cand_former: list[str],
    region: str | None, cand_region: str | None, lr_name: str | None, lr_id: str | None,
    cand_lr_names: list[str], cand_lr_ids: list[str], suspect: str | None, usccs: list[str],
) -> None:  # fmt: skip
    party = PartyEvidence(name, former, region, lr_name, lr_id, suspect)
    cand = CandidateInfo("S-1", "organisation", cand_names, cand_former, region=cand_region,
                         usccs=usccs)  # fmt: skip
    # the bound is taken before the candidate's legal representatives are known
    bound = score_bound(party, cand)
    cand.legal_rep_names, cand.legal_rep_ids = cand_lr_names, cand_lr_ids
    assert score(party, cand)[0] <= bound


def test_every_comparison_keeps_its_feature_with_the_match() -> None:
    party = PartyEvidence("商丘市华通建材有限公司", [], "411403", "王伟", "411403198001011231",
                          "91411403MA45HC01XY")  # fmt: skip
    cand = CandidateInfo("S-1", "organisation", ["华通建材有限公司"], [], region="410105",
                         usccs=["91411403MA45HC01X1"], legal_rep_names=["李强"],
                         legal_rep_ids=["411422197505051112"])  # fmt: skip
    _, features = score(party, cand)
    # the name comparison is written only when the numbers cannot be compared
    shown = {c.feature for c in COMPARISONS} - {"legal_representative", "digits"}
    assert shown <= set(features)
    assert features["region"] == 0.0 and features["legal_representative_id"] == 0.0
    assert features["uscc_typo"] == 1.0
