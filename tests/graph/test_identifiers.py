"""Identifier rules, one test per rule, each naming the standard it enforces.

Where python-stdnum gets a rule wrong for our data, the test asserts both that
stdnum rejects the value and that we accept it, so a future stdnum fix shows up.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from graph import regions
from graph.identifiers import (
    USCC_ALPHABET,
    Identifier,
    InvalidIdentifier,
    compact,
    id_birth_date,
    id_check_char,
    id_sex,
    is_placeholder,
    masked_matches,
    masked_parts,
    org_code_check_char,
    org_code_of_uscc,
    parse_id_number,
    parse_identifier,
    parse_org_code,
    parse_reg_no,
    parse_uscc,
    reg_no_check_digit,
    uscc_check_char,
)
from graph.privacy import mask_id

# Codes below were built for these tests: 8-char prefix + org body + checks.
USCC_9 = "91411424MA9FQ3T1XU"  # 企业, 柘城县
USCC_A = "A1411400MA00000156"  # 军队事业单位
USCC_N = "N2411425MA45K2L31C"  # 村级集体经济组织
USCC_Y = "Y14114021234567882"  # 其他
USCC_DIGITS = "124114004160490275"  # 事业单位, all digits
PILOT = "91350100M0001TGQXM"
ID_SHANGQIU_1980 = "411425198001011231"  # 虞城县, code created 1997
ID_RETIRED_4123 = "412321198001011231"  # 商丘地区虞城县, retired 1997
ID_X = "41142319850214104X"


# ---------------------------------------------------------------- reference formulas
# Independent spellings of the published algorithms, to cross-check the module.


def _ref_uscc(first17: str) -> str:
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, weights, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _ref_mod_11_10(first14: str) -> str:
    p = 10
    for d in first14:
        s = (p + int(d)) % 10 or 10
        p = (2 * s) % 11
    return str((11 - p) % 10)


def _ref_mod_11_2(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    value = (12 - sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11) % 11
    return "X" if value == 10 else str(value)


# ---------------------------------------------------------------- strategies

_REGIONS = sorted(code for code in regions._table() if not code.endswith("0000"))
_PAIRS = ["11", "12", "51", "52", "53", "91", "92", "93", "A1", "N2", "Y1"]

region_codes = st.sampled_from(_REGIONS)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date.today())


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    body8 = draw(st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8))
    first17 = draw(st.sampled_from(_PAIRS)) + draw(region_codes) + body8
    first17 += org_code_check_char(body8)
    return first17 + uscc_check_char(first17)


@st.composite
def valid_id_numbers(draw: st.DrawFn) -> str:
    born = draw(birth_dates)
    seq = draw(st.integers(0, 999))
    first17 = f"{draw(region_codes)}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


# ---------------------------------------------------------------- cleaning


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "N/A",
        "n/a",
        "NA",
        "-",
        "--",
        "—",
        "无",
        "/",
        "null",
        "NULL",
        "None",
        "暂无",
        "0000000000",
        "000000000000000000",
        "00000000-0",
        "***",
        None,
    ],
)
def test_placeholders_recognised_feed_empty_cells(raw: str | None) -> None:
    """Empty cells in feeds are "", N/A, -, 无 or / (feeds.md); zero-filled codes too."""
    assert is_placeholder(raw)
    if raw is not None:
        with pytest.raises(InvalidIdentifier) as err:
            parse_identifier(raw)
        assert err.value.reason == "placeholder"


@pytest.mark.parametrize("raw", [USCC_9, "12345678-9", "无锡", "N", "100"])
def test_real_values_are_not_placeholders(raw: str) -> None:
    assert not is_placeholder(raw)


@given(st.text())
def test_compact_is_idempotent(raw: str) -> None:
    once = compact(raw)
    assert compact(once) == once


def test_compact_full_width_spaces_hyphens_dots() -> None:
    assert compact(" ９１４１１４２４－ＭＡ９Ｆ Q3T1.xu ") == USCC_9


# ---------------------------------------------------------------- USCC, GB 32100-2015


def test_gb32100_check_char_matches_published_formula_and_stdnum() -> None:
    for code in (USCC_9, USCC_A, USCC_N, USCC_Y, USCC_DIGITS):
        assert uscc_check_char(code[:17]) == code[17] == _ref_uscc(code[:17])
    assert uscc.calc_check_digit(USCC_9[:17]) == USCC_9[17]


def test_gb32100_valid_code_parses_clean() -> None:
    ident = parse_uscc(USCC_9)
    assert ident == Identifier("uscc", USCC_9)
    assert ident.key == f"uscc:{USCC_9}"
    assert ident.is_full_key


@pytest.mark.parametrize("code", [USCC_A, USCC_N, USCC_Y])
def test_gb32100_authorities_a_n_y_accepted_though_stdnum_rejects(code: str) -> None:
    """GB 32100-2015 authorities A (军委编办), N (农业), Y (其他): stdnum requires digits."""
    assert not uscc.is_valid(code)
    assert parse_uscc(code) == Identifier("uscc", code)


def test_gb32100_pilot_code_failing_position_18_kept_with_warning() -> None:
    """GB 32100-2015 重错码: a position-18 failure is a finding, not a rejection."""
    ident = parse_uscc(PILOT)
    assert ident.value == PILOT
    assert "uscc_check_mismatch" in ident.warnings
    assert parse_identifier(PILOT).kind == "uscc"


@pytest.mark.parametrize(
    "raw",
    [
        USCC_9.lower(),
        " 9141 1424 MA9F Q3T1 XU ",
        "914114-24MA9FQ3T1-XU",
        "９１４１１４２４ＭＡ９ＦＱ３Ｔ１ＸＵ",
        "91411424.MA9FQ3T1.XU",
    ],
)
def test_gb32100_lowercase_full_width_spaces_hyphens_cleaned(raw: str) -> None:
    assert parse_uscc(raw).value == USCC_9


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V"])
def test_gb32100_letters_i_o_z_s_v_rejected(bad: str) -> None:
    code = USCC_9[:10] + bad + USCC_9[11:]
    with pytest.raises(InvalidIdentifier) as err:
        parse_uscc(code)
    assert err.value.reason == "bad_char"


def test_gb32100_wrong_length_rejected() -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse_uscc(USCC_9[:17])
    assert err.value.reason == "bad_length"


def test_gb32100_inner_org_code_check_gb11714_is_a_warning() -> None:
    """GB 32100-2015 positions 9-17 are a GB 11714 code; stdnum does not check them."""
    first17 = USCC_9[:16] + "0"  # wrong inner check (T1 body → X)
    code = first17 + uscc_check_char(first17)
    assert uscc.is_valid(code)
    assert parse_uscc(code).warnings == ("uscc_inner_org_check_mismatch",)


def test_gb32100_unknown_authority_type_pair_is_a_warning() -> None:
    first17 = "94" + USCC_9[2:17]
    code = first17 + uscc_check_char(first17)
    assert parse_uscc(code).warnings == ("uscc_unknown_authority_type",)


def test_gb32100_division_code_gbt2260_unknown_is_a_warning() -> None:
    first17 = "91999999" + USCC_9[8:17]
    code = first17 + uscc_check_char(first17)
    assert parse_uscc(code).warnings == ("unknown_region",)
    national = "91100000" + USCC_9[8:17]
    assert parse_uscc(national + uscc_check_char(national)).warnings == ()


def test_gb32100_org_code_of_uscc_bridges_to_gb11714() -> None:
    assert org_code_of_uscc(USCC_9.lower()) == "MA9FQ3T1X"
    assert parse_org_code(org_code_of_uscc(USCC_9)).value == "MA9FQ3T1X"


@given(valid_usccs())
def test_gb32100_round_trip_for_random_bodies(code: str) -> None:
    assert _ref_uscc(code[:17]) == code[17]
    assert parse_uscc(code) == Identifier("uscc", code)
    assert parse_identifier(code).value == code


# ---------------------------------------------------------------- org code, GB 11714


@pytest.mark.parametrize("raw", ["D2143569-X", "D2143569X", "d2143569-x", "Ｄ２１４３５６９－Ｘ"])
def test_gb11714_org_code_with_and_without_hyphen_check_x(raw: str) -> None:
    ident = parse_org_code(raw)
    assert ident == Identifier("org_code", "D2143569X")
    assert not ident.is_full_key
    assert parse_identifier(raw) == ident


def test_gb11714_check_value_11_is_zero() -> None:
    assert org_code_check_char("10000004") == "0"
    assert parse_org_code("10000004-0").value == "100000040"


def test_gb11714_bad_check_rejected() -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse_org_code("12345678-9")
    assert err.value.reason == "bad_check"
    assert parse_org_code("12345678-8").value == "123456788"


# ---------------------------------------------------------------- reg no, GS15-2006


@pytest.mark.parametrize("code", ["411400000000012", "411423600001235"])
def test_gs15_2006_registration_number_iso7064_mod_11_10(code: str) -> None:
    assert reg_no_check_digit(code[:14]) == code[14] == _ref_mod_11_10(code[:14])
    ident = parse_reg_no(code)
    assert ident == Identifier("reg_no", code)
    assert parse_identifier(code) == ident
    assert not ident.is_full_key


def test_gs15_2006_bad_check_rejected() -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse_reg_no("411400000000013")
    assert err.value.reason == "bad_check"


@given(st.text(alphabet=string.digits, min_size=14, max_size=14))
def test_gs15_2006_round_trip_for_random_bodies(body: str) -> None:
    code = body + _ref_mod_11_10(body)
    assert reg_no_check_digit(body) == code[-1]
    assert parse_reg_no(code).value == code


# ---------------------------------------------------------------- ID number, GB 11643-1999


def test_gb11643_check_char_iso7064_mod_11_2() -> None:
    for code in (ID_SHANGQIU_1980, ID_RETIRED_4123, ID_X):
        assert id_check_char(code[:17]) == code[17] == _ref_mod_11_2(code[:17])


def test_gb11643_15_digit_legacy_converted() -> None:
    """GB 11643-1999: insert 19 before the year and append the MOD 11-2 check."""
    ident = parse_id_number("360426910101007")
    assert ident.value == "360426199101010071"
    assert "converted_from_15" in ident.warnings
    assert parse_identifier("360426910101007") == ident


def test_gb11643_lowercase_x_is_the_same_number() -> None:
    assert parse_id_number(ID_X.lower()) == parse_id_number(ID_X)
    assert parse_id_number(ID_X).value == ID_X


def test_gb11643_shangqiu_1980_accepted_though_stdnum_rejects() -> None:
    """GB 11643-1999 address code is the place of issue: 4114xx (since 1997) for a 1980 birth."""
    assert not ric.is_valid(ID_SHANGQIU_1980)
    ident = parse_id_number(ID_SHANGQIU_1980)
    assert ident == Identifier("id_number", ID_SHANGQIU_1980)
    assert ident.is_full_key


def test_gb11643_gbt2260_retired_4123_code_accepted() -> None:
    """GB/T 2260: 商丘地区's 4123xx codes retired in 1997 still appear on valid IDs."""
    assert parse_id_number(ID_RETIRED_4123).warnings == ()


