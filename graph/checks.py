"""A credit check (信用核查) of subjects for a scenario: clear, restricted or review.

Each input (a key or a name) is resolved to subjects first, strictly: a key
finds its subject, a name only the subjects whose normalised name is exactly
that name; an input that names several subjects, a name too common to be sure
of, or a name nobody has is ``review``, and a well-formed key nobody has is
``clear`` with ``found: false`` (nothing about it on the platform).

For a resolved subject, the scenario (rules.yaml ``scenarios``) says which
measures restrict and which only flag. A listing that may be about the subject
but waits for a reviewer (a masked ID number or a close name that agrees with
it, graph/evidence/identity.py) makes the answer ``review`` at least: never
``clear``, and never a restriction until a reviewer confirms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.evidence.identity import pending_identity
from graph.lookup import candidate_keys, resolve_names
from graph.model import Listing, Subject
from graph.propagate.engine import Measure, measures_many
from graph.rules import Scenario
from graph.store.base import GraphStore
from graph.views import pending_view, subject_summary

CLEAR = "clear"
RESTRICTED = "restricted"
REVIEW = "review"
RESULTS = (CLEAR, RESTRICTED, REVIEW)

# How an input was matched (``matched_by``).
BY_KEY = "key"
BY_NAME = "name"
UNKNOWN_KEY = "unknown_key"
NOT_FOUND = "not_found"
NAME_TOO_COMMON = "name_too_common"


@dataclass
class CheckOutcome:
    result: str
    reasons: list[str]
    restrictions: list[Measure] = field(default_factory=list)
    flags: list[Measure] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)


def decide(
    scenario: Scenario,
    measures: list[Measure],
    pending: Sequence[tuple[dict[str, Any], Listing]] = (),
) -> CheckOutcome:
    restrictions = [
        m
        for m in measures
        if m.measure in scenario.restrict or (scenario.restrict_punitive and m.punitive)
    ]
    flags = [m for m in measures if m not in restrictions and m.measure in scenario.review]
    waiting = [pending_view(item, lst) for item, lst in pending]
    reasons = sorted({f"{m.rule}:{m.measure}" for m in restrictions + flags})
    reasons += sorted({f"pending_identity:{w['listing']['feed']}" for w in waiting})
    if restrictions:
        result = RESTRICTED
    elif flags or waiting:
        result = REVIEW
    else:
        result = CLEAR
    return CheckOutcome(result, reasons, restrictions, flags, waiting)


# -- inputs to subjects -------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """The subjects an input names, and how they were found (``matched_by``)."""

    ids: tuple[str, ...]
    how: str
    # name_too_common: the subjects the search saw bearing the name, too few to be
    # sure nobody else does
    seen: tuple[str, ...] = ()


# Called with the inputs resolved by key before any name is searched.
KeysResolved = Callable[[Mapping[str, Resolution]], None]


def resolve_inputs(
    store: GraphStore, inputs: Sequence[str], *, keys_resolved: KeysResolved | None = None
) -> dict[str, Resolution]:
    """input -> its Resolution, batched per kind: one call for subject ids, one
    for keys, one search per distinct normalised name (graph.lookup.resolve_names).
    ``keys_resolved`` sees the key inputs' answers before the names are searched,
    so that a caller can refuse (a quota) before doing more."""
    out: dict[str, Resolution] = {}
    direct = store.resolve_ids(inputs)
    keys: dict[str, list[str]] = {}
    names: list[str] = []
    for text in inputs:
        if text in direct:
            out[text] = Resolution((direct[text],), BY_KEY)
        elif cands := candidate_keys(text):
            keys[text] = cands
        else:
            names.append(text)
    if keys:
        found = store.find_by_keys(sorted({k for ks in keys.values() for k in ks}))
        for text, cands in keys.items():
            ids = next((found[k] for k in cands if found.get(k)), [])
            out[text] = Resolution(tuple(ids), BY_KEY if ids else UNKNOWN_KEY)
        if keys_resolved is not None:
            keys_resolved(out)
    for text, match in resolve_names(store, names).items():
        if match.capped and len(match.ids) < 2:
            # Too many names contain this one to be sure nobody else bears it: a
            # single hit is not proof of identity, and a check must not guess.
            out[text] = Resolution((), NAME_TOO_COMMON, match.ids)
        else:
            out[text] = Resolution(match.ids, BY_NAME if match.ids else NOT_FOUND)
    return out


# -- the check ----------------------------------------------------------------------


@dataclass
class CheckAnswer:
    """One input's answer (the API adds the input and its position)."""

    found: bool
    matched_by: str
    result: str
    reasons: list[str]
    # the subject checked; only its id when the store no longer has it
    subject: Subject | None = None
    subject_id: str | None = None
    # review of an input that names several subjects, or a too common name
    candidates: list[str] | None = None
    restrictions: list[Measure] = field(default_factory=list)
    flags: list[Measure] = field(default_factory=list)
    # listings waiting on a reviewer (only for a resolved subject)
    pending: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"found": self.found, "matched_by": self.matched_by}
        # The order callers have always been given: a resolved subject comes
        # before the result, an unresolved input's null after the reasons.
        resolved = self.subject is not None or self.subject_id is not None
        if self.subject is not None:
            out["subject"] = subject_summary(self.subject)
        elif resolved:
            out["subject"] = {"id": self.subject_id}
        out["result"] = self.result
        out["reasons"] = self.reasons
        if self.candidates is not None:
            out["candidates"] = self.candidates
        if not resolved:
            out["subject"] = None
        out["restrictions"] = [m.to_dict() for m in self.restrictions]
        out["flags"] = [m.to_dict() for m in self.flags]
        if self.pending is not None:
            out["pending"] = self.pending
        return out


