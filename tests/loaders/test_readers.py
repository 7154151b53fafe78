from __future__ import annotations

import io
import json
import random
import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import FeedError
from loaders import xlsx
from loaders.clean import parse_date
from loaders.readers import Table, normalise_header, read_table

HEADER = "企业名称,统一社会信用代码,成立日期,注册资本(万元)"
ROW1 = '商丘市华通建材有限公司,91411400MA3X0000XX,2018-05-31,"4,300"'
ROW2 = '"睢阳区老王门市部\n(二店)",,2019/1/2,80'
CSV_TEXT = f"{HEADER}\n{ROW1}\n\n{ROW2}\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path: Path, reason: str, **kwargs: int) -> FeedError:
    with pytest.raises(FeedError) as info:
        read_table(path, **kwargs)
    error = info.value
    assert error.details["reason"] == reason, error.details
    assert error.details["file"] == path.name
    assert path.name in error.message
    return error


def check_csv(table: Table, encoding: str) -> None:
    assert table.format == "csv"
    assert table.encoding == encoding
    assert table.header == ["企业名称", "统一社会信用代码", "成立日期", "注册资本(万元)"]
    assert table.rows[0] == ["商丘市华通建材有限公司", "91411400MA3X0000XX", "2018-05-31", "4,300"]
    # The blank line is skipped; the quoted newline stays inside its cell.
    assert table.rows[1] == ["睢阳区老王门市部\n(二店)", None, "2019/1/2", "80"]
    assert len(table.rows) == 2
    assert table.source_lines == [2, 4]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_csv_encodings(tmp_path: Path, encoding: str, expected: str) -> None:
    # The name says nothing about the encoding: it is detected from the bytes.
    path = write(tmp_path, "registry.csv", CSV_TEXT.encode(encoding))
    check_csv(read_table(path), expected)


def test_gb18030_four_byte_characters(tmp_path: Path) -> None:
    text = "姓名,备注\n𠀀先生,€ 和 ㄅ\n"
    path = write(tmp_path, "p.csv", text.encode("gb18030"))
    table = read_table(path)
    assert table.encoding == "gb18030"
    assert table.rows == [["𠀀先生", "€ 和 ㄅ"]]


def test_ragged_rows_kept_and_tab_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path, "t.txt", b"a\tb\tc\n1\t2\n1\t2\t3\t4\n")
    table = read_table(path)
    assert table.header == ["a", "b", "c"]
    assert table.rows == [["1", "2"], ["1", "2", "3", "4"]]


def test_format_from_content_not_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "feed.xlsx", CSV_TEXT.encode())
    assert read_table(path).format == "csv"


