"""Department data quality on both stores: valid keys, invalid and conflicting
codes (重错码), unresolved records, 双公示 timeliness in working days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from test_resolution import PENALTY, REGISTRY, A, B, mistype, penalty, registry_rows, write_csv

from graph.quality import quality_report, working_days
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders.pipeline import FileLoader


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
