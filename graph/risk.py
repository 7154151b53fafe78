"""A subject's risk at a glance, for the graph and the card: ``listed``,
``implicated``, ``review`` or ``clear``.

Read from the subject's measures on a date (graph/propagate/engine.py), never
from listings alone, so that the graph shows what the rules decide:

- ``listed``: a punitive measure comes from the subject's own active listing;
- ``implicated``: a punitive measure reaches it through a related party;
- ``review``: no punitive measure, but a flag that is not a punishment
  (``related_party_review``, ``guarantee_risk_alert``) or a listing that may
  be about the subject and waits for a reviewer (graph/evidence/identity.py,
  which a check answers with ``review`` too);
- ``clear``: nothing of the above. A commendation (守信红名单) alone is clear.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from graph.evidence.identity import pending_identity
from graph.propagate.engine import Measure, measures_many
from graph.store.base import GraphStore

LISTED, IMPLICATED, REVIEW, CLEAR = "listed", "implicated", "review", "clear"
LEVELS = (LISTED, IMPLICATED, REVIEW, CLEAR)


@dataclass(frozen=True)
class Risk:
    level: str
    # distinct measure ids, so that one listing read through two paths counts once
    punitive: tuple[str, ...]
    review: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "punitive": list(self.punitive), "review": list(self.review)}


def assess(measures: Iterable[Measure], *, pending_review: bool = False) -> Risk:
    """The risk that a subject's measures (and a pending review, if any) amount to."""
    found = list(measures)
    punitive = sorted({m.measure for m in found if m.punitive})
    flags = sorted({m.measure for m in found if not m.punitive})
    if any(m.punitive and m.direct for m in found):
        level = LISTED
    elif punitive:
        level = IMPLICATED
    elif flags or pending_review:
        level = REVIEW
    else:
        level = CLEAR
    return Risk(level, tuple(punitive), tuple(flags))


def assess_many(
    store: GraphStore,
    subject_ids: Iterable[str],
    as_of: str,
    *,
    threshold: float = 0.5,
    control_depth: int = 4,
    pending_review: Collection[str] = (),
) -> dict[str, Risk]:
    """subject id -> its risk on ``as_of``, for a whole graph view at once: one
    ``measures_many`` and one ``pending_identity`` call, so a constant number of
    store round trips. ``pending_review`` adds subjects the caller knows wait on
    a review."""
    ids = sorted(set(subject_ids))
    found = measures_many(store, ids, as_of, threshold=threshold, control_depth=control_depth)
    waiting = set(pending_identity(store, ids, as_of)) | set(pending_review)
    return {sid: assess(found.get(sid, []), pending_review=sid in waiting) for sid in ids}
