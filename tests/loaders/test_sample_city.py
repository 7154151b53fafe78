"""The sample city: deterministic, shaped like feeds.md, and its truth holds."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from graph.identifiers import (
    InvalidIdentifier,
    compact,
    is_placeholder,
    masked_matches,
    org_code_of_uscc,
    parse_id_number,
    parse_reg_no,
    parse_uscc,
)
from loaders.sample_city import CityManifest, generate, main

# Columns of each feed kind, copied from shared/domain/feeds.md so that the
# generator is checked against the document, not against itself.
FEEDS_MD: dict[str, str] = {
    "registry": "企业名称 统一社会信用代码 注册号 组织机构代码 企业类型 法定代表人 "
    "法定代表人证件类型 法定代表人证件号码 成立日期 登记状态 注册资本(万元) 住所 登记机关 "
    "曾用名 隶属企业名称 隶属企业统一社会信用代码 核准日期 数据日期",
    "shareholders": "企业名称 统一社会信用代码 股东名称 股东类型 证件类型 证件号码 "
    "认缴出资额(万元) 出资比例 出资日期",
    "officers": "企业名称 统一社会信用代码 姓名 证件类型 证件号码 职务 任职日期 离任日期",
    "dishonest_debtors": "案号 被执行人姓名/名称 身份证号码/组织机构代码 性别 年龄 "
    "法定代表人或者负责人姓名 执行法院 省份 执行依据文号 立案时间 做出执行依据单位 "
    "生效法律文书确定的义务 被执行人的履行情况 失信被执行人行为具体情形 发布时间 撤销日期",
    "admin_penalties": "行政相对人名称 行政相对人类别 行政相对人代码_1(统一社会信用代码) "
    "行政相对人代码_2(工商注册号) 行政相对人代码_3(组织机构代码) 法定代表人 证件类型 证件号码 "
    "行政处罚决定书文号 违法行为类型 违法事实 处罚依据 处罚类别 处罚内容 罚款金额(万元) "
    "处罚决定日期 处罚有效期 公示截止期 处罚机关 处罚机关统一社会信用代码 数据来源单位 "
    "失信严重程度 公示日期",
    # 公示日期 (both 双公示 feeds): when the decision was published, which 双公示
    # timeliness is measured to (issue 13); not yet in feeds.md's table
    "admin_licenses": "行政相对人名称 行政相对人代码_1(统一社会信用代码) 法定代表人 "
    "许可决定书文号 许可内容 许可决定日期 许可截止期 许可机关 公示日期",
    "abnormal_operations": "企业名称 统一社会信用代码 注册号 列入经营异常名录原因 列入日期 "
    "作出决定机关(列入) 移出经营异常名录原因 移出日期 作出决定机关(移出)",
    "serious_violations": "企业名称 统一社会信用代码 法定代表人 法定代表人证件号码 列入事由 "
    "列入日期 作出决定机关 移出日期",
    "tax_violations": "纳税人名称 统一社会信用代码 组织机构代码 注册地址 "
    "法定代表人或者负责人姓名 法定代表人或者负责人证件号码 负有直接责任的财务负责人姓名 "
    "负有直接责任的财务负责人证件号码 案件性质 主要违法事实 相关法律依据及税务处理处罚情况 "
    "公布日期 撤出日期",
    "guarantees": "借款人名称 借款人证件类型 借款人证件号码 担保人名称 担保人证件类型 "
    "担保人证件号码 担保方式 担保金额(万元) 债权机构 担保起始日期 担保到期日期",
    "loan_defaults": "借款人名称 借款人证件类型 借款人证件号码 违约金额(万元) 债权机构 违约日期 "
    "结清日期",
    "red_list": "主体名称 统一社会信用代码 证件号码 红名单类型 认定机关 认定日期 有效期至",
    "credit_repairs": "主体名称 统一社会信用代码 证件号码 原决定文号 修复决定日期 修复机关",
}
# Synonyms feeds.md names as accepted.
SYNONYMS = {
    "法人代表": "法定代表人",
    "法定代表人姓名": "法定代表人",
    "注册日期": "成立日期",
    "注册资金": "注册资本(万元)",
}
TRADITIONAL_CHARS = set("華電東興達龍豐發匯寶長順業貿醫藥農築園樂廣聯創寧縣陽")


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a feed file, every cell as text ("" when empty)."""
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        values = [list(r) for r in wb.active.iter_rows(values_only=True)]  # type: ignore[union-attr]
        wb.close()
        width = len(values[0])
        cells = [
            ["" if c is None else str(c) for c in (r + [None] * width)[:width]] for r in values
        ]
        return cells[0], cells[1:]
    if path.suffix == ".jsonl":
        objs = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        header = list(objs[0])
        return header, [[o[h] for h in header] for o in objs]
    encoding = "gbk" if "gbk" in path.name else "utf-8-sig"
    table = list(csv.reader(io.StringIO(path.read_text(encoding), newline="")))
    return table[0], table[1:]


