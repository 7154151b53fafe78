"""Value cleaning for department feeds.

Every parser returns the cleaned value, ``None`` for an empty cell, or raises
``ValueError`` with a short message; the loader keeps the original text next to
the cleaned value, so nothing here needs to remember what it was given.

Names are matching logic and live in ``graph.names``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

__all__ = [
    "EMPTY_MARKERS",
    "Money",
    "excel_escape",
    "is_empty",
    "parse_amount",
    "parse_date",
    "parse_money",
    "parse_percent",
]

# Compared after NFKC and casefold, so full-width "／", "－" and "Null" match too.
EMPTY_MARKERS: frozenset[str] = frozenset(
    {
        "",
        "N/A",
        "NA",
        "#N/A",
        "-",
        "--",
        "—",
        "——",
        "无",
        "/",
        "null",
        "NULL",
        "None",
        "nan",
        "NaN",
        "暂无",
        "空",
        "不详",
        "未知",
    }
)
_EMPTY_KEYS = frozenset(m.casefold() for m in EMPTY_MARKERS)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        if value.isascii():
            # NFKC leaves ASCII as it is and casefold is lower(); most cells
            # (codes, dates, amounts) are ASCII and skip the normalisation.
            return value.strip().lower() in _EMPTY_KEYS
        return _nfkc(value).casefold() in _EMPTY_KEYS
    return False


# --- dates -------------------------------------------------------------------

# Excel's 1900 date system counts 1900-02-29, a day that never existed, so
# serials after it are offset by one day more than those before.
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_MIN, _EXCEL_MAX = 1, (date(2100, 12, 31) - _EXCEL_EPOCH).days
_YEAR_MIN, _YEAR_MAX = 1900, 2100
# 9999-12-31 is how registries write "no end date" (长期); the caller decides.
_OPEN_ENDED = date(9999, 12, 31)
_YYYYMMDD_MIN, _YYYYMMDD_MAX = 19000101, 99991231

_TIME = r"(?:[ T]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?秒?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_DATE_PATTERNS = (
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME),
    re.compile(r"(\d{4})年\s*()(\d{1,2})月\s*(\d{1,2})日?" + _TIME),
    re.compile(r"(\d{4})()(\d{2})(\d{2})" + _TIME),
)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")


# Dates departments write for "no date": they are no date (rules.md, Dates).
PLACEHOLDER_DATES = frozenset({date(9999, 12, 31), date(1900, 1, 1)})
_PLACEHOLDER_TEXT = re.compile(r"0{4}[-/.年]?0{1,2}[-/.月]?0{1,2}日?")


def parse_date_cell(value: object) -> tuple[date | None, bool]:
    """(date, is a placeholder): 9999-12-31, 1900-01-01 and 0000-00-00 in any of
    the accepted spellings are no date (rules.md, Dates), said so. Other bad
    dates raise ValueError as ``parse_date`` does."""
    try:
        parsed = parse_date(value)
    except ValueError:
        if isinstance(value, str) and _PLACEHOLDER_TEXT.fullmatch("".join(_nfkc(value).split())):
            return None, True
        raise
    if parsed in PLACEHOLDER_DATES:
        return None, True
    return parsed, False


def parse_date(value: object) -> date | None:
    if is_empty(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError("not a date: a boolean")
    if isinstance(value, int) and _YYYYMMDD_MIN <= value <= _YYYYMMDD_MAX:
        # An XLSX number cell holding 20180531, not a serial.
        return parse_date(str(value))
    if isinstance(value, int | float):
        return _excel_serial(float(value))
    if not isinstance(value, str):
        raise ValueError(f"not a date: {type(value).__name__}")
    text = " ".join(_nfkc(value).split())
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, _, month, day, hour, minute, second = match.groups()
            return _make_date(int(year), int(month), int(day), hour, minute, second)
    # A date cell exported by a program that wrote the serial, not the date.
    if _SERIAL.fullmatch(text):
        return _excel_serial(float(text))
    raise ValueError(f"not a date: {value[:40]!r}")


def _make_date(
    year: int, month: int, day: int, hour: str | None, minute: str | None, second: str | None
) -> date:
    try:
        result = date(year, month, day)
        if hour is not None:
            time(int(hour), int(minute or 0), int(second or 0))
    except ValueError as exc:
        raise ValueError(f"impossible date: {year:04d}-{month:02d}-{day:02d} ({exc})") from None
    if result != _OPEN_ENDED and not _YEAR_MIN <= year <= _YEAR_MAX:
        raise ValueError(f"implausible year: {year}")
    return result


def _excel_serial(serial: float) -> date:
    if not math.isfinite(serial) or not _EXCEL_MIN <= serial < _EXCEL_MAX + 1:
        raise ValueError(f"not a plausible Excel date serial: {serial!r}")
    days = int(serial)
    if days == 60:
        raise ValueError("Excel serial 60 is 1900-02-29, which does not exist")
    return _EXCEL_EPOCH + timedelta(days=days if days > 60 else days + 1)


# --- amounts -----------------------------------------------------------------


class Money(NamedTuple):
    amount: float  # in 万 (ten thousands) of ``currency``
    currency: str  # ISO 4217 code; "CNY" unless the cell names another


_MULTIPLIERS = {
    "": 1.0,
    "千": 0.1,
    "万": 1.0,
    "十万": 10.0,
    "百万": 100.0,
    "千万": 1000.0,
    "亿": 1e4,
}
# Words that name a currency. Those ending in 元 (or a symbol) are the base
# unit, so "1,200,000元" is 120 万元; a bare number is already in 万 (the
# feed columns are 注册资本(万元), 罚款金额(万元)...).
_CURRENCIES = {
    "人民币元": ("CNY", True),
    "人民币": ("CNY", False),
    "元人民币": ("CNY", True),
    "元": ("CNY", True),
    "rmb": ("CNY", False),
    "cny": ("CNY", False),
    "美元": ("USD", True),
    "usd": ("USD", False),
    "港元": ("HKD", True),
    "港币": ("HKD", True),
    "hkd": ("HKD", False),
    "欧元": ("EUR", True),
    "eur": ("EUR", False),
    "日元": ("JPY", True),
    "jpy": ("JPY", False),
    "英镑": ("GBP", True),
    "gbp": ("GBP", False),
}
_CURRENCY_RE = "|".join(sorted(map(re.escape, _CURRENCIES), key=len, reverse=True))
_MULT_RE = "|".join(sorted((m for m in _MULTIPLIERS if m), key=len, reverse=True))
_AMOUNT = re.compile(
    rf"(?P<pre>{_CURRENCY_RE}|¥|\$)?"
    r"(?P<sign>[+-])?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    rf"(?P<mult>{_MULT_RE})?(?P<post>{_CURRENCY_RE})?"
)
_AMOUNT_DROP = str.maketrans("", "", " ()\t")


def parse_money(value: object) -> Money | None:
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise ValueError("not an amount: a boolean")
    if isinstance(value, int | float):
        return Money(_non_negative(float(value)), "CNY")
    if not isinstance(value, str):
        raise ValueError(f"not an amount: {type(value).__name__}")
    text = _nfkc(value).casefold().translate(_AMOUNT_DROP)
    match = _AMOUNT.fullmatch(text)
    if not match:
        raise ValueError(f"not an amount: {value[:40]!r}")
    number = float(match["num"].replace(",", ""))
    if match["sign"] == "-":
        number = -number
    currency, base = "CNY", False
    if match["post"]:
        currency, base = _CURRENCIES[match["post"]]
    elif match["pre"]:
        currency = _CURRENCIES.get(match["pre"], ("CNY", False))[0]
        if match["pre"] == "$":
            currency = "USD"
    mult = match["mult"] or ""
    if mult:
        amount = number * _MULTIPLIERS[mult]
    elif base:
        amount = number / 1e4
    else:
        amount = number
    return Money(_non_negative(amount), currency)


def parse_amount(value: object) -> float | None:
    """The amount in 万 of the stated currency (RMB unless it says otherwise).

    Foreign amounts are not converted: there is no rate to use that a reviewer
    could check. Use :func:`parse_money` to see the currency.
    """
    money = parse_money(value)
    return None if money is None else money.amount


def _non_negative(amount: float) -> float:
    if not math.isfinite(amount):
        raise ValueError(f"not a finite amount: {amount!r}")
    if amount < 0:
        raise ValueError(f"negative amount: {amount:g}")
    return amount


# --- percentages -------------------------------------------------------------

_PERCENT = re.compile(r"([+-]?(?:\d+(?:\.\d+)?|\.\d+))(%?)")


def parse_percent(value: object) -> float | None:
    """A share as a fraction 0..1.

    A bare number is a percentage ("1" is 1%, "51" is 51%: rules.md, Shares).
    An XLSX cell formatted as a percentage arrives as a fraction (0.51): a
    number cell below 1 that is not whole is read that way.
    """
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise ValueError("not a percentage: a boolean")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        match = _PERCENT.fullmatch(_nfkc(value).replace(" ", ""))
        if not match:
            raise ValueError(f"not a percentage: {value[:40]!r}")
        number = float(match[1])
    else:
        raise ValueError(f"not a percentage: {type(value).__name__}")
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"not a share: {number!r}")
    is_cell_fraction = not isinstance(value, str) and 0 < number < 1
    fraction = number if is_cell_fraction else number / 100
    if fraction > 1:
        raise ValueError(f"share above 100%: {number:g}")
    return fraction


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def excel_escape(value: str) -> str:
    """Neutralise spreadsheet formula injection in an exported cell."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
