"""The propagation engine: which measures apply to a subject on a date, and why.

A subject gets *direct* measures from its own active listings, and
*propagated* ones when a related party is listed and a rule (rules.yaml)
names the role that links them, read at the time the rule says (``now`` =
as_of, ``event`` = the listing's start). Every measure carries the rule, the
legal basis, the listing and the path of hops from the listed subject to this
one, so an investigator can check each step.

Red-list suspension (``red_list_suspension``, rules.md: "any active listing
under the rules above against a red_list subject") reads the listing as one
*against the subject itself*: only a listing that gives the red-list subject a
punitive measure directly suspends its incentives. A measure that reaches it
through a related party (its legal representative role at a listed company, say)
does not; the commendation scenario still restricts on any punitive measure.

Inferred control (graph/control.py) is computed for ``as_of`` only. That is
right for every rule that uses it: the only role with ``inferred_measures`` is
``dishonest_debtor``'s ``actual_controller``, read ``now``; the rules that read
roles at the listing date (``event``: tax, serious violations, severe
penalties) name the legal representative only, never a controller. A rule that
asked for inferred control at the event date would need control computed on
each listing's date, so the engine refuses it (ConfigError) rather than answer
with today's control.

``measures_many`` answers for a whole batch with a constant number of store
round trips (subjects, relations, ``max_depth`` ownership hops, listings,
repairs), so POST /checks of 1,000 subjects costs the same number of calls
as one. It uses only GraphStore protocol methods, so both stores agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graph.control import Control, controlled_by
from graph.errors import ConfigError
from graph.evidence.identity import same_person_name
from graph.evidence.roles import KNOWN, NAMED_IN_RECORD, NOT_HOLDING, RoleBook, RoleReading
from graph.model import PERSON, Listing, Relation, Subject, model
from graph.propagate.status import REPAIR_KIND, ListingStatus, add_years, repair_book
from graph.rules import Role, Rule, RuleBook, rulebook, title_parts
from graph.store.base import GraphStore

RED_LIST = "red_list"
REVIEW_MEASURE = "related_party_review"
# why a party gets related_party_review instead of the rule's measures
ROLE_TIME_UNKNOWN = "role_time_unknown"
RECORD_NAMES_ANOTHER = "record_names_another"
TITLE_ONLY = "title_only"


@dataclass
class Measure:
    subject: str
    rule: str
    measure: str
    label: str
    punitive: bool
    basis: str
    direct: bool
    listing: dict[str, Any]
    path: list[dict[str, Any]] = field(default_factory=list)
    role: str | None = None
    # first day the measure no longer holds, when known
    until: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            not self.direct,
            self.rule,
            self.measure,
            self.listing["id"],
            tuple(h.get("relation_id") or "" for h in self.path),
            self.role or "",
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "measure": self.measure,
            "label": self.label,
            "punitive": self.punitive,
            "basis": self.basis,
            "direct": self.direct,
            "role": self.role,
            "until": self.until,
            "listing": self.listing,
            "path": self.path,
        }
        out.update(self.extra)
        return out


def listing_view(lst: Listing, status: ListingStatus) -> dict[str, Any]:
    return {
        "id": lst.id,
        "feed": lst.kind,
        "subject": lst.subject_id,
        "number": lst.number,
        "department": lst.department,
        "dates": {"start": lst.start, "end": lst.end, **status.to_dict()},
        "props": dict(lst.props),
        "record": list(lst.record_ids),
    }


def hop_view(
    rel: Relation,
    listed: str,
    party: str,
    role: str,
    read_at: str | None,
    reading: RoleReading | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    hop: dict[str, Any] = {
        "from": listed,
        "to": party,
        "relation": rel.type,
        "relation_id": rel.id,
        "role": role,
        "valid_from": rel.valid_from,
        "valid_to": rel.valid_to,
        "read_at": read_at,
        "records": list(rel.record_ids),
    }
    if names is not None:
        hop["from_name"] = names.get(listed)
        hop["to_name"] = names.get(party)
    if reading is not None:
        # how the role's time was known on read_at: dated interval, snapshot,
        # named in the record (graph/evidence/roles.py)
        hop["time"] = reading.to_dict()
    # every property the model declares for some relation type (title, share, …)
    for k in model().relation_properties():
        if rel.props.get(k) is not None:
            hop[k] = rel.props[k]
    return hop


def _props_match(conds: dict[str, frozenset[str]], props: dict[str, Any]) -> bool:
    return all(str(props.get(k) or "") in allowed for k, allowed in conds.items())


def _triggers(rule: Rule, lst: Listing, listed: Subject | None) -> bool:
    if lst.kind not in rule.kinds or rule.punitive_listing:
        return False
    if rule.subject_type is not None and (listed is None or listed.type != rule.subject_type):
        return False
    return _props_match(rule.trigger_props, lst.props)


def _role_holds(role: Role, rel: Relation) -> bool:
    if rel.type not in role.relations:
        return False
    # title groups narrow the relation types whose posts carry a title (officers)
    if role.titles and "title" in model().relation_types[rel.type].properties:
        return bool(title_parts(rel.props.get("title")) & role.titles)
    return True


def _is_inferred(rel: Relation) -> bool:
    """Control worked out from shareholdings (graph/control.py), not declared."""
    return rel.props.get("basis") == "inferred"


def _reads_inferred_control(role: Role) -> bool:
    control = model().with_trait("control")
    return bool(role.inferred_measures) and any(t in control for t in role.relations)


class _Context:
    """Everything one batch needs, fetched up front in a fixed number of calls."""

    def __init__(
        self,
        store: GraphStore,
        ids: list[str],
        as_of: str,
        book: RuleBook,
        threshold: float,
        control_depth: int,
    ) -> None:
        self.book = book
        self.as_of = as_of
        self.subjects: dict[str, Subject] = store.get_subjects(ids)
        self.ids = [i for i in ids if i in self.subjects]
        rel_types = sorted({t for r in book.rules for role in r.implicated for t in role.relations})
        self.rels: dict[str, list[Relation]] = {i: [] for i in self.ids}
        wanted = set(self.ids)
        for rel in store.relations_of(self.ids, rel_types) if self.ids else []:
            for end in {rel.source, rel.target}:
                if end in wanted:
                    self.rels[end].append(rel)
        # Whether a role held on a day depends on every relation of that role
        # into the organisation (a later snapshot naming someone else ends it),
        # so the reader gets them all, in any time: one call.
        orgs = sorted({rel.target for rels in self.rels.values() for rel in rels})
        family = {r.id: r for rels in self.rels.values() for r in rels}
        if orgs:
            family.update((r.id, r) for r in store.relations_of(orgs, rel_types, direction="in"))
        self.roles = RoleBook(family.values())
        self.controls: dict[str, list[Control]] = controlled_by(
            store, self.ids, as_of, threshold, control_depth
        )
        party_kinds = sorted(
            {
                k
                for r in book.rules
                if any(role.named_party for role in r.implicated)
                for k in r.kinds
            }
        )
        # Parties a listing names by key (the finance officer of a tax decision)
        # need no edge; the store indexes them, so one look-up finds their listings.
        self.named_in: dict[str, list[Listing]] = {}
        if party_kinds:
            for lst in store.listings_naming(self.ids, party_kinds):
                for sid in (lst.props.get("parties") or {}).values():
                    if sid in wanted:
                        self.named_in.setdefault(sid, []).append(lst)
        related = {r.other(i) for i in self.ids for r in self.rels[i]}
        related |= {c.org for cs in self.controls.values() for c in cs}
        related |= {lst.subject_id for ls in self.named_in.values() for lst in ls}
        extra = sorted(related - set(self.subjects))
        if extra:
            self.subjects.update(store.get_subjects(extra))
        # names on every hop, so that a path reads as a chain of names
        self.names: dict[str, str] = {i: s.name for i, s in self.subjects.items()}
        everyone = sorted(set(self.ids) | related)
        self.listings: dict[str, list[Listing]] = {}
        # the listings that name a party are among these: their subjects are related
        found = store.listings_of(everyone)
        for lst in found:
            self.listings.setdefault(lst.subject_id, []).append(lst)
        self.repairs = repair_book(store, found)
        self._status: dict[str, ListingStatus] = {}

    def status(self, lst: Listing) -> ListingStatus:
        st = self._status.get(lst.id)
        if st is None:
            st = self.repairs.status(lst, self.as_of, self.book)
            self._status[lst.id] = st
        return st

    def active_listings(self, sid: str) -> list[Listing]:
        return [
            lst
            for lst in self.listings.get(sid, [])
            if lst.kind != REPAIR_KIND and self.status(lst).active
        ]


class _Collector:
    def __init__(self, ctx: _Context, subject: str) -> None:
        self.ctx = ctx
        self.subject = subject
        self.out: dict[tuple[Any, ...], Measure] = {}

    def add(
        self,
        rule: Rule,
        measure: str,
        lst: Listing,
        path: list[dict[str, Any]],
        role: str | None,
        until: str | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        spec = self.ctx.book.measures[measure]
        m = Measure(
            subject=self.subject,
            rule=rule.id,
            measure=measure,
            label=spec.label,
            punitive=spec.punitive,
            basis=rule.basis_for(lst.props),
            direct=not path,
            listing=listing_view(lst, self.ctx.status(lst)),
            path=path,
            role=role,
            until=until,
            extra=extra or {},
        )
        # One measure per (rule, measure, listing, role): two records asserting the
        # same role (registry and officers feed) are two paths to one measure.
        key = (m.direct, m.rule, m.measure, m.listing["id"], m.role or "")
        have = self.out.get(key)
        if have is None:
            self.out[key] = m
            return
        if path and path != have.path and path not in have.extra.get("other_paths", []):
            have.extra.setdefault("other_paths", []).append(path)
        # The implication lasts while any of the paths holds.
        if have.until is not None and (until is None or until > have.until):
            have.until = until

    def result(self) -> list[Measure]:
        return sorted(self.out.values(), key=Measure.sort_key)


def _earliest(*dates: str | None) -> str | None:
    real = [d for d in dates if d]
    return min(real) if real else None


def _subject_measures(ctx: _Context, sid: str, col: _Collector) -> None:
    subject = ctx.subjects[sid]
    punitive: dict[str, Listing] = {}
    for lst in ctx.active_listings(sid):
        for rule in ctx.book.rules:
            if not _triggers(rule, lst, subject):
                continue
            ms = list(rule.subject_measures)
            if subject.type == PERSON:
                ms += rule.person_measures
            for m in ms:
                col.add(rule, m, lst, [], None, ctx.status(lst).until)
                if ctx.book.is_punitive(m):
                    punitive[lst.id] = lst
    # Only the subject's own listings count (see the module docstring): a measure
    # propagated to a red-list subject leaves its incentives alone.
    red = [lst for lst in ctx.active_listings(sid) if lst.kind == RED_LIST]
    if red and punitive:
        red_untils = [ctx.status(r).until for r in red]
        # the suspension lasts while the listing and some commendation both hold
        red_until = None if None in red_untils else max(u for u in red_untils if u)
        for rule in ctx.book.rules:
            if not rule.punitive_listing:
                continue
            for lst in punitive.values():
                for m in rule.subject_measures:
                    col.add(
                        rule,
                        m,
                        lst,
                        [],
                        None,
                        _earliest(ctx.status(lst).until, red_until),
                        {"commendations": [listing_view(r, ctx.status(r)) for r in red]},
                    )


def _named(role: Role, lst: Listing) -> tuple[str | None, str | None]:
    """The person the listing record names in the role: (subject id by key, name)."""
    if role.named_party is None:
        return None, None
    sid = (lst.props.get("parties") or {}).get(role.named_party)
    name = lst.props.get(f"{role.named_party}_name")
    return (sid if isinstance(sid, str) else None), (str(name) if name else None)


def _propagated(ctx: _Context, sid: str, col: _Collector) -> None:
    for rule in ctx.book.rules:
        for role in rule.implicated:
            if role.named_party:
                _named_by_key(ctx, sid, rule, role, col)
            for rel in ctx.rels[sid]:
                if not _role_holds(role, rel):
                    continue
                party_end = rel.source if role.party_end == "source" else rel.target
                if party_end != sid:
                    continue
                listed = rel.other(sid)
                inferred = _is_inferred(rel)
                if inferred and not role.inferred_measures:
                    continue
                for lst in ctx.active_listings(listed):
                    if not _triggers(rule, lst, ctx.subjects.get(listed)):
                        continue
                    if not _props_match(role.listing_props, lst.props):
                        continue
                    _through_relation(ctx, sid, rule, role, rel, lst, col)
            if _reads_inferred_control(role):
                _inferred_control(ctx, sid, rule, role, col)


def _through_relation(
    ctx: _Context, sid: str, rule: Rule, role: Role, rel: Relation, lst: Listing, col: _Collector
) -> None:
    """One relation puts ``sid`` in the role towards the listed subject: what the
    evidence on the day the rule reads gives it."""
    listed = rel.other(sid)
    read_at = ctx.as_of if role.time == "now" else lst.start
    if read_at is None:
        return
    reading = ctx.roles.read(
        rel.type, rel.source, rel.target, read_at, accept=lambda r: _role_holds(role, r)
    )
    if reading.state == NOT_HOLDING:
        return
    named_id, named_name = _named(role, lst)
    reason: str | None = None
    if named_id is not None:
        if named_id == sid:
            return  # the record names him by key: _named_by_key gives his measures
        reason = RECORD_NAMES_ANOTHER
    elif named_name is not None:
        subject = ctx.subjects.get(sid)
        if subject is None or not same_person_name(named_name, subject.names):
            reason = RECORD_NAMES_ANOTHER
        elif not reading.known:
            # A name is not an identity: another 王伟 may have held the role in
            # the window the graph cannot see into. Only the graph's own
            # knowledge of the day, agreeing with the name, may punish.
            reason = ROLE_TIME_UNKNOWN
        else:
            reading = RoleReading(
                KNOWN, NAMED_IN_RECORD, {"name": named_name, "graph": reading.to_dict()}
            )
    elif role.named_party is not None and role.unnamed == "review":
        reason = TITLE_ONLY
    elif not reading.known:
        reason = ROLE_TIME_UNKNOWN
    until = ctx.status(lst).until
    if role.time == "now":
        # the implication lasts while the role does, too
        until = _earliest(
            until, reading.detail.get("known_until") or reading.detail.get("valid_to")
        )
    if role.duration_years and lst.start:
        stop = add_years(lst.start, role.duration_years)
        if stop <= ctx.as_of:
            return
        until = _earliest(until, stop)
    hop = hop_view(rel, listed, sid, role.role, read_at, reading, ctx.names)
    if reason is not None:
        hop["reason"] = reason
        col.add(rule, REVIEW_MEASURE, lst, [hop], role.role, until, {"reason": reason})
        return
    measures = role.inferred_measures if _is_inferred(rel) else role.measures
    for m in measures:
        col.add(rule, m, lst, [hop], role.role, until)


def _inferred_control(ctx: _Context, sid: str, rule: Rule, role: Role, col: _Collector) -> None:
    for control in ctx.controls[sid]:
        for lst in ctx.active_listings(control.org):
            if not _triggers(rule, lst, ctx.subjects.get(control.org)):
                continue
            if not _props_match(role.listing_props, lst.props):
                continue
            # one measure per controlled organisation: the path is the strongest
            # chain, and every chain that adds to the share is listed as evidence
            chains = [
                [
                    hop_view(rel, rel.target, rel.source, "shareholder", ctx.as_of, None, ctx.names)
                    for rel in reversed(chain)
                ]
                for chain in sorted(control.chains, key=_chain_order)
            ]
            for m in role.inferred_measures:
                col.add(
                    rule,
                    m,
                    lst,
                    chains[0],
                    "inferred_controller",
                    ctx.status(lst).until,
                    {"cumulative_share": control.share, "chains": chains},
                )


def _chain_order(chain: list[Relation]) -> tuple[float, list[str]]:
    product = 1.0
    for rel in chain:
        product *= float(rel.props.get("share") or 0)
    return (-product, [r.id for r in chain])


def _named_by_key(ctx: _Context, sid: str, rule: Rule, role: Role, col: _Collector) -> None:
    """Listings whose record names ``sid`` by ID number in the role: he is the one
    implicated, whatever the graph says (rules.md)."""
    for lst in ctx.named_in.get(sid, []):
        if _named(role, lst)[0] != sid:
            continue
        if not ctx.status(lst).active or not _triggers(rule, lst, ctx.subjects.get(lst.subject_id)):
            continue
        if not _props_match(role.listing_props, lst.props):
            continue
        read_at = ctx.as_of if role.time == "now" else lst.start
        hop = {
            "from": lst.subject_id,
            "from_name": ctx.names.get(lst.subject_id),
            "to": sid,
            "to_name": ctx.names.get(sid),
            "relation": "named_in_listing",
            "relation_id": None,
            "role": role.role,
            "valid_from": lst.start,
            "valid_to": None,
            "read_at": read_at,
            "records": list(lst.record_ids),
            "time": {"state": KNOWN, "source": NAMED_IN_RECORD, "records": list(lst.record_ids)},
        }
        until = ctx.status(lst).until
        if role.duration_years and lst.start:
            stop = add_years(lst.start, role.duration_years)
            if stop <= ctx.as_of:
                continue
            until = _earliest(until, stop)
        for m in role.measures:
            col.add(rule, m, lst, [hop], role.role, until)


def _check_supported(book: RuleBook) -> None:
    for rule in book.rules:
        for role in rule.implicated:
            if role.inferred_measures and role.time != "now":
                # controlled_by answers for as_of; reading it at the listing date
                # would silently use today's shareholdings
                raise ConfigError(
                    f"rules.yaml: rules.{rule.id}: inferred control is computed for the "
                    f"query date only; role {role.role!r} reads it at time {role.time!r}",
                    rule=rule.id,
                    role=role.role,
                )


def measures_many(
    store: GraphStore,
    subject_ids: Iterable[str],
    as_of: str,
    *,
    threshold: float = 0.5,
    control_depth: int = 4,
    book: RuleBook | None = None,
) -> dict[str, list[Measure]]:
    """subject id -> its measures on ``as_of``; unknown ids are left out."""
    book = book or rulebook()
    _check_supported(book)
    ctx = _Context(store, sorted(set(subject_ids)), as_of, book, threshold, control_depth)
    out: dict[str, list[Measure]] = {}
    for sid in ctx.ids:
        col = _Collector(ctx, sid)
        _subject_measures(ctx, sid, col)
        _propagated(ctx, sid, col)
        out[sid] = col.result()
    return out


def measures(
    store: GraphStore,
    subject_id: str,
    as_of: str,
    *,
    threshold: float = 0.5,
    control_depth: int = 4,
    book: RuleBook | None = None,
) -> list[Measure]:
    return measures_many(
        store, [subject_id], as_of, threshold=threshold, control_depth=control_depth, book=book
    ).get(subject_id, [])


def listings_with_status(
    store: GraphStore, subject_id: str, as_of: str, book: RuleBook | None = None
) -> list[dict[str, Any]]:
    """A subject's listings (repair decisions included) with their status on ``as_of``."""
    book = book or rulebook()
    own = store.listings_of([subject_id])
    repairs = repair_book(store, own)
    out = []
    for lst in own:
        if lst.kind == REPAIR_KIND:
            view = listing_view(lst, ListingStatus("decision", until=None))
        else:
            view = listing_view(lst, repairs.status(lst, as_of, book))
        out.append(view)
    return out
