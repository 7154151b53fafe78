"""The one settings class. Every knob is an environment variable ``CREDITLINK_*``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITLINK_", extra="ignore")

    # "embedded" (networkx persisted under data_dir) or a bolt://, neo4j://,
    # bolt+s:// or neo4j+s:// URI of a Neo4j 5 server or cluster.
    store: str = "embedded"
    data_dir: Path = Path(".creditlink")
    neo4j_user: str = "neo4j"
    neo4j_password: str = "creditlink-dev"
    neo4j_database: str = "neo4j"
    # Port of the Neo4j that scripts/neo4j.sh starts for development and tests.
    neo4j_bolt_port: int = 7687
    host: str = "127.0.0.1"
    port: int = 8000

    # Limits (issue: access and reliability).
    max_depth: int = Field(default=4, ge=1, le=10)
    max_nodes: int = Field(default=2000, ge=1)
    max_page_size: int = Field(default=200, ge=1)
    max_batch: int = Field(default=1000, ge=1)
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    max_cell_chars: int = Field(default=32_767, ge=1)
    query_timeout_s: float = Field(default=10.0, gt=0)

    # Resolution thresholds: at or above ``merge`` a fuzzy match merges, at or
    # above ``review`` it goes to a reviewer, below that the record is a new subject.
    match_merge_threshold: float = 0.92
    match_review_threshold: float = 0.75
    # Cumulative share through the ownership chain that makes an inferred controller.
    control_threshold: float = 0.5

    @property
    def is_embedded(self) -> bool:
        return self.store == "embedded"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
