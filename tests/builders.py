# ruff: noqa: E501  (feed rows are kept one per line, as in the files they stand for)
"""The test data every package of tests builds from: identifiers with valid
check characters, graphs written straight into a store, feed files, and the
little cities the resolution and uncertain-evidence tests load. Built in code,
so that a test shows the very rows it is about."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.identifiers import (
    id_check_char,
    org_code_check_char,
    reg_no_check_digit,
    uscc_check_char,
)
from graph.lookup import get_subject
from graph.model import Listing, Mention, Relation, SourceRecord, Subject
from graph.store.base import Batch, GraphStore

# -- identifiers -----------------------------------------------------------------------


def make_uscc(region: str, body: str, head: str = "91") -> str:
    org = body + org_code_check_char(body)
    first17 = head + region + org
    return first17 + uscc_check_char(first17)


def make_id(region: str, birth: str, seq: str) -> str:
    first17 = region + birth + seq
    return first17 + id_check_char(first17)


def make_reg_no(region: str, seq: str) -> str:
    first14 = region + seq
    return first14 + reg_no_check_digit(first14)


def mistype(uscc: str) -> str:
    pos = 12
    wrong = "7" if uscc[pos] != "7" else "8"
    return uscc[:pos] + wrong + uscc[pos + 1 :]


@dataclass(frozen=True)
class Enterprises:
    """Enterprises numbered 0, 1, 2, … in 梁园区 (411403), each with a valid USCC.
    A test file takes its own ``series`` (the first two characters of the
    organisation code) and ``name``, so that its enterprises are not another
    file's."""

    series: str
    name: str = "商丘市测试"

    def uscc(self, i: int) -> str:
        return make_uscc("411403", f"{self.series}{i:06d}")

    def red_list(
        self, path: Path, numbers: range, authority: str = "税务局", codes: bool = True
    ) -> Path:
        """A red-list feed (纳税信用A级, 2023-05-01) of the enterprises ``numbers``;
        without ``codes`` only their names say who they are."""
        rows = ["主体名称,统一社会信用代码,红名单类型,认定机关,认定日期"]
        rows += [
            f"{self.name}{i}有限公司,{self.uscc(i) if codes else ''},纳税信用A级,{authority},2023-05-01"
            for i in numbers
        ]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        return path


# -- graphs written straight into a store ----------------------------------------------
# ``city()`` is one graph with a case for every rule of rules.md and every
# "not implicated" case, each on its own subjects so that tests can ask about
# them one at a time. Ids say what each subject is for.

AS_OF = "2024-06-01"


def org(sid: str, name: str, uscc: str | None = None) -> Subject:
    from graph.names import normalise_name

    return Subject(
        id=sid,
        type="organisation",
        name=name,
        names=[name],
        norm_names=[normalise_name(name)],
        keys=[f"uscc:{uscc}"] if uscc else [],
    )


def person(sid: str, name: str, id_number: str | None = None) -> Subject:
    return Subject(
        id=sid,
        type="person",
        name=name,
        names=[name],
        norm_names=[name],
        keys=[f"id_number:{id_number}"] if id_number else [],
    )


def rel(
    rtype: str,
    source: str,
    target: str,
    valid_from: str | None = "2015-01-01",
    valid_to: str | None = None,
    **props: Any,
) -> Relation:
    rid = f"R-{rtype}-{source}-{target}-{valid_from}"
    return Relation(
        id=rid,
        type=rtype,
        source=source,
        target=target,
        valid_from=valid_from,
        valid_to=valid_to,
        props=props,
        record_ids=[f"rec:{rid}"],
    )


def listing(
    lid: str,
    kind: str,
    subject: str,
    start: str,
    end: str | None = None,
    number: str | None = None,
    **props: Any,
) -> Listing:
    return Listing(
        id=lid,
        kind=kind,
        subject_id=subject,
        number=number,
        department="测试部门",
        start=start,
        end=end,
        props=props,
        record_ids=[f"{kind}:test.csv:{lid}"],
    )


