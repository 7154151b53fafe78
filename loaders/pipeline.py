"""Loading one feed file: read → map → clean → resolve → one transaction.

Every data row ends in exactly one place: loaded (as a record, its parties
resolved to subjects, possibly with a review candidate) or quarantined with
file, row, column and reason. A file is one transaction: the batch is written
whole or not at all. Record ids are ``<kind>:<file name>:<row>``; a row whose
content did not change is left alone, so loading a file twice changes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from graph.docs import CHANGES, LOADS, PENDING, QUARANTINE, REVIEW, pair_id, record_id
from graph.errors import FeedError
from graph.evidence.identity import AMBIGUOUS_BRIDGE, MASKED_ID_AGREES, NAME_ONLY
from graph.evidence.roles import display_interval
from graph.identifiers import (
    Identifier,
    InvalidIdentifier,
    id_birth_date,
    id_sex,
    is_placeholder,
    parse_identifier,
)
from graph.model import (
    ORGANISATION,
    PERSON,
    Listing,
    Mention,
    Relation,
    SourceRecord,
    Subject,
    model,
    stable_id,
)
from graph.names import is_branch_name, looks_like_organisation, normalise_name
from graph.resolve.party import Party, Resolution
from graph.resolve.resolver import Resolver
from graph.settings import Settings
from graph.store.base import Batch, GraphStore, apply_subject_upsert
from loaders.clean import is_empty, parse_amount, parse_date_cell, parse_percent
from loaders.mapping import (
    Column,
    FeedMapping,
    PartySpec,
    RelationSpec,
    kind_for_file,
    mappings,
)
from loaders.readers import Table, read_table
from loaders.xlsx import XlsxLimits

_process_lock = threading.Lock()
CITY_TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class LoadReport:
    file: str
    kind: str
    rows_read: int = 0
    loaded: int = 0
    quarantined: int = 0
    unchanged: int = 0
    new_versions: int = 0
    warnings: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    warning_reasons: dict[str, int] = field(default_factory=dict)
    matched: dict[str, int] = field(default_factory=dict)
    subjects_created: int = 0
    review: int = 0
    unresolved: int = 0
    encoding: str | None = None
    format: str | None = None
    # the feed's name and department, so that reports need no feed mapping
    label: str | None = None
    department: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoadProgress:
    """Where a load stands, told to the ``progress`` callback of ``FileLoader.load``.

    ``stage`` goes ``reading`` (the file is parsed; the row count is not known
    yet), ``checking`` (rows compared with what is stored, and cleaned),
    ``resolving`` (parties matched to subjects), ``writing`` (one transaction)
    and ``done``. ``rows_done`` counts the rows finished with, whatever became
    of them, and only grows: an unchanged row is finished while checking, the
    others once resolved; at ``done`` it equals the report's ``rows_read``.
    """

    file: str
    kind: str
    stage: str
    rows_done: int = 0
    rows_total: int | None = None


ProgressCallback = Callable[[LoadProgress], None]

# Rows between two reports within a stage: often enough for a display, rarely
# enough that a city's load does not notice the calls.
_PROGRESS_EVERY = 256


@contextlib.contextmanager
def load_lock(data_dir: Path) -> Iterator[None]:
    """Loads are serialised: one at a time in this process and across processes."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with _process_lock, (data_dir / "load.lock").open("a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file loads.

    A load allocates millions of small objects that live on (records, subjects,
    index entries); each allocation burst made the collector walk the whole
    heap, store included, which cost about as much as the load itself. Loads
    create next to no reference cycles, and plain reference counting still
    frees everything else; collection resumes when the file is done. Loads are
    serialised (``load_lock``), so two loads never race on the switch.

    With collection off, everything the load allocated is still in the young
    generation, so the first collection after it walked all of it (~50 ms a
    file at 5k enterprises, ~8 % of a city load). Freezing and unfreezing
    moves those objects straight to the oldest generation instead, where the
    next full collection looks at them, as it would have after they had
    survived two young collections.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # Only when nothing is frozen: unfreeze would release what a
            # caller froze on purpose (before a fork, say).
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _RowError(Exception):
    def __init__(self, column: str, reason: str, value: object) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason
        self.value = value


@dataclass
class _Row:
    number: int
    values: dict[str, object]
    fields: dict[str, Any]
    identifiers: dict[str, Identifier]
    warnings: list[str]


# json.dumps builds a new encoder per call when given options; one shared
# encoder with the same options writes the same bytes, so digests of rows
# stored by earlier versions still match.
_DIGEST_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def _json_cells(cells: list[object]) -> list[object]:
    # Text and empty cells, nearly all of them, are JSON as they are.
    return [c if c is None or type(c) is str else _jsonable(c) for c in cells]


def _row_digest(json_cells: list[object]) -> str:
    return hashlib.sha1(_DIGEST_ENCODER.encode(json_cells).encode()).hexdigest()


@dataclass(frozen=True)
class _Plan:
    """A file's header matched to its mapping, worked out once per file."""

    header: list[str]
    # (field, position in the row or None, header shown in errors, column)
    columns: list[tuple[str, int | None, str, Column]]


