"""The embedded store's contents in memory, and how an entry changes them.

Why a module of its own: the graph, its indexes, the listings, the merge
redirects and the documents are one state that exactly one thing changes —
applying a journal entry — whether the entry is being written now, replayed
on open or followed by a reader. Applying is therefore written once, here;
the upsert rules themselves are ``graph.store.base``'s, shared with Neo4j.

The state holds, per subject and relation, the encoded entity in the
compact graph (``graph.store.embedded.nxgraph``); listings and document
bodies are kept encoded too. Every index is derived from those (so that a
snapshot holds only the entities and rebuilds the indexes on load):

- ``key_index``: ``"kind:value"`` -> subject ids;
- ``name_index``: bigram of a normalised name -> subject ids (search);
- ``listings_by_subject``, ``listings_by_number``, ``listings_by_kind`` and
  ``listings_by_party`` (the subjects ``props["parties"]`` names).

A merge or a split also rewrites mentions in the records database; that part
runs only when the entry is ``live`` there (not yet held by it), so that a
replay applies it exactly once.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable

from graph.model import Listing, Relation, Subject
from graph.store.base import Batch, apply_subject_upsert, first_upsert, fold_subject, union_into
from graph.store.embedded.encoding import (
    PackedDoc,
    listing_blob,
    listing_from_blob,
    relation_blob,
    relation_record_ids,
    subject_blob,
)
from graph.store.embedded.entries import BatchEntry, ClearEntry, Entry, MergeEntry, MoveEntry
from graph.store.embedded.nxgraph import CompactGraph, EdgeData, NodeData
from graph.store.embedded.postings import Postings, grams_of, post_add, post_get, post_remove
from graph.store.embedded.records import RecordFile


def named_parties(lst: Listing) -> set[str]:
    parties = lst.props.get("parties")
    if not isinstance(parties, dict):
        return set()
    return {v for v in parties.values() if isinstance(v, str)}


class GraphState:
    def __init__(self) -> None:
        # the last journal entry applied
        self.seq = 0
        self._empty()

    def _empty(self) -> None:
        self.graph = CompactGraph()
        # relation id -> its edge data (which knows the ends)
        self.rel_ends: dict[str, EdgeData] = {}
        self.key_index: Postings = {}
        self.name_index: Postings = {}
        self.listings: dict[str, bytes] = {}
        self.listings_by_subject: Postings = {}
        self.listings_by_number: Postings = {}
        # iter_listings of a few kinds (time_changes) spares decoding the others.
        self.listings_by_kind: Postings = {}
        # subject id -> listings whose props["parties"] name it
        self.listings_by_party: Postings = {}
        self.redirects: dict[str, str] = {}
        # collection -> document id -> encoded body
        self.docs: dict[str, dict[str, bytes]] = {}

    # -- applying an entry -----------------------------------------------------------
    def apply(self, entry: Entry, records: RecordFile, live: bool) -> Entry:
        """Apply one entry; returns it as the journal keeps it (upserts that changed
        nothing left out, a move's moved records filled in). ``live``: the records
        database does not hold this entry yet and is written too."""
        if isinstance(entry, BatchEntry):
            return self._apply_batch(entry, records, live)
        if isinstance(entry, ClearEntry):
            self._empty()
            if live:
                records.clear()
            return entry
        if isinstance(entry, MergeEntry):
            self._merge(entry.survivor_id, entry.merged_id, records, live)
            # After the merge: an unknown survivor raises before anything,
            # documents included, is applied.
            self._apply_docs(entry.docs)
            return entry
        moved = self._move(entry, records, live)
        self._apply_docs(entry.docs)
        return dataclasses.replace(entry, moved=sorted(moved))

    def check_parties(self, batch: Batch) -> None:
        """Refuse a batch with a listing whose parties are not stored subjects.

        Checked when a batch is written, not when an entry applies: journal
        entries acknowledged before parties were checked must still replay."""
        known = {s.id for s in batch.subjects}
        nodes = self.graph.node_data
        for x in batch.listings:
            for sid in sorted(named_parties(x)):
                if sid not in known and sid not in nodes:
                    raise ValueError(f"listing {x.id} names unknown subject {sid}")

    def _check_batch(self, entry: BatchEntry) -> None:
        # Checked before anything is applied: an in-memory store (no
        # directory) has no journal to reload, so a batch that fails half-way
        # would otherwise stay half-applied.
        known = {s.id for s in entry.subjects}
        nodes = self.graph.node_data

        def check(sid: str, what: str) -> None:
            if sid not in known and sid not in nodes:
                raise ValueError(f"{what} names unknown subject {sid}")

        for r in entry.relations:
            check(r.source, f"relation {r.id}")
            check(r.target, f"relation {r.id}")
        for x in entry.listings:
            check(x.subject_id, f"listing {x.id}")
        for rid, _body, sids in entry.records:
            for sid in sids:
                check(sid, f"record {rid} mention")

    def _apply_batch(self, entry: BatchEntry, records: RecordFile, live: bool) -> BatchEntry:
        self._check_batch(entry)
        kept_subjects = [s for s in entry.subjects if self._upsert_subject(s)]
        for rid in entry.delete_relations:
            self._delete_relation(rid)
        kept_relations = [r for r in entry.relations if self._upsert_relation(r)]
        for lid in entry.delete_listings:
            self._delete_listing(lid)
        for x in entry.listings:
            self._upsert_listing(x)
        if entry.records and live:
            records.put(entry.records)
        self._apply_docs(entry.docs)
        return dataclasses.replace(entry, subjects=kept_subjects, relations=kept_relations)

    def _apply_docs(self, docs: list[PackedDoc]) -> None:
        for coll, doc_id, body in docs:
            bucket = self.docs.setdefault(coll, {})
            if body is None:
                bucket.pop(doc_id, None)
            else:
                bucket[doc_id] = body

    # -- what a snapshot restores (the indexes are rebuilt, not stored) ----------------
    def restore_subject(self, sid: str, blob: bytes) -> None:
        self.graph.add_node(sid)
        nd = self.graph.node_data[sid]
        nd.id = sid
        nd.blob = blob
        subj = nd.subject()
        self._index_keys(sid, subj.keys)
        self._index_grams(sid, subj.norm_names, ())

    def restore_relation(self, rid: str, source: str, target: str, rtype: str, blob: bytes) -> None:
        nodes = self.graph.node_data
        self._add_edge(rid, nodes[source].id, nodes[target].id, rtype, blob)

    def restore_listing(self, lid: str, blob: bytes) -> None:
        self.listings[lid] = blob
        self._index_listing(lid, listing_from_blob(lid, blob))

    # -- indexes ---------------------------------------------------------------------
    def _index_keys(self, sid: str, keys: Iterable[str]) -> None:
        for key in keys:
            post_add(self.key_index, key, sid)

    def _index_grams(self, sid: str, added: Iterable[str], existing: Iterable[str]) -> None:
        have = grams_of(existing)
        for gram in grams_of(added) - have:
            post_add(self.name_index, gram, sid)

    def _unindex_subject(self, sid: str, subj: Subject) -> None:
        for key in subj.keys:
            post_remove(self.key_index, key, sid)
        for gram in grams_of(subj.norm_names):
            post_remove(self.name_index, gram, sid)

    # -- subjects --------------------------------------------------------------------
    def _upsert_subject(self, new: Subject) -> bool:
        """Returns whether anything changed (unchanged upserts are not journalled)."""
        g = self.graph
        nd: NodeData | None = g.node_data.get(new.id)
        if nd is not None:
            cur = nd.subject()
            n_keys, old_norms = len(cur.keys), list(cur.norm_names)
            apply_subject_upsert(cur, new)
            blob = subject_blob(cur)
            if blob == nd.blob:
                return False
            nd.blob = blob
            self._index_keys(nd.id, cur.keys[n_keys:])
            self._index_grams(nd.id, cur.norm_names[len(old_norms) :], old_norms)
            return True
        cur = first_upsert(new)
        g.add_node(new.id)
        nd = g.node_data[new.id]
        nd.id = new.id
        nd.blob = subject_blob(cur)
        self.redirects.pop(new.id, None)
        self._index_keys(new.id, cur.keys)
        self._index_grams(new.id, cur.norm_names, ())
        return True

    # -- relations -------------------------------------------------------------------
    def _add_edge(self, rid: str, u: str, v: str, rtype: str, blob: bytes) -> None:
        g = self.graph
        g.add_edge(u, v, key=rid)
        ed = g.out_adjacency[u][v][rid]
        ed.fill(rid, u, v, rtype, blob)
        self.rel_ends[rid] = ed

    def _is_current(self, ed: EdgeData) -> bool:
        # Re-pointing an edge replaces its data object, so a stale one seen
        # again (a self-loop is both in- and out-edge) is skipped.
        return self.rel_ends.get(ed.id) is ed

    def _remove_edge(self, ed: EdgeData) -> None:
        self.graph.remove_edge(ed.source, ed.target, key=ed.id)

    def _edges_of(self, sid: str) -> list[EdgeData]:
        g = self.graph
        edges = [ed for kd in g.in_adjacency[sid].values() for ed in kd.values()]
        edges += [ed for kd in g.out_adjacency[sid].values() for ed in kd.values()]
        return edges

    def _upsert_relation(self, rel: Relation) -> bool:
        nodes = self.graph.node_data
        for end in (rel.source, rel.target):
            if end not in nodes:
                raise ValueError(f"relation {rel.id} names unknown subject {end}")
        record_ids: list[str] = []
        old = self.rel_ends.get(rel.id)
        rid = rel.id
        if old is not None:
            record_ids = list(relation_record_ids(old.blob))
            rid = old.id
        union_into(record_ids, rel.record_ids)
        blob = relation_blob(rel, record_ids)
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
        ed = self.rel_ends.pop(rid, None)
        if ed is not None:
            self._remove_edge(ed)

    # -- listings --------------------------------------------------------------------
    def _upsert_listing(self, lst: Listing) -> None:
        nodes = self.graph.node_data
        if lst.subject_id not in nodes:
            raise ValueError(f"listing {lst.id} names unknown subject {lst.subject_id}")
        record_ids: list[str] = []
        old_blob = self.listings.pop(lst.id, None)
        if old_blob is not None:
            old = listing_from_blob(lst.id, old_blob)
            record_ids = list(old.record_ids)
            self._unindex_listing(old)
        union_into(record_ids, lst.record_ids)
        stored = dataclasses.replace(
            lst, subject_id=nodes[lst.subject_id].id, record_ids=record_ids
        )
        self._store_listing(stored)

    def _store_listing(self, lst: Listing) -> None:
        self.listings[lst.id] = listing_blob(lst)
        self._index_listing(lst.id, lst)

    def _index_listing(self, lid: str, lst: Listing) -> None:
        nodes = self.graph.node_data
        sid = nodes[lst.subject_id].id
        post_add(self.listings_by_subject, sid, lid)
        post_add(self.listings_by_kind, sys.intern(lst.kind), lid)
        if lst.number:
            post_add(self.listings_by_number, lst.number, lid)
        for pid in named_parties(lst):
            node = nodes.get(pid)
            # The node's own key object, as for the other postings.
            post_add(self.listings_by_party, node.id if node is not None else pid, lid)

    def _unindex_listing(self, lst: Listing) -> None:
        post_remove(self.listings_by_subject, lst.subject_id, lst.id)
        post_remove(self.listings_by_kind, lst.kind, lst.id)
        if lst.number:
            post_remove(self.listings_by_number, lst.number, lst.id)
        for pid in named_parties(lst):
            post_remove(self.listings_by_party, pid, lst.id)

    def _delete_listing(self, lid: str) -> None:
        old = self.listings.pop(lid, None)
        if old is not None:
            self._unindex_listing(listing_from_blob(lid, old))

    # -- merge and split -------------------------------------------------------------
    def _merge(self, survivor_id: str, merged_id: str, records: RecordFile, live: bool) -> None:
        g = self.graph
        nodes = g.node_data
        if survivor_id == merged_id or merged_id not in nodes:
            return
        if survivor_id not in nodes:
            raise ValueError(f"unknown subject {survivor_id}")
        survivor_id = nodes[survivor_id].id
        merged = nodes[merged_id].subject()
        snd = nodes[survivor_id]
        survivor = snd.subject()
        self._unindex_subject(merged_id, merged)
        n_keys, old_norms = len(survivor.keys), list(survivor.norm_names)
        fold_subject(survivor, merged)
        snd.blob = subject_blob(survivor)
        self._index_keys(survivor_id, survivor.keys[n_keys:])
        self._index_grams(survivor_id, survivor.norm_names[len(old_norms) :], old_norms)
        for ed in self._edges_of(merged_id):
            if not self._is_current(ed):
                continue  # a self-loop seen from both sides
            self._remove_edge(ed)
            source = survivor_id if ed.source == merged_id else ed.source
            target = survivor_id if ed.target == merged_id else ed.target
            self._add_edge(ed.id, source, target, ed.type, ed.blob)
        lids = sorted(post_get(self.listings_by_subject, merged_id))
        self.listings_by_subject.pop(merged_id, None)
        for lid in lids:
            lst = listing_from_blob(lid, self.listings[lid])
            lst.subject_id = survivor_id
            self.listings[lid] = listing_blob(lst)
            post_add(self.listings_by_subject, survivor_id, lid)
        for lid in sorted(post_get(self.listings_by_party, merged_id)):
            lst = listing_from_blob(lid, self.listings[lid])
            self._unindex_listing(lst)
            parties: dict[str, object] = lst.props["parties"]
            for role, pid in parties.items():
                if pid == merged_id:
                    parties[role] = survivor_id
            self._store_listing(lst)
        if live:
            records.merge_mentions(survivor_id, merged_id)
        g.remove_node(merged_id)
        for old, new in list(self.redirects.items()):
            if new == merged_id:
                self.redirects[old] = survivor_id
        self.redirects[merged_id] = survivor_id

    def _move(self, entry: MoveEntry, records: RecordFile, live: bool) -> set[str]:
        """Split; returns the ids of the records that moved (journalled, so that a
        replay without the records — SQLite already has them — moves the same)."""
        from_id = entry.from_id
        nodes = self.graph.node_data
        if from_id not in nodes:
            raise ValueError(f"unknown subject {from_id}")
        self._upsert_subject(entry.to_subject)
        to_id = nodes[entry.to_subject.id].id
        if live or entry.moved is None:
            moved = records.move_mentions(entry.record_roles, from_id, to_id)
        else:
            moved = set(entry.moved)
        # Relations and listings asserted only by moved records follow them.
        for ed in self._edges_of(from_id):
            if not self._is_current(ed):
                continue  # a self-loop seen from both sides
            record_ids = relation_record_ids(ed.blob)
            if record_ids and set(record_ids) <= moved:
                self._remove_edge(ed)
                source = to_id if ed.source == from_id else ed.source
                target = to_id if ed.target == from_id else ed.target
                self._add_edge(ed.id, source, target, ed.type, ed.blob)
        for lid in sorted(post_get(self.listings_by_subject, from_id)):
            lst = listing_from_blob(lid, self.listings[lid])
            if lst.record_ids and set(lst.record_ids) <= moved:
                self._unindex_listing(lst)
                lst.subject_id = to_id
                self._store_listing(lst)
        self._move_parties(entry.record_roles, moved, from_id, to_id)
        return moved

    def _move_parties(
        self, record_roles: list[tuple[str, str]], moved: set[str], from_id: str, to_id: str
    ) -> None:
        # A party follows when every record asserting the listing had its
        # mention in that role moved. Computed from the journalled ``moved``
        # alone, so that a replay without the records re-points the same.
        roles_moved = {(rid, role) for rid, role in record_roles if rid in moved}
        for lid in sorted(post_get(self.listings_by_party, from_id)):
            lst = listing_from_blob(lid, self.listings[lid])
            parties: dict[str, object] = lst.props["parties"]
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
