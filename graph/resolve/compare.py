"""Named comparisons between a party and a candidate subject (splink-style).

Each comparison looks at one kind of evidence and yields a feature kept with
the match, so a reviewer (and ``GET /subjects/{key}``) sees why two names were
taken for one subject. ``score`` combines them into one number in [0, 1]; the
resolver's thresholds then decide merge, review or a new subject. Hard rules
(``conflict``) veto a pair whatever its score.

The combination is additive on top of the best name similarity rather than a
trained Fellegi–Sunter model: the sample city has no labelled pairs to fit
m/u-probabilities on, and fixed, documented adjustments are easier for a
department to audit than fitted weights.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from graph.names import strip_region_prefix

# Evidence adjustments, in score points. Agreement of a legal representative's
# ID number is near-conclusive, a name less so (王伟 is common); a different
# region or representative is a strong hint of a namesake enterprise.
REGION_AGREE, REGION_DISAGREE = 0.02, -0.08
LR_NAME_AGREE, LR_NAME_DISAGREE = 0.04, -0.06
LR_ID_AGREE, LR_ID_DISAGREE = 0.06, -0.10
USCC_NEAR = 0.08
DIGITS_DISAGREE = -0.15
PREFIX_DISAGREE = -0.10
# A former name is slightly weaker than the current one: when an enterprise
# takes over a name another one dropped, the current holder must win.
FORMER_FACTOR = 0.96


@dataclass
class CandidateInfo:
    """What the scorer knows about an existing subject."""

    id: str
    type: str
    norm_names: list[str]
    former_norm_names: list[str] = field(default_factory=list)
    region: str | None = None
    usccs: list[str] = field(default_factory=list)
    legal_rep_names: list[str] = field(default_factory=list)
    legal_rep_ids: list[str] = field(default_factory=list)
    reg_nos: list[str] = field(default_factory=list)
    org_codes: list[str] = field(default_factory=list)
    is_branch: bool = False


@dataclass
class PartyEvidence:
    """What a record says about the party being resolved, besides its keys."""

    norm_name: str
    former_norm_names: list[str] = field(default_factory=list)
    region: str | None = None
    legal_rep_name: str | None = None
    legal_rep_id: str | None = None
    # a USCC whose check characters fail: probably a typo of the real one
    suspect_uscc: str | None = None
    # valid older keys the record carries (a bridge that found nobody)
    reg_nos: list[str] = field(default_factory=list)
    org_codes: list[str] = field(default_factory=list)
    is_branch: bool = False


def core(norm: str) -> str:
    return strip_region_prefix(norm)


def region_prefix(norm: str) -> str:
    return norm[: len(norm) - len(core(norm))]


def name_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    ca, cb = core(a), core(b)
    if ca == cb and ca:
        # Same name once the region prefix is dropped (商丘市X有限公司 = X有限公司);
        # prefixes that contradict each other are penalised by ``prefix_conflict``.
        return 0.97
    return max(fuzz.ratio(a, b), fuzz.ratio(ca, cb)) / 100.0


def prefix_conflict(a: str, b: str) -> bool:
    """Both names carry a region prefix and neither contains the other:
    永城市X有限公司 and 夏邑县X有限公司 are two enterprises."""
    pa, pb = region_prefix(a), region_prefix(b)
    return bool(pa and pb and pa not in pb and pb not in pa)


_NUMERALS = {ch: str(i) for i, ch in enumerate("零一二三四五六七八九", start=0)}
_ORDINAL = re.compile(r"第([零一二三四五六七八九十]+)")


def numbers_in(norm: str) -> str:
    """Digits and ordinals (第二分店, 3号): they separate otherwise equal names."""
    text = _ORDINAL.sub(lambda m: "#" + "".join(_NUMERALS.get(c, "10") for c in m.group(1)), norm)
    return "".join(ch for ch in text if ch.isdigit() or ch == "#")


_HEAD_SUFFIX = re.compile(r"公司|企业|集团|合作社")


def branch_qualifier(norm: str) -> str:
    """What follows the head office's name in a branch name (睢县第二分公司):
    two branches of one head office differ only there."""
    m = _HEAD_SUFFIX.search(norm)
    if m and m.end() < len(norm):
        return norm[m.end() :]
    return core(norm)


def uscc_distance(a: str, b: str) -> int:
    """Positions that differ, counting one swap of neighbours as one typo."""
    diff = [i for i in range(min(len(a), len(b))) if a[i] != b[i]]
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]:
        return 1
    return len(diff) + abs(len(a) - len(b))


def conflict(party: PartyEvidence, cand: CandidateInfo) -> str | None:
    """A reason the two can never be one subject, or None."""
    if cand.type == "person":
        return "person_by_name"
    if party.is_branch != cand.is_branch:
        return "branch_vs_head_office"
    if party.is_branch and cand.is_branch:
        mine = branch_qualifier(party.norm_name)
        if all(branch_qualifier(n) != mine for n in cand.norm_names):
            return "different_branch"
    # Two different lawful codes are two subjects; a code one typo away from
    # the candidate's is that code mistyped.
    if (
        party.suspect_uscc
        and cand.usccs
        and min(uscc_distance(party.suspect_uscc, u) for u in cand.usccs) > 1
    ):
        return "different_uscc"
    return different_codes(party.reg_nos, party.org_codes, cand)


def different_codes(reg_nos: list[str], org_codes: list[str], cand: CandidateInfo) -> str | None:
    """Two valid keys of one kind that differ are two subjects (睢县远水纺织 with
    one registration number is not 睢县泰水纺织 with another): not a review
    pair, nor a bridge to follow."""
    if reg_nos and cand.reg_nos and not set(reg_nos) & set(cand.reg_nos):
        return "different_reg_no"
    if org_codes and cand.org_codes and not set(org_codes) & set(cand.org_codes):
        return "different_org_code"
    return None


# Features that corroborate a close name: the record and the subject agree on
# something besides the name (rules.md: region, legal representative, former name).
_AGREEING = ("region", "legal_representative", "legal_representative_id", "uscc_typo")


def corroboration(features: dict[str, Any], merge_at: float) -> list[str]:
    """The features of a scored pair that corroborate the name, in a fixed order."""
    out = [f for f in _AGREEING if features.get(f) == 1.0]
    if float(features.get("former_name") or 0.0) >= merge_at:
        out.append("former_name")
    return out


@dataclass(frozen=True)
class Level:
    """One outcome of a comparison: the feature value kept with the match and
    the score points it adds (negative: evidence against)."""

    value: float
    points: float


class Comparison:
    """One kind of evidence besides the name, as an ordered list of levels.

    ``level`` picks the level a pair reaches (None: nothing to compare);
    ``best`` is the highest level the party's own evidence could reach before
    the candidate's legal representatives are known, so that the resolver can
    skip candidates that could not reach a threshold (``score_bound``). Both
    read the same levels, so the bound can never fall below the score.
    """

    feature: str
    levels: tuple[Level, ...] = ()

    def level(self, party: PartyEvidence, cand: CandidateInfo) -> Level | None:
        raise NotImplementedError

    def best(self, party: PartyEvidence, cand: CandidateInfo) -> float:
        raise NotImplementedError


AGREE, DISAGREE = 1.0, 0.0


class RegionComparison(Comparison):
    feature = "region"
    levels = (Level(AGREE, REGION_AGREE), Level(DISAGREE, REGION_DISAGREE))

    def level(self, party: PartyEvidence, cand: CandidateInfo) -> Level | None:
        if not (party.region and cand.region):
            return None
        return self.levels[0] if party.region[:4] == cand.region[:4] else self.levels[1]

    def best(self, party: PartyEvidence, cand: CandidateInfo) -> float:
        return self.levels[0].points if party.region and cand.region else 0.0


class LegalRepIdComparison(Comparison):
    feature = "legal_representative_id"
    levels = (Level(AGREE, LR_ID_AGREE), Level(DISAGREE, LR_ID_DISAGREE))

    def level(self, party: PartyEvidence, cand: CandidateInfo) -> Level | None:
        if not (party.legal_rep_id and cand.legal_rep_ids):
            return None
        return self.levels[0] if party.legal_rep_id in cand.legal_rep_ids else self.levels[1]

    def best(self, party: PartyEvidence, cand: CandidateInfo) -> float:
        return self.levels[0].points if party.legal_rep_id else 0.0


class LegalRepNameComparison(Comparison):
    """Only where the numbers cannot be compared: a name is weaker (王伟)."""

    feature = "legal_representative"
    levels = (Level(AGREE, LR_NAME_AGREE), Level(DISAGREE, LR_NAME_DISAGREE))

    def level(self, party: PartyEvidence, cand: CandidateInfo) -> Level | None:
        if party.legal_rep_id and cand.legal_rep_ids:
            return None
        if not (party.legal_rep_name and cand.legal_rep_names):
            return None
        return self.levels[0] if party.legal_rep_name in cand.legal_rep_names else self.levels[1]

    def best(self, party: PartyEvidence, cand: CandidateInfo) -> float:
        return self.levels[0].points if party.legal_rep_name else 0.0


class UsccTypoComparison(Comparison):
    feature = "uscc_typo"
    levels = (Level(AGREE, USCC_NEAR),)

    def level(self, party: PartyEvidence, cand: CandidateInfo) -> Level | None:
        return self.levels[0] if party.suspect_uscc and cand.usccs else None

    def best(self, party: PartyEvidence, cand: CandidateInfo) -> float:
        level = self.level(party, cand)
        return level.points if level else 0.0


class DigitsComparison(Comparison):
    """Digits and ordinals separate otherwise equal names (第二分店, 3号)."""

    feature = "digits"
    levels = (Level(DISAGREE, DIGITS_DISAGREE),)

    def level(self, party: PartyEvidence, cand: CandidateInfo) -> Level | None:
        mine = numbers_in(party.norm_name)
        names = (cand.norm_names or [""]) + cand.former_norm_names
        return self.levels[0] if all(numbers_in(n) != mine for n in names) else None

    def best(self, party: PartyEvidence, cand: CandidateInfo) -> float:
        level = self.level(party, cand)
        return level.points if level else 0.0


# The evidence the score reads besides the name, in the order features are kept.
# The two legal-representative comparisons are one piece of evidence: the
# bound takes the better of them.
COMPARISONS: tuple[Comparison, ...] = (
    RegionComparison(),
    LegalRepIdComparison(),
    LegalRepNameComparison(),
    UsccTypoComparison(),
    DigitsComparison(),
)
_ONE_OF = frozenset({"legal_representative_id", "legal_representative"})


def score_bound(party: PartyEvidence, cand: CandidateInfo) -> float:
    """An upper bound of ``score(party, cand)[0]`` from the names and the
    evidence at hand, before the candidate's legal representatives are known.

    Blocking hands the scorer hundreds of candidates that merely share a rare
    bigram; those that cannot reach a threshold even if every remaining piece
    of evidence agreed are skipped without the full comparison.
    """
    names = cand.norm_names or [""]
    best = max(
        name_similarity(p, n)
        for p in (party.norm_name, *party.former_norm_names)
        for n in names + cand.former_norm_names
    )
    one_of = max(c.best(party, cand) for c in COMPARISONS if c.feature in _ONE_OF)
    rest = sum(c.best(party, cand) for c in COMPARISONS if c.feature not in _ONE_OF)
    # A hair above the exact sum, so float rounding can never cut a candidate
    # whose score lands exactly on a threshold.
    return min(1.0, best + one_of + rest + 1e-9)


def score(party: PartyEvidence, cand: CandidateInfo) -> tuple[float, dict[str, Any]]:
    names = cand.norm_names or [""]
    best_name = max(names, key=lambda n: name_similarity(party.norm_name, n))
    name = name_similarity(party.norm_name, best_name)
    # the names compared through a former name: the record's name against the
    # candidate's former ones, the record's former names against the candidate's
    pairs = [(party.norm_name, n) for n in cand.former_norm_names]
    pairs += [(f, n) for f in party.former_norm_names for n in names]
    former, former_pair = 0.0, ("", "")
    for a, b in pairs:
        similarity = name_similarity(a, b)
        if similarity > former:
            former, former_pair = similarity, (a, b)
    former *= FORMER_FACTOR
    features: dict[str, Any] = {"name": round(name, 4), "former_name": round(former, 4)}
    total = max(name, former)
    # 永城市X and 夏邑县X are two enterprises whichever names of theirs were
    # compared: the prefixes are read on the pair that gave the score
    decisive = (party.norm_name, best_name) if name >= former else former_pair
    if prefix_conflict(*decisive):
        features["region_prefix"] = 0.0
        total += PREFIX_DISAGREE
    for comparison in COMPARISONS:
        level = comparison.level(party, cand)
        if level is not None:
            features[comparison.feature] = level.value
            total += level.points
    features["branch"] = party.is_branch
    return max(0.0, min(1.0, total)), features
