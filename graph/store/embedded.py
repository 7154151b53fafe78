"""The embedded store: a networkx MultiDiGraph in memory, persisted on local disk.

Memory layout (about 1.7 KiB per subject with its relations at city scale,
where plain dataclasses in dicts took about 9 KiB): the graph keeps, per node
and per edge, one small slotted object holding the entity *encoded*
(MessagePack) and decodes it on read. Readers therefore always get fresh
objects, as from Neo4j. Source records — more than half of the bytes — do not
live in memory at all: they are rows of a SQLite file beside the journal (an
in-memory SQLite database when ``data_dir`` is None), with a (subject, record)
table as the ``records_of`` index. Key and bigram postings hold the node's own
id string, a bare ``str`` for the usual single posting and a list only when
shared.

The store's own files are data, never code: MessagePack with a few extension
types (dates, big integers), decoded with the library's length limits, so a
crafted snapshot or journal gives a clean ``StoreUnavailable`` naming the
file — not code execution (as pickle would) and not a crash.

Durability without a database server: every write is appended to a journal
(length, CRC32, MessagePack) and fsynced before it is acknowledged — the
journal is the commit point for everything, records included. Records are
also written to SQLite in a transaction that stores the journal sequence
number it reaches (and each row the number of the entry that wrote it) and
commits only after the journal fsync (WAL, ``synchronous=NORMAL``: consistent
after any crash, possibly a few transactions behind). On open the snapshot
(graph, listings, docs) is read and the journal replayed: graph changes after
the snapshot's sequence number, record changes after SQLite's — so each is
applied exactly once. Rows SQLite holds beyond the last journal entry (the
journal lost or replaced behind the store's back) are dropped, so that the
records table never claims a load the graph does not have and re-loading the
file repairs it. Compaction checkpoints SQLite (fsync) before writing the
snapshot, so SQLite is never behind the snapshot; the new snapshot and a new,
empty journal replace the old files by rename. A torn journal tail (a crash
mid-write) fails its length or CRC check and is cut off; SQLite never holds
it, as it commits later.

One writer (``graph.store.files.WriterLock``): a store opened for writing
holds an exclusive lock on ``writer.lock`` until it is closed or its process
ends, so journal sequence numbers come from one counter and nobody truncates
a journal another process appends to. A second writer is refused at once,
naming the holder. A store opened ``read_only`` takes no lock and never
writes a file: before each read it checks the snapshot's and the journal's
identity and size, applies the entries the writer appended since, and
re-reads everything when the writer compacted. Readers read records from the
SQLite file directly.

A merge or a split and the documents written with it (a judgement, its
assignments, rejections and review status) are one journal entry, so a crash
keeps both or neither.

Readers and writers share one lock: a read sees the state before or after a
write, never a half-applied batch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import struct
import sys
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, BinaryIO

import networkx as nx

from graph.codec import pack as _pack
from graph.codec import unpack
from graph.errors import StoreBusy, StoreUnavailable
from graph.model import Listing, Mention, Relation, SourceRecord, Subject
from graph.store.base import (
    Batch,
    DocWrite,
    apply_subject_upsert,
    first_upsert,
    fold_subject,
    union_into,
)
from graph.store.files import WriterLock, open_private, private_dir, private_file

log = logging.getLogger("creditlink.store")

_HEADER = struct.Struct("<QI")
SNAPSHOT = "graph.snapshot"
JOURNAL = "graph.journal"
RECORDS = "records.sqlite"
# Format 3: MessagePack. Earlier formats (pickle, then marshal) are refused by
# name rather than decoded: both can be made to run code or crash the process.
_SNAP_MAGIC = b"CLSNAP3\n"
JOURNAL_MAGIC = b"CLJRNL3\n"
_OLD_SNAP_MAGICS = (b"CLSNAP2\n",)
_SNAP_CHUNK = 50_000
# SQLite's default limit on host parameters is far above this; 500 keeps each
# statement small enough to plan quickly.
_SQL_CHUNK = 500


# -- encoding ----------------------------------------------------------------


class DamagedStore(StoreUnavailable):
    """A store file holds bytes that do not decode to what the store wrote."""


def _unpack(blob: bytes) -> Any:
    try:
        return unpack(blob)
    except Exception as exc:  # every way crafted bytes can fail to decode
        raise DamagedStore(f"the embedded store holds damaged data ({exc!r})") from exc


def _subject_tuple(s: Subject) -> tuple[Any, ...]:
    return (s.id, s.type, s.name, s.names, s.norm_names, s.keys, s.status, s.attrs)


def _subject_blob(s: Subject) -> bytes:
    return _pack((s.type, s.name, s.names, s.norm_names, s.keys, s.status, s.attrs))


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

    Only the store's lock ever touches the connection, so one connection
    shared by threads is safe. Each record row carries the journal sequence
    number of the entry that last wrote it (``seq``), so that rows the journal
    does not have can be dropped on open (``drop_after``).

    A read-only store's file is opened read-only and never written; when it
    does not exist yet, an empty in-memory database stands in.
    """

    def __init__(self, path: Path | None, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.db = self._connect()
        self.pending_seq = 0
        self.in_txn = False
        self.seq = 0
        self.count = 0
        self.read_meta()

    def _connect(self) -> sqlite3.Connection:
        path = self.path
        if path is None or (self.read_only and not path.exists()):
            db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        elif self.read_only:
            db = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
            # A crafted file may declare triggers and views: they run only SQL,
            # and untrusted schema may not call functions with side effects.
            db.execute("PRAGMA trusted_schema=OFF")
            return db
        else:
            private_file(path)
            db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA trusted_schema=OFF")
            db.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL never corrupts, only loses the last commits on
            # power loss; the journal replays those (meta.seq says which).
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA cache_size=-16384")
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS record (
                id TEXT PRIMARY KEY, body BLOB NOT NULL, seq INTEGER NOT NULL DEFAULT 0)
                WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS mention (
                subject_id TEXT NOT NULL, record_id TEXT NOT NULL,
                PRIMARY KEY (subject_id, record_id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
            """
        )
        columns = {row[1] for row in db.execute("PRAGMA table_info(record)")}
        if "seq" not in columns:  # a file written before rows carried their entry
            db.execute("ALTER TABLE record ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
        return db

    def read_meta(self) -> None:
        try:
            meta = dict(self.db.execute("SELECT k, v FROM meta").fetchall())
        except sqlite3.Error:
            meta = {}  # a reader of a file whose writer has not created it yet
        self.seq = meta.get("seq", 0)
        self.count = meta.get("count", 0)

    def reopen(self) -> None:
        """A reader: connect again (the writer may have created or replaced the file)."""
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        self.db = self._connect()
        self.read_meta()

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
        self.read_meta()

    def drop_after(self, seq: int) -> int:
        """Delete the rows written by journal entries after ``seq``; returns how many."""
        self.begin()
        self.db.execute(
            "DELETE FROM mention WHERE record_id IN (SELECT id FROM record WHERE seq > ?)", (seq,)
        )
        dropped = self.db.execute("DELETE FROM record WHERE seq > ?", (seq,)).rowcount
        self.count = self.db.execute("SELECT count(*) FROM record").fetchone()[0]
        self.commit(seq)
        return int(dropped)

    def checkpoint(self) -> None:
        """Make every commit durable in the database file (fsyncs WAL and file)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        if not self.read_only:
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
        seq = self.pending_seq
        self.db.executemany(
            "INSERT OR REPLACE INTO record (id, body, seq) VALUES (?, ?, ?)",
            [(rid, body, seq) for rid, (body, _s) in final.items()],
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO mention (subject_id, record_id) VALUES (?, ?)",
            [(sid, rid) for rid, (_b, sids) in final.items() for sid in sids],
        )
        self.count += len(final) - len(old)

    def update_bodies(self, rows: list[tuple[bytes, str]]) -> None:
        seq = self.pending_seq
        self.db.executemany(
            "UPDATE record SET body = ?, seq = ? WHERE id = ?", [(b, seq, i) for b, i in rows]
        )

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


def _str(value: Any) -> str:
    if type(value) is not str:
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value


def _bytes(value: Any) -> bytes:
    if type(value) is not bytes:
        raise TypeError(f"expected bytes, found {type(value).__name__}")
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, found {type(value).__name__}")
    return value


def _check_relation(rel: Relation) -> None:
    if not isinstance(rel.props, dict) or not isinstance(rel.record_ids, list):
        raise TypeError(f"relation {rel.id} is not what the store writes")


def _old_format(path: Path, known_old: bool) -> StoreUnavailable:
    why = (
        "was written by an earlier creditlink in a format that can run code when read "
        "(pickle or marshal), so it is not read"
        if known_old
        else "is not an embedded-store file"
    )
    return StoreUnavailable(
        f"{path} {why}. Move the data directory's store/ aside and load the feeds again "
        "(creditlink load FILE...)."
    )


class EmbeddedStore:
    """networkx-backed GraphStore, persisted under ``data_dir``.

    ``read_only`` opens the files of a store another process may be writing
    (CLI reports, notebooks): no lock, no file written (except the one repair
    of a dead writer's records, see ``_repair_for_reader``), and every read
    first catches up with what the writer committed.
    """

    name = "embedded"

    def __init__(
        self,
        data_dir: Path | None,
        compact_bytes: int = 256 * 1024 * 1024,
        *,
        read_only: bool = False,
    ) -> None:
        # data_dir None keeps everything in memory (notebooks, throwaway tests).
        self.data_dir = data_dir
        self.compact_bytes = compact_bytes
        self.read_only = read_only and data_dir is not None
        self._lock = threading.RLock()
        self._journal: BinaryIO | None = None
        # Bytes of the journal this process wrote or read (header included).
        self._journal_size = 0
        self._closed = False
        # Records are written (to SQLite) only while this is true: during
        # replay, entries SQLite already holds apply to the graph alone.
        self._live_records = True
        self._repairing = False
        self._snapshot_bytes = 0
        # What a reader last read: (dev, inode, size, mtime) of the snapshot and
        # (dev, inode) of the journal; a change means the writer compacted.
        self._snap_id: tuple[int, ...] | None = None
        self._journal_id: tuple[int, ...] | None = None
        self._token = uuid.uuid4().hex[:12]
        self.s = _State()
        self._writer: WriterLock | None = None
        if data_dir is not None and not self.read_only:
            private_dir(data_dir)
            self._writer = WriterLock(data_dir)
            self._writer.acquire()
        try:
            self._rec = _RecordFile(
                None if data_dir is None else data_dir / RECORDS, self.read_only
            )
            if data_dir is not None:
                self._load()
                if not self.read_only:
                    self._open_journal()
        except BaseException:
            if self._writer is not None:
                self._writer.release()
            raise

    # -- persistence -------------------------------------------------------
    def _path(self, name: str) -> Path:
        assert self.data_dir is not None
        return self.data_dir / name

    def _open_journal(self) -> None:
        """The writer's journal handle; a missing or empty journal gets its header."""
        path = self._path(JOURNAL)
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        self._journal = os.fdopen(fd, "ab")
        if os.fstat(fd).st_size == 0:
            self._journal.write(JOURNAL_MAGIC)
            self._journal.flush()
            os.fsync(fd)
        self._journal_size = os.fstat(fd).st_size

    def _load(self) -> None:
        """Read the snapshot and replay the journal (a writer also repairs what a
        crash left: a torn tail, SQLite rows the journal does not have)."""
        assert self.data_dir is not None
        if self.read_only:
            self._rec.reopen()
        else:
            self._rec.rollback()
        self.s = _State()
        self._snap_id = None
        self._journal_id = None
        self._journal_size = 0
        snap = self._path(SNAPSHOT)
        try:
            fh = snap.open("rb")
        except FileNotFoundError:
            fh = None
        if fh is not None:
            with fh:
                st = os.fstat(fh.fileno())
                self._snap_id = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
                self._snapshot_bytes = st.st_size
                magic = fh.read(len(_SNAP_MAGIC))
                if magic != _SNAP_MAGIC:
                    raise _old_format(snap, magic in _OLD_SNAP_MAGICS or magic[:1] == b"\x80")
                try:
                    self._read_snapshot(fh)
                except DamagedStore as exc:
                    raise DamagedStore(f"{snap} is damaged: {exc.message}") from exc
        if self._rec.seq < self.s.seq and not self.read_only:
            raise StoreUnavailable(
                f"{self.data_dir / RECORDS} is older than the snapshot "
                f"(sequence {self._rec.seq} < {self.s.seq}): records were lost"
            )
        self._read_journal(from_start=True)
        self._repair_for_reader()
        if not self.read_only and self._rec.seq > self.s.seq:
            # SQLite holds rows of entries the journal does not have (it was
            # lost or replaced behind the store's back). Keeping them would
            # make a re-load of their file report "unchanged" while the graph
            # lacks it; dropped, the file loads again.
            dropped = self._rec.drop_after(self.s.seq)
            log.warning(
                "%s: dropped %d record rows written after journal entry %d, which the "
                "journal does not have; load their files again",
                self.data_dir / RECORDS,
                dropped,
                self.s.seq,
            )

    def _read_journal(self, from_start: bool) -> None:
        """Apply the journal's complete entries after the ones already read."""
        path = self._path(JOURNAL)
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            if from_start:
                st = os.fstat(fh.fileno())
                self._journal_id = (st.st_dev, st.st_ino)
                head = fh.read(len(JOURNAL_MAGIC))
                if not head:
                    return
                if head != JOURNAL_MAGIC:
                    if len(head) < len(JOURNAL_MAGIC) and JOURNAL_MAGIC.startswith(head):
                        return  # a header being written
                    raise _old_format(path, True)
                self._journal_size = len(JOURNAL_MAGIC)
            fh.seek(self._journal_size)
            data = fh.read()
        good, gap = self._replay(data, path)
        self._journal_size += good
        if not self.read_only and good < len(data):
            if gap is not None:
                raise StoreUnavailable(
                    f"{path}: entry {gap} follows entry {self.s.seq}; entries are missing "
                    "(the journal was changed outside creditlink)"
                )
            # A torn tail from a crash: it was never acknowledged, so drop it.
            with path.open("r+b") as out:
                out.truncate(self._journal_size)

    def _replay(self, data: bytes, path: Path) -> tuple[int, int | None]:
        """Apply complete entries in order; returns (bytes used, the sequence number
        that broke the order or None). A reader stops at a gap (the writer
        compacted under it) and reloads on its next read."""
        good = pos = 0
        gap: int | None = None
        if not self.read_only:
            self._rec.begin()
        try:
            while pos + _HEADER.size <= len(data):
                length, crc = _HEADER.unpack_from(data, pos)
                start, end = pos + _HEADER.size, pos + _HEADER.size + length
                if end > len(data) or zlib.crc32(data[start:end]) != crc:
                    break
                try:
                    seq, entry = _unpack(data[start:end])
                    seq = int(seq)
                except (DamagedStore, TypeError, ValueError) as exc:
                    raise DamagedStore(f"{path} holds a damaged entry at byte {pos}") from exc
                if seq > self.s.seq + 1:
                    gap = seq
                    break
                if seq == self.s.seq + 1:
                    self._live_records = not self.read_only and seq > self._rec.seq
                    self._rec.pending_seq = seq
                    try:
                        self._apply_entry(entry)
                    except (DamagedStore, TypeError, ValueError, IndexError, KeyError) as exc:
                        raise DamagedStore(f"{path}: entry {seq} does not apply ({exc!r})") from exc
                    self.s.seq = seq
                pos = good = end
            if not self.read_only:
                self._rec.commit(max(self.s.seq, self._rec.seq))
        except BaseException:
            if not self.read_only:
                self._rec.rollback()
            raise
        finally:
            self._live_records = True
        return good, gap

    def _refresh(self) -> None:
        """A reader catches up with the writer: new journal entries, or everything
        again when the writer compacted (new snapshot and journal files)."""
        if not self.read_only or self._closed:
            return
        try:
            st = os.stat(self._path(SNAPSHOT))
            snap_id: tuple[int, ...] | None = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            snap_id = None
        try:
            st = os.stat(self._path(JOURNAL))
            journal_id: tuple[int, ...] | None = (st.st_dev, st.st_ino)
            journal_size = st.st_size
        except FileNotFoundError:
            journal_id, journal_size = None, 0
        if snap_id != self._snap_id or journal_id != self._journal_id:
            self._load()
        elif journal_size > self._journal_size:
            self._read_journal(from_start=self._journal_size == 0)
            self._rec.read_meta()
            self._repair_for_reader()

    def _repair_for_reader(self) -> None:
        """A reader that finds journal entries SQLite lacks (a writer killed
        between its journal fsync and its SQLite commit) has the graph of those
        entries but not their records. A live writer commits them a moment
        later; a dead one never will, so when nobody holds the writer lock the
        reader opens the store as writer once, which replays them into SQLite
        (the repair every writer makes on open), and reads again."""
        if not self.read_only or self.data_dir is None or self.s.seq <= self._rec.seq:
            return
        if self._repairing:
            return
        try:
            EmbeddedStore(self.data_dir, self.compact_bytes).close()
        except (StoreBusy, OSError):
            return  # a live writer (or no right to write): its own commit follows
        self._repairing = True
        try:
            self._load()
        finally:
            self._repairing = False

    def _persist(self, entry: tuple[Any, ...]) -> None:
        seq = self.s.seq + 1
        if self._journal is not None:
            fd = self._journal.fileno()
            if os.fstat(fd).st_size != self._journal_size:
                # Someone else wrote to the journal (a process that ignored the
                # writer lock): appending now would interleave two histories.
                raise StoreUnavailable(
                    f"{self._path(JOURNAL)} was changed by another process; reopen the store"
                )
            payload = _pack((seq, entry))
            self._journal.write(_HEADER.pack(len(payload), zlib.crc32(payload)))
            self._journal.write(payload)
            self._journal.flush()
            os.fsync(fd)
            self._journal_size += _HEADER.size + len(payload)
        # After the fsync: SQLite must never hold what the journal may lose.
        self.s.seq = seq
        self._rec.commit(seq)
        if self._journal is not None and self._journal_size > max(
            self.compact_bytes, self._snapshot_bytes
        ):
            # Compaction costs in proportion to the state, so let the journal
            # grow to the snapshot's size first: writes stay within twice
            # their own bytes however large the graph.
            self._compact_locked()

    def compact(self) -> None:
        """Fold the journal into a new snapshot (write, fsync, rename; then a new,
        empty journal by rename)."""
        if self.data_dir is None or self.read_only:
            return
        with self._lock:
            self._compact_locked()

    def _replace(self, name: str, write: Callable[[BinaryIO], Any]) -> int:
        """Write ``name`` anew beside it, fsync, rename over it; returns its size."""
        tmp = self._path(name + ".tmp")
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
            size = fh.tell()
        os.replace(tmp, self._path(name))
        return size

    def _fsync_dir(self) -> None:
        assert self.data_dir is not None
        dir_fd = os.open(self.data_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _compact_locked(self) -> None:
        assert self.data_dir is not None and not self.read_only
        # SQLite first: once the snapshot says seq N, records up to N must be
        # durable, because the journal entries holding them are about to go.
        self._rec.checkpoint()
        self._snapshot_bytes = self._replace(SNAPSHOT, self._write_snapshot)
        self._fsync_dir()
        # Entries up to s.seq are in the snapshot; replay skips them even if
        # the journal is never replaced. A new file rather than a truncation,
        # so that a reader sees a new journal, never a shorter one.
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self._replace(JOURNAL, lambda fh: fh.write(JOURNAL_MAGIC))
        self._fsync_dir()
        self._open_journal()

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
        """Read the chunks after the magic. Every value is checked for the shape the
        store wrote (and every blob decoded once), so that a crafted file is
        refused here rather than failing a query later."""
        size = os.fstat(fh.fileno()).st_size
        ended = False
        while True:
            head = fh.read(_HEADER.size)
            if len(head) < _HEADER.size:
                break
            length, crc = _HEADER.unpack(head)
            if length > size - fh.tell():
                raise DamagedStore("a chunk is longer than the file")
            payload = fh.read(length)
            if len(payload) != length or zlib.crc32(payload) != crc:
                raise DamagedStore("a chunk fails its checksum")
            try:
                ended = self._read_chunk(_unpack(payload))
            except DamagedStore:
                raise
            except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
                raise DamagedStore(
                    f"a chunk does not hold what the store writes ({exc!r})"
                ) from exc
            if ended:
                break
        if not ended:
            raise DamagedStore("the snapshot is incomplete")

    def _read_chunk(self, chunk: Any) -> bool:
        """Apply one snapshot chunk; True for the end marker."""
        s = self.s
        g = s.graph
        kind, items = chunk
        if kind == "meta":
            s.seq = _int(items)
        elif kind == "nodes":
            for sid, blob in items:
                g.add_node(_str(sid))
                nd: _NodeData = g._node[sid]
                nd.id = sid
                nd.blob = _bytes(blob)
                subj = nd.subject()
                self._index_keys(sid, subj.keys)
                self._index_grams(sid, subj.norm_names, ())
        elif kind == "edges":
            for rid, u, v, rtype, blob in items:
                u, v = g._node[u].id, g._node[v].id
                self._add_edge(_str(rid), u, v, _str(rtype), _bytes(blob))
                _check_relation(self.s.rel_ends[rid].relation())
        elif kind == "listings":
            for lid, blob in items:
                s.listings[_str(lid)] = _bytes(blob)
                self._index_listing(lid, _listing_from_blob(lid, blob))
        elif kind == "redirects":
            s.redirects.update((_str(a), _str(b)) for a, b in items)
        elif kind == "docs":
            for coll, doc_id, blob in items:
                if not isinstance(_unpack(_bytes(blob)), dict):
                    raise ValueError(f"document {doc_id!r} is not a mapping")
                s.docs.setdefault(_str(coll), {})[_str(doc_id)] = blob
        elif kind == "end":
            return True
        else:
            raise ValueError(f"unknown chunk {kind!r}")
        return False

    def _mutate(self, op: tuple[Any, ...]) -> None:
        with self._lock:
            self._check_open()
            if self.read_only:
                raise StoreUnavailable(
                    f"the embedded store in {self.data_dir} was opened read-only",
                    "the graph store is read-only here",
                )
            try:
                self._rec.begin()
                self._rec.pending_seq = self.s.seq + 1
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
            try:
                if self._journal is not None:
                    if self._journal_size > len(JOURNAL_MAGIC):
                        self._compact_locked()
                    if self._journal is not None:
                        self._journal.close()
                    self._journal = None
                self._rec.close()
            finally:
                self._closed = True
                # Last: another writer may start only once the files are final.
                if self._writer is not None:
                    self._writer.release()

    def generation(self) -> str:
        """Changes whenever a write commits (for a reader: once it has caught up)."""
        with self._lock:
            self._refresh()
            return f"{self._token}:{self.s.seq}"

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
            # (record id, role) pairs come back from the journal as lists
            roles = [(str(rid), str(role)) for rid, role in entry[1]]
            moved = self._apply_move(roles, entry[2], Subject(*entry[3]), entry[4])
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
            self._refresh()
            nodes = self.s.graph._node
            out: dict[str, Subject] = {}
            for i in ids:
                nd = nodes.get(i)
                if nd is not None:
                    out[i] = nd.subject()
            return out

    def resolve_ids(self, ids: Iterable[str]) -> dict[str, str]:
        with self._lock:
            self._refresh()
            out: dict[str, str] = {}
            nodes = self.s.graph._node
            for i in ids:
                target = self.s.redirects.get(i, i)
                if target in nodes:
                    out[i] = target
            return out

    def find_by_keys(self, keys: Iterable[str]) -> dict[str, list[str]]:
        with self._lock:
            self._refresh()
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
            self._refresh()
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
            self._refresh()
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
            self._refresh()
            ids: set[str] = set()
            for key in keys:
                ids.update(_post_get(index, key))
            return self._listings_sorted(ids, wanted)

    def _listings_sorted(self, ids: set[str], kinds: set[str] | None) -> list[Listing]:
        out = [_listing_from_blob(i, self.s.listings[i]) for i in sorted(ids)]
        return [x for x in out if kinds is None or x.kind in kinds]

    def get_listings(self, ids: Iterable[str]) -> dict[str, Listing]:
        with self._lock:
            self._refresh()
            out: dict[str, Listing] = {}
            for i in ids:
                blob = self.s.listings.get(i)
                if blob is not None:
                    out[i] = _listing_from_blob(i, blob)
            return out

    def get_records(self, ids: Iterable[str]) -> dict[str, SourceRecord]:
        wanted = list(ids)
        with self._lock:
            self._refresh()
            self._check_open()
            bodies = self._rec.blobs(wanted)
        return {i: _record_from_blob(i, bodies[i]) for i in wanted if i in bodies}

    def records_of(self, subject_id: str) -> list[SourceRecord]:
        with self._lock:
            self._refresh()
            self._check_open()
            rows = self._rec.of_subject(subject_id)
        return [_record_from_blob(rid, body) for rid, body in rows]

    def search(self, text: str, subject_type: str | None = None, limit: int = 50) -> list[Subject]:
        if not text or limit <= 0:
            return []
        # Every name containing the text holds its UTF-8 bytes, and so does the
        # encoded subject (MessagePack writes str as UTF-8): a cheap test
        # before decoding.
        needle = text.encode("utf-8", "surrogatepass")
        with self._lock:
            self._refresh()
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
            self._refresh()
            blobs = [(sid, nd.blob) for sid, nd in self.s.graph._node.items()]
        blobs.sort(key=lambda x: x[0])
        for sid, blob in blobs:
            t, name, names, norms, keys, status, attrs = _unpack(blob)
            if subject_type is None or t == subject_type:
                yield Subject(sid, t, name, names, norms, keys, status, attrs)

    def iter_relations(self, types: Iterable[str] | None = None) -> Iterator[Relation]:
        wanted = set(types) if types is not None else None
        with self._lock:
            self._refresh()
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
            self._refresh()
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
            self._refresh()
            bucket = self.s.docs.get(collection, {})
            return {i: _unpack(bucket[i]) for i in ids if i in bucket}

    def list_docs(self, collection: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            self._refresh()
            bucket = self.s.docs.get(collection, {})
            return {k: _unpack(bucket[k]) for k in sorted(bucket)}

    def counts(self) -> dict[str, int]:
        with self._lock:
            self._refresh()
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
        with self._lock:
            self._refresh()
            return self.s.graph

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.close()


__all__ = ["EmbeddedStore", "Mention"]
