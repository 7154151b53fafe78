"""Named comparisons between a party and a candidate subject (splink-style).

Each comparison returns a feature in [0, 1] (or None when it cannot tell);
``score`` combines them into one number and keeps the features so a reviewer
sees why. Hard rules (``conflict``) veto a match whatever the score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from loaders.clean import is_branch_name, strip_region_prefix


@dataclass
class CandidateInfo:
    """What the scorer knows about an existing subject."""

    id: str
    type: str
    norm_names: list[str]
    former_norm_names: list[str] = field(default_factory=list)
    has_full_key: bool = False
    region: str | None = None
    legal_rep_names: list[str] = field(default_factory=list)
    is_branch: bool = False


def core(norm: str) -> str:
    return strip_region_prefix(norm)


def name_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    ca, cb = core(a), core(b)
    if ca == cb and ca:
        # Same name once the region prefix is dropped (商丘市X有限公司 = X有限公司).
        return 0.97
    return max(fuzz.ratio(a, b), fuzz.ratio(ca, cb)) / 100.0


def conflict(party_norm: str, party_is_branch: bool, cand: CandidateInfo) -> str | None:
    """A reason the two can never be one subject, or None."""
    if party_is_branch != cand.is_branch:
        return "branch_vs_head_office"
    if cand.type == "person":
        return "person_by_name"
    return None


def score(
    party_norm: str,
    party_former: list[str],
    party_region: str | None,
    party_lr_name: str | None,
    cand: CandidateInfo,
) -> tuple[float, dict[str, Any]]:
    names = cand.norm_names or [""]
    name = max(name_similarity(party_norm, n) for n in names)
    former = 0.0
    if cand.former_norm_names:
        former = max(name_similarity(party_norm, n) for n in cand.former_norm_names)
    if party_former:
        former = max([former] + [name_similarity(f, n) for f in party_former for n in names])
    features: dict[str, Any] = {"name": round(name, 4), "former_name": round(former, 4)}
    total = max(name, former)
    if party_region and cand.region:
        same = party_region[:4] == cand.region[:4]
        features["region"] = 1.0 if same else 0.0
        total += 0.02 if same else -0.08
    if party_lr_name and cand.legal_rep_names:
        same_lr = party_lr_name in cand.legal_rep_names
        features["legal_representative"] = 1.0 if same_lr else 0.0
        total += 0.04 if same_lr else -0.06
    # Digits in a name (第一/第二分店, 1号) separate otherwise equal names.
    da = "".join(ch for ch in party_norm if ch.isdigit())
    db = {"".join(ch for ch in n if ch.isdigit()) for n in names}
    if da not in db:
        features["digits"] = 0.0
        total -= 0.15
    features["branch"] = is_branch_name(party_norm)
    return max(0.0, min(1.0, total)), features
