"""The embedded store: a networkx MultiDiGraph in memory, persisted on local disk.

Durability without a database: every write is appended to a journal (length,
CRC32, pickle) and fsynced before it is acknowledged; the journal is folded
into a snapshot (written to a new file, fsynced, then renamed over the old
one) when it grows. On open, the snapshot is read and the journal replayed; a
torn entry at the end of the journal (a crash mid-write) fails its length or
CRC check and is cut off, so the state is the last acknowledged one.

Readers and writers share one lock: a read sees the state before or after a
write, never a half-applied batch.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from graph.errors import StoreUnavailable
from graph.model import Listing, Mention, Relation, SourceRecord, Subject
from graph.store.base import Batch

_HEADER = struct.Struct("<QI")
SNAPSHOT = "graph.snapshot"
JOURNAL = "graph.journal"


def _union(into: list[str], more: Iterable[str]) -> None:
    seen = set(into)
    for item in more:
        if item not in seen:
            into.append(item)
            seen.add(item)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


@dataclass
class _State:
    graph: nx.MultiDiGraph = field(default_factory=nx.MultiDiGraph)
    rel_ends: dict[str, tuple[str, str]] = field(default_factory=dict)
    key_index: dict[str, set[str]] = field(default_factory=dict)
    listings: dict[str, Listing] = field(default_factory=dict)
    listings_by_subject: dict[str, set[str]] = field(default_factory=dict)
    listings_by_number: dict[str, set[str]] = field(default_factory=dict)
    records: dict[str, SourceRecord] = field(default_factory=dict)
    records_by_subject: dict[str, set[str]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    docs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    name_index: dict[str, set[str]] = field(default_factory=dict)
    seq: int = 0


class EmbeddedStore:
    """networkx-backed GraphStore, persisted under ``data_dir``."""

    name = "embedded"

    def __init__(self, data_dir: Path | None, compact_bytes: int = 256 * 1024 * 1024) -> None:
        # data_dir None keeps everything in memory (notebooks, throwaway tests).
        self.data_dir = data_dir
        self.compact_bytes = compact_bytes
        self._lock = threading.RLock()
        self._journal: Any = None
        self._closed = False
        self.s = _State()
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            self._load()
            self._journal = open(data_dir / JOURNAL, "ab")  # noqa: SIM115

    # -- persistence -------------------------------------------------------
    def _load(self) -> None:
        assert self.data_dir is not None
        snap = self.data_dir / SNAPSHOT
        self.s = _State()
        if snap.exists():
            with snap.open("rb") as fh:
                self.s = pickle.load(fh)
        journal = self.data_dir / JOURNAL
        if not journal.exists():
            return
        good = 0
        with journal.open("rb") as fh:
            data = fh.read()
        pos = 0
        while pos + _HEADER.size <= len(data):
            length, crc = _HEADER.unpack_from(data, pos)
            start, end = pos + _HEADER.size, pos + _HEADER.size + length
            if end > len(data) or zlib.crc32(data[start:end]) != crc:
                break
            seq, op = pickle.loads(data[start:end])
            if seq > self.s.seq:
                self._apply(op)
                self.s.seq = seq
            pos = good = end
        if good < len(data):
            # A torn tail from a crash: it was never acknowledged, so drop it.
            with journal.open("r+b") as fh:
                fh.truncate(good)

    def _persist(self, op: tuple[Any, ...]) -> None:
        if self._journal is None:
            self.s.seq += 1
            return
        seq = self.s.seq + 1
        payload = pickle.dumps((seq, op), protocol=pickle.HIGHEST_PROTOCOL)
        self._journal.write(_HEADER.pack(len(payload), zlib.crc32(payload)) + payload)
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self.s.seq = seq
        if self._journal.tell() > self.compact_bytes:
            self.compact()

    def compact(self) -> None:
        """Fold the journal into a new snapshot (write, fsync, rename, then truncate)."""
        if self.data_dir is None:
            return
        with self._lock:
            tmp = self.data_dir / (SNAPSHOT + ".tmp")
            with tmp.open("wb") as fh:
                pickle.dump(self.s, fh, protocol=pickle.HIGHEST_PROTOCOL)
                fh.flush()
                os.fsync(fh.fileno())
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

    def _mutate(self, op: tuple[Any, ...]) -> None:
        with self._lock:
            self._check_open()
            try:
                self._apply(op)
                self._persist(op)
            except BaseException:
                # Memory may hold half a batch: go back to what disk acknowledged.
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
                    self.compact()
                self._journal.close()
                self._journal = None
            self._closed = True

    def clear(self) -> None:
        self._mutate(("clear",))

    def ping(self) -> None:
        self._check_open()

    # -- writer ------------------------------------------------------------
    def write(self, batch: Batch) -> None:
        if not batch.is_empty():
            self._mutate(("batch", batch))

    def merge_subjects(self, survivor_id: str, merged_id: str) -> None:
        self._mutate(("merge", survivor_id, merged_id))

    def move_mentions(
        self, record_roles: list[tuple[str, str]], from_id: str, to_subject: Subject
    ) -> None:
        self._mutate(("move", record_roles, from_id, to_subject))

    def _apply(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "clear":
            seq = self.s.seq
            self.s = _State()
            self.s.seq = seq
        elif kind == "batch":
            self._apply_batch(op[1])
        elif kind == "merge":
            self._apply_merge(op[1], op[2])
        elif kind == "move":
            self._apply_move(op[1], op[2], op[3])
        else:  # pragma: no cover - journal written by this class only
            raise ValueError(f"unknown journal op {kind}")

    def _check_batch(self, b: Batch) -> None:
        # Checked before anything is applied: an in-memory store (data_dir
        # None) has no journal to reload, so a batch that fails half-way
        # would otherwise stay half-applied.
        known = {s.id for s in b.subjects}

        def check(sid: str, what: str) -> None:
            if sid not in known and sid not in self.s.graph:
                raise ValueError(f"{what} names unknown subject {sid}")

        for rel in b.relations:
            check(rel.source, f"relation {rel.id}")
            check(rel.target, f"relation {rel.id}")
        for lst in b.listings:
            check(lst.subject_id, f"listing {lst.id}")
        for rec in b.records:
            for m in rec.mentions:
                check(m.subject_id, f"record {rec.id} mention")

    def _apply_batch(self, b: Batch) -> None:
        self._check_batch(b)
        for subj in b.subjects:
            self._upsert_subject(subj)
        for rid in b.delete_relations:
            self._delete_relation(rid)
        for rel in b.relations:
            self._upsert_relation(rel)
        for lid in b.delete_listings:
            self._delete_listing(lid)
        for lst in b.listings:
            self._upsert_listing(lst)
        for rec in b.records:
            self._upsert_record(rec)
        for coll, doc_id, body in b.docs:
            bucket = self.s.docs.setdefault(coll, {})
            if body is None:
                bucket.pop(doc_id, None)
            else:
                bucket[doc_id] = body

    def _index_subject(self, subj: Subject) -> None:
        for key in subj.keys:
            self.s.key_index.setdefault(key, set()).add(subj.id)
        for norm in subj.norm_names:
            for gram in _bigrams(norm):
                self.s.name_index.setdefault(gram, set()).add(subj.id)

    def _unindex_subject(self, subj: Subject) -> None:
        for key in subj.keys:
            ids = self.s.key_index.get(key)
            if ids is not None:
                ids.discard(subj.id)
                if not ids:
                    del self.s.key_index[key]
        for norm in subj.norm_names:
            for gram in _bigrams(norm):
                ids = self.s.name_index.get(gram)
                if ids is not None:
                    ids.discard(subj.id)
                    if not ids:
                        del self.s.name_index[gram]

    def _upsert_subject(self, new: Subject) -> None:
        g = self.s.graph
        if new.id in g:
            cur: Subject = g.nodes[new.id]["s"]
            _union(cur.keys, new.keys)
            _union(cur.names, new.names)
            _union(cur.norm_names, new.norm_names)
            cur.attrs.update(new.attrs)
            if new.name:
                cur.name = new.name
            if new.status:
                cur.status = new.status
            if new.type:
                cur.type = new.type
        else:
            cur = Subject(
                id=new.id,
                type=new.type,
                name=new.name,
                names=list(dict.fromkeys(new.names)),
                norm_names=list(dict.fromkeys(new.norm_names)),
                keys=list(dict.fromkeys(new.keys)),
                status=new.status,
                attrs=dict(new.attrs),
            )
            g.add_node(new.id, s=cur)
            self.s.redirects.pop(new.id, None)
        self._index_subject(cur)

    def _upsert_relation(self, rel: Relation) -> None:
        g = self.s.graph
        for end in (rel.source, rel.target):
            if end not in g:
                raise ValueError(f"relation {rel.id} names unknown subject {end}")
        old_ids: list[str] = []
        if rel.id in self.s.rel_ends:
            u, v = self.s.rel_ends[rel.id]
            old_ids = g.edges[u, v, rel.id]["r"].record_ids
            g.remove_edge(u, v, key=rel.id)
        stored = Relation(
            id=rel.id,
            type=rel.type,
            source=rel.source,
            target=rel.target,
            valid_from=rel.valid_from,
            valid_to=rel.valid_to,
            props=dict(rel.props),
            record_ids=list(old_ids),
        )
        _union(stored.record_ids, rel.record_ids)
        g.add_edge(rel.source, rel.target, key=rel.id, r=stored)
        self.s.rel_ends[rel.id] = (rel.source, rel.target)

    def _delete_relation(self, rid: str) -> None:
        ends = self.s.rel_ends.pop(rid, None)
        if ends is not None:
            self.s.graph.remove_edge(ends[0], ends[1], key=rid)

    def _upsert_listing(self, lst: Listing) -> None:
        if lst.subject_id not in self.s.graph:
            raise ValueError(f"listing {lst.id} names unknown subject {lst.subject_id}")
        old = self.s.listings.get(lst.id)
        record_ids = list(old.record_ids) if old else []
        if old is not None:
            self._unindex_listing(old)
        _union(record_ids, lst.record_ids)
        stored = Listing(
            id=lst.id,
            kind=lst.kind,
            subject_id=lst.subject_id,
            number=lst.number,
            department=lst.department,
            start=lst.start,
            end=lst.end,
            props=dict(lst.props),
            record_ids=record_ids,
        )
        self.s.listings[lst.id] = stored
        self._index_listing(stored)

    def _index_listing(self, lst: Listing) -> None:
        self.s.listings_by_subject.setdefault(lst.subject_id, set()).add(lst.id)
        if lst.number:
            self.s.listings_by_number.setdefault(lst.number, set()).add(lst.id)

    def _unindex_listing(self, lst: Listing) -> None:
        self.s.listings_by_subject.get(lst.subject_id, set()).discard(lst.id)
        if lst.number:
            self.s.listings_by_number.get(lst.number, set()).discard(lst.id)

    def _delete_listing(self, lid: str) -> None:
        old = self.s.listings.pop(lid, None)
        if old is not None:
            self._unindex_listing(old)

    def _upsert_record(self, rec: SourceRecord) -> None:
        old = self.s.records.get(rec.id)
        if old is not None:
            for m in old.mentions:
                self.s.records_by_subject.get(m.subject_id, set()).discard(rec.id)
        for m in rec.mentions:
            if m.subject_id not in self.s.graph:
                raise ValueError(f"record {rec.id} mentions unknown subject {m.subject_id}")
            self.s.records_by_subject.setdefault(m.subject_id, set()).add(rec.id)
        # A copy: merges and splits re-point stored mentions in place, and that
        # must not reach into the caller's batch (or the other way round).
        self.s.records[rec.id] = SourceRecord(
            id=rec.id,
            feed=rec.feed,
            file=rec.file,
            row=rec.row,
            loaded_at=rec.loaded_at,
            digest=rec.digest,
            values=dict(rec.values),
            cleaned=dict(rec.cleaned),
            warnings=list(rec.warnings),
            mentions=[Mention(m.subject_id, m.role, dict(m.match)) for m in rec.mentions],
            version=rec.version,
        )

    def _apply_merge(self, survivor_id: str, merged_id: str) -> None:
        g = self.s.graph
        if survivor_id == merged_id or merged_id not in g:
            return
        if survivor_id not in g:
            raise ValueError(f"unknown subject {survivor_id}")
        merged: Subject = g.nodes[merged_id]["s"]
        survivor: Subject = g.nodes[survivor_id]["s"]
        self._unindex_subject(merged)
        _union(survivor.keys, merged.keys)
        _union(survivor.names, merged.names)
        _union(survivor.norm_names, merged.norm_names)
        for k, v in merged.attrs.items():
            survivor.attrs.setdefault(k, v)
        self._index_subject(survivor)
        for u, v, rid, data in list(g.in_edges(merged_id, keys=True, data=True)) + list(
            g.out_edges(merged_id, keys=True, data=True)
        ):
            if not g.has_edge(u, v, key=rid):
                continue  # a self-loop seen from both sides
            rel: Relation = data["r"]
            g.remove_edge(u, v, key=rid)
            rel.source = survivor_id if rel.source == merged_id else rel.source
            rel.target = survivor_id if rel.target == merged_id else rel.target
            g.add_edge(rel.source, rel.target, key=rid, r=rel)
            self.s.rel_ends[rid] = (rel.source, rel.target)
        for lid in sorted(self.s.listings_by_subject.pop(merged_id, set())):
            lst = self.s.listings[lid]
            lst.subject_id = survivor_id
            self.s.listings_by_subject.setdefault(survivor_id, set()).add(lid)
        for rec_id in sorted(self.s.records_by_subject.pop(merged_id, set())):
            rec = self.s.records[rec_id]
            for m in rec.mentions:
                if m.subject_id == merged_id:
                    m.subject_id = survivor_id
            self.s.records_by_subject.setdefault(survivor_id, set()).add(rec_id)
        g.remove_node(merged_id)
        for old, new in list(self.s.redirects.items()):
            if new == merged_id:
                self.s.redirects[old] = survivor_id
        self.s.redirects[merged_id] = survivor_id

    def _apply_move(
        self, record_roles: list[tuple[str, str]], from_id: str, to_subject: Subject
    ) -> None:
        g = self.s.graph
        if from_id not in g:
            raise ValueError(f"unknown subject {from_id}")
        self._upsert_subject(to_subject)
        moved: set[str] = set()
        wanted = set(record_roles)
        for rec_id, role in record_roles:
            rec = self.s.records.get(rec_id)
            if rec is None:
                continue
            for m in rec.mentions:
                if m.subject_id == from_id and (rec_id, m.role) in wanted and m.role == role:
                    m.subject_id = to_subject.id
                    moved.add(rec_id)
            if rec_id not in moved:
                # Nothing of this record moved: records_of(to) must not list it.
                continue
            still = any(m.subject_id == from_id for m in rec.mentions)
            if not still:
                self.s.records_by_subject.get(from_id, set()).discard(rec_id)
            self.s.records_by_subject.setdefault(to_subject.id, set()).add(rec_id)
        # Relations and listings asserted only by moved records follow them.
        for u, v, rid, data in list(g.in_edges(from_id, keys=True, data=True)) + list(
            g.out_edges(from_id, keys=True, data=True)
        ):
            rel: Relation = data["r"]
            if rel.record_ids and set(rel.record_ids) <= moved and g.has_edge(u, v, key=rid):
                g.remove_edge(u, v, key=rid)
                rel.source = to_subject.id if rel.source == from_id else rel.source
                rel.target = to_subject.id if rel.target == from_id else rel.target
                g.add_edge(rel.source, rel.target, key=rid, r=rel)
                self.s.rel_ends[rid] = (rel.source, rel.target)
        for lid in sorted(self.s.listings_by_subject.get(from_id, set())):
            lst = self.s.listings[lid]
            if lst.record_ids and set(lst.record_ids) <= moved:
                self._unindex_listing(lst)
                lst.subject_id = to_subject.id
                self._index_listing(lst)

    # -- reader ------------------------------------------------------------
    def get_subjects(self, ids: Iterable[str]) -> dict[str, Subject]:
        with self._lock:
            g = self.s.graph
            return {i: g.nodes[i]["s"] for i in ids if i in g}

    def resolve_ids(self, ids: Iterable[str]) -> dict[str, str]:
        with self._lock:
            out: dict[str, str] = {}
            for i in ids:
                target = self.s.redirects.get(i, i)
                if target in self.s.graph:
                    out[i] = target
            return out

    def find_by_keys(self, keys: Iterable[str]) -> dict[str, list[str]]:
        with self._lock:
            out: dict[str, list[str]] = {}
            for key in keys:
                ids = self.s.key_index.get(key)
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
            found: dict[str, Relation] = {}
            for sid in subject_ids:
                if sid not in g:
                    continue
                edges: list[Any] = []
                if direction in ("both", "out"):
                    edges.extend(g.out_edges(sid, data="r"))
                if direction in ("both", "in"):
                    edges.extend(g.in_edges(sid, data="r"))
                for _u, _v, rel in edges:
                    if wanted is not None and rel.type not in wanted:
                        continue
                    if rel.active(as_of):
                        found[rel.id] = rel
            return [found[k] for k in sorted(found)]

    def get_relations(self, ids: Iterable[str]) -> dict[str, Relation]:
        with self._lock:
            g = self.s.graph
            out: dict[str, Relation] = {}
            for rid in ids:
                ends = self.s.rel_ends.get(rid)
                if ends is not None:
                    out[rid] = g.edges[ends[0], ends[1], rid]["r"]
            return out

    def listings_of(
        self, subject_ids: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        wanted = set(kinds) if kinds is not None else None
        with self._lock:
            ids: set[str] = set()
            for sid in subject_ids:
                ids |= self.s.listings_by_subject.get(sid, set())
            return self._listings_sorted(ids, wanted)

    def listings_by_number(
        self, numbers: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        wanted = set(kinds) if kinds is not None else None
        with self._lock:
            ids: set[str] = set()
            for num in numbers:
                ids |= self.s.listings_by_number.get(num, set())
            return self._listings_sorted(ids, wanted)

    def _listings_sorted(self, ids: set[str], kinds: set[str] | None) -> list[Listing]:
        out = [self.s.listings[i] for i in sorted(ids)]
        return [x for x in out if kinds is None or x.kind in kinds]

    def get_listings(self, ids: Iterable[str]) -> dict[str, Listing]:
        with self._lock:
            return {i: self.s.listings[i] for i in ids if i in self.s.listings}

    def get_records(self, ids: Iterable[str]) -> dict[str, SourceRecord]:
        with self._lock:
            return {i: self.s.records[i] for i in ids if i in self.s.records}

    def records_of(self, subject_id: str) -> list[SourceRecord]:
        with self._lock:
            ids = sorted(self.s.records_by_subject.get(subject_id, set()))
            return [self.s.records[i] for i in ids]

    def search(self, text: str, subject_type: str | None = None, limit: int = 50) -> list[Subject]:
        if not text or limit <= 0:
            return []
        with self._lock:
            g = self.s.graph
            candidates: set[str] | None = None
            if len(text) == 1:
                # A one-character query is not a bigram (the index holds single
                # characters only for one-character names): scan the names.
                candidates = {
                    n for n, d in g.nodes(data="s") if any(text in x for x in d.norm_names)
                }
            else:
                index = self.s.name_index
                for gram in sorted(_bigrams(text), key=lambda x: len(index.get(x, ()))):
                    ids = index.get(gram, set())
                    candidates = set(ids) if candidates is None else candidates & ids
                    if not candidates:
                        return []
            out: list[Subject] = []
            for sid in sorted(candidates or ()):
                subj: Subject = g.nodes[sid]["s"]
                if subject_type is not None and subj.type != subject_type:
                    continue
                if any(text in n for n in subj.norm_names):
                    out.append(subj)
                    if len(out) >= limit:
                        break
            return out

    def iter_subjects(self, subject_type: str | None = None) -> Iterator[Subject]:
        with self._lock:
            subjects = [d for _n, d in self.s.graph.nodes(data="s")]
        for subj in sorted(subjects, key=lambda x: x.id):
            if subject_type is None or subj.type == subject_type:
                yield subj

    def iter_relations(self, types: Iterable[str] | None = None) -> Iterator[Relation]:
        wanted = set(types) if types is not None else None
        with self._lock:
            rels = [r for _u, _v, r in self.s.graph.edges(data="r")]
        for rel in sorted(rels, key=lambda x: x.id):
            if wanted is None or rel.type in wanted:
                yield rel

    def iter_listings(self, kinds: Iterable[str] | None = None) -> Iterator[Listing]:
        wanted = set(kinds) if kinds is not None else None
        with self._lock:
            listings = sorted(self.s.listings.values(), key=lambda x: x.id)
        for lst in listings:
            if wanted is None or lst.kind in wanted:
                yield lst

    def get_docs(self, collection: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            bucket = self.s.docs.get(collection, {})
            return {i: bucket[i] for i in ids if i in bucket}

    def list_docs(self, collection: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            bucket = self.s.docs.get(collection, {})
            return {k: bucket[k] for k in sorted(bucket)}

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "subjects": self.s.graph.number_of_nodes(),
                "relations": self.s.graph.number_of_edges(),
                "listings": len(self.s.listings),
                "records": len(self.s.records),
                "redirects": len(self.s.redirects),
            }

    # networkx view for analysts (notebooks): the live graph, read-only by convention.
    @property
    def nx_graph(self) -> nx.MultiDiGraph:
        return self.s.graph

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.close()


__all__ = ["EmbeddedStore", "Mention"]
