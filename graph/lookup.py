"""Finding subjects by what a caller has: a key (USCC, organisation code,
registration number, ID number of 18 or 15 digits, subject id) or a name.

A key finds its subject exactly. A name is normalised as the loaders
normalise it (graph/names.py) and either ranked by similarity (a search) or
matched exactly (``resolve_names``: a check must not take a similar name for
the subject it was asked about).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz

from graph.errors import InvalidInput, NotFound
from graph.model import Subject
from graph.names import normalise_name
from graph.store.base import GraphStore

# Name candidates ranked per query: store.search returns containment matches in
# id order, so the pool must be large enough that ranking, not id, decides.
CANDIDATE_POOL = 1000

# Exact-name resolution (checks): a first search this wide answers almost
# every name; only names contained in more names than this are searched again
# with CANDIDATE_POOL, so that a second subject of the same name beyond the first
# page is never missed.
NAME_FIRST_POOL = 50
# The protocol has no batched name look-up, so the searches run concurrently:
# on Neo4j each is a network round trip, and overlapping them is what makes a
# batch of names cost a few round trips of latency instead of one per name. The
# embedded store serialises them on its lock, at no cost to correctness.
NAME_SEARCH_WORKERS = 8


def candidate_keys(text: str) -> list[str]:
    """Store keys that ``text`` may be, strongest first."""
    from graph.identifiers import InvalidIdentifier, parse_identifier

    try:
        ident = parse_identifier(text)
    except InvalidIdentifier:
        return []
    return ident.store_keys


def find_subject_ids(store: GraphStore, text: str) -> list[str]:
    text = text.strip()
    if not text:
        raise InvalidInput("an empty key was given")
    if len(text) > 200:
        raise InvalidInput("a key is at most 200 characters")
    resolved = store.resolve_ids([text])
    if text in resolved:
        return [resolved[text]]
    for key in candidate_keys(text):
        found = store.find_by_keys([key]).get(key)
        if found:
            return found
    return []


def get_subject(store: GraphStore, text: str) -> Subject:
    """The one subject ``text`` names; NotFound when none; InvalidInput when ambiguous."""
    ids = find_subject_ids(store, text)
    if not ids:
        raise NotFound("no subject has this key", key=text)
    if len(ids) > 1:
        raise InvalidInput(
            "this key names several subjects; ask by subject id", key=text, subjects=ids
        )
    subject = store.get_subjects(ids).get(ids[0])
    if subject is None:
        raise NotFound("no subject has this key", key=text)
    return subject


# -- search: a key exactly, else a name ranked by similarity ------------------------


@dataclass(frozen=True)
class Hit:
    subject: Subject
    # rapidfuzz ratio of the normalised names, 0–100; a key scores 100
    score: float
    # the subject's name (as spelt) that scored best
    matched_name: str


@dataclass(frozen=True)
class Found:
    match: Literal["key", "name"]
    hits: list[Hit] = field(default_factory=list)
    # the normalised query of a name search ("" when nothing is left of it)
    norm: str | None = None
    # more subjects contain the name than were ranked: the query needs narrowing
    capped: bool = False


def search_subjects(store: GraphStore, text: str, subject_type: str | None = None) -> Found:
    """Any key finds its subject exactly; anything else is a name, normalised, and
    every subject one of whose names contains it is ranked by similarity (best
    first, then by name and id)."""
    ids = find_subject_ids(store, text)
    if ids:
        subjects = store.get_subjects(ids)
        return Found(
            "key",
            [
                Hit(s, 100.0, s.name)
                for s in (subjects[i] for i in ids if i in subjects)
                if subject_type is None or s.type == subject_type
            ],
        )
    norm = normalise_name(text)
    if not norm:
        return Found("name", norm="")
    candidates = store.search(norm, subject_type, limit=CANDIDATE_POOL)
    hits = []
    for s in candidates:
        names = s.norm_names or [normalise_name(s.name)]
        score, best = max((fuzz.ratio(norm, n), n) for n in names)
        display = next((n for n in s.names if normalise_name(n) == best), s.name)
        hits.append(Hit(s, round(score, 1), display))
    hits.sort(key=lambda h: (-h.score, h.subject.name, h.subject.id))
    return Found("name", hits, norm, len(candidates) >= CANDIDATE_POOL)


# -- exact names, for checks --------------------------------------------------------


@dataclass(frozen=True)
class NameMatch:
    """The subjects whose normalised name is exactly the query's."""

    norm: str
    ids: tuple[str, ...]
    # more subjects contain the name than the widest search returns: ``ids`` may be
    # incomplete, so a single id does not prove the name is unique
    capped: bool = False


def resolve_names(store: GraphStore, names: Iterable[str]) -> dict[str, NameMatch]:
    """name as given -> its exact matches, one store search per *distinct
    normalised* name (full-width, traditional or legal-form variants of one name
    share it). A name that normalises to nothing matches nobody."""
    norms = {text: normalise_name(text) for text in dict.fromkeys(names)}
    distinct = sorted({n for n in norms.values() if n})
    found = _exact_many(store, distinct, NAME_FIRST_POOL)
    wide = [n for n in distinct if found[n][1]]
    if wide:
        found.update(_exact_many(store, wide, CANDIDATE_POOL))
    out: dict[str, NameMatch] = {}
    for text, norm in norms.items():
        ids, capped = found.get(norm, ((), False))
        out[text] = NameMatch(norm, ids, capped)
    return out


def _exact_many(
    store: GraphStore, norms: list[str], pool: int
) -> dict[str, tuple[tuple[str, ...], bool]]:
    """norm -> (ids whose normalised names include it exactly, search was capped)."""

    def one(norm: str) -> tuple[tuple[str, ...], bool]:
        hits = store.search(norm, None, limit=pool)
        return tuple(sorted(s.id for s in hits if norm in s.norm_names)), len(hits) >= pool

    if len(norms) <= 1:
        return {n: one(n) for n in norms}
    with ThreadPoolExecutor(max_workers=min(NAME_SEARCH_WORKERS, len(norms))) as workers:
        return dict(zip(norms, workers.map(one, norms), strict=True))
