"""Neighbourhoods and shortest paths over the store primitives.

A neighbourhood is the store's ``reach``: the embedded store expands breadth
first over ``relations_of`` (graph.store.base.breadth_first, one call per
hop); Neo4j answers it with one traversal in the database, and the contract
suite holds it to breadth_first's answer. Shortest paths likewise: the
store's ``routes``, a bidirectional search over ``relations_of`` on the
embedded store (graph.store.base.bidirectional_routes), ``ALL SHORTEST`` in
Neo4j.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from graph.model import Relation, Subject
from graph.store.base import GraphStore, Route

# A path is a store's route: its node ids from source to target, and the
# relations between them.
Path = Route


@dataclass
class Neighbourhood:
    center: str
    nodes: list[Subject]
    edges: list[Relation]
    # subject id -> hops from the centre
    distance: dict[str, int] = field(default_factory=dict)
    truncated: bool = False


def neighbours(
    store: GraphStore,
    center: str,
    depth: int,
    relation_types: Iterable[str] | None = None,
    as_of: str | None = None,
    max_nodes: int = 500,
) -> Neighbourhood:
    """Breadth-first expansion to ``depth`` hops, at most ``max_nodes`` subjects.

    When the cap cuts, nodes are kept in (distance, id) order so the cut is the
    same on every store, and ``truncated`` says that it happened.
    """
    types = list(relation_types) if relation_types is not None else None
    found = store.reach(center, depth, types, as_of, max_nodes)
    distance = found.distance
    nodes = [
        found.subjects[i]
        for i in sorted(distance, key=lambda x: (distance[x], x))
        if i in found.subjects
    ]
    edges = sorted(found.edges, key=lambda r: r.id)
    return Neighbourhood(center, nodes, edges, distance, found.truncated)


def shortest_paths(
    store: GraphStore,
    source: str,
    target: str,
    max_depth: int,
    relation_types: Iterable[str] | None = None,
    as_of: str | None = None,
    limit: int = 10,
) -> list[Path]:
    """All shortest paths (ignoring edge direction) of at most ``max_depth``
    hops, ordered by their node ids (then relation ids), the first ``limit``."""
    types = list(relation_types) if relation_types is not None else None
    return store.routes(source, target, max_depth, types, as_of, limit)
