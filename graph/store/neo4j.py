"""The Neo4j store: the GraphStore protocol on a Neo4j 5 server or cluster.

Shape of the graph::

    (:Subject {id, type, name, names, norm_names, keys, status, attrs_json, search})
    (:Key {value})-[:IDENTIFIES]->(:Subject)
    (:Subject)-[:SHAREHOLDER {id, type, valid_from, valid_to, share, ..., props_keys,
                              props_json, record_ids}]->(:Subject)
    (:Listing {id, kind, number, department, start, end, props_json, record_ids})
        -[:AGAINST]->(:Subject)
    (:Listing)-[:NAMES {role}]->(:Subject)     one per props["parties"] entry
    (:Record {id, feed, file, row, loaded_at, digest, values_json, cleaned_json,
              warnings, version, mentions_json})-[:MENTIONS {role}]->(:Subject)
    (:Doc {uid, collection, id, body_json})
    (:Redirect {from, to})

Neo4j properties cannot hold maps, so nested dicts travel as JSON.

A relation is a relationship whose Neo4j type is its relation type's code in
upper case (``legal_representative`` -> ``LEGAL_REPRESENTATIVE``), so that the
database traverses one relation type without reading the others. Cypher cannot
take a relationship type as a parameter: the type names in query text come
only from graph/model.yaml's codes, each checked to be a plain identifier
(_neo4j_type); a code that is not in the model, or is not such an identifier,
is stored as ``Unmodelled`` (mixed case, so no code can produce it). The
``type`` property stays on every relationship and every query that filters on
types also tests it, so answers never depend on the mapping. A query over any
relation uses an untyped pattern between two :Subject nodes (no other
relationship joins two subjects), so a relation type added to model.yaml needs
no change here.

A relation's scalar props (share, title, amount, ...: strings, booleans,
64-bit integers, floats) are native relationship properties beside
valid_from and valid_to, so queries can filter on them. Props that Neo4j
cannot hold (nested lists or maps such as ``held`` and ``seen``, nulls, keys
that would shadow the relationship's own properties) stay in ``props_json``;
``props_keys`` keeps the props' order.

Databases written before this shape (every relation ``[:REL]`` with all props
in ``props_json``) are converted once when a store first opens them
(_migrate_relation_types), recorded by a ``(:Migration {id:
'relation_types'})`` node.

A batch larger than ``write_chunk`` items (a city's registry file) is
written as several transactions, all or nothing by undo: see
graph/store/neo4j_loads.py.

Every call is one managed transaction in a fresh session (``execute_read`` /
``execute_write``): the driver retries transient errors and reroutes in a
cluster, and a session never outlives a server restart. Upsert rules that need
the stored value (unions of lists, attrs merged key by key) are computed in
Python inside the write transaction, so they are the same code paths as the
embedded store's rather than a Cypher re-implementation of them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any, TypeVar

from neo4j import Driver, GraphDatabase, ManagedTransaction, unit_of_work
from neo4j.exceptions import (
    AuthError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from graph.errors import (
    CreditlinkError,
    QueryTimeout,
    StoreBusy,
    StoreRefused,
    StoreUnavailable,
)
from graph.model import Listing, Mention, Relation, SourceRecord, Subject, model
from graph.store import neo4j_loads as loads
from graph.store.base import (
    Batch,
    DocWrite,
    Reach,
    Route,
    apply_subject_upsert,
    bidirectional_routes,
    breadth_first,
    first_upsert,
    fold_subject,
    union_into,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
V = TypeVar("V")

# Pages of iter_*: large enough to amortise a round trip, small enough that a
# million subjects never sit in one result.
PAGE_SIZE = 5000
# Nodes deleted per transaction by clear(): bounded so the transaction state
# fits in the server's memory whatever the size of the graph.
CLEAR_CHUNK = 10000
# Joins norm_names into the one indexed ``search`` string. search() re-checks
# each name on its own, so the separator only has to keep the index a superset.
SEARCH_SEP = "\u0000"
DOC_SEP = "\u001f"
# Ids per read of a many-id look-up (see _read_in_chunks).
READ_CHUNK = 2000
# Items (subjects, relations, records, ...) per transaction of a parted write:
# a few tens of MB of transaction state, far below the default per-server
# limit of 70% of the heap.
WRITE_CHUNK = 5000
# Every write transaction, from any process, gives the store a new generation
# token (a fresh UUID, never reused, even after clear()): caches of answers
# computed from the whole store (GET /quality) are keyed by it.
Q_STAMP = "MERGE (g:Generation {id: 'store'}) SET g.token = randomUUID()"
Q_GENERATION = "MATCH (g:Generation {id: 'store'}) RETURN g.token AS token"
# What an HTTP caller is told when the server cannot answer: no address.
PUBLIC_DOWN = "the Neo4j store is unavailable; try again later"

SCHEMA = (
    "CREATE CONSTRAINT subject_id IF NOT EXISTS FOR (s:Subject) REQUIRE s.id IS UNIQUE",
    "CREATE CONSTRAINT key_value IF NOT EXISTS FOR (k:Key) REQUIRE k.value IS UNIQUE",
    "CREATE CONSTRAINT listing_id IF NOT EXISTS FOR (l:Listing) REQUIRE l.id IS UNIQUE",
    "CREATE CONSTRAINT record_id IF NOT EXISTS FOR (r:Record) REQUIRE r.id IS UNIQUE",
    "CREATE CONSTRAINT doc_uid IF NOT EXISTS FOR (d:Doc) REQUIRE d.uid IS UNIQUE",
    "CREATE CONSTRAINT redirect_from IF NOT EXISTS FOR (r:Redirect) REQUIRE r.from IS UNIQUE",
    "CREATE CONSTRAINT generation_id IF NOT EXISTS FOR (g:Generation) REQUIRE g.id IS UNIQUE",
    # One parted write at a time (neo4j_loads): its marker's id is unique.
    "CREATE CONSTRAINT load_id IF NOT EXISTS FOR (l:Load) REQUIRE l.id IS UNIQUE",
    "CREATE INDEX load_undo IF NOT EXISTS FOR (u:LoadUndo) ON (u.token)",
    "CREATE INDEX listing_number IF NOT EXISTS FOR (l:Listing) ON (l.number)",
    # merge_subjects re-points every redirect that pointed at the merged id.
    "CREATE INDEX redirect_to IF NOT EXISTS FOR (r:Redirect) ON (r.to)",
    "CREATE INDEX doc_collection IF NOT EXISTS FOR (d:Doc) ON (d.collection)",
    "CREATE TEXT INDEX subject_search IF NOT EXISTS FOR (s:Subject) ON (s.search)",
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


# -- relation types -------------------------------------------------------------

# Relationships that are not relations: a code whose upper case is one of these
# goes to UNMODELLED rather than share a type with them.
_OTHER_TYPES = frozenset({"REL", "IDENTIFIES", "AGAINST", "NAMES", "MENTIONS"})
_SAFE_CODE = re.compile(r"[a-z][a-z0-9_]{0,62}")
UNMODELLED = "Unmodelled"
# Properties of a relation's relationship that are not its props.
_REL_OWN = frozenset(
    {"id", "type", "valid_from", "valid_to", "props_json", "props_keys", "record_ids"}
)
_INT64 = (-(2**63), 2**63 - 1)


def _neo4j_type(code: str) -> str:
    """The relationship type of relation type ``code``; the only source of type names in Cypher."""
    if code in model().relation_types and _SAFE_CODE.fullmatch(code):
        name = code.upper()
        if name not in _OTHER_TYPES:
            return name
    return UNMODELLED


def _modelled_types() -> list[str]:
    """Every relationship type a relation may have under the current model, once."""
    return list(dict.fromkeys([*map(_neo4j_type, model().relation_types), UNMODELLED]))


def _native(value: Any) -> bool:
    if isinstance(value, (str, bool, float)):
        return True
    return isinstance(value, int) and _INT64[0] <= value <= _INT64[1]


# -- model <-> properties ------------------------------------------------------


def _subject_props(s: Subject) -> dict[str, Any]:
    return {
        "id": s.id,
        "type": s.type,
        "name": s.name,
        "names": list(s.names),
        "norm_names": list(s.norm_names),
        "keys": list(s.keys),
        "status": s.status,
        "attrs_json": _dumps(s.attrs),
        "search": SEARCH_SEP.join(s.norm_names),
    }


def _subject(p: dict[str, Any]) -> Subject:
    return Subject(
        id=p["id"],
        type=p.get("type") or "",
        name=p.get("name") or "",
        names=list(p.get("names") or []),
        norm_names=list(p.get("norm_names") or []),
        keys=list(p.get("keys") or []),
        status=p.get("status"),
        attrs=_loads(p.get("attrs_json")) or {},
    )


def _relation_props(r: Relation, record_ids: list[str]) -> dict[str, Any]:
    # An empty string is no property key Neo4j accepts.
    native = {k: v for k, v in r.props.items() if k and k not in _REL_OWN and _native(v)}
    rest = {k: v for k, v in r.props.items() if k not in native}
    return {
        **native,
        "id": r.id,
        "type": r.type,
        "valid_from": r.valid_from,
        "valid_to": r.valid_to,
        "props_keys": list(r.props),
        "props_json": _dumps(rest) if rest else None,
        "record_ids": record_ids,
    }


def _relation(p: dict[str, Any], source: str, target: str) -> Relation:
    encoded = _loads(p.get("props_json")) or {}
    # Before props_keys (an unmigrated relation), every prop was in props_json.
    keys = p.get("props_keys")
    props = (
        {k: encoded[k] if k in encoded else p.get(k) for k in keys} if keys is not None else encoded
    )
    return Relation(
        id=p["id"],
        type=p["type"],
        source=source,
        target=target,
        valid_from=p.get("valid_from"),
        valid_to=p.get("valid_to"),
        props=props,
        record_ids=list(p.get("record_ids") or []),
    )


def _listing_props(x: Listing, record_ids: list[str]) -> dict[str, Any]:
    return {
        "id": x.id,
        "kind": x.kind,
        "number": x.number,
        "department": x.department,
        "start": x.start,
        "end": x.end,
        "props_json": _dumps(x.props),
        "record_ids": record_ids,
    }


def _listing(p: dict[str, Any], subject_id: str) -> Listing:
    return Listing(
        id=p["id"],
        kind=p["kind"],
        subject_id=subject_id,
        number=p.get("number"),
        department=p.get("department"),
        start=p.get("start"),
        end=p.get("end"),
        props=_loads(p.get("props_json")) or {},
        record_ids=list(p.get("record_ids") or []),
    )


def _party_rows(props: dict[str, Any]) -> list[dict[str, str]]:
    parties = props.get("parties")
    if not isinstance(parties, dict):
        return []
    return [
        {"role": role, "sid": sid} for role, sid in sorted(parties.items()) if isinstance(sid, str)
    ]


def _mentions_json(mentions: list[Mention]) -> str:
    return _dumps(
        [{"subject_id": m.subject_id, "role": m.role, "match": m.match} for m in mentions]
    )


def _mentions(text: str | None) -> list[Mention]:
    return [
        Mention(m["subject_id"], m["role"], dict(m.get("match") or {})) for m in _loads(text) or []
    ]


def _record_props(r: SourceRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "feed": r.feed,
        "file": r.file,
        "row": r.row,
        "loaded_at": r.loaded_at,
        "digest": r.digest,
        "values_json": _dumps(r.values),
        "cleaned_json": _dumps(r.cleaned),
        "warnings": list(r.warnings),
        "version": r.version,
        "mentions_json": _mentions_json(r.mentions),
    }


def _record(p: dict[str, Any]) -> SourceRecord:
    return SourceRecord(
        id=p["id"],
        feed=p["feed"],
        file=p["file"],
        row=int(p["row"]),
        loaded_at=p["loaded_at"],
        digest=p["digest"],
        values=_loads(p.get("values_json")) or {},
        cleaned=_loads(p.get("cleaned_json")) or {},
        warnings=list(p.get("warnings") or []),
        mentions=_mentions(p.get("mentions_json")),
        version=int(p.get("version") or 1),
    )


def _mention_rows(rec_id: str, mentions: list[Mention]) -> list[dict[str, str]]:
    # One MENTIONS edge per (subject, role): a record naming the same subject
    # twice in one role needs it once for records_of().
    seen = {(m.subject_id, m.role) for m in mentions}
    return [{"rid": rec_id, "sid": sid, "role": role} for sid, role in sorted(seen)]


def _doc_uid(collection: str, doc_id: str) -> str:
    return collection + DOC_SEP + doc_id


def _is_timeout(exc: Neo4jError) -> bool:
    code = exc.code or ""
    # A query over its time limit fails with TransactionTimedOut*; one that was
    # still waiting for a lock at that moment fails with LockClientStopped.
    return "TransactionTimedOut" in code or code.endswith(".LockClientStopped")


# -- Cypher --------------------------------------------------------------------

Q_SUBJECTS = "MATCH (s:Subject) WHERE s.id IN $ids RETURN s {.*} AS s"
Q_SET_SUBJECTS = "UNWIND $rows AS row MERGE (s:Subject {id: row.id}) SET s = row"
Q_SET_KEYS = (
    "UNWIND $rows AS row MATCH (s:Subject {id: row.id}) "
    "UNWIND row.keys AS kv MERGE (k:Key {value: kv}) MERGE (k)-[:IDENTIFIES]->(s)"
)
Q_DROP_REDIRECTS = "UNWIND $ids AS i MATCH (r:Redirect {from: i}) DELETE r"
Q_EXISTING_IDS = "UNWIND $ids AS i MATCH (s:Subject {id: i}) RETURN s.id AS id"


def _rel_id_index(neo4j_type: str) -> str:
    # Neo4j 5 indexes a relationship property for one relationship type, so
    # relations are found by id through one index per type (created from the
    # model when the schema is, see _ensure_schema) rather than through their
    # end nodes: a delete by id knows no end node.
    return (
        f"CREATE INDEX rel_id_{neo4j_type.lower()} IF NOT EXISTS "
        f"FOR ()-[r:{neo4j_type}]-() ON (r.id)"
    )


def _rels_by_id(tail: str) -> str:
    """``UNWIND $ids AS i``, the relation with id ``i`` as ``a``-``r``->``b``, then ``tail``.

    One UNION branch per relationship type, each an index seek; a type
    alternation in one pattern would not use the per-type indexes.
    """
    branches = " UNION ".join(
        f"WITH i MATCH (a:Subject)-[r:{t} {{id: i}}]->(b:Subject) RETURN r, a, b"
        for t in _modelled_types()
    )
    return f"UNWIND $ids AS i CALL {{ {branches} }} {tail}"


# Relations by id as they are, for a parted write's before-image (built per
# use, like every _rels_by_id query: the model's types may have grown).
RELS_BEFORE_TAIL = "RETURN r {.*} AS props, a.id AS source, b.id AS target"


def _q_create_rels(neo4j_type: str) -> str:
    return (
        "UNWIND $rows AS row MATCH (a:Subject {id: row.source}) MATCH (b:Subject {id: row.target}) "
        f"CREATE (a)-[r:{neo4j_type}]->(b) SET r = row.p"
    )


def _type_pattern(types: list[str] | None, var: str = "r") -> str:
    """``var`` of any relation, or with one of the relationship types of ``types``."""
    if types is None:
        return var
    return var + ":" + "|".join(dict.fromkeys(map(_neo4j_type, types)))


Q_LISTING_RECORD_IDS = (
    "UNWIND $ids AS i MATCH (l:Listing {id: i}) RETURN i AS id, l.record_ids AS ri"
)
Q_DELETE_LISTINGS = "UNWIND $ids AS i MATCH (l:Listing {id: i}) DETACH DELETE l"
# The NAMES edges are rewritten by the statement that writes the listing, so
# they never disagree with props_json. The subquery drops the old ones without
# multiplying rows; the UNWIND of parties comes last because an empty list ends
# that listing's row.
_NAMES_TAIL = (
    " WITH l, row CALL { WITH l MATCH (l)-[old:NAMES]->() DELETE old }"
    " UNWIND row.parties AS party MATCH (ps:Subject {id: party.sid})"
    " CREATE (l)-[:NAMES {role: party.role}]->(ps)"
)
Q_SET_LISTINGS = "UNWIND $rows AS row MERGE (l:Listing {id: row.p.id}) SET l = row.p" + _NAMES_TAIL
Q_SET_LISTING_PARTIES = (
    "UNWIND $rows AS row MATCH (l:Listing {id: row.id}) SET l.props_json = row.pj" + _NAMES_TAIL
)
Q_LISTINGS_NAMING_ONE = (
    "MATCH (l:Listing)-[:NAMES]->(:Subject {id: $id}) "
    "RETURN DISTINCT l.id AS id, l.props_json AS pj, l.record_ids AS ri"
)
Q_UNLINK_LISTINGS = "UNWIND $ids AS i MATCH (:Listing {id: i})-[a:AGAINST]->() DELETE a"
Q_LINK_LISTINGS = (
    "UNWIND $rows AS row MATCH (l:Listing {id: row.id}) MATCH (s:Subject {id: row.sid}) "
    "CREATE (l)-[:AGAINST]->(s)"
)
Q_SET_RECORDS = "UNWIND $rows AS row MERGE (r:Record {id: row.id}) SET r = row"
Q_UNLINK_RECORDS = "UNWIND $ids AS i MATCH (:Record {id: i})-[m:MENTIONS]->() DELETE m"
Q_LINK_RECORDS = (
    "UNWIND $rows AS row MATCH (r:Record {id: row.rid}) MATCH (s:Subject {id: row.sid}) "
    "MERGE (r)-[:MENTIONS {role: row.role}]->(s)"
)
Q_DELETE_DOCS = "UNWIND $uids AS u MATCH (d:Doc {uid: u}) DELETE d"
Q_SET_DOCS = "UNWIND $rows AS row MERGE (d:Doc {uid: row.uid}) SET d = row"

Q_RELS_TOUCHING = (
    "MATCH (:Subject {id: $id})-[r]-(:Subject) "
    "RETURN DISTINCT r {.*} AS r, startNode(r).id AS source, endNode(r).id AS target"
)
Q_LISTINGS_AGAINST = "MATCH (l:Listing)-[:AGAINST]->(:Subject {id: $id}) RETURN l {.*} AS l"
Q_RECORDS_MENTIONING = (
    "MATCH (r:Record)-[:MENTIONS]->(:Subject {id: $id}) RETURN DISTINCT r {.*} AS r"
)
Q_SET_MENTIONS_JSON = (
    "UNWIND $rows AS row MATCH (r:Record {id: row.id}) SET r.mentions_json = row.mj"
)

# A relation of the asked types active on $as_of, as a predicate on ``{r}``.
_ACTIVE = (
    "($types IS NULL OR {r}.type IN $types) "
    "AND ($as_of IS NULL OR (({r}.valid_from IS NULL OR {r}.valid_from <= $as_of) "
    "AND ({r}.valid_to IS NULL OR $as_of < {r}.valid_to)))"
)


def _hops(types: list[str] | None, most: int) -> str:
    """One to ``most`` hops between subjects over active relations of ``types``,
    as a quantified path pattern (the bounds must be literals)."""
    hop = _type_pattern(types, "h")
    return f"((:Subject)-[{hop} WHERE {_ACTIVE.format(r='h')}]-(:Subject)){{1,{int(most)}}}"


def _q_routes(types: list[str] | None, max_depth: int) -> str:
    """bidirectional_routes's answer in one query: ``ALL SHORTEST`` keeps every
    path of the least length, ordered and cut as that function does."""
    return (
        "MATCH (a:Subject {id: $source}) MATCH (b:Subject {id: $target}) "
        f"MATCH p = ALL SHORTEST (a){_hops(types, max_depth)}(b) "
        "WITH p, [n IN nodes(p) | n.id] AS ids, [r IN relationships(p) | r.id] AS rids "
        "ORDER BY ids, rids LIMIT $limit "
        "RETURN ids, [r IN relationships(p) | "
        "{r: r {.*}, source: startNode(r).id, target: endNode(r).id}] AS edges"
    )


def _q_reach(types: list[str] | None, depth: int) -> str:
    """breadth_first's answer in one query: ``ANY SHORTEST`` gives every subject
    within ``depth`` hops once, at its distance (a breadth-first search in the
    database, not an enumeration of paths); the cap keeps the first in
    (distance, id) order; then the relations among those kept, and their
    subjects."""
    edge = _type_pattern(types)
    return (
        "MATCH (c:Subject {id: $center}) "
        "CALL (c) { "
        f"MATCH p = ANY SHORTEST (c){_hops(types, depth)}(n:Subject) WHERE n <> c "
        "WITH n.id AS id, length(p) AS d ORDER BY d, id LIMIT $limit "
        "RETURN collect({id: id, d: d}) AS found } "
        "WITH c, found[..$cap] AS kept, size(found) > $cap AS truncated "
        "WITH truncated, kept, [c.id] + [x IN kept | x.id] AS ids "
        "CALL (ids) { "
        f"MATCH (a:Subject)-[{edge}]->(b:Subject) "
        f"WHERE a.id IN ids AND b.id IN ids AND {_ACTIVE.format(r='r')} "
        "RETURN collect({r: r {.*}, source: a.id, target: b.id}) AS edges } "
        "CALL (ids) { MATCH (s:Subject) WHERE s.id IN ids RETURN collect(s {.*}) AS subjects } "
        "RETURN truncated, kept, edges, subjects"
    )


_REL_FILTER = (
    f"WHERE s.id IN $ids AND {_ACTIVE.format(r='r')} "
    "RETURN DISTINCT r {.*} AS r, startNode(r).id AS source, endNode(r).id AS target"
)
# The pattern's arrow is the direction; {r} is _type_pattern's.
Q_RELATIONS_OF = {
    "both": "MATCH (s:Subject)-[{r}]-(:Subject) " + _REL_FILTER,
    "out": "MATCH (s:Subject)-[{r}]->(:Subject) " + _REL_FILTER,
    "in": "MATCH (s:Subject)<-[{r}]-(:Subject) " + _REL_FILTER,
}
_LISTING_KINDS = "AND ($kinds IS NULL OR l.kind IN $kinds)"
Q_LISTINGS_OF = (
    f"MATCH (l:Listing)-[:AGAINST]->(s:Subject) WHERE s.id IN $keys {_LISTING_KINDS} "
    "RETURN l {.*} AS l, s.id AS sid"
)
Q_LISTINGS_BY_NUMBER = (
    f"MATCH (l:Listing)-[:AGAINST]->(s:Subject) WHERE l.number IN $keys {_LISTING_KINDS} "
    "RETURN l {.*} AS l, s.id AS sid"
)
Q_LISTINGS_NAMING = (
    f"MATCH (l:Listing)-[:NAMES]->(p:Subject) WHERE p.id IN $keys {_LISTING_KINDS} "
    "WITH DISTINCT l MATCH (l)-[:AGAINST]->(s:Subject) RETURN l {.*} AS l, s.id AS sid"
)


class Neo4jStore:
    """GraphStore on Neo4j 5; ``uri`` may be bolt://, neo4j:// (cluster routing) or a +s variant."""

    name = "neo4j"

    def __init__(
        self,
        uri: str,
        user: str = "neo4j",
        password: str = "",
        database: str = "neo4j",
        timeout_s: float = 10.0,
        write_timeout_s: float | None = None,
        write_chunk: int = WRITE_CHUNK,
        load_stale_s: float | None = None,
    ) -> None:
        self.uri = uri
        self.database = database
        self.timeout_s = timeout_s
        # Loads write thousands of rows per batch: they get more time than a
        # query an investigator is waiting for.
        self.write_timeout_s = (
            write_timeout_s if write_timeout_s is not None else max(60.0, timeout_s)
        )
        self.write_chunk = write_chunk
        # A parted write beats at every part, and a part lasts at most the
        # write timeout: a marker silent for three of them has lost its writer.
        self.load_stale_s = (
            load_stale_s if load_stale_s is not None else max(180.0, 3 * self.write_timeout_s)
        )
        self._driver: Driver = GraphDatabase.driver(
            uri,
            auth=(user, password),
            connection_timeout=min(5.0, timeout_s),
            connection_acquisition_timeout=max(timeout_s, 5.0),
            # Retries ride out a leader election or a restart, but a caller
            # waiting for a 503 should not wait longer than for a slow query.
            max_transaction_retry_time=timeout_s,
            # The queries are fixed text reviewed here; server hints such as
            # "property key does not exist" on an empty database are noise in
            # the service log.
            notifications_min_severity="OFF",
        )
        self._closed = False
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        # One quick connectivity check (no retries) rather than the schema's
        # retried writes, so that opening against a stopped server does not
        # stall; the first call creates the schema once the server is up.
        with contextlib.suppress(StoreUnavailable):
            self.ping()
            self._ensure_schema()

    # -- plumbing ----------------------------------------------------------
    def _translate(self, exc: Exception) -> Exception:
        # The operator's message names the server; answers to callers carry only
        # PUBLIC_DOWN (an address in a public /health or a 503 body helps nobody
        # but an attacker mapping the network).
        if isinstance(exc, AuthError):
            return StoreUnavailable(
                f"Neo4j at {self.uri} refused the credentials: {exc}", PUBLIC_DOWN, uri=self.uri
            )
        if isinstance(exc, (ServiceUnavailable, SessionExpired)):
            return StoreUnavailable(
                f"Neo4j at {self.uri} is unavailable: {exc}", PUBLIC_DOWN, uri=self.uri
            )
        if isinstance(exc, Neo4jError) and _is_timeout(exc):
            return QueryTimeout(
                f"Neo4j query exceeded its time limit: {exc.message or exc}", uri=self.uri
            )
        if isinstance(exc, Neo4jError) and "Memory" in (exc.code or ""):
            # MemoryPoolOutOfMemoryError, TransactionMemoryLimit: one
            # transaction (one file) larger than the server lets one hold.
            return StoreRefused(
                "Neo4j refused the transaction: it needs more memory than the server "
                f"allows one transaction ({exc.code}). Write in smaller transactions "
                f"(CREDITLINK_NEO4J_WRITE_CHUNK, now {self.write_chunk} items), "
                "or give Neo4j more memory (CREDITLINK_NEO4J_HEAP, CREDITLINK_NEO4J_TX_MEMORY "
                "for scripts/neo4j.sh; dbms.memory.transaction.total.max for another server).",
                neo4j_code=exc.code,
            )
        if isinstance(exc, OSError):
            return StoreUnavailable(
                f"Neo4j at {self.uri} is unreachable: {exc}", PUBLIC_DOWN, uri=self.uri
            )
        return exc

    def _session_run(
        self, work: Callable[[ManagedTransaction], T], write: bool, timeout: float
    ) -> T:
        if self._closed:
            raise StoreUnavailable("the Neo4j store is closed", PUBLIC_DOWN)
        tx_fn = unit_of_work(timeout=timeout)(work)
        try:
            with self._driver.session(database=self.database) as session:
                if write:
                    return session.execute_write(tx_fn)
                return session.execute_read(tx_fn)
        except (Neo4jError, DriverError, OSError) as exc:
            translated = self._translate(exc)
            if translated is exc:
                raise
            raise translated from exc

    def _read(self, work: Callable[[ManagedTransaction], T]) -> T:
        self._ensure_schema()
        return self._session_run(work, write=False, timeout=self.timeout_s)

    def _read_in_chunks(
        self,
        ids: Iterable[str],
        work_for: Callable[[list[str]], Callable[[ManagedTransaction], dict[str, V]]],
    ) -> dict[str, V]:
        """A look-up of many ids (every key of a 10,000-row file) as several
        short reads, so none of them runs into the query timeout. The answer
        has the ids found, each once, in the order asked."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, V] = {}
        for start in range(0, len(wanted), READ_CHUNK):
            found.update(self._read(work_for(wanted[start : start + READ_CHUNK])))
        return {i: found[i] for i in wanted if i in found}

    def _write(self, work: Callable[[ManagedTransaction], T], load: str | None = None) -> T:
        """``work`` in a write transaction; ``load``: the parted write it is
        part of (the one write that may pass that write's marker)."""
        self._ensure_schema()

        def stamped(tx: ManagedTransaction) -> T:
            # First, the one node every write locks: writes run one at a time
            # (a part and a judgement cannot deadlock), and a parted write's
            # marker cannot appear between the check below and this commit,
            # so its undo never overwrites a write it did not see.
            tx.run(Q_STAMP).consume()
            loads.check_marker(tx, load)
            return work(tx)

        deadline = time.monotonic() + self.write_timeout_s
        while True:
            try:
                return self._session_run(stamped, write=True, timeout=self.write_timeout_s)
            except loads.LoadRunning as running:
                if running.idle_s > self.load_stale_s:
                    log.warning(
                        "rolling back parted write %s: no sign of its writer for %.0f s",
                        running.token,
                        running.idle_s,
                    )
                    self._roll_back(running.token)
                    continue
                if time.monotonic() > deadline:
                    raise StoreBusy(
                        "another load is being written to Neo4j; try again when it ends",
                        retry_after_s=5,
                    ) from None
                time.sleep(0.2)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            # A relation type added to model.yaml later gets its index when a
            # store next opens the database; until then its look-ups by id scan
            # that one type.
            for statement in [*SCHEMA, *map(_rel_id_index, _modelled_types())]:
                self._schema_statement(statement)
            self._backfill_names()
            self._migrate_relation_types()
            self._schema_ready = True
            self._recover_stale_load()

    def _schema_statement(self, statement: str) -> None:
        # Schema and data cannot share a transaction: one each.
        def create(tx: ManagedTransaction) -> None:
            tx.run(statement).consume()

        self._session_run(create, write=True, timeout=self.write_timeout_s)

    def _migrate_relation_types(self) -> None:
        """Convert relations stored as ``[:REL]`` (props all in props_json) to
        their own relationship types and native props, once per database.

        A page per transaction rather than ``CALL { ... } IN TRANSACTIONS``:
        the conversion decodes props_json, which Cypher cannot, and goes
        through _relation / _relation_props like any write. A page deletes
        the REL relationships it converted, so a migration cut short resumes
        where it stopped when the store is next opened.
        """

        def done(tx: ManagedTransaction) -> bool:
            found = tx.run("MATCH (m:Migration {id: 'relation_types'}) RETURN m").single()
            return found is not None

        if self._session_run(done, write=False, timeout=self.timeout_s):
            return

        def page(tx: ManagedTransaction) -> int:
            result = tx.run(
                "MATCH (a:Subject)-[r:REL]->(b:Subject) WITH a, r, b LIMIT $n "
                "RETURN r {.*} AS r, a.id AS source, b.id AS target",
                n=PAGE_SIZE,
            )
            rels = [_relation(row["r"], row["source"], row["target"]) for row in result]
            if rels:
                tx.run(
                    "UNWIND $ids AS i MATCH (:Subject)-[r:REL {id: i}]->(:Subject) DELETE r",
                    ids=[r.id for r in rels],
                ).consume()
                self._create_relations(tx, rels)
            return len(rels)

        while self._session_run(page, write=True, timeout=self.write_timeout_s) == PAGE_SIZE:
            pass
        self._schema_statement("DROP INDEX rel_id IF EXISTS")
        self._session_run(
            lambda tx: tx.run("MERGE (:Migration {id: 'relation_types'})").consume(),
            write=True,
            timeout=self.write_timeout_s,
        )

    def _backfill_names(self) -> None:
        """Give listings written before NAMES edges existed their edges, once per database."""

        def done(tx: ManagedTransaction) -> bool:
            return tx.run("MATCH (m:Migration {id: 'listing_names'}) RETURN m").single() is not None

        if self._session_run(done, write=False, timeout=self.timeout_s):
            return
        after = ""
        while True:

            def page(tx: ManagedTransaction, after: str = after) -> list[dict[str, Any]]:
                result = tx.run(
                    "MATCH (l:Listing) WHERE l.id > $after AND l.props_json CONTAINS "
                    "'\"parties\"' AND NOT (l)-[:NAMES]->() "
                    "RETURN l.id AS id, l.props_json AS pj ORDER BY l.id LIMIT $n",
                    after=after,
                    n=PAGE_SIZE,
                )
                rows = []
                for row in result:
                    props = _loads(row["pj"]) or {}
                    rows.append({"id": row["id"], "pj": row["pj"], "parties": _party_rows(props)})
                if rows:
                    tx.run(Q_SET_LISTING_PARTIES, rows=rows).consume()
                return rows

            rows = self._session_run(page, write=True, timeout=self.write_timeout_s)
            if len(rows) < PAGE_SIZE:
                break
            after = rows[-1]["id"]
        self._session_run(
            lambda tx: tx.run("MERGE (:Migration {id: 'listing_names'})").consume(),
            write=True,
            timeout=self.write_timeout_s,
        )

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._driver.close()

    def clear(self) -> None:
        def chunk(tx: ManagedTransaction) -> int:
            rec = tx.run(
                "MATCH (n) WHERE NOT n:Generation WITH n LIMIT $n DETACH DELETE n "
                "RETURN count(*) AS c",
                n=CLEAR_CHUNK,
            ).single()
            return int(rec["c"]) if rec else 0

        # Parted writes go with everything else (their writers, if alive,
        # find their marker gone and stop).
        while self._write(chunk, load=loads.ANY) > 0:
            pass

    def generation(self) -> str:
        def work(tx: ManagedTransaction) -> str:
            rec = tx.run(Q_GENERATION).single()
            return str(rec["token"]) if rec and rec["token"] else "empty"

        return self._read(work)

    def ping(self) -> None:
        if self._closed:
            raise StoreUnavailable("the Neo4j store is closed", PUBLIC_DOWN)
        try:
            self._driver.verify_connectivity()
        except (Neo4jError, DriverError, OSError) as exc:
            translated = self._translate(exc)
            if translated is exc:
                raise StoreUnavailable(
                    f"Neo4j at {self.uri} cannot answer: {exc}", PUBLIC_DOWN
                ) from exc
            raise translated from exc

    # -- writer ------------------------------------------------------------
    def write(self, batch: Batch) -> None:
        if batch.is_empty():
            return
        if loads.size(batch) > self.write_chunk:
            self._write_parted(batch)
            return
        self._write(lambda tx: self._apply_batch(tx, batch))

    def _write_parted(self, batch: Batch) -> None:
        """``batch`` in parts of ``write_chunk`` items, all or nothing (neo4j_loads)."""
        token = uuid.uuid4().hex
        owner = f"{socket.gethostname()} pid {os.getpid()}"
        self._write(
            lambda tx: tx.run(
                loads.Q_START, token=token, owner=owner, items=loads.size(batch)
            ).consume()
        )
        try:
            for seq, part in enumerate(loads.parts(batch, self.write_chunk, _doc_uid), 1):
                self._write(self._part_work(token, seq, part), load=token)
        except loads.LoadTakenOver as exc:
            raise StoreBusy(
                "this load was rolled back by another process that took it for dead; "
                "load the file again",
                retry_after_s=5,
            ) from exc
        except BaseException:
            try:
                self._roll_back(token)
            except Exception:
                # The original error is the one to report; the marker stays and
                # the next store to open undoes the rest.
                log.exception("rolling back parted write %s failed; left for recovery", token)
            raise
        self._write(lambda tx: tx.run(loads.Q_FINISH, token=token).consume(), load=token)

    def _part_work(
        self, token: str, seq: int, part: loads.Part
    ) -> Callable[[ManagedTransaction], None]:
        def work(tx: ManagedTransaction) -> None:
            loads.beat(tx, token, seq)
            image = loads.capture(tx, part, _rels_by_id(RELS_BEFORE_TAIL))
            tx.run(loads.Q_SAVE_UNDO, token=token, seq=seq, kind=part.kind, image=image).consume()
            self._apply_batch(tx, part.batch)

        return work

    def _roll_back(self, token: str) -> None:
        """Undo parted write ``token``, newest part first, a transaction a part
        (each deletes its image: a rollback cut short resumes where it stopped)."""

        def undo_last(tx: ManagedTransaction) -> bool:
            row = tx.run(loads.Q_LAST_UNDO, token=token).single()
            if row is None:
                tx.run(loads.Q_END_MARKER, token=token).consume()
                return False
            loads.restore(
                tx, row["kind"], row["image"], _rels_by_id("DELETE r"), self._create_rel_rows
            )
            tx.run(loads.Q_DROP_UNDO, token=token, seq=row["seq"]).consume()
            return True

        while self._write(undo_last, load=token):
            pass

    def _recover_stale_load(self) -> None:
        try:
            token, idle_s = self._session_run(
                loads.read_marker, write=False, timeout=self.timeout_s
            )
            if token is not None and idle_s > self.load_stale_s:
                log.warning("rolling back parted write %s left by a writer that died", token)
                self._roll_back(token)
        except CreditlinkError as exc:
            # Opening the store does not depend on it: the next write that
            # meets the stale marker rolls it back (see _write).
            log.warning("could not roll back a dead parted write yet: %s", exc)

    def _create_rel_rows(self, tx: ManagedTransaction, rows: list[dict[str, Any]]) -> None:
        """Relations as their relationships' properties (``props``, whose
        ``type`` gives the relationship type) and end ids."""
        by_type: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_type.setdefault(_neo4j_type(row["props"]["type"]), []).append(
                {"source": row["source"], "target": row["target"], "p": row["props"]}
            )
        for neo4j_type, typed in by_type.items():
            tx.run(_q_create_rels(neo4j_type), rows=typed).consume()

    def _apply_batch(self, tx: ManagedTransaction, b: Batch) -> None:
        # Same order as the embedded store: deletes before upserts of each kind,
        # so a batch may delete and re-create the same id.
        if b.subjects:
            self._upsert_subjects(tx, b.subjects)
        if b.delete_relations:
            tx.run(_rels_by_id("DELETE r"), ids=list(dict.fromkeys(b.delete_relations))).consume()
        if b.relations:
            self._upsert_relations(tx, b.relations)
        if b.delete_listings:
            tx.run(Q_DELETE_LISTINGS, ids=list(dict.fromkeys(b.delete_listings))).consume()
        if b.listings:
            self._upsert_listings(tx, b.listings)
        if b.records:
            self._upsert_records(tx, b.records)
        if b.docs:
            self._apply_docs(tx, b.docs)

    def _fetch_subjects(self, tx: ManagedTransaction, ids: list[str]) -> dict[str, Subject]:
        return {row["s"]["id"]: _subject(row["s"]) for row in tx.run(Q_SUBJECTS, ids=ids)}

    def _upsert_subjects(self, tx: ManagedTransaction, subjects: list[Subject]) -> None:
        stored = self._fetch_subjects(tx, list(dict.fromkeys(s.id for s in subjects)))
        final: dict[str, Subject] = {}
        created: list[str] = []
        for new in subjects:
            cur = final.get(new.id) or stored.get(new.id)
            if cur is None:
                cur = first_upsert(new)
                created.append(new.id)
            else:
                apply_subject_upsert(cur, new)
            final[new.id] = cur
        self._store_subjects(tx, list(final.values()))
        if created:
            # A subject created under an id that was merged away takes the id back.
            tx.run(Q_DROP_REDIRECTS, ids=created).consume()

    def _store_subjects(self, tx: ManagedTransaction, subjects: list[Subject]) -> None:
        tx.run(Q_SET_SUBJECTS, rows=[_subject_props(s) for s in subjects]).consume()
        key_rows = [{"id": s.id, "keys": s.keys} for s in subjects if s.keys]
        if key_rows:
            tx.run(Q_SET_KEYS, rows=key_rows).consume()

    def _require_subjects(self, tx: ManagedTransaction, named: list[tuple[str, str]]) -> None:
        """``named``: (subject id, what names it); raise for the first unknown subject."""
        ids = list(dict.fromkeys(sid for sid, _ in named))
        found = {row["id"] for row in tx.run(Q_EXISTING_IDS, ids=ids)}
        for sid, what in named:
            if sid not in found:
                # Raising inside the transaction function rolls the batch back.
                raise ValueError(f"{what} names unknown subject {sid}")

    def _replace_relations(self, tx: ManagedTransaction, rels: list[Relation]) -> None:
        # A relationship cannot change its end nodes or its type: delete and
        # create again.
        tx.run(_rels_by_id("DELETE r"), ids=[r.id for r in rels]).consume()
        self._create_relations(tx, rels)

    def _create_relations(self, tx: ManagedTransaction, rels: list[Relation]) -> None:
        rows = [
            {"source": r.source, "target": r.target, "props": _relation_props(r, r.record_ids)}
            for r in rels
        ]
        self._create_rel_rows(tx, rows)

    def _upsert_relations(self, tx: ManagedTransaction, rels: list[Relation]) -> None:
        named: list[tuple[str, str]] = []
        for r in rels:
            named += [(r.source, f"relation {r.id}"), (r.target, f"relation {r.id}")]
        self._require_subjects(tx, named)
        ids = list(dict.fromkeys(r.id for r in rels))
        found = tx.run(_rels_by_id("RETURN i AS id, r.record_ids AS ri"), ids=ids)
        old = {row["id"]: list(row["ri"] or []) for row in found}
        final: dict[str, Relation] = {}
        for r in rels:
            prev = final[r.id].record_ids if r.id in final else old.get(r.id, [])
            record_ids = list(prev)
            union_into(record_ids, r.record_ids)
            final[r.id] = replace(r, props=dict(r.props), record_ids=record_ids)
        self._replace_relations(tx, list(final.values()))

    def _upsert_listings(self, tx: ManagedTransaction, listings: list[Listing]) -> None:
        named = [(x.subject_id, f"listing {x.id}") for x in listings]
        named += [(r["sid"], f"listing {x.id}") for x in listings for r in _party_rows(x.props)]
        self._require_subjects(tx, named)
        ids = list(dict.fromkeys(x.id for x in listings))
        old = {row["id"]: list(row["ri"] or []) for row in tx.run(Q_LISTING_RECORD_IDS, ids=ids)}
        final: dict[str, tuple[Listing, list[str]]] = {}
        for x in listings:
            prev = final[x.id][1] if x.id in final else old.get(x.id, [])
            record_ids = list(prev)
            union_into(record_ids, x.record_ids)
            final[x.id] = (x, record_ids)
        rows = [
            {"p": _listing_props(x, ri), "parties": _party_rows(x.props)}
            for x, ri in final.values()
        ]
        tx.run(Q_SET_LISTINGS, rows=rows).consume()
        tx.run(Q_UNLINK_LISTINGS, ids=ids).consume()
        links = [{"id": x.id, "sid": x.subject_id} for x, _ in final.values()]
        tx.run(Q_LINK_LISTINGS, rows=links).consume()

    def _upsert_records(self, tx: ManagedTransaction, records: list[SourceRecord]) -> None:
        self._require_subjects(
            tx, [(m.subject_id, f"record {r.id} mention") for r in records for m in r.mentions]
        )
        final = {r.id: r for r in records}
        tx.run(Q_SET_RECORDS, rows=[_record_props(r) for r in final.values()]).consume()
        self._relink_records(tx, {rid: r.mentions for rid, r in final.items()})

    def _relink_records(self, tx: ManagedTransaction, mentions: dict[str, list[Mention]]) -> None:
        tx.run(Q_UNLINK_RECORDS, ids=list(mentions)).consume()
        rows = [row for rid, ms in mentions.items() for row in _mention_rows(rid, ms)]
        if rows:
            tx.run(Q_LINK_RECORDS, rows=rows).consume()

    def _apply_docs(self, tx: ManagedTransaction, docs: list[DocWrite]) -> None:
        final: dict[str, tuple[str, str, dict[str, Any] | None]] = {}
        for coll, doc_id, body in docs:
            final[_doc_uid(coll, doc_id)] = (coll, doc_id, body)
        gone = [uid for uid, (_c, _i, body) in final.items() if body is None]
        rows = [
            {"uid": uid, "collection": c, "id": i, "body_json": _dumps(body)}
            for uid, (c, i, body) in final.items()
            if body is not None
        ]
        if gone:
            tx.run(Q_DELETE_DOCS, uids=gone).consume()
        if rows:
            tx.run(Q_SET_DOCS, rows=rows).consume()

    def _relations_touching(self, tx: ManagedTransaction, subject_id: str) -> list[Relation]:
        return [
            _relation(row["r"], row["source"], row["target"])
            for row in tx.run(Q_RELS_TOUCHING, id=subject_id)
        ]

    def merge_subjects(
        self, survivor_id: str, merged_id: str, docs: Iterable[DocWrite] = ()
    ) -> None:
        doc_list = list(docs)
        if survivor_id == merged_id and not doc_list:
            return

        def work(tx: ManagedTransaction) -> None:
            # One unit of work: a retry re-runs both, and a raise (unknown
            # survivor) rolls back both.
            if survivor_id != merged_id:
                self._merge(tx, survivor_id, merged_id)
            if doc_list:
                self._apply_docs(tx, doc_list)

        self._write(work)

    def _merge(self, tx: ManagedTransaction, survivor_id: str, merged_id: str) -> None:
        found = self._fetch_subjects(tx, [survivor_id, merged_id])
        merged = found.get(merged_id)
        if merged is None:
            return  # already merged (or never existed): merging is idempotent
        survivor = found.get(survivor_id)
        if survivor is None:
            raise ValueError(f"unknown subject {survivor_id}")
        fold_subject(survivor, merged)
        self._store_subjects(tx, [survivor])
        params = {"s": survivor_id, "m": merged_id}

        rels = self._relations_touching(tx, merged_id)
        for r in rels:
            r.source = survivor_id if r.source == merged_id else r.source
            r.target = survivor_id if r.target == merged_id else r.target
        if rels:
            self._replace_relations(tx, rels)
        tx.run(
            "MATCH (l:Listing)-[a:AGAINST]->(:Subject {id: $m}) MATCH (s:Subject {id: $s}) "
            "CREATE (l)-[:AGAINST]->(s) DELETE a",
            params,
        ).consume()
        # Named parties follow the merge too, props_json and NAMES together.
        renamed = []
        for row in tx.run(Q_LISTINGS_NAMING_ONE, id=merged_id):
            props = _loads(row["pj"]) or {}
            parties = props["parties"]
            for role, pid in parties.items():
                if pid == merged_id:
                    parties[role] = survivor_id
            renamed.append({"id": row["id"], "pj": _dumps(props), "parties": _party_rows(props)})
        if renamed:
            tx.run(Q_SET_LISTING_PARTIES, rows=renamed).consume()
        records = {
            row["r"]["id"]: _mentions(row["r"].get("mentions_json"))
            for row in tx.run(Q_RECORDS_MENTIONING, id=merged_id)
        }
        for mentions in records.values():
            for m in mentions:
                if m.subject_id == merged_id:
                    m.subject_id = survivor_id
        if records:
            rows = [{"id": rid, "mj": _mentions_json(ms)} for rid, ms in records.items()]
            tx.run(Q_SET_MENTIONS_JSON, rows=rows).consume()
            self._relink_records(tx, records)
        tx.run("MATCH (r:Redirect {to: $m}) SET r.to = $s", params).consume()
        tx.run("MERGE (r:Redirect {from: $m}) SET r.to = $s", params).consume()
        # Keys already unioned onto the survivor's IDENTIFIES edges above;
        # DETACH drops the merged node's own.
        tx.run("MATCH (m:Subject {id: $m}) DETACH DELETE m", params).consume()

    def move_mentions(
        self,
        record_roles: list[tuple[str, str]],
        from_id: str,
        to_subject: Subject,
        docs: Iterable[DocWrite] = (),
    ) -> None:
        doc_list = list(docs)

        def work(tx: ManagedTransaction) -> None:
            # As for a merge: the split and its docs commit or roll back together.
            self._move(tx, record_roles, from_id, to_subject)
            if doc_list:
                self._apply_docs(tx, doc_list)

        self._write(work)

    def _move(
        self,
        tx: ManagedTransaction,
        record_roles: list[tuple[str, str]],
        from_id: str,
        to_subject: Subject,
    ) -> None:
        if not self._fetch_subjects(tx, [from_id]):
            raise ValueError(f"unknown subject {from_id}")
        self._upsert_subjects(tx, [to_subject])
        to_id = to_subject.id
        wanted = set(record_roles)
        rec_ids = list(dict.fromkeys(rid for rid, _ in record_roles))
        records = {
            row["r"]["id"]: _mentions(row["r"].get("mentions_json"))
            for row in tx.run(
                "MATCH (r:Record) WHERE r.id IN $ids RETURN r {.id, .mentions_json} AS r",
                ids=rec_ids,
            )
        }
        moved: set[str] = set()
        for rec_id, mentions in records.items():
            for m in mentions:
                if m.subject_id == from_id and (rec_id, m.role) in wanted:
                    m.subject_id = to_id
                    moved.add(rec_id)
        if moved:
            rows = [{"id": rid, "mj": _mentions_json(records[rid])} for rid in sorted(moved)]
            tx.run(Q_SET_MENTIONS_JSON, rows=rows).consume()
            self._relink_records(tx, {rid: records[rid] for rid in sorted(moved)})
        # Relations and listings asserted only by moved records follow them.
        follow = [
            r
            for r in self._relations_touching(tx, from_id)
            if r.record_ids and set(r.record_ids) <= moved
        ]
        for r in follow:
            r.source = to_id if r.source == from_id else r.source
            r.target = to_id if r.target == from_id else r.target
        if follow:
            self._replace_relations(tx, follow)
        listing_ids = [
            row["l"]["id"]
            for row in tx.run(Q_LISTINGS_AGAINST, id=from_id)
            if row["l"].get("record_ids") and set(row["l"]["record_ids"]) <= moved
        ]
        if listing_ids:
            tx.run(Q_UNLINK_LISTINGS, ids=listing_ids).consume()
            tx.run(
                Q_LINK_LISTINGS, rows=[{"id": lid, "sid": to_id} for lid in listing_ids]
            ).consume()
        # As in the embedded store: a party follows when every record asserting
        # the listing had its mention in that role moved.
        roles_moved = {(rid, role) for rid, role in record_roles if rid in moved}
        renamed = []
        for row in tx.run(Q_LISTINGS_NAMING_ONE, id=from_id):
            props = _loads(row["pj"]) or {}
            record_ids = list(row["ri"] or [])
            parties = props["parties"]
            follow = [
                role
                for role, pid in parties.items()
                if pid == from_id
                and record_ids
                and all((rid, role) in roles_moved for rid in record_ids)
            ]
            if follow:
                for role in follow:
                    parties[role] = to_id
                renamed.append(
                    {"id": row["id"], "pj": _dumps(props), "parties": _party_rows(props)}
                )
        if renamed:
            tx.run(Q_SET_LISTING_PARTIES, rows=renamed).consume()

    # -- reader ------------------------------------------------------------
    def get_subjects(self, ids: Iterable[str]) -> dict[str, Subject]:
        return self._read_in_chunks(ids, lambda chunk: lambda tx: self._fetch_subjects(tx, chunk))

    def resolve_ids(self, ids: Iterable[str]) -> dict[str, str]:
        def work_for(chunk: list[str]) -> Callable[[ManagedTransaction], dict[str, str]]:
            def work(tx: ManagedTransaction) -> dict[str, str]:
                result = tx.run(
                    "UNWIND $ids AS i OPTIONAL MATCH (r:Redirect {from: i}) "
                    "WITH i, coalesce(r.to, i) AS t MATCH (:Subject {id: t}) RETURN i, t",
                    ids=chunk,
                )
                return {row["i"]: row["t"] for row in result}

            return work

        return self._read_in_chunks(ids, work_for)

    def find_by_keys(self, keys: Iterable[str]) -> dict[str, list[str]]:
        def work_for(chunk: list[str]) -> Callable[[ManagedTransaction], dict[str, list[str]]]:
            def work(tx: ManagedTransaction) -> dict[str, list[str]]:
                result = tx.run(
                    "UNWIND $keys AS kv MATCH (:Key {value: kv})-[:IDENTIFIES]->(s:Subject) "
                    "RETURN kv, collect(DISTINCT s.id) AS ids",
                    keys=chunk,
                )
                return {row["kv"]: sorted(row["ids"]) for row in result}

            return work

        return self._read_in_chunks(keys, work_for)

    def relations_of(
        self,
        subject_ids: Iterable[str],
        types: Iterable[str] | None = None,
        as_of: str | None = None,
        direction: str = "both",
    ) -> list[Relation]:
        ids = list(dict.fromkeys(subject_ids))
        template = Q_RELATIONS_OF.get(direction)
        if template is None:
            raise ValueError(f"direction must be both, out or in, not {direction!r}")
        type_list = list(types) if types is not None else None
        if not ids or type_list == []:
            return []
        query = template.replace("{r}", _type_pattern(type_list))

        def work(tx: ManagedTransaction) -> list[Relation]:
            result = tx.run(query, ids=ids, types=type_list, as_of=as_of)
            return [_relation(row["r"], row["source"], row["target"]) for row in result]

        found = {r.id: r for r in self._read(work)}
        return [found[k] for k in sorted(found)]

    def reach(
        self,
        center: str,
        depth: int,
        types: list[str] | None = None,
        as_of: str | None = None,
        max_nodes: int = 500,
    ) -> Reach:
        if depth < 1 or types == []:
            return breadth_first(self, center, depth, types, as_of, max_nodes)
        cap = max(max_nodes - 1, 0)  # the centre counts
        query = _q_reach(types, depth)

        def work(tx: ManagedTransaction) -> Reach:
            row = tx.run(
                query, center=center, types=types, as_of=as_of, cap=cap, limit=cap + 1
            ).single()
            if row is None:  # no such subject
                return Reach({center: 0}, [], {}, False)
            distance = {center: 0, **{x["id"]: int(x["d"]) for x in row["kept"]}}
            edges = [_relation(e["r"], e["source"], e["target"]) for e in row["edges"]]
            subjects = {p["id"]: _subject(p) for p in row["subjects"]}
            return Reach(distance, edges, subjects, bool(row["truncated"]))

        return self._read(work)

    def routes(
        self,
        source: str,
        target: str,
        max_depth: int,
        types: list[str] | None = None,
        as_of: str | None = None,
        limit: int = 10,
    ) -> list[Route]:
        if source == target or max_depth < 1 or types == [] or limit < 1:
            return bidirectional_routes(self, source, target, max_depth, types, as_of, limit)
        query = _q_routes(types, max_depth)

        def work(tx: ManagedTransaction) -> list[Route]:
            result = tx.run(
                query, source=source, target=target, types=types, as_of=as_of, limit=limit
            )
            return [
                Route(
                    list(row["ids"]),
                    [_relation(e["r"], e["source"], e["target"]) for e in row["edges"]],
                )
                for row in result
            ]

        return self._read(work)

    def get_relations(self, ids: Iterable[str]) -> dict[str, Relation]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}

        def work(tx: ManagedTransaction) -> dict[str, Relation]:
            result = tx.run(
                _rels_by_id("RETURN r {.*} AS r, a.id AS source, b.id AS target"), ids=wanted
            )
            return {
                row["r"]["id"]: _relation(row["r"], row["source"], row["target"]) for row in result
            }

        found = self._read(work)
        return {i: found[i] for i in wanted if i in found}

    def _listings(self, query: str, **params: Any) -> list[Listing]:
        def work(tx: ManagedTransaction) -> list[Listing]:
            return [_listing(row["l"], row["sid"]) for row in tx.run(query, params)]

        found = {x.id: x for x in self._read(work)}
        return [found[k] for k in sorted(found)]

    def _listings_by(
        self, query: str, keys: list[str], kinds: Iterable[str] | None
    ) -> list[Listing]:
        if not keys:
            return []
        return self._listings(query, keys=keys, kinds=list(kinds) if kinds is not None else None)

    def listings_of(
        self, subject_ids: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        return self._listings_by(Q_LISTINGS_OF, list(dict.fromkeys(subject_ids)), kinds)

    def listings_by_number(
        self, numbers: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        # An empty number is "no number", never a look-up key (as in the embedded index).
        nums = [n for n in dict.fromkeys(numbers) if n]
        return self._listings_by(Q_LISTINGS_BY_NUMBER, nums, kinds)

    def listings_naming(
        self, subject_ids: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        return self._listings_by(Q_LISTINGS_NAMING, list(dict.fromkeys(subject_ids)), kinds)

    def get_listings(self, ids: Iterable[str]) -> dict[str, Listing]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        found = {
            x.id: x
            for x in self._listings(
                "MATCH (l:Listing)-[:AGAINST]->(s:Subject) WHERE l.id IN $ids "
                "RETURN l {.*} AS l, s.id AS sid",
                ids=wanted,
            )
        }
        return {i: found[i] for i in wanted if i in found}

    def get_records(self, ids: Iterable[str]) -> dict[str, SourceRecord]:
        def work_for(chunk: list[str]) -> Callable[[ManagedTransaction], dict[str, SourceRecord]]:
            def work(tx: ManagedTransaction) -> dict[str, SourceRecord]:
                result = tx.run("MATCH (r:Record) WHERE r.id IN $ids RETURN r {.*} AS r", ids=chunk)
                return {row["r"]["id"]: _record(row["r"]) for row in result}

            return work

        return self._read_in_chunks(ids, work_for)

    def records_of(self, subject_id: str) -> list[SourceRecord]:
        def work(tx: ManagedTransaction) -> list[SourceRecord]:
            return [_record(row["r"]) for row in tx.run(Q_RECORDS_MENTIONING, id=subject_id)]

        return sorted(self._read(work), key=lambda r: r.id)

    def search(self, text: str, subject_type: str | None = None, limit: int = 50) -> list[Subject]:
        if not text or limit <= 0:
            return []

        def work(tx: ManagedTransaction) -> list[Subject]:
            # The first CONTAINS is the text-index seek; the per-name test is
            # the meaning (a match may not straddle two names).
            result = tx.run(
                "MATCH (s:Subject) WHERE s.search CONTAINS $text "
                "AND any(n IN s.norm_names WHERE n CONTAINS $text) "
                "AND ($type IS NULL OR s.type = $type) "
                "RETURN s {.*} AS s ORDER BY s.id LIMIT $limit",
                text=text,
                type=subject_type,
                limit=limit,
            )
            return [_subject(row["s"]) for row in result]

        return sorted(self._read(work), key=lambda s: s.id)

    def _pages(
        self, first: str, more: str, convert: Callable[[dict[str, Any]], T], **params: Any
    ) -> Iterator[T]:
        """Stream a query in id order, one read transaction per page.

        ``first`` and ``more`` return ``id`` and ``x``; ``more`` takes ``$after``.
        """
        after: str | None = None
        while True:

            def work(tx: ManagedTransaction, after: str | None = after) -> list[Any]:
                q = first if after is None else more
                return list(tx.run(q, params, after=after, n=PAGE_SIZE))

            page = self._read(work)
            for row in page:
                yield convert(row)
            if len(page) < PAGE_SIZE:
                return
            after = page[-1]["id"]

    def iter_subjects(self, subject_type: str | None = None) -> Iterator[Subject]:
        where = "($type IS NULL OR s.type = $type)"
        tail = " RETURN s.id AS id, s {.*} AS x ORDER BY s.id LIMIT $n"
        yield from self._pages(
            "MATCH (s:Subject) WHERE " + where + tail,
            "MATCH (s:Subject) WHERE s.id > $after AND " + where + tail,
            lambda row: _subject(row["x"]),
            type=subject_type,
        )

    def iter_relations(self, types: Iterable[str] | None = None) -> Iterator[Relation]:
        type_list = list(types) if types is not None else None
        if type_list == []:
            return
        where = "($types IS NULL OR r.type IN $types)"
        tail = (
            " RETURN r.id AS id, r {.*} AS x, a.id AS source, b.id AS target ORDER BY r.id LIMIT $n"
        )
        match = f"MATCH (a:Subject)-[{_type_pattern(type_list)}]->(b:Subject) WHERE "
        yield from self._pages(
            match + "r.id IS NOT NULL AND " + where + tail,
            match + "r.id > $after AND " + where + tail,
            lambda row: _relation(row["x"], row["source"], row["target"]),
            types=type_list,
        )

    def iter_listings(self, kinds: Iterable[str] | None = None) -> Iterator[Listing]:
        where = "($kinds IS NULL OR l.kind IN $kinds)"
        tail = " RETURN l.id AS id, l {.*} AS x, s.id AS sid ORDER BY l.id LIMIT $n"
        yield from self._pages(
            "MATCH (l:Listing)-[:AGAINST]->(s:Subject) WHERE " + where + tail,
            "MATCH (l:Listing)-[:AGAINST]->(s:Subject) WHERE l.id > $after AND " + where + tail,
            lambda row: _listing(row["x"], row["sid"]),
            kinds=list(kinds) if kinds is not None else None,
        )

    def get_docs(self, collection: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        def work_for(chunk: list[str]) -> Callable[[ManagedTransaction], dict[str, dict[str, Any]]]:
            uids = [_doc_uid(collection, i) for i in chunk]

            def work(tx: ManagedTransaction) -> dict[str, dict[str, Any]]:
                result = tx.run(
                    "MATCH (d:Doc) WHERE d.uid IN $uids RETURN d.id AS id, d.body_json AS b",
                    uids=uids,
                )
                return {row["id"]: json.loads(row["b"]) for row in result}

            return work

        return self._read_in_chunks(ids, work_for)

    def list_docs(self, collection: str) -> dict[str, dict[str, Any]]:
        def work(tx: ManagedTransaction) -> dict[str, dict[str, Any]]:
            result = tx.run(
                "MATCH (d:Doc {collection: $c}) RETURN d.id AS id, d.body_json AS b", c=collection
            )
            return {row["id"]: json.loads(row["b"]) for row in result}

        found = self._read(work)
        return {k: found[k] for k in sorted(found)}

    def counts(self) -> dict[str, int]:
        def work(tx: ManagedTransaction) -> dict[str, int]:
            # Each of these is answered from the count store, not a scan:
            # relations are every relationship but those of the other kinds.
            queries = {
                "subjects": "MATCH (n:Subject) RETURN count(n) AS c",
                "relations": (
                    "CALL { MATCH ()-[r]->() RETURN count(r) AS n_all } "
                    + "".join(
                        f"CALL {{ MATCH ()-[r:{t}]->() RETURN count(r) AS n_{t.lower()} }} "
                        for t in sorted(_OTHER_TYPES)
                    )
                    + "RETURN n_all - "
                    + " - ".join(f"n_{t.lower()}" for t in sorted(_OTHER_TYPES))
                    + " AS c"
                ),
                "listings": "MATCH (n:Listing) RETURN count(n) AS c",
                "records": "MATCH (n:Record) RETURN count(n) AS c",
                "redirects": "MATCH (n:Redirect) RETURN count(n) AS c",
            }
            out: dict[str, int] = {}
            for name, q in queries.items():
                rec = tx.run(q).single()
                out[name] = int(rec["c"]) if rec else 0
            return out

        return self._read(work)

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Neo4jStore"]
