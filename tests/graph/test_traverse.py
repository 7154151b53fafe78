"""Neighbourhoods and shortest paths over the store protocol, on both stores."""

from __future__ import annotations

from graph.model import Relation, Subject
from graph.store.base import Batch, GraphStore
from graph.traverse import neighbours, shortest_paths


def org(i: str) -> Subject:
    return Subject(id=f"S-{i}", type="organisation", name=i, names=[i])


def rel(
    rid: str, typ: str, a: str, b: str, vf: str | None = None, vt: str | None = None
) -> Relation:
    return Relation(
        id=rid,
        type=typ,
        source=f"S-{a}",
        target=f"S-{b}",
        valid_from=vf,
        valid_to=vt,
        record_ids=[f"rec-{rid}"],
    )


def chain(store: GraphStore) -> None:
    # A - B - C - D, and A - E - D (two shortest paths A..D of 2 hops? no: 3 vs 2)
    store.write(
        Batch(
            subjects=[org(x) for x in "ABCDEF"],
            relations=[
                rel("R1", "shareholder", "A", "B"),
                rel("R2", "guarantees", "B", "C"),
                rel("R3", "shareholder", "C", "D"),
                rel("R4", "legal_representative", "E", "A"),
                rel("R5", "legal_representative", "E", "D", vf="2020-01-01", vt="2023-01-01"),
                rel("R6", "branch_of", "F", "A"),
            ],
        )
    )


def test_neighbours_by_depth_and_type(store: GraphStore) -> None:
    chain(store)
    n1 = neighbours(store, "S-A", 1)
    assert {s.id for s in n1.nodes} == {"S-A", "S-B", "S-E", "S-F"}
    assert {e.id for e in n1.edges} == {"R1", "R4", "R6"}
    assert not n1.truncated
    n2 = neighbours(store, "S-A", 2, relation_types=["shareholder", "guarantees"])
    assert {s.id for s in n2.nodes} == {"S-A", "S-B", "S-C"}
    assert n2.distance["S-C"] == 2


def test_neighbours_as_of_and_cap(store: GraphStore) -> None:
    chain(store)
    before = neighbours(store, "S-E", 1, as_of="2019-12-31")
    during = neighbours(store, "S-E", 1, as_of="2020-01-01")
    after = neighbours(store, "S-E", 1, as_of="2023-01-01")
    assert {s.id for s in before.nodes} == {"S-E", "S-A"}
    assert {s.id for s in during.nodes} == {"S-E", "S-A", "S-D"}
    assert {s.id for s in after.nodes} == {"S-E", "S-A"}
    capped = neighbours(store, "S-A", 2, max_nodes=3)
    assert capped.truncated
    assert [s.id for s in capped.nodes] == ["S-A", "S-B", "S-E"]


def test_shortest_paths(store: GraphStore) -> None:
    chain(store)
    paths = shortest_paths(store, "S-A", "S-D", max_depth=4, as_of="2021-06-01")
    assert [p.nodes for p in paths] == [["S-A", "S-E", "S-D"]]
    assert [e.id for e in paths[0].edges] == ["R4", "R5"]
    # once E no longer represents D, the path goes through the chain
    later = shortest_paths(store, "S-A", "S-D", max_depth=4, as_of="2024-01-01")
    assert [p.nodes for p in later] == [["S-A", "S-B", "S-C", "S-D"]]
    assert shortest_paths(store, "S-A", "S-D", max_depth=2, as_of="2024-01-01") == []
    assert shortest_paths(store, "S-F", "S-F", max_depth=2)[0].nodes == ["S-F"]


def test_all_shortest_paths_are_listed(store: GraphStore) -> None:
    store.write(
        Batch(
            subjects=[org(x) for x in "PQRS"],
            relations=[
                rel("Q1", "shareholder", "P", "Q"),
                rel("Q2", "shareholder", "Q", "S"),
                rel("Q3", "shareholder", "P", "R"),
                rel("Q4", "shareholder", "R", "S"),
            ],
        )
    )
    paths = shortest_paths(store, "S-P", "S-S", max_depth=3)
    assert [p.nodes for p in paths] == [["S-P", "S-Q", "S-S"], ["S-P", "S-R", "S-S"]]


def random_graph(seed: int) -> Batch:
    """Thirty subjects, sixty relations of four types, some dated, some
    parallel, a few self-contained islands: enough shapes for the cap and the
    time filter to matter."""
    import random

    rng = random.Random(seed)
    names = [f"N{i:02d}" for i in range(30)]
    types = ["shareholder", "guarantees", "legal_representative", "officer"]
    relations = []
    for i in range(60):
        a, b = rng.sample(names, 2)
        vf = rng.choice([None, "2018-01-01", "2021-06-01"])
        vt = rng.choice([None, None, "2020-01-01", "2023-01-01"])
        relations.append(rel(f"R{i:02d}", rng.choice(types), a, b, vf, vt))
    return Batch(subjects=[org(n) for n in names], relations=relations)


def test_every_store_reaches_what_breadth_first_reaches(store: GraphStore) -> None:
    """The contract for ``reach``: Neo4j answers in one traversal what the
    embedded store answers hop by hop, cap and time filter included."""
    import random

    from graph.store.base import breadth_first

    for seed in range(3):
        store.clear()
        store.write(random_graph(seed))
        rng = random.Random(seed)
        for _ in range(40):
            center = f"S-N{rng.randrange(30):02d}"
            depth = rng.randint(1, 4)
            types = rng.choice([None, ["shareholder"], ["guarantees", "officer"]])
            as_of = rng.choice([None, "2019-01-01", "2022-01-01"])
            cap = rng.choice([500, 500, 1, 2, 5, 9])
            got = store.reach(center, depth, types, as_of, cap)
            want = breadth_first(store, center, depth, types, as_of, cap)
            assert got.distance == want.distance, (seed, center, depth, types, as_of, cap)
            assert got.truncated == want.truncated
            assert sorted(r.id for r in got.edges) == sorted(r.id for r in want.edges)
            assert got.subjects == want.subjects
    # an unknown centre reaches nobody
    assert store.reach("S-nobody", 2).distance == {"S-nobody": 0}
    assert store.reach("S-nobody", 2).subjects == {}


def test_every_store_routes_what_the_bidirectional_search_routes(store: GraphStore) -> None:
    """The contract for ``routes``: Neo4j's ``ALL SHORTEST`` gives the paths,
    in the order and number, that the embedded store's search gives."""
    import random

    from graph.store.base import bidirectional_routes

    checked = 0
    for seed in range(3):
        store.clear()
        store.write(random_graph(seed))
        rng = random.Random(100 + seed)
        for _ in range(40):
            a, b = rng.sample(range(30), 2)
            source, target = f"S-N{a:02d}", f"S-N{b:02d}"
            depth = rng.randint(1, 4)
            types = rng.choice([None, None, ["shareholder", "guarantees"], ["officer"]])
            as_of = rng.choice([None, "2019-01-01", "2022-01-01"])
            limit = rng.choice([10, 10, 1, 3])
            got = store.routes(source, target, depth, types, as_of, limit)
            want = bidirectional_routes(store, source, target, depth, types, as_of, limit)
            assert [(p.nodes, [e.id for e in p.edges]) for p in got] == [
                (p.nodes, [e.id for e in p.edges]) for p in want
            ], (seed, source, target, depth, types, as_of, limit)
            checked += bool(want)
    assert checked >= 30  # most pairs are connected: the comparison compared paths
    assert store.routes("S-nobody", "S-N01", 3) == []
