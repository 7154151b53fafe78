"""Value cleaning for department feeds.

Every parser returns the cleaned value, ``None`` for an empty cell, or raises
``ValueError`` with a short message; the loader keeps the original text next to
the cleaned value, so nothing here needs to remember what it was given.

Name functions (``normalise_name`` and friends) produce *matching keys*, never
display names: they may drop characters a person would keep.
"""

from __future__ import annotations

import csv
import math
import re
import threading
import unicodedata
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "EMPTY_MARKERS",
    "Money",
    "excel_escape",
    "is_branch_name",
    "is_empty",
    "looks_like_organisation",
    "name_tokens",
    "normalise_name",
    "parse_amount",
    "parse_date",
    "parse_money",
    "parse_percent",
    "strip_region_prefix",
]

_GB2260 = Path(__file__).resolve().parent.parent / "graph" / "data" / "gb2260.csv"

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


# --- names -------------------------------------------------------------------

_converter_lock = threading.Lock()
_converter: Any = None
_t2s_triggers: frozenset[str] = frozenset()


def _t2s() -> tuple[Any, frozenset[str]]:
    """The OpenCC t2s converter and the characters that can make it change text.

    Building it reads the dictionaries (~0.2 s), so it is done once, on first use.
    """
    global _converter, _t2s_triggers
    with _converter_lock:
        if _converter is None:
            from opencc import OpenCC

            converter = OpenCC("t2s")
            converter.convert("")  # loads the dictionaries into dict_cache
            triggers: set[str] = set()
            for _max, _min, table in converter.dict_cache.values():
                for key, targets in table.items():
                    # OpenCC uses the first of several space-separated targets.
                    target = targets.split(" ")[0]
                    if len(key) == len(target):
                        triggers.update(k for k, t in zip(key, target, strict=True) if k != t)
                    else:
                        triggers.update(key)
            _t2s_triggers = frozenset(triggers)
            _converter = converter
    return _converter, _t2s_triggers


def _to_simplified(text: str) -> str:
    converter, triggers = _t2s()
    # Most names have no traditional character; skipping OpenCC for them is
    # what keeps normalisation fast on millions of names.
    if triggers.isdisjoint(text):
        return text
    # t2s is not idempotent (乾圖 → 乾图 → 干图); iterate to a fixed point so
    # that normalise_name is.
    for _ in range(4):
        converted: str = converter.convert(text)
        if converted == text:
            break
        text = converted
    return text


_NAME_DROPPED = frozenset("·•・‧｜|~`^+=<>$¥￥")


class _NameTable(dict[int, "int | None"]):
    """What ``str.translate`` does to each character of a name, worked out the
    first time the character is seen: building it for all of Unicode up front
    cost ~0.3 s per process, while names use a few thousand characters."""

    def __missing__(self, code: int) -> int | None:
        ch = chr(code)
        category = unicodedata.category(ch)
        result: int | None
        # Punctuation (brackets included: their content is kept), separators,
        # controls and format characters (zero-width spaces) carry no identity.
        if category[0] in "PZ" or category in ("Cc", "Cf") or ch in _NAME_DROPPED:
            result = None
        elif 0x41 <= code <= 0x5A:
            result = code + 32
        else:
            result = code
        self[code] = result
        return result


_name_table = _NameTable()

# Order matters: 股份有限责任公司 becomes 股份有限公司 through the first rule.
_LEGAL_FORMS = (("有限责任公司", "有限公司"),)


@lru_cache(maxsize=1 << 18)
def normalise_name(name: str) -> str:
    # Punctuation goes before t2s: OpenCC splits on it, and removing it
    # afterwards could join two characters into a phrase a second pass would
    # convert differently.
    text = unicodedata.normalize("NFKC", name).translate(_name_table)
    text = _to_simplified(text)
    text = unicodedata.normalize("NFKC", text).translate(_name_table)
    for long, short in _LEGAL_FORMS:
        text = text.replace(long, short)
    return text