def records_for(batch: Batch) -> list[SourceRecord]:
    """A source record behind every relation and listing, so hops can be checked."""
    out: list[SourceRecord] = []
    for r in batch.relations:
        out.append(_record(r.record_ids[0], r.type, [r.source, r.target]))
    for lst in batch.listings:
        out.append(_record(lst.record_ids[0], lst.kind, [lst.subject_id]))
    return out


def _record(rid: str, feed: str, subjects: list[str]) -> SourceRecord:
    return SourceRecord(
        id=rid,
        feed=feed,
        file="test.csv",
        row=1,
        loaded_at="2024-01-01T00:00:00+00:00",
        digest=rid,
        mentions=[Mention(s, "subject" if i == 0 else "party") for i, s in enumerate(subjects)],
    )


USCC_DEBTOR = "91411403MA9GKJ1F86"
ID_LR = "411425198001011231"


def city() -> Batch:
    subjects = [
        # dishonest_debtor: an organisation and everyone around it
        org("O-debtor", "商丘市甲建材有限公司", USCC_DEBTOR),
        person("P-lr", "王伟", ID_LR),
        person("P-old-lr", "李强"),
        person("P-principal", "张敏"),
        person("P-cfo", "刘洋"),
        person("P-supervisor", "陈静"),
        person("P-declared", "杨帆"),
        person("P-minor-holder", "赵磊"),
        org("O-holdco", "商丘市乙投资有限公司"),
        person("P-top", "黄勇"),
        org("O-branch", "商丘市甲建材有限公司睢阳分公司"),
        person("P-guarantor", "周杰"),
        person("P-old-guarantor", "吴刚"),
        # a listed branch does not implicate its head office
        org("O-head", "商丘市丙商贸有限公司"),
        org("O-branch-listed", "商丘市丙商贸有限公司梁园分公司"),
        # dishonest_debtor against a person: reference for their organisations
        person("P-debtor", "孙丽"),
        org("O-person-lr", "商丘市丁餐饮有限公司"),
        org("O-person-director", "商丘市戊物流有限公司"),
        org("O-person-former", "商丘市己科技有限公司"),
        org("O-person-holding", "商丘市庚置业有限公司"),
        # major_tax_violation
        org("O-tax", "商丘市辛化工有限公司"),
        person("P-tax-lr-then", "郑浩"),
        person("P-tax-lr-new", "冯雪"),
        person("P-tax-fo", "钱军"),
        # serious_violation_list
        org("O-serious", "商丘市壬食品有限公司"),
        person("P-sv-lr", "何平"),
        # severe_admin_penalty
        org("O-safety", "商丘市癸矿业有限公司"),
        person("P-safety-lr", "高峰"),
        org("O-env", "商丘市子环保有限公司"),
        person("P-env-lr", "林涛"),
        org("O-minor", "商丘市丑服装有限公司"),
        org("O-general", "商丘市寅电器有限公司"),
        # abnormal_operations
        org("O-abnormal", "商丘市卯贸易有限公司"),
        org("O-abnormal-removed", "商丘市辰贸易有限公司"),
        # loan_default_guarantee
        org("O-loan", "商丘市巳纺织有限公司"),
        org("O-guarantor-co", "商丘市午担保有限公司"),
        # red_list_suspension
        org("O-red", "商丘市未建设有限公司"),
        org("O-red-clean", "商丘市申建设有限公司"),
        # expired and repaired listings
        org("O-repaired", "商丘市酉机械有限公司"),
        person("P-repaired-lr", "马超"),
        org("O-expired", "商丘市戌机械有限公司"),
        person("P-expired-lr", "罗斌"),
        org("O-removed", "商丘市亥机械有限公司"),
    ]
    relations = [
        rel("legal_representative", "P-lr", "O-debtor", "2020-01-01"),
        rel("legal_representative", "P-old-lr", "O-debtor", "2015-01-01", "2020-01-01"),
        rel("officer", "P-principal", "O-debtor", "2019-01-01", title="主要负责人"),
        rel("officer", "P-cfo", "O-debtor", "2019-01-01", title="财务负责人"),
        rel("officer", "P-supervisor", "O-debtor", "2019-01-01", title="监事"),
        rel("actual_controller", "P-declared", "O-debtor", "2019-01-01", basis="declared"),
        rel("shareholder", "P-minor-holder", "O-debtor", "2019-01-01", share=0.2),
        rel("shareholder", "O-holdco", "O-debtor", "2019-01-01", share=0.7),
        rel("shareholder", "P-top", "O-holdco", "2019-01-01", share=0.8),
        rel("branch_of", "O-branch", "O-debtor", "2019-01-01"),
        rel("guarantees", "P-guarantor", "O-debtor", "2022-01-01", "2026-01-01", amount=300),
        rel("guarantees", "P-old-guarantor", "O-debtor", "2020-01-01", "2023-01-01", amount=100),
        rel("branch_of", "O-branch-listed", "O-head", "2019-01-01"),
        rel("legal_representative", "P-debtor", "O-person-lr", "2021-01-01"),
        rel("officer", "P-debtor", "O-person-director", "2021-01-01", title="董事"),
        rel("officer", "P-debtor", "O-person-former", "2016-01-01", "2020-01-01", title="监事"),
        rel("shareholder", "P-debtor", "O-person-holding", "2016-01-01", share=0.3),
        rel("legal_representative", "P-tax-lr-then", "O-tax", "2018-01-01", "2023-09-01"),
        rel("legal_representative", "P-tax-lr-new", "O-tax", "2023-09-01"),
        rel("legal_representative", "P-sv-lr", "O-serious", "2019-01-01", "2023-01-01"),
        rel("legal_representative", "P-safety-lr", "O-safety", "2018-01-01"),
        rel("legal_representative", "P-env-lr", "O-env", "2018-01-01"),
        rel("guarantees", "O-guarantor-co", "O-loan", "2023-01-01", "2025-01-01", amount=500),
        rel("legal_representative", "P-repaired-lr", "O-repaired", "2018-01-01"),
        rel("legal_representative", "P-expired-lr", "O-expired", "2018-01-01"),
    ]
    listings = [
        listing(
            "L-debtor", "dishonest_debtors", "O-debtor", "2023-03-01", number="(2023)豫14执123号"
        ),
        listing(
            "L-branch-listed",
            "dishonest_debtors",
            "O-branch-listed",
            "2023-03-01",
            number="(2023)豫14执124号",
        ),
        listing(
            "L-person", "dishonest_debtors", "P-debtor", "2023-05-01", number="(2023)豫14执200号"
        ),
        listing(
            "L-tax",
            "tax_violations",
            "O-tax",
            "2023-05-01",
            parties={"finance_officer": "P-tax-fo", "legal_representative": "P-tax-lr-then"},
            legal_representative_name="郑浩",
        ),
        listing("L-serious", "serious_violations", "O-serious", "2022-03-01"),
        listing(
            "L-safety",
            "admin_penalties",
            "O-safety",
            "2023-01-10",
            number="商应急罚〔2023〕7号",
            severity="严重",
            violation_type="安全生产",
        ),
        listing(
            "L-env",
            "admin_penalties",
            "O-env",
            "2023-01-10",
            number="商环罚〔2023〕9号",
            severity="严重",
            violation_type="环境保护",
        ),
        listing(
            "L-minor",
            "admin_penalties",
            "O-minor",
            "2024-05-01",
            number="商市监罚〔2024〕1号",
            severity="轻微",
        ),
        listing(
            "L-general",
            "admin_penalties",
            "O-general",
            "2024-01-01",
            number="商市监罚〔2024〕2号",
            severity="一般",
        ),
        listing("L-abnormal", "abnormal_operations", "O-abnormal", "2023-06-01"),
        listing(
            "L-abnormal-removed",
            "abnormal_operations",
            "O-abnormal-removed",
            "2022-06-01",
            end="2023-06-01",
        ),
        listing("L-loan", "loan_defaults", "O-loan", "2024-02-01"),
        listing(
            "L-red", "red_list", "O-red", "2023-01-01", end="2026-01-01", list_type="A级纳税人"
        ),
        listing(
            "L-red-penalty",
            "admin_penalties",
            "O-red",
            "2024-03-01",
            number="商税罚〔2024〕3号",
            severity="严重",
            violation_type="税务",
        ),
        listing(
            "L-red-clean",
            "red_list",
            "O-red-clean",
            "2023-01-01",
            end="2026-01-01",
            list_type="A级纳税人",
        ),
        listing(
            "L-repaired",
            "dishonest_debtors",
            "O-repaired",
            "2023-03-01",
            number="(2023)豫14执300号",
        ),
        listing(
            "L-repair", "credit_repairs", "O-repaired", "2024-01-15", number="(2023)豫14执300号"
        ),
        listing(
            "L-expired", "dishonest_debtors", "O-expired", "2021-01-01", number="(2021)豫14执9号"
        ),
        listing(
            "L-removed",
            "dishonest_debtors",
            "O-removed",
            "2023-01-01",
            end="2023-06-01",
            number="(2023)豫14执5号",
        ),
    ]
    batch = Batch(subjects=subjects, relations=relations, listings=listings)
    batch.records = records_for(batch)
    return batch


