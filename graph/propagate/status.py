"""Whether a listing holds on a date, and why not.

A listing holds from its start until the first of: its removal date
(``end``), a credit repair decided for it, its publicity end (公示截止期,
the last day shown) or penalty validity (处罚有效期, likewise), or the maximum
publicity period ``rules.yaml`` gives its kind and severity. A listing without
a start date is never active (rules.md: "never active forever"). Dates are
ISO strings; every end here is exclusive (the first day the listing no longer
holds), like ``Relation.valid_to``. Date arithmetic saturates at 9999-12-31
instead of overflowing: a date the loaders accept never makes an answer fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from graph.model import Listing
from graph.rules import RuleBook, rulebook
from graph.store.base import GraphStore

ACTIVE = "active"
PENDING = "pending"
REMOVED = "removed"
REPAIRED = "repaired"
EXPIRED = "expired"
UNDATED = "undated"
REPAIR_KIND = "credit_repairs"
# the city's time zone: "today" and a bare date in a query are the city's
CITY_TZ = ZoneInfo("Asia/Shanghai")
# inclusive end dates a listing may carry (the last day shown or in force)
INCLUSIVE_ENDS = (("publicity_end", "publicity end (公示截止期)"), ("valid_until", "处罚有效期"))


@dataclass(frozen=True)
class ListingStatus:
    status: str
    # first day the listing no longer holds, when known (past or future)
    until: str | None = None
    reason: str | None = None
    repair_id: str | None = None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "until": self.until}
        if self.reason:
            out["reason"] = self.reason
        if self.repair_id:
            out["repair"] = self.repair_id
        return out


def add_years(iso: str, years: int) -> str:
    d = date.fromisoformat(iso)
    year = d.year + years
    if year > date.max.year:
        return date.max.isoformat()
    if year < date.min.year:
        return date.min.isoformat()
    try:
        return d.replace(year=year).isoformat()
    except ValueError:  # 29 February in a common year: the period ends on 1 March
        return date(year, 3, 1).isoformat()


def add_months(iso: str, months: int) -> str:
    d = date.fromisoformat(iso)
    total = d.month - 1 + months
    year, month = d.year + total // 12, total % 12 + 1
    if year > date.max.year:
        return date.max.isoformat()
    day = d.day
    while True:
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            day -= 1


def next_day(iso: str) -> str:
    d = date.fromisoformat(iso)
    return iso if d == date.max else (d + timedelta(days=1)).isoformat()


def repairs_of(listing: Listing, repairs: list[Listing], sole: bool = False) -> list[Listing]:
    """Repair decisions that end this listing: one naming it by id (an API repair),
    or one under its number about the same subject. Joint debtors share a 案号:
    a repair for one of them leaves the others listed (rules.md). ``sole``: the
    listing is the only one under its number, so a repair under that number
    whose subject could not be identified still names it."""
    out = []
    for r in repairs:
        if r.kind != REPAIR_KIND or r.id == listing.id:
            continue
        by_id = listing.id in (r.props.get("repairs") or [])
        by_number = listing.number is not None and r.number == listing.number
        if by_id or (by_number and (r.subject_id == listing.subject_id or sole)):
            out.append(r)
    return out


def _max_years(listing: Listing, book: RuleBook) -> tuple[int | None, bool]:
    period = book.period(listing.kind, listing.props)
    if period is None:
        return None, False
    years = period.max_years
    if period.override_prop:
        # the court (or department) may set another period on the record
        override = listing.props.get(period.override_prop)
        if isinstance(override, int | float) and override > 0:
            years = int(override)
    return years, period.not_published


def listing_status(
    listing: Listing,
    as_of: str,
    repairs: list[Listing],
    book: RuleBook | None = None,
    sole: bool = False,
) -> ListingStatus:
    book = book or rulebook()
    if listing.start is None:
        return ListingStatus(UNDATED, reason="no start date: never active")
    if listing.start > as_of:
        return ListingStatus(PENDING, reason="starts after as_of")
    years, not_published = _max_years(listing, book)
    if not_published:
        return ListingStatus(EXPIRED, until=listing.start, reason="not published (轻微)")
    # (date it ends, status, reason, repair id): the earliest one that has come wins
    ends: list[tuple[str, str, str, str | None]] = []
    if listing.end:
        ends.append((listing.end, REMOVED, "removal date", None))
    for r in repairs_of(listing, repairs, sole):
        if r.start:
            ends.append((r.start, REPAIRED, "credit repair decision", r.id))
    for prop, label in INCLUSIVE_ENDS:
        value = listing.props.get(prop)
        if isinstance(value, str) and value:
            ends.append((next_day(value), EXPIRED, label, None))
    if years and listing.start:
        ends.append((add_years(listing.start, years), EXPIRED, f"{years}-year period", None))
    ends.sort()
    # A repair decided after as_of is not yet known to hold on as_of.
    past = [e for e in ends if e[0] <= as_of]
    if past:
        when, status, reason, repair = past[0]
        return ListingStatus(status, until=when, reason=reason, repair_id=repair)
    future = [e for e in ends if e[1] != REPAIRED]
    return ListingStatus(ACTIVE, until=future[0][0] if future else None)


class RepairBook:
    """Repair decisions, and how many listings share each number, for statuses."""

    def __init__(self, listings: Iterable[Listing]) -> None:
        self._repairs: dict[str, list[Listing]] = {}
        listed: dict[str, set[str]] = {}
        for x in {x.id: x for x in listings}.values():
            if x.kind != REPAIR_KIND:
                if x.number:
                    listed.setdefault(x.number, set()).add(x.id)
                continue
            for key in (f"n:{x.number}" if x.number else None, *(x.props.get("repairs") or [])):
                if key:
                    self._repairs.setdefault(key, []).append(x)
        self._sole = {n for n, ids in listed.items() if len(ids) == 1}

    def candidates(self, lst: Listing) -> list[Listing]:
        by_number = self._repairs.get(f"n:{lst.number}", []) if lst.number else []
        return self._repairs.get(lst.id, []) + by_number

    def status(self, lst: Listing, as_of: str, book: RuleBook | None = None) -> ListingStatus:
        sole = lst.number is not None and lst.number in self._sole
        return listing_status(lst, as_of, self.candidates(lst), book, sole)


def repair_book(store: GraphStore, listings: Iterable[Listing]) -> RepairBook:
    """Everything the statuses of ``listings`` depend on, in one store call: the
    repairs and the other listings under their numbers."""
    known = list(listings)
    numbers = sorted({x.number for x in known if x.number and x.kind != REPAIR_KIND})
    more = store.listings_by_number(numbers) if numbers else []
    return RepairBook(known + more)


def natural_end(listing: Listing, book: RuleBook | None = None) -> str | None:
    """The first day the listing no longer holds by itself (removal, publicity end or
    maximum period; repairs aside), when known. ``listing_status`` reads the same ends."""
    book = book or rulebook()
    years, not_published = _max_years(listing, book)
    if not_published:
        return listing.start
    ends = [listing.end] if listing.end else []
    for prop, _label in INCLUSIVE_ENDS:
        value = listing.props.get(prop)
        if isinstance(value, str) and value:
            ends.append(next_day(value))
    if years and listing.start:
        ends.append(add_years(listing.start, years))
    return min(ends) if ends else None


def transitions(listing: Listing, book: RuleBook | None = None) -> list[str]:
    """The dates on which the listing's status changes with time alone: it starts
    (a pending listing becomes active; a repair decision takes effect) and it ends
    by itself. A listing that is never published never changes."""
    if listing.kind == REPAIR_KIND:
        return [listing.start] if listing.start else []
    book = book or rulebook()
    if _max_years(listing, book)[1]:
        return []
    out = [listing.start] if listing.start else []
    end = natural_end(listing, book)
    if end and (listing.start is None or end > listing.start):
        out.append(end)
    return out


def min_repair_date(listing: Listing, book: RuleBook | None = None) -> str | None:
    """The first day a repair may be decided (the minimum publicity period), if any."""
    book = book or rulebook()
    period = book.period(listing.kind, listing.props)
    if period is None or not period.min_months or not listing.start:
        return None
    return add_months(listing.start, period.min_months)


def parse_as_of(value: str | None, name: str = "as_of") -> str:
    """An ISO date (``YYYY-MM-DD``) from a caller, or today in the city's time zone."""
    if value is None or value == "":
        return datetime.now(CITY_TZ).date().isoformat()
    from graph.errors import InvalidInput

    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        parsed = None
    # fromisoformat also takes 20240601 and 2024-W22-6; the API promises YYYY-MM-DD only
    if parsed is None or len(value) != 10 or parsed.isoformat() != value:
        raise InvalidInput(f"{name} must be an ISO date YYYY-MM-DD", parameter=name, value=value)
    return value