def records(city: CityManifest, kind: str) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """(row as column → value, truth roles) for every row of one feed."""
    truth = load_truth(city)
    path = next(p for p in city.files if p.name.startswith(kind + "_"))
    header, rows = read_rows(path)
    for n, row in enumerate(rows, start=1):
        yield dict(zip(header, row, strict=True)), truth["records"][f"{kind}:{path.name}:{n}"]


_TRUTH: dict[Path, dict[str, Any]] = {}


def load_truth(city: CityManifest) -> dict[str, Any]:
    if city.truth not in _TRUTH:
        _TRUTH[city.truth] = json.loads(city.truth.read_text("utf-8"))
    return _TRUTH[city.truth]


def full_key(raw: str) -> str | None:
    """The canonical USCC or 18-digit ID a cell spells correctly, or None.
    parse_uscc keeps a check failure as a warning (重错码); here it is no key."""
    if is_placeholder(raw):
        return None
    for parse in (parse_uscc, parse_id_number):
        try:
            ident = parse(raw)
        except InvalidIdentifier:
            continue
        if ident.is_full_key and not any("check" in w for w in ident.warnings):
            return ident.value
    return None


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> CityManifest:
    return generate(tmp_path_factory.mktemp("city"), enterprises=200, seed=7)


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", enterprises=120, seed=3)
    second = generate(tmp_path / "b", enterprises=120, seed=3)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert len(names) == 15  # 13 feeds (the registry in two snapshots) and truth.json
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first.rows == second.rows
    other = generate(tmp_path / "c", enterprises=120, seed=4)
    assert other.truth.read_bytes() != first.truth.read_bytes()


def test_one_file_per_feed_kind_named_by_prefix(city: CityManifest) -> None:
    kinds = {p.name for p in city.files}
    assert len(kinds) == 14
    for kind in FEEDS_MD:
        # the registry comes as two snapshots, 2023 and 2026
        want = 2 if kind == "registry" else 1
        assert sum(p.name.startswith(kind + "_") for p in city.files) == want, kind
    suffixes = {p.suffix for p in city.files}
    assert suffixes == {".csv", ".xlsx", ".jsonl"}
    boms = {p.name for p in city.files if p.read_bytes().startswith(b"\xef\xbb\xbf")}
    assert boms and len(boms) < sum(p.suffix == ".csv" for p in city.files) - 1


def test_headers_are_the_feeds_md_columns(city: CityManifest) -> None:
    for path in city.files:
        kind = next(k for k in FEEDS_MD if path.name.startswith(k + "_"))
        header, _ = read_rows(path)
        assert len(header) == len(set(header)), path.name
        assert {SYNONYMS.get(h, h) for h in header} == set(FEEDS_MD[kind].split()), path.name
    registry_header, _ = read_rows(next(p for p in city.files if p.suffix == ".xlsx"))
    assert "法人代表" in registry_header and "注册日期" in registry_header


def test_gbk_file_is_really_gbk(city: CityManifest) -> None:
    path = next(p for p in city.files if "gbk" in p.name)
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("gbk").startswith("行政相对人名称,")


def test_truth_covers_every_row_with_valid_full_keys(city: CityManifest) -> None:
    truth = load_truth(city)
    subjects = truth["subjects"]
    for key, subject in subjects.items():
        parse = parse_uscc if subject["type"] == "organisation" else parse_id_number
        ident = parse(key)
        assert ident.is_full_key and ident.value == key, key
        assert not ident.warnings, (key, ident.warnings)
        if subject["branch_of"] is not None:
            assert subjects[subject["branch_of"]]["type"] == "organisation"
    by_file: dict[str, int] = defaultdict(int)
    for record_id, roles in truth["records"].items():
        _, file_name, row = record_id.split(":")
        by_file[file_name] += 1
        assert int(row) == by_file[file_name] or int(row) >= 1
        assert roles, record_id
        for key in roles.values():
            assert key in subjects, (record_id, key)
    assert dict(by_file) == city.rows
    for path in city.files:
        _, rows = read_rows(path)
        assert len(rows) == city.rows[path.name], path.name


