"""Store factory: the settings decide which GraphStore the service opens."""

from __future__ import annotations

from graph.settings import Settings
from graph.store.base import Batch, GraphStore

__all__ = ["Batch", "GraphStore", "open_store"]


def open_store(settings: Settings) -> GraphStore:
    if settings.is_embedded:
        from graph.store.embedded import EmbeddedStore

        return EmbeddedStore(settings.data_dir / "store")
    from graph.store.neo4j import Neo4jStore

    return Neo4jStore(
        settings.store,
        user=settings.neo4j_user,
        password=settings.neo4j_password,
        database=settings.neo4j_database,
        timeout_s=settings.query_timeout_s,
    )
