"""The graph around a subject: ``GET /subjects/{key}/neighbors`` and ``GET /paths``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from api.deps import Principal, get_settings, get_store, require
from api.limits import heavy
from api.params import SUBJECT_KEY, check_depth, check_relations
from graph.lookup import get_subject
from graph.propagate.status import parse_as_of
from graph.settings import Settings
from graph.store.base import GraphStore
from graph.views import neighbourhood_view, paths_view

router = APIRouter(tags=["graph"])

AS_OF = Query(
    None,
    description="ISO date the relations must hold on (default: today)",
    examples=["2024-06-01"],
    max_length=10,
)
RELATION = Query(
    None,
    description="relation types to follow (repeatable); default all",
    examples=[["legal_representative", "shareholder"]],
)


RISK = Query(
    True,
    description="add each subject's `risk` on as_of (listed, implicated, review, clear; "
    "graph/risk.py), computed for all of them at once",
)


@router.get(
    "/subjects/{key}/neighbors",
    summary="Subjects linked to a subject within `depth` hops, with every edge and its records",
    description=(
        "Breadth-first over relations that hold on `as_of`, ignoring direction. At most "
        "`max_nodes` subjects are returned (nearest first); `truncated` says the cap cut."
    ),
)
@heavy
def get_neighbors(
    key: str = SUBJECT_KEY,
    depth: int = Query(1, ge=1, description="hops (≤ max_depth)"),
    relation: list[str] | None = RELATION,
    as_of: str | None = AS_OF,
    risk: bool = RISK,
    store: GraphStore = Depends(get_store),  # noqa: B008
    settings: Settings = Depends(get_settings),  # noqa: B008
    _: Principal = Depends(require("read")),  # noqa: B008
) -> dict[str, Any]:
    check_depth(depth, settings, "depth")
    types = check_relations(relation)
    day = parse_as_of(as_of)
    return neighbourhood_view(
        store,
        get_subject(store, key),
        depth,
        types,
        day,
        max_nodes=settings.max_nodes,
        risk=risk,
        threshold=settings.control_threshold,
        control_depth=settings.max_depth,
    )


@router.get(
    "/paths",
    summary="Shortest paths between two subjects, hop by hop with dates and records",
    description=(
        "All shortest paths (ignoring edge direction, at most 10) of at most `max_depth` "
        "hops over relations that hold on `as_of`. Each hop says which way the relation "
        "points (`forward`: from the earlier node to the later one) and names its two "
        "subjects (`from_name`, `to_name`)."
    ),
)
@heavy
def get_paths(
    from_: str = Query(..., alias="from", min_length=1, max_length=200, examples=["S-a"]),
    to: str = Query(..., min_length=1, max_length=200, examples=["S-b"]),
    max_depth: int = Query(4, ge=1, description="hops (≤ settings max_depth)"),
    relation: list[str] | None = RELATION,
    as_of: str | None = AS_OF,
    risk: bool = RISK,
    store: GraphStore = Depends(get_store),  # noqa: B008
    settings: Settings = Depends(get_settings),  # noqa: B008
    _: Principal = Depends(require("read")),  # noqa: B008
) -> dict[str, Any]:
    check_depth(max_depth, settings, "max_depth")
    types = check_relations(relation)
    day = parse_as_of(as_of)
    a, b = get_subject(store, from_), get_subject(store, to)
    return paths_view(
        store,
        a,
        b,
        max_depth,
        types,
        day,
        risk=risk,
        threshold=settings.control_threshold,
        control_depth=settings.max_depth,
    )
