"""The graph model: subjects, relations, listings and the records behind them.

The vocabulary (subject types, key kinds, relation types, listing kinds) is
declared in ``model.yaml``; the classes here are the shapes both stores read
and write. Dates are ISO strings (``YYYY-MM-DD``) so that both stores compare
them the same way and Neo4j needs no temporal conversion.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ORGANISATION = "organisation"
PERSON = "person"


@dataclass(frozen=True)
class ModelSpec:
    subject_types: dict[str, dict[str, Any]]
    key_kinds: dict[str, dict[str, Any]]
    relation_types: dict[str, dict[str, Any]]
    listing_kinds: dict[str, dict[str, Any]]

    def full_keys(self, subject_type: str) -> list[str]:
        return list(self.subject_types[subject_type]["full_keys"])


@lru_cache(maxsize=1)
def model() -> ModelSpec:
    text = (Path(__file__).parent / "model.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return ModelSpec(
        subject_types=data["subject_types"],
        key_kinds=data["key_kinds"],
        relation_types=data["relation_types"],
        listing_kinds=data["listing_kinds"],
    )


def stable_id(prefix: str, *parts: object) -> str:
    """A deterministic id, so that reloading the same input yields the same ids."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:16]}"


def subject_id_for_key(key: str) -> str:
    return stable_id("S", key)


def subject_id_for_record(record_id: str, role: str) -> str:
    return stable_id("S", "record", record_id, role)


@dataclass(slots=True)
class Subject:
    id: str
    type: str
    name: str = ""
    names: list[str] = field(default_factory=list)
    # names normalised for matching and search (graph.names.normalise_name)
    norm_names: list[str] = field(default_factory=list)
    # "kind:value" strings, e.g. "uscc:91411403MA4ABCDE1X"
    keys: list[str] = field(default_factory=list)
    status: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    def key_values(self, kind: str) -> list[str]:
        prefix = kind + ":"
        return [k[len(prefix) :] for k in self.keys if k.startswith(prefix)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Relation:
    id: str
    type: str
    source: str
    target: str
    valid_from: str | None = None
    valid_to: str | None = None
    props: dict[str, Any] = field(default_factory=dict)
    record_ids: list[str] = field(default_factory=list)

    def active(self, as_of: str | None) -> bool:
        return is_active(self.valid_from, self.valid_to, as_of)

    def other(self, subject_id: str) -> str:
        return self.target if self.source == subject_id else self.source

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Listing:
    """A listing, penalty, licence, commendation or repair decision about a subject."""

    id: str
    kind: str
    subject_id: str
    number: str | None = None
    department: str | None = None
    start: str | None = None
    end: str | None = None
    props: dict[str, Any] = field(default_factory=dict)
    record_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Mention:
    """A subject named by a record, in a role, and how the record was matched to it."""

    subject_id: str
    role: str
    match: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SourceRecord:
    id: str
    feed: str
    file: str
    row: int
    loaded_at: str
    digest: str
    values: dict[str, Any] = field(default_factory=dict)
    cleaned: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_active(valid_from: str | None, valid_to: str | None, as_of: str | None) -> bool:
    """Whether a period holds on ``as_of``; ``valid_to`` is the first day it no longer holds."""
    if as_of is None:
        return True
    if valid_from is not None and valid_from > as_of:
        return False
    return valid_to is None or as_of < valid_to
