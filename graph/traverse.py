"""Neighbourhoods and shortest paths, written once over the store primitives.

Both stores answer ``relations_of`` for a frontier of subjects in one call, so a
depth-N expansion is N round trips whatever the store, and the two stores give
the same answer by construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from graph.model import Relation, Subject
from graph.store.base import GraphStore


@dataclass
class Neighbourhood:
    center: str
    nodes: list[Subject]
    edges: list[Relation]
    # subject id -> hops from the centre
    distance: dict[str, int] = field(default_factory=dict)
    truncated: bool = False


@dataclass
class Path:
    nodes: list[str]
    edges: list[Relation]


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
    distance = {center: 0}
    frontier = [center]
    truncated = False
    for hop in range(1, depth + 1):
        if not frontier:
            break
        rels = store.relations_of(frontier, types, as_of)
        front = set(frontier)
        new_ids = sorted(
            {
                r.other(end)
                for r in rels
                for end in (r.source, r.target)
                if end in front and r.other(end) not in distance
            }
        )
        room = max_nodes - len(distance)
        if len(new_ids) > room:
            new_ids = new_ids[: max(room, 0)]
            truncated = True
        for sid in new_ids:
            distance[sid] = hop
        frontier = new_ids
        if truncated:
            break
    members = set(distance)
    edges = [
        r
        for r in store.relations_of(sorted(members), types, as_of)
        if r.source in members and r.target in members
    ]
    subjects = store.get_subjects(sorted(members))
    nodes = [subjects[i] for i in sorted(members, key=lambda x: (distance[x], x)) if i in subjects]
    return Neighbourhood(center, nodes, edges, distance, truncated)


def shortest_paths(
    store: GraphStore,
    source: str,
    target: str,
    max_depth: int,
    relation_types: Iterable[str] | None = None,
    as_of: str | None = None,
    limit: int = 10,
    max_frontier: int = 20_000,
) -> list[Path]:
    """All shortest paths (ignoring edge direction) of at most ``max_depth`` hops.

    Bidirectional breadth-first search: expand the smaller side each round, stop
    at the first depth where the two sides meet, then enumerate the paths
    through the meeting layer. Paths are ordered by their node ids so both
    stores list them the same way.
    """
    if source == target:
        return [Path([source], [])]
    types = list(relation_types) if relation_types is not None else None
    # parents[side][node] = list of (previous node, relation)
    parents: list[dict[str, list[tuple[str, Relation]]]] = [{source: []}, {target: []}]
    dist: list[dict[str, int]] = [{source: 0}, {target: 0}]
    level = [0, 0]
    frontiers: list[list[str]] = [[source], [target]]
    depth = 0
    meet: set[str] = set()
    while depth < max_depth and frontiers[0] and frontiers[1]:
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        here, there = parents[side], parents[1 - side]
        rels = store.relations_of(frontiers[side], types, as_of)
        nxt: dict[str, list[tuple[str, Relation]]] = {}
        current = set(frontiers[side])
        for rel in rels:
            for end in (rel.source, rel.target):
                if end not in current:
                    continue
                other = rel.other(end)
                if other in here:
                    continue
                nxt.setdefault(other, []).append((end, rel))
        level[side] += 1
        for node, links in nxt.items():
            here[node] = links
            dist[side][node] = level[side]
        depth += 1
        meet = {n for n in nxt if n in there}
        if meet:
            # Meeting nodes can sit at different depths on the far side; only the
            # shortest total length counts.
            best = min(dist[0][n] + dist[1][n] for n in meet)
            meet = {n for n in meet if dist[0][n] + dist[1][n] == best}
            break
        frontiers[side] = sorted(nxt)
        if len(frontiers[side]) > max_frontier:
            break
    if not meet:
        return []
    paths: list[Path] = []
    for node in sorted(meet):
        for left in _walk(parents[0], node):
            for right in _walk(parents[1], node):
                nodes = [n for n, _ in reversed(left)] + [node] + [n for n, _ in right]
                edges = [r for _, r in reversed(left)] + [r for _, r in right]
                paths.append(Path(nodes, edges))
    paths.sort(key=lambda p: (p.nodes, [e.id for e in p.edges]))
    return paths[:limit]


def _walk(
    parents: dict[str, list[tuple[str, Relation]]], node: str, cap: int = 1000
) -> list[list[tuple[str, Relation]]]:
    """Every chain of (previous node, relation) from ``node`` back to the root."""
    links = parents.get(node, [])
    if not links:
        return [[]]
    out: list[list[tuple[str, Relation]]] = []
    for prev, rel in sorted(links, key=lambda x: (x[0], x[1].id)):
        for rest in _walk(parents, prev, cap):
            out.append([(prev, rel), *rest])
            if len(out) >= cap:
                return out
    return out
