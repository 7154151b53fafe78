"""Who may do what. One table, enforced by one dependency (``api.deps.require``)."""

from __future__ import annotations

PERMISSIONS: dict[str, frozenset[str]] = {
    # the vocabulary and its labels (GET /model): every role reads answers that use it
    "model": frozenset({"admin", "investigator", "analyst", "engine"}),
    # read the graph: subjects, search, neighbours, paths, listings, records
    "read": frozenset({"admin", "investigator", "analyst"}),
    # what the punishment engine needs
    "measures": frozenset({"admin", "investigator", "analyst", "engine"}),
    "checks": frozenset({"admin", "investigator", "analyst", "engine"}),
    "changes": frozenset({"admin", "investigator", "engine"}),
    "review": frozenset({"admin", "investigator", "analyst"}),
    "quality": frozenset({"admin", "investigator", "analyst"}),
    "judge": frozenset({"admin", "investigator"}),
    "repair": frozenset({"admin", "investigator"}),
    "load": frozenset({"admin"}),
    "audit": frozenset({"admin"}),
    # full ID numbers (公民身份号码); everyone else sees 411425********1234
    "see_id_numbers": frozenset({"investigator"}),
}


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]
