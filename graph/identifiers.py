"""Chinese subject identifiers as value types: clean, validate, compare.

Four national identifiers key the credit graph (rules and traps in
``shared/domain/identifiers.md``):

* 统一社会信用代码 USCC (GB 32100-2015) — full key of an organisation;
* 组织机构代码 (GB 11714) and 工商注册号 (GS15-2006) — legacy keys that bridge
  to a USCC;
* 公民身份号码 (GB 11643-1999) — full key of a person; published court lists
  mask its middle, which leaves only a partial key.

python-stdnum supplies the check-character arithmetic. Its ``validate``
functions are not used because they wrongly reject lawful values: USCCs
beginning with A/N/Y, and ID numbers whose county code was created after the
holder was born (most of 商丘's 4114xx numbers). Their rules live here instead.

Not every defect is fatal: data-quality findings that must not lose a record
(a USCC failing its position-18 check, an unknown division code…) are kept as
``warnings`` on the parsed value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from stdnum.cn import uscc as _stdnum_uscc
from stdnum.iso7064 import mod_11_2, mod_11_10

from graph.errors import InvalidInput
from graph.model import model
from graph.regions import is_known_region

__all__ = [
    "USCC_ALPHABET",
    "Identifier",
    "InvalidIdentifier",
    "compact",
    "id_birth_date",
    "id_check_char",
    "id_sex",
    "is_placeholder",
    "masked_matches",
    "masked_parts",
    "org_code_check_char",
    "org_code_of_uscc",
    "parse_id_number",
    "parse_identifier",
    "parse_org_code",
    "parse_reg_no",
    "parse_uscc",
    "reg_no_check_digit",
    "uscc_check_char",
]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# The key kinds and which of them identify a subject on their own are model.yaml's.
KINDS = tuple(model().key_kinds)
_FULL_KEY_KINDS = frozenset(k for t in model().subject_types.values() for k in t.full_keys)

# GB 32100-2015 appendix: registration authority (position 1) → entity types
# (position 2) it may issue. An unlisted pair is reported, not rejected, because
# authorities have added types since the standard was published.
_AUTHORITY_TYPES: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 群众团体, 其他
    "2": "19",  # 外交: 外国常驻新闻机构, 其他
    "3": "1234569",  # 司法行政: 律所, 公证处, 法律服务所, 司法鉴定, 仲裁委…
    "4": "19",  # 文化: 外国在华文化中心, 其他
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游: 外国/港澳台旅游部门代表机构, 其他
    "7": "129",  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": "19",  # 工会: 基层工会, 其他
    "9": "123",  # 市场监管: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "N": "1239",  # 农业: 组级, 村级, 乡镇级集体经济组织, 其他
    "Y": "1",  # 其他
}
# Enterprises registered with the central authority carry the national code,
# which GB/T 2260 does not list as a division.
_NATIONAL_DIVISION = "100000"

# GB 11714: values 0-9, A=10 … Z=35 over the 8 body characters.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY_RE = re.compile(r"^[0-9A-Z]{8}$")

_SEPARATORS = re.compile(
    r"[\s\u200b\u200c\u200d\u2060\ufeff"  # whitespace incl. zero-width
    r"\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"  # hyphens and dashes
    r".\u00b7\u2027\u30fb\u3002]"  # dots, middle dots, ideographic full stop
)
# Spelled-out "no value" markers found in department exports, compared after
# compact() (so already uppercase and without hyphens or dots).
_PLACEHOLDER_WORDS = frozenset(
    {
        "",
        "N/A",
        "NA",
        "/",
        "\\",
        "//",
        "NULL",
        "NONE",
        "NIL",
        "NAN",
        "无",
        "空",
        "暂无",
        "不详",
        "未知",
        "缺失",
        "无代码",
        "*",
        "_",
    }
)
_PLACEHOLDER_FILL = re.compile(r"^(?:0+|\*+|_+|/+)$")

_MIN_BIRTH_YEAR = 1900


class InvalidIdentifier(InvalidInput, ValueError):
    """A value that is not a usable identifier of the kind asked for.

    ``reason`` is a short, stable machine code: ``bad_length``, ``bad_char``,
    ``bad_format``, ``bad_check``, ``bad_date``, ``placeholder``.
    It is also a ``CreditlinkError`` so that the API reports it as a 400 without
    special handling.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Identifier:
    kind: str
    value: str
    warnings: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"

    @property
    def is_full_key(self) -> bool:
        # Legacy keys are reused or shared (an org code is not unique across
        # branches of its history) and a masked ID names many people: only the
        # USCC and a complete ID number identify one subject on their own.
        return self.kind in _FULL_KEY_KINDS

    @property
    def bridge_key(self) -> str | None:
        """The organisation-code key a USCC carries (positions 9–17), so that
        records knowing only the old code find the subject. None for other kinds
        and for a USCC whose inner code fails its check: that would bridge to
        whichever enterprise owns the mistyped code."""
        if self.kind != "uscc" or "uscc_inner_org_check_mismatch" in self.warnings:
            return None
        return f"org_code:{self.value[8:17]}"

    @property
    def store_keys(self) -> list[str]:
        """The keys a subject identified by this value carries."""
        bridge = self.bridge_key
        return [self.key, bridge] if bridge else [self.key]


