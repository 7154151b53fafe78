"""Department data quality on both stores: valid keys, invalid and conflicting
codes (重错码), unresolved records, 双公示 timeliness in working days."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from graph import quality
from graph.model import Listing, Mention, SourceRecord
from graph.quality import quality_report, working_days
from graph.settings import Settings
from graph.store.base import Batch, GraphStore
from loaders.pipeline import FileLoader
from tests.builders import (
    PENALTY,
    REGISTRY,
    A,
    B,
    mistype,
    org,
    penalty,
    person,
    registry_rows,
    write_csv,
)


def test_working_days_skip_weekends() -> None:
    # Friday 2025-03-07 to Friday 2025-03-14: five working days.
    assert working_days(date(2025, 3, 7), date(2025, 3, 14)) == 5
    assert working_days(date(2025, 3, 8), date(2025, 3, 10)) == 0


def test_working_days_know_holidays_and_make_up_days() -> None:
    # 2025 National Day and Mid-Autumn: 1–8 October off; Sunday 28 September and
    # Saturday 11 October are working days (调休, 国办发明电〔2024〕12号).
    assert working_days(date(2025, 9, 29), date(2025, 10, 9)) == 2
    assert working_days(date(2025, 9, 27), date(2025, 9, 29)) == 1  # the Sunday counts
    assert working_days(date(2025, 10, 10), date(2025, 10, 13)) == 2  # Fri + make-up Sat
    assert working_days(date(2025, 10, 9), date(2025, 9, 29)) == -2
    # a year the calendar package does not know yet: Monday to Friday
    assert working_days(date(2030, 3, 1), date(2030, 3, 8)) == 5


def test_quality_report(store: GraphStore, tmp_path: Path) -> None:
    loader = FileLoader(store, Settings(data_dir=tmp_path / "data"))
    rows = registry_rows()
    # 重错码: a second registry row puts 汇晨's USCC on an unrelated name.
    rows.append(["睢县金鼎钢材有限公司", A, "", "", "", "", "", "", ""])
    loader.load(write_csv(tmp_path / "registry_1.csv", REGISTRY, rows))
    # timeliness runs from the decision to its publication (公示日期), whenever loaded
    prows = [
        [*penalty("商丘市汇晨商贸有限责任公司", uscc=A, n=1), "2025-10-09"],
        [*penalty("永城市恒达建材有限公司", uscc=mistype(B), n=2), "2025-03-20"],
        [*penalty("无名氏商店", n=3), ""],
    ]
    prows[0][9] = "2025-09-29"  # two working days before the National Day holiday
    prows[1][9] = "2025-03-03"  # published 13 working days later
    header = [*PENALTY, "公示日期"]
    loader.load(write_csv(tmp_path / "admin_penalties_q.csv", header, prows, "gbk"))
    report = quality_report(store)
    groups = {(g["feed"], g["department"]): g for g in report["departments"]}
    pen = groups[("admin_penalties", "商丘市市场监督管理局")]
    assert pen["records"] == 3 and pen["valid_key"] == 1
    assert pen["invalid_codes"] == 1
    assert any("uscc_check_mismatch" in r for r in pen["invalid_reasons"])
    assert pen["unresolved"] == 1
    assert pen["conflicting_codes"] == 1
    t = pen["timeliness"]
    assert t["records"] == 2 and t["within_target"] == 1
    assert t["max_working_days"] == 13 and t["median_working_days"] == 7.5
    assert pen["without_publication_date"] == 1
    assert report["calendar"]["weekday_only_years"] == []
    reg = groups[("registry", "市场监管局")]
    assert reg["records"] == 8 and reg["valid_key_share"] == 1.0
    unrelated = report["conflicting_codes"]["uscc_with_unrelated_names"]
    assert [c["usccs"] for c in unrelated] == [[A]]


def test_quality_summary_per_feed(store: GraphStore) -> None:
    a, p = org("Q-org", "质量公司"), person("Q-person", "赵六")

    def record(row: int, parties: dict[str, Any], warnings: list[str]) -> SourceRecord:
        return SourceRecord(
            id=f"admin_penalties:p.csv:{row}",
            feed="admin_penalties",
            file="p.csv",
            row=row,
            loaded_at="2024-01-01T00:00:00+00:00",
            digest=str(row),
            cleaned={"parties": parties},
            warnings=warnings,
            mentions=[Mention(a.id, "subject")],
        )

    keyed = {"subject": {"type": "organisation", "keys": ["uscc:X"], "subject_id": a.id}}
    weak = {"subject": {"type": "organisation", "keys": ["reg_no:Y"], "subject_id": a.id}}
    store.write(
        Batch(
            subjects=[a, p],
            records=[
                record(1, keyed, []),
                record(2, weak, ["uscc:invalid_uscc:bad_check", "id:converted_from_15"]),
            ],
            docs=[
                (
                    "quarantine",
                    "admin_penalties:p.csv:3",
                    {"kind": "admin_penalties", "row": 3, "reason": "bad_date: 2020-02-31"},
                ),
                (
                    "loads",
                    "t|p.csv",
                    {"kind": "admin_penalties", "file": "p.csv", "rows_read": 3},
                ),
            ],
        )
    )
    summary = quality.quality_summary(store).set_index("feed")
    row = summary.loc["admin_penalties"]
    assert (row["rows"], row["loaded"], row["quarantined"], row["warned"]) == (3, 2, 1, 1)
    assert row["valid_key_share"] == 0.5
    assert row["quarantine_reasons"] == {"bad_date": 1}
    assert row["warning_reasons"] == {"converted_from_15": 1, "invalid_uscc": 1}
    reasons = quality.quality_reasons(store)
    assert sorted(map(tuple, reasons[["outcome", "reason", "count"]].values.tolist())) == [
        ("quarantined", "bad_date", 1),
        ("warning", "converted_from_15", 1),
        ("warning", "invalid_uscc", 1),
    ]


def test_quality_by_department(store: GraphStore) -> None:
    a = org("D-org", "部门公司")
    store.write(
        Batch(
            subjects=[a],
            listings=[
                Listing(
                    "L1", "admin_penalties", a.id, "商市监罚〔2024〕1号", "市场监管局", "2024-01-01"
                ),
                Listing("L2", "admin_penalties", a.id, None, "市场监管局", None),
                Listing("L3", "admin_penalties", a.id, "商税罚〔2024〕2号", "税务局", "2024-02-01"),
            ],
        )
    )
    frame = quality.quality_by_department(store).set_index("department")
    assert frame.loc["市场监管局", "listings"] == 2
    assert frame.loc["市场监管局", "no_number"] == 1
    assert frame.loc["市场监管局", "no_start"] == 1
    assert frame.loc["税务局", "no_number"] == 0
