"""The GraphStore protocol: the one interface everything above the store uses.

Two implementations: ``graph.store.embedded`` (networkx, persisted on local
disk) and ``graph.store.neo4j`` (a Neo4j 5 server or cluster). The contract
suite (tests/store/test_store_contract.py) runs the same assertions against both.

The store keeps primitives only: batched upserts and batched look-ups.
Traversal (neighbours, paths), search ranking, resolution and propagation are
written once above it, so both stores give the same answers by construction.

Ordering contract: every list a reader returns is sorted by ``id``.

Upsert semantics (identical in both stores):
- subject: ``keys``, ``names`` and ``norm_names`` are unioned with what is stored (order of
  first appearance kept); ``attrs`` are updated key by key; ``name``,
  ``status`` and ``type`` replace the stored value when the new one is not
  empty.
- relation, listing: replace the stored fields; ``record_ids`` are unioned.
- record: replaced as a whole (the loader sets ``version``).
- doc: replaced as a whole; a ``None`` body deletes the doc.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from graph.model import Listing, Relation, SourceRecord, Subject


def union_into(into: list[str], more: Iterable[str]) -> None:
    """Append the items of ``more`` not yet in ``into``, keeping first-seen order."""
    seen = set(into)
    for item in more:
        if item not in seen:
            into.append(item)
            seen.add(item)


def apply_subject_upsert(cur: Subject, new: Subject) -> None:
    """The subject upsert semantics above, in one place for both stores."""
    union_into(cur.keys, new.keys)
    union_into(cur.names, new.names)
    union_into(cur.norm_names, new.norm_names)
    cur.attrs.update(new.attrs)
    if new.name:
        cur.name = new.name
    if new.status:
        cur.status = new.status
    if new.type:
        cur.type = new.type


def first_upsert(new: Subject) -> Subject:
    """The stored form of a subject upserted for the first time (lists deduplicated)."""
    return Subject(
        id=new.id,
        type=new.type,
        name=new.name,
        names=list(dict.fromkeys(new.names)),
        norm_names=list(dict.fromkeys(new.norm_names)),
        keys=list(dict.fromkeys(new.keys)),
        status=new.status,
        attrs=dict(new.attrs),
    )


def fold_subject(survivor: Subject, merged: Subject) -> None:
    """What a merge moves onto the survivor: keys, names, and attrs it lacks."""
    union_into(survivor.keys, merged.keys)
    union_into(survivor.names, merged.names)
    union_into(survivor.norm_names, merged.norm_names)
    for k, v in merged.attrs.items():
        survivor.attrs.setdefault(k, v)


# (collection, id, body or None to delete)
DocWrite = tuple[str, str, dict[str, Any] | None]


@dataclass
class Batch:
    """Everything one transaction writes: all of it is stored, or none."""

    subjects: list[Subject] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    listings: list[Listing] = field(default_factory=list)
    records: list[SourceRecord] = field(default_factory=list)
    # (collection, id, body or None to delete): quarantine, judgements, review
    # candidates, load history, change log… kept in the same transaction.
    docs: list[DocWrite] = field(default_factory=list)
    # ids of relations / listings to delete (e.g. a record version that no
    # longer asserts them)
    delete_relations: list[str] = field(default_factory=list)
    delete_listings: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (
            self.subjects
            or self.relations
            or self.listings
            or self.records
            or self.docs
            or self.delete_relations
            or self.delete_listings
        )


@runtime_checkable
class GraphStore(Protocol):
    """Both stores implement exactly this."""

    name: str

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None: ...

    def clear(self) -> None:
        """Delete everything (tests and `creditlink reset`)."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailable when the store cannot answer."""
        ...

    def generation(self) -> str:
        """An opaque token that changes whenever a write commits, whichever process
        made it (equal tokens: nothing was written in between). Answers computed
        from the whole store are cached under it."""
        ...

    # -- writer ------------------------------------------------------------
    def write(self, batch: Batch) -> None:
        """Apply one batch in one transaction."""
        ...

    def merge_subjects(
        self, survivor_id: str, merged_id: str, docs: Iterable[DocWrite] = ()
    ) -> None:
        """Fold ``merged_id`` into ``survivor_id`` in one transaction.

        Keys, names and missing attrs move to the survivor; relations, listings
        and record mentions are re-pointed; ``merged_id`` then redirects to the
        survivor (``resolve_ids``).

        ``docs`` (as ``Batch.docs``) are written in the same transaction, so
        that the judgement behind a merge is stored if and only if the merge
        is. They are written also when the merge itself is a no-op (merged id
        already gone, or equal to the survivor); an unknown survivor raises
        and writes nothing.
        """
        ...

    def move_mentions(
        self,
        record_roles: list[tuple[str, str]],
        from_id: str,
        to_subject: Subject,
        docs: Iterable[DocWrite] = (),
    ) -> None:
        """Split: re-point the given (record id, role) mentions, and the relations and
        listings asserted only by those records, from ``from_id`` to ``to_subject``
        (created if new), in one transaction, with ``docs`` written in that same
        transaction (an unknown ``from_id`` raises and writes nothing)."""
        ...

    # -- reader ------------------------------------------------------------
    def get_subjects(self, ids: Iterable[str]) -> dict[str, Subject]: ...

    def resolve_ids(self, ids: Iterable[str]) -> dict[str, str]:
        """Follow merge redirects: id -> surviving id, for ids that exist or redirect."""
        ...

    def find_by_keys(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """``"kind:value"`` -> sorted subject ids carrying that key (absent keys omitted)."""
        ...

    def relations_of(
        self,
        subject_ids: Iterable[str],
        types: Iterable[str] | None = None,
        as_of: str | None = None,
        direction: str = "both",
    ) -> list[Relation]:
        """Relations touching any of the subjects (``direction``: out = subject is
        the source, in = subject is the target), active on ``as_of`` when given."""
        ...

    def get_relations(self, ids: Iterable[str]) -> dict[str, Relation]: ...

    def listings_of(
        self, subject_ids: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]: ...

    def listings_naming(
        self, subject_ids: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        """Listings whose ``props["parties"]`` (role -> subject id) name any of the
        subjects. Indexed in both stores: a listing's parties must be stored
        subjects when it is written, they follow a merge to the survivor, and a
        split moves a party when every record asserting the listing moved its
        mention in that role."""
        ...

    def listings_by_number(
        self, numbers: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]: ...

    def get_listings(self, ids: Iterable[str]) -> dict[str, Listing]: ...

    def get_records(self, ids: Iterable[str]) -> dict[str, SourceRecord]: ...

    def records_of(self, subject_id: str) -> list[SourceRecord]:
        """Every record with a mention of the subject."""
        ...

    def search(self, text: str, subject_type: str | None = None, limit: int = 50) -> list[Subject]:
        """Subjects one of whose ``norm_names`` contains
        ``text`` (already normalised), sorted by id, at most ``limit``."""
        ...

    def iter_subjects(self, subject_type: str | None = None) -> Iterator[Subject]: ...

    def iter_relations(self, types: Iterable[str] | None = None) -> Iterator[Relation]: ...

    def iter_listings(self, kinds: Iterable[str] | None = None) -> Iterator[Listing]: ...

    def get_docs(self, collection: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]: ...

    def list_docs(self, collection: str) -> dict[str, dict[str, Any]]: ...

    def counts(self) -> dict[str, int]:
        """subjects, relations, listings, records (and redirects)."""
        ...