def test_gb11643_gbt2260_unknown_region_is_only_a_warning() -> None:
    body = "99999919800101123"
    ident = parse_id_number(body + id_check_char(body))
    assert ident.warnings == ("unknown_region",)


@pytest.mark.parametrize(
    "birth",
    ["19800230", "19801301", "18991231", (date.today() + timedelta(days=1)).strftime("%Y%m%d")],
)
def test_gb11643_invalid_or_future_birth_date_rejected(birth: str) -> None:
    body = f"411425{birth}123"
    with pytest.raises(InvalidIdentifier) as err:
        parse_id_number(body + id_check_char(body))
    assert err.value.reason == "bad_date"


def test_gb11643_bad_check_rejected() -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse_id_number(ID_SHANGQIU_1980[:17] + "2")
    assert err.value.reason == "bad_check"


def test_gb11643_birth_date_and_sex() -> None:
    assert id_birth_date(ID_SHANGQIU_1980) == date(1980, 1, 1)
    assert id_sex(ID_SHANGQIU_1980) == "male"
    assert id_sex(ID_X) == "female"


@given(valid_id_numbers())
def test_gb11643_round_trip_for_random_bodies(code: str) -> None:
    assert parse_id_number(code) == Identifier("id_number", code)


@given(valid_id_numbers(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_gb11643_mod_11_2_detects_every_single_substitution(code: str, pos: int, char: str) -> None:
    """ISO 7064 MOD 11-2 detects all single-character errors."""
    if code[pos] == char:
        return
    with pytest.raises(InvalidIdentifier):
        parse_id_number(code[:pos] + char + code[pos + 1 :])


# ---------------------------------------------------------------- masked IDs


def test_gb11643_masked_number_is_partial_key() -> None:
    ident = parse_id_number("4114251980****1234")
    assert ident == Identifier("id_masked", "4114251980****1234")
    assert not ident.is_full_key
    assert parse_identifier("4114251980****1234") == ident
    assert masked_parts(ident.value) == ("411425", "1980", "1234")


def test_masked_star_count_normalised_to_18_digit_shape() -> None:
    assert parse_id_number("4114251980**1234").value == "4114251980****1234"
    assert parse_id_number("411425********123x").value == "411425********123X"
    assert parse_id_number("411425800****23").kind == "id_masked"


def test_masked_matches_only_visible_characters() -> None:
    assert masked_matches("411425********1231", ID_SHANGQIU_1980)
    assert masked_matches("4114251980****1231", ID_SHANGQIU_1980)
    assert not masked_matches("4114251981****1231", ID_SHANGQIU_1980)


def test_mask_id_shows_only_region_and_last_four() -> None:
    assert mask_id(ID_SHANGQIU_1980) == "411425********1231"
    assert mask_id("4114251980****1234") == "411425********1234"
    assert mask_id("not an id") == "*" * len(compact("not an id"))


@given(valid_id_numbers())
def test_mask_never_contains_birth_date(code: str) -> None:
    masked = mask_id(code)
    assert code[6:14] not in masked
    assert masked_parts(code)[0] == masked[:6]
    assert masked[-4:] == code[-4:]


# ---------------------------------------------------------------- classification


def test_classify_18_all_digit_uscc_whose_id_reading_fails() -> None:
    assert parse_identifier(USCC_DIGITS) == Identifier("uscc", USCC_DIGITS)


def test_classify_18_both_checks_hold_fewer_warnings_wins() -> None:
    code = "510100198506120977"  # USCC reading: unknown division 010019
    assert "uscc_check_mismatch" not in parse_uscc(code).warnings
    assert parse_identifier(code).kind == "id_number"
    assert parse_identifier(code, hint="uscc").kind == "uscc"


def test_classify_18_id_with_bad_check_refused_not_taken_as_uscc() -> None:
    with pytest.raises(InvalidIdentifier) as err:
        parse_identifier(ID_SHANGQIU_1980[:17] + "2")
    assert err.value.reason == "bad_check"


def test_classify_15_reg_no_wins_when_mod_11_10_holds() -> None:
    ident = parse_identifier("411425800101105")  # also a valid legacy ID
    assert ident.kind == "reg_no"
    assert "ambiguous_id_number" in ident.warnings
    assert parse_identifier("411425800101105", hint="身份证").kind == "id_number"


def test_classify_nothing_fits() -> None:
    for raw in ("12345", "hello world", "911234567890123456789"):
        with pytest.raises(InvalidIdentifier):
            parse_identifier(raw)


def test_invalid_identifier_is_value_error_with_reason() -> None:
    with pytest.raises(ValueError) as err:
        parse_uscc("X")
    assert isinstance(err.value, InvalidIdentifier)
    assert err.value.to_dict()["details"] == {"reason": "bad_length"}


@pytest.mark.parametrize(
    "parse", [parse_uscc, parse_org_code, parse_reg_no, parse_id_number, parse_identifier]
)
@given(raw=st.text())
def test_parsers_raise_only_invalid_identifier(
    parse: Callable[[str], Identifier], raw: str
) -> None:
    try:
        result = parse(raw)
    except InvalidIdentifier:
        return
    assert isinstance(result, Identifier)


# ---------------------------------------------------------------- regions, GB/T 2260


def test_gbt2260_shangqiu_old_and_new_codes_known() -> None:
    assert regions.is_known_region("411425") and regions.is_known_region("412321")
    assert not regions.is_known_region("999999")
    r = regions.region("412321")
    assert r is not None and not r.in_use and r.valid_to == 1997
    assert regions.region_name("411424") == "河南省商丘市柘城县"


def test_gbt2260_current_code_follows_successors_cycle_safe() -> None:
    assert regions.current_code("412321") == "411425"
    assert regions.current_code("412328") == "411481"  # 永城县 → 永城市 → 411481
    assert regions.current_code("360402") == "360402"  # reused code lists itself
    assert regions.current_code("999999") == "999999"
