"""The records database: source records and the (subject, record) index, in SQLite.

Why a module of its own: source records are more than half of the store's
bytes and are read one subject at a time, so they do not live in memory:
they are rows of ``records.sqlite`` beside the journal (an in-memory SQLite
database when the store has no directory), with a ``mention`` table as the
``records_of`` index.

The journal is the commit point for records too. A write's rows go into one
SQLite transaction that commits only after the journal entry is fsynced,
together with the sequence number it reaches (``meta.seq``); each row
carries the number of the entry that last wrote it (``seq``). WAL with
``synchronous=NORMAL`` is consistent after any crash, possibly a few commits
behind, and replay re-applies those (entries after ``meta.seq``); rows
beyond the journal's last entry are dropped on open (``drop_after``), so
that the table never claims a load the graph does not have.

Only the store's lock ever touches the connection, so one connection shared
by threads is safe. A read-only store's file is opened read-only and never
written; when it does not exist yet, an empty in-memory database stands in.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from graph.model import SourceRecord
from graph.store.embedded.encoding import (
    RecordRow,
    record_blob,
    record_from_blob,
    record_subject_ids,
)
from graph.store.files import private_file

RECORDS = "records.sqlite"
# SQLite's default limit on host parameters is far above this; 500 keeps each
# statement small enough to plan quickly.
_SQL_CHUNK = 500


# A table with rowids, not WITHOUT ROWID: a record's body is about 1.2 KB, and
# a WITHOUT ROWID table (a B-tree keyed by id) keeps only about 1 KB of a row
# on its leaf page and puts the rest on an overflow page of its own, so that
# every record took a whole extra page. Measured on the 50,000-enterprise
# city's 443,000 records: 1,851 MiB and 48 s to insert, against 647 MiB and
# 12 s with rowids and an index on id; 20,000 look-ups by id 6x faster.
_RECORD_COLUMNS = "id TEXT PRIMARY KEY, body BLOB NOT NULL, seq INTEGER NOT NULL DEFAULT 0"


def _rowid_records(db: sqlite3.Connection) -> None:
    """Rewrite a ``record`` table created WITHOUT ROWID (stores written before
    this change) as a rowid table, in one transaction: all or nothing; then
    give the old table's pages back to the file system (VACUUM, itself atomic)."""
    row = db.execute("SELECT sql FROM sqlite_master WHERE name = 'record'").fetchone()
    if row is None or "WITHOUT ROWID" not in row[0].upper():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(f"CREATE TABLE record_rowid ({_RECORD_COLUMNS})")
        db.execute("INSERT INTO record_rowid (id, body, seq) SELECT id, body, seq FROM record")
        db.execute("DROP TABLE record")
        db.execute("ALTER TABLE record_rowid RENAME TO record")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    db.execute("VACUUM")