def test_a_valid_key_in_a_row_is_the_true_key(city: CityManifest) -> None:
    # Dirt may hide or garble a key, but a key that still parses must never
    # point at someone else.
    checks = {
        "registry": [
            ("统一社会信用代码", "subject"),
            ("法定代表人证件号码", "legal_representative"),
        ],
        "shareholders": [("统一社会信用代码", "subject"), ("证件号码", "shareholder")],
        "officers": [("统一社会信用代码", "subject"), ("证件号码", "officer")],
        "admin_penalties": [("行政相对人代码_1(统一社会信用代码)", "subject")],
        "tax_violations": [
            ("法定代表人或者负责人证件号码", "legal_representative"),
            ("负有直接责任的财务负责人证件号码", "finance_officer"),
        ],
        "guarantees": [("借款人证件号码", "borrower"), ("担保人证件号码", "guarantor")],
        "serious_violations": [("法定代表人证件号码", "legal_representative")],
    }
    seen = 0
    for kind, pairs in checks.items():
        for row, roles in records(city, kind):
            for column, role in pairs:
                key = full_key(row[column])
                if key is not None:
                    assert key == roles[role], (kind, column, row[column])
                    seen += 1
    assert seen > 1000


def test_counts_scale_with_enterprises(tmp_path: Path) -> None:
    small = generate(tmp_path / "small", enterprises=100, seed=11)
    large = generate(tmp_path / "large", enterprises=400, seed=11)
    assert small.rows["registry_2026.xlsx"] == 100
    assert large.rows["registry_2026.xlsx"] == 400
    for name, count in small.rows.items():
        assert large.rows[name] > count, name
    ratio = sum(large.rows.values()) / sum(small.rows.values())
    assert 3.0 < ratio < 5.0


def test_namesakes_exist(city: CityManifest) -> None:
    people: dict[str, set[str]] = defaultdict(set)
    for key, subject in load_truth(city)["subjects"].items():
        if subject["type"] == "person":
            people[subject["name"]].add(key)
    shared = {name for name, keys in people.items() if len(keys) > 1}
    assert {"王伟", "李娜", "张伟", "刘洋"} <= shared
    fact = load_truth(city)["expected"]["namesakes"]
    assert len(set(fact["ids"])) >= 2 and set(fact["ids"]) <= people[fact["name"]]


def test_branches_point_at_their_head_office(city: CityManifest) -> None:
    branches = 0
    for row, roles in records(city, "registry"):
        if row["隶属企业统一社会信用代码"]:
            branches += 1
            assert row["企业名称"].rstrip().endswith("分公司")
            assert roles["head_office"] == row["隶属企业统一社会信用代码"] != roles["subject"]
            assert (
                load_truth(city)["subjects"][roles["subject"]]["branch_of"] == roles["head_office"]
            )
    assert branches >= 4


def test_there_is_a_guarantee_circle(city: CityManifest) -> None:
    edges = {(roles["guarantor"], roles["borrower"]) for _, roles in records(city, "guarantees")}
    circle = load_truth(city)["expected"]["guarantee_circle"]
    assert len(circle) == 3
    for i, guarantor in enumerate(circle):
        assert (guarantor, circle[(i + 1) % 3]) in edges


def test_court_records_carry_masked_ids_and_org_codes(city: CityManifest) -> None:
    masked = org_only = 0
    for row, roles in records(city, "dishonest_debtors"):
        number = row["身份证号码/组织机构代码"]
        if re.fullmatch(r"\d{10}\*{4}\d{3}[\dX]", number):
            masked += 1
            assert masked_matches(number, roles["subject"])
        elif re.fullmatch(r"[0-9A-Z]{8}-[0-9X]", number):
            org_only += 1
            assert org_code_of_uscc(roles["subject"]) == number.replace("-", "")
    assert masked >= 2 and org_only >= 2
    fact = load_truth(city)["expected"]["masked_id_court_record"]
    assert load_truth(city)["subjects"][fact["subject"]]["type"] == "person"


