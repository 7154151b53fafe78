"""Is this record this subject? How each attachment was made, and what it may carry.

Every mention of a subject by a record keeps how the record was matched to it
(``Mention.match["method"]``, set by graph/resolve/resolver.py). Each of these
may carry a punitive listing:

- ``key``: a full key (USCC, 18-digit ID number);
- ``bridge``: an organisation code or registration number one subject holds;
- ``exact_name``: the exact normalised full name, held by exactly one subject;
- ``fuzzy``: a close name corroborated by region, legal representative,
  former name or a mistyped code (``corroborated`` lists which);
- ``judgement``: a reviewer's confirm or split;
- ``new``: nobody matched, so the record's own subject (the party it names).

A close name with nothing to corroborate it, or a masked ID number that agrees
with a known person, never attaches: the record gets its own subject and the
candidate pair waits in review (``PENDING``, read by ``pending_identity``), so
that a check of the candidate answers ``review``, never ``clear``, and no
measure follows until a reviewer confirms.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from graph.docs import PENDING, REVIEW
from graph.model import Listing
from graph.store.base import GraphStore

KEY = "key"
BRIDGE = "bridge"
EXACT_NAME = "exact_name"
FUZZY = "fuzzy"
JUDGEMENT = "judgement"
NEW = "new"
STRONG_METHODS = frozenset({KEY, BRIDGE, EXACT_NAME, FUZZY, JUDGEMENT, NEW})

# Why a record's listing waits on a candidate subject.
MASKED_ID_AGREES = "masked_id_agrees"
NAME_ONLY = "name_only"
AMBIGUOUS_BRIDGE = "ambiguous_bridge"

OPEN = "open"


def person_name_key(name: str) -> str:
    """A person's name compared as written, width and spacing aside."""
    text = unicodedata.normalize("NFKC", name)
    return "".join(ch for ch in text if not ch.isspace() and ch not in "·•・.")


def same_person_name(name: str, names: Iterable[str]) -> bool:
    want = person_name_key(name)
    return bool(want) and any(person_name_key(n) == want for n in names)


def pending_identity(
    store: GraphStore, subject_ids: Iterable[str], as_of: str
) -> dict[str, list[tuple[dict[str, Any], Listing]]]:
    """subject id -> (pending item, listing) for listings that may be about the
    subject but wait for a reviewer: the pair is still open and the listing
    stored and active on ``as_of``. Four store calls whatever the number of
    subjects."""
    from graph.propagate.status import repair_book
    ids = sorted(set(subject_ids))
    docs = store.get_docs(PENDING, ids) if ids else {}
    if not docs:
        return {}
    items = {
        sid: [i for i in (doc.get("items") or []) if isinstance(i, dict)]
        for sid, doc in docs.items()
    }
    pairs = sorted({str(i["pair"]) for its in items.values() for i in its if i.get("pair")})
    listing_ids = sorted(
        {str(i["listing"]) for its in items.values() for i in its if i.get("listing")}
    )
    reviews = store.get_docs(REVIEW, pairs) if pairs else {}
    listings = store.get_listings(listing_ids) if listing_ids else {}
    statuses = repair_book(store, listings.values())
    out: dict[str, list[tuple[dict[str, Any], Listing]]] = {}
    for sid, its in items.items():
        for item in its:
            review = reviews.get(str(item.get("pair")))
            lst = listings.get(str(item.get("listing")))
            if review is None or review.get("status", OPEN) != OPEN or lst is None:
                continue
            if lst.subject_id == sid:
                continue  # confirmed: the listing is the subject's own now
            if not statuses.status(lst, as_of).active:
                continue
            out.setdefault(sid, []).append((item, lst))
    return out
