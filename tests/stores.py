"""The Neo4j server the tests share (the one ``make test`` starts with
scripts/neo4j.sh), and an embedded store let go of as a killed process would."""

from __future__ import annotations

import os

import pytest

from graph.store.base import GraphStore
from graph.store.embedded import EmbeddedStore

NEO4J_URI = os.environ.get(
    "CREDITLINK_TEST_NEO4J_URI",
    f"bolt://127.0.0.1:{os.environ.get('CREDITLINK_NEO4J_BOLT_PORT', '7687')}",
)
NEO4J_PASSWORD = os.environ.get("CREDITLINK_NEO4J_PASSWORD", "creditlink-dev")


def open_neo4j() -> GraphStore:
    from graph.store.neo4j import Neo4jStore

    try:
        # These tests check answers, not time limits (tests of the limits open
        # their own store): on a loaded CI machine a read may take longer than
        # the 10 s an investigator gets, and that is no wrong answer.
        store = Neo4jStore(NEO4J_URI, user="neo4j", password=NEO4J_PASSWORD, timeout_s=120.0)
        store.ping()
    except Exception as exc:  # the point is to fail loudly, whatever the cause
        pytest.fail(
            f"Neo4j is not reachable at {NEO4J_URI} ({exc}); start it with "
            "`make neo4j-start` (make test does this)",
            pytrace=False,
        )
    return store


def crash(store: EmbeddedStore) -> None:
    """Let go of an embedded store's files as a killed process would: the writer
    lock is dropped by the kernel, nothing is compacted, and SQLite's open
    transaction (if any) is never committed."""
    disk = store._disk
    if disk.journal is not None:
        disk.journal.close()
        disk.journal = None
    disk.records.db.close()
    disk.closed = True
    if disk.writer is not None:
        disk.writer.release()
