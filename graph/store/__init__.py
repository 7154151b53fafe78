"""Store factory: the settings decide which GraphStore the service opens."""

from __future__ import annotations

from graph.settings import Settings
from graph.store.base import Batch, GraphStore

__all__ = ["Batch", "GraphStore", "open_store"]


def open_store(settings: Settings, *, read_only: bool = False) -> GraphStore:
    """The store the settings name. ``read_only``: a process that only reads
    (reports, notebooks) and must not take the embedded store's writer lock, so
    that it runs beside ``creditlink serve`` and sees what the server commits.
    Neo4j serves many clients at once and ignores it."""
    if settings.is_embedded:
        from graph.store.embedded import EmbeddedStore

        return EmbeddedStore(settings.data_dir / "store", read_only=read_only)
    from graph.store.neo4j import Neo4jStore

    return Neo4jStore(
        settings.store,
        user=settings.neo4j_user,
        password=settings.neo4j_password,
        database=settings.neo4j_database,
        timeout_s=settings.query_timeout_s,
        write_chunk=settings.neo4j_write_chunk,
    )
