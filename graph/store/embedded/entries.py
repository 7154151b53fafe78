"""What one commit is: the journal's entries, as objects and on the wire.

Why a module of its own: an entry is the unit that is applied to memory,
journalled, replayed on open and followed by readers, so its shape is shared
by the store (which builds entries), the state (which applies them) and the
journal (which frames them). Four kinds:

- a batch (``"B"``): everything one ``GraphStore.write`` stores;
- a clear (``"C"``);
- a merge (``"M"``) and a move of mentions, i.e. a split (``"V"``), each with
  the documents written in the same transaction (a judgement and its
  assignments), so that a crash keeps both or neither.

The wire form is a positional array, exactly as earlier versions of this
format (3) wrote it: the documents element of a merge or a move is present
only when there are documents, so entries without them have the shape they
had before documents rode along, and both shapes replay. A move's entry
carries the ids of the records that moved once it has been applied, so that
a replay without the records (the records database already holds them)
re-points the same relations and listings.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.model import Listing, Relation, Subject
from graph.store.base import Batch, DocWrite
from graph.store.embedded.encoding import (
    PackedDoc,
    RecordRow,
    as_list,
    as_str,
    listing_from_row,
    listing_row,
    pack_docs,
    packed_doc_from_wire,
    record_row,
    record_row_from_wire,
    relation_from_row,
    relation_row,
    subject_from_row,
    subject_row,
)


@dataclass(frozen=True, slots=True)
class BatchEntry:
    subjects: list[Subject]
    relations: list[Relation]
    listings: list[Listing]
    records: list[RecordRow]
    docs: list[PackedDoc]
    delete_relations: list[str]
    delete_listings: list[str]


@dataclass(frozen=True, slots=True)
class ClearEntry:
    pass


@dataclass(frozen=True, slots=True)
class MergeEntry:
    survivor_id: str
    merged_id: str
    docs: list[PackedDoc]


@dataclass(frozen=True, slots=True)
class MoveEntry:
    record_roles: list[tuple[str, str]]
    from_id: str
    to_subject: Subject
    # None until applied: then the ids of the records that moved
    moved: list[str] | None
    docs: list[PackedDoc]


Entry = BatchEntry | ClearEntry | MergeEntry | MoveEntry


def batch_entry(batch: Batch) -> BatchEntry:
    return BatchEntry(
        subjects=list(batch.subjects),
        relations=list(batch.relations),
        listings=list(batch.listings),
        records=[record_row(r) for r in batch.records],
        docs=pack_docs(batch.docs),
        delete_relations=list(batch.delete_relations),
        delete_listings=list(batch.delete_listings),
    )


def merge_entry(survivor_id: str, merged_id: str, docs: list[DocWrite]) -> MergeEntry:
    return MergeEntry(survivor_id, merged_id, pack_docs(docs))


def move_entry(
    record_roles: list[tuple[str, str]], from_id: str, to_subject: Subject, docs: list[DocWrite]
) -> MoveEntry:
    # (record id, role) pairs as tuples of text, whatever sequences the caller gave
    roles = [(str(rid), str(role)) for rid, role in record_roles]
    return MoveEntry(roles, from_id, to_subject, None, pack_docs(docs))


def _docs_tail(docs: list[PackedDoc]) -> tuple[object, ...]:
    return (docs,) if docs else ()


def to_wire(entry: Entry) -> tuple[object, ...]:
    if isinstance(entry, BatchEntry):
        return (
            "B",
            [subject_row(s) for s in entry.subjects],
            [relation_row(r) for r in entry.relations],
            [listing_row(x) for x in entry.listings],
            entry.records,
            entry.docs,
            entry.delete_relations,
            entry.delete_listings,
        )
    if isinstance(entry, ClearEntry):
        return ("C",)
    if isinstance(entry, MergeEntry):
        return ("M", entry.survivor_id, entry.merged_id, *_docs_tail(entry.docs))
    return (
        "V",
        entry.record_roles,
        entry.from_id,
        subject_row(entry.to_subject),
        entry.moved,
        *_docs_tail(entry.docs),
    )


def _docs_from_wire(fields: list[object], at: int) -> list[PackedDoc]:
    if len(fields) == at:
        return []
    if len(fields) != at + 1:
        raise ValueError(f"an entry of {len(fields)} fields")
    return [packed_doc_from_wire(d) for d in as_list(fields[at])]


def from_wire(raw: object) -> Entry:
    """An entry as decoded from the journal; TypeError or ValueError (the caller
    names the file and entry) when it is not what the store writes."""
    fields = as_list(raw)
    kind = fields[0] if fields else None
    if kind == "B":
        _b, subjects, relations, listings, records, docs, del_rels, del_lsts = fields
        return BatchEntry(
            subjects=[subject_from_row(t) for t in as_list(subjects)],
            relations=[relation_from_row(t) for t in as_list(relations)],
            listings=[listing_from_row(t) for t in as_list(listings)],
            records=[record_row_from_wire(t) for t in as_list(records)],
            docs=[packed_doc_from_wire(d) for d in as_list(docs)],
            delete_relations=[as_str(i) for i in as_list(del_rels)],
            delete_listings=[as_str(i) for i in as_list(del_lsts)],
        )
    if kind == "C":
        return ClearEntry()
    if kind == "M":
        return MergeEntry(as_str(fields[1]), as_str(fields[2]), _docs_from_wire(fields, 3))
    if kind == "V":
        roles = []
        for pair in as_list(fields[1]):
            rid, role = as_list(pair)
            roles.append((str(rid), str(role)))
        moved = None if fields[4] is None else [as_str(i) for i in as_list(fields[4])]
        return MoveEntry(
            roles,
            as_str(fields[2]),
            subject_from_row(fields[3]),
            moved,
            _docs_from_wire(fields, 5),
        )
    raise ValueError(f"unknown journal entry {kind}")