def load_city(store: GraphStore) -> Batch:
    batch = city()
    store.write(batch)
    return batch


def many(n: int, seed: int = 7) -> Batch:
    """``n`` organisations, each with a legal representative, some listed, some
    guaranteeing each other: the shape of a batch check (benchmarks/checks.py)."""
    import random

    rng = random.Random(seed)
    subjects: list[Subject] = []
    relations: list[Relation] = []
    listings: list[Listing] = []
    for i in range(n):
        oid, pid = f"O-{i:06d}", f"P-{i:06d}"
        subjects.append(org(oid, f"商丘市第{i}号测试有限公司", _uscc_like(i)))
        subjects.append(person(pid, f"测试人{i}"))
        relations.append(rel("legal_representative", pid, oid, "2018-01-01"))
        if i % 3 == 0:
            relations.append(
                rel("officer", f"P-{(i + 1) % n:06d}", oid, "2019-01-01", title="董事")
            )
        if i % 4 == 1:
            other = f"O-{rng.randrange(n):06d}"
            if other != oid:
                relations.append(rel("guarantees", oid, other, "2022-01-01", "2026-01-01"))
                relations.append(rel("shareholder", oid, other, "2019-01-01", share=0.6))
        if i % 10 == 0:
            listings.append(
                listing(
                    f"L-{i:06d}", "dishonest_debtors", oid, "2023-03-01", number=f"(2023)测执{i}号"
                )
            )
        if i % 25 == 0:
            listings.append(
                listing(
                    f"L-tax-{i:06d}",
                    "tax_violations",
                    oid,
                    "2023-05-01",
                    parties={"finance_officer": f"P-{(i + 2) % n:06d}"},
                )
            )
    return Batch(subjects=subjects, relations=relations, listings=listings)


