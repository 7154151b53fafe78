"""The state in memory kept equal to the files on disk: open, commit, follow, compact.

Why a module of its own: the store's durability is an order of steps over
four parts (state, journal, snapshot, records database), and that order is
what makes it safe; it is written once, here, away from the protocol's reads.

- Open: read the snapshot (graph, listings, docs up to its sequence number),
  then replay the journal — graph changes after the snapshot's number, record
  changes after the records database's (``meta.seq``) — so each is applied
  exactly once. The writer also repairs what a crash left: it cuts off a torn
  journal tail, and drops record rows of entries the journal does not have
  (lost or replaced behind the store's back), so that re-loading their file
  repairs the store instead of reporting it unchanged. A records database
  older than the snapshot means records were lost: refused.
- Commit: apply the entry to memory and the records transaction, append it
  to the journal and fsync, and only then commit the records (SQLite must
  never hold what the journal may lose). Any failure puts memory back to
  what disk acknowledged (a reload).
- Compact: checkpoint SQLite (so it is never behind the snapshot), write the
  snapshot, then start a new empty journal — both by rename. Compaction
  costs in proportion to the state, so the journal may first grow to the
  snapshot's size: writes stay within twice their own bytes. Closing compacts
  only a journal of more than a quarter of the snapshot's bytes: a small
  load then costs the next open a short replay, instead of costing its own
  close the whole snapshot (seconds at 50,000 enterprises, minutes at a
  million).
- Follow (read-only): before each read, check the snapshot's and journal's
  identity and size; apply the entries the writer appended since, or read
  everything again when it compacted. A reader takes no lock and writes no
  file, with one exception: the records of a writer killed between its
  journal fsync and its SQLite commit, which a dead writer never commits, are
  repaired by a reader (``_repair_for_reader``) when no writer is alive.

One writer per directory (``graph.store.files.WriterLock``), held from open
to close. With no directory everything stays in memory (notebooks, tests):
there is no journal, and records live in an in-memory SQLite database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from graph.errors import StoreBusy, StoreUnavailable
from graph.store.embedded import journal, snapshot
from graph.store.embedded.encoding import DamagedStore
from graph.store.embedded.entries import Entry, from_wire, to_wire
from graph.store.embedded.journal import JOURNAL, JournalReader, JournalWriter
from graph.store.embedded.records import RECORDS, RecordFile
from graph.store.embedded.snapshot import SNAPSHOT, SnapshotId
from graph.store.embedded.state import GraphState
from graph.store.files import WriterLock, fsync_dir, private_dir

log = logging.getLogger("creditlink.store")


class DurableState:
    def __init__(self, directory: Path | None, compact_bytes: int, read_only: bool) -> None:
        self.directory = directory
        self.compact_bytes = compact_bytes
        self.read_only = read_only and directory is not None
        self.state = GraphState()
        self.closed = False
        self.journal: JournalWriter | None = None
        self._reader: JournalReader | None = None
        self._snapshot_id: SnapshotId | None = None
        self._snapshot_bytes = 0
        self._repairing = False
        self.writer: WriterLock | None = None
        if directory is not None and not self.read_only:
            private_dir(directory)
            self.writer = WriterLock(directory)
            self.writer.acquire()
        try:
            self.records = RecordFile(
                None if directory is None else directory / RECORDS, self.read_only
            )
            if directory is not None:
                self.load()
                if not self.read_only:
                    self.journal = JournalWriter(directory / JOURNAL)
        except BaseException:
            if self.writer is not None:
                self.writer.release()
            raise

    def _path(self, name: str) -> Path:
        assert self.directory is not None
        return self.directory / name

    # -- open ------------------------------------------------------------------------
    def load(self) -> None:
        """Read the snapshot and replay the journal into a new state."""
        if self.read_only:
            self.records.reopen()
        else:
            self.records.rollback()
        self.state = GraphState()
        self._reader = JournalReader(self._path(JOURNAL))
        self._snapshot_id = snapshot.read_snapshot(self._path(SNAPSHOT), self.state)
        if self._snapshot_id is not None:
            self._snapshot_bytes = self._snapshot_id[2]
        if self.records.seq < self.state.seq and not self.read_only:
            raise StoreUnavailable(
                f"{self._path(RECORDS)} is older than the snapshot "
                f"(sequence {self.records.seq} < {self.state.seq}): records were lost"
            )
        self._read_journal()
        self._repair_for_reader()
        if self.journal is not None:
            # A reload after a failed commit: the journal is what was just read
            # (a torn tail cut off), whatever the failed append left.
            self.journal.size = self._reader.offset
        if not self.read_only and self.records.seq > self.state.seq:
            dropped = self.records.drop_after(self.state.seq)
            log.warning(
                "%s: dropped %d record rows written after journal entry %d, which the "
                "journal does not have; load their files again",
                self._path(RECORDS),
                dropped,
                self.state.seq,
            )

    def _read_journal(self) -> None:
        """Apply the journal's complete entries after the ones already read."""
        reader = self._reader
        assert reader is not None
        data = reader.unread()
        if data is None:
            return
        if not self.read_only:
            self.records.begin()
        try:
            used, gap = journal.replay(data, self.state.seq, self._replay_one, reader.path)
            if not self.read_only:
                self.records.commit(max(self.state.seq, self.records.seq))
        except BaseException:
            if not self.read_only:
                self.records.rollback()
            raise
        reader.offset += used
        if not self.read_only and used < len(data):
            if gap is not None:
                raise StoreUnavailable(
                    f"{reader.path}: entry {gap} follows entry {self.state.seq}; entries are "
                    "missing (the journal was changed outside creditlink)"
                )
            reader.cut_torn_tail()

    def _replay_one(self, seq: int, raw: object) -> None:
        live = not self.read_only and seq > self.records.seq
        self.records.pending_seq = seq
        try:
            self.state.apply(from_wire(raw), self.records, live)
        except (DamagedStore, TypeError, ValueError, IndexError, KeyError) as exc:
            path = self._path(JOURNAL)
            raise DamagedStore(f"{path}: entry {seq} does not apply ({exc!r})") from exc
        self.state.seq = seq

    # -- follow (read-only) ------------------------------------------------------------
    def refresh(self) -> None:
        """A reader catches up with the writer: new journal entries, or everything
        again when the writer compacted (new snapshot and journal files)."""
        if not self.read_only or self.closed:
            return
        reader = self._reader
        assert reader is not None
        journal_id, journal_size = journal.stat_identity(reader.path)
        if (
            snapshot.stat_identity(self._path(SNAPSHOT)) != self._snapshot_id
            or journal_id != reader.ident
        ):
            self.load()
        elif journal_size > reader.offset:
            self._read_journal()
            self.records.read_meta()
            self._repair_for_reader()

    def _repair_for_reader(self) -> None:
        """A reader that finds journal entries SQLite lacks (a writer killed
        between its journal fsync and its SQLite commit) has the graph of those
        entries but not their records. A live writer commits them a moment
        later; a dead one never will, so when nobody holds the writer lock the
        reader opens the store as writer once, which replays them into SQLite
        (the repair every writer makes on open), and reads again."""
        if not self.read_only or self.directory is None or self.state.seq <= self.records.seq:
            return
        if self._repairing:
            return
        try:
            DurableState(self.directory, self.compact_bytes, read_only=False).close()
        except (StoreBusy, OSError):
            return  # a live writer (or no right to write): its own commit follows
        self._repairing = True
        try:
            self.load()
        finally:
            self._repairing = False

    # -- commit ----------------------------------------------------------------------
    def commit(self, build: Callable[[], Entry]) -> None:
        """Apply the entry ``build`` makes and make it durable, or change nothing
        and raise. Built here, inside the transaction, so that a call whose values
        cannot be encoded fails as any other write does."""
        records = self.records
        try:
            records.begin()
            records.pending_seq = self.state.seq + 1
            journalled = self.state.apply(build(), records, live=True)
            seq = self.state.seq + 1
            if self.journal is not None:
                self.journal.append(seq, to_wire(journalled))
            # After the fsync: SQLite must never hold what the journal may lose.
            self.state.seq = seq
            records.commit(seq)
            if self.journal is not None and self.journal.size > max(
                self.compact_bytes, self._snapshot_bytes
            ):
                self.compact()
        except BaseException:
            # Memory may hold half a batch: go back to what disk acknowledged.
            records.rollback()
            if self.directory is not None:
                self.load()
            raise

    # -- compact and close -------------------------------------------------------------
    def compact(self) -> None:
        """Fold the journal into a new snapshot (write, fsync, rename; then a new,
        empty journal by rename)."""
        if self.directory is None or self.read_only:
            return
        # SQLite first: once the snapshot says seq N, records up to N must be
        # durable, because the journal entries holding them are about to go.
        self.records.checkpoint()
        self._snapshot_bytes = snapshot.write_snapshot(self.directory, self.state)
        # Entries up to seq are in the snapshot; replay skips them even if the
        # journal is never replaced.
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        journal.start_new(self._path(JOURNAL))
        fsync_dir(self.directory)
        self.journal = JournalWriter(self._path(JOURNAL))

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self.journal is not None:
                if self.journal.has_entries and self.journal.size * 4 > self._snapshot_bytes:
                    self.compact()
                if self.journal is not None:
                    self.journal.close()
                self.journal = None
            self.records.close()
        finally:
            self.closed = True
            # Last: another writer may start only once the files are final.
            if self.writer is not None:
                self.writer.release()
