"""The graph model: subjects, relations, listings and the records behind them.

The vocabulary (subject types, key kinds, relation types, listing kinds) is
declared in ``model.yaml``; the classes here are the shapes both stores read
and write. Dates are ISO strings (``YYYY-MM-DD``) so that both stores compare
them the same way and Neo4j needs no temporal conversion.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from graph.errors import ConfigError

ORGANISATION = "organisation"
PERSON = "person"


MODEL_FILE = Path(__file__).parent / "model.yaml"

# What analysis and control read a relation type for. A new relation type
# takes part in an analysis by carrying its trait, not by a code change.
TRAITS = frozenset(
    {
        "person_role",  # a person's post at an organisation (shared people: hidden links)
        "control",  # declared control of the target (实际控制人)
        "ownership",  # holds a share of the target (control, shareholding chains)
        "guarantee",  # the source guarantees the target's debt (guarantee circles)
        "discloses",  # explains why two organisations share people or an address
    }
)


@dataclass(frozen=True)
class KeyKind:
    id: str
    label: str
    standard: str
    # an older key that identifies a subject of this kind through it (注册号 -> USCC)
    bridge_to: str | None = None
    # a partial key (a masked ID number) names many subjects, never one
    partial: bool = False


@dataclass(frozen=True)
class SubjectType:
    id: str
    label: str
    # in order of strength; only full keys identify a subject on their own
    keys: tuple[str, ...]
    full_keys: tuple[str, ...]


@dataclass(frozen=True)
class RelationType:
    id: str
    label: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    properties: tuple[str, ...]
    # one party at a time (the legal representative): graph/evidence/roles.py
    single_holder: bool = False
    traits: frozenset[str] = frozenset()
    # properties a record asserting the relation implies (a declared actual controller)
    record_props: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ListingKind:
    id: str
    label: str
    punitive: bool
    # the column that carries its document or case number, if the kind has one
    number: str | None = None


@dataclass(frozen=True)
class Model:
    """``model.yaml`` as typed objects, checked for consistency when read."""

    subject_types: Mapping[str, SubjectType]
    key_kinds: Mapping[str, KeyKind]
    relation_types: Mapping[str, RelationType]
    listing_kinds: Mapping[str, ListingKind]

    def full_keys(self, subject_type: str) -> tuple[str, ...]:
        return self.subject_types[subject_type].full_keys

    def subject_type_of_key(self, kind: str) -> str | None:
        """The subject type a key kind belongs to (uscc -> organisation)."""
        return next((t.id for t in self.subject_types.values() if kind in t.keys), None)

    def with_trait(self, trait: str) -> tuple[str, ...]:
        """Relation types carrying a trait, in file order."""
        return tuple(r.id for r in self.relation_types.values() if trait in r.traits)

    def relation_properties(self) -> tuple[str, ...]:
        """Every property some relation type declares, in file order, once."""
        return tuple(dict.fromkeys(p for r in self.relation_types.values() for p in r.properties))


def _fail(where: str, message: str, **details: Any) -> ConfigError:
    return ConfigError(f"model.yaml: {where}: {message}", where=where, **details)


def _mapping(
    value: Any, allowed: set[str], where: str, required: AbstractSet[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "expected a mapping", value=value)
    unknown = set(value) - allowed
    if unknown:
        raise _fail(where, f"unknown field(s) {sorted(map(str, unknown))}", known=sorted(allowed))
    missing = required - set(value)
    if missing:
        raise _fail(where, f"missing field(s) {sorted(missing)}")
    return value


def _names(value: Any, known: Mapping[str, Any], where: str, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, "expected a list of names", value=value)
    for v in value:
        if v not in known:
            raise _fail(where, f"unknown {what} {v!r}", value=v, known=sorted(known))
    return tuple(value)


def parse_model(data: Any) -> Model:
    """Validate a parsed model document; ConfigError names the first problem."""
    top = _mapping(
        data,
        {"subject_types", "key_kinds", "relation_types", "listing_kinds"},
        "top",
        {"subject_types", "key_kinds", "relation_types", "listing_kinds"},
    )
    keys: dict[str, KeyKind] = {}
    for kid, k in top["key_kinds"].items():
        fields = {"label", "standard", "bridge_to", "partial"}
        k = _mapping(k, fields, f"key_kinds.{kid}", {"label", "standard"})
        partial = bool(k.get("partial", False))
        keys[kid] = KeyKind(kid, str(k["label"]), str(k["standard"]), k.get("bridge_to"), partial)
    for k in keys.values():
        if k.bridge_to is not None and k.bridge_to not in keys:
            raise _fail(f"key_kinds.{k.id}.bridge_to", f"unknown key kind {k.bridge_to!r}")
    subjects: dict[str, SubjectType] = {}
    for sid, t in top["subject_types"].items():
        where = f"subject_types.{sid}"
        t = _mapping(t, {"label", "keys", "full_keys"}, where, {"label", "keys", "full_keys"})
        own = _names(t["keys"], keys, f"{where}.keys", "key kind")
        full = _names(t["full_keys"], dict.fromkeys(own), f"{where}.full_keys", "key of this type")
        subjects[sid] = SubjectType(sid, str(t["label"]), own, full)
    relations: dict[str, RelationType] = {}
    for rid, r in top["relation_types"].items():
        where = f"relation_types.{rid}"
        r = _mapping(
            r,
            {"label", "from", "to", "properties", "single_holder", "traits", "record_props"},
            where,
            {"label", "from", "to", "properties"},
        )
        traits = _names(r.get("traits") or [], dict.fromkeys(TRAITS), f"{where}.traits", "trait")
        record_props = r.get("record_props") or {}
        declared = r["properties"] or []
        props = _names(declared, dict.fromkeys(declared), f"{where}.properties", "property")
        for name in record_props:
            if name not in props:
                raise _fail(f"{where}.record_props", f"{name!r} is not one of its properties")
        relations[rid] = RelationType(
            rid,
            str(r["label"]),
            _names(r["from"], subjects, f"{where}.from", "subject type"),
            _names(r["to"], subjects, f"{where}.to", "subject type"),
            props,
            bool(r.get("single_holder", False)),
            frozenset(traits),
            {str(k): str(v) for k, v in record_props.items()},
        )
    listings: dict[str, ListingKind] = {}
    for lid, x in top["listing_kinds"].items():
        where = f"listing_kinds.{lid}"
        x = _mapping(x, {"label", "punitive", "number"}, where, {"label", "punitive"})
        if not isinstance(x["punitive"], bool):
            raise _fail(f"{where}.punitive", "must be true or false", value=x["punitive"])
        listings[lid] = ListingKind(lid, str(x["label"]), x["punitive"], x.get("number"))
    return Model(
        MappingProxyType(subjects),
        MappingProxyType(keys),
        MappingProxyType(relations),
        MappingProxyType(listings),
    )


@lru_cache(maxsize=1)
def model() -> Model:
    return parse_model(yaml.safe_load(MODEL_FILE.read_text(encoding="utf-8")))


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