def _uscc_like(i: int) -> str:
    # Only used as a search key in the benchmark; not a valid USCC on purpose.
    return f"TEST{i:014d}"


# -- feed files ------------------------------------------------------------------------


def write_csv(path: Path, header: Sequence[str], rows: list[list[str]], enc: str = "utf-8") -> Path:
    with path.open("w", encoding=enc, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    """A UTF-8 CSV of dict rows; the header is every column any row has."""
    header = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([[r.get(h, "") for h in header] for r in rows])
    return path


REGISTRY = [
    "企业名称", "统一社会信用代码", "注册号", "组织机构代码", "法定代表人", "法定代表人证件号码",
    "曾用名", "隶属企业名称", "隶属企业统一社会信用代码",
]  # fmt: skip


def reg(
    name: str, uscc: str, lr: str, lr_id: str, approved: str, data_date: str, **more: str
) -> dict[str, str]:
    return {"企业名称": name, "统一社会信用代码": uscc, "法定代表人": lr, "法定代表人证件号码": lr_id,
            "核准日期": approved, "数据日期": data_date, **more}  # fmt: skip


PENALTY = [
    "行政相对人名称", "行政相对人类别", "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2(工商注册号)", "行政相对人代码_3(组织机构代码)", "法定代表人", "证件类型",
    "证件号码", "行政处罚决定书文号", "处罚决定日期", "处罚机关", "失信严重程度",
]  # fmt: skip
ORG = "法人及非法人组织"


def penalty(name: str, uscc: str = "", reg: str = "", org: str = "", lr: str = "",
            idn: str = "", cat: str = ORG, n: int = 0) -> list[str]:  # fmt: skip
    return [name, cat, uscc, reg, org, lr, "身份证" if idn else "", idn,
            f"商市监罚〔2025〕{n}号", "2025-03-0" + str(1 + n % 9), "商丘市市场监督管理局", "一般"]  # fmt: skip


DISHONEST = [
    "案号",
    "被执行人姓名/名称",
    "身份证号码/组织机构代码",
    "法定代表人或者负责人姓名",
    "执行法院",
    "立案时间",
]


# -- the little city of the resolution tests -------------------------------------------
# 汇晨 is pre-reform (注册号, 组织机构代码 shown).
A = make_uscc("411400", "MA45HC01")
A_REG = make_reg_no("411400", "00000012345678"[:8])
B = make_uscc("411481", "MA46HD02")
H = make_uscc("411400", "MA47HY03")
HB = make_uscc("411422", "MA48HY04")
HB2 = make_uscc("411422", "MA49HY05")
X1 = make_uscc("411481", "MA50LM06")
X2 = make_uscc("411426", "MA51LM07")
ZHANG = make_id("411403", "19800101", "123")
WANG1 = make_id("411425", "19750505", "111")
WANG2 = make_id("411402", "19820303", "222")
LI = make_id("411421", "19700707", "333")


def registry_rows() -> list[list[str]]:
    return [
        ["商丘市汇晨商贸有限责任公司", A, A_REG, f"{A[8:16]}-{A[16]}", "张三", ZHANG, "", "", ""],
        ["永城市恒达建材有限公司", B, "", "", "王伟", WANG1, "永城市恒达水泥有限公司", "", ""],
        ["商丘市宏远机械有限公司", H, "", "", "李四", LI, "", "", ""],
        ["商丘市宏远机械有限公司睢县分公司", HB, "", "", "李四", LI, "", "商丘市宏远机械有限公司", H],
        ["商丘市宏远机械有限公司睢县第二分公司", HB2, "", "", "李四", LI, "", "商丘市宏远机械有限公司", H],
        # Namesake enterprises: one 字号, two counties.
        ["永城市利民食品有限公司", X1, "", "", "王伟", WANG2, "", "", ""],
        ["夏邑县利民食品有限公司", X2, "", "", "赵六", make_id("411426", "19690909", "444"), "", "", ""],
    ]  # fmt: skip


# -- the little city of the uncertain-evidence tests -----------------------------------
O1 = make_uscc("411403", "MA61XY01")
O2 = make_uscc("411422", "MA62HD02")  # 宏达
O3 = make_uscc("411400", "MA63JT03")  # 金泰 head office
O3B = make_uscc("411422", "MA64JT04")  # 金泰 睢县分公司
JIA = make_id("411403", "19700101", "111")
YI = make_id("411403", "19800202", "222")
BING = make_id("411403", "19900303", "333")
DING = make_id("411422", "19620808", "444")
ZHOU = make_id("411425", "19850505", "555")


# -- what a load made of it ------------------------------------------------------------


def mention(store: GraphStore, rid: str, role: str = "subject") -> tuple[str, dict[str, Any]]:
    rec = store.get_records([rid])[rid]
    m = next(m for m in rec.mentions if m.role == role)
    return store.resolve_ids([m.subject_id]).get(m.subject_id, m.subject_id), m.match


def sid(store: GraphStore, key: str) -> str:
    return get_subject(store, key).id


# -- workbooks ------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>主体名称</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>统一社会信用代码</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>红名单类型</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>甲公司</t></is></c>'
    '<c r="C2" t="inlineStr"><is><t>纳税信用A级</t></is></c></row>'
)


def workbook(rows: str, dimension: str | None = None, prolog: str = "") -> bytes:
    """A minimal XLSX package around one sheet's <sheetData> rows."""
    import io
    import zipfile

    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{rows}</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


FAR = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
# The package from the issue: a header, and one cell in Excel's last row and column.
FAR_CELL = workbook(HEADER_ROW + FAR)