def make_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["企业名称", "成立日期", "注册资本(万元)", "合计"])
    sheet.append(["华通建材有限公司", datetime(2018, 5, 31), 4300, "=C2+1"])
    sheet.append([None, None, None, None])
    sheet.append(["老王门市部", datetime(2019, 1, 2, 9, 30), 80.5, None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_cached_formula_value(data: bytes) -> bytes:
    # openpyxl writes formulas without a cached value; add one the way Excel does.
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                text, count = re.subn(
                    r"<f>C2\+1</f>(<v\s*/>|<v></v>)?", "<f>C2+1</f><v>4301</v>", text
                )
                assert count == 1
                content = text.encode()
            target.writestr(item, content)
    return out.getvalue()


def test_xlsx_typed_cells_and_cached_formula(tmp_path: Path) -> None:
    path = write(tmp_path, "registry.csv", with_cached_formula_value(make_xlsx()))
    table = read_table(path)
    assert table.format == "xlsx"
    assert table.encoding is None
    assert table.header == ["企业名称", "成立日期", "注册资本(万元)", "合计"]
    assert table.rows[0] == ["华通建材有限公司", datetime(2018, 5, 31), 4300, 4301]
    assert table.rows[1] == ["老王门市部", datetime(2019, 1, 2, 9, 30), 80.5]
    assert table.source_lines == [2, 4]


def test_xlsx_first_non_empty_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "说明"  # type: ignore[union-attr]
    data = book.create_sheet("数据")
    data.append(["姓名", "职务"])
    data.append(["王伟", "董事"])
    buffer = io.BytesIO()
    book.save(buffer)
    table = read_table(write(tmp_path, "o.xlsx", buffer.getvalue()))
    assert table.sheet == "数据"
    assert table.rows == [["王伟", "董事"]]


def test_jsonl(tmp_path: Path) -> None:
    lines = [
        {"企业名称": "华通建材有限公司", "注册资本(万元)": 4300},
        {"企业名称": "老王门市部", "成立日期": "2019-01-02", "备注": {"a": 1}},
    ]
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n"
    table = read_table(write(tmp_path, "feed.csv", text.encode()))
    assert table.format == "jsonl"
    assert table.header == ["企业名称", "注册资本(万元)", "成立日期", "备注"]
    assert table.rows == [
        ["华通建材有限公司", 4300, None, None],
        ["老王门市部", None, "2019-01-02", '{"a": 1}'],
    ]


@pytest.mark.parametrize("bad", ["{not json}", "[1, 2]", '"text"'])
def test_jsonl_bad_line(tmp_path: Path, bad: str) -> None:
    path = write(tmp_path, "bad.jsonl", f'{{"a": 1}}\n{bad}\n'.encode())
    assert refused(path, "bad_json").details["line"] == 2


def test_wrong_encoding_latin1(tmp_path: Path) -> None:
    data = "name,city\nJosé,Zürich\xff\n".encode("latin-1")
    for codec in ("utf-8", "gb18030"):
        with pytest.raises(UnicodeDecodeError):
            data.decode(codec)
    error = refused(write(tmp_path, "latin.csv", data), "encoding")
    assert isinstance(error.details["offset"], int)
    assert "offset" in error.message


def test_utf16_refused_as_encoding(tmp_path: Path) -> None:
    refused(write(tmp_path, "u16.csv", CSV_TEXT.encode("utf-16")), "encoding")
    refused(write(tmp_path, "u16le.csv", CSV_TEXT.encode("utf-16-le")), "encoding")


def test_damaged_utf8_not_read_as_gb18030(tmp_path: Path) -> None:
    data = CSV_TEXT.encode() + b"\xe5\x8d"  # a character cut in half at the end
    error = refused(write(tmp_path, "cut.csv", data), "encoding")
    assert error.details["offset"] == len(CSV_TEXT.encode())


def test_truncated_xlsx(tmp_path: Path) -> None:
    data = make_xlsx()
    refused(write(tmp_path, "half.xlsx", data[: len(data) // 2]), "corrupt_xlsx")


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    refused(write(tmp_path, "x.xlsx", buffer.getvalue()), "corrupt_xlsx")


def test_header_only(tmp_path: Path) -> None:
    refused(write(tmp_path, "h.csv", (HEADER + "\n\n").encode()), "no_rows")
    refused(write(tmp_path, "h.jsonl", b"\n"), "empty")


@pytest.mark.parametrize("data", [b"", b"   \r\n\n", b"\xef\xbb\xbf"])
def test_empty(tmp_path: Path, data: bytes) -> None:
    refused(write(tmp_path, "e.csv", data), "empty")


def test_binary_garbage(tmp_path: Path) -> None:
    rng = random.Random(2260)
    data = bytes(rng.randrange(256) for _ in range(4096)) + b"\x00\x00\x01"
    refused(write(tmp_path, "junk.csv", b"\x7fELF" + data), "binary")


def test_legacy_xls_refused(tmp_path: Path) -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    refused(write(tmp_path, "old.xls", data), "binary")


def test_ten_megabyte_cell(tmp_path: Path) -> None:
    big = "字" * (10 * 1024 * 1024)
    path = write(tmp_path, "big.csv", f"{HEADER}\n华通,{big},,\n".encode())
    error = refused(path, "cell_too_long")
    assert (error.details["row"], error.details["column"]) == (1, 2)


def test_cell_limit_is_configurable(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", f"{HEADER}\n{ROW1}\n".encode())
    refused(path, "cell_too_long", max_cell_chars=10)
    assert read_table(path, max_cell_chars=40).rows


def test_max_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", CSV_TEXT.encode())
    refused(path, "too_many_rows", max_rows=1)
    assert len(read_table(path, max_rows=2).rows) == 2


def test_duplicate_columns_after_normalisation(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "注册资本(万元),注册资本（万元） \n1,2\n".encode())
    error = refused(path, "duplicate_column")
    assert len(error.details["columns"]) == 2


def test_unnamed_trailing_columns_allowed(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "u.csv", b"a,b,,\n1,2,,\n"))
    assert table.header == ["a", "b", "", ""]


def test_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "missing.csv", "unreadable")


def test_normalise_header() -> None:
    assert normalise_header(" 注册资本（万元）\u3000") == "注册资本(万元)"
    assert normalise_header("\ufeffUSCC Code") == "uscccode"
    assert (
        normalise_header("行政相对人代码_1 (统一社会信用代码)")
        == "行政相对人代码_1(统一社会信用代码)"
    )
    assert normalise_header("ＡＢＣ") == "abc"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(str.encode)))
def test_arbitrary_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, "any.csv", data)
    try:
        table = read_table(path)
    except FeedError as error:
        assert error.details["file"] == "any.csv"
        assert error.details["reason"]
    else:
        assert table.rows


# --- the calamine path gives what openpyxl gives ------------------------------


def _odd_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    # Data starting at C3: openpyxl keeps the two leading empty columns and
    # numbers rows from A1.
    sheet["C3"], sheet["D3"], sheet["E3"], sheet["F3"] = "名称", "成立日期", "金额", "备注"
    rows: list[list[object]] = [
        ["甲公司", datetime(2018, 5, 31), 4300, "  "],
        ["乙公司", datetime(2019, 1, 2, 9, 30), 80.5, True],
        ["丙公司", 20180531, -3, time(9, 30)],
        ["丁公司", date(2020, 2, 29), 0.25, timedelta(hours=30)],
    ]
    for r, values in enumerate(rows, start=5):
        for c, value in enumerate(values, start=3):
            sheet.cell(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _patch_sheet(data: bytes, edit: Callable[[str], str]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = edit(content.decode()).encode()
            target.writestr(item, content)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_odd_xlsx(), id="typed-offset"),
        pytest.param(with_cached_formula_value(make_xlsx()), id="cached-formula"),
        # A wrong <dimension> must not drop rows on either path.
        pytest.param(
            _patch_sheet(
                _odd_xlsx(), lambda x: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1"', x)
            ),
            id="wrong-dimension",
        ),
    ],
)
def test_calamine_path_matches_openpyxl(data: bytes) -> None:
    fast = xlsx._read_fast(data)
    assert fast is not None
    assert fast == xlsx._read_openpyxl("f.xlsx", data)