class RecordFile:
    def __init__(self, path: Path | None, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.db = self._connect()
        # The journal sequence number the rows written now will carry.
        self.pending_seq = 0
        self.in_txn = False
        # meta: the last journal entry committed here, and the number of records
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
            f"""
            CREATE TABLE IF NOT EXISTS record ({_RECORD_COLUMNS});
            CREATE TABLE IF NOT EXISTS mention (
                subject_id TEXT NOT NULL, record_id TEXT NOT NULL,
                PRIMARY KEY (subject_id, record_id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
            """
        )
        columns = {row[1] for row in db.execute("PRAGMA table_info(record)")}
        if "seq" not in columns:  # a file written before rows carried their entry
            db.execute("ALTER TABLE record ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
        _rowid_records(db)
        return db

    def read_meta(self) -> None:
        try:
            meta: dict[str, int] = dict(self.db.execute("SELECT k, v FROM meta").fetchall())
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

    # -- transactions ----------------------------------------------------------------
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
        (self.count,) = self.db.execute("SELECT count(*) FROM record").fetchone()
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

    # -- reads -----------------------------------------------------------------------
    def blobs(self, ids: list[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for i in range(0, len(ids), _SQL_CHUNK):
            part = ids[i : i + _SQL_CHUNK]
            marks = ",".join("?" * len(part))
            out.update(self.db.execute(f"SELECT id, body FROM record WHERE id IN ({marks})", part))
        return out

    def of_subject(self, sid: str) -> list[tuple[str, bytes]]:
        rows: list[tuple[str, bytes]] = self.db.execute(
            "SELECT r.id, r.body FROM mention m JOIN record r ON r.id = m.record_id "
            "WHERE m.subject_id = ? ORDER BY m.record_id",
            (sid,),
        ).fetchall()
        return rows

    def ids_of_subject(self, sid: str) -> list[str]:
        rows: list[tuple[str]] = self.db.execute(
            "SELECT record_id FROM mention WHERE subject_id = ? ORDER BY record_id", (sid,)
        ).fetchall()
        return [rid for (rid,) in rows]

    # -- writes (inside begin … commit) ------------------------------------------------
    def put(self, rows: list[RecordRow]) -> None:
        """Upsert (id, body, mentioned subject ids); the last row of an id wins."""
        final = {rid: (body, sids) for rid, body, sids in rows}
        old = self.blobs(list(final))
        stale: list[tuple[str, str]] = []
        for rid, body in old.items():
            keep = set(final[rid][1])
            stale.extend((sid, rid) for sid in record_subject_ids(body) if sid not in keep)
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

    def _update_bodies(self, rows: list[tuple[bytes, str]]) -> None:
        seq = self.pending_seq
        self.db.executemany(
            "UPDATE record SET body = ?, seq = ? WHERE id = ?", [(b, seq, i) for b, i in rows]
        )

    def _add_mentions(self, pairs: list[tuple[str, str]]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO mention (subject_id, record_id) VALUES (?, ?)", pairs
        )

    def _drop_mentions(self, pairs: list[tuple[str, str]]) -> None:
        self.db.executemany("DELETE FROM mention WHERE subject_id = ? AND record_id = ?", pairs)

    def merge_mentions(self, survivor_id: str, merged_id: str) -> None:
        """Every mention of ``merged_id`` now names ``survivor_id``."""
        ids = self.ids_of_subject(merged_id)
        bodies = self.blobs(ids)
        updates = []
        for rid in ids:
            rec = record_from_blob(rid, bodies[rid])
            for m in rec.mentions:
                if m.subject_id == merged_id:
                    m.subject_id = survivor_id
            updates.append((record_blob(rec), rid))
        self._update_bodies(updates)
        self._add_mentions([(survivor_id, rid) for rid in ids])
        self._drop_mentions([(merged_id, rid) for rid in ids])

    def move_mentions(
        self, record_roles: list[tuple[str, str]], from_id: str, to_id: str
    ) -> set[str]:
        """Re-point the (record id, role) mentions of ``from_id`` to ``to_id``;
        returns the ids of the records of which a mention moved."""
        wanted = set(record_roles)
        bodies = self.blobs(sorted({rid for rid, _role in record_roles}))
        work: dict[str, SourceRecord] = {}
        moved: set[str] = set()
        for rec_id, role in record_roles:
            if rec_id not in bodies:
                continue
            rec = work.get(rec_id) or work.setdefault(
                rec_id, record_from_blob(rec_id, bodies[rec_id])
            )
            for m in rec.mentions:
                if m.subject_id == from_id and (rec_id, m.role) in wanted and m.role == role:
                    m.subject_id = to_id
                    moved.add(rec_id)
        # Nothing of a record moved: records_of(to) must not list it.
        changed = [work[rid] for rid in sorted(moved)]
        self._update_bodies([(record_blob(rec), rec.id) for rec in changed])
        self._drop_mentions(
            [
                (from_id, rec.id)
                for rec in changed
                if not any(m.subject_id == from_id for m in rec.mentions)
            ]
        )
        self._add_mentions([(to_id, rec.id) for rec in changed])
        return moved

    def clear(self) -> None:
        self.db.execute("DELETE FROM record")
        self.db.execute("DELETE FROM mention")
        self.count = 0
