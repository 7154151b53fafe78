"""The resolver: one subject per real enterprise and person, every match explained.

Order of evidence, strongest first:

1. a reviewer's judgement for this (record, role);
2. a full key: USCC for organisations, the 18-digit ID number (15-digit
   numbers are converted first) for people;
3. a bridge: an organisation code or registration number already carried by
   one subject (a USCC carries its organisation code, positions 9–17);
4. for organisations with no usable key, a fuzzy name match inside blocks,
   with the region and legal representative as corroboration; thresholds
   decide merge, review or a new subject.

Hard rules, whatever the score: a branch is never its head office; two
different USCCs are never one subject; a person is never merged by name
alone (a masked ID number plus a name is a review candidate, not a key).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from graph.model import PERSON, Subject, subject_id_for_key, subject_id_for_record
from graph.resolve.compare import CandidateInfo, conflict, score
from graph.resolve.party import Party, Resolution
from graph.settings import Settings
from graph.store.base import GraphStore

ASSIGNMENTS = "assignments"  # (record id|role) -> subject id, from split judgements
REJECTIONS = "rejections"  # pair "a|b" -> judgement, never merge these
MAX_BLOCK = 400
TOP_CANDIDATES = 8


def pair_id(a: str, b: str) -> str:
    return "|".join(sorted((a, b)))


def _bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)] or [text]


@dataclass
class _OrgIndex:
    """Blocking index over organisations: core-name bigrams -> subject ids."""

    info: dict[str, CandidateInfo] = field(default_factory=dict)
    grams: dict[str, set[str]] = field(default_factory=dict)
    exact: dict[str, set[str]] = field(default_factory=dict)

    def add(self, info: CandidateInfo) -> None:
        old = self.info.get(info.id)
        if old is not None:
            info.norm_names = list(dict.fromkeys(old.norm_names + info.norm_names))
            info.former_norm_names = list(
                dict.fromkeys(old.former_norm_names + info.former_norm_names)
            )
            info.has_full_key = info.has_full_key or old.has_full_key
        self.info[info.id] = info
        for n in info.norm_names + info.former_norm_names:
            self.exact.setdefault(n, set()).add(info.id)
            for g in _bigrams(_core(n)):
                self.grams.setdefault(g, set()).add(info.id)

    def remove(self, sid: str) -> None:
        info = self.info.pop(sid, None)
        if info is None:
            return
        for n in info.norm_names + info.former_norm_names:
            self.exact.get(n, set()).discard(sid)
            for g in _bigrams(_core(n)):
                self.grams.get(g, set()).discard(sid)

    def candidates(self, norm: str) -> list[str]:
        exact = sorted(self.exact.get(norm, ()))
        grams = sorted(set(_bigrams(_core(norm))), key=lambda g: len(self.grams.get(g, ())))
        counts: Counter[str] = Counter()
        for g in grams[:6]:
            posting = self.grams.get(g, set())
            if len(posting) > MAX_BLOCK * 10:
                continue
            counts.update(posting)
        ranked = [sid for sid, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]
        return list(dict.fromkeys(exact + ranked))[:MAX_BLOCK]


def _core(norm: str) -> str:
    from graph.resolve.compare import core

    return core(norm)


class Resolver:
    """Resolves parties against the store; keeps its index between loads."""

    def __init__(self, store: GraphStore, settings: Settings) -> None:
        self.store = store
        self.merge_at = settings.match_merge_threshold
        self.review_at = settings.match_review_threshold
        self._index: _OrgIndex | None = None
        # keys and names of subjects created in the current batch, not yet stored
        self._pending_keys: dict[str, str] = {}
        self._assignments: dict[str, dict[str, Any]] = {}
        self._rejections: set[str] = set()

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
        former = [str(x) for x in subj.attrs.get("former_norm_names") or []]
        uscc = subj.key_values("uscc")
        return CandidateInfo(
            id=subj.id,
            type=subj.type,
            norm_names=[n for n in subj.norm_names if n not in former],
            former_norm_names=former,
            has_full_key=bool(uscc),
            region=uscc[0][2:8] if uscc else None,
            is_branch=bool(subj.attrs.get("is_branch")),
        )

    def invalidate(self) -> None:
        """Forget the index (after merges or splits done elsewhere)."""
        self._index = None

    def begin(self) -> None:
        """Start a batch: re-read judgements, forget pending keys."""
        self._pending_keys = {}
        self._assignments = self.store.list_docs(ASSIGNMENTS)
        self._rejections = set(self.store.list_docs(REJECTIONS))

    def note_subject(self, subj: Subject) -> None:
        """A subject the caller is about to store: make it findable in this batch."""
        for key in subj.keys:
            self._pending_keys.setdefault(key, subj.id)
        if subj.type != PERSON:
            self._org_index().add(self._info(subj))

    # -- resolution ----------------------------------------------------------
    def _lookup(self, keys: list[str]) -> dict[str, list[str]]:
        found = self.store.find_by_keys(keys)
        for key in keys:
            pending = self._pending_keys.get(key)
            if pending is not None:
                found[key] = sorted(set(found.get(key, [])) | {pending})
        return found

    def resolve(self, party: Party) -> Resolution:
        assigned = self._assignments.get(f"{party.record_id}|{party.role}")
        if assigned is not None:
            target = self.store.resolve_ids([assigned["subject_id"]]).get(
                assigned["subject_id"], assigned["subject_id"]
            )
            return Resolution(target, False, {"method": "judgement", **assigned})

        full = party.full_keys
        if full:
            key = full[0]
            found = self._lookup([key]).get(key, [])
            if found:
                return Resolution(found[0], False, {"method": "key", "key": key})
            # A subject known so far only by a bridge key (an organisation code
            # from a court record) gains its full key here.
            bridged = self._bridge(party, only_keyless=True)
            if bridged is not None:
                return bridged
            return Resolution(subject_id_for_key(key), True, {"method": "new", "key": key})

        bridged = self._bridge(party, only_keyless=False)
        if bridged is not None:
            return bridged

        new_id = subject_id_for_record(party.record_id, party.role)
        if party.type == PERSON:
            return self._person_without_key(party, new_id)
        return self._fuzzy(party, new_id)

    def _bridge(self, party: Party, only_keyless: bool) -> Resolution | None:
        keys = party.bridge_keys
        if not keys:
            return None
        found = self._lookup(keys)
        for key in keys:
            ids = found.get(key, [])
            if only_keyless:
                subjects = self.store.get_subjects(ids)
                ids = [i for i in ids if i in subjects and not subjects[i].key_values("uscc")]
                ids += [i for i in found.get(key, []) if i not in subjects]
            if len(ids) == 1:
                return Resolution(ids[0], False, {"method": "bridge", "key": key})
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
                return Resolution(new_id, True, {"method": "new", "ambiguous_bridge": key}, review)
        return None

    def _person_without_key(self, party: Party, new_id: str) -> Resolution:
        review: list[dict[str, Any]] = []
        masked = party.masked_ids
        if masked and party.name:
            review = self._masked_candidates(party, masked[0])
        match: dict[str, Any] = {"method": "new", "reason": "person without a full ID number"}
        return Resolution(new_id, True, match, review)

    def _masked_candidates(self, party: Party, masked: str) -> list[dict[str, Any]]:
        """People with the same name whose ID agrees with the visible digits."""
        out: list[dict[str, Any]] = []
        for subj in self.store.search(party.norm_name or "", PERSON, limit=200):
            if party.name not in subj.names:
                continue
            for full in subj.key_values("id_number"):
                if _masked_agrees(masked, full):
                    features = {"name": 1.0, "masked_id": 1.0}
                    if party.context.get("organisation_id"):
                        features["context"] = party.context["organisation_id"]
                    out.append({"candidate": subj.id, "score": 0.8, "features": features})
        return out

    def _fuzzy(self, party: Party, new_id: str) -> Resolution:
        if not party.norm_name:
            return Resolution(new_id, True, {"method": "new", "reason": "no name and no key"})
        index = self._org_index()
        cand_ids = index.candidates(party.norm_name)
        lr_names = self._legal_rep_names(cand_ids[: TOP_CANDIDATES * 4]) if cand_ids else {}
        scored: list[tuple[float, str, dict[str, Any]]] = []
        for cid in cand_ids:
            info = index.info.get(cid)
            if info is None:
                continue
            why = conflict(party.norm_name, party.is_branch, info)
            if why is not None or pair_id(new_id, cid) in self._rejections:
                continue
            info.legal_rep_names = lr_names.get(cid, [])
            s, features = score(
                party.norm_name,
                party.former_names,
                party.context.get("region"),
                party.context.get("legal_rep_name"),
                info,
            )
            if s >= self.review_at:
                scored.append((s, cid, features))
        scored.sort(key=lambda x: (-x[0], x[1]))
        if not scored:
            return Resolution(new_id, True, {"method": "new"})
        best_score, best_id, features = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        # A clear winner above the merge threshold merges; a near tie goes to review.
        if best_score >= self.merge_at and best_score - runner_up >= 0.02:
            match = {"method": "fuzzy", "score": round(best_score, 4), "features": features}
            return Resolution(best_id, False, match)
        review = [
            {"candidate": cid, "score": round(s, 4), "features": f}
            for s, cid, f in scored[:TOP_CANDIDATES]
        ]
        return Resolution(new_id, True, {"method": "new", "reason": "uncertain match"}, review)

    def _legal_rep_names(self, ids: list[str]) -> dict[str, list[str]]:
        rels = self.store.relations_of(ids, ["legal_representative"], direction="in")
        people = self.store.get_subjects({r.source for r in rels})
        out: dict[str, list[str]] = {}
        for r in rels:
            person = people.get(r.source)
            if person is not None:
                out.setdefault(r.target, []).extend(person.names)
        return out


def _masked_agrees(masked: str, full: str) -> bool:
    if len(masked) != len(full):
        return False
    return all(m == "*" or m == f for m, f in zip(masked.upper(), full.upper(), strict=True))
