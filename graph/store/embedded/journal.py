"""The journal: every commit, appended and fsynced before it is acknowledged.

Why a module of its own: the journal is the store's commit point (records
included), and its rules are few but exact:

- The file starts with ``JOURNAL_MAGIC`` (format 3, MessagePack). A file
  without it is an earlier format (pickle or marshal) and is refused by name.
- Each entry is a frame (length, CRC32, payload) whose payload is
  ``(sequence number, entry)``. Numbers come from one counter, the writer's:
  one writer at a time (``graph.store.files.WriterLock``).
- A torn tail (a crash mid-write) fails its length or CRC check. It was never
  acknowledged, so the writer cuts it off on open; a reader stops before it.
- Entries at or below the snapshot's number are already in it and skipped; an
  entry that skips a number means the journal was changed outside creditlink
  (for the writer) or that the writer compacted under a reader, which then
  reloads.
- Compaction replaces the journal by a new, empty file (by rename, never a
  truncation), so that a reader sees a new file, never a shorter one.

What an entry means is ``graph.store.embedded.entries``; applying it is the
caller's (``replay`` hands it over).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from graph.codec import pack
from graph.errors import StoreUnavailable
from graph.store.embedded.encoding import (
    FRAME,
    DamagedStore,
    as_int,
    as_list,
    decode,
    frame_header,
    old_format,
    unframe,
)
from graph.store.files import open_private, replace_file

JOURNAL = "graph.journal"
JOURNAL_MAGIC = b"CLJRNL3\n"


class JournalWriter:
    """The writer's handle on the journal; a missing or empty journal gets its header."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        self._fh = os.fdopen(fd, "ab")
        if os.fstat(fd).st_size == 0:
            self._fh.write(JOURNAL_MAGIC)
            self._fh.flush()
            os.fsync(fd)
        # Bytes of the journal, header included, as this process wrote them.
        self.size = os.fstat(fd).st_size

    @property
    def has_entries(self) -> bool:
        return self.size > len(JOURNAL_MAGIC)

    def append(self, seq: int, wire: object) -> None:
        """Append entry ``seq`` and fsync: once this returns, the entry is committed."""
        fd = self._fh.fileno()
        if os.fstat(fd).st_size != self.size:
            # Someone else wrote to the journal (a process that ignored the
            # writer lock): appending now would interleave two histories.
            raise StoreUnavailable(f"{self.path} was changed by another process; reopen the store")
        payload = pack((seq, wire))
        self._fh.write(frame_header(payload))
        self._fh.write(payload)
        self._fh.flush()
        os.fsync(fd)
        self.size += FRAME.size + len(payload)

    def close(self) -> None:
        self._fh.close()


def start_new(path: Path) -> None:
    """Replace the journal by one holding its header only (compaction)."""
    replace_file(path, lambda fh: fh.write(JOURNAL_MAGIC))


class JournalReader:
    """Where this process is in a journal file: which file (device, inode) and how
    many of its bytes were consumed, header included (0: none yet)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ident: tuple[int, int] | None = None
        self.offset = 0

    def unread(self) -> bytes | None:
        """The bytes after ``offset``; None when there is no journal, or no whole
        header yet. From offset 0 the header is checked and the file noted."""
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return None
        with fh:
            if self.offset == 0:
                st = os.fstat(fh.fileno())
                self.ident = (st.st_dev, st.st_ino)
                head = fh.read(len(JOURNAL_MAGIC))
                if head != JOURNAL_MAGIC:
                    if JOURNAL_MAGIC.startswith(head):
                        return None  # empty, or a header being written
                    raise old_format(self.path, True)
                self.offset = len(JOURNAL_MAGIC)
            fh.seek(self.offset)
            return fh.read()

    def cut_torn_tail(self) -> None:
        """The writer drops the bytes after ``offset``: a torn entry, never acknowledged."""
        with self.path.open("r+b") as out:
            out.truncate(self.offset)


def stat_identity(path: Path) -> tuple[tuple[int, int] | None, int]:
    """(device, inode) and size of the journal file, (None, 0) when there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None, 0
    return (st.st_dev, st.st_ino), st.st_size


def replay(
    data: bytes, last_seq: int, apply: Callable[[int, object], None], path: Path
) -> tuple[int, int | None]:
    """Hand each complete entry numbered after ``last_seq`` to ``apply``, in order.

    Returns the bytes of complete entries read (applied or skipped) and, when
    an entry skipped a number, that number (None otherwise)."""
    used = 0
    while (frame := unframe(data, used)) is not None:
        payload, end = frame
        try:
            seq_raw, raw = as_list(decode(payload))
            seq = as_int(seq_raw)
        except (DamagedStore, TypeError, ValueError) as exc:
            raise DamagedStore(f"{path} holds a damaged entry at byte {used}") from exc
        if seq > last_seq + 1:
            return used, seq
        if seq == last_seq + 1:
            apply(seq, raw)
            last_seq = seq
        used = end
    return used, None