def _plan(mapping: FeedMapping, table: Table, index: dict[str, int]) -> _Plan:
    columns = [
        (name, index.get(name), table.header[index[name]] if name in index else col.headers[0], col)
        for name, col in mapping.columns.items()
    ]
    return _Plan(list(table.header), columns)


def _clean_row(plan: _Plan, number: int, cells: list[object], json_cells: list[object]) -> _Row:
    header = plan.header
    width = len(header)
    ncells = len(cells)
    if ncells >= width:
        values = dict(zip(header, json_cells, strict=False))
    else:
        values = {h: json_cells[i] if i < ncells else None for i, h in enumerate(header)}
    warnings: list[str] = []
    if ncells > width and any(not is_empty(c) for c in cells[width:]):
        warnings.append("extra_cells")
        values["_extra"] = json_cells[width:]
    fields: dict[str, Any] = {}
    identifiers: dict[str, Identifier] = {}
    for name, pos, column_header, col in plan.columns:
        raw = cells[pos] if pos is not None and pos < ncells else None
        if raw is None or is_empty(raw) or (col.type == "id" and is_placeholder(str(raw))):
            if col.required:
                raise _RowError(column_header, "required_value_missing", raw)
            continue
        try:
            if col.type in ("name", "text"):
                text = str(raw).strip()
                fields[name] = col.values.get(text, text)
            elif col.type == "names":
                parts = str(raw).replace("；", ";").replace("，", ";").replace("、", ";")
                fields[name] = [p.strip() for p in parts.split(";") if p.strip()]
            elif col.type == "date":
                d, placeholder = parse_date_cell(raw)
                if placeholder:
                    # 9999-12-31, 1900-01-01, 0000-00-00: no date, said so
                    warnings.append(f"{name}:placeholder_date")
                    if col.required:
                        raise _RowError(
                            column_header, "required_value_missing: placeholder date", raw
                        )
                    continue
                fields[name] = d.isoformat() if d else None
            elif col.type == "amount":
                fields[name] = parse_amount(raw)
            elif col.type == "percent":
                fields[name] = parse_percent(raw)
            elif col.type == "id":
                ident = parse_identifier(str(raw), hint=col.kind)
                identifiers[name] = ident
                fields[name] = ident.value
                warnings.extend(f"{name}:{w}" for w in ident.warnings)
        except InvalidIdentifier as exc:
            # A bad code is a data-quality finding: keep the row, find the
            # subject by its other keys or its name, and report the code.
            warnings.append(f"{name}:invalid_{col.kind or 'id'}:{exc.reason}")
        except ValueError as exc:
            if col.type == "date" or col.required:
                raise _RowError(column_header, f"bad_{col.type}: {exc}", raw) from exc
            warnings.append(f"{name}:bad_{col.type}")
    return _Row(number, values, fields, identifiers, warnings)


def _lookup_keys(row: _Row) -> Iterator[str]:
    """Every key the resolver may look up for the row's parties (a superset)."""
    for ident in row.identifiers.values():
        yield from ident.store_keys


_PERSON_WORDS = ("自然人", "个人", "身份证", "居民")
_ORG_WORDS = ("法人", "企业", "组织", "公司", "个体", "统一社会信用代码", "营业执照", "机构")


def _type_from_words(row: _Row, col: str | None) -> str | None:
    text = str(row.fields.get(col) or "") if col else ""
    if any(w in text for w in _PERSON_WORDS):
        return PERSON
    if any(w in text for w in _ORG_WORDS):
        return ORGANISATION
    return None


def _party_type(
    spec: PartySpec, row: _Row, idents: list[Identifier], name: str | None
) -> str | None:
    if spec.type is not None:
        return spec.type
    # The declared category (行政相对人类别) comes before the identifiers: a
    # penalty on an enterprise without its codes still carries the legal
    # representative's ID number in 证件号码, which must not make it a person.
    declared = _type_from_words(row, spec.type_column)
    if declared is not None:
        return declared
    of_key = {model().subject_type_of_key(i.kind) for i in idents}
    if ORGANISATION in of_key:
        return ORGANISATION
    # An organisation's name (an organisational form) outweighs an ID number on
    # its row: that number is its legal representative's (rules.md).
    if name and looks_like_organisation(name):
        return ORGANISATION
    if PERSON in of_key:
        return PERSON
    declared = _type_from_words(row, spec.id_type_column)
    if declared is not None:
        return declared
    if name:
        return PERSON
    return None


def _feed_for(name: str, kind: str | None) -> FeedMapping:
    """The mapping of the feed a file belongs to (named, or told by its name)."""
    kind = kind or kind_for_file(name)
    if kind is None:
        raise FeedError(
            f"{name}: cannot tell the feed kind from the file name; pass --kind "
            f"({', '.join(sorted(mappings()))})",
            file=name,
            reason="unknown_kind",
        )
    mapping = mappings().get(kind)
    if mapping is None:
        raise FeedError(f"{name}: unknown feed kind {kind!r}", file=name, reason="unknown_kind")
    return mapping


