from __future__ import annotations

import contextlib
import unicodedata
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.names import (
    is_branch_name,
    looks_like_organisation,
    name_tokens,
    normalise_name,
    strip_region_prefix,
)
from loaders.clean import (
    EMPTY_MARKERS,
    excel_escape,
    is_empty,
    parse_amount,
    parse_date,
    parse_money,
    parse_percent,
)

# --- empty -------------------------------------------------------------------


@pytest.mark.parametrize("value", [*EMPTY_MARKERS, None, float("nan"), " 无 ", "／", "n/a", "－"])
def test_empty_markers(value: object) -> None:
    assert is_empty(value)


@pytest.mark.parametrize("value", ["0", 0, "无锡市某公司", "王伟"])
def test_not_empty(value: object) -> None:
    assert not is_empty(value)


# --- dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2018-05-31",
        "2018/5/31",
        "20180531",
        "2018年5月31日",
        "2018年05月31日",
        "2018.5.31",
        "2018-05-31 00:00:00",
        "2018-05-31 13:45",
        "2018-05-31T13:45:10.000",
        " ２０１８－０５－３１ ",
        "２０１８年５月３１日",
        date(2018, 5, 31),
        datetime(2018, 5, 31, 8, 0),
        43251,  # Excel 1900-system serial
        43251.75,
        "43251",
        20180531,
    ],
)
def test_parse_date(value: object) -> None:
    assert parse_date(value) == date(2018, 5, 31)


def test_excel_serials_around_the_fake_leap_day() -> None:
    assert parse_date(59) == date(1900, 2, 28)
    assert parse_date(61) == date(1900, 3, 1)
    with pytest.raises(ValueError, match="1900-02-29"):
        parse_date(60)


@pytest.mark.parametrize("value", ["", "-", "无", None, "N/A"])
def test_parse_date_empty(value: object) -> None:
    assert parse_date(value) is None


def test_open_ended_sentinel_is_kept() -> None:
    assert parse_date("9999-12-31") == date(9999, 12, 31)


@pytest.mark.parametrize(
    "value",
    [
        "2018-02-30",
        "2018-13-01",
        "2019年2月29日",
        "2018-05-31 25:00:00",
        "2018-5/31",
        "18-05-31",
        "1850-01-01",
        "2018",
        "yesterday",
        "2018-05-31abc",
        True,
        -1,
        10**9,
        float("inf"),
        [2018, 5, 31],
    ],
)
def test_parse_date_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


# --- amounts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4,300(万元)", 4300.0),
        ("4，300（万元）", 4300.0),
        ("80万人民币", 80.0),
        ("人民币80万元", 80.0),
        ("1,200,000元", 120.0),
        ("1.5亿", 15000.0),
        ("1.5亿元", 15000.0),
        ("500", 500.0),
        (" 12.5 ", 12.5),
        ("0", 0.0),
        (4300, 4300.0),
        (12.5, 12.5),
        ("100万美元", 100.0),
    ],
)
def test_parse_amount(value: object, expected: float) -> None:
    assert parse_amount(value) == pytest.approx(expected)


def test_foreign_currency_is_reported_not_converted() -> None:
    assert parse_money("100万美元") == (100.0, "USD")
    assert parse_money("50万港元") == (50.0, "HKD")
    assert parse_money("80万人民币") == (80.0, "CNY")


@pytest.mark.parametrize(
    "value", ["-5", "-4,300万元", "约100万", "100-200万", "1,2", "12%", "abc", True, -1.0, "1e5"]
)
def test_parse_amount_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_amount(value)


def test_parse_amount_empty() -> None:
    assert parse_amount("N/A") is None
    assert parse_amount(None) is None


# --- percentages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("51%", 0.51),
        ("51.5 %", 0.515),
        ("５１％", 0.51),
        # a bare number is a percentage (rules.md, Shares): "1" is 1%
        ("0.51", 0.0051),
        ("51", 0.51),
        ("1", 0.01),
        (1, 0.01),
        # an XLSX percentage cell arrives as a fraction
        (0.51, 0.51),
        (51, 0.51),
        ("100%", 1.0),
        ("100", 1.0),
        ("0", 0.0),
    ],
)
def test_parse_percent(value: object, expected: float) -> None:
    assert parse_percent(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["101%", "150", "-5%", "abc", "5‰", True, float("inf")])
def test_parse_percent_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_percent(value)


# --- names -------------------------------------------------------------------

SAME_COMPANY = [
    "商丘市华通建材有限责任公司",
    "商丘市華通建材有限公司",
    "商丘市华通建材有限公司 ",
    "商丘市 华通建材 有限公司",
    "河南省商丘市华通建材有限公司",
    "华通建材有限公司",
]


def test_same_company_same_core() -> None:
    cores = {strip_region_prefix(normalise_name(name)) for name in SAME_COMPANY}
    assert cores == {"华通建材有限公司"}


