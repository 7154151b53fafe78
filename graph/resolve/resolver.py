"""The resolver: one subject per real enterprise and person, every match explained.

Order of evidence, strongest first:

1. a reviewer's judgement for this (record, role), or a record subject a
   reviewer merged into another (its id redirects);
2. a full key: USCC for organisations, the 18-digit ID number (15-digit
   numbers are converted first) for people;
3. a bridge: an organisation code or registration number already carried by
   one subject (a USCC carries its organisation code, positions 9–17; registry
   rows carrying both a 注册号 and a USCC put both on the subject);
4. for organisations with no usable key: the exact normalised full name when
   exactly one subject holds it; else a fuzzy name match inside blocks, which
   merges only when the former names, region, legal representative or a
   mistyped USCC corroborate it and the score clears the merge threshold. A
   close name alone is a review candidate, never a merge (rules.md: a
   name-only match punishes no one until confirmed).

Hard rules, whatever the score or code: a branch is never its head office,
even when a record carries the head office's code; two different USCCs (or
two different valid registration numbers or organisation codes) are never one
subject, and not a review pair either; a person is never merged by name alone
(a masked ID number plus a name is a review candidate, not a key).

The resolver keeps its blocking index between loads (incremental loads match
against everything loaded before); a new process rebuilds it from the store,
and a judgement made elsewhere (a new row of the judgements table) makes it
rebuild.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields
from typing import Any

from graph.docs import pair_id
from graph.evidence.identity import EXACT_NAME, NAME_ONLY
from graph.identifiers import masked_matches
from graph.model import PERSON, Subject, subject_id_for_key, subject_id_for_record
from graph.resolve.compare import (
    CandidateInfo,
    PartyEvidence,
    conflict,
    core,
    corroboration,
    different_codes,
    prefix_conflict,
    score,
    score_bound,
    uscc_distance,
)
from graph.resolve.party import Party, Resolution
from graph.resolve.table import Assignment, JudgementTable
from graph.settings import Settings
from graph.store.base import GraphStore

MAX_BLOCK = 400
TOP_CANDIDATES = 8
# The searches for a masked ID number's namesakes: most names fit the first;
# a common one (王伟, whose text 王伟东 and 王伟华 contain too) the second.
MASKED_SEARCH = (200, 20_000)
# A merge needs a clear winner: a runner-up this close means a reviewer decides.
MIN_MARGIN = 0.02


def _bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)] or [text]


@dataclass
class _OrgIndex:
    """Blocking index over organisations: core-name bigrams -> subject ids."""

    info: dict[str, CandidateInfo] = field(default_factory=dict)
    grams: dict[str, set[str]] = field(default_factory=dict)
    exact: dict[str, set[str]] = field(default_factory=dict)
    # the name without its region prefix (商丘市X有限公司 and X有限公司)
    cores: dict[str, set[str]] = field(default_factory=dict)

    def add(self, info: CandidateInfo) -> None:
        old = self.info.get(info.id)
        if old is not None:
            # A subject noted again (named by another record of the batch) keeps
            # everything known of it: every field, so that a key the new note
            # lacks (a registration number) still vetoes a pair (``conflict``).
            for f in fields(CandidateInfo):
                was, now = getattr(old, f.name), getattr(info, f.name)
                if isinstance(was, list):
                    setattr(info, f.name, list(dict.fromkeys(was + now)))
                elif isinstance(was, bool):
                    setattr(info, f.name, was or now)
                elif now is None:
                    setattr(info, f.name, was)
        self.info[info.id] = info
        # Names indexed for the earlier version are already in their postings.
        seen = set(old.norm_names + old.former_norm_names) if old is not None else set()
        for n in info.norm_names + info.former_norm_names:
            if n in seen:
                continue
            seen.add(n)
            self.exact.setdefault(n, set()).add(info.id)
            self.cores.setdefault(core(n), set()).add(info.id)
            for g in _bigrams(core(n)):
                self.grams.setdefault(g, set()).add(info.id)

    def same_name(self, norm: str) -> list[str]:
        """Subjects bearing this normalised name, a region prefix present or absent
        on either side (identifiers.md) but never two different prefixes."""
        # The holders of ``norm`` itself need no look-up of their own: ``add``
        # files every name under its core too, and a name never contradicts
        # its own prefix.
        out: set[str] = set()
        base = core(norm)
        for sid in self.cores.get(base, ()):
            info = self.info.get(sid)
            if info is not None and any(
                core(n) == base and not prefix_conflict(norm, n)
                for n in info.norm_names + info.former_norm_names
            ):
                out.add(sid)
        return sorted(out)

    def candidates(self, norms: list[str]) -> list[str]:
        exact: list[str] = []
        counts: Counter[str] = Counter()
        for norm in norms:
            exact += sorted(self.exact.get(norm, ()))
            # The rarest bigrams select best; the commonest (有限, 公司) say nothing.
            grams = sorted(set(_bigrams(core(norm))), key=lambda g: len(self.grams.get(g, ())))
            for g in grams[:6]:
                posting = self.grams.get(g, set())
                if len(posting) > MAX_BLOCK * 10:
                    continue
                counts.update(posting)
        ranked = [sid for sid, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]
        return list(dict.fromkeys(exact + ranked))[:MAX_BLOCK]


class Resolver:
    """Resolves parties against the store; keeps its index between loads."""

    def __init__(self, store: GraphStore, settings: Settings) -> None:
        self.store = store
        self.merge_at = settings.match_merge_threshold
        self.review_at = settings.match_review_threshold
        self._index: _OrgIndex | None = None
        self._generation: tuple[int, str] | None = None
        # keys of subjects created in the current batch, not yet stored
        self._pending_keys: dict[str, str] = {}
        self._pending_ids: set[str] = set()
        self._assignments: dict[str, Assignment] = {}
        self._rejections: frozenset[str] = frozenset()
        # Keys looked up for the whole batch at once (``prefetch``): key ->
        # subject ids in the store, [] when absent. The store does not change
        # during a batch (it is written once, at the end).
        self._prefetched: dict[str, list[str]] = {}
        # What the index last saw of each subject noted in this batch, so that
        # noting an unchanged subject again costs nothing.
        self._noted: dict[str, tuple[Any, ...]] = {}

    # -- index ---------------------------------------------------------------
    def _org_index(self) -> _OrgIndex:
        if self._index is None:
            index = _OrgIndex()
            for subj in self.store.iter_subjects("organisation"):
                index.add(self._info(subj))
            self._index = index
        return self._index

    @staticmethod
    def _info(subj: Subject) -> CandidateInfo:
        # a 曾用名 cell of dashes normalised to "" in stores loaded before the
        # loader dropped such names: "" is no name, and would equal any other ""
        former = [str(x) for x in subj.attrs.get("former_norm_names") or [] if x]
        uscc = subj.key_values("uscc")
        return CandidateInfo(
            id=subj.id,
            type=subj.type,
            norm_names=[n for n in subj.norm_names if n not in former],
            former_norm_names=former,
            region=uscc[0][2:8] if uscc else subj.attrs.get("region"),
            usccs=list(uscc),
            reg_nos=subj.key_values("reg_no"),
            org_codes=subj.key_values("org_code"),
            is_branch=bool(subj.attrs.get("is_branch")),
        )

    def invalidate(self) -> None:
        """Forget the index (after merges or splits done elsewhere)."""
        self._index = None

    def begin(self) -> None:
        """Start a batch: re-read judgements, forget pending keys."""
        self._pending_keys = {}
        self._pending_ids = set()
        self._prefetched = {}
        self._noted = {}
        table = JudgementTable.read(self.store)
        if table.generation != self._generation:
            # A judgement (here or in another process) merged or split subjects.
            self._generation = table.generation
            self._index = None
        self._assignments = table.assignments()
        self._rejections = table.rejections()

    def note_subject(self, subj: Subject) -> None:
        """A subject the caller is about to store: make it findable in this batch."""
        attrs = subj.attrs
        # Everything the pending keys and the index take from the subject.
        seen = (
            subj.type,
            tuple(subj.keys),
            tuple(subj.norm_names),
            tuple(attrs.get("former_norm_names") or ()),
            attrs.get("region"),
            bool(attrs.get("is_branch")),
        )
        if self._noted.get(subj.id) == seen:
            return
        self._noted[subj.id] = seen
        self._pending_ids.add(subj.id)
        for key in subj.keys:
            self._pending_keys.setdefault(key, subj.id)
        if subj.type != PERSON:
            self._org_index().add(self._info(subj))

    def prefetch(self, keys: Iterable[str]) -> None:
        """Look up, in one store call, keys the batch's parties may ask for.

        Against a server each look-up is a round trip; one per file instead of
        one per row. Keys not prefetched are still looked up one call at a time.
        """
        wanted = [k for k in dict.fromkeys(keys) if k not in self._prefetched]
        if not wanted:
            return
        found = self.store.find_by_keys(wanted)
        for key in wanted:
            self._prefetched[key] = found.get(key, [])

    # -- resolution ----------------------------------------------------------
    def _lookup(self, keys: list[str]) -> dict[str, list[str]]:
        missing = [k for k in keys if k not in self._prefetched]
        found = self.store.find_by_keys(missing) if missing else {}
        for key in keys:
            ids = self._prefetched.get(key)
            if ids:
                found[key] = list(ids)
        for key in keys:
            pending = self._pending_keys.get(key)
            if pending is not None:
                found[key] = sorted(set(found.get(key, [])) | {pending})
        return found

    def _redirected(self, sid: str) -> str | None:
        """The survivor a reviewer merged ``sid`` into, if any."""
        if sid in self._pending_ids:
            return None
        target = self.store.resolve_ids([sid]).get(sid)
        return target if target is not None and target != sid else None

    def resolve(self, party: Party) -> Resolution:
        assigned = self._assignments.get(f"{party.record_id}|{party.role}")
        if assigned is not None:
            sid = assigned.subject_id
            target = self.store.resolve_ids([sid]).get(sid, sid)
            match = {"method": "judgement", **assigned.match()}
            return Resolution.existing(target, match)

        trusted = party.trusted_full_keys
        if trusted:
            key = trusted[0]
            found = self._lookup([key]).get(key, [])
            if found and not self._branch_mismatch(party, found[0]):
                return Resolution.existing(found[0], {"method": "key", "key": key})
            if found:
                # A branch's row with its head office's code (or the other way
                # round): the code says which enterprise, the name that this
                # party is not it. The name decides; the code stays off it.
                own = subject_id_for_record(party.record_id, party.role)
                return self._by_name(party, own, [key])
            # A subject known so far only by a bridge key (an organisation code
            # from a court record) gains its full key here.
            bridged = self._bridge(party, only_keyless=True)
            if bridged is not None:
                return bridged
            return Resolution.new(subject_id_for_key(key), {"method": "new", "key": key})

        suspect = party.suspect_usccs
        if suspect:
            key = f"uscc:{suspect[0]}"
            found = self._lookup([key]).get(key, [])
            if found:
                match = {"method": "key", "key": key, "warning": "uscc_check_mismatch"}
                return Resolution.existing(found[0], match)

        bridged = self._bridge(party, only_keyless=False)
        if bridged is not None:
            return bridged

        new_id = (
            subject_id_for_key(f"uscc:{suspect[0]}")
            if suspect
            else subject_id_for_record(party.record_id, party.role)
        )
        survivor = self._redirected(new_id)
        if survivor is not None:
            return Resolution.existing(survivor, {"method": "judgement", "merged": new_id})
        if party.type == PERSON:
            return self._person_without_key(party, new_id)
        return self._by_name(party, new_id, [])

    def _branch_mismatch(self, party: Party, sid: str) -> bool:
        """A branch is never its head office (nor a head office its branch)."""
        if party.type == PERSON:
            return False
        info = self._org_index().info.get(sid)
        return info is not None and info.is_branch != party.is_branch

    def _codes_contradict(self, party: Party, sid: str) -> bool:
        """The row's other codes name another enterprise than the one a code
        bridged to: two valid registration numbers (or organisation codes) that
        differ are two subjects, whichever code led there."""
        info = self._org_index().info.get(sid)
        if info is None:
            return False
        reg_nos = [i.value for i in party.identifiers if i.kind == "reg_no"]
        org_codes = [i.value for i in party.identifiers if i.kind == "org_code"]
        return different_codes(reg_nos, org_codes, info) is not None

    def _bridge(self, party: Party, only_keyless: bool) -> Resolution | None:
        keys = party.bridge_keys
        if not keys:
            return None
        found = self._lookup(keys)
        suspect = party.suspect_usccs
        withheld = [f"uscc:{u}" for u in suspect]
        for key in keys:
            ids = [
                i
                for i in found.get(key, [])
                if not self._branch_mismatch(party, i) and not self._codes_contradict(party, i)
            ]
            if not ids:
                continue
            if only_keyless or suspect:
                subjects = self.store.get_subjects(ids)
                keep: list[str] = []
                for i in ids:
                    subj = subjects.get(i)
                    usccs = subj.key_values("uscc") if subj is not None else []
                    if not usccs:
                        keep.append(i)
                    elif (
                        suspect
                        and not only_keyless
                        and min(uscc_distance(suspect[0], u) for u in usccs) <= 1
                    ):
                        # The bridge holds when the record's bad USCC is a typo
                        # of the subject's; otherwise the codes contradict.
                        keep.append(i)
                ids = keep
            if len(ids) == 1:
                bridged = {"method": "bridge", "key": key}
                return Resolution.existing(ids[0], bridged, withheld_keys=withheld)
            if len(ids) > 1:
                # One old code, several subjects: a reviewer decides.
                new_id = (
                    subject_id_for_key(party.full_keys[0])
                    if party.full_keys
                    else subject_id_for_record(party.record_id, party.role)
                )
                review = [
                    {"candidate": i, "score": 0.9, "features": {"bridge_key": key}} for i in ids
                ]
                match = {"method": "new", "ambiguous_bridge": key}
                if party.full_keys:
                    match["key"] = party.full_keys[0]
                return Resolution.new(new_id, match, review=review)
        return None

    def _person_without_key(self, party: Party, new_id: str) -> Resolution:
        review: list[dict[str, Any]] = []
        masked = party.masked_ids
        match: dict[str, Any] = {"method": "new", "reason": "person without a full ID number"}
        if masked:
            match["masked"] = masked[0]
        if masked and party.name:
            people, full = self._namesakes(party)
            review = self._masked_candidates(party, masked[0], people)
            if full:
                # some bearer of the name may not have been compared: say so
                match["namesakes_beyond_search"] = True
        return Resolution.new(new_id, match, review=review)

    def _namesakes(self, party: Party) -> tuple[list[Subject], bool]:
        """People bearing the party's name, and whether some may be missing.

        The search finds names *containing* the text (王伟 in 王伟东), so a common
        name fills a small search with others' names: a wide search follows a
        full one, as ``graph.lookup`` does for names checked."""
        hits: list[Subject] = []
        for limit in MASKED_SEARCH:
            hits = self.store.search(party.norm_name or "", PERSON, limit=limit)
            if len(hits) < limit:
                break
        full = len(hits) >= MASKED_SEARCH[-1]
        return [s for s in hits if party.name in s.names], full

    def _masked_candidates(
        self, party: Party, masked: str, people: list[Subject]
    ) -> list[dict[str, Any]]:
        """People with the same name whose ID agrees with the visible digits:
        for a reviewer only, since the visible digits fit thousands of people."""
        out: list[dict[str, Any]] = []
        context = party.context.get("organisation_ids") or []
        for subj in people:
            for full in subj.key_values("id_number"):
                if not masked_matches(masked, full):
                    continue
                features: dict[str, Any] = {"name": 1.0, "masked_id": 1.0}
                s = 0.8
                if context:
                    # The same record names an organisation this person represents
                    # or represented (past or present, as _legal_reps reads it).
                    rels = self.store.relations_of(
                        [subj.id], ["legal_representative"], direction="out"
                    )
                    if any(r.target in context for r in rels):
                        features["legal_representative_of_record_organisation"] = 1.0
                        s = 0.88
                out.append({"candidate": subj.id, "score": s, "features": features})
        return out

    def _evidence(self, party: Party, withheld: AbstractSet[str] = frozenset()) -> PartyEvidence:
        suspect = party.suspect_usccs
        kept = [i for i in party.identifiers if i.key not in withheld]
        return PartyEvidence(
            norm_name=party.norm_name or "",
            former_norm_names=list(party.former_names),
            region=party.context.get("region"),
            legal_rep_name=party.context.get("legal_rep_name"),
            legal_rep_id=party.context.get("legal_rep_id"),
            suspect_uscc=suspect[0] if suspect else None,
            reg_nos=[i.value for i in kept if i.kind == "reg_no"],
            org_codes=[i.value for i in kept if i.kind == "org_code"],
            is_branch=party.is_branch,
        )

    def _by_name(self, party: Party, new_id: str, foreign: list[str]) -> Resolution:
        """``foreign``: keys on the row that name another enterprise (a head
        office's code on its branch's row): no subject matched or made here
        carries them, or the next row with that code would find the branch."""
        suspect = party.suspect_usccs
        new_match: dict[str, Any] = {"method": "new"}
        if suspect:
            new_match["key"] = f"uscc:{suspect[0]}"
        if not party.norm_name:
            nameless = {**new_match, "reason": "no name and no key"}
            return Resolution.new(new_id, nameless, withheld_keys=foreign)
        index = self._org_index()
        # A code that names the head office on a branch's row (or the other way
        # round) says nothing about which subject this is.
        foreign = foreign + [
            k
            for k, ids in self._lookup(party.bridge_keys).items()
            if any(self._branch_mismatch(party, i) for i in ids)
        ]
        # an existing subject keeps its own USCC, not the record's mistyped one;
        # a new subject is known by the mistyped code (its id says so)
        withheld = foreign + [f"uscc:{u}" for u in suspect]
        evidence = self._evidence(party, set(withheld))

        def admissible(cid: str) -> bool:
            info = index.info.get(cid)
            return (
                cid != new_id
                and info is not None
                and conflict(evidence, info) is None
                and pair_id(new_id, cid) not in self._rejections
            )

        exact = [c for c in index.same_name(party.norm_name) if admissible(c)]
        if len(exact) == 1:
            # the exact normalised full name, and nobody else bears it
            exact_match = {"method": EXACT_NAME, "name": party.norm_name}
            return Resolution.existing(exact[0], exact_match, withheld_keys=withheld)
        cand_ids = [
            c for c in index.candidates([party.norm_name, *party.former_names]) if admissible(c)
        ]
        lr = self._legal_reps(cand_ids[: TOP_CANDIDATES * 4]) if cand_ids else {}
        scored: list[tuple[float, str, dict[str, Any]]] = []
        for cid in cand_ids:
            info = index.info[cid]
            if score_bound(evidence, info) < self.review_at:
                # Could not even be a review candidate: the result is the same
                # as scoring it and dropping it below.
                continue
            names, ids = lr.get(cid, ([], []))
            info.legal_rep_names, info.legal_rep_ids = names, ids
            s, features = score(evidence, info)
            if s >= self.review_at:
                scored.append((s, cid, features))
        scored.sort(key=lambda x: (-x[0], x[1]))
        if not scored:
            return Resolution.new(new_id, new_match, withheld_keys=foreign)
        best_score, best_id, features = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        backing = corroboration(features, self.merge_at)
        # A clear, corroborated winner above the merge threshold merges; a near
        # tie, or a close name with nothing else agreeing, goes to review.
        if best_score >= self.merge_at and best_score - runner_up >= MIN_MARGIN and backing:
            match: dict[str, Any] = {
                "method": "fuzzy",
                "score": round(best_score, 4),
                "features": features,
                "corroborated": backing,
            }
            if runner_up:
                match["runner_up"] = round(runner_up, 4)
            return Resolution.existing(best_id, match, withheld_keys=withheld)
        review = [
            {"candidate": cid, "score": round(s, 4), "features": f}
            for s, cid, f in scored[:TOP_CANDIDATES]
        ]
        reason = NAME_ONLY if best_score >= self.merge_at and not backing else "uncertain match"
        return Resolution.new(
            new_id, {**new_match, "reason": reason}, review=review, withheld_keys=foreign
        )

    def _legal_reps(self, ids: list[str]) -> dict[str, tuple[list[str], list[str]]]:
        """Names and ID numbers of everyone recorded as each subject's legal
        representative, past or present (a tax record names the one in office
        when the violation happened)."""
        rels = self.store.relations_of(ids, ["legal_representative"], direction="in")
        people = self.store.get_subjects({r.source for r in rels})
        out: dict[str, tuple[list[str], list[str]]] = {}
        for r in rels:
            person = people.get(r.source)
            if person is not None:
                names, keys = out.setdefault(r.target, ([], []))
                names.extend(person.names)
                keys.extend(person.key_values("id_number"))
        return out
