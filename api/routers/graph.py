"""The graph around a subject: ``GET /subjects/{key}/neighbors`` and ``GET /paths``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from api.deps import Principal, get_settings, get_store, require
from api.limits import heavy
from api.params import SUBJECT_KEY
from graph.errors import InvalidInput, LimitExceeded
from graph.lookup import get_subject
from graph.model import Relation, model
from graph.propagate.status import parse_as_of
from graph.risk import assess_many
from graph.settings import Settings
from graph.store.base import GraphStore
from graph.traverse import neighbours, shortest_paths
from graph.views import relation_view, subject_summary

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


def check_depth(depth: int, settings: Settings, name: str) -> None:
    if depth > settings.max_depth:
        raise LimitExceeded(f"{name} is at most {settings.max_depth}", parameter=name, value=depth)


def check_relations(relation: list[str] | None) -> list[str] | None:
    if not relation:
        return None
    known = model().relation_types
    unknown = sorted(set(relation) - set(known))
    if unknown:
        raise InvalidInput(
            "unknown relation type(s)", parameter="relation", unknown=unknown, known=sorted(known)
        )
    return sorted(set(relation))


RISK = Query(
    True,
    description="add each subject's `risk` on as_of (listed, implicated, review, clear; "
    "graph/risk.py), computed for all of them at once",
)


def risk_levels(
    store: GraphStore, ids: list[str], day: str, settings: Settings, wanted: bool
) -> dict[str, str]:
    if not wanted or not ids:
        return {}
    found = assess_many(
        store, ids, day, threshold=settings.control_threshold, control_depth=settings.max_depth
    )
    return {sid: r.level for sid, r in found.items()}


def with_risk(summary: dict[str, Any], levels: dict[str, str]) -> dict[str, Any]:
    level = levels.get(summary["id"])
    return {**summary, "risk": level} if level else summary


def edge_view(rel: Relation) -> dict[str, Any]:
    spec = model().relation_types[rel.type]
    return {**relation_view(rel), "role": rel.props.get("title") or spec["label"]}


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
    center = get_subject(store, key)
    hood = neighbours(store, center.id, depth, types, day, max_nodes=settings.max_nodes)
    levels = risk_levels(store, [center.id, *(s.id for s in hood.nodes)], day, settings, risk)
    return {
        "center": with_risk(subject_summary(center), levels),
        "as_of": day,
        "depth": depth,
        "nodes": [
            {**with_risk(subject_summary(s), levels), "distance": hood.distance.get(s.id)}
            for s in hood.nodes
        ],
        "edges": [edge_view(r) for r in hood.edges],
        "truncated": hood.truncated,
        "max_nodes": settings.max_nodes,
    }


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
    paths = shortest_paths(store, a.id, b.id, max_depth, types, day)
    subjects = store.get_subjects(sorted({n for p in paths for n in p.nodes}))
    levels = risk_levels(store, sorted(subjects), day, settings, risk)

    def name(sid: str) -> str | None:
        found = subjects.get(sid)
        return found.name if found else None

    out = []
    for p in paths:
        hops = []
        for i, rel in enumerate(p.edges):
            here, there = p.nodes[i], p.nodes[i + 1]
            hops.append(
                {
                    "from": here,
                    "from_name": name(here),
                    "to": there,
                    "to_name": name(there),
                    "direction": "forward" if rel.source == here else "backward",
                    **edge_view(rel),
                }
            )
        out.append(
            {
                "length": len(p.edges),
                "nodes": [
                    with_risk(subject_summary(subjects[n]), levels)
                    for n in p.nodes
                    if n in subjects
                ],
                "hops": hops,
            }
        )
    return {
        "from": subject_summary(a),
        "to": subject_summary(b),
        "as_of": day,
        "max_depth": max_depth,
        "paths": out,
    }