def test_normalise_name_details() -> None:
    assert normalise_name("华通（商丘）建材有限公司") == "华通商丘建材有限公司"
    assert normalise_name("华通【商丘】建材[集团]有限公司") == "华通商丘建材集团有限公司"
    assert normalise_name("ＡＢＣ科技有限公司") == "abc科技有限公司"
    # 股份有限公司 is a different legal form from 有限公司.
    assert normalise_name("华通建材股份有限公司") != normalise_name("华通建材有限公司")
    assert normalise_name("華通建材股份有限責任公司") == "华通建材股份有限公司"


def test_region_prefix_kept_when_nothing_substantial_remains() -> None:
    assert strip_region_prefix("商丘市有限公司") == "商丘市有限公司"
    assert strip_region_prefix("商丘市") == "商丘市"
    assert strip_region_prefix("柘城县华通建材有限公司") == "华通建材有限公司"
    assert strip_region_prefix("睢阳区人民医院") == "人民医院"
    assert strip_region_prefix("商丘华通建材有限公司") == "华通建材有限公司"
    # County short forms are not prefixes: 新华书店 is not 新华区's 书店.
    assert strip_region_prefix("新华书店有限公司") == "新华书店有限公司"


def test_name_tokens() -> None:
    tokens = name_tokens(normalise_name("商丘市华通建材有限责任公司"))
    assert tokens == ["华通建材", "华通", "通建", "建材"]
    assert tokens == name_tokens(normalise_name("華通建材有限公司"))
    assert name_tokens("") == []


@pytest.mark.parametrize(
    "name",
    [
        "商丘市华通建材有限公司睢阳分公司",
        "中国建设银行股份有限公司商丘分行",
        "中国银行商丘睢阳支行",
        "华通超市（第二分店）",
        "某某证券股份有限公司商丘营业部",
        "华通建材门市部",
        "某某保险股份有限公司柘城支公司",
        "華通建材有限公司睢陽分公司",
    ],
)
def test_branches(name: str) -> None:
    assert is_branch_name(name)
    assert looks_like_organisation(name)


@pytest.mark.parametrize("name", ["商丘市华通建材有限公司", "分公司", "王伟"])
def test_not_branches(name: str) -> None:
    assert not is_branch_name(name)


@pytest.mark.parametrize(
    "name",
    ["华通建材有限公司", "睢阳区老王饭店", "商丘市第一人民医院", "柘城县红星养殖专业合作社",
     "华通会计师事务所", "商丘市人民政府", "老王砖厂", "华通律师事务所", "某某工作室"],
)  # fmt: skip
def test_organisations(name: str) -> None:
    assert looks_like_organisation(name)


@pytest.mark.parametrize("name", ["王伟", "欧阳娜娜", "张三丰", "阿卜杜·热合曼", "李 明"])
def test_persons(name: str) -> None:
    assert not looks_like_organisation(name)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+86", "'+86"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("华通", "华通"), ("", ""), ("a=b", "a=b")],
)  # fmt: skip
def test_excel_escape(value: str, expected: str) -> None:
    assert excel_escape(value) == expected


# --- properties --------------------------------------------------------------

anything = st.one_of(
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)


@settings(max_examples=400, deadline=None)
@given(anything)
def test_parsers_only_raise_value_error(value: object) -> None:
    for parser in (parse_date, parse_amount, parse_percent):
        with contextlib.suppress(ValueError):
            parser(value)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[0-9０-９年月日/.\-: ]{0,24}", fullmatch=True))
def test_date_like_text_only_raises_value_error(text: str) -> None:
    try:
        result = parse_date(text)
    except ValueError:
        return
    assert result is None or isinstance(result, date)


cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
name_text = st.text(st.one_of(cjk, st.characters()), max_size=30)


@settings(max_examples=500, deadline=None)
@given(name_text)
def test_normalise_name_idempotent(name: str) -> None:
    once = normalise_name(name)
    assert normalise_name(once) == once
    assert strip_region_prefix(once) in once
    assert name_tokens(once) == name_tokens(once)


def to_full_width(text: str) -> str:
    return "".join(
        chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else "\u3000" if ch == " " else ch for ch in text
    )


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(cjk, st.characters(min_codepoint=0x20, max_codepoint=0x7E)), max_size=30))
def test_full_and_half_width_equal(name: str) -> None:
    assert normalise_name(to_full_width(name)) == normalise_name(name)
    assert unicodedata.normalize("NFKC", to_full_width(name)) == name


@settings(max_examples=200, deadline=None)
@given(st.text(cjk, min_size=2, max_size=8))
def test_branch_suffix_always_detected(head: str) -> None:
    assert is_branch_name(head + "有限公司" + "分公司")


def test_nan_is_an_empty_cell() -> None:
    assert parse_percent(float("nan")) is None
    assert parse_amount(float("nan")) is None
    assert parse_date(float("nan")) is None
