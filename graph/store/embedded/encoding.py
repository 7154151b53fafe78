"""The embedded store's values as bytes: each encoder beside its decoder.

Why a module of its own: memory, journal, snapshot and the records database
hold the same encoded shapes — a subject, relation, listing or source
record, a document body, a length-and-CRC frame — and each must read back
exactly as it was written, whichever file it went through. Keeping every
encoder next to its decoder is what keeps them in step.

The bytes are MessagePack (``graph.codec``, shared with the XLSX reader's
pipe): data only, never code. Decoding is where untrusted bytes enter the
store, so every way it can fail becomes ``DamagedStore`` (a
``StoreUnavailable`` naming the damage), never a crash. Values come out of
the decoder untyped; the functions here hand out the model's classes or
checked primitives, so that the rest of the package works with typed objects
and opaque blobs only.

An entity is encoded without its id (the id is the key it is kept under), as
a positional array: smaller than a map, and MessagePack writes every str as
its UTF-8 bytes, so that search can test a blob for a name before decoding it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graph.codec import pack, unpack
from graph.errors import StoreUnavailable
from graph.model import Listing, Mention, Relation, SourceRecord, Subject
from graph.store.base import DocWrite


class DamagedStore(StoreUnavailable):
    """A store file holds bytes that do not decode to what the store wrote."""


def old_format(path: Path, known_old: bool) -> StoreUnavailable:
    """The refusal of a file this store does not read. Earlier formats (pickle,
    then marshal) are refused by name rather than decoded: both can be made to
    run code or crash the process."""
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


def _decode(blob: bytes) -> Any:
    try:
        return unpack(blob)
    except Exception as exc:  # every way crafted bytes can fail to decode
        raise DamagedStore(f"the embedded store holds damaged data ({exc!r})") from exc


def decode(blob: bytes) -> object:
    """A value of a shape still to be checked (``as_list``, ``as_str``…)."""
    value: object = _decode(blob)
    return value


def as_str(value: object) -> str:
    if type(value) is not str:
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value


def as_bytes(value: object) -> bytes:
    if type(value) is not bytes:
        raise TypeError(f"expected bytes, found {type(value).__name__}")
    return value


def as_int(value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, found {type(value).__name__}")
    return value


def as_list(value: object) -> list[object]:
    """A MessagePack array (tuples are written as arrays and come back as lists)."""
    if type(value) is not list:
        raise TypeError(f"expected an array, found {type(value).__name__}")
    items: list[object] = value
    return items


# -- frames: length and CRC32 before each value in the journal and the snapshot --

FRAME = struct.Struct("<QI")


def frame_header(payload: bytes) -> bytes:
    return FRAME.pack(len(payload), zlib.crc32(payload))


def unframe(data: bytes, pos: int) -> tuple[bytes, int] | None:
    """The payload of the frame at ``pos`` and where the next one starts, or None
    when the bytes there are not a whole frame with its checksum (a torn tail)."""
    if pos + FRAME.size > len(data):
        return None
    length: int
    crc: int
    length, crc = FRAME.unpack_from(data, pos)
    start = pos + FRAME.size
    end = start + length
    if end > len(data):
        return None
    payload = data[start:end]
    if zlib.crc32(payload) != crc:
        return None
    return payload, end


# -- subjects -----------------------------------------------------------------------


def subject_blob(s: Subject) -> bytes:
    return pack((s.type, s.name, s.names, s.norm_names, s.keys, s.status, s.attrs))


def subject_from_blob(sid: str, blob: bytes) -> Subject:
    t, name, names, norms, keys, status, attrs = _decode(blob)
    return Subject(sid, t, name, names, norms, keys, status, attrs)


def subject_row(s: Subject) -> tuple[object, ...]:
    """A subject in a journal entry, id included."""
    return (s.id, s.type, s.name, s.names, s.norm_names, s.keys, s.status, s.attrs)


def subject_from_row(row: object) -> Subject:
    fields: Any = as_list(row)
    return Subject(*fields)


# -- relations: the edge keeps id, type and ends; the blob holds the rest -------------


def relation_blob(rel: Relation, record_ids: list[str]) -> bytes:
    return pack((rel.valid_from, rel.valid_to, rel.props, record_ids))


def relation_from_blob(rid: str, rtype: str, source: str, target: str, blob: bytes) -> Relation:
    valid_from, valid_to, props, record_ids = _decode(blob)
    return Relation(rid, rtype, source, target, valid_from, valid_to, props, record_ids)


def relation_record_ids(blob: bytes) -> list[str]:
    ids: list[str] = _decode(blob)[3]
    return ids


def check_relation_blob(rid: str, blob: bytes) -> None:
    """Refuse a relation blob that decodes but not to what the store writes."""
    _valid_from, _valid_to, props, record_ids = _decode(blob)
    if not isinstance(props, dict) or not isinstance(record_ids, list):
        raise TypeError(f"relation {rid} is not what the store writes")


def relation_row(r: Relation) -> tuple[object, ...]:
    return (r.id, r.type, r.source, r.target, r.valid_from, r.valid_to, r.props, r.record_ids)


def relation_from_row(row: object) -> Relation:
    fields: Any = as_list(row)
    return Relation(*fields)


# -- listings -----------------------------------------------------------------------


def listing_row(x: Listing) -> tuple[object, ...]:
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


def listing_blob(x: Listing) -> bytes:
    return pack(listing_row(x)[1:])


def listing_from_blob(lid: str, blob: bytes) -> Listing:
    fields: Any = _decode(blob)
    return Listing(lid, *fields)


def listing_from_row(row: object) -> Listing:
    fields: Any = as_list(row)
    return Listing(*fields)


# -- source records (rows of the records database) --------------------------------

# A record in a batch entry: its id, its blob and the subjects it mentions
# (the records database's index), so that replay needs no decoding.
RecordRow = tuple[str, bytes, list[str]]


def record_blob(r: SourceRecord) -> bytes:
    mentions = [(m.subject_id, m.role, m.match) for m in r.mentions]
    return pack(
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


def record_from_blob(rid: str, blob: bytes) -> SourceRecord:
    feed, file, row, loaded_at, digest, values, cleaned, warnings, mentions, version = _decode(blob)
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


def record_subject_ids(blob: bytes) -> list[str]:
    """The subjects a record blob mentions, without decoding it into a record."""
    return [m[0] for m in _decode(blob)[8]]


def record_row(r: SourceRecord) -> RecordRow:
    return (r.id, record_blob(r), [m.subject_id for m in r.mentions])


def record_row_from_wire(row: object) -> RecordRow:
    rid, blob, sids = as_list(row)
    return (as_str(rid), as_bytes(blob), [as_str(s) for s in as_list(sids)])


# -- documents: bodies stay encoded in memory, journal and snapshot alike, so that an
# entry's documents apply on replay exactly as they did live -------------------------

PackedDoc = tuple[str, str, bytes | None]


def pack_docs(docs: Iterable[DocWrite]) -> list[PackedDoc]:
    return [(c, i, None if body is None else pack(body)) for c, i, body in docs]


def packed_doc_from_wire(row: object) -> PackedDoc:
    coll, doc_id, body = as_list(row)
    return (as_str(coll), as_str(doc_id), None if body is None else as_bytes(body))


def doc_from_blob(blob: bytes) -> dict[str, Any]:
    body: dict[str, Any] = _decode(blob)
    return body


def check_doc_blob(doc_id: str, blob: bytes) -> None:
    if not isinstance(_decode(blob), dict):
        raise ValueError(f"document {doc_id!r} is not a mapping")
