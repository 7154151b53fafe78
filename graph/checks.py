"""A credit check (信用核查) of a subject for a scenario: clear, restricted or review.

The scenario (rules.yaml ``scenarios``) says which measures restrict and which
only flag. A listing that may be about the subject but waits for a reviewer
(a masked ID number or a close name that agrees with it, graph/evidence/identity.py)
makes the answer ``review`` at least: never ``clear``, and never a
restriction until a reviewer confirms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.model import Listing
from graph.propagate.engine import Measure
from graph.rules import Scenario

CLEAR = "clear"
RESTRICTED = "restricted"
REVIEW = "review"


@dataclass
class CheckOutcome:
    result: str
    reasons: list[str]
    restrictions: list[Measure] = field(default_factory=list)
    flags: list[Measure] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)


def pending_view(item: dict[str, Any], lst: Listing) -> dict[str, Any]:
    """A listing waiting on identity, as a check or a card shows it."""
    return {
        "reason": item.get("reason"),
        "pair": item.get("pair"),
        "record": item.get("record"),
        "listing": {
            "id": lst.id,
            "feed": lst.kind,
            "subject": lst.subject_id,
            "number": lst.number,
            "department": lst.department,
            "start": lst.start,
            "end": lst.end,
        },
    }


def decide(
    scenario: Scenario,
    measures: list[Measure],
    pending: Sequence[tuple[dict[str, Any], Listing]] = (),
) -> CheckOutcome:
    restrictions = [
        m
        for m in measures
        if m.measure in scenario.restrict or (scenario.restrict_punitive and m.punitive)
    ]
    flags = [m for m in measures if m not in restrictions and m.measure in scenario.review]
    waiting = [pending_view(item, lst) for item, lst in pending]
    reasons = sorted({f"{m.rule}:{m.measure}" for m in restrictions + flags})
    reasons += sorted({f"pending_identity:{w['listing']['feed']}" for w in waiting})
    if restrictions:
        result = RESTRICTED
    elif flags or waiting:
        result = REVIEW
    else:
        result = CLEAR
    return CheckOutcome(result, reasons, restrictions, flags, waiting)
