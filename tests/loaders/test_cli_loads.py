"""`creditlink load` and `creditlink quarantine` as an operator runs them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cli import main
from graph.settings import get_settings

HEADER = "行政相对人名称,行政相对人代码_1(统一社会信用代码),行政处罚决定书文号,处罚决定日期\n"
ROWS = (
    "商丘市华通建材有限公司,91411403MA9GKJ1F86,商市监罚〔2024〕1号,2024-01-02\n"
    '"=HYPERLINK(""http://x"")",,商市监罚〔2024〕2号,2024-02-30\n'
)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CREDITLINK_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_load_json_report_then_quarantine_csv_escapes_formulas(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "admin_penalties_2024.csv"
    feed.write_text(HEADER + ROWS, encoding="gbk")
    assert main(["load", str(feed), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (report["rows_read"], report["loaded"], report["quarantined"]) == (2, 1, 1)
    assert report["reports"][0]["kind"] == "admin_penalties"

    assert main(["quarantine", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 1
    assert rows[0]["row"] == "2" and rows[0]["column"] == "处罚决定日期"
    assert rows[0]["reason"].startswith("bad_date")

    assert main(["quarantine", "--json"]) == 0
    (doc,) = json.loads(capsys.readouterr().out)
    assert doc["file"] == feed.name


def test_formula_name_is_escaped_in_the_export(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "admin_penalties_f.csv"
    # A formula where the decision date belongs: the row is quarantined with
    # that value, which the export must not hand to a spreadsheet as a formula.
    feed.write_text(
        HEADER + '=HYPERLINK("http://x"),,罚3,"=cmd|\' /C calc\'!A0"\n', encoding="utf-8"
    )
    assert main(["load", str(feed)]) == 0
    capsys.readouterr()
    assert main(["quarantine", "--csv"]) == 0
    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["value"].startswith("'=")


def test_missing_file_is_a_clear_error(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "/nonexistent/registry.csv"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_refused_file_reported_and_exit_code_non_zero(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "registry_empty.csv"
    feed.write_bytes(b"")
    assert main(["load", str(feed)]) == 1
    assert "refused" in capsys.readouterr().out


def test_load_takes_the_snapshot_date_of_a_file_without_one(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "registry_2024.csv"
    path.write_text(
        "企业名称,统一社会信用代码,法定代表人,法定代表人证件号码\n"
        "商丘市华通建材有限公司,91411403MA9GKJ1F86,王伟,411425198001011231\n",
        encoding="utf-8",
    )
    assert main(["load", str(path), "--snapshot-date", "2024-05-31", "--json"]) == 0
    from graph.store import open_store

    store = open_store(get_settings())
    try:
        (rel,) = list(store.iter_relations(["legal_representative"]))
    finally:
        store.close()
    assert rel.props["seen"] == [
        {"on": "2024-05-31", "since": None, "record": "registry:registry_2024.csv:1"}
    ]
    capsys.readouterr()
    assert main(["load", str(path), "--snapshot-date", "2024-13-01"]) != 0
    assert "snapshot-date" in capsys.readouterr().err
