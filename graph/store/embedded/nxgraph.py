"""The networkx graph the embedded store keeps, with compact attribute dicts.

Why a module of its own: analysts get this graph itself (``nx_graph``), so it
must behave as a networkx ``MultiDiGraph`` whose node data is ``{"s":
Subject}`` and whose edge data is ``{"r": Relation}`` — while the store keeps
it small. At city scale a dict per node holding a dataclass with its own
lists and dict took about a kilobyte; here each node and edge holds one small
slotted object with the entity encoded (about 1.7 KiB per subject with its
relations in all, where plain objects took about 9 KiB), decoded on every
read, so that readers always get fresh objects, as from Neo4j. A node's
``id`` is the node key object itself, so that postings and relations share
one string per subject.

The store reaches networkx's adjacency dicts directly (``node_data``,
``out_adjacency``, ``in_adjacency``): walking them is what keeps reads fast,
and the properties give those dicts their types.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, MutableMapping
from typing import ClassVar, TypeVar

import networkx as nx

from graph.model import Relation, Subject
from graph.store.embedded.encoding import (
    relation_blob,
    relation_from_blob,
    subject_blob,
    subject_from_blob,
)

V = TypeVar("V")


class _OneItem(MutableMapping[str, V]):
    """An attribute dict holding one item, ``{key: entity}``, the entity kept
    encoded in ``blob``; empty while the blob is."""

    __slots__ = ("blob",)
    blob: bytes
    key: ClassVar[str]

    def __delitem__(self, key: str) -> None:
        raise TypeError("the embedded store's graph is read-only")

    def __iter__(self) -> Iterator[str]:
        return iter((self.key,) if self.blob else ())

    def __len__(self) -> int:
        return 1 if self.blob else 0

    def copy(self) -> dict[str, V]:
        return dict(self)


class NodeData(_OneItem[Subject]):
    """A node's attribute dict: ``{"s": Subject}``, the subject kept encoded."""

    __slots__ = ("id",)
    key = "s"

    def __init__(self) -> None:
        self.id = ""
        self.blob = b""

    def subject(self) -> Subject:
        return subject_from_blob(self.id, self.blob)

    def __getitem__(self, key: str) -> Subject:
        if key == "s" and self.blob:
            return self.subject()
        raise KeyError(key)

    def __setitem__(self, key: str, value: Subject) -> None:
        # networkx copies (G.copy(), subgraph copies) write {"s": Subject} back.
        if key != "s" or not isinstance(value, Subject):
            raise TypeError("embedded store nodes hold only 's' (a Subject)")
        self.id = value.id
        self.blob = subject_blob(value)


class EdgeData(_OneItem[Relation]):
    """An edge's attribute dict: ``{"r": Relation}``, the relation kept encoded.

    Id and ends are the shared key objects; the type is interned so that
    ``relations_of`` filters by type without decoding.
    """

    __slots__ = ("id", "source", "target", "type")
    key = "r"

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
        return relation_from_blob(self.id, self.type, self.source, self.target, self.blob)

    def __getitem__(self, key: str) -> Relation:
        if key == "r" and self.blob:
            return self.relation()
        raise KeyError(key)

    def __setitem__(self, key: str, value: Relation) -> None:
        if key != "r" or not isinstance(value, Relation):
            raise TypeError("embedded store edges hold only 'r' (a Relation)")
        self.fill(
            value.id, value.source, value.target, value.type, relation_blob(value, value.record_ids)
        )


# node -> neighbour -> relation id -> edge data
Adjacency = dict[str, dict[str, dict[str, EdgeData]]]


class CompactGraph(nx.MultiDiGraph):  # type: ignore[misc]  # networkx has no type stubs
    """A MultiDiGraph whose node and edge attribute dicts are the compact ones above."""

    node_attr_dict_factory = NodeData
    edge_attr_dict_factory = EdgeData

    @property
    def node_data(self) -> dict[str, NodeData]:
        nodes: dict[str, NodeData] = self._node
        return nodes

    @property
    def out_adjacency(self) -> Adjacency:
        adj: Adjacency = self._succ
        return adj

    @property
    def in_adjacency(self) -> Adjacency:
        adj: Adjacency = self._pred
        return adj
