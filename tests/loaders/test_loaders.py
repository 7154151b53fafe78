"""Loading department feeds: every kind, every format, nothing lost, idempotent —
on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from graph.docs import QUARANTINE
from graph.errors import FeedError
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders.mapping import kind_for_file, mappings
from loaders.pipeline import FileLoader, order_files
from loaders.sample_city import generate
from tests.builders import write_csv

FEED_KINDS = [
    "registry",
    "shareholders",
    "officers",
    "dishonest_debtors",
    "admin_penalties",
    "admin_licenses",
    "abnormal_operations",
    "serious_violations",
    "tax_violations",
    "guarantees",
    "loan_defaults",
    "red_list",
    "credit_repairs",
]


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def snapshot(store: GraphStore) -> dict[str, object]:
    return {
        "counts": store.counts(),
        "subjects": [s.to_dict() for s in store.iter_subjects()],
        "relations": [r.to_dict() for r in store.iter_relations()],
        "listings": [x.to_dict() for x in store.iter_listings()],
        "quarantine": store.list_docs(QUARANTINE),
    }


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate(out, enterprises=120, seed=3)
    return out


def test_every_feed_kind_has_a_mapping() -> None:
    assert sorted(mappings()) == sorted(FEED_KINDS)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("admin_penalties_2024.csv", "admin_penalties"),
        ("admin_licenses.xlsx", "admin_licenses"),
        ("registry.csv", "registry"),
        ("REGISTRY_2026.XLSX", "registry"),
        ("notes.csv", None),
    ],
)
def test_kind_from_file_name(name: str, kind: str | None) -> None:
    assert kind_for_file(name) == kind


def test_registries_load_first() -> None:
    files = [Path("guarantees_1.csv"), Path("admin_penalties_1.csv"), Path("registry_1.xlsx")]
    assert order_files(files)[0].name == "registry_1.xlsx"


def test_sample_city_loads_and_accounts_for_every_row(
    city: Path, store: GraphStore, settings: Settings
) -> None:
    loader = FileLoader(store, settings)
    files = order_files(sorted(p for p in city.iterdir() if p.name != "truth.json"))
    kinds = set()
    for path in files:
        rep = loader.load(path)
        kinds.add(rep.kind)
        assert rep.rows_read == rep.loaded + rep.quarantined, rep
        assert rep.rows_read > 0
    assert kinds == set(FEED_KINDS)
    counts = store.counts()
    assert counts["subjects"] > 120
    assert counts["relations"] > 0 and counts["listings"] > 0
    # quarantined rows carry file, row, column and reason
    for doc in store.list_docs(QUARANTINE).values():
        assert doc["file"] and doc["row"] >= 1 and doc["column"] and doc["reason"]
    before = snapshot(store)
    for path in files:
        rep = loader.load(path)
        assert rep.unchanged + rep.quarantined == rep.rows_read
    assert snapshot(store) == before


def test_registry_export_with_common_synonyms_loads(
    tmp_path: Path, store: GraphStore, settings: Settings
) -> None:
    header = (
        "企业名称,统一社会信用代码,注册日期,企业类型,法人代表,注册资金,经营范围,所在省份,地区,注册地址"
    )
    path = write_csv(
        tmp_path / "registry_export.csv",
        header.split(","),
        [
            [
                "商丘市华通建材有限公司",
                "91411403MA9GKJ1F86",
                "2018年5月31日",
                "有限责任公司",
                "王伟",
                "4,300(万元)",
                "建材销售",
                "河南省",
                "商丘市",
                "商丘市睢阳区",
            ]
        ],
        "utf-8-sig",
    )
    rep = FileLoader(store, settings).load(path)
    assert (rep.rows_read, rep.loaded, rep.quarantined) == (1, 1, 0)
    subj = next(store.iter_subjects("organisation"))
    assert subj.attrs["founded"] == "2018-05-31"
    assert subj.attrs["capital"] == 4300.0


@pytest.mark.parametrize("fmt", ["csv", "gbk", "xlsx", "jsonl"])
def test_formats(tmp_path: Path, store: GraphStore, settings: Settings, fmt: str) -> None:
    header = [
        "行政相对人名称",
        "行政相对人代码_1(统一社会信用代码)",
        "行政处罚决定书文号",
        "处罚决定日期",
        "失信严重程度",
    ]
    row = [
        "商丘市華通建材有限公司",
        "91411403MA9GKJ1F86",
        "商市监罚〔2024〕12号",
        "2024/3/5",
        "一般",
    ]
    if fmt == "csv":
        path = write_csv(tmp_path / "admin_penalties_a.csv", header, [row], "utf-8")
    elif fmt == "gbk":
        row[0] = "商丘市华通建材有限公司"
        path = write_csv(tmp_path / "admin_penalties_b.csv", header, [row], "gbk")
    elif fmt == "xlsx":
        path = write_xlsx(tmp_path / "admin_penalties_c.xlsx", header, [row])
    else:
        path = tmp_path / "admin_penalties_d.jsonl"
        path.write_text(json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False) + "\n")
    rep = FileLoader(store, settings).load(path)
    assert (rep.loaded, rep.quarantined) == (1, 0)
    listing = next(store.iter_listings())
    assert listing.start == "2024-03-05"
    assert listing.number == "商市监罚〔2024〕12号"


def test_dirty_file_rows_read_equals_loaded_plus_quarantined(
    tmp_path: Path, store: GraphStore, settings: Settings
) -> None:
    header = [
        "行政相对人名称",
        "行政相对人代码_1(统一社会信用代码)",
        "行政处罚决定书文号",
        "处罚决定日期",
        "罚款金额(万元)",
    ]
    rows = [
        ["甲公司", "91411403MA9GKJ1F86", "罚1", "2024-01-01", "1,000"],
        ["乙公司", "N/A", "罚2", "2024-02-30", "5"],  # impossible date: quarantined
        [
            "丙公司",
            "91411403MA9GKJ1F2Y",
            "罚3",
            "20240301",
            "八万",
        ],  # bad check, bad amount: warnings
        ["", "", "罚4", "2024-03-01", ""],  # no name: quarantined
        ["丁公司", "-", "", "2024-03-01", ""],  # no document number: quarantined
    ]
    path = write_csv(tmp_path / "admin_penalties_dirty.csv", header, rows, "gbk")
    loader = FileLoader(store, settings)
    rep = loader.load(path)
    assert rep.rows_read == 5
    assert rep.rows_read == rep.loaded + rep.quarantined
    assert rep.quarantined == 3
    q = store.list_docs(QUARANTINE)
    by_row = {d["row"]: d for d in q.values()}
    assert by_row[2]["column"] == "处罚决定日期"
    assert by_row[4]["column"] == "行政相对人名称"
    assert by_row[5]["column"] == "行政处罚决定书文号"
    assert all(d["file"] == path.name for d in q.values())
    before = snapshot(store)
    again = loader.load(path)
    assert (again.rows_read, again.unchanged, again.quarantined) == (5, 2, 3)
    assert snapshot(store) == before


def test_changed_row_is_a_new_version_not_a_duplicate(
    tmp_path: Path, store: GraphStore, settings: Settings
) -> None:
    header = ["企业名称", "统一社会信用代码", "法定代表人", "法定代表人证件号码"]
    path = tmp_path / "registry_v.csv"
    write_csv(
        path,
        header,
        [["甲建材有限公司", "91411403MA9GKJ1F86", "王伟", "411425198001011231"]],
        "utf-8",
    )
    loader = FileLoader(store, settings)
    loader.load(path)
    write_csv(
        path,
        header,
        [["甲建材有限公司", "91411403MA9GKJ1F86", "李娜", "411425198502021227"]],
        "utf-8",
    )
    rep = loader.load(path)
    assert rep.new_versions == 1
    rec = store.get_records(["registry:registry_v.csv:1"])["registry:registry_v.csv:1"]
    assert rec.version == 2
    reps = list(store.iter_relations(["legal_representative"]))
    assert len(reps) == 1, "the old version's relation is withdrawn"
    person = store.get_subjects([reps[0].source])[reps[0].source]
    assert person.name == "李娜"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        ("企业名称,统一社会信用代码\n".encode(), "no_rows"),
        (b"\x00\x01\x02\xff\xfe garbage \x00" * 50, "binary"),
    ],
)
def test_bad_files_are_refused_whole(
    tmp_path: Path, store: GraphStore, settings: Settings, content: bytes, reason: str
) -> None:
    path = tmp_path / "registry_bad.csv"
    path.write_bytes(content)
    before = store.counts()
    with pytest.raises(FeedError) as err:
        FileLoader(store, settings).load(path)
    assert err.value.details["reason"] == reason
    assert err.value.details["file"] == path.name
    assert store.counts() == before


def test_unknown_header_names_missing_columns(
    tmp_path: Path, store: GraphStore, settings: Settings
) -> None:
    path = write_csv(tmp_path / "officers_x.csv", ["甲", "乙"], [["1", "2"]], "utf-8")
    with pytest.raises(FeedError) as err:
        FileLoader(store, settings).load(path)
    assert set(err.value.details["missing"]) == {"企业名称", "姓名", "职务"}
    assert store.counts()["records"] == 0


def test_truncated_xlsx_and_huge_cell(
    tmp_path: Path, store: GraphStore, settings: Settings
) -> None:
    good = write_xlsx(tmp_path / "registry_t.xlsx", ["企业名称"], [["甲公司"]] * 50)
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    with pytest.raises(FeedError) as err:
        FileLoader(store, settings).load(good)
    assert err.value.details["reason"] == "corrupt_xlsx"
    huge = write_csv(
        tmp_path / "registry_h.csv", ["企业名称"], [["甲" * (10 * 1024 * 1024)]], "utf-8"
    )
    with pytest.raises(FeedError) as err:
        FileLoader(store, settings).load(huge)
    assert err.value.details["reason"] == "cell_too_long"
    assert store.counts()["records"] == 0
