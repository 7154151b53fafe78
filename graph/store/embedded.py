"""The embedded store: a networkx MultiDiGraph in memory, persisted on local disk.

Memory layout (about 1.7 KiB per subject with its relations at city scale,
where plain dataclasses in dicts took about 9 KiB): the graph keeps, per node
and per edge, one small slotted object holding the entity *encoded* (marshal,
pickle as a fallback for exotic values) and decodes it on read. Readers
therefore always get fresh objects, as from Neo4j. Source records — more than
half of the bytes — do not live in memory at all: they are rows of a SQLite
file beside the journal (an in-memory SQLite database when ``data_dir`` is
None), with a (subject, record) table as the ``records_of`` index. Key and
bigram postings hold the node's own id string, a bare ``str`` for the usual
single posting and a list only when shared.

Durability without a database server: every write is appended to a journal
(length, CRC32, marshal/pickle) and fsynced before it is acknowledged — the
journal is the commit point for everything, records included. Records are
also written to SQLite in a transaction that stores the journal sequence
number it reaches and commits only after the journal fsync (WAL,
``synchronous=NORMAL``: consistent after any crash, possibly a few
transactions behind). On open the snapshot (graph, listings, docs) is read and
the journal replayed: graph changes after the snapshot's sequence number,
record changes after SQLite's — so each is applied exactly once. Compaction
checkpoints SQLite (fsync) before writing the snapshot, so SQLite is never
behind the snapshot. A torn journal tail (a crash mid-write) fails its length
or CRC check and is cut off; SQLite never holds it, as it commits later.

A merge or a split and the documents written with it (a judgement, its
assignments, rejections and review status) are one journal entry, so a crash
keeps both or neither.

Readers and writers share one lock: a read sees the state before or after a
write, never a half-applied batch.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import pickle
import sqlite3
import struct
import sys
import threading
import zlib
from collections.abc import Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, BinaryIO

import networkx as nx

from graph.errors import StoreUnavailable
from graph.model import Listing, Mention, Relation, SourceRecord, Subject
from graph.store.base import (
    Batch,
    DocWrite,
    apply_subject_upsert,
    first_upsert,
    fold_subject,
    union_into,
)

_HEADER = struct.Struct("<QI")
SNAPSHOT = "graph.snapshot"
JOURNAL = "graph.journal"
RECORDS = "records.sqlite"
_SNAP_MAGIC = b"CLSNAP2\n"
_SNAP_CHUNK = 50_000
# SQLite's default limit on host parameters is far above this; 500 keeps each
# statement small enough to plan quickly.
_SQL_CHUNK = 500


# -- encoding ----------------------------------------------------------------


def _pack(obj: Any) -> bytes:
    # marshal is several times faster and smaller than pickle for the plain
    # dicts, lists and strings everything here is made of; pickle covers the
    # rest (a datetime in a record, a str subclass). Pickle output starts with
    # 0x80 (PROTO); marshal output never does (0x80 alone is no type code).
    try:
        return marshal.dumps(obj, 4)
    except ValueError:
        return pickle.dumps(obj, protocol=5)


def _unpack(blob: bytes) -> Any:
    if blob[:1] == b"\x80":
        return pickle.loads(blob)
    return marshal.loads(blob)


def _subject_tuple(s: Subject) -> tuple[Any, ...]:
    return (s.id, s.type, s.name, s.names, s.norm_names, s.keys, s.status, s.attrs)


def _subject_blob(s: Subject) -> bytes:
    # The same string object in several places is written once by marshal (a
    # back-reference), and a subject's name is nearly always also its first
    # name and norm name.
    same: dict[str, str] = {s.name: s.name}
    names = [same.setdefault(n, n) for n in s.names]
    norms = [same.setdefault(n, n) for n in s.norm_names]
    return _pack((s.type, s.name, names, norms, s.keys, s.status, s.attrs))


def _relation_tuple(r: Relation) -> tuple[Any, ...]:
    return (r.id, r.type, r.source, r.target, r.valid_from, r.valid_to, r.props, r.record_ids)


def _listing_tuple(x: Listing) -> tuple[Any, ...]:
    return (
        x.id,
        x.kind,
        x.subject_id,
        x.number,
        x.department,
        x.start,
        x.end,
        x.props,
        x.record_ids,
    )


def _pack_docs(docs: Iterable[DocWrite]) -> list[tuple[str, str, bytes | None]]:
    # Doc bodies are kept encoded in memory, in the journal and in the snapshot
    # alike, so an entry's docs apply on replay exactly as they did live.
    return [(c, i, None if body is None else _pack(body)) for c, i, body in docs]


def _listing_from_blob(lid: str, blob: bytes) -> Listing:
    return Listing(lid, *_unpack(blob))


def _named_parties(lst: Listing) -> set[str]:
    parties = lst.props.get("parties")
    if not isinstance(parties, dict):
        return set()
    return {v for v in parties.values() if isinstance(v, str)}


def _record_blob(r: SourceRecord) -> bytes:
    mentions = [(m.subject_id, m.role, m.match) for m in r.mentions]
    return _pack(
        (
            r.feed,
            r.file,
            r.row,
            r.loaded_at,
            r.digest,
            r.values,
            r.cleaned,
            r.warnings,
            mentions,
            r.version,
        )
    )


def _record_from_blob(rid: str, blob: bytes) -> SourceRecord:
    feed, file, row, loaded_at, digest, values, cleaned, warnings, mentions, version = _unpack(blob)
    return SourceRecord(
        id=rid,
        feed=feed,
        file=file,
        row=row,
        loaded_at=loaded_at,
        digest=digest,
        values=values,
        cleaned=cleaned,
        warnings=warnings,
        mentions=[Mention(sid, role, match) for sid, role, match in mentions],
        version=version,
    )


# -- networkx attribute dicts ----------------------------------------------------


class _NodeData(MutableMapping[str, Any]):
    """A node's networkx attribute dict: ``{"s": Subject}``, the subject kept encoded.

    48 bytes plus the encoded subject, where a dict holding a dataclass with
    its own lists and dict took about a kilobyte. ``id`` is the node key
    object itself, so postings and relations share it.
    """

    __slots__ = ("blob", "id")

    def __init__(self) -> None:
        self.id = ""
        self.blob = b""

    def subject(self) -> Subject:
        t, name, names, norms, keys, status, attrs = _unpack(self.blob)
        return Subject(self.id, t, name, names, norms, keys, status, attrs)

    def __getitem__(self, key: str) -> Any:
        if key == "s" and self.blob:
            return self.subject()
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        # networkx copies (G.copy(), subgraph copies) write {"s": Subject} back.
        if key != "s" or not isinstance(value, Subject):
            raise TypeError("embedded store nodes hold only 's' (a Subject)")
        self.id = value.id
        self.blob = _subject_blob(value)

    def __delitem__(self, key: str) -> None:
        raise TypeError("the embedded store's graph is read-only")

    def __iter__(self) -> Iterator[str]:
        return iter(("s",) if self.blob else ())

    def __len__(self) -> int:
        return 1 if self.blob else 0

    def copy(self) -> dict[str, Any]:
        return dict(self)


class _EdgeData(MutableMapping[str, Any]):
    """An edge's networkx attribute dict: ``{"r": Relation}``, the relation kept encoded.

    Id and ends are the shared key objects; the type is interned so that
    ``relations_of`` filters by type without decoding.
    """

    __slots__ = ("blob", "id", "source", "target", "type")

    def __init__(self) -> None:
        self.id = ""
        self.source = ""
        self.target = ""
        self.type = ""
        self.blob = b""

    def fill(self, rid: str, source: str, target: str, rtype: str, blob: bytes) -> None:
        self.id = rid
        self.source = source
        self.target = target
        self.type = sys.intern(rtype)
        self.blob = blob

    def relation(self) -> Relation:
        valid_from, valid_to, props, record_ids = _unpack(self.blob)
        return Relation(
            self.id, self.type, self.source, self.target, valid_from, valid_to, props, record_ids
        )

    def __getitem__(self, key: str) -> Any:
        if key == "r" and self.blob:
            return self.relation()
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key != "r" or not isinstance(value, Relation):
            raise TypeError("embedded store edges hold only 'r' (a Relation)")
        self.fill(
            value.id,
            value.source,
            value.target,
            value.type,
            _pack((value.valid_from, value.valid_to, value.props, value.record_ids)),
        )

    def __delitem__(self, key: str) -> None:
        raise TypeError("the embedded store's graph is read-only")

    def __iter__(self) -> Iterator[str]:
        return iter(("r",) if self.blob else ())

    def __len__(self) -> int:
        return 1 if self.blob else 0

    def copy(self) -> dict[str, Any]:
        return dict(self)


class _Graph(nx.MultiDiGraph):  # type: ignore[misc]
    """A MultiDiGraph whose node and edge attribute dicts are the compact ones above."""

    node_attr_dict_factory = _NodeData
    edge_attr_dict_factory = _EdgeData


# -- postings: str for one id, list for several ---------------------------------

Postings = dict[str, str | list[str]]


def _post_add(index: Postings, key: str, sid: str) -> None:
    # Callers add an id only when it is not there yet (they index deltas).
    cur = index.get(key)
    if cur is None:
        index[key] = sid
    elif type(cur) is str:
        index[key] = [cur, sid]
    else:
        cur.append(sid)  # type: ignore[union-attr]


def _post_remove(index: Postings, key: str, sid: str) -> None:
    cur = index.get(key)
    if cur is None:
        return
    if type(cur) is str:
        if cur == sid:
            del index[key]
        return
    assert isinstance(cur, list)
    with contextlib.suppress(ValueError):
        cur.remove(sid)
    if len(cur) == 1:
        index[key] = cur[0]
    elif not cur:
        del index[key]


def _post_get(index: Postings, key: str) -> list[str]:
    cur = index.get(key)
    if cur is None:
        return []
    if type(cur) is str:
        return [cur]
    return list(cur)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def _grams_of(norms: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for n in norms:
        out |= _bigrams(n)
    return out


# -- source records in SQLite ------------------------------------------------------


class _RecordFile:
    """Source records and the (subject, record) index, in SQLite.

    Only the store's writer lock ever touches the connection, so one
    connection shared by threads is safe.
    """

    def __init__(self, path: Path | None) -> None:
        self.db = sqlite3.connect(
            ":memory:" if path is None else str(path),
            isolation_level=None,
            check_same_thread=False,
        )
        if path is not None:
            self.db.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL never corrupts, only loses the last commits on
            # power loss; the journal replays those (meta.seq says which).
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA cache_size=-16384")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS record (id TEXT PRIMARY KEY, body BLOB NOT NULL)
                WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS mention (
                subject_id TEXT NOT NULL, record_id TEXT NOT NULL,
                PRIMARY KEY (subject_id, record_id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
            """
        )
        meta = dict(self.db.execute("SELECT k, v FROM meta").fetchall())
        self.seq: int = meta.get("seq", 0)
        self.count: int = meta.get("count", 0)
        self.in_txn = False

    def begin(self) -> None:
        if not self.in_txn:
            self.db.execute("BEGIN")
            self.in_txn = True

    def commit(self, seq: int) -> None:
        if not self.in_txn:
            return
        self.db.executemany(
            "INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)",
            [("seq", seq), ("count", self.count)],
        )
        self.db.execute("COMMIT")
        self.in_txn = False
        self.seq = seq

    def rollback(self) -> None:
        if self.in_txn:
            self.db.execute("ROLLBACK")
            self.in_txn = False
        meta = dict(self.db.execute("SELECT k, v FROM meta").fetchall())
        self.seq = meta.get("seq", 0)
        self.count = meta.get("count", 0)

    def checkpoint(self) -> None:
        """Make every commit durable in the database file (fsyncs WAL and file)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.rollback()
        self.db.close()

    def blobs(self, ids: list[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for i in range(0, len(ids), _SQL_CHUNK):
            part = ids[i : i + _SQL_CHUNK]
            marks = ",".join("?" * len(part))
            out.update(self.db.execute(f"SELECT id, body FROM record WHERE id IN ({marks})", part))
        return out

    def of_subject(self, sid: str) -> list[tuple[str, bytes]]:
        return self.db.execute(
            "SELECT r.id, r.body FROM mention m JOIN record r ON r.id = m.record_id "
            "WHERE m.subject_id = ? ORDER BY m.record_id",
            (sid,),
        ).fetchall()

    def ids_of_subject(self, sid: str) -> list[str]:
        rows = self.db.execute(
            "SELECT record_id FROM mention WHERE subject_id = ? ORDER BY record_id", (sid,)
        )
        return [r[0] for r in rows]

    def put(self, rows: list[tuple[str, bytes, list[str]]]) -> None:
        """Upsert (id, body, mentioned subject ids); the last row of an id wins."""
        final = {rid: (body, sids) for rid, body, sids in rows}
        old = self.blobs(list(final))
        stale: list[tuple[str, str]] = []
        for rid, body in old.items():
            keep = set(final[rid][1])
            stale.extend((m[0], rid) for m in _unpack(body)[8] if m[0] not in keep)
        if stale:
            self.db.executemany("DELETE FROM mention WHERE subject_id = ? AND record_id = ?", stale)
        self.db.executemany(
            "INSERT OR REPLACE INTO record (id, body) VALUES (?, ?)",
            [(rid, body) for rid, (body, _s) in final.items()],
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO mention (subject_id, record_id) VALUES (?, ?)",
            [(sid, rid) for rid, (_b, sids) in final.items() for sid in sids],
        )
        self.count += len(final) - len(old)

    def update_bodies(self, rows: list[tuple[bytes, str]]) -> None:
        self.db.executemany("UPDATE record SET body = ? WHERE id = ?", rows)

    def add_mentions(self, pairs: list[tuple[str, str]]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO mention (subject_id, record_id) VALUES (?, ?)", pairs
        )

    def drop_mentions(self, pairs: list[tuple[str, str]]) -> None:
        self.db.executemany("DELETE FROM mention WHERE subject_id = ? AND record_id = ?", pairs)

    def clear(self) -> None:
        self.db.execute("DELETE FROM record")
        self.db.execute("DELETE FROM mention")
        self.count = 0


# -- the in-memory state -------------------------------------------------------------


class _State:
    def __init__(self) -> None:
        self.graph = _Graph()
        # relation id -> its edge data (which knows the ends)
        self.rel_ends: dict[str, _EdgeData] = {}
        self.key_index: Postings = {}
        self.name_index: Postings = {}
        self.listings: dict[str, bytes] = {}
        self.listings_by_subject: Postings = {}
        self.listings_by_number: Postings = {}
        # iter_listings of a few kinds (time_changes) spares decoding the others.
        self.listings_by_kind: Postings = {}
        # subject id -> listings whose props["parties"] name it. Derived from
        # the listings like the other indexes, so snapshot + replay rebuild it.
        self.listings_by_party: Postings = {}
        self.redirects: dict[str, str] = {}
        self.docs: dict[str, dict[str, bytes]] = {}
        self.seq = 0


class EmbeddedStore:
    """networkx-backed GraphStore, persisted under ``data_dir``."""

    name = "embedded"

    def __init__(self, data_dir: Path | None, compact_bytes: int = 256 * 1024 * 1024) -> None:
        # data_dir None keeps everything in memory (notebooks, throwaway tests).
        self.data_dir = data_dir
        self.compact_bytes = compact_bytes
        self._lock = threading.RLock()
        self._journal: BinaryIO | None = None
        self._closed = False
        # Records are written (to SQLite) only while this is true: during
        # replay, entries SQLite already holds apply to the graph alone.
        self._live_records = True
        self._snapshot_bytes = 0
        self.s = _State()
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        self._rec = _RecordFile(None if data_dir is None else data_dir / RECORDS)
        if data_dir is not None:
            self._load()
            if self._journal is None:  # a migration's compaction opens it
                self._journal = open(data_dir / JOURNAL, "ab")  # noqa: SIM115

    # -- persistence -------------------------------------------------------
    def _load(self) -> None:
        assert self.data_dir is not None
        self._rec.rollback()
        self.s = _State()
        snap = self.data_dir / SNAPSHOT
        legacy_ops = False
        if snap.exists():
            self._snapshot_bytes = snap.stat().st_size
            with snap.open("rb") as fh:
                if fh.read(len(_SNAP_MAGIC)) == _SNAP_MAGIC:
                    self._read_snapshot(fh)
                else:
                    fh.seek(0)
                    self._migrate_legacy(pickle.load(fh))
                    legacy_ops = True
        if self._rec.seq < self.s.seq:
            raise StoreUnavailable(
                f"{self.data_dir / RECORDS} is older than the snapshot "
                f"(sequence {self._rec.seq} < {self.s.seq}): records were lost"
            )
        journal = self.data_dir / JOURNAL
        if journal.exists():
            with journal.open("rb") as fh:
                data = fh.read()
            good = self._replay(data)
            if good < len(data):
                # A torn tail from a crash: it was never acknowledged, so drop it.
                with journal.open("r+b") as fh:
                    fh.truncate(good)
        if legacy_ops:
            # Rewrite in the current format at once, so that old journal
            # entries are never replayed again.
            self._compact_locked()

    def _replay(self, data: bytes) -> int:
        good = pos = 0
        self._rec.begin()
        try:
            while pos + _HEADER.size <= len(data):
                length, crc = _HEADER.unpack_from(data, pos)
                start, end = pos + _HEADER.size, pos + _HEADER.size + length
                if end > len(data) or zlib.crc32(data[start:end]) != crc:
                    break
                seq, entry = _unpack(data[start:end])
                if seq > self.s.seq:
                    self._live_records = seq > self._rec.seq
                    if isinstance(entry[0], str) and entry[0] in _LEGACY_OPS:
                        self._apply_raw(entry)
                    else:
                        self._apply_entry(entry)
                    self.s.seq = seq
                pos = good = end
            self._rec.commit(max(self.s.seq, self._rec.seq))
        except BaseException:
            self._rec.rollback()
            raise
        finally:
            self._live_records = True
        return good

    def _persist(self, entry: tuple[Any, ...]) -> None:
        seq = self.s.seq + 1
        if self._journal is not None:
            payload = _pack((seq, entry))
            self._journal.write(_HEADER.pack(len(payload), zlib.crc32(payload)))
            self._journal.write(payload)
            self._journal.flush()
            os.fsync(self._journal.fileno())
        # After the fsync: SQLite must never hold what the journal may lose.
        self.s.seq = seq
        self._rec.commit(seq)
        if self._journal is not None and self._journal.tell() > max(
            self.compact_bytes, self._snapshot_bytes
        ):
            # Compaction costs in proportion to the state, so let the journal
            # grow to the snapshot's size first: writes stay within twice
            # their own bytes however large the graph.
            self._compact_locked()

    def compact(self) -> None:
        """Fold the journal into a new snapshot (write, fsync, rename, then truncate)."""
        if self.data_dir is None:
            return
        with self._lock:
            self._compact_locked()

    def _compact_locked(self) -> None:
        assert self.data_dir is not None
        # SQLite first: once the snapshot says seq N, records up to N must be
        # durable, because the journal entries holding them are about to go.
        self._rec.checkpoint()
        tmp = self.data_dir / (SNAPSHOT + ".tmp")
        with tmp.open("wb") as fh:
            self._write_snapshot(fh)
            fh.flush()
            os.fsync(fh.fileno())
            self._snapshot_bytes = fh.tell()
        os.replace(tmp, self.data_dir / SNAPSHOT)
        dir_fd = os.open(self.data_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        # Entries up to s.seq are in the snapshot; replay skips them even if
        # the truncate below never happens.
        if self._journal is not None:
            self._journal.close()
        self._journal = open(self.data_dir / JOURNAL, "wb")  # noqa: SIM115

    def _write_snapshot(self, fh: BinaryIO) -> None:
        # A sequence of CRC-checked chunks, each a bounded list, so neither
        # writing nor reading ever holds a second copy of the whole state.
        def chunk(obj: Any) -> None:
            payload = _pack(obj)
            fh.write(_HEADER.pack(len(payload), zlib.crc32(payload)))
            fh.write(payload)

        def chunks(kind: str, items: Iterable[Any]) -> None:
            part: list[Any] = []
            for item in items:
                part.append(item)
                if len(part) >= _SNAP_CHUNK:
                    chunk((kind, part))
                    part = []
            if part:
                chunk((kind, part))

        s = self.s
        fh.write(_SNAP_MAGIC)
        chunk(("meta", s.seq))
        chunks("nodes", ((sid, nd.blob) for sid, nd in s.graph._node.items()))
        chunks(
            "edges",
            ((e.id, e.source, e.target, e.type, e.blob) for e in s.rel_ends.values()),
        )
        chunks("listings", s.listings.items())
        chunks("redirects", s.redirects.items())
        chunks("docs", ((c, i, b) for c, bucket in s.docs.items() for i, b in bucket.items()))
        chunk(("end", s.seq))

    def _read_snapshot(self, fh: BinaryIO) -> None:
        s = self.s
        g = s.graph
        ended = False
        while True:
            head = fh.read(_HEADER.size)
            if len(head) < _HEADER.size:
                break
            length, crc = _HEADER.unpack(head)
            payload = fh.read(length)
            if len(payload) != length or zlib.crc32(payload) != crc:
                raise StoreUnavailable(f"{self.data_dir} snapshot is damaged")
            kind, items = _unpack(payload)
            if kind == "meta":
                s.seq = items
            elif kind == "nodes":
                for sid, blob in items:
                    g.add_node(sid)
                    nd: _NodeData = g._node[sid]
                    nd.id = sid
                    nd.blob = blob
                    subj = nd.subject()
                    self._index_keys(sid, subj.keys)
                    self._index_grams(sid, subj.norm_names, ())
            elif kind == "edges":
                for rid, u, v, rtype, blob in items:
                    u, v = g._node[u].id, g._node[v].id
                    self._add_edge(rid, u, v, rtype, blob)
            elif kind == "listings":
                for lid, blob in items:
                    s.listings[lid] = blob
                    self._index_listing(lid, _listing_from_blob(lid, blob))
            elif kind == "redirects":
                s.redirects.update(items)
            elif kind == "docs":
                for coll, doc_id, blob in items:
                    s.docs.setdefault(coll, {})[doc_id] = blob
            elif kind == "end":
                ended = True
                break
        if not ended:
            raise StoreUnavailable(f"{self.data_dir} snapshot is incomplete")

    def _migrate_legacy(self, old: Any) -> None:
        """Read a snapshot written before records moved to SQLite (a pickled state)."""
        self._rec.begin()
        self._rec.clear()
        g = old.graph
        self._apply_raw(
            (
                "batch",
                Batch(
                    subjects=[d for _n, d in g.nodes(data="s")],
                    relations=[r for _u, _v, r in g.edges(data="r")],
                    listings=list(old.listings.values()),
                    records=list(old.records.values()),
                    docs=[(c, i, b) for c, bucket in old.docs.items() for i, b in bucket.items()],
                ),
            )
        )
        self.s.redirects.update(old.redirects)
        self.s.seq = old.seq
        self._rec.commit(old.seq)

    def _mutate(self, op: tuple[Any, ...]) -> None:
        with self._lock:
            self._check_open()
            try:
                self._rec.begin()
                entry = self._apply_raw(op)
                self._persist(entry)
            except BaseException:
                # Memory may hold half a batch: go back to what disk acknowledged.
                self._rec.rollback()
                if self.data_dir is not None:
                    self._load()
                raise

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("the embedded store is closed")

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            if self._journal is not None:
                if self._journal.tell() > 0:
                    self._compact_locked()
                self._journal.close()
                self._journal = None
            self._rec.close()
            self._closed = True

    def clear(self) -> None:
        self._mutate(("clear",))

    def ping(self) -> None:
        self._check_open()

    # -- writer ------------------------------------------------------------
    def write(self, batch: Batch) -> None:
        if batch.is_empty():
            return
        with self._lock:
            # Checked here, not in _check_batch: journal entries acknowledged
            # before parties were checked must still replay.
            self._check_parties(batch)
            self._mutate(("batch", batch))

    def _check_parties(self, batch: Batch) -> None:
        known = {s.id for s in batch.subjects}
        nodes = self.s.graph._node
        for x in batch.listings:
            for sid in sorted(_named_parties(x)):
                if sid not in known and sid not in nodes:
                    raise ValueError(f"listing {x.id} names unknown subject {sid}")

    def merge_subjects(
        self, survivor_id: str, merged_id: str, docs: Iterable[DocWrite] = ()
    ) -> None:
        self._mutate(("merge", survivor_id, merged_id, list(docs)))

    def move_mentions(
        self,
        record_roles: list[tuple[str, str]],
        from_id: str,
        to_subject: Subject,
        docs: Iterable[DocWrite] = (),
    ) -> None:
        self._mutate(("move", record_roles, from_id, to_subject, list(docs)))

    def _apply_raw(self, op: tuple[Any, ...]) -> tuple[Any, ...]:
        """Apply an operation as callers give it; returns its journal entry."""
        kind = op[0]
        if kind == "batch":
            b: Batch = op[1]
            return self._apply_entry(
                (
                    "B",
                    [_subject_tuple(s) for s in b.subjects],
                    [_relation_tuple(r) for r in b.relations],
                    [_listing_tuple(x) for x in b.listings],
                    [
                        (r.id, _record_blob(r), [m.subject_id for m in r.mentions])
                        for r in b.records
                    ],
                    _pack_docs(b.docs),
                    list(b.delete_relations),
                    list(b.delete_listings),
                )
            )
        if kind == "clear":
            return self._apply_entry(("C",))
        # Docs ride in the merge / move entry itself: one entry is one commit,
        # so replay restores both or neither. They are appended only when
        # given, so entries without them keep the shape written before docs
        # existed (and those old entries replay through the same path).
        # Legacy journal ops ("merge", a, b) / ("move", roles, from, to) have
        # no docs element.
        if kind == "merge":
            docs = _pack_docs(op[3]) if len(op) > 3 else []
            return self._apply_entry(("M", op[1], op[2], *([docs] if docs else [])))
        if kind == "move":
            to: Subject = op[3]
            docs = _pack_docs(op[4]) if len(op) > 4 else []
            entry = ("V", list(op[1]), op[2], _subject_tuple(to), None)
            return self._apply_entry((*entry, *([docs] if docs else [])))
        raise ValueError(f"unknown operation {kind}")  # pragma: no cover

    def _apply_entry(self, entry: tuple[Any, ...]) -> tuple[Any, ...]:
        """Apply a journal entry; returns what to journal (no-op upserts left out)."""
        kind = entry[0]
        if kind == "B":
            return self._apply_batch(entry)
        if kind == "C":
            seq = self.s.seq
            self.s = _State()
            self.s.seq = seq
            if self._live_records:
                self._rec.clear()
            return entry
        if kind == "M":
            self._apply_merge(entry[1], entry[2])
            # After the merge: an unknown survivor raises before anything,
            # docs included, is applied.
            if len(entry) > 3:
                self._apply_docs(entry[3])
            return entry
        if kind == "V":
            moved = self._apply_move(entry[1], entry[2], Subject(*entry[3]), entry[4])
            if len(entry) > 5:
                self._apply_docs(entry[5])
            return (*entry[:4], sorted(moved), *entry[5:])
        raise ValueError(f"unknown journal entry {kind}")  # pragma: no cover

    def _check_batch(self, entry: tuple[Any, ...]) -> None:
        # Checked before anything is applied: an in-memory store (data_dir
        # None) has no journal to reload, so a batch that fails half-way
        # would otherwise stay half-applied.
        _b, subjects, relations, listings, records = entry[:5]
        known = {t[0] for t in subjects}
        nodes = self.s.graph._node

        def check(sid: str, what: str) -> None:
            if sid not in known and sid not in nodes:
                raise ValueError(f"{what} names unknown subject {sid}")

        for r in relations:
            check(r[2], f"relation {r[0]}")
            check(r[3], f"relation {r[0]}")
        for x in listings:
            check(x[2], f"listing {x[0]}")
        for rid, _body, sids in records:
            for sid in sids:
                check(sid, f"record {rid} mention")

    def _apply_batch(self, entry: tuple[Any, ...]) -> tuple[Any, ...]:
        self._check_batch(entry)
        _b, subjects, relations, listings, records, docs, del_rels, del_lsts = entry
        kept_subjects = [t for t in subjects if self._upsert_subject(Subject(*t))]
        for rid in del_rels:
            self._delete_relation(rid)
        kept_relations = [t for t in relations if self._upsert_relation(Relation(*t))]
        for lid in del_lsts:
            self._delete_listing(lid)
        for t in listings:
            self._upsert_listing(Listing(*t))
        if records and self._live_records:
            self._rec.put(records)
        self._apply_docs(docs)
        return ("B", kept_subjects, kept_relations, *entry[3:])

    def _apply_docs(self, docs: list[tuple[str, str, bytes | None]]) -> None:
        for coll, doc_id, body in docs:
            bucket = self.s.docs.setdefault(coll, {})
            if body is None:
                bucket.pop(doc_id, None)
            else:
                bucket[doc_id] = body

    # -- indexes -------------------------------------------------------------
    def _index_keys(self, sid: str, keys: Iterable[str]) -> None:
        for key in keys:
            _post_add(self.s.key_index, key, sid)

    def _index_grams(self, sid: str, added: Iterable[str], existing: Iterable[str]) -> None:
        have = _grams_of(existing)
        for gram in _grams_of(added) - have:
            _post_add(self.s.name_index, gram, sid)

    def _unindex_subject(self, sid: str, subj: Subject) -> None:
        for key in subj.keys:
            _post_remove(self.s.key_index, key, sid)
        for gram in _grams_of(subj.norm_names):
            _post_remove(self.s.name_index, gram, sid)

    # -- subjects ------------------------------------------------------------
    def _upsert_subject(self, new: Subject) -> bool:
        """Returns whether anything changed (unchanged upserts are not journalled)."""
        g = self.s.graph
        nd: _NodeData | None = g._node.get(new.id)
        if nd is not None:
            cur = nd.subject()
            n_keys, old_norms = len(cur.keys), list(cur.norm_names)
            apply_subject_upsert(cur, new)
            blob = _subject_blob(cur)
            if blob == nd.blob:
                return False
            nd.blob = blob
            self._index_keys(nd.id, cur.keys[n_keys:])
            self._index_grams(nd.id, cur.norm_names[len(old_norms) :], old_norms)
            return True
        cur = first_upsert(new)
        g.add_node(new.id)
        nd = g._node[new.id]
        nd.id = new.id
        nd.blob = _subject_blob(cur)
        self.s.redirects.pop(new.id, None)
        self._index_keys(new.id, cur.keys)
        self._index_grams(new.id, cur.norm_names, ())
        return True

    # -- relations -----------------------------------------------------------
    def _add_edge(self, rid: str, u: str, v: str, rtype: str, blob: bytes) -> None:
        g = self.s.graph
        g.add_edge(u, v, key=rid)
        ed: _EdgeData = g._succ[u][v][rid]
        ed.fill(rid, u, v, rtype, blob)
        self.s.rel_ends[rid] = ed

    def _is_current(self, ed: _EdgeData) -> bool:
        # Re-pointing an edge replaces its data object, so a stale one seen
        # again (a self-loop is both in- and out-edge) is skipped.
        cur: object = self.s.rel_ends.get(ed.id)
        return cur is ed

    def _remove_edge(self, ed: _EdgeData) -> None:
        self.s.graph.remove_edge(ed.source, ed.target, key=ed.id)

    def _upsert_relation(self, rel: Relation) -> bool:
        nodes = self.s.graph._node
        for end in (rel.source, rel.target):
            if end not in nodes:
                raise ValueError(f"relation {rel.id} names unknown subject {end}")
        record_ids: list[str] = []
        old = self.s.rel_ends.get(rel.id)
        rid = rel.id
        if old is not None:
            record_ids = list(_unpack(old.blob)[3])
            rid = old.id
        union_into(record_ids, rel.record_ids)
        blob = _pack((rel.valid_from, rel.valid_to, rel.props, record_ids))
        if (
            old is not None
            and old.blob == blob
            and old.type == rel.type
            and (old.source, old.target) == (rel.source, rel.target)
        ):
            return False
        if old is not None:
            self._remove_edge(old)
        self._add_edge(rid, nodes[rel.source].id, nodes[rel.target].id, rel.type, blob)
        return True

    def _delete_relation(self, rid: str) -> None:
        ed = self.s.rel_ends.pop(rid, None)
        if ed is not None:
            self._remove_edge(ed)

    # -- listings --------------------------------------------------------------
    def _upsert_listing(self, lst: Listing) -> None:
        nodes = self.s.graph._node
        if lst.subject_id not in nodes:
            raise ValueError(f"listing {lst.id} names unknown subject {lst.subject_id}")
        lid = lst.id
        record_ids: list[str] = []
        old_blob = self.s.listings.pop(lst.id, None)
        if old_blob is not None:
            old = _listing_from_blob(lst.id, old_blob)
            record_ids = list(old.record_ids)
            self._unindex_listing(old)
        union_into(record_ids, lst.record_ids)
        stored = Listing(
            id=lid,
            kind=lst.kind,
            subject_id=nodes[lst.subject_id].id,
            number=lst.number,
            department=lst.department,
            start=lst.start,
            end=lst.end,
            props=lst.props,
            record_ids=record_ids,
        )
        self._store_listing(stored)

    def _store_listing(self, lst: Listing) -> None:
        self.s.listings[lst.id] = _pack(_listing_tuple(lst)[1:])
        self._index_listing(lst.id, lst)

    def _index_listing(self, lid: str, lst: Listing) -> None:
        sid = self.s.graph._node[lst.subject_id].id
        _post_add(self.s.listings_by_subject, sid, lid)
        _post_add(self.s.listings_by_kind, sys.intern(lst.kind), lid)
        if lst.number:
            _post_add(self.s.listings_by_number, lst.number, lid)
        for pid in _named_parties(lst):
            node = self.s.graph._node.get(pid)
            # The node's own key object, as for the other postings.
            _post_add(self.s.listings_by_party, node.id if node is not None else pid, lid)

    def _unindex_listing(self, lst: Listing) -> None:
        _post_remove(self.s.listings_by_subject, lst.subject_id, lst.id)
        _post_remove(self.s.listings_by_kind, lst.kind, lst.id)
        if lst.number:
            _post_remove(self.s.listings_by_number, lst.number, lst.id)
        for pid in _named_parties(lst):
            _post_remove(self.s.listings_by_party, pid, lst.id)

    def _delete_listing(self, lid: str) -> None:
        old = self.s.listings.pop(lid, None)
        if old is not None:
            self._unindex_listing(_listing_from_blob(lid, old))

    # -- merge and split ---------------------------------------------------------
    def _apply_merge(self, survivor_id: str, merged_id: str) -> None:
        g = self.s.graph
        nodes = g._node
        if survivor_id == merged_id or merged_id not in nodes:
            return
        if survivor_id not in nodes:
            raise ValueError(f"unknown subject {survivor_id}")
        survivor_id = nodes[survivor_id].id
        merged = nodes[merged_id].subject()
        snd: _NodeData = nodes[survivor_id]
        survivor = snd.subject()
        self._unindex_subject(merged_id, merged)
        n_keys, old_norms = len(survivor.keys), list(survivor.norm_names)
        fold_subject(survivor, merged)
        snd.blob = _subject_blob(survivor)
        self._index_keys(survivor_id, survivor.keys[n_keys:])
        self._index_grams(survivor_id, survivor.norm_names[len(old_norms) :], old_norms)
        edges = [ed for kd in g._pred[merged_id].values() for ed in kd.values()]
        edges += [ed for kd in g._succ[merged_id].values() for ed in kd.values()]
        for ed in edges:
            if not self._is_current(ed):
                continue  # a self-loop seen from both sides
            self._remove_edge(ed)
            source = survivor_id if ed.source == merged_id else ed.source
            target = survivor_id if ed.target == merged_id else ed.target
            self._add_edge(ed.id, source, target, ed.type, ed.blob)
        lids = sorted(_post_get(self.s.listings_by_subject, merged_id))
        self.s.listings_by_subject.pop(merged_id, None)
        for lid in lids:
            lst = _listing_from_blob(lid, self.s.listings[lid])
            lst.subject_id = survivor_id
            self.s.listings[lid] = _pack(_listing_tuple(lst)[1:])
            _post_add(self.s.listings_by_subject, survivor_id, lid)
        for lid in sorted(_post_get(self.s.listings_by_party, merged_id)):
            lst = _listing_from_blob(lid, self.s.listings[lid])
            self._unindex_listing(lst)
            parties = lst.props["parties"]
            for role, pid in parties.items():
                if pid == merged_id:
                    parties[role] = survivor_id
            self._store_listing(lst)
        if self._live_records:
            self._merge_records(survivor_id, merged_id)
        g.remove_node(merged_id)
        for old, new in list(self.s.redirects.items()):
            if new == merged_id:
                self.s.redirects[old] = survivor_id
        self.s.redirects[merged_id] = survivor_id

    def _merge_records(self, survivor_id: str, merged_id: str) -> None:
        ids = self._rec.ids_of_subject(merged_id)
        bodies = self._rec.blobs(ids)
        updates = []
        for rid in ids:
            rec = _record_from_blob(rid, bodies[rid])
            for m in rec.mentions:
                if m.subject_id == merged_id:
                    m.subject_id = survivor_id
            updates.append((_record_blob(rec), rid))
        self._rec.update_bodies(updates)
        self._rec.add_mentions([(survivor_id, rid) for rid in ids])
        self._rec.drop_mentions([(merged_id, rid) for rid in ids])

    def _apply_move(
        self,
        record_roles: list[tuple[str, str]],
        from_id: str,
        to_subject: Subject,
        moved_before: list[str] | None,
    ) -> set[str]:
        """Split; returns the ids of the records that moved (journalled, so that a
        replay without the records — SQLite already has them — moves the same)."""
        g = self.s.graph
        if from_id not in g._node:
            raise ValueError(f"unknown subject {from_id}")
        self._upsert_subject(to_subject)
        to_id = g._node[to_subject.id].id
        if self._live_records or moved_before is None:
            moved = self._move_records(record_roles, from_id, to_id)
        else:
            moved = set(moved_before)
        # Relations and listings asserted only by moved records follow them.
        edges = [ed for kd in g._pred[from_id].values() for ed in kd.values()]
        edges += [ed for kd in g._succ[from_id].values() for ed in kd.values()]
        for ed in edges:
            if not self._is_current(ed):
                continue  # a self-loop seen from both sides
            record_ids = _unpack(ed.blob)[3]
            if record_ids and set(record_ids) <= moved:
                self._remove_edge(ed)
                source = to_id if ed.source == from_id else ed.source
                target = to_id if ed.target == from_id else ed.target
                self._add_edge(ed.id, source, target, ed.type, ed.blob)
        for lid in sorted(_post_get(self.s.listings_by_subject, from_id)):
            lst = _listing_from_blob(lid, self.s.listings[lid])
            if lst.record_ids and set(lst.record_ids) <= moved:
                self._unindex_listing(lst)
                lst.subject_id = to_id
                self._store_listing(lst)
        self._move_parties(record_roles, moved, from_id, to_id)
        return moved

    def _move_parties(
        self, record_roles: list[tuple[str, str]], moved: set[str], from_id: str, to_id: str
    ) -> None:
        # A party follows when every record asserting the listing had its
        # mention in that role moved. Computed from the journalled ``moved``
        # alone, so that a replay without the records re-points the same.
        roles_moved = {(rid, role) for rid, role in record_roles if rid in moved}
        for lid in sorted(_post_get(self.s.listings_by_party, from_id)):
            lst = _listing_from_blob(lid, self.s.listings[lid])
            parties = lst.props["parties"]
            follow = [
                role
                for role, pid in parties.items()
                if pid == from_id
                and lst.record_ids
                and all((rid, role) in roles_moved for rid in lst.record_ids)
            ]
            if follow:
                self._unindex_listing(lst)
                for role in follow:
                    parties[role] = to_id
                self._store_listing(lst)

    def _move_records(
        self, record_roles: list[tuple[str, str]], from_id: str, to_id: str
    ) -> set[str]:
        wanted = set(record_roles)
        bodies = self._rec.blobs(sorted({rid for rid, _role in record_roles}))
        work: dict[str, SourceRecord] = {}
        moved: set[str] = set()
        for rec_id, role in record_roles:
            if rec_id not in bodies:
                continue
            rec = work.get(rec_id) or work.setdefault(
                rec_id, _record_from_blob(rec_id, bodies[rec_id])
            )
            for m in rec.mentions:
                if m.subject_id == from_id and (rec_id, m.role) in wanted and m.role == role:
                    m.subject_id = to_id
                    moved.add(rec_id)
        # Nothing of a record moved: records_of(to) must not list it.
        changed = [work[rid] for rid in sorted(moved)]
        self._rec.update_bodies([(_record_blob(rec), rec.id) for rec in changed])
        self._rec.drop_mentions(
            [
                (from_id, rec.id)
                for rec in changed
                if not any(m.subject_id == from_id for m in rec.mentions)
            ]
        )
        self._rec.add_mentions([(to_id, rec.id) for rec in changed])
        return moved

    # -- reader ------------------------------------------------------------
    def get_subjects(self, ids: Iterable[str]) -> dict[str, Subject]:
        with self._lock:
            nodes = self.s.graph._node
            out: dict[str, Subject] = {}
            for i in ids:
                nd = nodes.get(i)
                if nd is not None:
                    out[i] = nd.subject()
            return out

    def resolve_ids(self, ids: Iterable[str]) -> dict[str, str]:
        with self._lock:
            out: dict[str, str] = {}
            nodes = self.s.graph._node
            for i in ids:
                target = self.s.redirects.get(i, i)
                if target in nodes:
                    out[i] = target
            return out

    def find_by_keys(self, keys: Iterable[str]) -> dict[str, list[str]]:
        with self._lock:
            out: dict[str, list[str]] = {}
            for key in keys:
                ids = _post_get(self.s.key_index, key)
                if ids:
                    out[key] = sorted(ids)
            return out

    def relations_of(
        self,
        subject_ids: Iterable[str],
        types: Iterable[str] | None = None,
        as_of: str | None = None,
        direction: str = "both",
    ) -> list[Relation]:
        wanted = set(types) if types is not None else None
        with self._lock:
            g = self.s.graph
            found: dict[str, _EdgeData] = {}
            sides = []
            if direction in ("both", "out"):
                sides.append(g._succ)
            if direction in ("both", "in"):
                sides.append(g._pred)
            for sid in subject_ids:
                for adj in sides:
                    nbrs = adj.get(sid)
                    if not nbrs:
                        continue
                    for keydict in nbrs.values():
                        for ed in keydict.values():
                            if wanted is None or ed.type in wanted:
                                found[ed.id] = ed
            out = [found[k].relation() for k in sorted(found)]
        return [r for r in out if r.active(as_of)]

    def get_relations(self, ids: Iterable[str]) -> dict[str, Relation]:
        with self._lock:
            out: dict[str, Relation] = {}
            for rid in ids:
                ed = self.s.rel_ends.get(rid)
                if ed is not None:
                    out[rid] = ed.relation()
            return out

    def listings_of(
        self, subject_ids: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        return self._listings_via(self.s.listings_by_subject, subject_ids, kinds)

    def listings_by_number(
        self, numbers: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        return self._listings_via(self.s.listings_by_number, numbers, kinds)

    def listings_naming(
        self, subject_ids: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        return self._listings_via(self.s.listings_by_party, subject_ids, kinds)

    def _listings_via(
        self, index: Postings, keys: Iterable[str], kinds: Iterable[str] | None
    ) -> list[Listing]:
        wanted = set(kinds) if kinds is not None else None
        with self._lock:
            ids: set[str] = set()
            for key in keys:
                ids.update(_post_get(index, key))
            return self._listings_sorted(ids, wanted)

    def _listings_sorted(self, ids: set[str], kinds: set[str] | None) -> list[Listing]:
        out = [_listing_from_blob(i, self.s.listings[i]) for i in sorted(ids)]
        return [x for x in out if kinds is None or x.kind in kinds]

    def get_listings(self, ids: Iterable[str]) -> dict[str, Listing]:
        with self._lock:
            out: dict[str, Listing] = {}
            for i in ids:
                blob = self.s.listings.get(i)
                if blob is not None:
                    out[i] = _listing_from_blob(i, blob)
            return out

    def get_records(self, ids: Iterable[str]) -> dict[str, SourceRecord]:
        wanted = list(ids)
        with self._lock:
            self._check_open()
            bodies = self._rec.blobs(wanted)
        return {i: _record_from_blob(i, bodies[i]) for i in wanted if i in bodies}

    def records_of(self, subject_id: str) -> list[SourceRecord]:
        with self._lock:
            self._check_open()
            rows = self._rec.of_subject(subject_id)
        return [_record_from_blob(rid, body) for rid, body in rows]

    def search(self, text: str, subject_type: str | None = None, limit: int = 50) -> list[Subject]:
        if not text or limit <= 0:
            return []
        # Every name containing the text holds its UTF-8 bytes, and so does the
        # encoded subject (marshal and pickle both write str as UTF-8): a cheap
        # test before decoding.
        needle = text.encode("utf-8", "surrogatepass")
        with self._lock:
            nodes = self.s.graph._node
            if len(text) == 1:
                # A one-character query is not a bigram (the index holds single
                # characters only for one-character names): scan the subjects.
                candidates = [sid for sid, nd in nodes.items() if needle in nd.blob]
            else:
                # A name containing the text contains each of its bigrams, so
                # the shortest posting list holds every answer.
                index = self.s.name_index
                shortest: list[str] | None = None
                for gram in _bigrams(text):
                    ids = _post_get(index, gram)
                    if not ids:
                        return []
                    if shortest is None or len(ids) < len(shortest):
                        shortest = ids
                candidates = shortest or []
            out: list[Subject] = []
            for sid in sorted(candidates):
                nd = nodes[sid]
                if needle not in nd.blob:
                    continue
                subj = nd.subject()
                if subject_type is not None and subj.type != subject_type:
                    continue
                if any(text in n for n in subj.norm_names):
                    out.append(subj)
                    if len(out) >= limit:
                        break
            return out

    def iter_subjects(self, subject_type: str | None = None) -> Iterator[Subject]:
        with self._lock:
            blobs = [(sid, nd.blob) for sid, nd in self.s.graph._node.items()]
        blobs.sort(key=lambda x: x[0])
        for sid, blob in blobs:
            t, name, names, norms, keys, status, attrs = _unpack(blob)
            if subject_type is None or t == subject_type:
                yield Subject(sid, t, name, names, norms, keys, status, attrs)

    def iter_relations(self, types: Iterable[str] | None = None) -> Iterator[Relation]:
        wanted = set(types) if types is not None else None
        with self._lock:
            rows = [
                (e.id, e.type, e.source, e.target, e.blob)
                for e in self.s.rel_ends.values()
                if wanted is None or e.type in wanted
            ]
        rows.sort(key=lambda x: x[0])
        for rid, rtype, source, target, blob in rows:
            yield Relation(rid, rtype, source, target, *_unpack(blob))

    def iter_listings(self, kinds: Iterable[str] | None = None) -> Iterator[Listing]:
        with self._lock:
            listings = self.s.listings
            if kinds is None:
                rows = sorted(listings.items())
            else:
                ids = {i for k in set(kinds) for i in _post_get(self.s.listings_by_kind, k)}
                rows = [(i, listings[i]) for i in sorted(ids)]
        for lid, blob in rows:
            yield _listing_from_blob(lid, blob)

    def get_docs(self, collection: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            bucket = self.s.docs.get(collection, {})
            return {i: _unpack(bucket[i]) for i in ids if i in bucket}

    def list_docs(self, collection: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            bucket = self.s.docs.get(collection, {})
            return {k: _unpack(bucket[k]) for k in sorted(bucket)}

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "subjects": self.s.graph.number_of_nodes(),
                "relations": len(self.s.rel_ends),
                "listings": len(self.s.listings),
                "records": self._rec.count,
                "redirects": len(self.s.redirects),
            }

    # networkx view for analysts (notebooks): the live graph, read-only by
    # convention. Node data "s" and edge data "r" decode to fresh Subject and
    # Relation objects on each access.
    @property
    def nx_graph(self) -> nx.MultiDiGraph:
        return self.s.graph

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.close()


# Journal entries written before records moved to SQLite held the caller's
# objects: ("batch", Batch), ("merge", a, b), ("move", roles, from, Subject), ("clear",).
# Callers' ops now also carry docs: ("merge", a, b, docs), ("move", .., Subject, docs).
_LEGACY_OPS = frozenset({"batch", "merge", "move", "clear"})

__all__ = ["EmbeddedStore", "Mention"]
