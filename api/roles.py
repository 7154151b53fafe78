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
    # a department's upload key, and the key a server hands its own CLI (loaders.handoff)
    "load": frozenset({"admin", "loader"}),
    "audit": frozenset({"admin"}),
    # full ID numbers (公民身份号码); everyone else sees 411425********1234
    "see_id_numbers": frozenset({"investigator"}),
    # a full ID number as the key of a look-up (path, q, from, to): whoever
    # sees only masked numbers could otherwise try the ~30 numbers a masked one
    # and a birth year leave open and learn which exists (api.oracle)
    "lookup_id_numbers": frozenset({"investigator"}),
    # full ID numbers in POST /checks: the punishment engine's job; its answers
    # do not tell a clear person from an unknown number, and its misses are
    # counted against a quota (api.oracle)
    "check_id_numbers": frozenset({"investigator", "engine"}),
}


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]