# ---------------------------------------------------------------- cleaning


def compact(raw: str) -> str:
    """Canonical spelling: NFKC, no spaces/hyphens/dots, uppercase.

    NFKC turns full-width letters and digits into ASCII. The steps repeat until
    nothing changes because removing a separator or uppercasing can leave a
    sequence that normalises further, and compact must be idempotent.
    """
    # Nearly every code in a feed is already canonical: ASCII letters and
    # digits are NFKC-stable and hold no separator, so only case can change.
    if raw.isascii() and raw.isalnum():
        return raw.upper()
    text = raw
    for _ in range(8):
        step = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
        if step == text:
            break
        text = step
    return text


def is_placeholder(raw: str | None) -> bool:
    """True for empty cells and the usual "no value" markers (N/A, -, 无, /, 0000…)."""
    if raw is None:
        return True
    text = compact(raw)
    return text in _PLACEHOLDER_WORDS or bool(_PLACEHOLDER_FILL.match(text))


def _cleaned(raw: str, kind: str) -> str:
    if is_placeholder(raw):
        raise InvalidIdentifier("placeholder", f"no {kind} given ({raw!r})")
    return compact(raw)


def _division_warnings(code: str) -> tuple[str, ...]:
    if code == _NATIONAL_DIVISION or is_known_region(code):
        return ()
    return ("unknown_region",)


