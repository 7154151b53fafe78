"""GB/T 2260 administrative division codes, with their history.

Identifiers carry the division code that was in force when they were issued and
never change afterwards, so "is this a real code?" means "did it exist at any
time", not "does it exist today". The table in ``data/gb2260.csv`` lists every
code with its validity period and, for retired codes, the code(s) that took over.

The file is read once, on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "Region",
    "all_regions",
    "current_code",
    "is_known_region",
    "region",
    "region_history",
    "region_name",
]

_DATA_FILE = "data/gb2260.csv"
# 二级行政区 "直辖" marks districts of a municipality and county-level units
# governed directly by a province: there is no prefecture to name.
_NO_PREFECTURE = "直辖"
_IN_USE = "在用"
_CODE_RE = re.compile(r"^\d{6}$")
# 新代码 entries look like "411402", "411402;411403" or "360482[2010]": a bracketed
# year marks a part of the territory handed over in that year while the code
# itself lived on, so it is a weaker successor than an unannotated entry.
_SUCCESSOR_RE = re.compile(r"^(\d{6})(?:\[(\d{4})\])?$")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    province: str
    prefecture: str | None
    level: str  # 省级 | 地级 | 县级
    in_use: bool
    valid_from: int | None
    valid_to: int | None
    successor: str | None
    # Every code listed under 新代码, in file order (a split county has several).
    successors: tuple[str, ...] = ()


def _year(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _parse_successors(code: str, text: str) -> tuple[tuple[str, ...], str | None]:
    whole: list[str] = []
    partial: list[str] = []
    for part in text.split(";"):
        m = _SUCCESSOR_RE.match(part.strip())
        if not m:
            continue
        target = m.group(1)
        (partial if m.group(2) else whole).append(target)
    ordered = tuple(dict.fromkeys([*whole, *partial]))
    # A code can list itself (庐山区 360402 → "360402;360483") when the number was
    # reused for a new district; following it would go nowhere.
    primary = next((c for c in [*whole, *partial] if c != code), None)
    return ordered, primary


def _load_rows(text: str) -> dict[str, tuple[Region, ...]]:
    by_code: dict[str, list[Region]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        code = (row.get("代码") or "").strip()
        if not _CODE_RE.match(code):
            continue
        prefecture = (row.get("二级行政区") or "").strip()
        successors, primary = _parse_successors(code, row.get("新代码") or "")
        in_use = (row.get("状态") or "").strip() == _IN_USE
        by_code.setdefault(code, []).append(
            Region(
                code=code,
                name=(row.get("名称") or "").strip(),
                province=(row.get("一级行政区") or "").strip(),
                prefecture=None if prefecture in ("", _NO_PREFECTURE) else prefecture,
                level=(row.get("级别") or "").strip(),
                in_use=in_use,
                valid_from=_year(row.get("启用时间") or ""),
                valid_to=_year(row.get("变更/弃用时间") or ""),
                # An in-use code has no successor even when parts of it moved away.
                successor=None if in_use else primary,
                successors=successors,
            )
        )
    return {code: tuple(sorted(rows, key=_recency)) for code, rows in by_code.items()}


def _recency(r: Region) -> tuple[int, int, int]:
    # Oldest first, the entry in use (or the most recently retired) last.
    return (1 if r.in_use else 0, r.valid_to or 9999, r.valid_from or 0)


@cache
def _table() -> dict[str, tuple[Region, ...]]:
    # A plain path: importlib.resources trips over the editable install's path hook.
    text = (Path(__file__).parent / _DATA_FILE).read_text(encoding="utf-8-sig")
    return _load_rows(text)


def all_regions() -> Iterator[Region]:
    """Every entry of the table, every code with each of its periods."""
    for rows in _table().values():
        yield from rows


def region_history(code: str) -> tuple[Region, ...]:
    """Every meaning the code has had, oldest first (a code can be reused)."""
    return _table().get(code.strip(), ())


def region(code: str) -> Region | None:
    """The region a code denotes: today's meaning, or its last one if retired."""
    history = region_history(code)
    return history[-1] if history else None


def is_known_region(code: str) -> bool:
    """True for any code that existed at any time, retired ones included."""
    return bool(region_history(code))


def current_code(code: str) -> str:
    """Follow 新代码 to the code in use today.

    A split code follows its first listed successor. A code that is unknown, in
    use, or retired without a successor is returned unchanged.
    """
    seen: set[str] = set()
    cur = code.strip()
    while cur not in seen:
        seen.add(cur)
        r = region(cur)
        if r is None or r.in_use or r.successor is None:
            return cur
        cur = r.successor
    return cur


def region_name(code: str) -> str | None:
    """Full name such as "河南省商丘市柘城县", or None for an unknown code."""
    r = region(code)
    if r is None:
        return None
    parts = [r.province]
    if r.level == "县级" and r.prefecture:
        parts.append(r.prefecture)
    parts.append(r.name)
    # Province-level rows and municipality prefectures repeat the same name.
    deduped = [p for i, p in enumerate(parts) if p and (i == 0 or p != parts[i - 1])]
    return "".join(deduped) or r.name
