"""Subjects whose measures change with time alone, for the change feed (GET /changes).

Loads and repairs write a change log; this module finds what no write announces:
between two days, a listing may start (a pending one becomes active; a repair
decision takes effect on its date) or end by itself (removal date, publicity end,
the maximum period for its kind and severity), a time-limited implication may end
(``duration_years``: serious_violation_list disqualifies the legal representative
for 3 years from the listing), and a relation's validity may start or end (a legal
representative who left). Who is affected is read from the rule book, as the
engine reads it, so a new rule needs no change here:

- the listed subject, and the parties the rules implicate through the listing
  (the roles each triggered rule names, read at the time it reads them; parties
  named in the listing; inferred controllers, found from the organisation up);
- both ends of a relation of a type some rule reads, or a shareholding (which
  makes inferred control), plus the holders above a shareholding that moved.

``change_feed`` adds what the log announces since a time — loads and repairs,
their subjects' direct related parties and inferred controllers — to the
time-driven changes of the days since, for GET /changes.

The result over-approximates on purpose: a subject whose measures might have
changed is listed, and the caller re-checks it (POST /checks).

Cost: one pass over the listings of the kinds the rules read, one pass over the
relations of the types they read, and a fixed number of batched look-ups
(repaired listings, subject types, the listed subjects' relations, ``max_depth``
hops up the ownership chains): constant round trips, but work linear in the
number of listings and relations in the store, whatever the window. At a city's
scale (a million subjects, a few million relations) the relation pass
dominates. The way to make a poll cost what changed rather than what exists is
to index the transition dates: the loader, in the same transaction as the
records (``Batch.docs``), writes one doc per day and kind of transition
(listing start, natural end from ``natural_end``, ``duration_years`` stops,
relation valid_from / valid_to) holding the listing or relation ids, and this
module reads only the days in the window (``get_docs`` with the day keys, one
call) and fetches those ids (``get_listings`` / ``get_relations``). In Neo4j a
range index on ``Relation.valid_from``/``valid_to`` and ``Listing.start`` would
serve the same query behind a protocol method.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from graph.control import controllers_of, holders_of, ownership_types
from graph.docs import CHANGES
from graph.errors import InvalidInput
from graph.evidence.roles import NOT_HOLDING, RoleBook
from graph.model import Listing
from graph.propagate.engine import (
    RED_LIST,
    _props_match,
    _reads_inferred_control,
    _role_holds,
    _triggers,
)
from graph.propagate.status import CITY_TZ, REPAIR_KIND, add_years, natural_end, transitions
from graph.rules import Role, Rule, RuleBook, rulebook
from graph.store.base import GraphStore


@dataclass
class TimeChanges:
    """Subjects whose measures may have changed in (since, until], by cause."""

    since: str
    until: str
    # subjects whose own listing started, ended or was repaired
    listed: set[str] = field(default_factory=set)
    # parties a rule implicates through those listings (incl. inferred controllers)
    implicated: set[str] = field(default_factory=set)
    # both ends of relations that started or ended, and holders above moved shares
    related: set[str] = field(default_factory=set)

    def subjects(self) -> set[str]:
        return self.listed | self.implicated | self.related

    def by_cause(self) -> dict[str, list[str]]:
        """Each subject once, under its first cause: listed, implicated, related."""
        return {
            "listed": sorted(self.listed),
            "implicated": sorted(self.implicated - self.listed),
            "related": sorted(self.related),
        }


def _within(day: str | None, since: str, until: str) -> bool:
    return day is not None and since < day <= until


def time_changes(
    store: GraphStore,
    since: str,
    until: str,
    *,
    book: RuleBook | None = None,
    threshold: float = 0.5,
    control_depth: int = 4,
) -> TimeChanges:
    """Subjects whose measures may change between the ISO dates ``since``
    (exclusive: its answer is known) and ``until`` (inclusive), with time alone."""
    book = book or rulebook()
    out = TimeChanges(since, until)
    trigger_kinds = sorted({k for r in book.rules for k in r.kinds})
    # every transition of the listing itself: the subject and all it implicates
    whole: dict[str, Listing] = {}
    # only one role's implication ends (duration_years): that party alone
    partial: list[tuple[Listing, Rule, Role]] = []
    repairs: list[Listing] = []
    for lst in store.iter_listings([*trigger_kinds, RED_LIST, REPAIR_KIND]):
        if lst.kind == REPAIR_KIND:
            if _within(lst.start, since, until):
                repairs.append(lst)
            continue
        if any(_within(d, since, until) for d in transitions(lst, book)):
            whole[lst.id] = lst
        if lst.start is None:
            continue
        end: str | None = None
        for rule in book.rules:
            if lst.kind not in rule.kinds:
                continue
            for role in rule.implicated:
                if not role.duration_years:
                    continue
                stop = add_years(lst.start, role.duration_years)
                if not _within(stop, since, until):
                    continue
                end = end or natural_end(lst, book)
                # a listing that ended first took the implication with it then
                if end is None or stop < end:
                    partial.append((lst, rule, role))
    if repairs:
        # A repair ends the listing it names (by number, or by id for listings
        # without one), so those listings' parties change with it.
        out.listed |= {r.subject_id for r in repairs}
        ids = sorted({i for r in repairs for i in r.props.get("repairs") or []})
        numbers = sorted({r.number for r in repairs if r.number})
        repaired = list(store.get_listings(ids).values()) if ids else []
        if numbers:
            repaired += store.listings_by_number(numbers, trigger_kinds)
        for lst in repaired:
            if lst.kind != REPAIR_KIND:
                whole.setdefault(lst.id, lst)
    out.listed |= {lst.subject_id for lst in whole.values()}
    _implicated(store, out, whole, partial, book, threshold, control_depth)
    _relations(store, out, book, control_depth)
    return out


def _implicated(
    store: GraphStore,
    out: TimeChanges,
    whole: dict[str, Listing],
    partial: list[tuple[Listing, Rule, Role]],
    book: RuleBook,
    threshold: float,
    control_depth: int,
) -> None:
    listed_ids = sorted(
        {lst.subject_id for lst in whole.values()} | {p[0].subject_id for p in partial}
    )
    if not listed_ids:
        return
    subjects = store.get_subjects(listed_ids)
    # listed subject -> (listing, rule, role) whose party may change
    reach: dict[str, list[tuple[Listing, Rule, Role]]] = {}
    for lst in whole.values():
        for rule in book.rules:
            if _triggers(rule, lst, subjects.get(lst.subject_id)):
                for role in rule.implicated:
                    reach.setdefault(lst.subject_id, []).append((lst, rule, role))
    for lst, rule, role in partial:
        if _triggers(rule, lst, subjects.get(lst.subject_id)):
            reach.setdefault(lst.subject_id, []).append((lst, rule, role))
    controlled: set[str] = set()
    rel_types: set[str] = set()
    for entries in reach.values():
        for lst, _rule, role in entries:
            if not _props_match(role.listing_props, lst.props):
                continue
            if role.named_party:
                party = (lst.props.get("parties") or {}).get(role.named_party)
                if isinstance(party, str):
                    out.implicated.add(party)
            rel_types.update(role.relations)
            if _reads_inferred_control(role):
                controlled.add(lst.subject_id)
    if rel_types:
        types = sorted(rel_types)
        rels = store.relations_of(sorted(reach), types)
        # the role as the rule reads it, through the one reader (graph/evidence/roles.py):
        # a party known or not known to hold it may see a measure or a review change
        orgs = sorted({r.target for r in rels})
        family = {r.id: r for r in rels}
        family.update((r.id, r) for r in store.relations_of(orgs, types, None, "in"))
        roles = RoleBook(family.values())
        for rel in rels:
            for listed in {rel.source, rel.target} & reach.keys():
                for lst, _rule, role in reach[listed]:
                    if not role.relations or not _role_holds(role, rel):
                        continue
                    party = rel.source if role.party_end == "source" else rel.target
                    if party == listed or not _props_match(role.listing_props, lst.props):
                        continue
                    read_at = out.until if role.time == "now" else lst.start
                    if read_at is None:
                        continue
                    reading = roles.read(rel.type, rel.source, rel.target, read_at)
                    if reading.state != NOT_HOLDING:
                        out.implicated.add(party)
    if controlled:
        held = controllers_of(store, controlled, out.until, threshold, control_depth)
        for holders in held.values():
            out.implicated |= holders


def _relations(store: GraphStore, out: TimeChanges, book: RuleBook, control_depth: int) -> None:
    # Only relations some rule reads, and shareholdings (inferred control), can
    # change a measure; a branch or a plain contact relation cannot.
    types = {t for r in book.rules for role in r.implicated for t in role.relations}
    moved: set[str] = set()
    ownership = set(ownership_types())
    for rel in store.iter_relations(sorted(types | ownership)):
        if _within(rel.valid_from, out.since, out.until) or _within(
            rel.valid_to, out.since, out.until
        ):
            out.related |= {rel.source, rel.target}
            if rel.type in ownership:
                moved.add(rel.source)
    if moved:
        # Every holder above a moved shareholding may gain or lose inferred control
        # of what lies below it, whatever its share in the holder in between.
        for held in holders_of(store, moved, out.until, control_depth).values():
            out.related |= set(held)


# -- the change feed: the log since a time, and time itself --------------------------

_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def parse_time(value: str, name: str = "since") -> datetime:
    """An ISO date (the start of that day in the city, like ``as_of``) or date-time
    (a naive one is read as UTC)."""
    text = value.strip()
    try:
        # fromisoformat also takes 20240601 and 2024-W22-6: the API promises the
        # extended form only
        if not _ISO_TIME.fullmatch(text):
            raise ValueError(text)
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=CITY_TZ)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{name} must be an ISO date or date-time, e.g. 2024-06-01 or "
            "2024-06-01T08:00:00+08:00",
            parameter=name,
            value=value,
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass
class ChangeFeed:
    """Subjects whose measures may have changed between ``start`` and now."""

    # log entries (loads, repairs) at or after the start, and the latest one's time
    entries: int
    latest: str | None
    # the subjects those entries name (their survivors, if merged since)
    changed: list[str]
    # the days whose time-driven changes are included: after ``since_day``, up to ``today``
    since_day: str
    today: str
    by_time: TimeChanges
    # everyone above, with the logged subjects' related parties and controllers
    subjects: list[str]


def change_feed(
    store: GraphStore,
    start: datetime,
    now: datetime,
    *,
    threshold: float,
    control_depth: int,
) -> ChangeFeed:
    """Every subject whose measures may differ at ``now`` from what they were at
    ``start`` (both aware): the subjects of the loads and repairs logged since,
    their direct related parties and inferred controllers, and what time alone
    changed on the city's days after ``start`` up to ``now`` (``time_changes``)."""
    today = now.astimezone(CITY_TZ).date().isoformat()
    since_day = start.astimezone(CITY_TZ).date().isoformat()
    changed: set[str] = set()
    entries = 0
    latest: str | None = None
    for body in store.list_docs(CHANGES).values():
        at = str(body.get("at") or "")
        try:
            when = parse_time(at, "at")
        except InvalidInput:
            continue
        if when >= start:
            entries += 1
            changed.update(body.get("subjects") or [])
            latest = max(latest or at, at)
    # subjects merged since the change was logged answer under their survivor
    alive = set(store.resolve_ids(sorted(changed)).values()) if changed else set()
    related = {
        r.other(end)
        for r in (store.relations_of(sorted(alive)) if alive else [])
        for end in (r.source, r.target)
        if end in alive
    }
    if alive:
        # a newly listed organisation flags its inferred controllers, several hops up
        held = controllers_of(store, alive, today, threshold, control_depth)
        related |= {h for holders in held.values() for h in holders}
    timed = time_changes(store, since_day, today, threshold=threshold, control_depth=control_depth)
    everyone = sorted(alive | related | timed.subjects())
    return ChangeFeed(entries, latest, sorted(alive), since_day, today, timed, everyone)
