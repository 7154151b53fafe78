"""The snapshot: the whole state in one file, written anew and renamed over the old.

Why a module of its own: the snapshot is the other half of what the store
reads on open (the journal holds what came after it), with its own format
and its own checks:

- ``SNAPSHOT_MAGIC`` (format 3, MessagePack), then a sequence of frames
  (length, CRC32, payload), each a bounded chunk ``(kind, items)``: ``meta``
  (the sequence number of the last entry folded in), ``nodes``, ``edges``,
  ``listings``, ``redirects``, ``docs``, and ``end``. Bounded chunks mean that
  neither writing nor reading ever holds a second copy of the whole state.
- Only the entities are written; the indexes are rebuilt while reading.
- Reading checks every value for the shape the store wrote and decodes every
  blob once, so that a crafted file is refused here (``DamagedStore`` naming
  the file) rather than failing a query later. A file that starts like an
  earlier format (pickle, or marshal chunks) is refused by name.
- Writing goes to a new file, fsynced and renamed over the old one
  (``graph.store.files.replace_file``), so a crash leaves one whole snapshot.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from graph.codec import pack
from graph.store.embedded.encoding import (
    FRAME,
    DamagedStore,
    as_bytes,
    as_int,
    as_list,
    as_str,
    check_doc_blob,
    check_relation_blob,
    decode,
    frame_header,
    old_format,
)
from graph.store.embedded.state import GraphState
from graph.store.files import fsync_dir, replace_file

SNAPSHOT = "graph.snapshot"
SNAPSHOT_MAGIC = b"CLSNAP3\n"
# The marshal format's magic; pickle starts with its protocol byte, 0x80.
_OLD_MAGICS = (b"CLSNAP2\n",)
_CHUNK_ITEMS = 50_000

# (device, inode, size, mtime): a reader reloads when it changes (the writer compacted)
SnapshotId = tuple[int, int, int, int]


def _identity(st: os.stat_result) -> SnapshotId:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def stat_identity(path: Path) -> SnapshotId | None:
    try:
        return _identity(os.stat(path))
    except FileNotFoundError:
        return None


def write_snapshot(directory: Path, state: GraphState) -> int:
    """Replace the directory's snapshot by ``state``; returns its size in bytes."""
    size = replace_file(directory / SNAPSHOT, lambda fh: _write(fh, state))
    fsync_dir(directory)
    return size


def _write(fh: BinaryIO, state: GraphState) -> None:
    def chunk(obj: object) -> None:
        payload = pack(obj)
        fh.write(frame_header(payload))
        fh.write(payload)

    def chunks(kind: str, items: Iterable[object]) -> None:
        part: list[object] = []
        for item in items:
            part.append(item)
            if len(part) >= _CHUNK_ITEMS:
                chunk((kind, part))
                part = []
        if part:
            chunk((kind, part))

    fh.write(SNAPSHOT_MAGIC)
    chunk(("meta", state.seq))
    chunks("nodes", ((sid, nd.blob) for sid, nd in state.graph.node_data.items()))
    chunks("edges", ((e.id, e.source, e.target, e.type, e.blob) for e in state.rel_ends.values()))
    chunks("listings", state.listings.items())
    chunks("redirects", state.redirects.items())
    chunks("docs", ((c, i, b) for c, bucket in state.docs.items() for i, b in bucket.items()))
    chunk(("end", state.seq))


def read_snapshot(path: Path, state: GraphState) -> SnapshotId | None:
    """Read the snapshot at ``path`` into an empty ``state``; returns the file's
    identity, or None when there is no snapshot."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return None
    with fh:
        ident = _identity(os.fstat(fh.fileno()))
        magic = fh.read(len(SNAPSHOT_MAGIC))
        if magic != SNAPSHOT_MAGIC:
            raise old_format(path, magic in _OLD_MAGICS or magic[:1] == b"\x80")
        try:
            _read_chunks(fh, ident[2], state)
        except DamagedStore as exc:
            raise DamagedStore(f"{path} is damaged: {exc.message}") from exc
    return ident


def _read_chunks(fh: BinaryIO, size: int, state: GraphState) -> None:
    ended = False
    while True:
        head = fh.read(FRAME.size)
        if len(head) < FRAME.size:
            break
        length: int
        crc: int
        length, crc = FRAME.unpack(head)
        if length > size - fh.tell():
            raise DamagedStore("a chunk is longer than the file")
        payload = fh.read(length)
        if len(payload) != length or zlib.crc32(payload) != crc:
            raise DamagedStore("a chunk fails its checksum")
        try:
            ended = _read_chunk(decode(payload), state)
        except DamagedStore:
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            raise DamagedStore(f"a chunk does not hold what the store writes ({exc!r})") from exc
        if ended:
            break
    if not ended:
        raise DamagedStore("the snapshot is incomplete")


def _read_chunk(chunk: object, state: GraphState) -> bool:
    """Apply one chunk; True for the end marker."""
    kind, items = as_list(chunk)
    if kind == "meta":
        state.seq = as_int(items)
    elif kind == "nodes":
        for item in as_list(items):
            sid, blob = as_list(item)
            state.restore_subject(as_str(sid), as_bytes(blob))
    elif kind == "edges":
        for item in as_list(items):
            rid, u, v, rtype, blob = as_list(item)
            rid, blob = as_str(rid), as_bytes(blob)
            state.restore_relation(rid, as_str(u), as_str(v), as_str(rtype), blob)
            check_relation_blob(rid, blob)
    elif kind == "listings":
        for item in as_list(items):
            lid, blob = as_list(item)
            state.restore_listing(as_str(lid), as_bytes(blob))
    elif kind == "redirects":
        for item in as_list(items):
            a, b = as_list(item)
            state.redirects[as_str(a)] = as_str(b)
    elif kind == "docs":
        for item in as_list(items):
            coll, doc_id, blob = as_list(item)
            doc_id, blob = as_str(doc_id), as_bytes(blob)
            check_doc_blob(doc_id, blob)
            state.docs.setdefault(as_str(coll), {})[doc_id] = blob
    elif kind == "end":
        return True
    else:
        raise ValueError(f"unknown chunk {kind!r}")
    return False
