"""Department data quality (数据质量): what each department's feed gets right
and wrong, computed from what was loaded. One module for the API (GET
/quality), the CLI (``creditlink quality``) and the data-quality notebook, with
one meaning of "department" (``department_of``) and of "valid key"
(``has_valid_key``).

Per department and feed: records, share with a valid key, invalid codes (from
record warnings), records naming a subject with conflicting codes (重错码),
unresolved records, and for the 双公示 feeds how many working days passed from
the decision (处罚/许可决定日期) to its publication (公示日期; target: 7 working
days). A record without a publication date is counted as such, not measured:
the date it was loaded here says nothing about when the department published
it (a historical load would make every record late).

Working days are those of the State Council's calendar: statutory holidays are
off and 调休 weekends are working days, as the ``chinesecalendar`` package
knows them. Outside the years it knows (it is released for each new year's
calendar), days fall back to Monday–Friday, and the report says which years
were counted that way (``calendar.weekday_only_years``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import cache
from statistics import median
from typing import Any

import chinese_calendar
import pandas as pd
from rapidfuzz import fuzz

from graph.docs import LOADS, QUARANTINE, record_id
from graph.model import SourceRecord, model
from graph.resolve.compare import core
from graph.store.base import GraphStore

TARGET_WORKING_DAYS = 7
# 双公示 feeds: the fields holding the decision date and the publication date.
PUBLICITY_FEEDS = {
    "admin_penalties": ("decided", "published"),
    "admin_licenses": ("decided", "published"),
}
# Fields that name the deciding department on a record, when the feed has one.
DEPARTMENT_FIELDS = ("authority", "source_unit", "court")
# Names of one USCC this unlike are two enterprises sharing a code.
UNRELATED_NAMES = 0.6
UNKNOWN_DEPARTMENT = "(unknown)"
_BATCH = 2000


def _loads(store: GraphStore) -> dict[tuple[str, str], dict[str, Any]]:
    """(feed kind, file) -> its latest load report."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in store.list_docs(LOADS).values():
        key = (str(doc.get("kind")), str(doc.get("file")))
        if key not in latest or str(doc.get("at")) >= str(latest[key].get("at")):
            latest[key] = doc
    return latest


def record_ids(store: GraphStore) -> list[str]:
    """Every record id a load has read, from the load history (the store has no
    scan of records, and every record id is ``<kind>:<file>:<row>``)."""
    return [
        record_id(kind, file, i)
        for (kind, file), doc in sorted(_loads(store).items())
        for i in range(1, int(doc.get("rows_read") or 0) + 1)
    ]


def _fetch(store: GraphStore, ids: list[str]) -> list[SourceRecord]:
    out: list[SourceRecord] = []
    for i in range(0, len(ids), _BATCH):
        found = store.get_records(ids[i : i + _BATCH])
        out += [found[r] for r in ids[i : i + _BATCH] if r in found]
    return out


def iter_records(store: GraphStore) -> list[SourceRecord]:
    """Every loaded record (quarantined rows have none)."""
    return _fetch(store, record_ids(store))


def department_of(rec: SourceRecord) -> str:
    """The department a record speaks for: the deciding department its row
    names (处罚机关, 数据来源单位, 执行法院), else the feed's own department, which
    the loader keeps on the record."""
    fields = rec.cleaned.get("fields") or {}
    for name in DEPARTMENT_FIELDS:
        if fields.get(name):
            return str(fields[name])
    return str(rec.cleaned.get("department") or UNKNOWN_DEPARTMENT)


def _primary_party(rec: SourceRecord) -> dict[str, Any]:
    parties: dict[str, Any] = rec.cleaned.get("parties") or {}
    if "subject" in parties:
        return dict(parties["subject"])
    return dict(next(iter(parties.values()), {}))


def _is_invalid(warning: str) -> bool:
    return ":invalid_" in warning or "check_mismatch" in warning


def has_valid_key(rec: SourceRecord) -> bool:
    """The party the record is about carried a valid full key (USCC for an
    organisation, 18-digit ID number for a person) and no code on the row was
    invalid."""
    party = _primary_party(rec)
    full = set(model().full_keys(str(party.get("type") or "organisation")))
    if not any(str(k).split(":", 1)[0] in full for k in party.get("keys") or []):
        return False
    return not any(_is_invalid(w) for w in rec.warnings)


def warning_reason(warning: str) -> str:
    """``"uscc:invalid_uscc:bad_check"`` -> ``"invalid_uscc"`` (the load report's grouping)."""
    parts = warning.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _unresolved(rec: SourceRecord) -> bool:
    return any(m.match.get("method") == "new" and not m.match.get("key") for m in rec.mentions)