@dataclass
class _Pending:
    """A row that is new or changed since the last load, cleaned (or refused)."""

    number: int
    rid: str
    digest: str
    old: SourceRecord | None
    q_old: dict[str, Any] | None
    cleaned: _Row | _RowError


@dataclass
class _FileLoad:
    """What one file's load gathers before its one write: the batch, the report
    and its tallies, the review pairs and the listings waiting on them."""

    name: str
    mapping: FeedMapping
    progress: ProgressCallback | None
    report: LoadReport
    total: int | None = None
    now: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    record_ids: list[str] = field(default_factory=list)
    batch: Batch = field(default_factory=Batch)
    subjects: dict[str, Subject] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    reviews: dict[str, dict[str, Any]] = field(default_factory=dict)
    # candidate subject -> listings that may be about it, waiting for a reviewer
    waiting_on: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)
    warning_reasons: Counter[str] = field(default_factory=Counter)
    matched: Counter[str] = field(default_factory=Counter)

    def tell(self, stage: str, done: int) -> None:
        if self.progress is not None:
            self.progress(LoadProgress(self.name, self.mapping.kind, stage, done, self.total))

    def quarantine(self, row: _Pending, err: _RowError, line: int | None) -> None:
        self.report.quarantined += 1
        self.reasons[err.reason.split(":")[0]] += 1
        self.batch.docs.append(
            (
                QUARANTINE,
                row.rid,
                {
                    "record": row.rid,
                    "kind": self.mapping.kind,
                    "file": self.name,
                    "row": row.number,
                    "line": line,
                    "column": err.column,
                    "reason": err.reason,
                    "value": None if err.value is None else str(err.value)[:200],
                    "digest": row.digest,
                    "at": self.now,
                },
            )
        )

    def count(self, record: SourceRecord, old: SourceRecord | None) -> None:
        report = self.report
        report.loaded += 1
        if old is not None:
            report.new_versions += 1
        report.warnings += len(record.warnings)
        self.warning_reasons.update(w.split(":")[1] if ":" in w else w for w in record.warnings)
        for m in record.mentions:
            method = m.match.get("method", "new")
            self.matched[method] += 1
            if method == "new" and not m.match.get("key"):
                report.unresolved += 1

    def note_candidates(
        self,
        rid: str,
        m: Mention,
        candidates: list[dict[str, Any]],
        waiting: dict[str, Any] | None,
    ) -> None:
        for cand in candidates:
            pid = pair_id(m.subject_id, cand["candidate"])
            if waiting is not None:
                self.waiting_on.setdefault(cand["candidate"], []).append(
                    {"pair": pid, **waiting, "reason": _pending_reason(m.match)}
                )
            self.reviews[pid] = {
                "a": m.subject_id,
                "b": cand["candidate"],
                "score": cand["score"],
                "features": cand["features"],
                "record": rid,
                "role": m.role,
                "status": "open",
                "created_at": self.now,
            }


