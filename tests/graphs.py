"""Small graphs for the propagation and query tests, written straight into a store.

``city()`` is one graph with a case for every rule of rules.md and every
"not implicated" case, each on its own subjects so that tests can ask about
them one at a time. Ids say what each subject is for.
"""

from __future__ import annotations

from typing import Any

from graph.model import Listing, Mention, Relation, SourceRecord, Subject
from graph.store.base import Batch, GraphStore

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
