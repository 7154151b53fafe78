"""Hostile input: random text never breaks the parsers with anything but their
own errors, and values that look like Cypher, HTML or spreadsheet formulas go
through a real feed file into both stores and come back byte-identical, with
the store unharmed."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import FeedError
from graph.identifiers import (
    InvalidIdentifier,
    org_code_check_char,
    parse_id_number,
    parse_identifier,
    parse_org_code,
    parse_reg_no,
    parse_uscc,
    uscc_check_char,
)
from graph.model import Subject
from graph.names import normalise_name
from graph.settings import Settings
from graph.store.base import Batch, GraphStore
from loaders.clean import (
    excel_escape,
    parse_amount,
    parse_date,
    parse_percent,
)
from loaders.mapping import mappings
from loaders.pipeline import FileLoader

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text close to what departments send: digits, Latin letters, CJK, full-width
# forms, separators, control characters, and anything else.
cells = st.one_of(
    st.text(max_size=40),
    st.text(
        alphabet="0123456789XxABCDEFGHJKLMNPQRTUWY -—_/.年月日０１２３４５６７８９", max_size=25
    ),
    st.from_regex(r"[0-9A-Z]{15,20}", fullmatch=True),
)


@FAST
@given(raw=cells, hint=st.sampled_from([None, "uscc", "org_code", "reg_no", "id_number"]))
def test_identifier_parsers_raise_only_invalid_identifier(raw: str, hint: str | None) -> None:
    for parse in (parse_uscc, parse_org_code, parse_reg_no, parse_id_number):
        try:
            ident = parse(raw)
        except InvalidIdentifier:
            continue
        assert ident.value and ident.key.startswith(ident.kind + ":")
    with contextlib.suppress(InvalidIdentifier):
        parse_identifier(raw, hint=hint)


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    cells,
)


@FAST
@given(value=values)
def test_cleaners_raise_only_value_error(value: object) -> None:
    for clean in (parse_date, parse_amount, parse_percent):
        with contextlib.suppress(ValueError):
            clean(value)


@FAST
@given(name=st.text(max_size=60))
def test_name_normalisation_never_fails(name: str) -> None:
    assert isinstance(normalise_name(name), str)


@FAST
@given(
    header=st.lists(
        st.one_of(st.text(max_size=12), st.sampled_from(["主体名称", "统一社会信用代码"])),
        max_size=12,
    ),
    kind=st.sampled_from(sorted(mappings())),
)
def test_a_random_header_maps_or_is_refused(header: list[str], kind: str) -> None:
    mapping = mappings()[kind]
    try:
        index = mapping.match_header(header, "f.csv")
    except FeedError as exc:
        assert exc.details["reason"] == "missing_columns"
        return
    assert all(0 <= i < len(header) for i in index.values())


@FAST
@given(text=st.text(max_size=30))
def test_excel_escape_neutralises_formulas(text: str) -> None:
    out = excel_escape(text)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert out in (text, "'" + text)


# --- through a real feed file, on both stores --------------------------------------

HOSTILE = [
    "' OR 1=1 --",
    "}) DETACH DELETE n //",
    "MATCH (n) DETACH DELETE n",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","点我")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "$param {x} `tick` \\u0000",
    "Robert'); DROP TABLE records;--",
]


def uscc(i: int) -> str:
    org = f"MC{i:06d}"
    org += org_code_check_char(org)
    body = f"91411403{org}"
    return body + uscc_check_char(body)


def test_hostile_values_are_stored_and_returned_as_text(store: GraphStore, tmp_path: Path) -> None:
    store.write(Batch(subjects=[Subject(id="S-bystander", type="organisation", name="旁观者公司")]))
    lines = ["主体名称,统一社会信用代码,红名单类型,认定机关,认定日期"]
    for i, value in enumerate(HOSTILE):
        quoted = '"' + value.replace('"', '""') + '"'
        lines.append(f"{quoted},{uscc(i)},{quoted},{quoted},2023-05-01")
    feed = tmp_path / "red_list_hostile.csv"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = FileLoader(store, Settings(data_dir=tmp_path / "data")).load(feed)
    assert report.loaded == len(HOSTILE), report

    by_key = store.find_by_keys(f"uscc:{uscc(i)}" for i in range(len(HOSTILE)))
    for i, value in enumerate(HOSTILE):
        (sid,) = by_key[f"uscc:{uscc(i)}"]
        subject = store.get_subjects([sid])[sid]
        assert subject.name == value.strip()
        (record,) = store.records_of(sid)
        assert record.values["主体名称"] == value
        assert record.values["红名单类型"] == value
        (listing,) = store.listings_of([sid])
        assert listing.department == value.strip()
        assert listing.props["list_type"] == value.strip()
    # nothing was deleted or run: the bystander and every row are there
    assert "S-bystander" in store.get_subjects(["S-bystander"])
    counts = store.counts()
    assert counts["subjects"] == len(HOSTILE) + 1
    assert counts["records"] == len(HOSTILE)


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
def test_hostile_search_text_finds_nothing_and_harms_nothing(store: GraphStore) -> None:
    store.write(
        Batch(subjects=[Subject(id="S-a", type="organisation", name="甲", norm_names=["甲"])])
    )
    for value in HOSTILE:
        assert store.search(value) == []
        assert store.find_by_keys([value]) == {}
        assert store.get_subjects([value]) == {}
    assert store.counts()["subjects"] == 1
