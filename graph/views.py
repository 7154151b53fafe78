"""Domain objects as JSON-able dicts, shared by the API, the CLI and notebooks."""

from __future__ import annotations

from typing import Any

from graph.docs import JUDGEMENTS
from graph.evidence.identity import pending_identity
from graph.model import Listing, Relation, SourceRecord, Subject, model
from graph.propagate.engine import Measure, measures_many
from graph.propagate.status import parse_as_of
from graph.risk import assess, assess_many
from graph.store.base import GraphStore
from graph.traverse import neighbours, shortest_paths


def subject_summary(subject: Subject) -> dict[str, Any]:
    return {
        "id": subject.id,
        "type": subject.type,
        "name": subject.name,
        "keys": list(subject.keys),
        "status": subject.status,
    }


def relation_view(rel: Relation) -> dict[str, Any]:
    return {
        "id": rel.id,
        "relation": rel.type,
        "source": rel.source,
        "target": rel.target,
        "valid_from": rel.valid_from,
        "valid_to": rel.valid_to,
        **{k: v for k, v in rel.props.items() if v is not None},
        "records": list(rel.record_ids),
    }


def pending_view(item: dict[str, Any], lst: Listing) -> dict[str, Any]:
    """A listing waiting on identity, as a check, a card or a subject's measures show it."""
    return {
        "reason": item.get("reason"),
        "pair": item.get("pair"),
        "record": item.get("record"),
        "listing": {
            "id": lst.id,
            "feed": lst.kind,
            "subject": lst.subject_id,
            "number": lst.number,
            "department": lst.department,
            "start": lst.start,
            "end": lst.end,
        },
    }


def record_mentions(rec: SourceRecord, subject_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": rec.id,
            "feed": rec.feed,
            "file": rec.file,
            "row": rec.row,
            "loaded_at": rec.loaded_at,
            "role": m.role,
            "match": m.match,
            "name": ((rec.cleaned.get("parties") or {}).get(m.role) or {}).get("name"),
            "warnings": list(rec.warnings),
        }
        for m in rec.mentions
        if m.subject_id == subject_id
    ]


def subject_card(store: GraphStore, subject: Subject, as_of: str | None = None) -> dict[str, Any]:
    """Everything known about a subject and where each piece came from."""
    records = store.records_of(subject.id)
    mentions = [m for rec in records for m in record_mentions(rec, subject.id)]
    name_sources: dict[str, list[str]] = {n: [] for n in subject.names}
    for m in mentions:
        if m["name"]:
            name_sources.setdefault(m["name"], []).append(m["id"])
    # Reviewers' decisions that shaped this subject: merges into it, splits
    # out of it or into it, so that a card explains what the scorer did not.
    judged = [
        j
        for j in store.list_docs(JUDGEMENTS).values()
        if subject.id in (j.get("survivor"), j.get("subject"), j.get("new_subject"))
    ]
    # listings that may be about this subject, waiting on a reviewer's word
    day = as_of or parse_as_of(None)
    waiting = pending_identity(store, [subject.id], day).get(subject.id, [])
    return {
        **subject_summary(subject),
        "names": [{"name": n, "sources": src} for n, src in name_sources.items()],
        "attributes": dict(subject.attrs),
        "pending_identity": [pending_view(item, lst) for item, lst in waiting],
        "records": mentions,
        "judgements": sorted(judged, key=lambda j: (j.get("at") or "", j.get("id") or "")),
    }


def named_measures(store: GraphStore, found: list[Measure]) -> list[dict[str, Any]]:
    """The measures as dicts, the listing naming its subject (``subject_name``) and
    every path hop its two subjects (``from_name``, ``to_name``; the engine names
    them, this fills any it left out): one batched look-up for all."""
    out = [m.to_dict() for m in found]
    ids = {m["listing"].get("subject") for m in out}
    ids |= {
        h[end]
        for m in out
        for h in m.get("path") or []
        for end in ("from", "to")
        if not h.get(f"{end}_name")
    }
    ids.discard(None)
    names = {sid: s.name for sid, s in store.get_subjects(sorted(ids)).items()} if ids else {}
    for m in out:
        m["listing"] = {**m["listing"], "subject_name": names.get(m["listing"].get("subject"))}
        m["path"] = [
            {
                **h,
                "from_name": h.get("from_name") or names.get(h["from"]),
                "to_name": h.get("to_name") or names.get(h["to"]),
            }
            for h in m.get("path") or []
        ]
    return out


