"""A fictional city on the 商丘 pattern: department feeds plus the truth about them.

``generate`` writes one file per feed kind (the 13 kinds of feeds.md), dirty in
the ways real departmental exports are dirty, and ``truth.json`` saying which
real subject every role in every row is about. Resolution, propagation and the
load report are tested against that truth.

The city is produced in chunks of enterprises: each chunk creates its
enterprises and people, links them (legal representatives over time,
shareholdings, guarantees) and lists some of them, then streams its rows to all
feed files at once. Only compact references (USCC, name) to earlier chunks are
kept, so memory and time grow linearly with the number of enterprises.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import shutil
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar

from openpyxl import Workbook

from graph.errors import InvalidInput
from graph.identifiers import (
    id_check_char,
    org_code_check_char,
    reg_no_check_digit,
    uscc_check_char,
)

__all__ = ["FEED_FILES", "CityManifest", "generate", "main"]

Cell = str | int | float | date | None
_T = TypeVar("_T")

# ---------------------------------------------------------------------------
# Files: one per feed kind, in the formats departments actually send.

FEED_FILES: dict[str, tuple[str, str]] = {
    "registry": ("registry_2026.xlsx", "xlsx"),
    # an older registry snapshot (数据日期 2023-12-31): legal representatives then
    "registry_2023": ("registry_2023.csv", "csv-utf8"),
    "shareholders": ("shareholders_2026.csv", "csv-utf8-bom"),
    "officers": ("officers_2026.csv", "csv-utf8"),
    "dishonest_debtors": ("dishonest_debtors_2026.csv", "csv-utf8-bom"),
    "admin_penalties": ("admin_penalties_2026_gbk.csv", "csv-gbk"),
    "admin_licenses": ("admin_licenses_2026.csv", "csv-utf8-bom"),
    "abnormal_operations": ("abnormal_operations_2026.csv", "csv-utf8"),
    "serious_violations": ("serious_violations_2026.csv", "csv-utf8-bom"),
    "tax_violations": ("tax_violations_2026.xlsx", "xlsx"),
    "guarantees": ("guarantees_2026.csv", "csv-utf8"),
    "loan_defaults": ("loan_defaults_2026.csv", "csv-utf8-bom"),
    "red_list": ("red_list_2026.jsonl", "jsonl"),
    "credit_repairs": ("credit_repairs_2026.csv", "csv-utf8"),
}

# Files that are another snapshot of a feed kind: file key -> feed kind.
FEED_KINDS = {"registry_2023": "registry"}

# Column names exactly as feeds.md has them, except the registry, which uses
# the synonyms (法人代表, 注册日期, 注册资金) that 市场监管 exports commonly carry,
# so that the loaders' synonym mapping is exercised by the sample city.
HEADERS: dict[str, tuple[str, ...]] = {
    kind: tuple(columns.split())
    for kind, columns in {
        "registry": "企业名称 统一社会信用代码 注册号 组织机构代码 企业类型 法人代表 "
        "法定代表人证件类型 法定代表人证件号码 注册日期 登记状态 注册资金 住所 登记机关 曾用名 "
        "隶属企业名称 隶属企业统一社会信用代码 核准日期 数据日期",
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
        "admin_licenses": "行政相对人名称 行政相对人代码_1(统一社会信用代码) 法定代表人 "
        "许可决定书文号 许可内容 许可决定日期 许可截止期 许可机关 公示日期",
        "abnormal_operations": "企业名称 统一社会信用代码 注册号 列入经营异常名录原因 列入日期 "
        "作出决定机关(列入) 移出经营异常名录原因 移出日期 作出决定机关(移出)",
        "serious_violations": "企业名称 统一社会信用代码 法定代表人 法定代表人证件号码 列入事由 "
        "列入日期 作出决定机关 移出日期",
        "tax_violations": "纳税人名称 统一社会信用代码 组织机构代码 注册地址 "
        "法定代表人或者负责人姓名 法定代表人或者负责人证件号码 "
        "负有直接责任的财务负责人姓名 负有直接责任的财务负责人证件号码 案件性质 主要违法事实 "
        "相关法律依据及税务处理处罚情况 公布日期 撤出日期",
        "guarantees": "借款人名称 借款人证件类型 借款人证件号码 担保人名称 担保人证件类型 "
        "担保人证件号码 担保方式 担保金额(万元) 债权机构 担保起始日期 担保到期日期",
        "loan_defaults": "借款人名称 借款人证件类型 借款人证件号码 违约金额(万元) 债权机构 "
        "违约日期 结清日期",
        "red_list": "主体名称 统一社会信用代码 证件号码 红名单类型 认定机关 认定日期 有效期至",
        "credit_repairs": "主体名称 统一社会信用代码 证件号码 原决定文号 修复决定日期 修复机关",
    }.items()
}

# ---------------------------------------------------------------------------
# The city. Codes as in graph/data/gb2260.csv: the current 4114xx county and
# the 商丘地区 (4123xx) code its people were issued IDs under before 1997.

CITY_CODE = "411400"
CITY_NAME = "商丘市"
# (current code, name, retired code the same place had before 1997)
COUNTIES: tuple[tuple[str, str, str], ...] = (
    ("411402", "梁园区", "412301"),
    ("411403", "睢阳区", "412322"),
    ("411421", "民权县", "412323"),
    ("411422", "睢县", "412325"),
    ("411423", "宁陵县", "412324"),
    ("411424", "柘城县", "412327"),
    ("411425", "虞城县", "412321"),
    ("411426", "夏邑县", "412326"),
    # 412302 永城市 lasted only 1996-97; IDs issued earlier carry 永城县's 412328.
    ("411481", "永城市", "412328"),
)
_DISTRICTS = {"411402", "411403"}
_COUNTY_NAME = {code: name for code, name, _ in COUNTIES}
_REGION_PREFIXES = ("河南省", "河南", CITY_NAME, *(name for _, name, _ in COUNTIES))

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

ZIHAO_CHARS = "".join(
    dict.fromkeys(
        "华通达兴隆昌盛鑫源恒泰丰瑞宏远金鼎新天宇博创佳和信诚正中东方永安康顺发汇龙宝长城嘉禾"
        "豪威晨光明辉祥云凯德润泽联腾飞旭锦程志智乐欣荣广厦万聚众邦鸿运富贵启航开弘毅立元"
        "亿诺美家福泉江河山川林森茂昊坤乾景峰岳圣骏驰凌翔业帝豫商宋睢梁"
    )
)
INDUSTRIES = (
    "建材",
    "商贸",
    "食品",
    "物流",
    "置业",
    "建筑工程",
    "农业科技",
    "医药",
    "电子科技",
    "机械制造",
    "纺织",
    "新能源",
    "化工",
    "餐饮管理",
    "环保科技",
    "电力设备",
    "汽车销售",
    "面粉",
)
SHOPS = ("商行", "便利店", "饭庄", "五金建材店", "农资经营部", "烩面馆", "日用品商店", "汽车修理部")
COOPS = (
    "种植专业合作社",
    "养殖专业合作社",
    "农机专业合作社",
    "果蔬种植农民专业合作社",
    "中药材种植农民专业合作社",
)
ROADS = (
    "人民路",
    "神火大道",
    "凯旋路",
    "归德路",
    "长江路",
    "黄河路",
    "文化路",
    "民主路",
    "建设路",
    "平原路",
    "北海路",
    "华商大道",
    "南京路",
    "八一路",
)

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋"
    "蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂玉萍建华红梅鑫波斌宇浩凯健俊帆帅旭宁龙林"
    "欢阳晨瑞峰国志海燕丹玲亮振东文彬雪慧琳颖倩婷佳新春秋"
)
# Names shared by thousands of real people; the sample city gives several
# different people each of them so that name-only matching visibly fails.
COMMON_NAMES = (
    "王伟",
    "李娜",
    "张伟",
    "刘洋",
    "王芳",
    "李静",
    "张敏",
    "王静",
    "刘伟",
    "李强",
    "张丽",
    "王磊",
)

# Traditional forms some departments' older systems still print.
TRADITIONAL_MAP: dict[str, str] = {
    "华": "華",
    "电": "電",
    "东": "東",
    "兴": "興",
    "达": "達",
    "龙": "龍",
    "丰": "豐",
    "发": "發",
    "汇": "匯",
    "宝": "寶",
    "长": "長",
    "顺": "順",
    "业": "業",
    "贸": "貿",
    "医": "醫",
    "药": "藥",
    "农": "農",
    "筑": "築",
    "园": "園",
    "乐": "樂",
    "广": "廣",
    "联": "聯",
    "创": "創",
    "宁": "寧",
    "县": "縣",
    "阳": "陽",
    "机": "機",
    "纺": "紡",
    "织": "織",
    "车": "車",
    "销": "銷",
    "环": "環",
    "设": "設",
    "备": "備",
    "责": "責",
    "鸿": "鴻",
    "运": "運",
    "万": "萬",
    "众": "眾",
    "腾": "騰",
    "飞": "飛",
    "锦": "錦",
    "辉": "輝",
    "云": "雲",
    "凯": "凱",
    "润": "潤",
    "泽": "澤",
    "远": "遠",
    "恒": "恆",
    "诚": "誠",
    "厦": "廈",
    "贵": "貴",
    "启": "啟",
    "开": "開",
    "荣": "榮",
    "产": "產",
    "种": "種",
    "专": "專",
    "经": "經",
    "营": "營",
    "饭": "飯",
    "庄": "莊",
    "烩": "燴",
    "面": "麵",
    "亿": "億",
    "诺": "諾",
    "骏": "駿",
    "驰": "馳",
    "岳": "嶽",
    "圣": "聖",
    "门": "門",
    "饮": "飲",
}
TRADITIONAL = str.maketrans(TRADITIONAL_MAP)
_SIMPLIFIED = str.maketrans({v: k for k, v in TRADITIONAL_MAP.items()})

BANKS = (
    "中国工商银行股份有限公司商丘分行",
    "中国农业银行股份有限公司商丘分行",
    "中国银行股份有限公司商丘分行",
    "中国建设银行股份有限公司商丘分行",
    "河南商丘农村商业银行股份有限公司",
    "中原银行股份有限公司商丘分行",
    "郑州银行股份有限公司商丘分行",
)
GUARANTEE_KINDS = ("连带责任保证", "连带责任保证", "一般保证", "抵押", "质押")


class _Agency(NamedTuple):
    name: str
    abbr: str
    violation_types: tuple[str, ...]
    basis: str


AGENCIES: tuple[_Agency, ...] = (
    _Agency(
        "商丘市市场监督管理局",
        "商市监",
        ("食品药品", "产品质量", "价格", "市场监管"),
        "《中华人民共和国食品安全法》第一百二十四条",
    ),
    _Agency("商丘市应急管理局", "商应急", ("安全生产",), "《中华人民共和国安全生产法》第九十九条"),
    _Agency(
        "商丘市生态环境局", "商环", ("环境保护",), "《中华人民共和国大气污染防治法》第一百零八条"
    ),
    _Agency(
        "商丘市卫生健康委员会",
        "商卫",
        ("食品药品", "医疗卫生"),
        "《中华人民共和国药品管理法》第一百一十七条",
    ),
    _Agency(
        "商丘市住房和城乡建设局",
        "商建",
        ("安全生产", "工程建设"),
        "《建设工程安全生产管理条例》第六十二条",
    ),
    _Agency("商丘市消防救援支队", "商消", ("消防安全",), "《中华人民共和国消防法》第六十条"),
    _Agency("商丘市交通运输局", "商交", ("交通运输",), "《中华人民共和国道路运输条例》第六十三条"),
)
LICENCES = (
    ("食品经营许可", "市场监督管理局", "JY"),
    ("建筑施工企业安全生产许可", "河南省住房和城乡建设厅", "(豫)JZ安许证字"),
    ("药品经营许可", "商丘市市场监督管理局", "豫CB"),
    ("道路运输经营许可", "商丘市交通运输局", "豫交运管许可商字"),
    ("排污许可", "商丘市生态环境局", "PW"),
    ("危险化学品经营许可", "商丘市应急管理局", "豫商危化经字"),
)
RED_LISTS = (
    ("A级纳税人", "国家税务总局商丘市税务局"),
    ("守合同重信用企业", "河南省市场监督管理局"),
    ("海关高级认证企业", "郑州海关"),
    ("诚信示范企业", "商丘市发展和改革委员会"),
    ("劳动保障守法诚信企业", "商丘市人力资源和社会保障局"),
)
TAX_BASIS = "依照《中华人民共和国税收征收管理法》第六十三条，追缴税款并处一倍罚款"
TAX_CASES = ("偷税", "逃避追缴欠税", "虚开增值税专用发票", "骗取出口退税", "虚开普通发票")
ABNORMAL_REASONS = (
    "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告",
    "通过登记的住所或者经营场所无法联系",
    "公示企业信息隐瞒真实情况、弄虚作假",
    "未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息",
)
ABNORMAL_REMOVALS = (
    "补报未报年份的年度报告并公示",
    "依法办理住所或者经营场所变更登记",
    "提出通过登记的住所或者经营场所可以重新取得联系",
)
SERIOUS_REASONS = (
    "被列入经营异常名录届满3年仍未履行相关义务",
    "提交虚假材料或者采取其他欺诈手段隐瞒重要事实，取得公司登记，被撤销登记",
    "因危害食品安全被处以较重行政处罚",
)
DISHONEST_CONDUCT = (
    "有履行能力而拒不履行生效法律文书确定义务",
    "违反财产报告制度",
    "违反限制消费令",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
)
ID_TYPES = ("居民身份证", "身份证", "中华人民共和国居民身份证")
PLACEHOLDERS = ("", "", "", "N/A", "-", "无", "/")
# Values a careless export leaves in a required date column; each must fail
# every date parser, so the loader has to quarantine the row.
BROKEN_DATES = ("2021-02-30", "2019/13/05", "20221345", "2020年2月31日", "0000-00-00", "2023-06-31")

CHUNK = 50
# Fixed timestamp for the XLSX package, so that a seed gives byte-identical files.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
_CORE_TIME = b"2026-01-01T00:00:00Z"

# ---------------------------------------------------------------------------
# Subjects


@dataclass(slots=True)
class _Person:
    pid: str
    name: str
    birth: date
    # The 15-digit number the person carried before 1999, if any.
    legacy15: str | None

    @property
    def sex(self) -> str:
        return "男" if int(self.pid[16]) % 2 else "女"


class _OrgRef(NamedTuple):
    uscc: str
    name: str


_Span = tuple[_Person, date, date | None]


@dataclass(slots=True)
class _Ent:
    uscc: str
    name: str
    kind: str  # company | joint_stock | individual | coop | branch
    region: str
    est: date
    reg_no: str
    show_legacy: bool
    former_name: str
    renamed: date | None
    capital: float
    status: str
    address: str
    registrar: str
    head: _Ent | None = None
    reps: list[_Span] = field(default_factory=list)
    finance: list[_Span] = field(default_factory=list)
    supervisor: _Person | None = None
    manager: _Person | None = None
    directors: list[_Person] = field(default_factory=list)
    controller: _Person | None = None
    holders: list[tuple[_Person | _OrgRef, int]] = field(default_factory=list)
    branch_places: list[str] = field(default_factory=list)

    @property
    def org_code(self) -> str:
        return self.uscc[8:17]

    @property
    def ref(self) -> _OrgRef:
        return _OrgRef(self.uscc, self.name)

    def rep_at(self, when: date) -> _Person:
        return _holder_at(self.reps, when)

    def finance_at(self, when: date) -> _Person | None:
        return _holder_at(self.finance, when) if self.finance else None

    def name_at(self, when: date) -> str:
        if self.former_name and self.renamed and when < self.renamed:
            return self.former_name
        return self.name


def _holder_at(spans: list[_Span], when: date) -> _Person:
    for person, start, end in spans:
        if start <= when and (end is None or when < end):
            return person
    # Before the first appointment the first holder is the one records name.
    return spans[0][0] if when < spans[0][1] else spans[-1][0]


# ---------------------------------------------------------------------------
# Output


class _TruthWriter:
    """Streams truth.json: records and subjects go to side files while the
    city is generated and are joined at the end, so nothing is held in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records_path = path.with_name(path.name + ".records.part")
        self._subjects_path = path.with_name(path.name + ".subjects.part")
        self._records: IO[str] = self._records_path.open("w", encoding="utf-8")
        self._subjects: IO[str] = self._subjects_path.open("w", encoding="utf-8")
        self._n_records = 0
        self._n_subjects = 0

    def record(self, record_id: str, roles: Mapping[str, str]) -> None:
        sep = ",\n" if self._n_records else ""
        self._records.write(
            f"{sep}{json.dumps(record_id, ensure_ascii=False)}: "
            f"{json.dumps(dict(roles), ensure_ascii=False, sort_keys=True)}"
        )
        self._n_records += 1

    def subject(self, key: str, kind: str, name: str, branch_of: str | None) -> None:
        sep = ",\n" if self._n_subjects else ""
        body = {"type": kind, "name": name, "branch_of": branch_of}
        self._subjects.write(
            f"{sep}{json.dumps(key)}: {json.dumps(body, ensure_ascii=False, sort_keys=True)}"
        )
        self._n_subjects += 1

    def finish(self, meta: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
        self._records.close()
        self._subjects.close()
        with self.path.open("w", encoding="utf-8") as out:
            out.write('{\n"meta": ' + json.dumps(meta, ensure_ascii=False, sort_keys=True))
            out.write(',\n"records": {\n')
            with self._records_path.open(encoding="utf-8") as part:
                shutil.copyfileobj(part, out)
            out.write('\n},\n"subjects": {\n')
            with self._subjects_path.open(encoding="utf-8") as part:
                shutil.copyfileobj(part, out)
            out.write('\n},\n"expected": ')
            out.write(json.dumps(expected, ensure_ascii=False, sort_keys=True, indent=1))
            out.write("\n}\n")
        self._cleanup()

    def abort(self) -> None:
        self._records.close()
        self._subjects.close()
        self._cleanup()

    def _cleanup(self) -> None:
        self._records_path.unlink(missing_ok=True)
        self._subjects_path.unlink(missing_ok=True)


class _FeedFile:
    def __init__(self, out_dir: Path, key: str, truth: _TruthWriter) -> None:
        self.kind = FEED_KINDS.get(key, key)
        self.file_name, self.fmt = FEED_FILES[key]
        self.header = HEADERS[self.kind]
        self.path = out_dir / self.file_name
        self.rows = 0
        self._columns = frozenset(self.header)
        self._truth = truth
        self._handle: IO[str] | None = None
        self._csv: Any = None
        self._wb: Any = None
        self._ws: Any = None
        if self.fmt.startswith("csv-"):
            encoding = {"csv-utf8": "utf-8", "csv-utf8-bom": "utf-8-sig", "csv-gbk": "gbk"}[
                self.fmt
            ]
            # errors="strict": a character GBK cannot hold must fail here, not
            # turn into '?' that the truth would then disagree with.
            self._handle = self.path.open("w", encoding=encoding, errors="strict", newline="")
            self._csv = csv.writer(self._handle)
            self._csv.writerow(self.header)
        elif self.fmt == "jsonl":
            self._handle = self.path.open("w", encoding="utf-8", newline="\n")
        else:
            self._wb = Workbook(write_only=True)
            self._ws = self._wb.create_sheet("Sheet1")
            self._ws.append(list(self.header))

    def write(self, row: Mapping[str, Cell], roles: Mapping[str, str]) -> str:
        unknown = set(row) - self._columns
        if unknown:
            raise KeyError(f"{self.kind}: no such column {sorted(unknown)}")
        cells = [row.get(column) for column in self.header]
        if self._csv is not None:
            self._csv.writerow(["" if c is None else _text(c) for c in cells])
        elif self._handle is not None:
            obj = {
                col: "" if c is None else _text(c)
                for col, c in zip(self.header, cells, strict=True)
            }
            self._handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
        else:
            # An empty cell is left out of the sheet, as Excel itself does.
            self._ws.append([None if c == "" else c for c in cells])
        self.rows += 1
        record_id = f"{self.kind}:{self.file_name}:{self.rows}"
        self._truth.record(record_id, roles)
        return record_id

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        self._wb.save(tmp)
        try:
            _normalise_xlsx(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


def _text(value: Cell) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _normalise_xlsx(src: Path, dst: Path) -> None:
    """Rewrite the package with fixed timestamps: openpyxl stamps the zip
    entries and docProps/core.xml with the wall clock."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                    lambda m: m.group(1) + _CORE_TIME,
                    zin.read(info),
                )
                zout.writestr(fixed, data)
                continue
            with (
                zin.open(info) as reader,
                zout.open(fixed, "w", force_zip64=info.file_size > (1 << 31)) as writer,
            ):
                shutil.copyfileobj(reader, writer, 1 << 20)


# ---------------------------------------------------------------------------
# Result


@dataclass
class CityManifest:
    out_dir: Path
    enterprises: int
    seed: int
    files: list[Path]
    rows: dict[str, int]  # file name -> data rows
    truth: Path


# ---------------------------------------------------------------------------
# Generator


class _City:
    def __init__(self, out_dir: Path, enterprises: int, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        # the day the older registry snapshot was extracted
        self.old_snapshot = date(today.year - 3, 12, 31)
        self.enterprises = enterprises
        self.truth = _TruthWriter(out_dir / "truth.json")
        self.feeds = {kind: _FeedFile(out_dir, kind, self.truth) for kind in FEED_FILES}
        self.expected: dict[str, Any] = {"quarantine": []}
        self._person_ids: set[int] = set()
        self._org_bodies: set[str] = set()
        self._name_cores: set[str] = set()
        self._reg_seq = 0
        self._doc_seq = 0
        self._recent_people: list[_Person] = []
        self._companies: list[_OrgRef] = []
        self._forced_names: list[str] = []
        self._agency_usccs = [self._agency_uscc(i) for i in range(len(AGENCIES))]
        # Up to three holders per person name, enough to name a namesake set.
        self._namesakes: dict[str, list[str]] = {}
        # Court cases whose debtor later had the listing repaired:
        # (subject key, name as listed, case number, court, publication date).
        self._court_repairs: list[tuple[str, str, str, str, date]] = []
        # Documents behind expected facts that must still be in force today.
        self._unrepaired: set[str] = set()

    # -- identifiers --------------------------------------------------------

    def _agency_uscc(self, i: int) -> str:
        body = f"{71300100 + 11 * i:08d}"
        first17 = "11" + CITY_CODE + body + org_code_check_char(body)
        return first17 + uscc_check_char(first17)

    def _new_uscc(self, authority_type: str, region: str, old_style: bool) -> str:
        rng = self.rng
        while True:
            if old_style:
                # Pre-reform organisation codes were numeric.
                body = f"{rng.randrange(10**7, 10**8):08d}"
            else:
                body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
            if body not in self._org_bodies:
                self._org_bodies.add(body)
                break
        first17 = authority_type + region + body + org_code_check_char(body)
        return first17 + uscc_check_char(first17)

    def _new_reg_no(self, region: str) -> str:
        self._reg_seq += 1
        first14 = f"{region}0{self._reg_seq:07d}"
        return first14 + reg_no_check_digit(first14)

    def _doc_no(self) -> int:
        self._doc_seq += 1
        return self._doc_seq

    # -- people -------------------------------------------------------------

    def _person_name(self) -> str:
        rng = self.rng
        if self._forced_names:
            return self._forced_names.pop()
        if rng.random() < 0.1:
            return rng.choice(COMMON_NAMES)
        given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2, 2))))
        return rng.choice(SURNAMES) + given

    def _new_person(self, latest_birth_year: int = 2000) -> _Person:
        rng = self.rng
        year = rng.randint(1950, max(1950, min(2000, latest_birth_year)))
        birth = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        code, _, retired = rng.choice(COUNTIES)
        region = retired if year < 1997 and rng.random() < 0.3 else code
        while True:
            seq = rng.randrange(1, 1000)
            first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
            if int(first17) not in self._person_ids:
                self._person_ids.add(int(first17))
                break
        pid = first17 + id_check_char(first17)
        legacy = f"{region}{birth:%y%m%d}{seq:03d}" if year < 1985 else None
        person = _Person(pid, self._person_name(), birth, legacy)
        self.truth.subject(pid, "person", person.name, None)
        holders = self._namesakes.setdefault(person.name, [])
        if len(holders) < 3:
            holders.append(pid)
        if len(self._recent_people) < 300:
            self._recent_people.append(person)
        else:
            self._recent_people[rng.randrange(300)] = person
        return person

    def _some_person(self, latest_birth_year: int) -> _Person:
        # A few people hold roles in several enterprises, as in real cities.
        if self._recent_people and self.rng.random() < 0.08:
            person = self.rng.choice(self._recent_people)
            if person.birth.year <= latest_birth_year:
                return person
        return self._new_person(latest_birth_year)

    # -- enterprises --------------------------------------------------------

    def _core(self, words: Sequence[str]) -> tuple[str, str]:
        rng = self.rng
        attempt = 0
        while True:
            # Two-character 字号 first; longer ones once the common pairs run out.
            length = 2 + attempt // 8
            zihao = "".join(rng.choice(ZIHAO_CHARS) for _ in range(length))
            word = rng.choice(words)
            if zihao + word not in self._name_cores:
                self._name_cores.add(zihao + word)
                return zihao, word
            attempt += 1

    def _company_name(self, region: str, suffix: str) -> str:
        zihao, industry = self._core(INDUSTRIES)
        roll = self.rng.random()
        if roll < 0.07:
            return f"河南{zihao}{industry}{suffix}"
        if roll < 0.15:
            return f"{zihao}（商丘）{industry}{suffix}"
        prefix = CITY_NAME if region == CITY_CODE or region in _DISTRICTS else _COUNTY_NAME[region]
        return f"{prefix}{zihao}{industry}{suffix}"

    def _new_enterprise(self, kind: str, legacy: bool, head: _Ent | None) -> _Ent:
        rng = self.rng
        today = self.today
        county_code, county, _ = rng.choice(COUNTIES)
        if kind in ("company", "joint_stock") and rng.random() < 0.3:
            region = CITY_CODE
        else:
            region = county_code
        if legacy:
            est = _rand_date(rng, date(1993, 1, 1), date(2014, 12, 31))
        elif head is not None:
            est = _rand_date(rng, head.est + timedelta(days=60), today - timedelta(days=30))
        else:
            est = _rand_date(rng, date(1995, 1, 1), today - timedelta(days=120))
        old_style = est.year < 2015
        authority_type = {"individual": "92", "coop": "93"}.get(kind, "91")
        uscc = self._new_uscc(authority_type, region, old_style)
        former, renamed = "", None
        if kind == "individual":
            zihao, shop = self._core(SHOPS)
            name = f"{county}{zihao}{shop}"
            capital = float(rng.choice((1, 2, 3, 5, 10, 20)))
        elif kind == "coop":
            zihao, coop = self._core(COOPS)
            name = f"{county}{zihao}{coop}"
            capital = float(rng.choice((50, 100, 200, 300, 500)))
        elif kind == "branch":
            assert head is not None
            nth = head.branch_places.count(county)
            head.branch_places.append(county)
            ordinal = "" if nth == 0 else "第" + "一二三四五六七八九"[min(nth, 8)]
            name = f"{head.name}{county}{ordinal}分公司"
            capital = 0.0
        else:
            if kind == "joint_stock":
                suffix = "股份有限公司"
            else:
                suffix = "有限公司" if rng.random() < 0.7 else "有限责任公司"
            name = self._company_name(region, suffix)
            capital = float(rng.choice((10, 30, 50, 100, 200, 300, 500, 800, 1000, 2000, 5000)))
            if rng.random() < 0.08 and (today - est).days > 800:
                former = self._company_name(region, suffix)
                renamed = _rand_date(rng, est + timedelta(days=365), today - timedelta(days=60))
        roll = rng.random()
        status = (
            "存续" if roll < 0.8 else "在业" if roll < 0.88 else "吊销" if roll < 0.93 else "注销"
        )
        registrar = (
            "商丘市市场监督管理局"
            if region == CITY_CODE
            else f"商丘市{county}市场监督管理局"
            if region in _DISTRICTS
            else f"{county}市场监督管理局"
        )
        address = f"河南省商丘市{county}{rng.choice(ROADS)}{rng.randint(1, 399)}号"
        ent = _Ent(
            uscc=uscc,
            name=name,
            kind=kind,
            region=region,
            est=est,
            reg_no=self._new_reg_no(region) if legacy else "",
            show_legacy=legacy,
            former_name=former,
            renamed=renamed,
            capital=capital,
            status=status,
            address=address,
            registrar=registrar,
            head=head,
        )
        self._staff(ent)
        self.truth.subject(uscc, "organisation", name, head.uscc if head else None)
        if kind in ("company", "joint_stock"):
            self._companies.append(ent.ref)
        return ent

    def _staff(self, ent: _Ent) -> None:
        rng = self.rng
        adult = ent.est.year - 20
        first = self._some_person(adult)
        if (
            ent.kind in ("company", "joint_stock")
            and rng.random() < 0.25
            and (self.today - ent.est).days > 500
        ):
            changed = _rand_date(
                rng, ent.est + timedelta(days=365), self.today - timedelta(days=30)
            )
            ent.reps = [(first, ent.est, changed), (self._some_person(adult), changed, None)]
        else:
            ent.reps = [(first, ent.est, None)]
        if ent.kind not in ("company", "joint_stock"):
            return
        current = ent.reps[-1][0]
        ent.supervisor = self._new_person(adult)
        ent.manager = current if rng.random() < 0.6 else self._new_person(adult)
        fin = self._new_person(min(adult, 1998))
        if rng.random() < 0.15 and (self.today - ent.est).days > 500:
            changed = _rand_date(
                rng, ent.est + timedelta(days=200), self.today - timedelta(days=30)
            )
            ent.finance = [(fin, ent.est, changed), (self._new_person(1998), changed, None)]
        else:
            ent.finance = [(fin, ent.est, None)]
        if ent.kind == "joint_stock":
            ent.directors = [self._new_person(adult), self._new_person(adult)]
        # Person shareholders; the current legal representative usually holds shares.
        people = [current] if rng.random() < 0.7 else []
        people += [self._new_person(adult) for _ in range(rng.choice((0, 1, 1, 2)))]
        if not people:
            people = [self._new_person(adult)]
        ent.holders = [(p, s) for p, s in zip(people, _split_100(rng, len(people)), strict=True)]
        top, share = max(ent.holders, key=lambda h: h[1])
        if isinstance(top, _Person) and share >= 50 and rng.random() < 0.5:
            ent.controller = top

    # -- dirt ---------------------------------------------------------------

    def _name(self, ent: _Ent | _OrgRef, rate: float, when: date | None = None) -> str:
        """The name as a department writes it: mostly right, sometimes not."""
        rng = self.rng
        name = ent.name
        if isinstance(ent, _Ent) and when is not None:
            name = ent.name_at(when)
        elif isinstance(ent, _Ent) and ent.former_name and rng.random() < 0.15:
            name = ent.former_name
        if rng.random() >= rate:
            return name
        return _name_variant(rng, name, rng.randrange(6))

    def _uscc(self, uscc: str, rate: float) -> str:
        rng = self.rng
        if rng.random() >= rate:
            return uscc
        return _uscc_variant(rng, uscc, rng.randrange(5))

    def _id(self, person: _Person, legacy_rate: float = 0.0) -> str:
        rng = self.rng
        if person.legacy15 and rng.random() < legacy_rate:
            return person.legacy15
        if person.pid.endswith("X") and rng.random() < 0.4:
            return person.pid[:17] + "x"
        return person.pid

    def _blank(self) -> str:
        return self.rng.choice(PLACEHOLDERS)

    def _date(self, d: date | None, primary: int, blank: bool = True) -> str:
        """Each department has a house style and strays from it now and then."""
        if d is None:
            return self._blank() if blank else ""
        style = primary if self.rng.random() < 0.85 else self.rng.randrange(4)
        return _fmt_date(d, style)

    def _amount(self, value: float) -> str:
        return _fmt_amount(self.rng, value)

    def _published(self, decided: date, doc: str, department: str, style: int) -> str:
        """公示日期 of a 双公示 decision: most departments publish within days, a
        slow one often weeks later; not yet published if that is after today.
        Drawn from a generator seeded by the document number, so that adding
        this column did not shift the rest of the city."""
        r = random.Random(f"published|{doc}")
        slow = sum(department.encode("utf-8")) % 3 == 0
        late = r.random() < (0.45 if slow else 0.1)
        published = decided + timedelta(days=r.randint(12, 75) if late else r.randint(0, 8))
        return _fmt_date(published, style) if published <= self.today else ""

    def _broken(self, record_id: str) -> None:
        if len(self.expected["quarantine"]) < 40:
            self.expected["quarantine"].append(record_id)

    def _expect(self, key: str, value: Any) -> None:
        self.expected.setdefault(key, value)

    # -- the run ------------------------------------------------------------

    def run(self) -> None:
        start = 0
        chunk_no = 0
        while start < self.enterprises:
            size = min(CHUNK, self.enterprises - start)
            self._chunk(chunk_no, size)
            start += size
            chunk_no += 1
        namesakes = {n: ids for n, ids in self._namesakes.items() if len(ids) > 1}
        first = min(namesakes, key=lambda n: COMMON_NAMES.index(n) if n in COMMON_NAMES else 99)
        self._expect("namesakes", {"name": first, "ids": namesakes[first]})

    def _chunk(self, chunk_no: int, size: int) -> None:
        rng = self.rng
        # Two different people with one common name in every chunk, so that
        # namesakes exist at any scale.
        common = COMMON_NAMES[chunk_no % len(COMMON_NAMES)]
        self._forced_names = [common, common]
        positions = list(range(size))
        branches = set(_pick(rng, positions[1:], 0.05, 1 if size >= 4 else 0))
        legacy = set(_pick(rng, [p for p in positions if p not in branches], 0.05, 1))
        ents: list[_Ent] = []
        for pos in positions:
            heads = [e for e in ents[-20:] if e.kind in ("company", "joint_stock")]
            if pos in branches and heads:
                ents.append(self._new_enterprise("branch", False, rng.choice(heads)))
                continue
            roll = rng.random()
            if pos in legacy or roll >= 0.12:
                kind = "joint_stock" if rng.random() < 0.12 else "company"
            else:
                kind = "individual" if roll < 0.08 else "coop"
            ents.append(self._new_enterprise(kind, pos in legacy, None))
        companies = [e for e in ents if e.kind in ("company", "joint_stock")]
        self._shareholding_chain(companies)
        for ent in ents:
            self._write_registry(ent)
            self._write_shareholders(ent)
            self._write_officers(ent)
        borrowers = self._guarantees(companies)
        self._loan_defaults(ents, borrowers, chunk_no)
        self._dishonest(ents, companies)
        penalties = self._penalties(ents, chunk_no)
        self._licences(ents)
        self._abnormal(ents, chunk_no)
        self._serious(companies)
        self._tax(companies, chunk_no)
        self._red_list(ents, penalties)
        self._repairs(penalties)

    # -- relations ----------------------------------------------------------

    def _shareholding_chain(self, companies: list[_Ent]) -> None:
        rng = self.rng
        if len(companies) >= 3:
            a, b, c = rng.sample(companies, 3)
            # A owns 60% of B, B owns 70% of C: the people keep the rest.
            _give_stake(rng, b, a.ref, 60)
            _give_stake(rng, c, b.ref, 70)
            self._expect(
                "shareholding_chain",
                [
                    {"holder": a.uscc, "held": b.uscc, "percent": 60},
                    {"holder": b.uscc, "held": c.uscc, "percent": 70},
                ],
            )
        for ent in companies:
            if rng.random() < 0.06 and len(self._companies) > 1:
                owner = rng.choice(self._companies)
                if owner.uscc != ent.uscc and all(
                    not isinstance(h, _OrgRef) for h, _ in ent.holders
                ):
                    _give_stake(rng, ent, owner, rng.randint(10, 49))

    def _write_registry(self, ent: _Ent) -> None:
        rng = self.rng
        rep = ent.reps[-1][0]
        kind_label = {
            "company": "有限责任公司（自然人投资或控股）"
            if len(ent.holders) > 1
            else "有限责任公司（自然人独资）",
            "joint_stock": "股份有限公司（非上市、自然人投资或控股）",
            "individual": "个体工商户",
            "coop": "农民专业合作社",
            "branch": "有限责任公司分公司（自然人投资或控股）",
        }[ent.kind]
        registered: Cell = ent.est if rng.random() < 0.85 else self._date(ent.est, 1)
        capital: Cell = (
            ""
            if ent.kind == "branch"
            else ent.capital
            if rng.random() < 0.6
            else self._amount(ent.capital)
        )
        roles = {"subject": ent.uscc, "legal_representative": rep.pid}
        row: dict[str, Cell] = {
            "企业名称": ent.name + (" " if rng.random() < 0.02 else ""),
            "统一社会信用代码": ent.uscc.lower() if rng.random() < 0.02 else ent.uscc,
            "注册号": ent.reg_no if ent.show_legacy else "",
            "组织机构代码": f"{ent.org_code[:8]}-{ent.org_code[8]}" if ent.show_legacy else "",
            "企业类型": kind_label,
            "法人代表": rep.name,
            "法定代表人证件类型": "居民身份证",
            "法定代表人证件号码": self._id(rep),
            "注册日期": registered,
            "登记状态": ent.status,
            "注册资金": capital,
            "住所": ent.address,
            "登记机关": ent.registrar,
            "曾用名": ent.former_name,
        }
        if ent.head is not None:
            row["隶属企业名称"] = ent.head.name
            row["隶属企业统一社会信用代码"] = ent.head.uscc
            roles["head_office"] = ent.head.uscc
        row["核准日期"] = self._approved(ent, self.today)
        row["数据日期"] = self.today
        record = self.feeds["registry"].write(row, roles)
        snap = self.old_snapshot
        if ent.est <= snap:
            # The same enterprise as the older extract showed it: its legal
            # representative then, its latest approved change by then.
            holder = ent.rep_at(snap)
            old_row = {
                **row,
                "企业名称": ent.name_at(snap),
                "法人代表": holder.name,
                "法定代表人证件号码": self._id(holder),
                "曾用名": ent.former_name if ent.renamed and ent.renamed <= snap else "",
                "核准日期": self._approved(ent, snap),
                "数据日期": snap,
            }
            self.feeds["registry_2023"].write(
                old_row, {**roles, "legal_representative": holder.pid}
            )
        if ent.head is not None:
            self._expect(
                "branch", {"branch": ent.uscc, "head_office": ent.head.uscc, "record": record}
            )
        if ent.former_name:
            self._expect(
                "former_name",
                {
                    "subject": ent.uscc,
                    "former_name": ent.former_name,
                    "renamed": ent.renamed.isoformat() if ent.renamed else None,
                },
            )
        if len(ent.reps) > 1:
            old, _, changed = ent.reps[0]
            self._expect(
                "legal_rep_change",
                {
                    "subject": ent.uscc,
                    "former": old.pid,
                    "current": rep.pid,
                    "changed_on": changed.isoformat() if changed else None,
                },
            )

    def _approved(self, ent: _Ent, when: date) -> date:
        """核准日期 of a snapshot on ``when``: the latest approved change by then.
        Sometimes a change other than the legal representative's (an address, the
        capital) came later, so the date says less than it seems to."""
        changes = [ent.est, *(start for _, start, _ in ent.reps if start <= when)]
        if ent.renamed and ent.renamed <= when:
            changes.append(ent.renamed)
        latest = max(changes)
        if self.rng.random() < 0.3 and (when - latest).days > 30:
            return _rand_date(self.rng, latest, when - timedelta(days=1))
        return latest

    def _write_shareholders(self, ent: _Ent) -> None:
        rng = self.rng
        feed = self.feeds["shareholders"]
        for holder, percent in ent.holders:
            paid = round(ent.capital * percent / 100, 2)
            if isinstance(holder, _Person):
                kind, id_type, number, key = (
                    "自然人股东",
                    rng.choice(ID_TYPES),
                    self._id(holder),
                    holder.pid,
                )
                name = holder.name
            else:
                kind, id_type, key = (
                    rng.choice(("企业法人", "法人股东")),
                    "统一社会信用代码",
                    holder.uscc,
                )
                number, name = self._uscc(holder.uscc, 0.08), self._name(holder, 0.1)
            share = rng.choice((f"{percent}%", f"{percent}.00%", f"{percent}%"))
            feed.write(
                {
                    "企业名称": self._name(ent, 0.05),
                    "统一社会信用代码": self._uscc(ent.uscc, 0.05),
                    "股东名称": name,
                    "股东类型": kind,
                    "证件类型": id_type,
                    "证件号码": number,
                    "认缴出资额(万元)": f"{paid:g}",
                    "出资比例": share,
                    "出资日期": self._date(ent.est + timedelta(days=rng.randint(0, 3650)), 0),
                },
                {"subject": ent.uscc, "shareholder": key},
            )

    def _write_officers(self, ent: _Ent) -> None:
        rows: list[tuple[_Person, str, date, date | None]] = []
        if ent.kind == "branch":
            rows.append((ent.reps[0][0], "主要负责人", ent.est, None))
        elif ent.kind == "individual":
            return
        else:
            rows += [(p, "法定代表人", s, e) for p, s, e in ent.reps]
        if ent.kind == "joint_stock":
            rows.append((ent.reps[-1][0], "董事长", ent.reps[-1][1], None))
            rows += [(d, "董事", ent.est, None) for d in ent.directors]
        if ent.supervisor:
            rows.append((ent.supervisor, "监事", ent.est, None))
        if ent.manager:
            rows.append((ent.manager, "经理", ent.est, None))
        rows += [(p, "财务负责人", s, e) for p, s, e in ent.finance]
        if ent.controller:
            rows.append((ent.controller, "实际控制人", ent.est, None))
        feed = self.feeds["officers"]
        for person, role, start, end in rows:
            feed.write(
                {
                    "企业名称": self._name(ent, 0.04),
                    "统一社会信用代码": self._uscc(ent.uscc, 0.04),
                    "姓名": person.name + (" " if self.rng.random() < 0.02 else ""),
                    "证件类型": self.rng.choice(ID_TYPES),
                    "证件号码": self._id(person, legacy_rate=0.06),
                    "职务": role,
                    "任职日期": self._date(start, 1),
                    "离任日期": self._date(end, 1),
                },
                {"subject": ent.uscc, "officer": person.pid},
            )

    def _guarantees(self, companies: list[_Ent]) -> list[tuple[_Ent, list[str]]]:
        """Writes guarantees; returns borrowers with their guarantors' keys."""
        rng = self.rng
        links: list[tuple[_Ent | _OrgRef | _Person, _Ent]] = []
        if len(companies) >= 3:
            circle = rng.sample(companies, 3)
            links += [(circle[i], circle[(i + 1) % 3]) for i in range(3)]
            self._expect("guarantee_circle", [e.uscc for e in circle])
        if len(companies) >= 4:
            chain = rng.sample(companies, 4)
            links += [(chain[i], chain[i + 1]) for i in range(3)]
            self._expect("guarantee_chain", [e.uscc for e in chain])
        for ent in companies:
            if rng.random() < 0.10 and len(self._companies) > 1:
                other = rng.choice(self._companies)
                if other.uscc != ent.uscc:
                    links.append((other, ent))
            if rng.random() < 0.04:
                links.append((ent.reps[-1][0], ent))
        by_borrower: dict[str, tuple[_Ent, list[str]]] = {}
        feed = self.feeds["guarantees"]
        for guarantor, borrower in links:
            start = _rand_date(
                rng, max(borrower.est, date(2018, 1, 1)), self.today - timedelta(days=20)
            )
            end = start + timedelta(days=365 * rng.randint(1, 3))
            if isinstance(guarantor, _Person):
                g_name, g_type, g_no, g_key = (
                    guarantor.name,
                    "身份证",
                    self._id(guarantor, 0.1),
                    guarantor.pid,
                )
            else:
                g_name, g_key = self._name(guarantor, 0.12), guarantor.uscc
                g_type, g_no = self._org_key(guarantor.uscc)
            b_type, b_no = self._org_key(borrower.uscc)
            feed.write(
                {
                    "借款人名称": self._name(borrower, 0.12),
                    "借款人证件类型": b_type,
                    "借款人证件号码": b_no,
                    "担保人名称": g_name,
                    "担保人证件类型": g_type,
                    "担保人证件号码": g_no,
                    "担保方式": rng.choice(GUARANTEE_KINDS),
                    "担保金额(万元)": self._amount(
                        float(rng.choice((50, 100, 200, 300, 500, 1000, 3000)))
                    ),
                    "债权机构": rng.choice(BANKS),
                    "担保起始日期": self._date(start, 2),
                    "担保到期日期": self._date(end, 2),
                },
                {"borrower": borrower.uscc, "guarantor": g_key},
            )
            if end > self.today:
                by_borrower.setdefault(borrower.uscc, (borrower, []))[1].append(g_key)
        return list(by_borrower.values())

    def _org_key(self, uscc: str) -> tuple[str, str]:
        """Banks file organisations under the USCC, or still the org code."""
        roll = self.rng.random()
        if roll < 0.1:
            return "组织机构代码", f"{uscc[8:16]}-{uscc[16]}"
        if roll < 0.13:
            return "统一社会信用代码", self._blank()
        return "统一社会信用代码", self._uscc(uscc, 0.1)

    def _loan_defaults(
        self, ents: list[_Ent], borrowers: list[tuple[_Ent, list[str]]], chunk_no: int
    ) -> None:
        rng = self.rng
        feed = self.feeds["loan_defaults"]
        chosen = _pick(rng, borrowers, 0.35, 1)
        extra = _pick(rng, [e for e in ents if e.kind != "branch"], 0.01)
        rows = [(b, g) for b, g in chosen] + [(e, []) for e in extra]
        for borrower, guarantors in rows:
            when = _rand_date(
                rng,
                max(borrower.est, self.today - timedelta(days=900)),
                self.today - timedelta(days=10),
            )
            settled = _rand_date(rng, when, self.today) if rng.random() < 0.35 else None
            b_type, b_no = self._org_key(borrower.uscc)
            record = feed.write(
                {
                    "借款人名称": self._name(borrower, 0.1),
                    "借款人证件类型": b_type,
                    "借款人证件号码": b_no,
                    "违约金额(万元)": self._amount(float(rng.choice((20, 80, 150, 430, 1200)))),
                    "债权机构": rng.choice(BANKS),
                    "违约日期": self._date(when, 0, blank=False),
                    "结清日期": self._date(settled, 0),
                },
                {"borrower": borrower.uscc},
            )
            if guarantors and settled is None:
                self._expect(
                    "loan_default_with_guarantors",
                    {
                        "borrower": borrower.uscc,
                        "guarantors": sorted(set(guarantors)),
                        "record": record,
                    },
                )
        if chunk_no == 0 or rng.random() < 0.3:
            victim = rng.choice(ents)
            record = feed.write(
                {
                    "借款人名称": victim.name,
                    "借款人证件类型": "统一社会信用代码",
                    "借款人证件号码": victim.uscc,
                    "违约金额(万元)": "100",
                    "债权机构": rng.choice(BANKS),
                    "违约日期": rng.choice(BROKEN_DATES),
                },
                {"borrower": victim.uscc},
            )
            self._broken(record)

    # -- listings -----------------------------------------------------------

    def _court(self, region: str) -> tuple[str, str]:
        if region == CITY_CODE or self.rng.random() < 0.3:
            return "商丘市中级人民法院", "豫14"
        county = _COUNTY_NAME[region]
        name = f"商丘市{county}人民法院" if region in _DISTRICTS else f"{county}人民法院"
        return name, f"豫14{region[4:]}"

    def _case_no(self, year: int, court_code: str, kind: str) -> str:
        return f"({year}){court_code}{kind}{self._doc_no()}号"

    def _dishonest(self, ents: list[_Ent], companies: list[_Ent]) -> None:
        rng = self.rng
        feed = self.feeds["dishonest_debtors"]
        orgs = _pick(rng, [e for e in ents if e.kind != "branch"], 0.03, 1)
        for i, ent in enumerate(orgs):
            filed = _rand_date(
                rng,
                max(ent.est + timedelta(days=200), date(2019, 1, 1)),
                self.today - timedelta(days=40),
            )
            rep = ent.rep_at(filed)
            roll = rng.random()
            if i == 0 or roll < 0.45:
                code = f"{ent.org_code[:8]}-{ent.org_code[8]}"
            elif roll < 0.65:
                code = ent.org_code
            elif roll < 0.95:
                code = self._uscc(ent.uscc, 0.1)
            else:
                code = self._blank()
            record = self._dishonest_row(
                feed,
                self._name(ent, 0.15, filed),
                code,
                "",
                "",
                rep.name,
                ent.region,
                filed,
                ent.uscc,
                rep.pid,
            )
            if i == 0 and code.count("-") == 1:
                self._expect("org_code_only_court_record", {"record": record, "subject": ent.uscc})
        people = _pick(rng, companies, 0.02, 1)
        for i, ent in enumerate(people):
            person = ent.reps[-1][0]
            filed = _rand_date(
                rng,
                max(ent.reps[-1][1], self.today - timedelta(days=1000)),
                self.today - timedelta(days=40),
            )
            if i == 0:
                # Published within the last year and not withdrawn: active today.
                filed = _rand_date(
                    rng,
                    max(ent.reps[-1][1], self.today - timedelta(days=300)),
                    self.today - timedelta(days=40),
                )
            masked = person.pid[:10] + "****" + person.pid[14:]
            age = filed.year - person.birth.year
            record = self._dishonest_row(
                feed,
                person.name,
                masked,
                person.sex,
                str(age),
                "",
                ent.region,
                filed,
                person.pid,
                None,
                active=(i == 0),
            )
            if i == 0:
                self._expect("masked_id_court_record", {"record": record, "subject": person.pid})
                self._expect(
                    "dishonest_legal_rep",
                    {
                        "enterprise": ent.uscc,
                        "person": person.pid,
                        "record": record,
                    },
                )

    def _dishonest_row(
        self,
        feed: _FeedFile,
        name: str,
        code: str,
        sex: str,
        age: str,
        rep_name: str,
        region: str,
        filed: date,
        key: str,
        rep_key: str | None,
        active: bool = False,
    ) -> str:
        rng = self.rng
        court, court_code = self._court(region)
        case_no = self._case_no(filed.year, court_code, "执")
        basis = self._case_no(filed.year - 1, court_code, rng.choice(("民初", "民终", "商初")))
        published = filed + timedelta(days=rng.randint(20, 35))
        withdrawn = None
        if not active and rng.random() < 0.2:
            withdrawn = _rand_date(rng, published + timedelta(days=30), self.today)
        roles = {"subject": key}
        if rep_key:
            roles["legal_representative"] = rep_key
        record = feed.write(
            {
                "案号": case_no,
                "被执行人姓名/名称": name,
                "身份证号码/组织机构代码": code,
                "性别": sex,
                "年龄": age,
                "法定代表人或者负责人姓名": rep_name,
                "执行法院": court,
                "省份": "河南",
                "执行依据文号": basis,
                "立案时间": self._date(filed, 3, blank=False),
                "做出执行依据单位": court,
                "生效法律文书确定的义务": f"支付货款{rng.randint(2, 900)}万元及利息",
                "被执行人的履行情况": rng.choice(("全部未履行", "全部未履行", "部分未履行")),
                "失信被执行人行为具体情形": rng.choice(DISHONEST_CONDUCT),
                "发布时间": self._date(published, 3, blank=False),
                "撤销日期": self._date(withdrawn, 3),
            },
            roles,
        )
        if not active and withdrawn is None and rng.random() < 0.1:
            self._court_repairs.append((key, name, case_no, court, published))
        return record

    def _penalties(
        self, ents: list[_Ent], chunk_no: int
    ) -> list[tuple[_Ent | _Person, str, str, date, str]]:
        """Writes penalties; returns (subject, document no, severity, date, agency)."""
        rng = self.rng
        feed = self.feeds["admin_penalties"]
        out: list[tuple[_Ent | _Person, str, str, date, str]] = []
        targets = _pick(rng, ents, 0.10, 2)
        # Every chunk has one row naming its subject by the 15-digit 注册号
        # only (when the chunk has a pre-reform enterprise) and one mistyped USCC.
        legacy = [e for e in ents if e.show_legacy]
        plan = [(legacy[0], "reg_only")] if legacy else []
        plan += [(targets[0], "mistyped"), *((e, "") for e in targets[1:])]
        for ent, mode in plan:
            out.append(self._penalty_row(feed, ent, mode))
        for ent in ents:
            if ent.kind == "individual" or rng.random() >= 0.01:
                continue
            out.append(self._penalty_row(feed, ent.reps[-1][0], "person"))
        if chunk_no == 0 or rng.random() < 0.3:
            victim = rng.choice(ents)
            record = feed.write(
                {
                    "行政相对人名称": victim.name,
                    "行政相对人类别": "法人及非法人组织",
                    "行政相对人代码_1(统一社会信用代码)": victim.uscc,
                    "行政处罚决定书文号": f"商市监罚〔2024〕{self._doc_no()}号",
                    "处罚决定日期": rng.choice(BROKEN_DATES),
                    "失信严重程度": "一般",
                },
                {"subject": victim.uscc},
            )
            self._broken(record)
        return out

    def _penalty_row(
        self, feed: _FeedFile, subject: _Ent | _Person, mode: str
    ) -> tuple[_Ent | _Person, str, str, date, str]:
        rng = self.rng
        agency_i = rng.randrange(len(AGENCIES))
        agency = AGENCIES[agency_i]
        roll = rng.random()
        severity = "轻微" if roll < 0.2 else "一般" if roll < 0.75 else "严重"
        vtype = rng.choice(agency.violation_types)
        earliest = date(2019, 1, 1)
        if isinstance(subject, _Ent):
            earliest = max(earliest, subject.est + timedelta(days=90))
        decided = _rand_date(rng, earliest, self.today - timedelta(days=5))
        doc = f"{agency.abbr}罚〔{decided.year}〕{self._doc_no()}号"
        until = decided + timedelta(days={"轻微": 0, "一般": 365, "严重": 365 * 3}[severity])
        fine = float(rng.choice((0.2, 0.5, 1, 2, 3, 5, 10, 20, 50)))
        row: dict[str, Cell] = {
            "行政处罚决定书文号": doc,
            "违法行为类型": vtype,
            "违法事实": f"经查，当事人存在{vtype}方面的违法行为",
            "处罚依据": agency.basis,
            "处罚类别": rng.choice(("罚款", "警告;罚款", "罚款;没收违法所得")),
            "处罚内容": f"罚款人民币{fine * 10000:.0f}元",
            "罚款金额(万元)": self._amount(fine),
            "处罚决定日期": self._date(decided, 1, blank=False),
            "处罚有效期": self._date(until if severity != "轻微" else None, 1),
            "公示截止期": self._date(until if severity != "轻微" else None, 1),
            "处罚机关": agency.name,
            "处罚机关统一社会信用代码": self._agency_usccs[agency_i],
            "数据来源单位": agency.name,
            "失信严重程度": severity,
            "公示日期": self._published(decided, doc, agency.name, 1),
            "行政相对人代码_1(统一社会信用代码)": self._blank(),
            "行政相对人代码_2(工商注册号)": self._blank(),
            "行政相对人代码_3(组织机构代码)": self._blank(),
        }
        if isinstance(subject, _Person):
            key = subject.pid
            roles = {"subject": key}
            row.update(
                {
                    "行政相对人名称": subject.name,
                    "行政相对人类别": "自然人",
                    "证件类型": "身份证",
                    "证件号码": self._id(subject, 0.15),
                }
            )
        else:
            key = subject.uscc
            rep = subject.rep_at(decided)
            roles = {"subject": key, "legal_representative": rep.pid}
            row.update(
                {
                    "行政相对人名称": self._name(subject, 0.2, decided),
                    "行政相对人类别": "个体工商户"
                    if subject.kind == "individual"
                    else "法人及非法人组织",
                    "法定代表人": rep.name,
                    "证件类型": "身份证",
                    "证件号码": self._id(rep) if rng.random() < 0.3 else self._blank(),
                }
            )
            code_mode = mode or (
                "org_only" if rng.random() < 0.04 else "none" if rng.random() < 0.02 else "uscc"
            )
            if code_mode == "reg_only":
                row["行政相对人代码_2(工商注册号)"] = subject.reg_no
            elif code_mode == "org_only":
                row["行政相对人代码_3(组织机构代码)"] = rng.choice(
                    (subject.org_code, f"{subject.org_code[:8]}-{subject.org_code[8]}")
                )
            elif code_mode == "mistyped":
                row["行政相对人代码_1(统一社会信用代码)"] = _mistype(rng, subject.uscc)
            elif code_mode == "uscc":
                row["行政相对人代码_1(统一社会信用代码)"] = self._uscc(subject.uscc, 0.15)
                if subject.show_legacy and rng.random() < 0.5:
                    row["行政相对人代码_2(工商注册号)"] = subject.reg_no
        record = feed.write(row, roles)
        if isinstance(subject, _Ent):
            if mode == "reg_only":
                self._expect(
                    "reg_no_only_penalty",
                    {"record": record, "subject": key, "reg_no": subject.reg_no},
                )
            if mode == "mistyped":
                self._expect("mistyped_uscc_penalty", {"record": record, "subject": key})
            recent = decided > self.today - timedelta(days=900)
            if severity == "严重" and vtype in ("安全生产", "食品药品") and recent:
                # An expected fact must stay true: no repair may end this one.
                self._unrepaired.add(doc)
                self._expect(
                    "severe_penalty_implicating_rep",
                    {
                        "record": record,
                        "subject": key,
                        "legal_representative": roles["legal_representative"],
                        "decided": decided.isoformat(),
                    },
                )
            name_shown = row["行政相对人名称"]
            if isinstance(name_shown, str) and name_shown != name_shown.translate(_SIMPLIFIED):
                self._expect(
                    "traditional_name_row", {"record": record, "subject": key, "name": name_shown}
                )
        return subject, doc, severity, decided, agency.name

    def _licences(self, ents: list[_Ent]) -> None:
        rng = self.rng
        feed = self.feeds["admin_licenses"]
        for ent in _pick(rng, ents, 0.25):
            content, authority, prefix = rng.choice(LICENCES)
            if authority == "市场监督管理局":
                authority = ent.registrar
            granted = _rand_date(
                rng, max(ent.est, date(2016, 1, 1)), self.today - timedelta(days=3)
            )
            rep = ent.rep_at(granted)
            doc = f"{prefix}{ent.region}{granted.year}{self._doc_no():06d}"
            feed.write(
                {
                    "行政相对人名称": self._name(ent, 0.15, granted),
                    "行政相对人代码_1(统一社会信用代码)": self._uscc(ent.uscc, 0.1),
                    "法定代表人": rep.name,
                    "许可决定书文号": doc,
                    "许可内容": content,
                    "许可决定日期": self._date(granted, 0, blank=False),
                    "许可截止期": self._date(granted + timedelta(days=365 * 5 - 1), 0),
                    "许可机关": authority,
                    "公示日期": self._published(granted, doc, authority, 0),
                },
                {"subject": ent.uscc, "legal_representative": rep.pid},
            )

    def _abnormal(self, ents: list[_Ent], chunk_no: int) -> None:
        rng = self.rng
        feed = self.feeds["abnormal_operations"]
        for ent in _pick(rng, [e for e in ents if e.kind != "coop"], 0.06, 1):
            listed = _rand_date(
                rng,
                max(ent.est + timedelta(days=400), date(2018, 1, 1)),
                self.today - timedelta(days=5),
            )
            removed = None
            if rng.random() < 0.3 and listed < self.today - timedelta(days=40):
                removed = _rand_date(rng, listed + timedelta(days=30), self.today)
            uscc = self._uscc(ent.uscc, 0.1)
            if ent.show_legacy and rng.random() < 0.3:
                uscc = self._blank()
            feed.write(
                {
                    "企业名称": self._name(ent, 0.1, listed),
                    "统一社会信用代码": uscc,
                    "注册号": ent.reg_no if ent.show_legacy else self._blank(),
                    "列入经营异常名录原因": rng.choice(ABNORMAL_REASONS),
                    "列入日期": self._date(listed, 2, blank=False),
                    "作出决定机关(列入)": ent.registrar,
                    "移出经营异常名录原因": rng.choice(ABNORMAL_REMOVALS)
                    if removed
                    else self._blank(),
                    "移出日期": self._date(removed, 2),
                    "作出决定机关(移出)": ent.registrar if removed else self._blank(),
                },
                {"subject": ent.uscc},
            )
        if chunk_no == 0 or rng.random() < 0.3:
            victim = rng.choice(ents)
            record = feed.write(
                {
                    "企业名称": victim.name,
                    "统一社会信用代码": victim.uscc,
                    "列入经营异常名录原因": ABNORMAL_REASONS[0],
                    "列入日期": rng.choice(BROKEN_DATES),
                    "作出决定机关(列入)": victim.registrar,
                },
                {"subject": victim.uscc},
            )
            self._broken(record)

    def _serious(self, companies: list[_Ent]) -> None:
        rng = self.rng
        feed = self.feeds["serious_violations"]
        for ent in _pick(rng, companies, 0.02, 1 if companies else 0):
            listed = _rand_date(
                rng,
                max(ent.est + timedelta(days=365), date(2019, 1, 1)),
                self.today - timedelta(days=5),
            )
            rep = ent.rep_at(listed)
            removed = _rand_date(rng, listed, self.today) if rng.random() < 0.2 else None
            record = feed.write(
                {
                    "企业名称": self._name(ent, 0.1, listed),
                    "统一社会信用代码": self._uscc(ent.uscc, 0.08),
                    "法定代表人": rep.name,
                    "法定代表人证件号码": self._id(rep),
                    "列入事由": rng.choice(SERIOUS_REASONS),
                    "列入日期": self._date(listed, 3, blank=False),
                    "作出决定机关": "商丘市市场监督管理局",
                    "移出日期": self._date(removed, 3),
                },
                {"subject": ent.uscc, "legal_representative": rep.pid},
            )
            if rep is not ent.reps[-1][0]:
                self._expect(
                    "serious_violation_by_former_rep",
                    {
                        "record": record,
                        "subject": ent.uscc,
                        "legal_representative": rep.pid,
                        "current_legal_representative": ent.reps[-1][0].pid,
                        "listed": listed.isoformat(),
                    },
                )

    def _tax(self, companies: list[_Ent], chunk_no: int) -> None:
        rng = self.rng
        feed = self.feeds["tax_violations"]
        for ent in _pick(rng, companies, 0.02, 1 if companies else 0):
            published = _rand_date(
                rng,
                max(ent.est + timedelta(days=540), date(2019, 1, 1)),
                self.today - timedelta(days=5),
            )
            # The record names who held the posts when the violation happened.
            violated = published - timedelta(days=rng.randint(120, 500))
            rep = ent.rep_at(violated)
            fin = ent.finance_at(violated)
            assert fin is not None
            withdrawn = _rand_date(rng, published, self.today) if rng.random() < 0.2 else None
            shown_pub: Cell = published if rng.random() < 0.8 else self._date(published, 3)
            shown_wd: Cell = withdrawn if rng.random() < 0.8 else self._date(withdrawn, 3)
            record = feed.write(
                {
                    "纳税人名称": self._name(ent, 0.2, violated),
                    "统一社会信用代码": self._uscc(ent.uscc, 0.1),
                    "组织机构代码": f"{ent.org_code[:8]}-{ent.org_code[8]}",
                    "注册地址": ent.address,
                    "法定代表人或者负责人姓名": rep.name,
                    "法定代表人或者负责人证件号码": self._id(rep, 0.05),
                    "负有直接责任的财务负责人姓名": fin.name,
                    "负有直接责任的财务负责人证件号码": self._id(fin, 0.05),
                    "案件性质": rng.choice(TAX_CASES),
                    "主要违法事实": f"经国家税务总局商丘市税务局稽查局检查，"
                    f"发现其在{violated.year}年少缴增值税等税款{rng.randint(20, 900)}万元",
                    "相关法律依据及税务处理处罚情况": TAX_BASIS,
                    "公布日期": shown_pub,
                    "撤出日期": shown_wd,
                },
                {"subject": ent.uscc, "legal_representative": rep.pid, "finance_officer": fin.pid},
            )
            self._expect(
                "tax_violation",
                {
                    "record": record,
                    "subject": ent.uscc,
                    "legal_representative": rep.pid,
                    "finance_officer": fin.pid,
                    "published": published.isoformat(),
                },
            )
        if chunk_no == 0 and companies:
            victim = companies[0]
            record = feed.write(
                {
                    "纳税人名称": victim.name,
                    "统一社会信用代码": victim.uscc,
                    "公布日期": rng.choice(BROKEN_DATES),
                },
                {"subject": victim.uscc},
            )
            self._broken(record)

    def _red_list(
        self, ents: list[_Ent], penalties: list[tuple[_Ent | _Person, str, str, date, str]]
    ) -> None:
        rng = self.rng
        feed = self.feeds["red_list"]
        chosen: list[_Ent] = _pick(rng, [e for e in ents if e.kind != "branch"], 0.06, 1)
        # One commended enterprise that also has a penalty in force today, so
        # that red_list_suspension has something to suspend.
        punished: tuple[_Ent, str] | None = None
        for subject, doc, severity, decided, _ in penalties:
            in_force = severity == "严重" and decided > self.today - timedelta(days=900)
            if isinstance(subject, _Ent) and subject.kind != "branch" and in_force:
                punished = (subject, doc)
                self._unrepaired.add(doc)
                if all(c is not subject for c in chosen):
                    chosen.append(subject)
                break
        for ent in chosen:
            kind, authority = rng.choice(RED_LISTS)
            granted = _rand_date(
                rng, max(ent.est, date(2020, 1, 1)), self.today - timedelta(days=3)
            )
            record = feed.write(
                {
                    "主体名称": self._name(ent, 0.1),
                    "统一社会信用代码": self._uscc(ent.uscc, 0.05),
                    "证件号码": self._blank(),
                    "红名单类型": kind,
                    "认定机关": authority,
                    "认定日期": self._date(granted, 0, blank=False),
                    "有效期至": self._date(granted + timedelta(days=3 * 365), 0),
                },
                {"subject": ent.uscc},
            )
            if punished and ent is punished[0]:
                self._expect(
                    "red_list_also_penalised",
                    {"record": record, "subject": ent.uscc, "penalty": punished[1]},
                )

    def _repairs(self, penalties: list[tuple[_Ent | _Person, str, str, date, str]]) -> None:
        rng = self.rng
        feed = self.feeds["credit_repairs"]
        for subject, doc, severity, decided, agency in penalties:
            minimum = {"一般": 92, "严重": 366}.get(severity)
            if minimum is None or doc in self._unrepaired or rng.random() >= 0.3:
                continue
            earliest = decided + timedelta(days=minimum)
            if earliest >= self.today:
                continue
            repaired = _rand_date(rng, earliest, min(self.today, earliest + timedelta(days=300)))
            record = self._repair_row(feed, subject, doc, repaired, agency)
            self._expect(
                "repaired_penalty",
                {
                    "record": record,
                    "document": doc,
                    "subject": _key(subject),
                    "repaired": repaired.isoformat(),
                },
            )
        for key, name, case_no, court, published in self._court_repairs:
            repaired = _rand_date(rng, min(published + timedelta(days=90), self.today), self.today)
            feed.write(
                {
                    "主体名称": name,
                    "统一社会信用代码": self._blank(),
                    "证件号码": "",
                    "原决定文号": case_no,
                    "修复决定日期": self._date(repaired, 0, blank=False),
                    "修复机关": court,
                },
                {"subject": key},
            )
        self._court_repairs.clear()
        self._unrepaired.clear()

    def _repair_row(
        self, feed: _FeedFile, subject: _Ent | _Person, doc: str, repaired: date, agency: str
    ) -> str:
        if isinstance(subject, _Person):
            return feed.write(
                {
                    "主体名称": subject.name,
                    "证件号码": self._id(subject),
                    "统一社会信用代码": self._blank(),
                    "原决定文号": doc,
                    "修复决定日期": self._date(repaired, 0, blank=False),
                    "修复机关": agency,
                },
                {"subject": subject.pid},
            )
        return feed.write(
            {
                "主体名称": self._name(subject, 0.1),
                "统一社会信用代码": self._uscc(subject.uscc, 0.05),
                "证件号码": self._blank(),
                "原决定文号": doc,
                "修复决定日期": self._date(repaired, 0, blank=False),
                "修复机关": agency,
            },
            {"subject": subject.uscc},
        )


# ---------------------------------------------------------------------------
# Helpers


def _key(subject: _Ent | _Person) -> str:
    return subject.pid if isinstance(subject, _Person) else subject.uscc


def _rand_date(rng: random.Random, lo: date, hi: date) -> date:
    if hi <= lo:
        return lo
    return lo + timedelta(days=rng.randint(0, (hi - lo).days))


def _pick(rng: random.Random, items: Sequence[_T], rate: float, at_least: int = 0) -> list[_T]:
    """About ``rate`` of the items (stochastic rounding keeps the expected
    count exact at any scale), and never fewer than ``at_least``."""
    count = max(int(rate * len(items) + rng.random()), at_least)
    return rng.sample(list(items), min(count, len(items)))


def _split_100(rng: random.Random, n: int, total: int = 100) -> list[int]:
    if n <= 1:
        return [total] * n
    cuts = sorted(rng.sample(range(1, total), n - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _give_stake(rng: random.Random, ent: _Ent, owner: _OrgRef, percent: int) -> None:
    people = [h for h, _ in ent.holders if isinstance(h, _Person)]
    rest = 100 - percent
    people = people[: max(1, min(len(people), rest))]
    shares = _split_100(rng, len(people), rest)
    ent.holders = [(owner, percent), *zip(people, shares, strict=True)]
    held = dict((p.pid, s) for p, s in ent.holders if isinstance(p, _Person))
    if ent.controller is not None and held.get(ent.controller.pid, 0) < 30:
        ent.controller = None


def _strip_prefix(name: str) -> str:
    for prefix in _REGION_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix) + 4:
            return name[len(prefix) :]
    return name


def _name_variant(rng: random.Random, name: str, style: int) -> str:
    """One of the ways departments misspell a name; falls through to the next
    style when this one does not change the name."""
    for attempt in range(6):
        current = (style + attempt) % 6
        if current == 0:
            out = name.replace("（", "(").replace("）", ")")
        elif current == 1:
            out = _strip_prefix(name)
        elif current == 2:
            if "有限责任公司" in name:
                out = name.replace("有限责任公司", "有限公司", 1)
            elif "股份有限公司" in name:
                out = name
            else:
                out = name.replace("有限公司", "有限责任公司", 1)
        elif current == 3:
            out = name.translate(TRADITIONAL)
        elif current == 4:
            out = name + rng.choice((" ", "  ", "\u3000"))
        else:
            out = "河南省" + name if name.startswith(CITY_NAME) else name
        if out != name:
            return out
    return name + " "


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _uscc_variant(rng: random.Random, uscc: str, style: int) -> str:
    if style == 0:
        return uscc.lower()
    if style == 1:
        return rng.choice(
            (f"{uscc[:8]} {uscc[8:]}", f" {uscc} ", f"{uscc[:6]} {uscc[6:12]} {uscc[12:]}")
        )
    if style == 2:
        return f"{uscc[:8]}-{uscc[8:16]}-{uscc[16:]}"
    if style == 3:
        return _fullwidth(uscc)
    return uscc.lower() + " "


def _mistype(rng: random.Random, uscc: str) -> str:
    """One character of the first 17 changed. The weights are non-zero modulo
    the prime 31, so a single change always breaks the check character."""
    pos = rng.randrange(8, 17)
    wrong = rng.choice([c for c in USCC_ALPHABET if c != uscc[pos]])
    return uscc[:pos] + wrong + uscc[pos + 1 :]


def _fmt_date(d: date, style: int) -> str:
    if style == 0:
        return d.isoformat()
    if style == 1:
        return f"{d.year}/{d.month}/{d.day}"
    if style == 2:
        return f"{d:%Y%m%d}"
    return f"{d.year}年{d.month}月{d.day}日"


def _fmt_amount(rng: random.Random, value: float) -> str:
    roll = rng.random()
    if roll < 0.75:
        return f"{value:g}"
    if roll < 0.85:
        return f"{value:,g}(万元)"
    if roll < 0.93:
        return f"{value:g}万人民币"
    return f"{value:,g}万元"


# ---------------------------------------------------------------------------
# Entry points


def generate(
    out_dir: Path,
    enterprises: int = 200,
    seed: int = 7,
    today: date = date(2026, 11, 1),
) -> CityManifest:
    """Write the sample city's feeds and truth.json into ``out_dir``."""
    if enterprises < 1:
        raise InvalidInput("a sample city needs at least one enterprise", enterprises=enterprises)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    city = _City(out_dir, enterprises, seed, today)
    try:
        city.run()
        for feed in city.feeds.values():
            feed.close()
    except BaseException:
        city.truth.abort()
        raise
    meta = {
        "generator": "loaders.sample_city",
        "enterprises": enterprises,
        "seed": seed,
        "today": today.isoformat(),
        "files": {kind: feed.file_name for kind, feed in city.feeds.items()},
    }
    city.truth.finish(meta, city.expected)
    return CityManifest(
        out_dir=out_dir,
        enterprises=enterprises,
        seed=seed,
        files=[feed.path for feed in city.feeds.values()],
        rows={feed.file_name: feed.rows for feed in city.feeds.values()},
        truth=city.truth.path,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="creditlink sample-city",
        description="Write a fictional city's department feeds and truth.json.",
    )
    parser.add_argument("out", type=Path, help="directory to write the feeds into")
    parser.add_argument("--enterprises", type=int, default=200, help="number of enterprises")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=date(2026, 11, 1),
        help="the city's today, YYYY-MM-DD (default 2026-11-01)",
    )
    args = parser.parse_args(argv)
    if args.enterprises < 1:
        parser.error("--enterprises must be at least 1")
    manifest = generate(args.out, args.enterprises, args.seed, args.today)
    for path in manifest.files:
        print(f"{path.name}\t{manifest.rows[path.name]}")
    print(f"truth\t{manifest.truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