def _unresolved(r: Resolution) -> CheckAnswer:
    """The answer for an input that does not name exactly one subject."""
    found = bool(r.ids)
    if r.how == UNKNOWN_KEY:
        return CheckAnswer(found, r.how, CLEAR, ["no records on the platform"])
    if r.ids:
        reason = "the input names several subjects"
        return CheckAnswer(found, r.how, REVIEW, [reason], candidates=list(r.ids))
    if r.how == NAME_TOO_COMMON:
        reason = "too many subjects' names contain this name to resolve it"
        return CheckAnswer(found, r.how, REVIEW, [reason], candidates=list(r.seen))
    return CheckAnswer(found, r.how, REVIEW, ["no subject has this name"])


def check_inputs(
    store: GraphStore,
    scenario: Scenario,
    inputs: Sequence[str],
    as_of: str,
    *,
    threshold: float,
    control_depth: int,
    keys_resolved: KeysResolved | None = None,
) -> dict[str, CheckAnswer]:
    """Each distinct input -> its answer on ``as_of``, all of them together with a
    fixed number of store round trips (names: one search per distinct name)."""
    resolved = resolve_inputs(store, list(dict.fromkeys(inputs)), keys_resolved=keys_resolved)
    ids = sorted({r.ids[0] for r in resolved.values() if len(r.ids) == 1})
    by_subject = measures_many(store, ids, as_of, threshold=threshold, control_depth=control_depth)
    # listings that may be about a subject but wait for a reviewer: never clear
    waiting = pending_identity(store, ids, as_of)
    subjects: dict[str, Subject] = store.get_subjects(ids) if ids else {}
    out: dict[str, CheckAnswer] = {}
    for text, r in resolved.items():
        if len(r.ids) != 1:
            out[text] = _unresolved(r)
            continue
        sid = r.ids[0]
        outcome = decide(scenario, by_subject.get(sid, []), waiting.get(sid, []))
        out[text] = CheckAnswer(
            True,
            r.how,
            outcome.result,
            outcome.reasons,
            subject=subjects.get(sid),
            subject_id=sid,
            restrictions=outcome.restrictions,
            flags=outcome.flags,
            pending=outcome.pending,
        )
    return out
