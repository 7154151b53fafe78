"""Did the role hold on day D? One reader for every rule, check and page.

A relation keeps what its sources say of its time (shared/domain/rules.md,
"Roles in time"):

- ``props["held"]``: the interval the record itself states (officers'
  任职日期/离任日期, a guarantee's period), ``{"from", "to"}`` with ``to`` the
  first day it no longer holds. Inside it the role is *known*, outside it
  *known not to hold*.
- ``props["seen"]``: snapshot observations, one per record that showed the
  relation: ``{"on": file date, "since": 核准日期 or None, "record": id}``. What a
  snapshot row shows has held at least since ``since`` (the file date when the
  row has none) and goes on holding until a later snapshot of the same
  organisation no longer shows it. For a later snapshot on *f2* whose new
  holder holds since *a2*, and this holder last seen on *f1*: known until
  min(*f1*, *a2*), unknown until *a2*, known not to hold from *a2*.

A relation with neither (built by hand, or stored before relations kept their
time) is read from ``valid_from``/``valid_to`` as a stated interval.

``valid_from``/``valid_to`` of a snapshot relation are only a summary for
display and ``as_of`` filters (``display_interval``); this module never reads
them for such a relation.

The answer for a party in a role is the combination of every relation that
puts it there (a registry snapshot and an officers row may both say who the
legal representative is): known when some source knows and none denies;
unknown when sources disagree or none knows; not holding when all deny. For a
role only one party holds at a time (``single_holder`` in model.yaml: the
legal representative), another party known to hold it on D means this one did
not, and two parties both "known" is a contradiction read as unknown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graph.model import Relation, model

KNOWN = "known"
UNKNOWN = "unknown"
NOT_HOLDING = "not_holding"

# Which evidence decided, shown on every hop of a measure's path.
DATED = "dated"
SNAPSHOT = "snapshot"
NAMED_IN_RECORD = "named_in_record"
CONFLICT = "conflict"
NO_EVIDENCE = "no_evidence"
ANOTHER_HOLDER = "another_holder"


@dataclass(frozen=True)
class Observation:
    on: str
    since: str | None
    record: str

    @property
    def start(self) -> str:
        """The first day the row shows its content held."""
        return self.since if self.since and self.since < self.on else self.on

    @property
    def feed(self) -> str:
        return self.record.split(":", 1)[0]


@dataclass(frozen=True)
class RoleReading:
    """What the evidence says of one party in one role on one day."""

    state: str
    source: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.state == KNOWN

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "source": self.source, **self.detail}


def observations(rel: Relation) -> list[Observation]:
    out = []
    for o in rel.props.get("seen") or []:
        if isinstance(o, dict) and o.get("on"):
            out.append(Observation(str(o["on"]), o.get("since") or None, str(o.get("record", ""))))
    return sorted(out, key=lambda o: (o.on, o.record))


def stated_interval(rel: Relation) -> tuple[str | None, str | None] | None:
    """The interval the records state, or None when they state none."""
    held = rel.props.get("held")
    if isinstance(held, dict):
        return held.get("from") or None, held.get("to") or None
    if "seen" in rel.props:
        return None
    # Relations without time evidence of their own: valid_from/valid_to are stated.
    return rel.valid_from, rel.valid_to


def is_single_holder(rel_type: str) -> bool:
    spec = model().relation_types.get(rel_type)
    return spec is not None and spec.single_holder


@dataclass(frozen=True)
class _Claim:
    """One stretch of time a source puts the party in the role."""

    source: str
    # first day it holds; None: the source does not say when it began
    start: str | None
    # known to hold until (exclusive; None: open), then unknown until ``not_from``,
    # then known not to hold
    known_until: str | None
    not_from: str | None
    detail: dict[str, Any]
    # last day known not to hold (None: for good); after it, a later stretch of
    # the same relation begins and the time between is not known
    not_until: str | None = None

    def verdict(self, day: str) -> str | None:
        """known / unknown / not_holding on ``day``, or None when the claim says nothing."""
        if self.not_from is not None and day >= self.not_from:
            if self.not_until is not None and day > self.not_until:
                return None
            return NOT_HOLDING
        if self.start is None:
            return UNKNOWN
        if day < self.start:
            # a stated start says it did not hold before; a snapshot says nothing
            return NOT_HOLDING if self.source == DATED else None
        if self.known_until is None or day < self.known_until:
            return KNOWN
        return UNKNOWN


def _end_after(
    last_seen: str, absent: dict[str, list[Observation]], single: bool
) -> tuple[str, str, str] | None:
    """(known until, not from, record) for the first snapshot after ``last_seen``
    that no longer shows the party, or None."""
    later = sorted(d for d in absent if d > last_seen)
    if not later:
        return None
    day = later[0]
    # For a role one party holds at a time, the new holder's 核准日期 dates the
    # change; otherwise only the later snapshot's own date is known.
    change = min(o.start for o in absent[day]) if single else day
    return min(last_seen, change), change, absent[day][0].record


def _claims(rel: Relation, family: list[Relation]) -> list[_Claim]:
    single = is_single_holder(rel.type)
    mine = observations(rel)
    # Days the snapshots show this relation: for a role one party holds at a
    # time, any relation putting the same party there (registry and officers
    # rows); otherwise this very relation (an officer's other title is another role).
    shown_days: set[str] = {o.on for o in mine}
    peers_obs: list[Observation] = []
    other_starts: list[str] = []
    for peer in family:
        if peer.id == rel.id:
            continue
        obs = observations(peer)
        if single and peer.source == rel.source:
            shown_days.update(o.on for o in obs)
            continue
        peers_obs.extend(obs)
        stated = stated_interval(peer)
        if single and stated is not None and stated[0] is not None:
            other_starts.append(stated[0])
    feeds = {o.feed for o in mine}
    # Snapshot dates of the organisation that do not show the party at all. For a
    # role one party holds at a time any feed that names the holder counts; for
    # others only the same feed (an officers file says nothing of shareholders).
    absent: dict[str, list[Observation]] = defaultdict(list)
    for o in peers_obs:
        if o.on not in shown_days and (single or o.feed in feeds):
            absent[o.on].append(o)
    base = {"relation_id": rel.id}
    stated = stated_interval(rel)
    if stated is not None and stated[0] is not None:
        start: str = stated[0]
        end = stated[1]
        until, not_from, ended_by = end, end, None
        # another party's stated start inside this interval is an exact change
        cuts = [s for s in other_starts if s > start and (end is None or s < end)]
        if cuts:
            until = not_from = min(cuts)
        if mine:
            snap = _end_after(mine[-1].on, absent, single)
            if snap is not None and (not_from is None or snap[1] < not_from):
                until, not_from, ended_by = snap
        contradicted = None
        if single and end is None:
            # A snapshot showing another holder inside an open-ended term says the
            # term was not one unbroken stretch (an officers row that lost its
            # 离任日期): from that sighting on, the row no longer knows. (A term
            # with its end stated that overlaps another holder is a contradiction
            # the single-holder rule reads as unknown for both.)
            sightings = [
                o for o in peers_obs if start < o.start and (until is None or o.start < until)
            ]
            if sightings:
                first = min(sightings, key=lambda o: (o.start, o.record))
                # When the term ended the row no longer says, and the other
                # holder's 核准日期 is an approval that may postdate the change:
                # the row is known only up to the last snapshot that still
                # showed this party (rules.md: unknown between f1 and a2).
                shown_before = [d for d in shown_days if d < first.start]
                until, contradicted = max([start, *shown_before]), first.record
        detail = {**base, "valid_from": start, "valid_to": end}
        if not_from != end or contradicted:
            detail.update(known_until=until, ended_from=not_from, ended_by=ended_by)
        if contradicted:
            detail["contradicted_by"] = contradicted
        return [_Claim(DATED, start, until, not_from, detail)]
    hard_end = stated[1] if stated is not None else None
    if not mine:
        return [_Claim(DATED, None, hard_end, hard_end, {**base, "valid_to": hard_end})]
    claims: list[_Claim] = []
    run: list[Observation] = []
    days = sorted({o.on for o in mine} | set(absent))
    by_day: dict[str, list[Observation]] = defaultdict(list)
    for o in mine:
        by_day[o.on].append(o)

    def close(run: list[Observation], next_day: str | None) -> None:
        first, last = run[0], run[-1]
        ended = _end_after(last.on, absent, single)
        until: str | None = ended[0] if ended else None
        not_from: str | None = ended[1] if ended else None
        ended_by: str | None = ended[2] if ended else None
        if hard_end is not None and (not_from is None or hard_end < not_from):
            until = not_from = hard_end
        known_from = min(o.start for o in by_day[first.on])
        detail: dict[str, Any] = {
            **base,
            "known_from": known_from,
            "last_seen": last.on,
            "records": sorted({o.record for o in run}),
        }
        if not_from is not None:
            detail.update(known_until=until, ended_from=not_from, ended_by=ended_by)
        not_until = None
        if next_day is not None:
            # known not to hold up to the last snapshot without it before it returns
            not_until = max(d for d in absent if d < next_day)
        claims.append(_Claim(SNAPSHOT, detail["known_from"], until, not_from, detail, not_until))

    runs: list[list[Observation]] = []
    for day in days:
        if day in by_day:
            run.extend(by_day[day])
        elif run and day > run[-1].on:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    for i, r in enumerate(runs):
        close(r, runs[i + 1][0].on if i + 1 < len(runs) else None)
    return claims


def _read_one(rel: Relation, family: list[Relation], day: str) -> RoleReading:
    claims = _claims(rel, family)
    verdicts = [(c.verdict(day), c) for c in claims]
    for state in (KNOWN, UNKNOWN, NOT_HOLDING):
        hit = next((c for v, c in verdicts if v == state), None)
        if hit is not None:
            source = NO_EVIDENCE if hit.start is None and state == UNKNOWN else hit.source
            return RoleReading(state, source, dict(hit.detail))
    # before any snapshot shows it: held or not, nobody says
    first = claims[0]
    return RoleReading(UNKNOWN, first.source, {**first.detail, "why": "before_known_from"})


def _known_end(reading: RoleReading) -> tuple[int, str]:
    """Sort key: the later a known reading stops being known, the larger; open, largest."""
    end = reading.detail.get("known_until") or reading.detail.get("valid_to")
    return (1, "") if end is None else (0, str(end))


def _combine(readings: list[RoleReading]) -> RoleReading:
    states = {r.state for r in readings}
    if KNOWN in states and NOT_HOLDING not in states:
        # The role holds as long as any post that makes it (two officers rows
        # with titles of one group): the reading that lasts longest says until
        # when, since a measure read now ends with it.
        return max((r for r in readings if r.known), key=_known_end)
    if KNOWN in states:
        return RoleReading(
            UNKNOWN,
            CONFLICT,
            {"why": "sources_disagree", "sources": [r.to_dict() for r in readings]},
        )
    if UNKNOWN in states:
        return next(r for r in readings if r.state == UNKNOWN)
    return readings[0]


def _read_posts(mine: list[Relation], family: list[Relation], day: str) -> RoleReading:
    """One party's relations of one type into one organisation, read on ``day``.

    Relations with the same title are sources about one post, which must agree
    (``_combine``); so are all relations of a role one party holds at a time
    (a registry row and an officers row about the legal representative).
    Otherwise different titles are different posts (财务负责人 and 总经理 are
    both officer relations): one post ended does not contradict another that
    goes on, so the role holds as long as a post known to hold does."""
    single = is_single_holder(mine[0].type)
    posts: dict[str, list[Relation]] = defaultdict(list)
    for rel in mine:
        posts["" if single else str(rel.props.get("title") or "")].append(rel)
    readings = [_combine([_read_one(r, family, day) for r in rels]) for rels in posts.values()]
    if len(readings) == 1:
        return readings[0]
    known = [r for r in readings if r.known]
    if known:
        return max(known, key=_known_end)
    return next((r for r in readings if r.state == UNKNOWN), readings[0])


class RoleBook:
    """Relations of one type into a set of organisations, read on any day.

    ``family`` is every relation of the types asked for whose *target* is one
    of the organisations (relations point from the party to the organisation),
    as the store returns them, in any time.
    """

    def __init__(self, family: Iterable[Relation]) -> None:
        self._by_target: dict[tuple[str, str], list[Relation]] = defaultdict(list)
        for rel in family:
            self._by_target[(rel.type, rel.target)].append(rel)

    def family(self, rel_type: str, target: str) -> list[Relation]:
        return self._by_target.get((rel_type, target), [])

    def read(
        self,
        rel_type: str,
        party: str,
        target: str,
        day: str,
        accept: Callable[[Relation], bool] | None = None,
    ) -> RoleReading:
        """Did ``party`` hold ``rel_type`` at ``target`` on ``day``? ``accept``
        narrows the party's relations that make the role (an officer's title)."""
        family = self.family(rel_type, target)
        mine = [r for r in family if r.source == party and (accept is None or accept(r))]
        if not mine:
            return RoleReading(NOT_HOLDING, NO_EVIDENCE, {})
        reading = _read_posts(mine, family, day)
        if not is_single_holder(rel_type):
            return reading
        others = {r.source for r in family if r.source != party}
        known_others = [
            o
            for o in sorted(others)
            if _read_posts([r for r in family if r.source == o], family, day).known
        ]
        if not known_others:
            return reading
        if reading.known:
            return RoleReading(
                UNKNOWN,
                CONFLICT,
                {**reading.detail, "why": "another_holder_known", "others": known_others},
            )
        if reading.state == UNKNOWN:
            return RoleReading(
                NOT_HOLDING, ANOTHER_HOLDER, {**reading.detail, "holder": known_others[0]}
            )
        return reading

    def holders(self, rel_type: str, target: str, day: str) -> dict[str, RoleReading]:
        """Every party the evidence puts in the role on ``day`` (known or unknown)."""
        out = {}
        for party in sorted({r.source for r in self.family(rel_type, target)}):
            reading = self.read(rel_type, party, target, day)
            if reading.state != NOT_HOLDING:
                out[party] = reading
        return out


def display_interval(rel: Relation, family: list[Relation]) -> tuple[str | None, str | None]:
    """``valid_from``/``valid_to`` for display and ``as_of`` filters: from the first
    day a source shows the relation to the first day it is known to have ended."""
    claims = _claims(rel, family)
    starts = [c.start for c in claims]
    start = None if None in starts else min(s for s in starts if s is not None)
    ends = [c.not_from for c in claims]
    return start, (None if None in ends else max(e for e in ends if e is not None))
