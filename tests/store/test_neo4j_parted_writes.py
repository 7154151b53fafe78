"""Neo4j: a batch larger than one transaction should hold is written in parts,
and is still all or nothing (graph/store/neo4j_loads.py).

Compared on the whole database, node by node and edge by edge: a parted write
leaves what one transaction leaves; a parted write that fails half-way, or
whose process is killed half-way, leaves what was there before, exactly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from graph.errors import StoreBusy
from graph.model import Mention, SourceRecord
from graph.store.base import Batch
from graph.store.neo4j import Neo4jStore
from tests.builders import city, listing, many, org, records_for, rel
from tests.live import REPO
from tests.stores import NEO4J_PASSWORD, NEO4J_URI, open_neo4j

CHUNK = 7


def parted(**kwargs: Any) -> Neo4jStore:
    return Neo4jStore(
        NEO4J_URI, password=NEO4J_PASSWORD, timeout_s=120.0, write_chunk=CHUNK, **kwargs
    )


def dump(store: Neo4jStore) -> dict[str, Any]:
    """Every node and relationship, with labels, type and properties (the
    generation token aside: it changes with every write by design)."""

    def work(tx: Any) -> dict[str, Any]:
        nodes = sorted(
            json.dumps([sorted(labels(n)), dict(n)], sort_keys=True, ensure_ascii=False)
            for n in (row["n"] for row in tx.run("MATCH (n) WHERE NOT n:Generation RETURN n"))
        )
        edges = sorted(
            json.dumps([row["t"], row["a"], row["b"], row["p"]], sort_keys=True, ensure_ascii=False)
            for row in tx.run(
                "MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, "
                "properties(a) AS a, properties(b) AS b"
            )
        )
        return {"nodes": nodes, "edges": edges}

    return store._session_run(work, write=False, timeout=120)


def labels(node: Any) -> list[str]:
    return list(node.labels)


def base() -> Batch:
    """What the database holds before the big write: a small city, its
    records, a listing naming a party, two docs (and, once written, a
    redirect: see write_base)."""
    b = city()
    b.subjects.append(org("O-merged-away", "商丘市已合并有限公司"))
    b.listings.append(NAMING)
    b.records = records_for(b)
    b.docs = [
        ("review", "pair-1", {"a": "O-debtor", "b": "O-holdco", "score": 0.8}),
        ("loads", "registry.csv", {"rows": 12}),
    ]
    return b


NAMING = listing(
    "L-naming", "tax_violations", "O-debtor", "2023-05-01", parties={"finance_officer": "P-cfo"}
)


def write_base(store: Neo4jStore) -> None:
    store.write(base())
    store.merge_subjects("O-holdco", "O-merged-away")  # leaves a Redirect


def big(fail_late: bool = False) -> Batch:
    """A batch of a few hundred items, dozens of parts, that also changes what
    base() wrote, early in each kind so that the change is in a part that
    commits before a late failure: a subject gains a key, a merged-away id is
    taken again (its redirect goes), relations and listings gain records, a
    listing names another party, a record and a doc are rewritten, one
    relation, one listing and one doc are deleted."""
    b = many(40)
    old = city()
    changed = replace(org("O-debtor", "商丘市甲建材有限公司"), keys=["reg_no:411403000012345"])
    b.subjects = [changed, org("O-merged-away", "商丘市已合并有限公司"), *b.subjects]
    b.relations = [replace(old.relations[0], record_ids=["rec:new"]), *b.relations]
    b.relations.append(rel("officer", "P-000001", "O-debtor", "2020-01-01", title="监事"))
    b.listings = [
        replace(old.listings[0], record_ids=["later.csv:9"]),
        replace(NAMING, props={"parties": {"finance_officer": "P-000001"}}),
        *b.listings,
    ]
    b.records = [replace(records_for(old)[0], digest="changed", row=99), *records_for(b)]
    b.delete_relations = [old.relations[1].id]
    b.delete_listings = [old.listings[1].id]
    b.docs = [
        ("review", "pair-1", {"a": "O-debtor", "b": "O-holdco", "score": 0.9}),
        ("loads", "registry.csv", None),
    ]
    b.docs += [("review", f"new-{i}", {"i": i}) for i in range(20)]
    if fail_late:
        # Records come after subjects, relations and listings: by the time
        # this one fails, every part before it has committed.
        b.records.append(
            SourceRecord(
                id="bad:1",
                feed="x",
                file="x.csv",
                row=1,
                loaded_at="2024-01-01T00:00:00+00:00",
                digest="x",
                mentions=[Mention("S-nobody", "subject")],
            )
        )
    return b


@pytest.fixture
def store() -> Iterator[Neo4jStore]:
    cleared = open_neo4j()
    cleared.clear()
    cleared.close()
    s = parted()
    try:
        yield s
    finally:
        s.close()


def test_a_parted_write_stores_what_one_transaction_stores(store: Neo4jStore) -> None:
    write_base(store)
    assert sum(1 for _ in big().subjects) > CHUNK
    store.write(big())  # dozens of transactions of CHUNK items
    parted_result = dump(store)
    assert not any('"Load' in n for n in parted_result["nodes"])  # marker and images gone
    keys = store.get_subjects(["O-debtor"])["O-debtor"].keys
    assert "reg_no:411403000012345" in keys and any(k.startswith("uscc:") for k in keys)

    store.clear()
    whole = Neo4jStore(NEO4J_URI, password=NEO4J_PASSWORD, timeout_s=120.0, write_chunk=10**6)
    try:
        write_base(whole)
        whole.write(big())
        assert dump(whole) == parted_result
    finally:
        whole.close()


def test_a_parted_write_that_fails_half_way_leaves_the_database_as_it_was(
    store: Neo4jStore,
) -> None:
    write_base(store)
    before = dump(store)
    with pytest.raises(ValueError, match="S-nobody"):
        store.write(big(fail_late=True))
    assert dump(store) == before
    # and the store takes the next write at once (no marker left to wait for)
    store.write(Batch(subjects=[org("O-after", "商丘市之后有限公司")]))
    assert store.get_subjects(["O-after"])


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[1])
    from graph.store.neo4j import Neo4jStore
    from graph.store.neo4j import _doc_uid
    from graph.store.neo4j_loads import parts
    from tests.store.test_neo4j_parted_writes import CHUNK, big, parted

    real = Neo4jStore._part_work
    last = len(list(parts(big(), CHUNK, _doc_uid)))

    def dying(self, token, seq, part):
        if seq == last:  # every part but the last has committed
            os.kill(os.getpid(), signal.SIGKILL)  # no rollback, no cleanup
        return real(self, token, seq, part)

    Neo4jStore._part_work = dying
    parted().write(big())
    """
)


def test_a_writer_killed_half_way_is_undone_by_the_next_store_to_open(
    store: Neo4jStore,
) -> None:
    write_base(store)
    before = dump(store)
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(REPO)],
        cwd=REPO,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    half = dump(store)
    assert half != before  # all parts but one committed; their images and the marker stand
    assert any('"Load"' in n for n in half["nodes"])

    # While the marker is fresh, a write waits for its writer, then says the store is busy.
    waiting = parted(write_timeout_s=1.0)
    try:
        with pytest.raises(StoreBusy):
            waiting.write(Batch(subjects=[org("O-after", "商丘市之后有限公司")]))
    finally:
        waiting.close()
    assert dump(store) == half

    # A store opened after the writer's silence outlasts load_stale_s undoes it.
    recovering = parted(load_stale_s=0.0)
    try:
        recovering.ping()
        recovering.get_subjects(["O-debtor"])  # first use opens the schema, and recovers
        assert dump(recovering) == before
        recovering.write(Batch(subjects=[org("O-after", "商丘市之后有限公司")]))
    finally:
        recovering.close()
