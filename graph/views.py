"""Domain objects as JSON-able dicts, shared by the API, the CLI and notebooks."""

from __future__ import annotations

from typing import Any

from graph.checks import pending_view
from graph.docs import JUDGEMENTS
from graph.evidence.identity import pending_identity
from graph.model import Listing, Relation, SourceRecord, Subject
from graph.propagate.status import parse_as_of
from graph.store.base import GraphStore


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


def listing_view(lst: Listing) -> dict[str, Any]:
    return {
        "id": lst.id,
        "kind": lst.kind,
        "subject": lst.subject_id,
        "number": lst.number,
        "department": lst.department,
        "start": lst.start,
        "end": lst.end,
        **{k: v for k, v in lst.props.items() if v is not None},
        "records": list(lst.record_ids),
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
