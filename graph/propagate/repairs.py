"""Credit repair (信用修复): a decision that ends a listing from its date on.

A repair is itself a listing (kind ``credit_repairs``) naming the listing it
ends by id and by number; the statuses read it (graph/propagate/status.py), so
measures, checks and the change feed show it at once. Joint debtors share a
案号: a repair ends the listing of the subject it names only, and a number
that lists several subjects needs that subject named. A repair may not precede
the listing, be decided in the future, or come before the minimum publicity
period (一般 3 months, 严重 1 year: rules.yaml).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graph.docs import CHANGES
from graph.errors import Conflict, InvalidInput, NotFound
from graph.lookup import get_subject
from graph.model import Listing, stable_id
from graph.propagate.engine import listing_view
from graph.propagate.status import (
    REPAIR_KIND,
    listing_status,
    min_repair_date,
    parse_as_of,
    repair_book,
)
from graph.store.base import Batch, GraphStore


def repair_targets(store: GraphStore, ref: str, subject: str | None = None) -> list[Listing]:
    """The listings a repair of ``ref`` (a listing id, else a number) ends: those of
    ``subject`` (a key or subject id) when given; refused when the number lists
    several subjects and none is named."""
    targets = [x for x in store.get_listings([ref]).values() if x.kind != REPAIR_KIND]
    if not targets:
        targets = [x for x in store.listings_by_number([ref]) if x.kind != REPAIR_KIND]
    if not targets:
        raise NotFound("no listing has this number or id", listing=ref)
    if subject is not None:
        who = get_subject(store, subject)
        targets = [t for t in targets if t.subject_id == who.id]
        if not targets:
            raise NotFound("the subject has no listing with this number or id", listing=ref)
    elif len({t.subject_id for t in targets}) > 1:
        # joint debtors: a repair ends the listing of the subject it names only
        raise InvalidInput(
            "several subjects are listed under this number; name the subject repaired",
            listing=ref,
            subjects=sorted({t.subject_id for t in targets}),
        )
    return targets


def _check_date(targets: list[Listing], decided: str) -> None:
    for t in targets:
        if t.start and decided < t.start:
            raise InvalidInput(
                "a repair cannot precede the listing", listing=t.id, start=t.start, decided=decided
            )
        earliest = min_repair_date(t)
        if earliest and decided < earliest:
            raise Conflict(
                "a repair can be decided only after the minimum publicity period",
                listing=t.id,
                earliest=earliest,
            )


def record_repair(
    store: GraphStore,
    ref: str,
    decided: str,
    *,
    recorded_by: str,
    subject: str | None = None,
    department: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Record the repair decided on ``decided`` (an ISO date) of the listing ``ref``
    names, with the change log entry that tells pollers, in one write. Answers the
    repairs written, the listings they end with their status today, and the
    subjects touched."""
    today = parse_as_of(None)
    if decided > today:
        raise InvalidInput("a repair cannot be decided in the future", decided=decided)
    targets = repair_targets(store, ref.strip(), subject.strip() if subject else None)
    _check_date(targets, decided)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    repairs = [
        Listing(
            id=stable_id("L", "repair", t.id, decided),
            kind=REPAIR_KIND,
            subject_id=t.subject_id,
            number=t.number,
            department=department,
            start=decided,
            props={
                # by id too: listings without a number (tax, serious violations)
                "repairs": [t.id],
                "source": "api",
                "recorded_by": recorded_by,
                "recorded_at": now,
                **({"note": note} if note else {}),
            },
        )
        for t in targets
    ]
    touched = sorted({t.subject_id for t in targets})
    store.write(
        Batch(
            listings=repairs,
            docs=[(CHANGES, f"{now}|repair|{repairs[0].id}", {"at": now, "subjects": touched})],
        )
    )
    book = repair_book(store, [*targets, *repairs])
    return {
        "repairs": [listing_view(r, listing_status(r, today, [])) for r in repairs],
        "listings": [listing_view(t, book.status(t, today)) for t in targets],
        "subjects": touched,
    }