# ---------------------------------------------------------------- check characters


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 position-18 check character (weights 3^(i-1) mod 31)."""
    body = compact(first17)
    if len(body) != 17:
        raise InvalidIdentifier("bad_length", f"USCC body must be 17 characters: {first17!r}")
    if any(c not in USCC_ALPHABET for c in body):
        raise InvalidIdentifier("bad_char", f"USCC body outside the GB 32100 alphabet: {first17!r}")
    return _uscc_check(body)


# python-stdnum's calc_check_digit re-cleans its argument on every call, which
# dominated loading time; the arithmetic (GB 32100 §5, weights 3^(i-1) mod 31)
# is applied here to an already compact body. tests/graph/test_identifiers.py and
# the import-time check below keep it equal to stdnum's.
_USCC_VALUES = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def _uscc_check(body: str) -> str:
    total = sum(_USCC_VALUES[c] * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total) % 31]


assert _uscc_check("91110000600037341") == _stdnum_uscc.calc_check_digit("91110000600037341")


def org_code_check_char(first8: str) -> str:
    """GB 11714 check character: 11 - (Σ v·w mod 11); 10 → X, 11 → 0."""
    body = compact(first8)
    if not _ORG_BODY_RE.match(body):
        raise InvalidIdentifier("bad_format", f"org code body must be 8 of 0-9A-Z: {first8!r}")
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def reg_no_check_digit(first14: str) -> str:
    """GS15-2006 check digit, ISO 7064 MOD 11,10."""
    body = compact(first14)
    if len(body) != 14 or not body.isascii() or not body.isdigit():
        raise InvalidIdentifier(
            "bad_format", f"registration number body must be 14 digits: {first14!r}"
        )
    return str(mod_11_10.calc_check_digit(body))


def id_check_char(first17: str) -> str:
    """GB 11643-1999 check character, ISO 7064 MOD 11-2 (10 → X)."""
    body = compact(first17)
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise InvalidIdentifier("bad_format", f"ID number body must be 17 digits: {first17!r}")
    return str(mod_11_2.calc_check_digit(body))


def _ascii_digits(text: str) -> bool:
    # str.isdigit() accepts e.g. superscripts and Arabic-Indic digits.
    return text.isascii() and text.isdigit()


# ---------------------------------------------------------------- organisations


def parse_uscc(raw: str) -> Identifier:
    """Parse a 统一社会信用代码 (GB 32100-2015).

    Fatal: wrong length, characters outside the alphabet (I, O, Z, S, V), a
    division code that is not six digits, an org-code check position that is not
    0-9/X. Kept with a warning: position-18 check failure (重错码, pilot codes),
    inner org-code check failure, unknown authority/type pair, unknown division.
    """
    code = _cleaned(raw, "USCC")
    if len(code) != 18:
        raise InvalidIdentifier("bad_length", f"USCC must be 18 characters, got {len(code)}")
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise InvalidIdentifier("bad_char", f"USCC contains characters outside GB 32100: {bad}")
    if not _ascii_digits(code[2:8]):
        raise InvalidIdentifier("bad_format", "USCC positions 3-8 must be a division code")
    if code[16] not in "0123456789X":
        raise InvalidIdentifier("bad_format", "USCC position 17 must be an org-code check (0-9, X)")

    warnings: list[str] = []
    if code[-1] != uscc_check_char(code[:17]):
        warnings.append("uscc_check_mismatch")
    if code[16] != org_code_check_char(code[8:16]):
        warnings.append("uscc_inner_org_check_mismatch")
    if code[1] not in _AUTHORITY_TYPES.get(code[0], ""):
        warnings.append("uscc_unknown_authority_type")
    warnings.extend(_division_warnings(code[2:8]))
    return Identifier("uscc", code, tuple(warnings))


def parse_org_code(raw: str) -> Identifier:
    """Parse a 组织机构代码 (GB 11714), "12345678-9" or "123456789"."""
    code = _cleaned(raw, "organisation code")
    if len(code) != 9:
        raise InvalidIdentifier("bad_length", f"org code must be 8+1 characters, got {len(code)}")
    if not _ORG_BODY_RE.match(code[:8]) or code[8] not in "0123456789X":
        raise InvalidIdentifier("bad_char", "org code must be 8 of 0-9A-Z and a check of 0-9/X")
    if code[8] != org_code_check_char(code[:8]):
        raise InvalidIdentifier("bad_check", "org code check character does not match (GB 11714)")
    return Identifier("org_code", code)


def parse_reg_no(raw: str) -> Identifier:
    """Parse a 15-digit 工商注册号 (GS15-2006, ISO 7064 MOD 11,10)."""
    code = _cleaned(raw, "registration number")
    if len(code) != 15:
        raise InvalidIdentifier(
            "bad_length", f"registration number must be 15 digits, got {len(code)}"
        )
    if not _ascii_digits(code):
        raise InvalidIdentifier("bad_char", "registration number must be digits only")
    if code[-1] != reg_no_check_digit(code[:14]):
        raise InvalidIdentifier(
            "bad_check", "registration number check digit does not match (GS15)"
        )
    return Identifier("reg_no", code, _division_warnings(code[:6]))


def org_code_of_uscc(uscc: str) -> str:
    """The embedded organisation code (positions 9-17), without hyphen."""
    code = compact(uscc)
    if len(code) != 18:
        raise InvalidIdentifier("bad_length", f"USCC must be 18 characters, got {len(code)}")
    return code[8:17]


# ---------------------------------------------------------------- persons


def _birth_date(yyyymmdd: str) -> date:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise InvalidIdentifier("bad_date", f"no such birth date: {yyyymmdd}") from None
    if born.year < _MIN_BIRTH_YEAR:
        raise InvalidIdentifier("bad_date", f"birth year before {_MIN_BIRTH_YEAR}: {yyyymmdd}")
    if born > date.today():
        raise InvalidIdentifier("bad_date", f"birth date in the future: {yyyymmdd}")
    return born


def _parse_full_id(code: str) -> Identifier:
    warnings: list[str] = []
    if len(code) == 15:
        if not _ascii_digits(code):
            raise InvalidIdentifier("bad_char", "15-digit ID number must be digits only")
        # GB 11643-1999 conversion: the century was implicit (all holders were
        # born in the 1900s) and the check character did not exist yet.
        _birth_date("19" + code[6:12])
        body = code[:6] + "19" + code[6:]
        code = body + id_check_char(body)
        warnings.append("converted_from_15")
    elif len(code) == 18:
        if not _ascii_digits(code[:17]) or code[17] not in "0123456789X":
            raise InvalidIdentifier("bad_char", "ID number must be 17 digits and a check of 0-9/X")
        _birth_date(code[6:14])
        if code[17] != id_check_char(code[:17]):
            raise InvalidIdentifier(
                "bad_check", "ID number check character does not match (MOD 11-2)"
            )
    else:
        raise InvalidIdentifier("bad_length", f"ID number must be 18 or 15 digits, got {len(code)}")
    # The address code is where the number was issued and never changes, so any
    # code that ever existed is real; an unknown one is only worth reporting.
    warnings.extend(_division_warnings(code[:6]))
    return Identifier("id_number", code, tuple(warnings))


_MASK_RE = re.compile(r"^(\d{6}[0-9*]*?)(\*+)([0-9*]*[0-9X])$")


def _parse_masked_id(code: str) -> Identifier:
    """A published, partly starred ID number: region and tail digits must show.

    The number of stars varies between publishers. A single star run is
    stretched or shrunk so the value has the 18-digit shape (or the 15-digit
    one when it already has that length), which lets differently starred
    copies of one number produce the same key.
    """
    m = _MASK_RE.match(code)
    if not m:
        raise InvalidIdentifier(
            "bad_format", "masked ID number must show its 6-digit region and last digit"
        )
    head, _stars, tail = m.groups()
    if len(code) not in (15, 18):
        width = 18 - len(head) - len(tail)
        if "*" in head + tail or width < 1:
            raise InvalidIdentifier("bad_length", f"masked ID number has {len(code)} characters")
        code = head + "*" * width + tail
    if len(code) == 15 and "X" in code:
        raise InvalidIdentifier("bad_char", "15-digit ID numbers have no check character")
    year = _visible_birth_year(code)
    if year is not None and not (_MIN_BIRTH_YEAR <= int(year) <= date.today().year):
        raise InvalidIdentifier("bad_date", f"impossible birth year in masked ID: {year}")
    return Identifier("id_masked", code, _division_warnings(code[:6]))


def _visible_birth_year(masked: str) -> str | None:
    if len(masked) == 18:
        year = masked[6:10]
    elif len(masked) == 15:
        year = "19" + masked[6:8]
    else:
        return None
    return year if _ascii_digits(year) else None


# Cached as _parse_identifier is, and for the same reasons: a person's number
# comes back in many rows, and a birth date and sex are read from it again
# after it was parsed (id_birth_date, id_sex), a third of a load's identifier
# work before this cache.
@lru_cache(maxsize=1 << 17)
def parse_id_number(raw: str) -> Identifier:
    """Parse a 公民身份号码 (GB 11643-1999), full, legacy 15-digit or masked.

    Validates structure, birth date (a real date, year ≥ 1900, not in the
    future) and check character. The address code is only looked up for a
    warning: stdnum's birth-year/county rule is deliberately not applied.
    """
    code = _cleaned(raw, "ID number")
    if "*" in code:
        return _parse_masked_id(code)
    return _parse_full_id(code)


def _full_id(value: str) -> str:
    ident = parse_id_number(value)
    if ident.kind != "id_number":
        raise InvalidIdentifier("bad_format", "a masked ID number has no full birth date or sex")
    return ident.value


def id_birth_date(value: str) -> date:
    code = _full_id(value)
    return date(int(code[6:10]), int(code[10:12]), int(code[12:14]))


def id_sex(value: str) -> str:
    """GB 11643-1999: an odd sequence number (position 17) is male."""
    return "male" if int(_full_id(value)[16]) % 2 else "female"


def masked_parts(value: str) -> tuple[str, str | None, str]:
    """Partial key (region6, birth year or None, last4) of a masked or full ID.

    For the rare 15-character masked form the check character is unknown, so
    the last element is its 3-digit sequence and never equals an 18-digit
    number's last4; use :func:`masked_matches` to compare such values.
    """
    ident = parse_id_number(value)
    code = ident.value
    if len(code) == 15:
        return code[:6], _visible_birth_year(code), code[-3:]
    return code[:6], _visible_birth_year(code), code[-4:]


def masked_matches(masked: str, full: str) -> bool:
    """True when every visible character of ``masked`` agrees with ``full``.

    A match is a candidate, not an identification: a masked number is a partial
    key shared by many people.
    """
    pattern = parse_id_number(masked).value
    number = _full_id(full)
    if len(pattern) == 15:
        # Compare against the legacy spelling of the full number.
        number = number[:6] + number[8:17]
    return all(p == "*" or p == n for p, n in zip(pattern, number, strict=True))


# ---------------------------------------------------------------- classification

_HINTS: dict[str, str] = {
    "uscc": "uscc",
    "统一社会信用代码": "uscc",
    "org_code": "org_code",
    "组织机构代码": "org_code",
    "reg_no": "reg_no",
    "注册号": "reg_no",
    "工商注册号": "reg_no",
    "id_number": "id_number",
    "id_masked": "id_number",
    "身份证": "id_number",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "居民身份证": "id_number",
    "公民身份号码": "id_number",
}
_PARSERS: dict[str, Callable[[str], Identifier]] = {
    "uscc": parse_uscc,
    "org_code": parse_org_code,
    "reg_no": parse_reg_no,
    "id_number": parse_id_number,
}


def parse_identifier(raw: str, hint: str | None = None) -> Identifier:
    """Classify a value by its shape and parse it.

    ``hint`` (a kind name, or the usual 证件类型 words such as 身份证) is tried
    first; when it does not fit, the value is classified by shape. An unknown
    hint is ignored.

    Shapes: a ``*`` → masked ID; 9 characters → org code; 15 digits →
    registration number when MOD 11,10 holds (warning ``ambiguous_id_number``
    when it is also a valid legacy ID), else a legacy ID number; 18 characters
    → see :func:`_classify_18`.
    """
    return _parse_identifier(raw, hint)


# A feed names the same enterprise or person in many rows and files. Only
# successes are cached (an exception is raised afresh each time), and a valid
# value stays valid as the date advances, so the cache never changes an answer;
# Identifier is immutable, so sharing one instance is safe.
@lru_cache(maxsize=1 << 17)
def _parse_identifier(raw: str, hint: str | None) -> Identifier:
    code = _cleaned(raw, "identifier")
    kind = _HINTS.get(hint.strip().lower()) if hint else None
    if kind is not None:
        try:
            return _PARSERS[kind](code)
        except InvalidIdentifier as exc:
            first_error: InvalidIdentifier | None = exc
    else:
        first_error = None
    try:
        return _classify(code)
    except InvalidIdentifier:
        if first_error is not None:
            raise first_error from None
        raise


def _classify(code: str) -> Identifier:
    if "*" in code:
        return parse_id_number(code)
    if len(code) == 9:
        return parse_org_code(code)
    if len(code) == 15:
        return _classify_15(code)
    if len(code) == 18:
        return _classify_18(code)
    raise InvalidIdentifier("bad_length", f"no identifier has {len(code)} characters")


def _try(parse: Callable[[str], Identifier], code: str) -> Identifier | InvalidIdentifier:
    try:
        return parse(code)
    except InvalidIdentifier as exc:
        return exc


def _classify_15(code: str) -> Identifier:
    reg = _try(parse_reg_no, code)
    person = _try(_parse_full_id, code) if _ascii_digits(code) else None
    if isinstance(reg, Identifier):
        if isinstance(person, Identifier):
            # About one legacy ID in ten satisfies MOD 11,10 by chance; the
            # loader should prefer a 证件类型 hint when the feed has one.
            return Identifier(reg.kind, reg.value, (*reg.warnings, "ambiguous_id_number"))
        return reg
    if isinstance(person, Identifier):
        return person
    raise reg


def _classify_18(code: str) -> Identifier:
    """Decide between a USCC and an ID number for an 18-character value.

    A value with letters outside the ID pattern can only be a USCC. An
    all-digit value (last one possibly X) can be either, so both readings are
    parsed and:

    1. the reading whose own check character validates wins (an ID number is
       invalid without it; a USCC only carries a warning);
    2. if both validate, the one with fewer warnings wins (unknown division,
       unknown authority/type pair, inner org-code check);
    3. if still tied, the USCC wins: a clean USCC passes two independent
       checks (MOD 31 and the inner GB 11714 one) plus the authority/type
       table, so it is much less likely to hold by chance than an ID number;
    4. if neither check validates, it is a USCC with ``uscc_check_mismatch``
       only when the ID reading fails on structure or date as well — a value
       that is a well-formed ID except for its check is more likely a
       mistyped ID than a 重错码, and is refused as ``bad_check``.
    """
    org = _try(parse_uscc, code)
    person = _try(_parse_full_id, code)
    if isinstance(person, InvalidIdentifier) and person.reason == "bad_char":
        # Letters where an ID number has digits: the USCC reading is the only one.
        if isinstance(org, Identifier):
            return org
        raise org
    if isinstance(org, InvalidIdentifier):
        if isinstance(person, Identifier):
            return person
        raise person
    org_ok = "uscc_check_mismatch" not in org.warnings
    if isinstance(person, Identifier):
        if not org_ok:
            return person
        return org if len(org.warnings) <= len(person.warnings) else person
    if org_ok or person.reason in ("bad_date", "bad_format"):
        return org
    raise person