def test_calamine_int_valued_float_is_an_int_and_parses_as_a_date(tmp_path: Path) -> None:
    # Some writers store 20180531 as "20180531.0"; it is still the date, not a serial.
    data = _patch_sheet(_odd_xlsx(), lambda x: x.replace("<v>20180531</v>", "<v>20180531.0</v>"))
    table = read_table(write(tmp_path, "f.xlsx", data))
    cell = table.rows[2][3]
    assert cell == 20180531 and type(cell) is int
    assert parse_date(cell) == date(2018, 5, 31)


def test_error_cells_are_read_by_openpyxl(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["名称", "金额"])
    sheet.append(["甲公司", "#DIV/0!"])  # openpyxl writes error codes as error cells
    buffer = io.BytesIO()
    book.save(buffer)
    assert xlsx._read_fast(buffer.getvalue()) is None
    assert read_table(write(tmp_path, "e.xlsx", buffer.getvalue())).rows == [["甲公司", "#DIV/0!"]]


def test_integer_beyond_float_precision_is_read_exactly(tmp_path: Path) -> None:
    data = _patch_sheet(
        _odd_xlsx(), lambda x: x.replace("<v>4300</v>", "<v>110101199003077777</v>")
    )
    assert xlsx._read_fast(data) is None
    assert read_table(write(tmp_path, "n.xlsx", data)).rows[0][4] == 110101199003077777


def test_openpyxl_reads_what_calamine_cannot_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(_: object) -> None:
        raise python_calamine.CalamineError("simulated")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", fail)
    # In this process, where the patch holds (read_table parses in a child).
    table = xlsx.parse("r.xlsx", with_cached_formula_value(make_xlsx()))
    assert table is not None
    assert table.rows[0] == ["华通建材有限公司", datetime(2018, 5, 31), 4300, 4301]
    data = make_xlsx()
    refused(write(tmp_path, "half.xlsx", data[: len(data) // 2]), "corrupt_xlsx")


def test_damaged_sheet_xml_refused(tmp_path: Path) -> None:
    data = _patch_sheet(make_xlsx(), lambda x: x[: len(x) // 2])
    refused(write(tmp_path, "bad.xlsx", data), "corrupt_xlsx")
