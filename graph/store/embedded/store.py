"""``EmbeddedStore``: the ``GraphStore`` protocol on the embedded state.

Why a module of its own: this is the protocol's face — one lock, the
lifecycle, and every read — over ``DurableState``, which keeps memory and
disk as one. Writes turn a call into an entry (``entries``) and commit it;
reads walk the in-memory graph and indexes, decoding only what they return.

Readers and writers share one lock: a read sees the state before or after a
write, never a half-applied batch. A store opened ``read_only`` first catches
up with what the writer committed, on every read.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import networkx as nx

from graph.errors import StoreUnavailable
from graph.model import Listing, Relation, SourceRecord, Subject
from graph.store.base import (
    Batch,
    DocWrite,
    Reach,
    Route,
    bidirectional_routes,
    breadth_first,
)
from graph.store.embedded.durable import DurableState
from graph.store.embedded.encoding import (
    doc_from_blob,
    listing_from_blob,
    record_from_blob,
    relation_from_blob,
    subject_from_blob,
)
from graph.store.embedded.entries import (
    ClearEntry,
    Entry,
    batch_entry,
    merge_entry,
    move_entry,
)
from graph.store.embedded.nxgraph import EdgeData
from graph.store.embedded.postings import Postings, bigrams, post_get
from graph.store.embedded.state import GraphState


class EmbeddedStore:
    """networkx-backed GraphStore, persisted under ``data_dir``.

    ``data_dir`` None keeps everything in memory (notebooks, throwaway tests).
    ``read_only`` opens the files of a store another process may be writing
    (CLI reports, notebooks): no lock, no file written (except the one repair
    of a dead writer's records, see ``DurableState._repair_for_reader``), and
    every read first catches up with what the writer committed.
    """

    name = "embedded"

    def __init__(
        self,
        data_dir: Path | None,
        compact_bytes: int = 256 * 1024 * 1024,
        *,
        read_only: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self._lock = threading.RLock()
        # With the sequence number, the generation: another store object (or
        # a reopened one) never repeats a token this one gave out.
        self._token = uuid.uuid4().hex[:12]
        self._disk = DurableState(data_dir, compact_bytes, read_only)

    @property
    def read_only(self) -> bool:
        return self._disk.read_only

    def _state(self) -> GraphState:
        """The state, caught up with the writer's files (call under the lock)."""
        self._disk.refresh()
        return self._disk.state

    def _check_open(self) -> None:
        if self._disk.closed:
            raise StoreUnavailable("the embedded store is closed")

    def _commit(self, build: Callable[[], Entry]) -> None:
        with self._lock:
            self._check_open()
            if self._disk.read_only:
                raise StoreUnavailable(
                    f"the embedded store in {self.data_dir} was opened read-only",
                    "the graph store is read-only here",
                )
            self._disk.commit(build)

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._disk.close()

    def compact(self) -> None:
        """Fold the journal into a new snapshot (nothing for a reader or in memory)."""
        with self._lock:
            self._disk.compact()

    def generation(self) -> str:
        """Changes whenever a write commits (for a reader: once it has caught up)."""
        with self._lock:
            return f"{self._token}:{self._state().seq}"

    def clear(self) -> None:
        self._commit(ClearEntry)

    def ping(self) -> None:
        self._check_open()

    # -- writer ------------------------------------------------------------
    def write(self, batch: Batch) -> None:
        if batch.is_empty():
            return
        with self._lock:
            self._disk.state.check_parties(batch)
            self._commit(lambda: batch_entry(batch))

    def merge_subjects(
        self, survivor_id: str, merged_id: str, docs: Iterable[DocWrite] = ()
    ) -> None:
        written = list(docs)
        self._commit(lambda: merge_entry(survivor_id, merged_id, written))

    def move_mentions(
        self,
        record_roles: list[tuple[str, str]],
        from_id: str,
        to_subject: Subject,
        docs: Iterable[DocWrite] = (),
    ) -> None:
        written = list(docs)
        self._commit(lambda: move_entry(record_roles, from_id, to_subject, written))

    # -- reader ------------------------------------------------------------
    def get_subjects(self, ids: Iterable[str]) -> dict[str, Subject]:
        with self._lock:
            nodes = self._state().graph.node_data
            out: dict[str, Subject] = {}
            for i in ids:
                nd = nodes.get(i)
                if nd is not None:
                    out[i] = nd.subject()
            return out

    def resolve_ids(self, ids: Iterable[str]) -> dict[str, str]:
        with self._lock:
            s = self._state()
            nodes = s.graph.node_data
            out: dict[str, str] = {}
            for i in ids:
                target = s.redirects.get(i, i)
                if target in nodes:
                    out[i] = target
            return out

    def find_by_keys(self, keys: Iterable[str]) -> dict[str, list[str]]:
        with self._lock:
            index = self._state().key_index
            out: dict[str, list[str]] = {}
            for key in keys:
                ids = post_get(index, key)
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
            g = self._state().graph
            found: dict[str, EdgeData] = {}
            sides = []
            if direction in ("both", "out"):
                sides.append(g.out_adjacency)
            if direction in ("both", "in"):
                sides.append(g.in_adjacency)
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

    def reach(
        self,
        center: str,
        depth: int,
        types: list[str] | None = None,
        as_of: str | None = None,
        max_nodes: int = 500,
    ) -> Reach:
        # In memory, a hop is a dictionary walk: no round trip to save.
        return breadth_first(self, center, depth, types, as_of, max_nodes)

    def routes(
        self,
        source: str,
        target: str,
        max_depth: int,
        types: list[str] | None = None,
        as_of: str | None = None,
        limit: int = 10,
    ) -> list[Route]:
        return bidirectional_routes(self, source, target, max_depth, types, as_of, limit)

    def get_relations(self, ids: Iterable[str]) -> dict[str, Relation]:
        with self._lock:
            rel_ends = self._state().rel_ends
            out: dict[str, Relation] = {}
            for rid in ids:
                ed = rel_ends.get(rid)
                if ed is not None:
                    out[rid] = ed.relation()
            return out

    def listings_of(
        self, subject_ids: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        return self._listings_via(lambda s: s.listings_by_subject, subject_ids, kinds)

    def listings_by_number(
        self, numbers: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        return self._listings_via(lambda s: s.listings_by_number, numbers, kinds)

    def listings_naming(
        self, subject_ids: Iterable[str], kinds: Iterable[str] | None = None
    ) -> list[Listing]:
        return self._listings_via(lambda s: s.listings_by_party, subject_ids, kinds)

    def _listings_via(
        self,
        index_of: Callable[[GraphState], Postings],
        keys: Iterable[str],
        kinds: Iterable[str] | None,
    ) -> list[Listing]:
        wanted = set(kinds) if kinds is not None else None
        with self._lock:
            s = self._state()
            # Taken after the refresh: a reader's reload makes a new state.
            index = index_of(s)
            ids: set[str] = set()
            for key in keys:
                ids.update(post_get(index, key))
            out = [listing_from_blob(i, s.listings[i]) for i in sorted(ids)]
            return [x for x in out if wanted is None or x.kind in wanted]

    def get_listings(self, ids: Iterable[str]) -> dict[str, Listing]:
        with self._lock:
            listings = self._state().listings
            out: dict[str, Listing] = {}
            for i in ids:
                blob = listings.get(i)
                if blob is not None:
                    out[i] = listing_from_blob(i, blob)
            return out

    def get_records(self, ids: Iterable[str]) -> dict[str, SourceRecord]:
        wanted = list(ids)
        with self._lock:
            self._state()
            self._check_open()
            bodies = self._disk.records.blobs(wanted)
        return {i: record_from_blob(i, bodies[i]) for i in wanted if i in bodies}

    def records_of(self, subject_id: str) -> list[SourceRecord]:
        with self._lock:
            self._state()
            self._check_open()
            rows = self._disk.records.of_subject(subject_id)
        return [record_from_blob(rid, body) for rid, body in rows]

    def search(self, text: str, subject_type: str | None = None, limit: int = 50) -> list[Subject]:
        if not text or limit <= 0:
            return []
        # Every name containing the text holds its UTF-8 bytes, and so does the
        # encoded subject (MessagePack writes str as UTF-8): a cheap test
        # before decoding.
        needle = text.encode("utf-8", "surrogatepass")
        with self._lock:
            s = self._state()
            nodes = s.graph.node_data
            if len(text) == 1:
                # A one-character query is not a bigram (the index holds single
                # characters only for one-character names): scan the subjects.
                candidates = [sid for sid, nd in nodes.items() if needle in nd.blob]
            else:
                # A name containing the text contains each of its bigrams, so
                # the shortest posting list holds every answer.
                shortest: list[str] | None = None
                for gram in bigrams(text):
                    ids = post_get(s.name_index, gram)
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
            blobs = [(sid, nd.blob) for sid, nd in self._state().graph.node_data.items()]
        blobs.sort(key=lambda x: x[0])
        for sid, blob in blobs:
            subj = subject_from_blob(sid, blob)
            if subject_type is None or subj.type == subject_type:
                yield subj

    def iter_relations(self, types: Iterable[str] | None = None) -> Iterator[Relation]:
        wanted = set(types) if types is not None else None
        with self._lock:
            rows = [
                (e.id, e.type, e.source, e.target, e.blob)
                for e in self._state().rel_ends.values()
                if wanted is None or e.type in wanted
            ]
        rows.sort(key=lambda x: x[0])
        for rid, rtype, source, target, blob in rows:
            yield relation_from_blob(rid, rtype, source, target, blob)

    def iter_listings(self, kinds: Iterable[str] | None = None) -> Iterator[Listing]:
        with self._lock:
            s = self._state()
            if kinds is None:
                rows = sorted(s.listings.items())
            else:
                ids = {i for k in set(kinds) for i in post_get(s.listings_by_kind, k)}
                rows = [(i, s.listings[i]) for i in sorted(ids)]
        for lid, blob in rows:
            yield listing_from_blob(lid, blob)

    def get_docs(self, collection: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            bucket = self._state().docs.get(collection, {})
            return {i: doc_from_blob(bucket[i]) for i in ids if i in bucket}

    def list_docs(self, collection: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            bucket = self._state().docs.get(collection, {})
            return {k: doc_from_blob(bucket[k]) for k in sorted(bucket)}

    def counts(self) -> dict[str, int]:
        with self._lock:
            s = self._state()
            return {
                "subjects": s.graph.number_of_nodes(),
                "relations": len(s.rel_ends),
                "listings": len(s.listings),
                "records": self._disk.records.count,
                "redirects": len(s.redirects),
            }

    # networkx view for analysts (notebooks): the live graph, read-only by
    # convention. Node data "s" and edge data "r" decode to fresh Subject and
    # Relation objects on each access.
    @property
    def nx_graph(self) -> nx.MultiDiGraph:
        with self._lock:
            return self._state().graph

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.close()
