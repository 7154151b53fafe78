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


@dataclass
class Reach:
    """Who is within ``depth`` hops of a subject: what a neighbourhood is made of."""

    # subject id -> hops from the centre (the centre at 0)
    distance: dict[str, int]
    # the relations whose two ends are both within reach
    edges: list[Relation]
    subjects: dict[str, Subject]
    # the cap cut the expansion
    truncated: bool = False


@dataclass
class Route:
    """A path between two subjects: node ids from one end to the other, and
    the relation between each two."""

    nodes: list[str]
    edges: list[Relation]


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

    def routes(
        self,
        source: str,
        target: str,
        max_depth: int,
        types: list[str] | None = None,
        as_of: str | None = None,
        limit: int = 10,
    ) -> list[Route]:
        """Every shortest path of at most ``max_depth`` hops between two
        subjects (either direction, relations of ``types`` active on
        ``as_of``), ordered by node ids then relation ids, the first ``limit``;
        a subject to itself is the one route of no hop. What
        ``bidirectional_routes`` answers."""
        ...

    def reach(
        self,
        center: str,
        depth: int,
        types: list[str] | None = None,
        as_of: str | None = None,
        max_nodes: int = 500,
    ) -> Reach:
        """The subjects within ``depth`` hops of ``center`` (either direction,
        relations of ``types`` active on ``as_of``), at most ``max_nodes``
        with the centre: kept in (distance, id) order when the cap cuts, so
        every store cuts the same way. What ``breadth_first`` answers."""
        ...

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


def breadth_first(
    store: GraphStore,
    center: str,
    depth: int,
    types: list[str] | None = None,
    as_of: str | None = None,
    max_nodes: int = 500,
) -> Reach:
    """``reach`` over ``relations_of``: one round trip per hop. The embedded
    store answers with it; Neo4j's single-query answer must equal it."""
    distance = {center: 0}
    frontier = [center]
    truncated = False
    for hop in range(1, depth + 1):
        if not frontier:
            break
        rels = store.relations_of(frontier, types, as_of)
        front = set(frontier)
        new_ids = sorted(
            {
                r.other(end)
                for r in rels
                for end in (r.source, r.target)
                if end in front and r.other(end) not in distance
            }
        )
        room = max_nodes - len(distance)
        if len(new_ids) > room:
            new_ids = new_ids[: max(room, 0)]
            truncated = True
        for sid in new_ids:
            distance[sid] = hop
        frontier = new_ids
        if truncated:
            break
    members = set(distance)
    edges = [
        r
        for r in store.relations_of(sorted(members), types, as_of)
        if r.source in members and r.target in members
    ]
    return Reach(distance, edges, store.get_subjects(sorted(members)), truncated)


def bidirectional_routes(
    store: GraphStore,
    source: str,
    target: str,
    max_depth: int,
    types: list[str] | None = None,
    as_of: str | None = None,
    limit: int = 10,
    max_frontier: int = 20_000,
) -> list[Route]:
    """``routes`` over ``relations_of``: expand the smaller side each round,
    stop at the first depth where the two sides meet, then enumerate the paths
    through the meeting layer. A side whose frontier passes ``max_frontier``
    subjects gives up (no route) rather than read a whole city."""
    if source == target:
        return [Route([source], [])]
    # parents[side][node] = list of (previous node, relation)
    parents: list[dict[str, list[tuple[str, Relation]]]] = [{source: []}, {target: []}]
    dist: list[dict[str, int]] = [{source: 0}, {target: 0}]
    level = [0, 0]
    frontiers: list[list[str]] = [[source], [target]]
    depth = 0
    meet: set[str] = set()
    while depth < max_depth and frontiers[0] and frontiers[1]:
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        here, there = parents[side], parents[1 - side]
        rels = store.relations_of(frontiers[side], types, as_of)
        nxt: dict[str, list[tuple[str, Relation]]] = {}
        current = set(frontiers[side])
        for rel in rels:
            for end in (rel.source, rel.target):
                if end not in current:
                    continue
                other = rel.other(end)
                if other in here:
                    continue
                nxt.setdefault(other, []).append((end, rel))
        level[side] += 1
        for node, links in nxt.items():
            here[node] = links
            dist[side][node] = level[side]
        depth += 1
        meet = {n for n in nxt if n in there}
        if meet:
            # Meeting nodes can sit at different depths on the far side; only the
            # shortest total length counts.
            best = min(dist[0][n] + dist[1][n] for n in meet)
            meet = {n for n in meet if dist[0][n] + dist[1][n] == best}
            break
        frontiers[side] = sorted(nxt)
        if len(frontiers[side]) > max_frontier:
            break
    if not meet:
        return []
    paths: list[Route] = []
    for node in sorted(meet):
        for left in _walk(parents[0], node):
            for right in _walk(parents[1], node):
                nodes = [n for n, _ in reversed(left)] + [node] + [n for n, _ in right]
                edges = [r for _, r in reversed(left)] + [r for _, r in right]
                paths.append(Route(nodes, edges))
    paths.sort(key=lambda p: (p.nodes, [e.id for e in p.edges]))
    return paths[:limit]


def _walk(
    parents: dict[str, list[tuple[str, Relation]]], node: str, cap: int = 1000
) -> list[list[tuple[str, Relation]]]:
    """Every chain of (previous node, relation) from ``node`` back to the root."""
    links = parents.get(node, [])
    if not links:
        return [[]]
    out: list[list[tuple[str, Relation]]] = []
    for prev, rel in sorted(links, key=lambda x: (x[0], x[1].id)):
        for rest in _walk(parents, prev, cap):
            out.append([(prev, rel), *rest])
            if len(out) >= cap:
                return out
    return out
