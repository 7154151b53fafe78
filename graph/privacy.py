"""Masking of resident ID numbers (公民身份号码) for roles that may not see them.

Masking walks whole payloads rather than chosen fields, so that an ID number
cannot slip out through a field nobody thought of (a record's raw cells, an
error message, a path hop). The masked form keeps the region and the last four
characters: ``411425********1234`` (the published form; its 17th character is
the sequence digit whose parity is the holder's sex). A 15-digit legacy number
keeps its region and 3-digit sequence only (``411425******123``), since its last
four include a digit of the birth date.

The digits a mask hides are the birth date, so whatever else tells the birth
date narrows a masked number down to a few dozen candidates: fields that hold
a birth year or date, a sex or an age (the loader's ``birth_year`` and
``sex``, a court list's 性别 and 年龄) are left out of masked payloads
altogether.
"""

from __future__ import annotations

import re
from typing import Any

from graph.identifiers import InvalidIdentifier, compact, parse_id_number

# An 18-character ID number standing alone: region, birth date 18xx–20xx, sequence, check.
_ID18 = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    r"(\d{3})([0-9Xx])(?![0-9A-Za-z])"
)
# A 15-digit legacy number is masked only where a field says it is an ID number,
# since 15-digit registration numbers (注册号) look the same.
_ID15 = re.compile(r"^(\d{6})(\d{6})(\d)(\d{2})$")


def mask_id(value: str) -> str:
    """The one masked form of a resident ID number (GB 11643-1999): the region
    and the last four characters, ``411425********1234``. A 15-digit legacy
    number shows its 3-digit sequence only (``411425******123``), since its last
    four include a birth-date digit. Full-width or spaced spellings are read as
    the number they are; anything that is no ID number is starred out whole."""
    raw = compact(value) if value else ""
    try:
        # a legacy number keeps its own length: the reader sees what was written
        code = raw if len(raw) == 15 else parse_id_number(value).value
    except InvalidIdentifier:
        return "*" * len(raw)
    if len(code) == 15:
        return code[:6] + "*" * 6 + code[-3:]
    return code[:6] + "*" * 8 + code[-4:]


# Fields whose value tells (part of) a birth date or the sex: never shown to a
# role that sees masked ID numbers. Compared after casefold, exact names only.
PERSONAL_FIELDS = frozenset(
    {
        "birth_year",
        "birth_date",
        "birthday",
        "date_of_birth",
        "sex",
        "gender",
        "age",
        "出生日期",
        "出生年月",
        "出生年份",
        "出生年月日",
        "生日",
        "性别",
        "年龄",
    }
)


def _is_personal_field(name: object) -> bool:
    return isinstance(name, str) and name.strip().casefold() in PERSONAL_FIELDS


def mask_text(text: str) -> str:
    return _ID18.sub(lambda m: m.group(1) + "*" * 8 + m.group(3) + m.group(4), text)


# Field names (raw feed headers and cleaned fields) that say "this is an ID
# number": there a 15-digit legacy number is masked as well.
_ID_FIELD_WORDS = ("身份证", "证件号", "公民身份", "id_number", "idcard", "id_card")
# A 15-digit legacy ID number inside free text: region, yymmdd, sequence.
_ID15_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})(\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3})(?![0-9A-Za-z])"
)


def _is_id_field(name: str) -> bool:
    low = name.casefold()
    return any(w in low for w in _ID_FIELD_WORDS)


def mask_payload(obj: Any, _id_field: bool = False, *, personal: bool = True) -> Any:
    """Return a copy of a JSON-like payload with every ID number masked and (unless
    ``personal`` is False: a vocabulary, whose keys name fields but hold no one's
    data) every personal field left out."""
    if isinstance(obj, str):
        if obj.startswith("id_number:"):
            return "id_number:" + mask_id(obj[len("id_number:") :])
        if _id_field:
            return mask_id15(mask_text(obj))
        return mask_text(obj)
    if isinstance(obj, dict):
        return {
            (mask_text(k) if isinstance(k, str) else k): mask_payload(
                v, _id_field or (isinstance(k, str) and _is_id_field(k)), personal=personal
            )
            for k, v in obj.items()
            if not (personal and _is_personal_field(k))
        }
    if isinstance(obj, list | tuple):
        return [mask_payload(v, _id_field, personal=personal) for v in obj]
    return obj


def mask_error_payload(obj: Any) -> Any:
    """Like ``mask_payload``, and 15-digit legacy ID numbers anywhere too.

    Errors echo what the caller typed (a path, a key), and no field says what
    that was; masking a registration number that happens to look like an old
    ID number costs nothing in an error message.
    """
    return _mask_id15_everywhere(mask_payload(obj))


def _mask_id15_everywhere(obj: Any) -> Any:
    if isinstance(obj, str):
        return _ID15_IN_TEXT.sub(lambda m: mask_id(m.group(0)), obj)
    if isinstance(obj, dict):
        return {_mask_id15_everywhere(k): _mask_id15_everywhere(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mask_id15_everywhere(v) for v in obj]
    return obj


def mask_id15(value: str) -> str:
    return mask_id(value) if _ID15.match(value.strip()) else value