# Region prefixes: the full GB/T 2260 name of every division that ever
# existed, plus the short form (商丘, 河南) of provinces and prefectures only.
# County short forms are left out on purpose: 新华, 长安, 中山... begin too
# many enterprise names.
_SHORT_SUFFIXES = ("特别行政区", "自治区", "自治州", "地区", "省", "市", "盟", "区", "州")
_ETHNIC = re.compile(
    r"(?:维吾尔|壮族|回族|蒙古族|藏族|朝鲜族|土家族|苗族|侗族|彝族|布依族|哈尼族|傣族|白族|"
    r"傈僳族|景颇族|哈萨克|柯尔克孜|羌族|黎族|瑶族|畲族|水族|仡佬族|纳西族|蒙古|族)+$"
)
_LEGAL_SUFFIXES = (
    "股份有限公司",
    "有限公司",
    "个人独资企业",
    "普通合伙",
    "有限合伙",
    "合伙企业",
    "公司",
)


@lru_cache(maxsize=1)
def _region_prefixes() -> tuple[frozenset[str], dict[str, tuple[int, ...]]]:
    """The prefixes, and for each first two characters the lengths of the
    prefixes that begin with them, longest first: most names begin with no
    region at all and are done after one dictionary look-up."""
    names: set[str] = set()
    with _GB2260.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            full = row["名称"].strip()
            if len(full) < 2:
                continue
            names.add(full)
            if row["级别"] in ("省级", "地级"):
                for suffix in _SHORT_SUFFIXES:
                    if full.endswith(suffix):
                        short = _ETHNIC.sub("", full[: -len(suffix)])
                        if len(short) >= 2:
                            names.add(short)
                        break
    lengths: dict[str, set[int]] = {}
    for name in names:
        lengths.setdefault(name[:2], set()).add(len(name))
    by_head = {head: tuple(sorted(ls, reverse=True)) for head, ls in lengths.items()}
    return frozenset(names), by_head


def _core_length(rest: str) -> int:
    for suffix in _LEGAL_SUFFIXES:
        if rest.endswith(suffix):
            return len(rest) - len(suffix)
    return len(rest)


# The resolver asks for the core of the same names over and over (indexing,
# blocking, scoring); the answer depends on the name only.
@lru_cache(maxsize=1 << 18)
def strip_region_prefix(normalised: str) -> str:
    """Drop leading region names (河南省商丘市柘城县…) while a real name remains.

    "Substantial" means at least two characters besides the legal form, so
    商丘市有限公司 and 商丘市 keep their prefix.
    """
    prefixes, by_head = _region_prefixes()
    text = normalised
    while True:
        for length in by_head.get(text[:2], ()):
            if (
                length <= len(text) - 2
                and text[:length] in prefixes
                and _core_length(text[length:]) >= 2
            ):
                text = text[length:]
                break
        else:
            return text


_BRANCH = re.compile(
    "(?<=.)(?:分公司|支公司|分店|营业部|门市部|分厂|办事处|分部|分行|支行|营业所|分社)"
)


def is_branch_name(name: str) -> bool:
    return _BRANCH.search(normalise_name(name)) is not None


_ORG_WORDS = (
    "公司", "合作社", "事务所", "学校", "医院", "协会", "商行", "经营部", "研究院", "研究所",
    "银行", "集团", "工作室", "中心", "委员会", "政府", "企业", "门市", "超市", "诊所",
    "幼儿园", "大学", "学院", "商店", "酒店", "饭店", "宾馆", "加工", "养殖", "种植",
    "合伙", "联合会", "商会", "基金会", "俱乐部", "营业部", "办事处", "分行", "支行",
)  # fmt: skip
# Single characters that end organisation names; only trusted on names of
# three or more characters, since 2-character person names may end in them.
_ORG_ENDINGS = tuple("厂店部局所站院馆社处队园场行会室坊庄")


def looks_like_organisation(name: str) -> bool:
    """Whether a name reads as an organisation; without a marker it does not.

    A 2–4 character Chinese name with no organisational word is a person.
    """
    key = normalise_name(name)
    if any(word in key for word in _ORG_WORDS):
        return True
    return len(key) >= 3 and key.endswith(_ORG_ENDINGS)


def name_tokens(normalised: str) -> list[str]:
    """Blocking keys: the core name and its character bigrams, in order, unique."""
    core = strip_region_prefix(normalised)
    if not core.endswith(("分公司", "支公司")):
        for suffix in _LEGAL_SUFFIXES:
            if core.endswith(suffix) and len(core) > len(suffix):
                core = core[: -len(suffix)]
                break
    if not core:
        return []
    tokens = dict.fromkeys([core])
    tokens.update(dict.fromkeys(core[i : i + 2] for i in range(len(core) - 1)))
    return list(tokens)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def excel_escape(value: str) -> str:
    """Neutralise spreadsheet formula injection in an exported cell."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
