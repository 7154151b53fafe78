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
    parse_id_number,
    parse_identifier,
    parse_org_code,
    parse_reg_no,
    parse_uscc,
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
from tests.builders import FAR, FAR_CELL, HEADER_ROW, Enterprises, workbook

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


FIRMS = Enterprises("MC")


def test_hostile_values_are_stored_and_returned_as_text(store: GraphStore, tmp_path: Path) -> None:
    store.write(Batch(subjects=[Subject(id="S-bystander", type="organisation", name="旁观者公司")]))
    lines = ["主体名称,统一社会信用代码,红名单类型,认定机关,认定日期"]
    for i, value in enumerate(HOSTILE):
        quoted = '"' + value.replace('"', '""') + '"'
        lines.append(f"{quoted},{FIRMS.uscc(i)},{quoted},{quoted},2023-05-01")
    feed = tmp_path / "red_list_hostile.csv"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = FileLoader(store, Settings(data_dir=tmp_path / "data")).load(feed)
    assert report.loaded == len(HOSTILE), report

    by_key = store.find_by_keys(f"uscc:{FIRMS.uscc(i)}" for i in range(len(HOSTILE)))
    for i, value in enumerate(HOSTILE):
        (sid,) = by_key[f"uscc:{FIRMS.uscc(i)}"]
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


# --- hostile workbooks ----------------------------------------------------------------

HOSTILE_XLSX = {
    "far_cell": (FAR_CELL, "sheet_too_large"),
    "only_far_cell": (workbook(FAR), "sheet_too_large"),
    # the same, written without cell references: positions count
    "far_by_position": (
        workbook(
            HEADER_ROW + '<row r="3">' + "<c/>" * 16_000 + '<c t="inlineStr"><is><t>x'
            "</t></is></c></row>" + '<row r="1048576"><c/></row>'
        ),
        "sheet_too_large",
    ),
    "declared_dimension": (workbook(HEADER_ROW, dimension="A1:XFD1048576"), "sheet_too_large"),
    # ~5 MB of rows that compress about a thousand times: a ZIP bomb
    "zip_bomb": (workbook(HEADER_ROW + "<row><c/></row>" * 350_000), "compression_ratio"),
    "dtd": (
        workbook(HEADER_ROW, prolog='<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'),
        "corrupt_xlsx",
    ),
}


def test_the_far_cell_file_is_the_small_one_from_the_issue() -> None:
    assert len(FAR_CELL) < 2500


@pytest.mark.parametrize("name", sorted(HOSTILE_XLSX))
def test_hostile_workbook_is_refused_before_any_cell_is_read(name: str, tmp_path: Path) -> None:
    from loaders.readers import read_table

    data, reason = HOSTILE_XLSX[name]
    path = tmp_path / f"red_list_{name}.xlsx"
    path.write_bytes(data)
    with pytest.raises(FeedError) as info:
        read_table(path)
    assert info.value.details["reason"] == reason, info.value.details


def test_unpacked_size_is_bounded(tmp_path: Path) -> None:
    from loaders.readers import read_table
    from loaders.xlsx import XlsxLimits

    path = tmp_path / "red_list_big.xlsx"
    path.write_bytes(workbook(HEADER_ROW + "<row><c/></row>" * 100_000))
    limits = XlsxLimits(max_unpacked=1_000_000, max_ratio=10_000)
    with pytest.raises(FeedError) as info:
        read_table(path, xlsx=limits)
    assert info.value.details["reason"] == "file_too_large"
    assert info.value.details["unpacked_bytes"] > 1_000_000


def test_a_sheet_beyond_the_memory_cap_is_refused_and_the_process_survives(
    tmp_path: Path,
) -> None:
    """With the extent check out of the way, the far cell reaches the parser: the
    child process runs out of its capped memory, this one carries on."""
    from loaders.readers import read_table
    from loaders.xlsx import XlsxLimits

    path = tmp_path / "red_list_far.xlsx"
    path.write_bytes(FAR_CELL)
    limits = XlsxLimits(max_cells=1 << 40, memory_mb=512)
    with pytest.raises(FeedError) as info:
        read_table(path, xlsx=limits)
    assert info.value.details["reason"] == "sheet_too_large", info.value.details
    assert info.value.details["memory_mb"] == 512


def test_hostile_workbooks_through_the_cli_and_the_api_leave_the_server_up(
    tmp_path: Path, store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.cli import main
    from api.keys import KeyStore
    from graph.settings import get_settings

    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    key = KeyStore(data_dir).create("admin")[1]
    paths = []
    for name, (data, _reason) in sorted(HOSTILE_XLSX.items()):
        path = tmp_path / f"red_list_{name}.xlsx"
        path.write_bytes(data)
        paths.append(path)
    with TestClient(create_app(settings, store=store)) as client:
        for path in paths:
            r = client.post(
                "/loads",
                files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert r.status_code == 422, r.text
            assert r.json()["error"]["details"]["reason"] == HOSTILE_XLSX[path.stem[9:]][1]
            assert client.get("/health").status_code == 200
    # The CLI, in this process: refused and reported, not killed.
    monkeypatch.setenv("CREDITLINK_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        assert main(["load", *map(str, paths)]) == 1
    finally:
        get_settings.cache_clear()
    assert store.counts()["records"] == 0
