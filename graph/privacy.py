"""Masking of resident ID numbers (公民身份号码) for roles that may not see them.

Masking walks whole payloads rather than chosen fields, so that an ID number
cannot slip out through a field nobody thought of (a record's raw cells, an
error message, a path hop). The masked form keeps the region and the last four
characters: ``411425********1234``.
"""

from __future__ import annotations

import re
from typing import Any

# An 18-character ID number standing alone: region, birth date 18xx–20xx, sequence, check.
_ID18 = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    r"(\d{3})([0-9Xx])(?![0-9A-Za-z])"
)
# A 15-digit legacy number is masked only where a field says it is an ID number,
# since 15-digit registration numbers (注册号) look the same.
_ID15 = re.compile(r"^(\d{6})(\d{6})(\d)(\d{2})$")


def mask_id(value: str) -> str:
    """``411425198001011234`` -> ``411425********1234`` (any length: keep 6 + last 4)."""
    v = value.strip()
    if len(v) <= 10:
        return "*" * len(v)
    return v[:6] + "*" * 8 + v[-4:]


def mask_text(text: str) -> str:
    return _ID18.sub(lambda m: m.group(1) + "*" * 8 + m.group(3)[1:] + m.group(4), text)


def mask_payload(obj: Any) -> Any:
    """Return a copy of a JSON-like payload with every ID number masked."""
    if isinstance(obj, str):
        if obj.startswith("id_number:"):
            return "id_number:" + mask_id(obj[len("id_number:") :])
        return mask_text(obj)
    if isinstance(obj, dict):
        return {
            (mask_text(k) if isinstance(k, str) else k): mask_payload(v) for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [mask_payload(v) for v in obj]
    return obj


def mask_id15(value: str) -> str:
    return mask_id(value) if _ID15.match(value.strip()) else value