class FileLoader:
    """Loads files into one store through one resolver (kept across files)."""

    def __init__(self, store: GraphStore, settings: Settings, resolver: Resolver | None = None):
        self.store = store
        self.settings = settings
        self.resolver = resolver or Resolver(store, settings)
        # The store's generation after this loader's last load (see load()).
        self._generation: str | None = None
        # Whether the running load has begun noting subjects in the resolver.
        self._resolving = False

    def load(
        self,
        path: Path,
        kind: str | None = None,
        snapshot_date: str | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> LoadReport:
        """Load one file. ``snapshot_date`` is the day a snapshot feed's file was
        extracted when the file has no column saying so (数据日期); default: today.

        ``progress``, if given, is called on this thread as the load moves on
        (:class:`LoadProgress`); what it raises, the load raises, and nothing is
        written when that happens before the ``writing`` stage."""
        with load_lock(self.settings.data_dir), _cyclic_gc_paused():
            # Someone else wrote since this loader's last load (another process
            # on Neo4j, which serves many writers): the resolver's name index
            # would miss their subjects and create them again.
            if self.store.generation() != self._generation:
                self.resolver.invalidate()
            self._resolving = False
            try:
                report = self._load(path, kind, snapshot_date, progress)
            except BaseException:
                if self._resolving:
                    # Subjects noted in the index but not written (a failed
                    # write, a store error or a callback raising mid-file) must
                    # not be matched later. A refused file touched no index.
                    self.resolver.invalidate()
                raise
            self._generation = self.store.generation()
            return report

    def _load(
        self,
        path: Path,
        kind: str | None,
        snapshot_date: str | None,
        progress: ProgressCallback | None,
    ) -> LoadReport:
        name = path.name
        mapping = _feed_for(name, kind)
        self._mapping = mapping
        report = LoadReport(
            file=name, kind=mapping.kind, label=mapping.label, department=mapping.department
        )
        run = _FileLoad(name, mapping, progress, report)
        run.tell("reading", 0)
        table = read_table(
            path, max_cell_chars=self.settings.max_cell_chars, xlsx=xlsx_limits(self.settings)
        )
        report.encoding, report.format = table.encoding, table.format
        # The reader holds every row already: the total costs nothing.
        run.total = len(table.rows)
        run.tell("checking", 0)
        index = mapping.match_header(table.header, name)
        self._file_date = snapshot_date or city_today()
        self._created: set[str] = set()
        self._withdrawn: dict[str, set[str]] = {}
        run.record_ids = [record_id(mapping.kind, name, i) for i in range(1, len(table.rows) + 1)]
        pending = self._screen(run, table, _plan(mapping, table, index))
        self._resolving = True
        self.resolver.begin()
        self._resolve_rows(run, table, pending)
        run.tell("writing", run.report.rows_read)
        self._finish(run)
        self.store.write(run.batch)
        run.tell("done", run.report.rows_read)
        return run.report

    def _screen(self, run: _FileLoad, table: Table, plan: _Plan) -> list[_Pending]:
        """Rows unchanged since the last load, or still quarantined for the same
        cells, are finished with here; the others are cleaned, all of them
        before any is resolved, so that every key the file names is looked up
        in one store call, not one per row (resolution then runs in row order)."""
        report = run.report
        existing = self.store.get_records(run.record_ids)
        quarantined_before = self.store.get_docs(QUARANTINE, run.record_ids)
        pending: list[_Pending] = []
        for number, cells in enumerate(table.rows, start=1):
            if number % _PROGRESS_EVERY == 0:
                run.tell("checking", number - 1 - len(pending))
            report.rows_read += 1
            rid = run.record_ids[number - 1]
            json_cells = _json_cells(cells)
            digest = _row_digest(json_cells)
            old = existing.get(rid)
            if old is not None and old.digest == digest:
                report.loaded += 1
                report.unchanged += 1
                continue
            q_old = quarantined_before.get(rid)
            if q_old is not None and q_old.get("digest") == digest:
                report.quarantined += 1
                run.reasons[q_old["reason"].split(":")[0]] += 1
                continue
            cleaned: _Row | _RowError
            try:
                cleaned = _clean_row(plan, number, cells, json_cells)
            except _RowError as err:
                cleaned = err
            pending.append(_Pending(number, rid, digest, old, q_old, cleaned))
        return pending

    def _resolve_rows(self, run: _FileLoad, table: Table, pending: list[_Pending]) -> None:
        # the rows that were unchanged, finished with already
        done = run.report.rows_read - len(pending)
        run.tell("resolving", done)
        self.resolver.prefetch(
            key for p in pending if isinstance(p.cleaned, _Row) for key in _lookup_keys(p.cleaned)
        )
        for step, row in enumerate(pending):
            if step and step % _PROGRESS_EVERY == 0:
                run.tell("resolving", done + step)
            # review candidates of this row's parties (mention, candidates)
            self._candidates: list[tuple[Mention, list[dict[str, Any]]]] = []
            try:
                if isinstance(row.cleaned, _RowError):
                    raise row.cleaned
                record = self._build(
                    run.mapping, row.cleaned, row.rid, row.digest, run.now, row.old,
                    run.batch, run.subjects,
                )  # fmt: skip
            except _RowError as err:
                line = table.source_lines[row.number - 1] if table.source_lines else None
                run.quarantine(row, err, line)
                continue
            if row.q_old is not None:
                run.batch.docs.append((QUARANTINE, row.rid, None))
            run.count(record, row.old)
            for m, candidates in self._candidates:
                waiting = self._waiting_listing(run.mapping, record, m)
                run.note_candidates(row.rid, m, candidates, waiting)
            run.touched.update(m.subject_id for m in record.mentions)
            run.batch.records.append(record)

    def _finish(self, run: _FileLoad) -> None:
        """What the file's records imply beyond themselves, and its report."""
        report, batch = run.report, run.batch
        self._reconcile_relations(batch)
        if run.waiting_on:
            self._note_pending(batch, run.waiting_on)
        if run.reviews:
            known = self.store.get_docs(REVIEW, run.reviews)
            for pid, body in sorted(run.reviews.items()):
                if pid not in known:
                    batch.docs.append((REVIEW, pid, body))
            report.review = len(run.reviews)
        report.reasons = dict(sorted(run.reasons.items()))
        report.warning_reasons = dict(sorted(run.warning_reasons.items()))
        report.matched = dict(sorted(run.matched.items()))
        report.subjects_created = len(self._created)
        batch.subjects = list(run.subjects.values())
        if run.touched:
            batch.docs.append(
                (
                    CHANGES,
                    f"{run.now}|{rid_digest(run.record_ids)}",
                    {"at": run.now, "subjects": sorted(run.touched)},
                )
            )
        if not batch.is_empty():
            batch.docs.append((LOADS, f"{run.now}|{run.name}", {**report.to_dict(), "at": run.now}))

    # -- one row ------------------------------------------------------------
    def _build(
        self,
        mapping: FeedMapping,
        row: _Row,
        rid: str,
        digest: str,
        now: str,
        old: SourceRecord | None,
        batch: Batch,
        subjects: dict[str, Subject],
    ) -> SourceRecord:
        """One row as a source record: its parties resolved to subjects, then
        what it asserts (relations, a listing) added to ``batch``."""
        resolved, parties_out, mentions = self._resolve_parties(mapping, row, rid, subjects)
        asserts = self._assert(mapping, row, rid, resolved, subjects, batch, old)
        return SourceRecord(
            id=rid,
            feed=mapping.kind,
            file=rid.split(":", 2)[1],
            row=row.number,
            loaded_at=now,
            digest=digest,
            values=row.values,
            cleaned={
                "fields": row.fields,
                "parties": parties_out,
                "asserts": asserts,
                # the department the record speaks for (graph/quality.py)
                "department": self._department(mapping, row),
            },
            warnings=row.warnings,
            mentions=mentions,
            version=(old.version + 1) if old is not None else 1,
        )

    def _resolve_parties(
        self, mapping: FeedMapping, row: _Row, rid: str, subjects: dict[str, Subject]
    ) -> tuple[dict[str, Resolution], dict[str, dict[str, Any]], list[Mention]]:
        """Each party the row names, in the mapping's order (the subject first,
        whose type decides the parties that depend on it), resolved."""
        resolved: dict[str, Resolution] = {}
        parties_out: dict[str, dict[str, Any]] = {}
        mentions: list[Mention] = []
        context = self._context(mapping, row)
        for role, spec in mapping.parties.items():
            if spec.if_subject is not None and (
                parties_out.get("subject", {}).get("type") != spec.if_subject
            ):
                continue
            name = row.fields.get(spec.name) if spec.name else None
            idents = [row.identifiers[k] for k in spec.keys if k in row.identifiers]
            if name is None and not idents:
                continue
            if spec.keyed_only and not any(i.is_full_key for i in idents):
                parties_out[role] = {"name": name, "resolved": False}
                continue
            party, former = self._party(
                spec, role, row, rid, name, idents, context, list(resolved.values())
            )
            res = self.resolver.resolve(party)
            resolved[role] = res
            mention = Mention(res.subject_id, role, dict(res.match))
            mentions.append(mention)
            if res.review:
                self._candidates.append((mention, res.review))
            parties_out[role] = {
                "name": name,
                "type": party.type,
                "keys": [i.key for i in party.identifiers],
                "subject_id": res.subject_id,
            }
            self._add_subject(subjects, self._subject_for(party, spec, row, res, former))
        if "subject" in mapping.parties and "subject" not in resolved:
            raise _RowError(
                mapping.columns[mapping.parties["subject"].name or "name"].headers[0],
                "no_subject: neither a name nor a usable key",
                None,
            )
        return resolved, parties_out, mentions

    @staticmethod
    def _party(
        spec: PartySpec,
        role: str,
        row: _Row,
        rid: str,
        name: str | None,
        idents: list[Identifier],
        context: dict[str, Any],
        earlier: list[Resolution],
    ) -> tuple[Party, list[str]]:
        """The party as the resolver sees it, and its former names as written."""
        idents = _disambiguate(spec, row, idents, name)
        ptype = _party_type(spec, row, idents, name)
        # An identifier of the wrong family for the party (an ID number in
        # an organisation's column) is not used as its key.
        idents = [i for i in idents if _fits(i, ptype)]
        norm_name = normalise_name(name) if name else None
        # A former name that normalises to nothing (a dash in 曾用名) is no name,
        # and the current name written again as a former one is not a former
        # name: either would let two records match on it.
        former, former_norm = [], []
        for f in (row.fields.get(spec.former_names) or []) if spec.former_names else []:
            norm = normalise_name(f)
            if norm and norm != norm_name and norm not in former_norm:
                former.append(f)
                former_norm.append(norm)
        party = Party(
            record_id=rid,
            role=role,
            type=ptype,
            name=name,
            norm_name=norm_name,
            identifiers=idents,
            former_names=former_norm,
            context=(
                context
                if role == "subject"
                else {"organisation_ids": [r.subject_id for r in earlier]}
            ),
            is_branch=bool(name and is_branch_name(name)),
        )
        return party, former

    def _assert(
        self,
        mapping: FeedMapping,
        row: _Row,
        rid: str,
        resolved: dict[str, Resolution],
        subjects: dict[str, Subject],
        batch: Batch,
        old: SourceRecord | None,
    ) -> dict[str, list[str]]:
        """The relations and listing the row asserts, added to ``batch``; what
        the row's previous version asserted and this one no longer does is
        withdrawn (its relations keep other records' word)."""
        asserts: dict[str, list[str]] = {"relations": [], "listings": []}
        for rspec in mapping.relations:
            rel = self._relation(rspec, row, rid, resolved, subjects)
            if rel is not None:
                batch.relations.append(rel)
                asserts["relations"].append(rel.id)
        if mapping.listing is not None:
            lst = self._listing(mapping, row, rid, resolved)
            if lst is not None:
                batch.listings.append(lst)
                asserts["listings"].append(lst.id)
        if old is not None:
            old_asserts = old.cleaned.get("asserts") or {}
            for r in old_asserts.get("relations", []):
                if r not in asserts["relations"]:
                    # other records may assert it too: only this one's word goes
                    self._withdrawn.setdefault(r, set()).add(rid)
            batch.delete_listings.extend(
                x for x in old_asserts.get("listings", []) if x not in asserts["listings"]
            )
        return asserts

    @staticmethod
    def _context(mapping: FeedMapping, row: _Row) -> dict[str, Any]:
        """Evidence on the row that corroborates a fuzzy match of its subject."""
        ctx: dict[str, Any] = {}
        for field_name in ("lr_name",):
            if row.fields.get(field_name):
                ctx["legal_rep_name"] = row.fields[field_name]
        for field_name, ident in row.identifiers.items():
            if ident.kind in ("uscc",):
                ctx.setdefault("region", ident.value[2:8])
            elif ident.kind in ("reg_no",):
                ctx.setdefault("region", ident.value[:6])
            elif ident.kind == "id_number" and field_name in ("lr_id", "id_number"):
                # On an organisation's row this is its legal representative's
                # number (证件号码 / 法定代表人证件号码): strong corroboration.
                ctx.setdefault("legal_rep_id", ident.value)
        return ctx

    def _subject_for(
        self,
        party: Party,
        spec: PartySpec,
        row: _Row,
        res: Resolution,
        former: list[str],
    ) -> Subject:
        keys: list[str] = []
        for ident in party.identifiers:
            if ident.key in res.withheld_keys:
                # A mistyped code matched to the real subject by other evidence:
                # the subject must not carry (and later match on) the typo.
                continue
            keys.extend(ident.store_keys)
        attrs: dict[str, Any] = {}
        if res.is_new:
            self._created.add(res.subject_id)
        if party.type == ORGANISATION and party.is_branch:
            attrs["is_branch"] = True
        if former:
            attrs["former_names"] = former
            attrs["former_norm_names"] = [normalise_name(f) for f in former]
        for ident in party.identifiers:
            if ident.kind == "uscc":
                attrs.setdefault("region", ident.value[2:8])
            elif ident.kind == "id_number":
                attrs.setdefault("region", ident.value[:6])
                attrs.setdefault("birth_year", id_birth_date(ident.value).year)
                attrs.setdefault("sex", id_sex(ident.value))
        if spec.primary:
            for attr, column in spec.attrs.items():
                if row.fields.get(column) is not None:
                    attrs[attr] = row.fields[column]
        names = [party.name] if party.name else []
        norm = [party.norm_name] if party.norm_name else []
        return Subject(
            id=res.subject_id,
            type=party.type or ORGANISATION,
            # Only the registry (primary) or the first record names a subject;
            # a penalty's spelling must not rename a registered enterprise.
            name=(party.name or "") if (spec.primary or res.is_new) else "",
            names=names + former,
            norm_names=norm + [normalise_name(f) for f in former],
            keys=keys,
            status=row.fields.get("registration_status") if spec.primary else None,
            attrs=attrs,
        )

    def _add_subject(self, subjects: dict[str, Subject], subj: Subject) -> None:
        # several rows of a file may name one subject: the store's own upsert
        # semantics fold them before they are written
        cur = subjects.get(subj.id)
        if cur is None:
            subjects[subj.id] = subj
        else:
            apply_subject_upsert(cur, subj)
        self.resolver.note_subject(subjects[subj.id])

    def _relation(
        self,
        spec: RelationSpec,
        row: _Row,
        rid: str,
        resolved: dict[str, Resolution],
        subjects: dict[str, Subject],
    ) -> Relation | None:
        src, tgt = resolved.get(spec.source), resolved.get(spec.target)
        if src is None or tgt is None or src.subject_id == tgt.subject_id:
            return None
        rtype = spec.type
        if spec.type_column is not None:
            title = str(row.fields.get(spec.type_column) or "")
            rtype = next(
                (t for word, t in spec.type_contains.items() if word in title), spec.type_default
            )
        if rtype is None:
            return None
        props = {k: row.fields.get(v) for k, v in spec.props.items()}
        # what a record asserting this relation implies (a declared actual controller)
        props.update(model().relation_types[rtype].record_props)
        valid_from = row.fields.get(spec.valid_from) if spec.valid_from else None
        valid_to = row.fields.get(spec.valid_to) if spec.valid_to else None
        if valid_to and spec.end_inclusive:
            valid_to = day_after(valid_to)
        if valid_from and valid_to and valid_to <= valid_from:
            raise _RowError(
                self._header(spec.valid_to),
                f"end_before_start: {valid_to} is not after {valid_from}",
                valid_to,
            )
        props = {k: v for k, v in props.items() if v is not None}
        if valid_from or valid_to:
            # what the record itself states of the role's time
            props["held"] = {"from": valid_from, "to": valid_to}
        if spec.snapshot:
            since = row.fields.get(spec.since) if spec.since else None
            on = self._row_date(row)
            props["seen"] = [
                {"on": on, "since": since if since and since <= on else None, "record": rid}
            ]
        rel_id = stable_id(
            "R",
            rtype,
            src.subject_id,
            tgt.subject_id,
            valid_from or "",
            props.get("title") or "",
            props.get("creditor") or "",
        )
        return Relation(
            id=rel_id,
            type=rtype,
            source=src.subject_id,
            target=tgt.subject_id,
            valid_from=valid_from,
            valid_to=valid_to,
            props=props,
            record_ids=[rid],
        )

    @staticmethod
    def _waiting_listing(
        mapping: FeedMapping, record: SourceRecord, mention: Mention
    ) -> dict[str, Any] | None:
        """The punitive listing a record asserts about the party it could not
        attach, if any: its candidates must not be reported clear meanwhile."""
        spec = mapping.listing
        if spec is None or mention.role != spec.subject:
            return None
        if not model().listing_kinds[spec.kind].punitive:
            return None
        listings = (record.cleaned.get("asserts") or {}).get("listings") or []
        if not listings:
            return None
        return {"listing": listings[0], "record": record.id, "kind": spec.kind}

    def _note_pending(self, batch: Batch, pending: dict[str, list[dict[str, Any]]]) -> None:
        known = self.store.get_docs(PENDING, sorted(pending))
        for sid, items in sorted(pending.items()):
            have = list((known.get(sid) or {}).get("items") or [])
            seen = {(i.get("pair"), i.get("listing")) for i in have}
            fresh = [i for i in items if (i["pair"], i["listing"]) not in seen]
            if fresh:
                batch.docs.append((PENDING, sid, {"items": have + fresh}))

    @staticmethod
    def _department(mapping: FeedMapping, row: _Row) -> str | None:
        column = mapping.listing.department if mapping.listing is not None else None
        return (row.fields.get(column) if column else None) or mapping.department

    def _row_date(self, row: _Row) -> str:
        """The day a snapshot row was seen: its 数据日期, the date given to the
        load, or the load date."""
        column = self._mapping.snapshot_date
        value = row.fields.get(column) if column else None
        return str(value) if value else self._file_date

    def _header(self, column: str | None) -> str:
        col = self._mapping.columns.get(column or "")
        return col.headers[0] if col is not None else str(column)

    def _reconcile_relations(self, batch: Batch) -> None:
        """Relations as several records state them, and their display dates.

        A relation (a legal representative seen in twelve monthly snapshots) is
        asserted by every record that shows it: its sightings are the union of
        theirs, a record that no longer asserts it takes back only its own
        sighting, and the ``valid_from``/``valid_to`` shown are worked out from
        all relations of that role into the organisation
        (graph/evidence/roles.py), so that loading a later snapshot naming
        someone else ends the earlier holder's dates whatever the file order.
        """
        merged: dict[str, Relation] = {}
        for rel in batch.relations:
            cur = merged.get(rel.id)
            merged[rel.id] = rel if cur is None else _merge_relation(cur, rel)
        ids = sorted(set(merged) | set(self._withdrawn))
        if not ids:
            return
        stored = self.store.get_relations(ids)
        rewrite: dict[str, Relation] = {}
        for rid, rel in merged.items():
            old = stored.get(rid)
            if old is not None and ("seen" in rel.props or "seen" in old.props):
                keep = [
                    o
                    for o in old.props.get("seen") or []
                    if o.get("record") not in _records_of(rel)
                ]
                rel.props["seen"] = _sorted_seen(keep + list(rel.props.get("seen") or []))
                rel.record_ids = list(dict.fromkeys(old.record_ids + rel.record_ids))
            rewrite[rid] = rel
        deleted: list[str] = []
        for rid, records in self._withdrawn.items():
            if rid in rewrite:
                rel = rewrite[rid]
            elif rid in stored:
                rel = stored[rid]
            else:
                continue
            rel.record_ids = [r for r in rel.record_ids if r not in records]
            if "seen" in rel.props:
                rel.props["seen"] = [o for o in rel.props["seen"] if o.get("record") not in records]
            if not rel.record_ids:
                rewrite.pop(rid, None)
                deleted.append(rid)
            else:
                rewrite[rid] = rel
        # The store unions record ids on upsert: a relation that lost one is
        # deleted and written again in this same transaction.
        batch.delete_relations.extend(deleted)
        batch.delete_relations.extend(
            rid for rid in self._withdrawn if rid in rewrite and rid not in deleted
        )
        self._display_dates(rewrite, deleted, stored)
        batch.relations = list(rewrite.values())

    def _display_dates(
        self, rewrite: dict[str, Relation], deleted: list[str], stored: dict[str, Relation]
    ) -> None:
        touched = [r for r in rewrite.values() if "seen" in r.props]
        touched += [stored[d] for d in deleted if d in stored and "seen" in stored[d].props]
        if not touched:
            return
        targets = sorted({r.target for r in touched})
        types = sorted({r.type for r in touched})
        family: dict[str, Relation] = {
            r.id: r for r in self.store.relations_of(targets, types, None, "in")
        }
        for d in deleted:
            family.pop(d, None)
        family.update(rewrite)
        wanted = {(r.type, r.target) for r in touched}
        by_org: dict[tuple[str, str], list[Relation]] = {}
        for r in family.values():
            if (r.type, r.target) in wanted:
                by_org.setdefault((r.type, r.target), []).append(r)
        for rels in by_org.values():
            for r in rels:
                if "seen" not in r.props:
                    continue
                shown = display_interval(r, rels)
                if (r.valid_from, r.valid_to) != shown:
                    r.valid_from, r.valid_to = shown
                    rewrite[r.id] = r

    def _listing(
        self, mapping: FeedMapping, row: _Row, rid: str, resolved: dict[str, Resolution]
    ) -> Listing | None:
        spec = mapping.listing
        assert spec is not None
        subject = resolved.get(spec.subject)
        if subject is None:
            return None
        start = next((row.fields[c] for c in spec.start if row.fields.get(c)), None)
        end = row.fields.get(spec.end) if spec.end else None
        if end and spec.end_inclusive:
            end = day_after(end)
        if start is None and model().listing_kinds[spec.kind].punitive:
            # never active for ever: without a date it can only wait (rules.md)
            raise _RowError(self._header(spec.start[0]), "no_start_date", None)
        if start and end and end <= start:
            raise _RowError(
                self._header(spec.end), f"end_before_start: {end} is not after {start}", end
            )
        props: dict[str, Any] = {
            k: row.fields.get(v) for k, v in spec.props.items() if row.fields.get(v) is not None
        }
        named = {r: resolved[r].subject_id for r in spec.parties if r in resolved}
        if named:
            props["parties"] = named
        return Listing(
            id=stable_id("L", rid),
            kind=spec.kind,
            subject_id=subject.subject_id,
            number=row.fields.get(spec.number) if spec.number else None,
            department=self._department(mapping, row),
            start=start,
            end=end,
            props=props,
            record_ids=[rid],
        )


def _disambiguate(
    spec: PartySpec, row: _Row, idents: list[Identifier], name: str | None
) -> list[Identifier]:
    """A 15-digit number that is both a valid 注册号 and a valid legacy ID
    number is read as the ID number when the row says the party is a person
    (证件类型 身份证, or a person's name), so that it keys the person."""
    if not any("ambiguous_id_number" in i.warnings for i in idents):
        return idents
    hinted = _type_from_words(row, spec.type_column) or _type_from_words(row, spec.id_type_column)
    if hinted is None and spec.type is None and name:
        hinted = ORGANISATION if looks_like_organisation(name) else PERSON
    if (spec.type or hinted) != PERSON:
        return idents
    out: list[Identifier] = []
    for ident in idents:
        if "ambiguous_id_number" in ident.warnings:
            with contextlib.suppress(InvalidIdentifier):
                ident = parse_identifier(ident.value, hint="id_number")
        out.append(ident)
    return out


def _fits(ident: Identifier, ptype: str | None) -> bool:
    """Whether the identifier is a key of the party's subject type (model.yaml)."""
    return ptype is None or ident.kind in model().subject_types[ptype].keys


def xlsx_limits(settings: Settings) -> XlsxLimits:
    return XlsxLimits(
        max_cells=settings.max_sheet_cells,
        max_unpacked=settings.max_xlsx_unpacked_bytes,
        max_ratio=settings.max_xlsx_ratio,
        memory_mb=settings.xlsx_memory_mb,
    )


def _pending_reason(match: dict[str, Any]) -> str:
    if match.get("masked"):
        return MASKED_ID_AGREES
    if match.get("ambiguous_bridge"):
        return AMBIGUOUS_BRIDGE
    return NAME_ONLY if match.get("reason") == NAME_ONLY else "uncertain_match"


def _records_of(rel: Relation) -> set[str]:
    return {str(o.get("record")) for o in rel.props.get("seen") or []}


def _sorted_seen(seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    unique = {str(o.get("record")): o for o in seen}
    return sorted(unique.values(), key=lambda o: (str(o.get("on")), str(o.get("record"))))


def _merge_relation(a: Relation, b: Relation) -> Relation:
    """Two rows of one file asserting one relation: both records, both sightings."""
    out = replace(
        b,
        props={**a.props, **b.props},
        record_ids=list(dict.fromkeys(a.record_ids + b.record_ids)),
    )
    if "seen" in a.props or "seen" in b.props:
        out.props["seen"] = _sorted_seen(
            list(a.props.get("seen") or []) + list(b.props.get("seen") or [])
        )
    return out


def city_today() -> str:
    """Today in the city's time zone, the default date of a snapshot file."""
    return datetime.now(CITY_TZ).date().isoformat()


def day_after(iso: str) -> str:
    """The first day after an inclusive end date (the stored ends are exclusive)."""
    d = date.fromisoformat(iso)
    return iso if d == date.max else (d + timedelta(days=1)).isoformat()


def rid_digest(ids: list[str]) -> str:
    return hashlib.sha1("\n".join(ids).encode()).hexdigest()[:12]


def order_files(paths: list[Path], kind: str | None = None) -> list[Path]:
    """Registries first: they carry the keys that bridge the other feeds."""
    table = mappings()

    def priority(p: Path) -> tuple[int, str]:
        k = kind or kind_for_file(p.name)
        return (table[k].priority if k in table else 99, p.name)

    return sorted(paths, key=priority)
