"""A batch too large for one Neo4j transaction: written in parts, all or nothing.

Neo4j keeps a transaction's whole state in server memory
(``db.memory.transaction.max``, and all transactions together within
``dbms.memory.transaction.total.max``), so a city's registry file written as
one transaction is refused, however much disk the database has. A batch above
``write_chunk`` items is therefore written as *parts*, one transaction each,
and the file keeps its promise (all of it or none of it) by undo rather than by
one transaction:

- a ``(:Load {id: 'current'})`` marker, with a token and a heartbeat, says a
  parted write is under way; its unique id lets one run at a time;
- each part's transaction first stores the *before-image* of everything it
  is about to change (``(:LoadUndo)``: the nodes' properties and edges as they
  were, or that they did not exist), then writes;
- when a part fails, the writer restores the images, newest first, each in a
  transaction that also deletes it; when the writer dies instead, its marker's
  heartbeat stops, and the next store that opens (or that waits to write)
  restores them the same way;
- the last transaction deletes the images and the marker.

Other writes wait while a marker stands (their transaction reads it after
taking the store's generation lock, which every write takes first), so a
rollback never overwrites a write made meanwhile. Readers may see a parted
write half done, never a failed one once it has been undone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from neo4j import ManagedTransaction

from graph.store.base import Batch

# The kinds of a batch in the order a single transaction applies them
# (Neo4jStore._apply_batch): parts follow it, so a relation's part comes after
# the part that created its subjects, and deletes come before upserts.
KINDS = (
    "subjects",
    "delete_relations",
    "relations",
    "delete_listings",
    "listings",
    "records",
    "docs",
)


class LoadRunning(Exception):
    """Another parted write holds the marker (not an error a caller sees:
    the store waits, or rolls it back when its heartbeat is stale)."""

    def __init__(self, token: str, idle_s: float) -> None:
        super().__init__(f"parted write {token} under way (idle {idle_s:.0f} s)")
        self.token = token
        self.idle_s = idle_s


class LoadTakenOver(Exception):
    """This writer's marker is gone: another process judged it dead and
    rolled the write back."""


@dataclass(frozen=True)
class Part:
    kind: str
    batch: Batch
    # the ids (doc uids for docs) the part may change
    ids: list[str]


def size(batch: Batch) -> int:
    return sum(len(getattr(batch, kind)) for kind in KINDS)


def parts(batch: Batch, chunk: int, doc_uid: Callable[[str, str], str]) -> Iterator[Part]:
    """``batch`` as parts of at most ``chunk`` items, one kind each, in apply order.

    Applying the parts one after the other gives what applying the batch
    does: every write of a kind is an upsert that composes (a later part reads
    what an earlier one committed), and deletes of a kind precede its upserts.
    """
    for kind in KINDS:
        items = getattr(batch, kind)
        for start in range(0, len(items), chunk):
            piece = items[start : start + chunk]
            if kind in ("delete_relations", "delete_listings"):
                ids = list(dict.fromkeys(piece))
            elif kind == "docs":
                ids = list(dict.fromkeys(doc_uid(c, i) for c, i, _ in piece))
            else:
                ids = list(dict.fromkeys(x.id for x in piece))
            yield Part(kind, Batch(**{kind: list(piece)}), ids)


# -- the marker ---------------------------------------------------------------------

Q_MARKER = (
    "OPTIONAL MATCH (l:Load {id: 'current'}) "
    "RETURN l.token AS token, (timestamp() - l.beat) / 1000.0 AS idle_s"
)
Q_START = (
    "CREATE (l:Load {id: 'current', token: $token, owner: $owner, items: $items, "
    "beat: timestamp(), started: timestamp()})"
)
Q_BEAT = (
    "MATCH (l:Load {id: 'current', token: $token}) SET l.beat = timestamp(), l.part = $seq "
    "RETURN l.token AS token"
)
Q_SAVE_UNDO = "CREATE (:LoadUndo {token: $token, seq: $seq, kind: $kind, image_json: $image})"
Q_LAST_UNDO = (
    "MATCH (u:LoadUndo {token: $token}) RETURN u.seq AS seq, u.kind AS kind, "
    "u.image_json AS image ORDER BY u.seq DESC LIMIT 1"
)
Q_DROP_UNDO = "MATCH (u:LoadUndo {token: $token, seq: $seq}) DELETE u"
Q_FINISH = (
    "MATCH (l:Load {id: 'current', token: $token}) "
    "OPTIONAL MATCH (u:LoadUndo {token: $token}) DELETE u, l"
)
Q_END_MARKER = "MATCH (l:Load {id: 'current', token: $token}) DELETE l"


# What clear() passes as its own load: it deletes every load with the rest.
ANY = "*"


def read_marker(tx: ManagedTransaction) -> tuple[str | None, float]:
    """The token of the parted write under way (None: none), and for how many
    seconds its writer has been silent."""
    row = tx.run(Q_MARKER).single()
    if row is None or row["token"] is None:
        return None, 0.0
    return row["token"], float(row["idle_s"] or 0.0)


def check_marker(tx: ManagedTransaction, own: str | None) -> None:
    """Raise LoadRunning when a parted write other than ``own`` stands."""
    if own == ANY:
        return
    token, idle_s = read_marker(tx)
    if token is not None and token != own:
        raise LoadRunning(token, idle_s)


def beat(tx: ManagedTransaction, token: str, seq: int) -> None:
    if tx.run(Q_BEAT, token=token, seq=seq).single() is None:
        raise LoadTakenOver(f"parted write {token} was rolled back by another process")


# -- before-images --------------------------------------------------------------------

Q_SUBJECTS_BEFORE = (
    "UNWIND $ids AS i OPTIONAL MATCH (s:Subject {id: i}) OPTIONAL MATCH (r:Redirect {from: i}) "
    "RETURN i AS id, s {.*} AS props, "
    "CASE WHEN s IS NULL THEN [] ELSE [(k:Key)-[:IDENTIFIES]->(s) | k.value] END AS keys, "
    "r {.*} AS redirect"
)
Q_LISTINGS_BEFORE = (
    "UNWIND $ids AS i MATCH (l:Listing {id: i}) RETURN l {.*} AS props, "
    "[(l)-[:AGAINST]->(s:Subject) | s.id] AS against, "
    "[(l)-[n:NAMES]->(p:Subject) | {role: n.role, sid: p.id}] AS names"
)
Q_RECORDS_BEFORE = (
    "UNWIND $ids AS i MATCH (r:Record {id: i}) RETURN r {.*} AS props, "
    "[(r)-[m:MENTIONS]->(s:Subject) | {role: m.role, sid: s.id}] AS mentions"
)
Q_DOCS_BEFORE = "UNWIND $ids AS u MATCH (d:Doc {uid: u}) RETURN d {.*} AS props"


def capture(tx: ManagedTransaction, part: Part, rels_before: str) -> str:
    """The before-image of what ``part`` may change, as JSON (every property
    this store writes is a string, number, boolean or list of them).
    ``rels_before``: the store's query for relations by id (one index seek
    per relationship type)."""
    ids = part.ids
    image: dict[str, Any] = {"ids": ids}
    if part.kind == "subjects":
        image["rows"] = [dict(row) for row in tx.run(Q_SUBJECTS_BEFORE, ids=ids)]
    elif part.kind in ("delete_relations", "relations"):
        image["rows"] = [dict(row) for row in tx.run(rels_before, ids=ids)]
    elif part.kind in ("delete_listings", "listings"):
        image["rows"] = [dict(row) for row in tx.run(Q_LISTINGS_BEFORE, ids=ids)]
    elif part.kind == "records":
        image["rows"] = [dict(row) for row in tx.run(Q_RECORDS_BEFORE, ids=ids)]
    else:
        image["rows"] = [dict(row) for row in tx.run(Q_DOCS_BEFORE, ids=ids)]
    return json.dumps(image, ensure_ascii=False)


# -- restoring them --------------------------------------------------------------------

Q_SUBJECT_KEYS_NOW = (
    "UNWIND $ids AS i MATCH (k:Key)-[:IDENTIFIES]->(:Subject {id: i}) RETURN DISTINCT k.value AS v"
)
Q_DROP_SUBJECTS = "UNWIND $ids AS i MATCH (s:Subject {id: i}) DETACH DELETE s"
Q_RESTORE_SUBJECTS = (
    "UNWIND $rows AS row MERGE (s:Subject {id: row.id}) SET s = row.props "
    "WITH s, row CALL { WITH s, row MATCH (k:Key)-[e:IDENTIFIES]->(s) "
    "WHERE NOT k.value IN row.keys DELETE e } "
    "UNWIND row.keys AS kv MERGE (k:Key {value: kv}) MERGE (k)-[:IDENTIFIES]->(s)"
)
# A part never creates a redirect, only drops one (a subject created again under
# an id that was merged away): restoring is putting back the dropped ones.
Q_RESTORE_REDIRECTS = "UNWIND $rows AS row MERGE (r:Redirect {from: row.from}) SET r = row"
Q_DROP_ORPHAN_KEYS = (
    "UNWIND $values AS v MATCH (k:Key {value: v}) WHERE NOT (k)-[:IDENTIFIES]->() DELETE k"
)
Q_DROP_LISTINGS = "UNWIND $ids AS i MATCH (l:Listing {id: i}) DETACH DELETE l"
Q_RESTORE_LISTINGS = "UNWIND $rows AS row CREATE (l:Listing) SET l = row.props"
Q_RESTORE_AGAINST = (
    "UNWIND $rows AS row MATCH (l:Listing {id: row.props.id}) UNWIND row.against AS sid "
    "MATCH (s:Subject {id: sid}) CREATE (l)-[:AGAINST]->(s)"
)
Q_RESTORE_NAMES = (
    "UNWIND $rows AS row MATCH (l:Listing {id: row.props.id}) UNWIND row.names AS n "
    "MATCH (p:Subject {id: n.sid}) CREATE (l)-[:NAMES {role: n.role}]->(p)"
)
Q_DROP_RECORDS = "UNWIND $ids AS i MATCH (r:Record {id: i}) DETACH DELETE r"
Q_RESTORE_RECORDS = "UNWIND $rows AS row CREATE (r:Record) SET r = row.props"
Q_RESTORE_MENTIONS = (
    "UNWIND $rows AS row MATCH (r:Record {id: row.props.id}) UNWIND row.mentions AS m "
    "MATCH (s:Subject {id: m.sid}) CREATE (r)-[:MENTIONS {role: m.role}]->(s)"
)
Q_DROP_DOCS = "UNWIND $ids AS u MATCH (d:Doc {uid: u}) DELETE d"
Q_RESTORE_DOCS = "UNWIND $rows AS row CREATE (d:Doc) SET d = row.props"


def restore(
    tx: ManagedTransaction,
    kind: str,
    image_json: str,
    drop_rels: str,
    create_rels: Callable[[ManagedTransaction, list[dict[str, Any]]], None],
) -> None:
    """Put back what one part changed. ``drop_rels``: the store's delete of
    relations by id; ``create_rels(rows)``: its creation of relations from
    (source, target, props) rows, by relationship type."""
    image = json.loads(image_json)
    ids: list[str] = image["ids"]
    rows: list[dict[str, Any]] = image["rows"]
    if kind == "subjects":
        keys_now = [r["v"] for r in tx.run(Q_SUBJECT_KEYS_NOW, ids=ids)]
        absent = [r["id"] for r in rows if r["props"] is None]
        present = [r for r in rows if r["props"] is not None]
        if absent:
            tx.run(Q_DROP_SUBJECTS, ids=absent).consume()
        if present:
            tx.run(Q_RESTORE_SUBJECTS, rows=present).consume()
        redirects = [r["redirect"] for r in rows if r["redirect"] is not None]
        if redirects:
            tx.run(Q_RESTORE_REDIRECTS, rows=redirects).consume()
        if keys_now:
            tx.run(Q_DROP_ORPHAN_KEYS, values=keys_now).consume()
    elif kind in ("delete_relations", "relations"):
        tx.run(drop_rels, ids=ids).consume()
        if rows:
            create_rels(tx, rows)
    elif kind in ("delete_listings", "listings"):
        tx.run(Q_DROP_LISTINGS, ids=ids).consume()
        if rows:
            tx.run(Q_RESTORE_LISTINGS, rows=rows).consume()
            tx.run(Q_RESTORE_AGAINST, rows=rows).consume()
            tx.run(Q_RESTORE_NAMES, rows=rows).consume()
    elif kind == "records":
        tx.run(Q_DROP_RECORDS, ids=ids).consume()
        if rows:
            tx.run(Q_RESTORE_RECORDS, rows=rows).consume()
            tx.run(Q_RESTORE_MENTIONS, rows=rows).consume()
    else:
        tx.run(Q_DROP_DOCS, ids=ids).consume()
        if rows:
            tx.run(Q_RESTORE_DOCS, rows=rows).consume()
