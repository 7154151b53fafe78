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
    # Bodies that are not uploads (POST /checks, /judgements, /repairs): a batch
    # of max_batch keys fits many times over; every accepted one is audited whole.
    max_json_bytes: int = Field(default=1024 * 1024, ge=1)
    max_cell_chars: int = Field(default=32_767, ge=1)
    query_timeout_s: float = Field(default=10.0, gt=0)
    # Neo4j: a batch above this many items (subjects, relations, records, ...)
    # is written as several transactions, all or nothing by undo
    # (graph/store/neo4j_loads.py), so no file needs one giant transaction.
    neo4j_write_chunk: int = Field(default=5000, ge=1)

    # XLSX files are checked before any cell is read (loaders.xlsx): the cells
    # of the sheet's grid (rows x columns from A1, declared or actual), the
    # bytes all parts unpack to, and each large part's compression ratio.
    # Then the sheet is parsed in a child process whose address space is capped.
    max_sheet_cells: int = Field(default=20_000_000, ge=1)
    max_xlsx_unpacked_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    max_xlsx_ratio: float = Field(default=100.0, gt=1)
    xlsx_memory_mb: int = Field(default=3072, ge=256)

    # Expensive reads (quality, neighbourhoods, paths, checks, changes,
    # measures, name search, review) run on this many threads; this many more
    # may wait; beyond that a request gets 429 with Retry-After.
    heavy_workers: int = Field(default=2, ge=1)
    heavy_queue: int = Field(default=16, ge=0)
    # Full ID numbers a masked role's key may check per hour without a match
    # (POST /checks): bounds guessing a masked number's birth date.
    id_miss_quota_per_hour: int = Field(default=2000, ge=0)

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
