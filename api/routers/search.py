"""``GET /subjects/search``: any key finds its subject exactly; otherwise a name,
normalised like the loaders normalise it, ranked by similarity."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import ReadCaller, SettingsDep, StoreDep
from api.limits import heavy
from api.params import check_page
from api.schemas import SearchAnswer
from graph.errors import InvalidInput
from graph.lookup import Hit
from graph.lookup import search_subjects as find_subjects
from graph.privacy import mask_error_payload
from graph.views import subject_summary

router = APIRouter(tags=["search"])


@router.get(
    "/subjects/search",
    summary="Find subjects by any key (exact) or by name (normalised, ranked by similarity)",
    response_model_exclude_unset=True,
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
                        "candidates_capped": False,
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
    q: Annotated[
        str, Query(min_length=1, max_length=200, description="key or name", examples=["华通建材"])
    ],
    store: StoreDep,
    settings: SettingsDep,
    principal: ReadCaller,
    type: Annotated[
        Literal["organisation", "person"] | None, Query(description="subject type")
    ] = None,
    limit: Annotated[int, Query(ge=1, description="page size (≤ max_page_size)")] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SearchAnswer:
    check_page(limit, offset, settings)
    text = q.strip()
    if not text:
        raise InvalidInput("q is empty", parameter="q")
    found = find_subjects(store, text, type)
    if found.match == "key":
        # The echo may be a 15-digit ID number, which the response masking cannot
        # tell from other digits: masked here for roles that may not see it.
        echo = text if principal.sees_id_numbers else mask_error_payload(text)
        return _page(echo, None, "key", found.hits, limit, offset, False)
    if not found.norm:
        raise InvalidInput("q has nothing left to search after normalisation", parameter="q")
    return _page(text, found.norm, "name", found.hits, limit, offset, found.capped)


def _page(
    query: str,
    norm: str | None,
    match: str,
    hits: list[Hit],
    limit: int,
    offset: int,
    capped: bool,
) -> SearchAnswer:
    return SearchAnswer.model_validate(
        {
            "query": query,
            "normalised": norm,
            "match": match,
            "total": len(hits),
            # more subjects contain the name than were ranked: narrow the query
            "candidates_capped": capped,
            "limit": limit,
            "offset": offset,
            "results": [
                {**subject_summary(h.subject), "score": h.score, "matched_name": h.matched_name}
                for h in hits[offset : offset + limit]
            ],
        }
    )
