"""``GET /subjects/search``: any key finds its subject exactly; otherwise a name,
normalised like the loaders normalise it, ranked by similarity."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from rapidfuzz import fuzz

from api.deps import Principal, get_settings, get_store, require
from api.limits import heavy
from graph.errors import InvalidInput, LimitExceeded
from graph.lookup import find_subject_ids
from graph.names import normalise_name
from graph.privacy import mask_error_payload
from graph.settings import Settings
from graph.store.base import GraphStore
from graph.views import subject_summary

router = APIRouter(tags=["search"])

# Name candidates ranked per query: store.search returns containment matches in
# id order, so the pool must be large enough that ranking, not id, decides.
CANDIDATE_POOL = 1000

# Exact-name resolution (POST /checks): a first search this wide answers almost
# every name; only names contained in more names than this are searched again
# with CANDIDATE_POOL, so that a second subject of the same name beyond the first
# page is never missed.
NAME_FIRST_POOL = 50
# The protocol has no batched name look-up, so the searches run concurrently:
# on Neo4j each is a network round trip, and overlapping them is what makes a
# batch of names cost a few round trips of latency instead of one per name. The
# embedded store serialises them on its lock, at no cost to correctness.
NAME_SEARCH_WORKERS = 8


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
    with ThreadPoolExecutor(max_workers=min(NAME_SEARCH_WORKERS, len(norms))) as pool_:
        return dict(zip(norms, pool_.map(one, norms), strict=True))


def check_page(limit: int, offset: int, settings: Settings) -> None:
    if limit > settings.max_page_size:
        raise LimitExceeded(
            f"limit is at most {settings.max_page_size}", parameter="limit", value=limit
        )
    if offset > 100_000:
        raise LimitExceeded("offset is at most 100000", parameter="offset", value=offset)


@router.get(
    "/subjects/search",
    summary="Find subjects by any key (exact) or by name (normalised, ranked by similarity)",
    description=(
        "A USCC, organisation code, registration number, ID number or subject id returns "
        "that subject with score 100. Anything else is taken as a name: it is normalised "
        "(full-width, traditional characters, legal-form variants) and every subject one of "
        "whose names contains it is ranked by similarity (rapidfuzz ratio, 0–100)."
    ),
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "query": "华通建材",
                        "normalised": "华通建材",
                        "match": "name",
                        "total": 1,
                        "limit": 20,
                        "offset": 0,
                        "results": [
                            {
                                "id": "S-0123456789abcdef",
                                "type": "organisation",
                                "name": "商丘市华通建材有限公司",
                                "keys": ["uscc:91411403MA9GKJ1F86"],
                                "status": "存续",
                                "score": 61.5,
                                "matched_name": "商丘市华通建材有限公司",
                            }
                        ],
                    }
                }
            }
        }
    },
)
@heavy
def search_subjects(
    q: str = Query(
        ..., min_length=1, max_length=200, description="key or name", examples=["华通建材"]
    ),
    type: Literal["organisation", "person"] | None = Query(None, description="subject type"),
    limit: int = Query(20, ge=1, description="page size (≤ max_page_size)"),
    offset: int = Query(0, ge=0),
    store: GraphStore = Depends(get_store),  # noqa: B008
    settings: Settings = Depends(get_settings),  # noqa: B008
    principal: Principal = Depends(require("read")),  # noqa: B008
) -> dict[str, Any]:
    check_page(limit, offset, settings)
    text = q.strip()
    if not text:
        raise InvalidInput("q is empty", parameter="q")
    ids = find_subject_ids(store, text)
    if ids:
        subjects = store.get_subjects(ids)
        hits = [
            {**subject_summary(s), "score": 100.0, "matched_name": s.name}
            for s in (subjects[i] for i in ids if i in subjects)
            if type is None or s.type == type
        ]
        # The echo may be a 15-digit ID number, which the response masking cannot
        # tell from other digits: masked here for roles that may not see it.
        echo = text if principal.sees_id_numbers else mask_error_payload(text)
        return _page(echo, None, "key", hits, limit, offset, False)
    norm = normalise_name(text)
    if not norm:
        raise InvalidInput("q has nothing left to search after normalisation", parameter="q")
    candidates = store.search(norm, type, limit=CANDIDATE_POOL)
    hits = []
    for s in candidates:
        names = s.norm_names or [normalise_name(s.name)]
        score, best = max((fuzz.ratio(norm, n), n) for n in names)
        display = next((n for n in s.names if normalise_name(n) == best), s.name)
        hits.append({**subject_summary(s), "score": round(score, 1), "matched_name": display})
    hits.sort(key=lambda h: (-h["score"], h["name"], h["id"]))
    return _page(text, norm, "name", hits, limit, offset, len(candidates) >= CANDIDATE_POOL)


def _page(
    query: str,
    norm: str | None,
    match: str,
    hits: list[dict[str, Any]],
    limit: int,
    offset: int,
    capped: bool,
) -> dict[str, Any]:
    return {
        "query": query,
        "normalised": norm,
        "match": match,
        "total": len(hits),
        # more subjects contain the name than were ranked: narrow the query
        "candidates_capped": capped,
        "limit": limit,
        "offset": offset,
        "results": hits[offset : offset + limit],
    }
