"""Feed mappings: one YAML file per feed kind (``loaders/feeds/*.yaml``).

A mapping names the columns a feed may have (with their synonyms), their value
types, the parties a row names, and the relations and listing a row asserts.
This module reads and checks mappings and matches a file's header to one;
``loaders.pipeline`` interprets them row by row.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from graph.errors import ConfigError, FeedError
from graph.model import model
from loaders.readers import normalise_header

COLUMN_TYPES = {"name", "names", "text", "id", "date", "amount", "percent"}


@dataclass(frozen=True)
class Column:
    field: str
    headers: tuple[str, ...]
    type: str
    required: bool = False
    kind: str | None = None  # identifier kind hint for type "id"
    # synonyms of a text column's values (失信严重程度: 严重失信 -> 严重)
    values: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class PartySpec:
    role: str
    name: str | None
    keys: tuple[str, ...]
    # fixed "organisation"/"person", or inferred from a column and the identifier
    type: str | None
    type_column: str | None = None
    id_type_column: str | None = None
    former_names: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    primary: bool = False
    # a party named for the record's sake only: made a subject when it has a full key
    keyed_only: bool = False
    # read only when the row's subject is of this type (an organisation's row
    # names its legal representative in columns a person's row uses for itself)
    if_subject: str | None = None


@dataclass(frozen=True)
class RelationSpec:
    type: str | None
    type_column: str | None
    type_contains: dict[str, str]
    type_default: str | None
    source: str
    target: str
    valid_from: str | None
    valid_to: str | None
    props: dict[str, str]
    # A row of a snapshot feed (registry, officers, shareholders) shows what held
    # on the file date; ``since`` names the column saying since when (核准日期).
    snapshot: bool = False
    since: str | None = None
    # the end column gives the last day that holds (担保到期日期), not the first
    # day that no longer does
    end_inclusive: bool = False


@dataclass(frozen=True)
class ListingSpec:
    kind: str
    subject: str
    number: str | None
    start: tuple[str, ...]
    end: str | None
    department: str | None
    props: dict[str, str]
    parties: tuple[str, ...] = ()
    end_inclusive: bool = False


@dataclass(frozen=True)
class FeedMapping:
    kind: str
    label: str
    department: str | None
    priority: int
    columns: dict[str, Column]
    parties: dict[str, PartySpec]
    relations: tuple[RelationSpec, ...]
    listing: ListingSpec | None
    source: str
    # the column giving the date a snapshot row was extracted (数据日期)
    snapshot_date: str | None = None

    def match_header(self, header: list[str], file: str) -> dict[str, int]:
        """field -> column index; refuses the file when a required column is missing."""
        index: dict[str, int] = {}
        normalised = [normalise_header(h) for h in header]
        for col in self.columns.values():
            for synonym in col.headers:
                want = normalise_header(synonym)
                if want in normalised:
                    index[col.field] = normalised.index(want)
                    break
        missing = [
            c.headers[0] for c in self.columns.values() if c.required and c.field not in index
        ]
        if missing:
            raise FeedError(
                f"{file}: the header does not fit the {self.kind} feed: "
                f"missing {', '.join(missing)}",
                file=file,
                kind=self.kind,
                reason="missing_columns",
                missing=missing,
                header=header,
            )
        return index


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _parse(data: dict[str, Any], source: str) -> FeedMapping:
    def fail(msg: str) -> ConfigError:
        return ConfigError(f"feed mapping {source}: {msg}", file=source)

    spec = model()
    columns: dict[str, Column] = {}
    for name, col in (data.get("columns") or {}).items():
        ctype = col.get("type", "text")
        if ctype not in COLUMN_TYPES:
            raise fail(f"column {name}: unknown type {ctype}")
        if ctype == "id" and col.get("kind") not in (None, *spec.key_kinds):
            raise fail(f"column {name}: unknown identifier kind {col.get('kind')}")
        columns[name] = Column(
            field=name,
            headers=tuple(col["headers"]),
            type=ctype,
            required=bool(col.get("required", False)),
            kind=col.get("kind"),
            values={str(k): str(v) for k, v in (col.get("values") or {}).items()},
        )

    def column(ref: str | None, where: str) -> str | None:
        if ref is not None and ref not in columns:
            raise fail(f"{where}: unknown column {ref}")
        return ref

    parties: dict[str, PartySpec] = {}
    for role, p in (data.get("parties") or {}).items():
        ptype = p.get("type")
        type_column = id_type_column = None
        if isinstance(ptype, dict):
            type_column = column(ptype.get("column"), f"party {role}")
            id_type_column = column(ptype.get("id_column"), f"party {role}")
            ptype = None
        elif ptype not in spec.subject_types:
            raise fail(f"party {role}: unknown subject type {ptype}")
        parties[role] = PartySpec(
            role=role,
            name=column(p.get("name"), f"party {role}"),
            keys=tuple(column(k, f"party {role}") or k for k in _as_tuple(p.get("keys"))),
            type=ptype,
            type_column=type_column,
            id_type_column=id_type_column,
            former_names=column(p.get("former_names"), f"party {role}"),
            attrs={k: column(v, f"party {role}") or v for k, v in (p.get("attrs") or {}).items()},
            primary=bool(p.get("primary", False)),
            keyed_only=bool(p.get("keyed_only", False)),
            if_subject=p.get("if_subject"),
        )

    relations: list[RelationSpec] = []
    for i, r in enumerate(data.get("relations") or []):
        where = f"relation {i + 1}"
        type_from = r.get("type_from") or {}
        rtype = r.get("type")
        for t in [rtype, *(type_from.get("contains") or {}).values(), type_from.get("default")]:
            if t is not None and t not in spec.relation_types:
                raise fail(f"{where}: unknown relation type {t}")
        for end in (r["from"], r["to"]):
            if end not in parties:
                raise fail(f"{where}: unknown party {end}")
        relations.append(
            RelationSpec(
                type=rtype,
                type_column=column(type_from.get("column"), where),
                type_contains=dict(type_from.get("contains") or {}),
                type_default=type_from.get("default"),
                source=r["from"],
                target=r["to"],
                valid_from=column(r.get("valid_from"), where),
                valid_to=column(r.get("valid_to"), where),
                props={k: column(v, where) or v for k, v in (r.get("props") or {}).items()},
                snapshot=bool(r.get("snapshot", False)),
                since=column(r.get("since"), where),
                end_inclusive=bool(r.get("end_inclusive", False)),
            )
        )

    listing = None
    if data.get("listing"):
        lst = data["listing"]
        if lst["kind"] not in spec.listing_kinds:
            raise fail(f"listing: unknown kind {lst['kind']}")
        if lst["subject"] not in parties:
            raise fail(f"listing: unknown party {lst['subject']}")
        listing = ListingSpec(
            kind=lst["kind"],
            subject=lst["subject"],
            number=column(lst.get("number"), "listing"),
            start=tuple(column(c, "listing") or c for c in _as_tuple(lst.get("start"))),
            end=column(lst.get("end"), "listing"),
            department=column(lst.get("department"), "listing"),
            props={k: column(v, "listing") or v for k, v in (lst.get("props") or {}).items()},
            parties=tuple(_as_tuple(lst.get("parties"))),
            end_inclusive=bool(lst.get("end_inclusive", False)),
        )
    return FeedMapping(
        kind=data["kind"],
        label=data.get("label", data["kind"]),
        department=data.get("department"),
        priority=int(data.get("priority", 50)),
        columns=columns,
        parties=parties,
        relations=tuple(relations),
        listing=listing,
        source=source,
        snapshot_date=column(data.get("snapshot_date"), "snapshot_date"),
    )


FEEDS_DIR = Path(__file__).parent / "feeds"


@lru_cache(maxsize=1)
def mappings() -> dict[str, FeedMapping]:
    """The shipped mappings, by feed kind."""
    out: dict[str, FeedMapping] = {}
    for entry in sorted(FEEDS_DIR.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
            m = _parse(data, f"loaders/feeds/{entry.name}")
            out[m.kind] = m
    return out


def kind_for_file(name: str) -> str | None:
    """The longest feed kind that starts the file name (admin_penalties_2024.csv)."""
    base = Path(name).name.lower()
    fitting = [k for k in mappings() if base.startswith(k)]
    return max(fitting, key=len) if fitting else None
