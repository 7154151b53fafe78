"""Enterprise and person names as matching keys: normalisation, region
prefixes, branch words and organisational forms.

Name normalisation is matching logic, so it lives with the resolver's domain
(graph/), and the loaders call it (shared/DESIGN.md: layers point one way).
Every function here produces a *matching key*, never a display name: it may
drop characters a person would keep.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

from graph.regions import all_regions

__all__ = [
    "is_branch_name",
    "looks_like_organisation",
    "name_tokens",
    "normalise_name",
    "strip_region_prefix",
]


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
    for row in all_regions():
        full = row.name
        if len(full) < 2:
            continue
        names.add(full)
        if row.level in ("省级", "地级"):
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
