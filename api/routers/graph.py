"""The graph around a subject: ``GET /subjects/{key}/neighbors`` and ``GET /paths``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ReadCaller, SettingsDep, StoreDep
from api.limits import heavy
from api.params import SubjectKey, check_depth, check_relations
from api.schemas import Neighbourhood, Paths
from graph.lookup import get_subject
from graph.propagate.status import parse_as_of
from graph.views import neighbourhood_view, paths_view

router = APIRouter(tags=["graph"])

AsOf = Annotated[
    str | None,
    Query(
        description="ISO date the relations must hold on (default: today)",
        examples=["2024-06-01"],
        max_length=10,
    ),
]
RelationTypes = Annotated[
    list[str] | None,
    Query(
        description="relation types to follow (repeatable); default all",
        examples=[["legal_representative", "shareholder"]],
    ),
]
WithRisk = Annotated[
    bool,
    Query(
        description="add each subject's `risk` on as_of (listed, implicated, review, clear; "
        "graph/risk.py), computed for all of them at once",
    ),
]


@router.get(
    "/subjects/{key}/neighbors",
    summary="Subjects linked to a subject within `depth` hops, with every edge and its records",
    description=(
        "Breadth-first over relations that hold on `as_of`, ignoring direction. At most "
        "`max_nodes` subjects are returned (nearest first); `truncated` says the cap cut."
    ),
    response_model_exclude_unset=True,
)
@heavy
def get_neighbors(
    key: SubjectKey,
    store: StoreDep,
    settings: SettingsDep,
    _: ReadCaller,
    depth: Annotated[int, Query(ge=1, description="hops (≤ max_depth)")] = 1,
    relation: RelationTypes = None,
    as_of: AsOf = None,
    risk: WithRisk = True,
) -> Neighbourhood:
    check_depth(depth, settings, "depth")
    types = check_relations(relation)
    day = parse_as_of(as_of)
    hood = neighbourhood_view(
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
    return Neighbourhood.model_validate(hood)


@router.get(
    "/paths",
    summary="Shortest paths between two subjects, hop by hop with dates and records",
    description=(
        "All shortest paths (ignoring edge direction, at most 10) of at most `max_depth` "
        "hops over relations that hold on `as_of`. Each hop says which way the relation "
        "points (`forward`: from the earlier node to the later one) and names its two "
        "subjects (`from_name`, `to_name`)."
    ),
    response_model_exclude_unset=True,
)
@heavy
def get_paths(
    from_: Annotated[str, Query(alias="from", min_length=1, max_length=200, examples=["S-a"])],
    to: Annotated[str, Query(min_length=1, max_length=200, examples=["S-b"])],
    store: StoreDep,
    settings: SettingsDep,
    _: ReadCaller,
    max_depth: Annotated[int, Query(ge=1, description="hops (≤ settings max_depth)")] = 4,
    relation: RelationTypes = None,
    as_of: AsOf = None,
    risk: WithRisk = True,
) -> Paths:
    check_depth(max_depth, settings, "max_depth")
    types = check_relations(relation)
    day = parse_as_of(as_of)
    a, b = get_subject(store, from_), get_subject(store, to)
    found = paths_view(
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
    return Paths.model_validate(found)