def measures_card(
    store: GraphStore,
    subject: Subject,
    as_of: str,
    *,
    threshold: float,
    control_depth: int,
) -> dict[str, Any]:
    """The measures that apply to a subject on ``as_of`` and why, summed up as a risk."""
    found = measures_many(
        store, [subject.id], as_of, threshold=threshold, control_depth=control_depth
    ).get(subject.id, [])
    waiting = pending_identity(store, [subject.id], as_of).get(subject.id, [])
    return {
        "subject": subject_summary(subject),
        "as_of": as_of,
        # listed / implicated / review / clear, and the distinct measures behind it; a
        # listing waiting on identity makes it review at least (as a check answers)
        "risk": assess(found, pending_review=bool(waiting)).to_dict(),
        "measures": named_measures(store, found),
        # listings that may be about this subject, waiting on a reviewer (no measure yet)
        "pending": [pending_view(item, lst) for item, lst in waiting],
    }


# -- the graph around a subject, and between two --------------------------------------


def edge_view(rel: Relation) -> dict[str, Any]:
    """A relation as an edge of a drawn graph: ``role`` is the title it records
    (经理, 监事…) or else the relation type's label."""
    spec = model().relation_types[rel.type]
    return {**relation_view(rel), "role": rel.props.get("title") or spec.label}


def _risk_levels(
    store: GraphStore, ids: list[str], as_of: str, threshold: float, control_depth: int
) -> dict[str, str]:
    if not ids:
        return {}
    found = assess_many(store, ids, as_of, threshold=threshold, control_depth=control_depth)
    return {sid: r.level for sid, r in found.items()}


def _with_risk(summary: dict[str, Any], levels: dict[str, str]) -> dict[str, Any]:
    level = levels.get(summary["id"])
    return {**summary, "risk": level} if level else summary


def neighbourhood_view(
    store: GraphStore,
    center: Subject,
    depth: int,
    relation_types: list[str] | None,
    as_of: str,
    *,
    max_nodes: int,
    risk: bool,
    threshold: float,
    control_depth: int,
) -> dict[str, Any]:
    """The subjects within ``depth`` hops over relations holding on ``as_of``, nearest
    first and at most ``max_nodes``, with every edge; with ``risk``, each subject's
    risk level (graph/risk.py), all assessed at once."""
    hood = neighbours(store, center.id, depth, relation_types, as_of, max_nodes=max_nodes)
    ids = [center.id, *(s.id for s in hood.nodes)]
    levels = _risk_levels(store, ids, as_of, threshold, control_depth) if risk else {}
    return {
        "center": _with_risk(subject_summary(center), levels),
        "as_of": as_of,
        "depth": depth,
        "nodes": [
            {**_with_risk(subject_summary(s), levels), "distance": hood.distance.get(s.id)}
            for s in hood.nodes
        ],
        "edges": [edge_view(r) for r in hood.edges],
        "truncated": hood.truncated,
        "max_nodes": max_nodes,
    }


def paths_view(
    store: GraphStore,
    a: Subject,
    b: Subject,
    max_depth: int,
    relation_types: list[str] | None,
    as_of: str,
    *,
    risk: bool,
    threshold: float,
    control_depth: int,
) -> dict[str, Any]:
    """The shortest paths between two subjects over relations holding on ``as_of``,
    each hop with the way its relation points and its two subjects' names."""
    paths = shortest_paths(store, a.id, b.id, max_depth, relation_types, as_of)
    subjects = store.get_subjects(sorted({n for p in paths for n in p.nodes}))
    ids = sorted(subjects)
    levels = _risk_levels(store, ids, as_of, threshold, control_depth) if risk else {}

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
                    _with_risk(subject_summary(subjects[n]), levels)
                    for n in p.nodes
                    if n in subjects
                ],
                "hops": hops,
            }
        )
    return {
        "from": subject_summary(a),
        "to": subject_summary(b),
        "as_of": as_of,
        "max_depth": max_depth,
        "paths": out,
    }