def test_a_penalty_names_its_subject_by_registration_number_only(city: CityManifest) -> None:
    registry_reg_nos = {
        row["注册号"]: roles["subject"] for row, roles in records(city, "registry") if row["注册号"]
    }
    found = 0
    for row, roles in records(city, "admin_penalties"):
        reg_no = row["行政相对人代码_2(工商注册号)"]
        if is_placeholder(row["行政相对人代码_1(统一社会信用代码)"]) and not is_placeholder(reg_no):
            assert parse_reg_no(reg_no).value == reg_no
            # The bridge exists: the registry carries the same number for the subject.
            assert registry_reg_nos[reg_no] == roles["subject"]
            found += 1
    assert found >= 1
    fact = load_truth(city)["expected"]["reg_no_only_penalty"]
    assert registry_reg_nos[fact["reg_no"]] == fact["subject"]


def test_a_mistyped_uscc_fails_its_check(city: CityManifest) -> None:
    fact = load_truth(city)["expected"]["mistyped_uscc_penalty"]
    n = int(fact["record"].rsplit(":", 1)[1])
    row, roles = list(records(city, "admin_penalties"))[n - 1]
    shown = row["行政相对人代码_1(统一社会信用代码)"]
    assert compact(shown) != roles["subject"] == fact["subject"]
    try:
        warnings = parse_uscc(shown).warnings
    except InvalidIdentifier:
        return  # the changed character broke the format itself
    assert "uscc_check_mismatch" in warnings


def test_names_vary_across_feeds(city: CityManifest) -> None:
    name_columns = {
        "企业名称",
        "行政相对人名称",
        "纳税人名称",
        "借款人名称",
        "担保人名称",
        "主体名称",
        "被执行人姓名/名称",
    }
    traditional = halfwidth_brackets = trailing = 0
    for path in city.files:
        header, rows = read_rows(path)
        cols = [i for i, h in enumerate(header) if h in name_columns]
        for row in rows:
            for i in cols:
                traditional += bool(TRADITIONAL_CHARS & set(row[i]))
                halfwidth_brackets += "(" in row[i]
                trailing += row[i] != row[i].rstrip()
    assert traditional >= 3 and halfwidth_brackets >= 1 and trailing >= 3
    fact = load_truth(city)["expected"]["traditional_name_row"]
    assert TRADITIONAL_CHARS & set(fact["name"])


def test_dates_come_in_every_form_and_some_rows_are_broken(city: CityManifest) -> None:
    seen: set[str] = set()
    for row, _ in records(city, "officers"):
        value = row["任职日期"]
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            seen.add("iso")
        elif re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}", value):
            seen.add("slash")
        elif re.fullmatch(r"\d{8}", value):
            seen.add("compact")
        elif re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", value):
            seen.add("chinese")
    assert seen == {"iso", "slash", "compact", "chinese"}
    wb = openpyxl.load_workbook(next(p for p in city.files if p.name.startswith("registry_")))
    assert any(isinstance(c.value, date) for c in wb.active["I"][1:])  # type: ignore[index]
    broken = load_truth(city)["expected"]["quarantine"]
    assert len(broken) >= 4
    assert {r.split(":")[0] for r in broken} >= {"admin_penalties", "abnormal_operations"}


def test_expected_facts_agree_with_the_rows(city: CityManifest) -> None:
    truth = load_truth(city)
    expected = truth["expected"]
    reps = {
        roles["subject"]: roles["legal_representative"] for _, roles in records(city, "registry")
    }
    fact = expected["dishonest_legal_rep"]
    assert reps[fact["enterprise"]] == fact["person"]
    assert truth["records"][fact["record"]]["subject"] == fact["person"]
    tax = expected["tax_violation"]
    assert truth["records"][tax["record"]] == {
        "subject": tax["subject"],
        "legal_representative": tax["legal_representative"],
        "finance_officer": tax["finance_officer"],
    }
    held = {(r["shareholder"], r["subject"]) for _, r in records(city, "shareholders")}
    for link in expected["shareholding_chain"]:
        assert (link["holder"], link["held"]) in held
    repairs = {row["原决定文号"] for row, _ in records(city, "credit_repairs")}
    assert expected["repaired_penalty"]["document"] in repairs
    change = expected["legal_rep_change"]
    assert change["former"] != change["current"] == reps[change["subject"]]


def test_cli_writes_the_city(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "out"), "--enterprises", "30", "--seed", "5"]) == 0
    assert (tmp_path / "out" / "truth.json").is_file()
    assert "registry_2026.xlsx\t30" in capsys.readouterr().out


@pytest.mark.slow
def test_two_thousand_enterprises_in_a_few_seconds(tmp_path: Path) -> None:
    started = time.perf_counter()
    manifest = generate(tmp_path, enterprises=2000, seed=1)
    assert time.perf_counter() - started < 15
    assert manifest.rows["registry_2026.xlsx"] == 2000