@cache
def is_working_day(day: date) -> bool:
    """A working day of the official calendar (holidays off, 调休 weekends on);
    Monday–Friday in a year the calendar package does not know."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def calendar_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def working_days(start: date, end: date) -> int:
    """Working days from ``start`` up to ``end`` (``start`` counted, ``end`` not):
    published the day after a Friday decision is 1; negative if ``end`` is earlier."""
    if end < start:
        return -working_days(end, start)
    return sum(is_working_day(start + timedelta(days=i)) for i in range((end - start).days))


def publicity_facts(store: GraphStore) -> list[dict[str, Any]]:
    """One row per 双公示 record (penalties, licences), for charts over time:
    feed, department, decision and publication dates, working days between
    them (None when unpublished) and whether its subject carried a valid key."""
    out: list[dict[str, Any]] = []
    for rec in iter_records(store):
        fields = PUBLICITY_FEEDS.get(rec.feed)
        if not fields:
            continue
        values = rec.cleaned.get("fields") or {}
        decided, published = values.get(fields[0]), values.get(fields[1])
        if not decided:
            continue
        delay = (
            working_days(date.fromisoformat(decided), date.fromisoformat(published))
            if published
            else None
        )
        out.append(
            {
                "feed": rec.feed,
                "department": department_of(rec),
                "decided": decided,
                "published": published,
                "working_days": delay,
                "valid_key": has_valid_key(rec),
            }
        )
    return out


def conflicting_codes(store: GraphStore) -> dict[str, list[dict[str, Any]]]:
    """重错码: one USCC carried by a subject with unrelated names, and one name
    carried by subjects with different USCCs."""
    unrelated: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, str]] = defaultdict(dict)
    for subj in store.iter_subjects("organisation"):
        usccs = subj.key_values("uscc")
        if not usccs:
            continue
        former = set(subj.attrs.get("former_norm_names") or [])
        current = [n for n in subj.norm_names if n not in former]
        for n in current:
            for u in usccs:
                by_name[n][u] = subj.id
        cores = [core(n) for n in current]
        worst = min(
            (fuzz.ratio(a, b) / 100 for i, a in enumerate(cores) for b in cores[i + 1 :]),
            default=1.0,
        )
        if worst < UNRELATED_NAMES:
            unrelated.append(
                {"subject": subj.id, "usccs": usccs, "names": list(subj.names), "similarity": worst}
            )
    several = [
        {"name": n, "usccs": sorted(codes), "subjects": sorted(set(codes.values()))}
        for n, codes in sorted(by_name.items())
        if len(codes) > 1
    ]
    return {"uscc_with_unrelated_names": unrelated, "name_with_several_usccs": several}


def quality_report(store: GraphStore, today: date | None = None) -> dict[str, Any]:
    conflicts = conflicting_codes(store)
    conflicted = {c["subject"] for c in conflicts["uscc_with_unrelated_names"]}
    conflicted |= {s for c in conflicts["name_with_several_usccs"] for s in c["subjects"]}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    delays: dict[tuple[str, str], list[int]] = defaultdict(list)
    unpublished: dict[tuple[str, str], int] = defaultdict(int)
    years: set[int] = set()
    for rec in iter_records(store):
        key = (rec.feed, department_of(rec))
        g = groups.setdefault(
            key,
            {
                "feed": rec.feed,
                "department": key[1],
                "records": 0,
                "valid_key": 0,
                "invalid_codes": 0,
                "invalid_reasons": defaultdict(int),
                "conflicting_codes": 0,
                "unresolved": 0,
            },
        )
        g["records"] += 1
        g["valid_key"] += has_valid_key(rec)
        bad = [w for w in rec.warnings if _is_invalid(w)]
        if bad:
            g["invalid_codes"] += 1
            for w in bad:
                g["invalid_reasons"][w.split(":", 1)[1]] += 1
        if any(m.subject_id in conflicted for m in rec.mentions):
            g["conflicting_codes"] += 1
        g["unresolved"] += _unresolved(rec)
        fields = PUBLICITY_FEEDS.get(rec.feed)
        if fields:
            values = rec.cleaned.get("fields") or {}
            decided, published = values.get(fields[0]), values.get(fields[1])
            if decided and published:
                start, end = date.fromisoformat(decided), date.fromisoformat(published)
                delays[key].append(working_days(start, end))
                years.update(range(min(start, end).year, max(start, end).year + 1))
            elif decided:
                unpublished[key] += 1
    out: list[dict[str, Any]] = []
    for key, g in sorted(groups.items()):
        g["valid_key_share"] = round(g["valid_key"] / g["records"], 4) if g["records"] else None
        g["invalid_reasons"] = dict(sorted(g["invalid_reasons"].items()))
        d = delays.get(key)
        if key[0] in PUBLICITY_FEEDS:
            g["without_publication_date"] = unpublished.get(key, 0)
        if d:
            within = sum(1 for x in d if x <= TARGET_WORKING_DAYS)
            g["timeliness"] = {
                "records": len(d),
                "within_target": within,
                "share_within_target": round(within / len(d), 4),
                "median_working_days": median(d),
                "max_working_days": max(d),
            }
        out.append(g)
    return {
        "generated_at": (datetime.now(UTC) if today is None else today).isoformat(),
        "target_working_days": TARGET_WORKING_DAYS,
        "timeliness": "working days from decision to publication (公示日期)",
        "calendar": {
            "source": "chinesecalendar (statutory holidays and 调休 working days)",
            "weekday_only_years": sorted(y for y in years if not calendar_covers(y)),
        },
        "departments": out,
        "conflicting_codes": conflicts,
    }


# -- the notebook's frames: the same definitions, as pandas tables --------------


def quality_reasons(store: GraphStore) -> pd.DataFrame:
    """Long form: one row per (feed, outcome, reason) with its count. ``outcome``
    is ``quarantined`` (the row was not loaded) or ``warning`` (it was loaded with
    a finding, e.g. an invalid code it was matched without)."""
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for doc in store.list_docs(QUARANTINE).values():
        counts[(str(doc.get("kind")), "quarantined", str(doc.get("reason", "")).split(":")[0])] += 1
    for rec in iter_records(store):
        for w in rec.warnings:
            counts[(rec.feed, "warning", warning_reason(w))] += 1
    return pd.DataFrame(
        [(f, o, r, n) for (f, o, r), n in sorted(counts.items())],
        columns=["feed", "outcome", "reason", "count"],
    )


SUMMARY_COLUMNS = [
    "feed",
    "label",
    "department",
    "rows",
    "loaded",
    "quarantined",
    "quarantine_rate",
    "warned",
    "warnings",
    "valid_key_share",
    "quarantine_reasons",
    "warning_reasons",
]


def quality_summary(store: GraphStore) -> pd.DataFrame:
    """One row per feed: rows read (loaded + quarantined), loaded, quarantined,
    records with a warning, and the share with a valid key (``has_valid_key``).
    Reason columns hold ``{reason: count}``."""
    labels = {kind: str(doc.get("label") or "") for (kind, _), doc in _loads(store).items()}
    quarantine: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for doc in store.list_docs(QUARANTINE).values():
        quarantine[str(doc.get("kind"))][str(doc.get("reason", "")).split(":")[0]] += 1
    by_feed: dict[str, list[SourceRecord]] = defaultdict(list)
    for rec in iter_records(store):
        by_feed[rec.feed].append(rec)
    rows: list[dict[str, Any]] = []
    for feed in sorted(set(by_feed) | set(quarantine)):
        records = by_feed.get(feed, [])
        reasons: dict[str, int] = defaultdict(int)
        for rec in records:
            for w in rec.warnings:
                reasons[warning_reason(w)] += 1
        quarantined = sum(quarantine[feed].values())
        total = len(records) + quarantined
        departments = sorted({str(r.cleaned.get("department") or "") for r in records} - {""})
        rows.append(
            {
                "feed": feed,
                "label": labels.get(feed, ""),
                "department": "、".join(departments),
                "rows": total,
                "loaded": len(records),
                "quarantined": quarantined,
                "quarantine_rate": quarantined / total if total else 0.0,
                "warned": sum(1 for r in records if r.warnings),
                "warnings": sum(reasons.values()),
                "valid_key_share": (
                    sum(has_valid_key(r) for r in records) / len(records) if records else 0.0
                ),
                "quarantine_reasons": dict(sorted(quarantine[feed].items())),
                "warning_reasons": dict(sorted(reasons.items())),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def quality_by_department(store: GraphStore) -> pd.DataFrame:
    """Listings (penalties, licences, lists) per issuing department and feed:
    ``no_number`` those of a kind that must carry a document number (model.yaml)
    but do not, ``no_start`` those without a start date, and over the records
    asserting them the ones with a warning and the share with a valid key."""
    kinds = model().listing_kinds
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    for lst in store.iter_listings():
        key = (lst.department or UNKNOWN_DEPARTMENT, lst.kind)
        row = groups.setdefault(key, {"listings": 0, "no_number": 0, "no_start": 0})
        row["listings"] += 1
        kind = kinds.get(lst.kind)
        row["no_number"] += int(kind is not None and kind.number is not None and not lst.number)
        row["no_start"] += int(not lst.start)
        ids[key].update(lst.record_ids)
    rows: list[dict[str, Any]] = []
    for key, counts in sorted(groups.items()):
        records = _fetch(store, sorted(ids[key]))
        rows.append(
            {
                "department": key[0],
                "feed": key[1],
                **counts,
                "records": len(records),
                "warned": sum(1 for r in records if r.warnings),
                "valid_key_share": (
                    sum(has_valid_key(r) for r in records) / len(records) if records else 0.0
                ),
            }
        )
    columns = ["department", "feed", "listings", "no_number", "no_start", "records", "warned",
               "valid_key_share"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
