"""Look-ups by full ID number must not let a masked role reconstruct a number.

A masked number (``412325********8804``) leaves the 8 birth-date digits open;
the check character cuts the candidates to a few thousand, a birth year to
about 34. A service that answers "this one exists" for a full number turns
those candidates into the number. So, for roles that see masked numbers:

- a full ID number (18 digits, or the 15-digit legacy form) is refused as the
  key of any look-up — ``/subjects/{key}`` and everything below it,
  ``/subjects/search?q=``, ``/paths?from=&to=`` — with 403, the same answer
  whether anybody has the number or not (``lookup_id_numbers``);
- in ``POST /checks`` only the punishment engine may send full numbers
  (``check_id_numbers``): its job is checking people before procurement. A
  number nobody has and a person with nothing against them get the same
  answer (``clear``, no subject, ``matched_by: id_number``), and numbers that
  match nobody count against the key's hourly quota
  (``id_miss_quota_per_hour``), beyond which the check is refused with 429
  ``quota_exceeded`` before anything is looked up;
- investigators see full numbers anyway and are not limited.

A ``restricted`` or ``review`` answer does say that a listed person exists:
that is the engine's purpose, and the quota bounds how many guesses it gets.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from api.roles import allowed
from graph.checks import Resolution
from graph.errors import Forbidden, QuotaExceeded
from graph.identifiers import InvalidIdentifier, parse_identifier

_WINDOW_S = 3600.0


def is_full_id_number(text: str) -> bool:
    """An 18-digit or 15-digit resident ID number (the shapes a look-up would try)."""
    try:
        ident = parse_identifier(text)
    except InvalidIdentifier:
        return False
    # A 15-digit value valid as both a registration number and a legacy ID
    # number is read as the registration number, which finds no person.
    return ident.kind == "id_number"


def refuse_id_lookups(role: str, texts: Iterable[str], where: str) -> None:
    """403 when a role that sees masked numbers looks something up by a full one."""
    if allowed(role, "lookup_id_numbers"):
        return
    if any(is_full_id_number(t) for t in texts if t):
        raise Forbidden(
            f"the role {role!r} sees masked ID numbers and may not look subjects up by a "
            "full ID number; search by name or use the subject id",
            role=role,
            permission="lookup_id_numbers",
            parameter=where,
        )


def refuse_id_checks(role: str, inputs: Iterable[str]) -> None:
    """403 when a role without ``check_id_numbers`` checks a full ID number."""
    if allowed(role, "check_id_numbers"):
        return
    if any(is_full_id_number(t) for t in inputs):
        raise Forbidden(
            f"the role {role!r} may not check subjects by full ID number",
            role=role,
            permission="check_id_numbers",
        )


def id_misses(inputs: Iterable[str], resolved: Mapping[str, Resolution]) -> int:
    """How many distinct full ID numbers among ``inputs`` matched nobody."""
    return sum(
        1
        for t in dict.fromkeys(inputs)
        if is_full_id_number(t) and not (t in resolved and resolved[t].ids)
    )


class MissQuota:
    """Per key: how many full ID numbers it checked in the last hour without a match."""

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._lock = threading.Lock()
        self._misses: dict[str, deque[tuple[float, int]]] = {}

    def _spent(self, key_id: str, now: float) -> int:
        window = self._misses.setdefault(key_id, deque())
        while window and window[0][0] <= now - _WINDOW_S:
            window.popleft()
        return sum(n for _, n in window)

    def charge(self, key_id: str, misses: int) -> None:
        """Count ``misses``, or raise QuotaExceeded (and count nothing) when they
        would take the key past its quota."""
        if misses <= 0:
            return
        now = time.monotonic()
        with self._lock:
            spent = self._spent(key_id, now)
            if spent + misses > self.per_hour:
                window = self._misses[key_id]
                retry = window[0][0] + _WINDOW_S - now if window else _WINDOW_S
                raise QuotaExceeded(
                    f"this key checked {spent} full ID numbers without a match in the last "
                    f"hour; the quota is {self.per_hour} (CREDITLINK_ID_MISS_QUOTA_PER_HOUR)",
                    retry_after_s=max(1, math.ceil(retry)),
                    quota=self.per_hour,
                    spent=spent,
                )
            self._misses[key_id].append((now, misses))


def conceal_id_checks(
    sees_id_numbers: bool, inputs: list[str], results: list[dict[str, Any]]
) -> None:
    """For a masked caller, give a full ID number that is clear the same answer
    whether or not anybody has it (in place; same fields in the same order, so
    that not even the JSON's key order tells them apart)."""
    if sees_id_numbers:
        return
    for text, entry in zip(inputs, results, strict=True):
        if entry.get("result") != "clear" or not is_full_id_number(text):
            continue
        concealed = {
            "index": entry["index"],
            "input": entry["input"],
            "found": None,
            "matched_by": "id_number",
            "result": "clear",
            "reasons": [],
            "subject": None,
            "restrictions": [],
            "flags": [],
        }
        entry.clear()
        entry.update(concealed)
