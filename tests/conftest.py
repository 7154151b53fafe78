"""Shared fixtures. ``store`` runs a test against both stores: the embedded one
and the real Neo4j server that ``make test`` starts (scripts/neo4j.sh). If that
server cannot be reached the Neo4j half fails; it is never skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.store.base import GraphStore
from graph.store.embedded import EmbeddedStore
from tests.stores import open_neo4j


@pytest.fixture(params=["embedded", "neo4j"])
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def store(store_kind: str, tmp_path: Path) -> Iterator[GraphStore]:
    if store_kind == "embedded":
        s: GraphStore = EmbeddedStore(tmp_path / "store")
    else:
        s = open_neo4j()
        s.clear()
    try:
        yield s
    finally:
        s.close()
