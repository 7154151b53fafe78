"""The GraphStore contract: the same writes give the same answers in both stores.

Every test taking ``store`` runs twice (tests/conftest.py): on the embedded
networkx store and on the real Neo4j server. The embedded-only tests at the end
cover what only that store has: its snapshot and journal on disk.

Identifiers are realistic: the USCC and ID numbers carry correct check
characters (GB 32100-2015, GB 11643-1999), the organisation code is characters
9-17 of the USCC, and the registration number is a 15-digit GS15-2006 number.
"""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import QueryTimeout, StoreUnavailable
from graph.model import Listing, Mention, Relation, SourceRecord, Subject
from graph.store.base import Batch, GraphStore
from graph.store.embedded import JOURNAL, JOURNAL_MAGIC, RECORDS, EmbeddedStore
from tests.live import kill_when_acknowledged
from tests.stores import NEO4J_PASSWORD, NEO4J_URI, crash, open_neo4j

ORG = "organisation"
PERSON = "person"

USCC_A = "91411403MA45CR7P1U"  # 商丘华通建材有限公司
USCC_B = "91410100MA3X5K2L6T"  # 郑州恒达贸易有限公司
USCC_C = "92411400MA40BG6W3D"  # 个体工商户
ORG_CODE_A = USCC_A[8:17]
REG_NO_A = "411403000012345"
ID_ZHANG = "411403198503122013"
ID_LI = "11010519491231002X"
ID_LI_MASKED = "110105********002X"


def subject(sid: str, stype: str, name: str, keys: tuple[str, ...], attrs: Any) -> Subject:
    # An empty name is "no new name" in an upsert: it adds nothing to the lists.
    names = [name] if name else []
    return Subject(
        id=sid,
        type=stype,
        name=name,
        names=names,
        norm_names=list(names),
        keys=list(keys),
        attrs=dict(attrs),
    )


def org(sid: str, name: str, *keys: str, **attrs: Any) -> Subject:
    return subject(sid, ORG, name, keys, attrs)


def person(sid: str, name: str, *keys: str, **attrs: Any) -> Subject:
    return subject(sid, PERSON, name, keys, attrs)


def rel(
    rid: str,
    rtype: str,
    source: str,
    target: str,
    *record_ids: str,
    valid_from: str | None = None,
    valid_to: str | None = None,
    **props: Any,
) -> Relation:
    return Relation(
        id=rid,
        type=rtype,
        source=source,
        target=target,
        valid_from=valid_from,
        valid_to=valid_to,
        props=props,
        record_ids=list(record_ids),
    )


def record(rid: str, *mentions: tuple[str, str], version: int = 1, **values: Any) -> SourceRecord:
    return SourceRecord(
        id=rid,
        feed="enterprise_registry",
        file="registry-2024-06.csv",
        row=int("".join(c for c in rid if c.isdigit()) or 2),
        loaded_at="2024-06-30T10:00:00+08:00",
        digest="sha256:" + rid,
        values=values or {"企业名称": "商丘华通建材有限公司"},
        cleaned={"name": "商丘华通建材有限公司", "nested": {"a": [1, 2.5, None, "x"]}},
        warnings=["注册资本 has a thousands separator"],
        mentions=[Mention(sid, role, {"rule": "uscc", "score": 1.0}) for sid, role in mentions],
        version=version,
    )


def base_graph(store: GraphStore) -> None:
    """Two companies, two people, a shareholding and a guarantee, two records."""
    store.write(
        Batch(
            subjects=[
                org("S-A", "商丘华通建材有限公司", f"uscc:{USCC_A}", f"org_code:{ORG_CODE_A}"),
                org("S-B", "郑州恒达贸易有限公司", f"uscc:{USCC_B}"),
                person("P-Z", "张三", f"id_number:{ID_ZHANG}"),
                person("P-L", "李四", f"id_number:{ID_LI}", f"id_masked:{ID_LI_MASKED}"),
            ],
            relations=[
                rel("R-1", "legal_representative", "P-Z", "S-A", "rec-1", valid_from="2018-05-31"),
                rel("R-2", "shareholder", "P-Z", "S-A", "rec-1", share=0.6),
                rel("R-3", "guarantees", "S-A", "S-B", "rec-2", amount=5_000_000),
                rel("R-4", "shareholder", "P-L", "S-B", "rec-2", share=1.0),
            ],
            records=[
                record("rec-1", ("S-A", "subject"), ("P-Z", "legal_representative")),
                record("rec-2", ("S-A", "guarantor"), ("S-B", "borrower"), ("P-L", "holder")),
            ],
        )
    )


def dump(store: GraphStore) -> dict[str, Any]:
    """Everything a reader can see, as plain data (for before/after comparisons)."""
    subjects = [s.to_dict() for s in store.iter_subjects()]
    ids = [s["id"] for s in subjects]
    records: dict[str, Any] = {}
    for sid in ids:
        for r in store.records_of(sid):
            records[r.id] = r.to_dict()
    keys = sorted({k for s in subjects for k in s["keys"]})
    return {
        "subjects": subjects,
        "relations": [r.to_dict() for r in store.iter_relations()],
        "listings": [x.to_dict() for x in store.iter_listings()],
        "records": records,
        "keys": store.find_by_keys(keys),
        "counts": store.counts(),
        "docs": store.list_docs("judgements"),
    }


# -- subjects and keys ----------------------------------------------------------


def test_subject_upsert_unions_keys_and_names_and_updates_attrs(store: GraphStore) -> None:
    first = org("S-A", "商丘华通建材有限公司", f"uscc:{USCC_A}", capital=430, city="商丘")
    first.names.append("华通建材")
    first.norm_names.append("华通建材")
    first.status = "存续"
    store.write(Batch(subjects=[first]))
    again = Subject(
        id="S-A",
        type="",  # empty values never erase what is stored
        name="",
        names=["商丘華通建材有限公司", "华通建材"],
        norm_names=["华通建材", "商丘华通建材"],
        keys=[f"reg_no:{REG_NO_A}", f"uscc:{USCC_A}"],
        status=None,
        attrs={"capital": 500, "founded": "2018-05-31"},
    )
    store.write(Batch(subjects=[again]))
    got = store.get_subjects(["S-A", "S-missing"])
    assert list(got) == ["S-A"]
    s = got["S-A"]
    assert s.type == ORG
    assert s.name == "商丘华通建材有限公司"
    assert s.status == "存续"
    assert s.names == ["商丘华通建材有限公司", "华通建材", "商丘華通建材有限公司"]
    assert s.norm_names == ["商丘华通建材有限公司", "华通建材", "商丘华通建材"]
    assert s.keys == [f"uscc:{USCC_A}", f"reg_no:{REG_NO_A}"]
    assert s.attrs == {"capital": 500, "city": "商丘", "founded": "2018-05-31"}

    renamed = Subject(id="S-A", type=ORG, name="商丘华通新材料有限公司", status="注销")
    store.write(Batch(subjects=[renamed]))
    s = store.get_subjects(["S-A"])["S-A"]
    assert (s.name, s.status) == ("商丘华通新材料有限公司", "注销")
    assert s.keys == [f"uscc:{USCC_A}", f"reg_no:{REG_NO_A}"]


def test_duplicates_inside_one_subject_and_within_one_batch(store: GraphStore) -> None:
    dup = Subject(
        id="S-A",
        type=ORG,
        name="甲",
        names=["甲", "甲", "乙"],
        norm_names=["甲", "甲"],
        keys=[f"uscc:{USCC_A}", f"uscc:{USCC_A}"],
    )
    later = Subject(id="S-A", type=ORG, names=["丙"], keys=[f"reg_no:{REG_NO_A}"], attrs={"x": 1})
    store.write(Batch(subjects=[dup, later]))
    s = store.get_subjects(["S-A"])["S-A"]
    assert s.names == ["甲", "乙", "丙"]
    assert s.norm_names == ["甲"]
    assert s.keys == [f"uscc:{USCC_A}", f"reg_no:{REG_NO_A}"]
    assert s.attrs == {"x": 1}


def test_lookup_by_every_key_kind(store: GraphStore) -> None:
    base_graph(store)
    store.write(Batch(subjects=[org("S-A", "", f"reg_no:{REG_NO_A}")]))
    expected = {
        f"uscc:{USCC_A}": ["S-A"],
        f"org_code:{ORG_CODE_A}": ["S-A"],
        f"reg_no:{REG_NO_A}": ["S-A"],
        f"id_number:{ID_ZHANG}": ["P-Z"],
        f"id_masked:{ID_LI_MASKED}": ["P-L"],
    }
    for key, ids in expected.items():
        assert store.find_by_keys([key]) == {key: ids}
    # The kind is part of the key: the same value under another kind is not found.
    assert store.find_by_keys([f"reg_no:{USCC_A}", f"uscc:{ID_ZHANG}"]) == {}
    assert store.find_by_keys([]) == {}


def test_find_by_keys_several_at_once_and_shared_key(store: GraphStore) -> None:
    base_graph(store)
    # Two branches registered under one old organisation code: the key is shared.
    store.write(
        Batch(
            subjects=[
                org("S-C", "个体工商户王五", f"uscc:{USCC_C}", f"org_code:{ORG_CODE_A}"),
            ]
        )
    )
    found = store.find_by_keys(
        [f"org_code:{ORG_CODE_A}", f"uscc:{USCC_B}", "uscc:91000000000000000X", f"uscc:{USCC_C}"]
    )
    assert found == {
        f"org_code:{ORG_CODE_A}": ["S-A", "S-C"],
        f"uscc:{USCC_B}": ["S-B"],
        f"uscc:{USCC_C}": ["S-C"],
    }


# -- relations ------------------------------------------------------------------


def test_relation_upsert_is_idempotent_and_unions_record_ids(store: GraphStore) -> None:
    base_graph(store)
    before = store.get_relations(["R-2"])["R-2"]
    store.write(Batch(relations=[rel("R-2", "shareholder", "P-Z", "S-A", "rec-1", share=0.6)]))
    assert store.get_relations(["R-2"])["R-2"] == before
    assert store.counts()["relations"] == 4

    changed = rel("R-2", "shareholder", "P-Z", "S-A", "rec-9", "rec-1", share=0.4)
    changed.valid_from = "2020-01-01"
    store.write(Batch(relations=[changed]))
    got = store.get_relations(["R-2"])["R-2"]
    assert got.record_ids == ["rec-1", "rec-9"]
    assert got.props == {"share": 0.4}
    assert got.valid_from == "2020-01-01"
    assert store.counts()["relations"] == 4

    # Replacing the fields includes the ends: the relation moves.
    store.write(Batch(relations=[rel("R-2", "shareholder", "P-L", "S-A", "rec-3")]))
    got = store.get_relations(["R-2"])["R-2"]
    assert (got.source, got.target) == ("P-L", "S-A")
    assert got.record_ids == ["rec-1", "rec-9", "rec-3"]
    assert got.props == {} and got.valid_from is None
    assert [r.id for r in store.relations_of(["P-Z"])] == ["R-1"]


def test_relation_duplicated_within_a_batch(store: GraphStore) -> None:
    base_graph(store)
    store.write(
        Batch(
            relations=[
                rel("R-9", "officer", "P-Z", "S-B", "rec-1", title="监事"),
                rel("R-9", "officer", "P-Z", "S-B", "rec-2", title="经理"),
            ]
        )
    )
    got = store.get_relations(["R-9"])["R-9"]
    assert got.record_ids == ["rec-1", "rec-2"]
    assert got.props == {"title": "经理"}


def test_relations_of_by_type_and_direction(store: GraphStore) -> None:
    base_graph(store)

    def ids(*args: Any, **kwargs: Any) -> list[str]:
        return [r.id for r in store.relations_of(*args, **kwargs)]

    assert ids(["S-A"]) == ["R-1", "R-2", "R-3"]
    assert ids(["S-A"], direction="out") == ["R-3"]
    assert ids(["S-A"], direction="in") == ["R-1", "R-2"]
    assert ids(["S-A"], types=["shareholder"]) == ["R-2"]
    assert ids(["S-A"], types=["shareholder", "guarantees"], direction="in") == ["R-2"]
    assert ids(["S-A"], types=[]) == []
    # Several subjects in one call; a relation between two of them appears once.
    assert ids(["S-A", "S-B", "S-missing"]) == ["R-1", "R-2", "R-3", "R-4"]
    assert ids(["S-B", "P-L"], direction="out") == ["R-4"]
    assert ids([]) == []
    rels = store.relations_of(["S-B"], types=["guarantees"])
    assert [(r.source, r.target, r.props, r.record_ids) for r in rels] == [
        ("S-A", "S-B", {"amount": 5_000_000}, ["rec-2"])
    ]


def test_relations_of_as_of(store: GraphStore) -> None:
    base_graph(store)
    store.write(
        Batch(
            relations=[
                rel(
                    "R-5",
                    "officer",
                    "P-L",
                    "S-A",
                    "rec-2",
                    valid_from="2019-03-01",
                    valid_to="2021-07-01",
                    title="监事",
                ),
                rel("R-6", "officer", "P-Z", "S-A", "rec-1", valid_to="2019-03-01"),
            ]
        )
    )

    def active(as_of: str | None) -> list[str]:
        return [r.id for r in store.relations_of(["S-A"], types=["officer"], as_of=as_of)]

    assert active(None) == ["R-5", "R-6"]
    assert active("2019-02-28") == ["R-6"]  # before valid_from
    assert active("2019-03-01") == ["R-5"]  # on valid_from: holds; R-6's valid_to: gone
    assert active("2021-06-30") == ["R-5"]
    assert active("2021-07-01") == []  # valid_to is the first day it no longer holds
    # Open-ended: valid_from only (R-1), no dates at all (R-2).
    all_in = [r.id for r in store.relations_of(["S-A"], as_of="2030-01-01", direction="in")]
    assert all_in == ["R-1", "R-2"]
    assert [r.id for r in store.relations_of(["S-A"], as_of="2018-05-30")] == ["R-2", "R-3", "R-6"]


def test_get_relations_and_delete(store: GraphStore) -> None:
    base_graph(store)
    got = store.get_relations(["R-3", "R-missing", "R-1"])
    assert sorted(got) == ["R-1", "R-3"]
    assert got["R-1"] == rel(
        "R-1", "legal_representative", "P-Z", "S-A", "rec-1", valid_from="2018-05-31"
    )
    store.write(Batch(delete_relations=["R-3", "R-missing"]))
    assert store.get_relations(["R-3"]) == {}
    assert [r.id for r in store.relations_of(["S-B"])] == ["R-4"]
    # Deleted and re-created in one batch: a fresh relation, old record ids gone.
    store.write(
        Batch(delete_relations=["R-4"], relations=[rel("R-4", "shareholder", "P-L", "S-B", "x")])
    )
    assert store.get_relations(["R-4"])["R-4"].record_ids == ["x"]
    assert store.counts()["relations"] == 3


def test_relation_time_evidence_round_trips(store: GraphStore) -> None:
    """What sources say of a relation's time (snapshot sightings, a stated
    interval) comes back as written, and the role reader gives the same
    answer on both stores."""
    from graph.evidence.roles import RoleBook

    base_graph(store)
    seen = [
        {"on": "2022-12-31", "since": "2019-01-01", "record": "registry:r22.csv:1"},
        {"on": "2024-05-31", "since": None, "record": "registry:r24.csv:1"},
    ]
    store.write(
        Batch(
            relations=[
                rel(
                    "R-8",
                    "legal_representative",
                    "P-L",
                    "S-B",
                    "registry:r22.csv:1",
                    "registry:r24.csv:1",
                    seen=seen,
                ),
                rel(
                    "R-9",
                    "officer",
                    "P-Z",
                    "S-B",
                    "officers:o.csv:1",
                    title="经理",
                    held={"from": "2020-01-01", "to": "2021-01-01"},
                ),
            ]
        )
    )
    got = store.get_relations(["R-8", "R-9"])
    assert got["R-8"].props["seen"] == seen
    assert got["R-9"].props["held"] == {"from": "2020-01-01", "to": "2021-01-01"}
    book = RoleBook(store.relations_of(["S-B"], ["legal_representative", "officer"], None, "in"))
    assert book.read("legal_representative", "P-L", "S-B", "2018-12-31").state == "unknown"
    assert book.read("legal_representative", "P-L", "S-B", "2019-01-01").state == "known"
    assert book.read("officer", "P-Z", "S-B", "2021-01-01").state == "not_holding"


def test_self_loop_relation(store: GraphStore) -> None:
    base_graph(store)
    store.write(Batch(relations=[rel("R-7", "guarantees", "S-A", "S-A", "rec-2")]))
    assert [r.id for r in store.relations_of(["S-A"], types=["guarantees"])] == ["R-3", "R-7"]
    assert [r.id for r in store.relations_of(["S-A"], direction="in")] == ["R-1", "R-2", "R-7"]


# -- listings -------------------------------------------------------------------


def listings_batch() -> Batch:
    return Batch(
        listings=[
            Listing(
                id="L-1",
                kind="dishonest_debtors",
                subject_id="S-A",
                number="(2023)豫1403执1234号",
                department="睢阳区人民法院",
                start="2023-04-01",
                props={"amount": 120000.5, "detail": {"执行依据": "民事判决"}},
                record_ids=["rec-1"],
            ),
            Listing(
                id="L-2",
                kind="admin_penalties",
                subject_id="S-A",
                number="商市监罚〔2022〕88号",
                start="2022-08-08",
                end="2025-08-08",
                record_ids=["rec-2"],
            ),
            Listing(id="L-3", kind="abnormal_operations", subject_id="S-B", record_ids=["rec-2"]),
            Listing(
                id="L-4",
                kind="admin_penalties",
                subject_id="P-Z",
                number="商市监罚〔2022〕88号",
                record_ids=["rec-1"],
            ),
        ]
    )


def test_listings_by_subject_kind_and_number(store: GraphStore) -> None:
    base_graph(store)
    store.write(listings_batch())
    assert [x.id for x in store.listings_of(["S-A"])] == ["L-1", "L-2"]
    assert [x.id for x in store.listings_of(["S-B", "P-Z", "S-A"])] == ["L-1", "L-2", "L-3", "L-4"]
    assert [x.id for x in store.listings_of(["S-A", "P-Z"], kinds=["admin_penalties"])] == [
        "L-2",
        "L-4",
    ]
    assert store.listings_of(["S-A"], kinds=[]) == []
    assert store.listings_of([]) == []
    assert [x.id for x in store.listings_by_number(["商市监罚〔2022〕88号"])] == ["L-2", "L-4"]
    by_num = store.listings_by_number(
        ["(2023)豫1403执1234号", "无此文号"], kinds=["dishonest_debtors"]
    )
    assert [x.to_dict() for x in by_num] == [listings_batch().listings[0].to_dict()]
    assert store.listings_by_number([""]) == []
    got = store.get_listings(["L-3", "L-missing"])
    assert list(got) == ["L-3"]
    assert got["L-3"].number is None and got["L-3"].props == {}


def test_listing_upsert_replaces_fields_unions_record_ids_and_deletes(store: GraphStore) -> None:
    base_graph(store)
    store.write(listings_batch())
    moved = Listing(
        id="L-2",
        kind="admin_penalties",
        subject_id="S-B",
        number="商市监罚〔2022〕99号",
        record_ids=["rec-3", "rec-2"],
    )
    store.write(Batch(listings=[moved]))
    got = store.get_listings(["L-2"])["L-2"]
    assert got.subject_id == "S-B"
    assert got.record_ids == ["rec-2", "rec-3"]
    assert (got.start, got.end, got.department) == (None, None, None)
    assert [x.id for x in store.listings_of(["S-A"])] == ["L-1"]
    assert [x.id for x in store.listings_of(["S-B"])] == ["L-2", "L-3"]
    assert [x.id for x in store.listings_by_number(["商市监罚〔2022〕88号"])] == ["L-4"]
    assert [x.id for x in store.listings_by_number(["商市监罚〔2022〕99号"])] == ["L-2"]
    store.write(Batch(delete_listings=["L-1", "L-missing"]))
    assert store.get_listings(["L-1"]) == {}
    assert store.listings_by_number(["(2023)豫1403执1234号"]) == []
    assert store.counts()["listings"] == 3


def parties_batch() -> Batch:
    """Listings naming parties besides the listed subject (props["parties"])."""
    return Batch(
        listings=[
            Listing(
                id="L-P1",
                kind="tax_violations",
                subject_id="S-A",
                props={"parties": {"finance_officer": "P-L", "legal_representative": "P-Z"}},
                record_ids=["rec-1"],
            ),
            Listing(
                id="L-P2",
                kind="admin_penalties",
                subject_id="S-B",
                props={"parties": {"legal_representative": "P-Z"}},
                record_ids=["rec-2"],
            ),
            Listing(id="L-P3", kind="tax_violations", subject_id="S-B", record_ids=["rec-2"]),
        ]
    )


def naming(store: GraphStore, ids: list[str], kinds: list[str] | None = None) -> list[str]:
    return [x.id for x in store.listings_naming(ids, kinds)]


def test_listings_naming_parties(store: GraphStore) -> None:
    base_graph(store)
    store.write(parties_batch())
    assert naming(store, ["P-Z"]) == ["L-P1", "L-P2"]
    assert naming(store, ["P-L"]) == ["L-P1"]
    assert naming(store, ["P-L", "P-Z", "S-A"]) == ["L-P1", "L-P2"]  # once each, by id
    assert naming(store, ["S-A", "S-B"]) == []  # the listed subject is not a named party
    assert naming(store, ["P-Z"], ["tax_violations"]) == ["L-P1"]
    assert naming(store, ["P-Z"], []) == []
    assert naming(store, []) == []
    got = store.listings_naming(["P-L"])[0]
    assert got.to_dict() == store.get_listings(["L-P1"])["L-P1"].to_dict()


def test_listings_naming_follows_upsert_and_delete(store: GraphStore) -> None:
    base_graph(store)
    store.write(parties_batch())
    changed = Listing(
        id="L-P1",
        kind="tax_violations",
        subject_id="S-A",
        props={"parties": {"finance_officer": "P-Z"}},
    )
    store.write(Batch(listings=[changed]))
    assert naming(store, ["P-L"]) == []  # the old party no longer finds it
    assert naming(store, ["P-Z"]) == ["L-P1", "L-P2"]
    store.write(Batch(listings=[Listing(id="L-P1", kind="tax_violations", subject_id="S-A")]))
    assert naming(store, ["P-Z"]) == ["L-P2"]
    store.write(Batch(delete_listings=["L-P2"]))
    assert naming(store, ["P-Z"]) == []
    # deleted and re-created in one batch: named again
    store.write(Batch(delete_listings=["L-P1"], listings=[changed]))
    assert naming(store, ["P-Z"]) == ["L-P1"]


def test_listing_naming_unknown_party_raises(store: GraphStore) -> None:
    base_graph(store)
    before = dump(store)
    bad = Listing(
        id="L-X", kind="tax_violations", subject_id="S-A", props={"parties": {"x": "P-nobody"}}
    )
    with pytest.raises(ValueError, match="P-nobody"):
        store.write(Batch(listings=[bad]))
    assert dump(store) == before
    # a party created in the same batch is known
    store.write(
        Batch(
            subjects=[person("P-new", "王五")],
            listings=[
                Listing(
                    id="L-X",
                    kind="tax_violations",
                    subject_id="S-A",
                    props={"parties": {"x": "P-new"}},
                )
            ],
        )
    )
    assert naming(store, ["P-new"]) == ["L-X"]


def test_merge_moves_named_parties_to_survivor(store: GraphStore) -> None:
    base_graph(store)
    store.write(Batch(subjects=[person("P-Z2", "张三"), person("P-Z3", "张三")]))
    store.write(parties_batch())
    store.write(
        Batch(
            listings=[
                Listing(
                    id="L-P4",
                    kind="tax_violations",
                    subject_id="P-Z2",
                    props={"parties": {"finance_officer": "P-Z2", "legal_representative": "P-Z3"}},
                )
            ]
        )
    )
    store.merge_subjects("P-Z2", "P-Z")
    assert naming(store, ["P-Z"]) == []
    assert naming(store, ["P-Z2"]) == ["L-P1", "L-P2", "L-P4"]
    got = store.get_listings(["L-P1", "L-P2"])
    assert got["L-P1"].props["parties"] == {
        "finance_officer": "P-L",
        "legal_representative": "P-Z2",
    }
    assert got["L-P2"].props["parties"] == {"legal_representative": "P-Z2"}
    # the listed subject and a party merged at once
    store.merge_subjects("P-Z3", "P-Z2")
    assert naming(store, ["P-Z3"]) == ["L-P1", "L-P2", "L-P4"]
    p4 = store.get_listings(["L-P4"])["L-P4"]
    assert p4.subject_id == "P-Z3"
    assert p4.props["parties"] == {"finance_officer": "P-Z3", "legal_representative": "P-Z3"}
    assert naming(store, ["P-Z3"], ["admin_penalties"]) == ["L-P2"]


def test_move_mentions_moves_named_parties(store: GraphStore) -> None:
    base_graph(store)
    store.write(
        Batch(
            records=[
                record("rec-7", ("S-B", "subject"), ("P-Z", "legal_representative")),
                record("rec-8", ("S-B", "subject"), ("P-Z", "legal_representative")),
            ],
            listings=[
                Listing(
                    id="L-70",
                    kind="tax_violations",
                    subject_id="S-B",
                    props={"parties": {"legal_representative": "P-Z"}},
                    record_ids=["rec-7"],
                ),
                Listing(
                    id="L-71",
                    kind="tax_violations",
                    subject_id="S-B",
                    props={"parties": {"legal_representative": "P-Z"}},
                    record_ids=["rec-7", "rec-8"],  # rec-8 stays: so does the party
                ),
            ],
        )
    )
    store.move_mentions([("rec-7", "legal_representative")], "P-Z", person("P-Z2", "张三"))
    assert naming(store, ["P-Z2"]) == ["L-70"]
    assert naming(store, ["P-Z"]) == ["L-71"]
    assert store.get_listings(["L-70"])["L-70"].props["parties"] == {"legal_representative": "P-Z2"}


# -- records --------------------------------------------------------------------


def test_records_and_records_of(store: GraphStore) -> None:
    base_graph(store)
    got = store.get_records(["rec-2", "rec-missing"])
    assert list(got) == ["rec-2"]
    assert got["rec-2"] == record(
        "rec-2", ("S-A", "guarantor"), ("S-B", "borrower"), ("P-L", "holder")
    )
    assert [r.id for r in store.records_of("S-A")] == ["rec-1", "rec-2"]
    assert [r.id for r in store.records_of("P-L")] == ["rec-2"]
    assert store.records_of("S-missing") == []
    # A record naming one subject in two roles is listed once.
    store.write(Batch(records=[record("rec-3", ("S-B", "party"), ("S-B", "payee"))]))
    assert [r.id for r in store.records_of("S-B")] == ["rec-2", "rec-3"]


def test_record_replaced_by_new_version(store: GraphStore) -> None:
    base_graph(store)
    v2 = record("rec-2", ("S-B", "borrower"), version=2, 企业名称="郑州恒达贸易有限公司")
    v2.warnings = []
    store.write(Batch(records=[v2]))
    assert store.get_records(["rec-2"])["rec-2"] == v2
    assert [r.id for r in store.records_of("S-A")] == ["rec-1"]
    assert store.records_of("P-L") == []
    assert [r.version for r in store.records_of("S-B")] == [2]
    assert store.counts()["records"] == 2


# -- docs -----------------------------------------------------------------------


def test_docs_put_get_list_delete(store: GraphStore) -> None:
    j1 = {"pair": ["S-A", "S-C"], "score": 0.93, "evidence": {"name": "商丘华通"}}
    j2: dict[str, Any] = {"pair": ["S-B", "S-D"], "decision": None, "list": []}
    store.write(
        Batch(
            docs=[
                ("judgements", "j-2", j2),
                ("judgements", "j-1", j1),
                ("quarantine", "j-1", {"reason": "bad uscc"}),
            ]
        )
    )
    assert store.get_docs("judgements", ["j-1", "j-3"]) == {"j-1": j1}
    assert store.list_docs("judgements") == {"j-1": j1, "j-2": j2}
    assert list(store.list_docs("judgements")) == ["j-1", "j-2"]
    assert store.list_docs("quarantine") == {"j-1": {"reason": "bad uscc"}}
    assert store.list_docs("nothing") == {}
    store.write(
        Batch(docs=[("judgements", "j-1", {"replaced": True}), ("judgements", "j-2", None)])
    )
    assert store.list_docs("judgements") == {"j-1": {"replaced": True}}
    # Put then delete in one batch: the last word wins.
    store.write(Batch(docs=[("judgements", "j-4", {"x": 1}), ("judgements", "j-4", None)]))
    assert store.get_docs("judgements", ["j-4"]) == {}
    store.write(Batch(docs=[("judgements", "j-9", None)]))  # deleting nothing is fine
    assert store.list_docs("quarantine") == {"j-1": {"reason": "bad uscc"}}


# -- merge and split ------------------------------------------------------------


def test_merge_subjects(store: GraphStore) -> None:
    base_graph(store)
    # S-A2 is the same enterprise under its old registration number.
    dup = org("S-A2", "商丘市华通建材有限责任公司", f"reg_no:{REG_NO_A}", capital=430, city="商丘")
    survivor_attrs = org("S-A", "", capital=500)
    store.write(
        Batch(
            subjects=[dup, survivor_attrs],
            relations=[
                rel("R-10", "branch_of", "S-A2", "S-A", "rec-4"),  # between the two: a self-loop
                rel("R-11", "guarantees", "S-B", "S-A2", "rec-4"),
                rel("R-12", "officer", "P-L", "S-A2", "rec-4", title="经理"),
            ],
            listings=[
                Listing(id="L-9", kind="tax_violations", subject_id="S-A2", record_ids=["rec-4"])
            ],
            records=[record("rec-4", ("S-A2", "subject"), ("S-A", "head_office"))],
        )
    )
    store.merge_subjects("S-A", "S-A2")

    assert store.get_subjects(["S-A2"]) == {}
    s = store.get_subjects(["S-A"])["S-A"]
    assert s.keys == [f"uscc:{USCC_A}", f"org_code:{ORG_CODE_A}", f"reg_no:{REG_NO_A}"]
    assert s.names == ["商丘华通建材有限公司", "商丘市华通建材有限责任公司"]
    assert s.norm_names == ["商丘华通建材有限公司", "商丘市华通建材有限责任公司"]
    assert s.name == "商丘华通建材有限公司"
    assert s.attrs == {"capital": 500, "city": "商丘"}  # only missing attrs move
    assert store.find_by_keys([f"reg_no:{REG_NO_A}"]) == {f"reg_no:{REG_NO_A}": ["S-A"]}

    rels = store.get_relations(["R-10", "R-11", "R-12"])
    assert (rels["R-10"].source, rels["R-10"].target) == ("S-A", "S-A")
    assert (rels["R-11"].source, rels["R-11"].target) == ("S-B", "S-A")
    assert (rels["R-12"].source, rels["R-12"].target) == ("P-L", "S-A")
    assert rels["R-12"].props == {"title": "经理"}
    assert [r.id for r in store.relations_of(["S-A"])] == [
        "R-1",
        "R-10",
        "R-11",
        "R-12",
        "R-2",
        "R-3",
    ]
    assert store.relations_of(["S-A2"]) == []
    assert [x.subject_id for x in store.listings_of(["S-A"])] == ["S-A"]
    assert store.listings_of(["S-A2"]) == []

    assert [r.id for r in store.records_of("S-A")] == ["rec-1", "rec-2", "rec-4"]
    assert store.records_of("S-A2") == []
    rec4 = store.get_records(["rec-4"])["rec-4"]
    assert [(m.subject_id, m.role) for m in rec4.mentions] == [
        ("S-A", "subject"),
        ("S-A", "head_office"),
    ]
    assert store.resolve_ids(["S-A2", "S-A", "S-B", "S-nothing"]) == {
        "S-A2": "S-A",
        "S-A": "S-A",
        "S-B": "S-B",
    }
    counts = store.counts()
    assert (counts["subjects"], counts["relations"], counts["redirects"]) == (4, 7, 1)

    # Merging again (the merged id is gone) changes nothing; so does a self-merge.
    before = dump(store)
    store.merge_subjects("S-A", "S-A2")
    store.merge_subjects("S-A", "S-A")
    assert dump(store) == before


def test_merge_chain_redirects_to_last_survivor(store: GraphStore) -> None:
    base_graph(store)
    store.write(Batch(subjects=[org("S-X", "华通建材"), org("S-Y", "华通建材有限公司")]))
    store.merge_subjects("S-X", "S-A")
    store.merge_subjects("S-Y", "S-X")
    assert store.resolve_ids(["S-A", "S-X", "S-Y"]) == {"S-A": "S-Y", "S-X": "S-Y", "S-Y": "S-Y"}
    assert store.find_by_keys([f"uscc:{USCC_A}"]) == {f"uscc:{USCC_A}": ["S-Y"]}
    assert [r.id for r in store.relations_of(["S-Y"])] == ["R-1", "R-2", "R-3"]
    assert store.counts()["redirects"] == 2
    # A subject created again under a merged-away id takes the id back.
    store.write(Batch(subjects=[org("S-A", "新商丘华通")]))
    assert store.resolve_ids(["S-A", "S-X"]) == {"S-A": "S-A", "S-X": "S-Y"}
    assert store.counts()["redirects"] == 1


def test_merge_into_unknown_survivor_raises(store: GraphStore) -> None:
    base_graph(store)
    before = dump(store)
    with pytest.raises(ValueError):
        store.merge_subjects("S-nobody", "S-A")
    assert dump(store) == before


def test_move_mentions_split(store: GraphStore) -> None:
    base_graph(store)
    # rec-5 asserts a relation and a listing about a namesake wrongly merged into P-Z.
    store.write(
        Batch(
            records=[
                record("rec-5", ("P-Z", "legal_representative"), ("S-B", "subject")),
                record("rec-6", ("P-Z", "shareholder"), ("P-Z", "legal_representative")),
            ],
            relations=[
                rel("R-20", "legal_representative", "P-Z", "S-B", "rec-5"),
                rel("R-21", "shareholder", "P-Z", "S-B", "rec-5", "rec-1"),
                rel("R-22", "guarantees", "P-Z", "P-Z", "rec-5"),
            ],
            listings=[
                Listing(id="L-20", kind="loan_defaults", subject_id="P-Z", record_ids=["rec-5"]),
                Listing(id="L-21", kind="red_list", subject_id="P-Z", record_ids=[]),
            ],
        )
    )
    namesake = person("P-Z2", "张三", f"id_masked:{ID_ZHANG[:6]}********2013")
    store.move_mentions(
        [("rec-5", "legal_representative"), ("rec-6", "shareholder"), ("rec-missing", "x")],
        "P-Z",
        namesake,
    )
    assert store.get_subjects(["P-Z2"])["P-Z2"].keys == namesake.keys
    rec5 = store.get_records(["rec-5"])["rec-5"]
    assert [(m.subject_id, m.role) for m in rec5.mentions] == [
        ("P-Z2", "legal_representative"),
        ("S-B", "subject"),
    ]
    rec6 = store.get_records(["rec-6"])["rec-6"]
    assert [(m.subject_id, m.role) for m in rec6.mentions] == [
        ("P-Z2", "shareholder"),
        ("P-Z", "legal_representative"),
    ]
    assert [r.id for r in store.records_of("P-Z")] == ["rec-1", "rec-6"]
    assert [r.id for r in store.records_of("P-Z2")] == ["rec-5", "rec-6"]
    rels = store.get_relations(["R-20", "R-21", "R-22", "R-1"])
    assert rels["R-20"].source == "P-Z2"  # asserted only by a moved record
    assert rels["R-21"].source == "P-Z"  # also asserted by rec-1, which stays
    assert (rels["R-22"].source, rels["R-22"].target) == ("P-Z2", "P-Z2")
    assert rels["R-1"].source == "P-Z"
    assert [x.id for x in store.listings_of(["P-Z2"])] == ["L-20"]
    assert [x.id for x in store.listings_of(["P-Z"])] == ["L-21"]  # no records: stays


def test_move_mentions_from_unknown_subject_raises(store: GraphStore) -> None:
    base_graph(store)
    before = dump(store)
    with pytest.raises(ValueError):
        store.move_mentions([("rec-1", "subject")], "S-nobody", org("S-new", "新"))
    assert dump(store) == before


def test_move_mentions_nothing_matching_adds_no_records(store: GraphStore) -> None:
    base_graph(store)
    store.move_mentions([("rec-1", "no-such-role")], "S-A", org("S-new", "新公司"))
    assert store.records_of("S-new") == []
    assert [r.id for r in store.records_of("S-A")] == ["rec-1", "rec-2"]


def test_merge_subjects_writes_docs_in_the_same_transaction(store: GraphStore) -> None:
    base_graph(store)
    store.write(
        Batch(
            subjects=[org("S-A2", "华通建材", f"reg_no:{REG_NO_A}")],
            docs=[("review", "pair-1", {"status": "open"})],
        )
    )
    store.merge_subjects(
        "S-A",
        "S-A2",
        docs=[
            ("judgements", "j-1", {"kind": "confirm", "survivor": "S-A"}),
            ("review", "pair-1", None),  # a None body deletes, as in a Batch
        ],
    )
    assert store.resolve_ids(["S-A2"]) == {"S-A2": "S-A"}
    assert store.list_docs("judgements") == {"j-1": {"kind": "confirm", "survivor": "S-A"}}
    assert store.list_docs("review") == {}


def test_merge_that_is_a_no_op_still_writes_its_docs(store: GraphStore) -> None:
    base_graph(store)
    store.write(Batch(subjects=[org("S-A2", "华通建材")]))
    store.merge_subjects("S-A", "S-A2")
    store.merge_subjects("S-A", "S-A2", docs=[("judgements", "j-again", {"v": 1})])
    store.merge_subjects("S-A", "S-A", docs=[("judgements", "j-self", {"v": 2})])
    assert store.list_docs("judgements") == {"j-again": {"v": 1}, "j-self": {"v": 2}}


def test_merge_into_unknown_survivor_writes_no_docs(store: GraphStore) -> None:
    base_graph(store)
    store.write(Batch(docs=[("review", "pair-1", {"status": "open"})]))
    before = dump(store)
    with pytest.raises(ValueError):
        store.merge_subjects(
            "S-nobody",
            "S-A",
            docs=[("judgements", "j-1", {"v": 1}), ("review", "pair-1", None)],
        )
    assert dump(store) == before
    assert store.get_docs("judgements", ["j-1"]) == {}
    assert store.list_docs("review") == {"pair-1": {"status": "open"}}


def test_move_mentions_writes_docs_in_the_same_transaction(store: GraphStore) -> None:
    base_graph(store)
    store.write(Batch(records=[record("rec-5", ("P-Z", "legal_representative"))]))
    store.move_mentions(
        [("rec-5", "legal_representative")],
        "P-Z",
        person("P-Z2", "张三"),
        docs=[
            ("judgements", "j-2", {"kind": "split"}),
            ("assignments", "rec-5|legal_representative", {"subject_id": "P-Z2"}),
        ],
    )
    assert [r.id for r in store.records_of("P-Z2")] == ["rec-5"]
    assert store.list_docs("judgements") == {"j-2": {"kind": "split"}}
    assert store.get_docs("assignments", ["rec-5|legal_representative"]) == {
        "rec-5|legal_representative": {"subject_id": "P-Z2"}
    }


def test_move_mentions_from_unknown_subject_writes_no_docs(store: GraphStore) -> None:
    base_graph(store)
    before = dump(store)
    with pytest.raises(ValueError):
        store.move_mentions(
            [("rec-1", "subject")],
            "S-nobody",
            org("S-new", "新"),
            docs=[("judgements", "j-2", {"kind": "split"})],
        )
    assert dump(store) == before


# -- atomicity ------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["relation_source", "relation_target", "listing", "mention"])
def test_batch_naming_an_unknown_subject_changes_nothing(store: GraphStore, bad: str) -> None:
    base_graph(store)
    store.write(listings_batch())
    store.write(Batch(docs=[("judgements", "j-1", {"v": 1})]))
    before = dump(store)
    batch = Batch(
        subjects=[org("S-N", "新公司", f"uscc:{USCC_C}"), org("S-A", "", "reg_no:X", x=1)],
        relations=[rel("R-2", "shareholder", "P-Z", "S-A", "rec-9")],
        listings=[Listing(id="L-1", kind="red_list", subject_id="S-N")],
        records=[record("rec-1", ("S-N", "subject"))],
        docs=[("judgements", "j-1", None), ("judgements", "j-2", {"v": 2})],
        delete_relations=["R-3"],
        delete_listings=["L-3"],
    )
    if bad == "relation_source":
        batch.relations.append(rel("R-bad", "guarantees", "S-ghost", "S-A"))
    elif bad == "relation_target":
        batch.relations.append(rel("R-bad", "guarantees", "S-A", "S-ghost"))
    elif bad == "listing":
        batch.listings.append(Listing(id="L-bad", kind="red_list", subject_id="S-ghost"))
    else:
        batch.records.append(record("rec-bad", ("S-A", "x"), ("S-ghost", "y")))
    with pytest.raises(ValueError, match="S-ghost"):
        store.write(batch)
    assert dump(store) == before
    assert store.find_by_keys([f"uscc:{USCC_C}", "reg_no:X"]) == {}
    # The store still takes writes afterwards.
    store.write(Batch(subjects=[org("S-N", "新公司")]))
    assert store.counts()["subjects"] == 5


# -- search and iteration -------------------------------------------------------


def test_search_substring_semantics(store: GraphStore) -> None:
    subjects = [
        org("S-1", "商丘华通建材有限公司"),
        org("S-2", "华通物流有限公司"),
        person("P-1", "华通"),
        org("S-3", "永城建材厂"),
    ]
    # Two names whose junction spells 通永: must not match "通永".
    subjects[1].norm_names.append("永城华通仓储")
    subjects[3].norm_names = ["华通", "永城建材厂"]
    store.write(Batch(subjects=subjects))

    def ids(text: str, subject_type: str | None = None, limit: int = 50) -> list[str]:
        return [s.id for s in store.search(text, subject_type, limit)]

    assert ids("华通") == ["P-1", "S-1", "S-2", "S-3"]
    assert ids("华通", subject_type=ORG) == ["S-1", "S-2", "S-3"]
    assert ids("华通", subject_type=PERSON) == ["P-1"]
    assert ids("华通", limit=2) == ["P-1", "S-1"]
    assert ids("华通", subject_type=ORG, limit=1) == ["S-1"]
    assert ids("建材") == ["S-1", "S-3"]
    assert ids("仓储") == ["S-2"]
    assert ids("通永") == []  # would straddle 华通 | 永城建材厂
    assert ids("公司永城") == []  # would straddle 华通物流有限公司 | 永城华通仓储
    assert ids("商丘华通建材有限公司") == ["S-1"]
    assert ids("商丘华通建材有限公司。") == []
    assert ids("厂") == ["S-3"]  # one character: no bigram to look up
    assert ids("华") == ["P-1", "S-1", "S-2", "S-3"]
    assert ids("") == []
    assert ids("华通", limit=0) == []
    got = store.search("物流")[0]
    assert got.norm_names == ["华通物流有限公司", "永城华通仓储"]


def test_search_after_merge(store: GraphStore) -> None:
    store.write(Batch(subjects=[org("S-1", "甲乙建材"), org("S-2", "丙丁物流")]))
    store.merge_subjects("S-1", "S-2")
    assert [s.id for s in store.search("丙丁")] == ["S-1"]
    assert [s.id for s in store.search("乙丙")] == []


def test_iterators_are_sorted_and_filtered(store: GraphStore) -> None:
    base_graph(store)
    store.write(listings_batch())
    assert [s.id for s in store.iter_subjects()] == ["P-L", "P-Z", "S-A", "S-B"]
    assert [s.id for s in store.iter_subjects(ORG)] == ["S-A", "S-B"]
    assert [s.id for s in store.iter_subjects(PERSON)] == ["P-L", "P-Z"]
    assert [r.id for r in store.iter_relations()] == ["R-1", "R-2", "R-3", "R-4"]
    assert [r.id for r in store.iter_relations(["shareholder"])] == ["R-2", "R-4"]
    assert [x.id for x in store.iter_listings()] == ["L-1", "L-2", "L-3", "L-4"]
    assert [x.id for x in store.iter_listings(["admin_penalties"])] == ["L-2", "L-4"]
    assert list(store.iter_listings([])) == []
    rels = {r.id: r for r in store.iter_relations()}
    assert rels == store.get_relations(["R-1", "R-2", "R-3", "R-4"])


def test_iterators_cross_page_boundaries(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import graph.store.neo4j as neo4j_store

    monkeypatch.setattr(neo4j_store, "PAGE_SIZE", 3)
    subjects = [org(f"S-{i:02d}", f"公司{i}") for i in range(10)]
    rels = [rel(f"R-{i:02d}", "branch_of", f"S-{i:02d}", "S-00") for i in range(1, 10)]
    store.write(Batch(subjects=subjects, relations=rels))
    assert [s.id for s in store.iter_subjects()] == [s.id for s in subjects]
    assert [r.id for r in store.iter_relations()] == [r.id for r in rels]
    assert [s.id for s in store.iter_subjects(PERSON)] == []


def test_counts_and_clear(store: GraphStore) -> None:
    assert store.counts() == {
        "subjects": 0,
        "relations": 0,
        "listings": 0,
        "records": 0,
        "redirects": 0,
    }
    base_graph(store)
    store.write(listings_batch())
    store.write(Batch(docs=[("judgements", "j-1", {"v": 1})]))
    store.merge_subjects("S-A", "S-B")
    assert store.counts() == {
        "subjects": 3,
        "relations": 4,
        "listings": 4,
        "records": 2,
        "redirects": 1,
    }
    store.clear()
    assert store.counts() == {
        "subjects": 0,
        "relations": 0,
        "listings": 0,
        "records": 0,
        "redirects": 0,
    }
    assert store.find_by_keys([f"uscc:{USCC_A}"]) == {}
    assert store.list_docs("judgements") == {}
    assert store.search("华通") == []
    assert store.resolve_ids(["S-B"]) == {}
    # Usable again after a clear.
    base_graph(store)
    assert store.counts()["subjects"] == 4


def test_empty_inputs(store: GraphStore) -> None:
    store.write(Batch())
    store.ping()
    assert store.get_subjects([]) == {}
    assert store.resolve_ids([]) == {}
    assert store.get_relations([]) == {}
    assert store.get_listings([]) == {}
    assert store.get_records([]) == {}
    assert store.get_docs("judgements", []) == {}
    assert store.listings_by_number([]) == []


def test_closed_store_is_unavailable(store: GraphStore) -> None:
    store.close()
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable):
        store.write(Batch(subjects=[org("S-A", "甲")]))


def test_generation_changes_with_every_committed_write_whoever_writes(
    store: GraphStore, store_kind: str, tmp_path: Path
) -> None:
    # Another process's view of the same store: a reader of the embedded
    # store's files, another driver for Neo4j.
    other = (
        EmbeddedStore(tmp_path / "store", read_only=True)
        if store_kind == "embedded"
        else open_neo4j()
    )
    try:

        def generations() -> tuple[str, str]:
            return store.generation(), other.generation()

        seen = [generations()]
        assert generations() == seen[0]
        base_graph(store)
        seen.append(generations())
        store.get_subjects(["S-A"])
        store.records_of("S-A")
        assert generations() == seen[-1]  # reads change nothing
        store.merge_subjects("S-A", "S-B")
        seen.append(generations())
        store.clear()
        seen.append(generations())
        for view in (0, 1):  # each view: a new value per write, never an old one again
            values = [g[view] for g in seen]
            assert len(set(values)) == len(values), values
    finally:
        other.close()


# -- embedded only: durability on disk --------------------------------------------


def scenario(store: GraphStore) -> None:
    base_graph(store)
    store.write(listings_batch())
    store.write(Batch(docs=[("judgements", "j-1", {"pair": ["S-A", "S-B"]})]))
    store.write(Batch(subjects=[org("S-A2", "华通建材", f"reg_no:{REG_NO_A}")]))
    store.merge_subjects("S-A", "S-A2")
    store.move_mentions([("rec-2", "holder")], "P-L", person("P-L2", "李四"))


def test_embedded_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    import os

    from graph.errors import StoreBusy

    first = EmbeddedStore(tmp_path / "store")
    base_graph(first)
    with pytest.raises(StoreBusy) as refused:
        EmbeddedStore(tmp_path / "store")
    assert f"pid {os.getpid()}" in refused.value.message
    assert refused.value.details["holder"]["pid"] == os.getpid()
    # A reader opens beside the writer and never blocks it.
    reader = EmbeddedStore(tmp_path / "store", read_only=True)
    assert reader.counts() == first.counts()
    first.close()
    second = EmbeddedStore(tmp_path / "store")  # the lock went with the close
    assert dump(second) == dump(reader)
    second.close()
    reader.close()


def test_embedded_reader_sees_what_the_writer_commits_without_reopening(tmp_path: Path) -> None:
    writer = EmbeddedStore(tmp_path / "store", compact_bytes=2048)
    reader = EmbeddedStore(tmp_path / "store", read_only=True)
    assert reader.counts()["subjects"] == 0
    base_graph(writer)
    assert dump(reader) == dump(writer)  # journal entries appended since
    for i in range(40):  # past compact_bytes: the writer compacts several times
        writer.write(Batch(subjects=[org(f"S-N{i}", f"新公司{i}")], docs=[("n", str(i), {"i": i})]))
        if i % 7 == 0:
            assert dump(reader) == dump(writer), i
    writer.merge_subjects("S-A", "S-B")
    assert dump(reader) == dump(writer)
    assert reader.resolve_ids(["S-B"]) == {"S-B": "S-A"}
    assert [r.id for r in reader.records_of("S-A")] == [r.id for r in writer.records_of("S-A")]
    with pytest.raises(StoreUnavailable, match="read-only"):
        reader.write(Batch(subjects=[org("S-X", "甲")]))
    writer.close()
    reader.close()


def test_embedded_reader_asks_the_listing_indexes_it_reloaded(tmp_path: Path) -> None:
    # A reader's first read after the writer compacted reloads its state, so
    # the index a listing look-up asks must be taken after that reload.
    writer = EmbeddedStore(tmp_path / "store")
    reader = EmbeddedStore(tmp_path / "store", read_only=True)
    assert reader.counts()["listings"] == 0
    base_graph(writer)
    writer.write(listings_batch())
    writer.write(parties_batch())
    writer.compact()
    assert [x.id for x in reader.listings_of(["S-A"])] == ["L-1", "L-2", "L-P1"]
    writer.compact()
    assert [x.id for x in reader.listings_by_number(["商市监罚〔2022〕88号"])] == ["L-2", "L-4"]
    writer.compact()
    assert naming(reader, ["P-Z"]) == ["L-P1", "L-P2"]
    writer.close()
    reader.close()


def test_embedded_reader_close_changes_no_file(tmp_path: Path) -> None:
    writer = EmbeddedStore(tmp_path / "store")
    base_graph(writer)

    def files() -> dict[str, bytes]:
        # SQLite's -shm is its readers' shared index, not data.
        d = tmp_path / "store"
        return {p.name: p.read_bytes() for p in d.iterdir() if not p.name.endswith("-shm")}

    before = files()
    reader = EmbeddedStore(tmp_path / "store", read_only=True)
    reader.counts()
    reader.close()  # a report's close must not snapshot or truncate the writer's journal
    assert files() == before
    writer.write(Batch(subjects=[org("S-N", "新公司")]))
    crash(writer)
    assert "S-N" in {s.id for s in EmbeddedStore(tmp_path / "store").iter_subjects()}


def test_embedded_store_files_are_private(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        store = EmbeddedStore(tmp_path / "store")
        base_graph(store)
        store.compact()
        store.write(listings_batch())
        store.close()
    finally:
        os.umask(old)
    d = tmp_path / "store"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    names = set()
    for f in d.iterdir():
        names.add(f.name)
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, (f.name, oct(f.stat().st_mode))
    assert {"graph.snapshot", "graph.journal", RECORDS, "writer.lock"} <= names


def test_embedded_records_the_journal_lost_are_dropped_so_the_file_loads_again(
    tmp_path: Path,
) -> None:
    """SQLite committed rows of entries the journal no longer has (restored from an
    older copy, say): they are dropped on open, not reported as already loaded."""
    import shutil

    d = tmp_path / "store"
    store = EmbeddedStore(d)
    base_graph(store)
    store.compact()
    kept = tmp_path / "kept"
    kept.mkdir()
    for name in ("graph.snapshot", "graph.journal"):
        shutil.copy2(d / name, kept / name)
    store.write(Batch(records=[record("rec-9", ("S-B", "subject"))]))
    store.write(Batch(records=[record("rec-1", ("S-A", "subject"), version=2)]))
    crash(store)
    for name in ("graph.snapshot", "graph.journal"):
        shutil.copy2(kept / name, d / name)
    again = EmbeddedStore(d)
    assert again.get_records(["rec-9"]) == {}
    assert "rec-1" not in again.get_records(["rec-1"])  # its newer row went with it
    assert again.counts()["records"] == len(again.get_records(["rec-2"])) == 1
    again.write(Batch(records=[record("rec-9", ("S-B", "subject"))]))
    assert set(again.get_records(["rec-9"])) == {"rec-9"}
    again.close()


def test_embedded_reopen_after_close_uses_snapshot(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    scenario(store)
    expected = dump(store)
    store.close()
    # folded into the snapshot: a new journal holds its header only
    assert (tmp_path / "store" / JOURNAL).read_bytes() == JOURNAL_MAGIC
    again = EmbeddedStore(tmp_path / "store")
    assert dump(again) == expected
    assert again.resolve_ids(["S-A2"]) == {"S-A2": "S-A"}
    assert [s.id for s in again.search("华通")] == ["S-A"]
    again.close()


def test_embedded_reopen_without_close_replays_journal(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    scenario(store)
    expected = dump(store)
    # No close: as after a crash, the state is in the journal only.
    crash(store)
    again = EmbeddedStore(tmp_path / "store")
    assert dump(again) == expected
    assert again.resolve_ids(["S-A2"]) == {"S-A2": "S-A"}
    assert [s.id for s in again.search("建材")] == ["S-A"]


def test_embedded_reopen_keeps_listings_naming(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    base_graph(store)
    store.write(Batch(subjects=[person("P-Z2", "张三")]))
    store.write(parties_batch())
    store.compact()
    # after the snapshot: in the journal only
    store.merge_subjects("P-Z2", "P-Z")
    store.write(Batch(delete_listings=["L-P2"]))
    expected = {sid: naming(store, [sid]) for sid in ("P-Z", "P-Z2", "P-L")}
    assert expected == {"P-Z": [], "P-Z2": ["L-P1"], "P-L": ["L-P1"]}
    # A reader beside the live writer: snapshot + journal replay.
    replayed = EmbeddedStore(tmp_path / "store", read_only=True)
    assert {sid: naming(replayed, [sid]) for sid in expected} == expected
    replayed.close()
    store.close()
    again = EmbeddedStore(tmp_path / "store")  # closed: the snapshot alone
    assert {sid: naming(again, [sid]) for sid in expected} == expected
    assert naming(again, ["P-Z2"], ["admin_penalties"]) == []
    again.close()


def merge_and_move_with_docs(store: GraphStore) -> None:
    base_graph(store)
    store.write(Batch(subjects=[org("S-A2", "华通建材", f"reg_no:{REG_NO_A}")]))
    store.merge_subjects("S-A", "S-A2", docs=[("judgements", "j-1", {"kind": "confirm"})])
    store.move_mentions(
        [("rec-2", "holder")],
        "P-L",
        person("P-L2", "李四"),
        docs=[("judgements", "j-2", {"kind": "split"}), ("assignments", "rec-2|holder", {})],
    )


def test_embedded_reopen_replays_merge_and_move_with_their_docs(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    merge_and_move_with_docs(store)
    expected = dump(store)
    assert set(expected["docs"]) == {"j-1", "j-2"}
    # No close: both operations and their docs come back from the journal alone.
    crash(store)
    again = EmbeddedStore(tmp_path / "store")
    assert dump(again) == expected
    assert again.resolve_ids(["S-A2"]) == {"S-A2": "S-A"}
    assert again.list_docs("assignments") == {"rec-2|holder": {}}
    # And through a snapshot.
    again.close()
    third = EmbeddedStore(tmp_path / "store")
    assert dump(third) == expected
    assert third.list_docs("assignments") == {"rec-2|holder": {}}
    third.close()


def test_embedded_torn_merge_with_docs_loses_both(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    base_graph(store)
    store.write(Batch(subjects=[org("S-A2", "华通建材")]))
    expected = dump(store)
    store.merge_subjects("S-A", "S-A2", docs=[("judgements", "j-1", {"kind": "confirm"})])
    crash(store)
    journal = tmp_path / "store" / JOURNAL
    with journal.open("r+b") as fh:
        fh.truncate(journal.stat().st_size - 5)  # a crash while the entry was written
    again = EmbeddedStore(tmp_path / "store")
    assert dump(again) == expected
    assert again.resolve_ids(["S-A2"]) == {"S-A2": "S-A2"}


def test_embedded_replays_merge_and_move_entries_written_without_docs(tmp_path: Path) -> None:
    import struct
    import zlib

    from graph.codec import pack
    from graph.store.embedded.encoding import subject_row

    # Entries journalled before merges and moves carried docs: ("M", a, b) and
    # ("V", roles, from, subject, moved), appended to a live store's journal.
    d = tmp_path / "store"
    store = EmbeddedStore(d)
    base_graph(store)
    store.write(Batch(subjects=[org("S-A2", "华通建材", f"reg_no:{REG_NO_A}")]))
    seq = store._disk.state.seq
    crash(store)
    p_l2 = person("P-L2", "李四")
    entries = [
        ("M", "S-A", "S-A2"),
        ("V", [("rec-2", "holder")], "P-L", subject_row(p_l2), None),
    ]
    with (d / JOURNAL).open("ab") as fh:
        for n, entry in enumerate(entries, start=seq + 1):
            payload = pack((n, entry))
            fh.write(struct.pack("<QI", len(payload), zlib.crc32(payload)))
            fh.write(payload)
    reference = EmbeddedStore(None)
    base_graph(reference)
    reference.write(Batch(subjects=[org("S-A2", "华通建材", f"reg_no:{REG_NO_A}")]))
    reference.merge_subjects("S-A", "S-A2")
    reference.move_mentions([("rec-2", "holder")], "P-L", p_l2)
    assert dump(EmbeddedStore(d)) == dump(reference)


def test_embedded_snapshot_plus_journal(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    base_graph(store)
    store.compact()
    store.write(listings_batch())
    expected = dump(store)
    crash(store)
    assert dump(EmbeddedStore(tmp_path / "store")) == expected


def test_embedded_torn_journal_tail_is_dropped(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    base_graph(store)
    expected = dump(store)
    journal = tmp_path / "store" / JOURNAL
    good_size = journal.stat().st_size
    store.write(listings_batch())
    crash(store)
    with journal.open("r+b") as fh:
        fh.truncate(journal.stat().st_size - 5)  # a crash in the middle of the last entry
    again = EmbeddedStore(tmp_path / "store")
    assert dump(again) == expected
    assert journal.stat().st_size == good_size  # the torn bytes are cut off
    # Writes after recovery append to a clean journal and survive the next replay.
    again.write(Batch(subjects=[org("S-N", "新公司")]))
    crash(again)
    third = EmbeddedStore(tmp_path / "store")
    assert [s.id for s in third.iter_subjects()] == ["P-L", "P-Z", "S-A", "S-B", "S-N"]
    assert third.listings_of(["S-A"]) == []


def test_embedded_in_memory_batch_is_atomic() -> None:
    store = EmbeddedStore(None)
    base_graph(store)
    before = dump(store)
    bad = Batch(
        subjects=[org("S-N", "新公司", f"uscc:{USCC_C}")],
        relations=[rel("R-bad", "guarantees", "S-N", "S-ghost")],
    )
    with pytest.raises(ValueError):
        store.write(bad)
    assert dump(store) == before


def test_embedded_stored_record_is_not_the_callers_object(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    base_graph(store)
    rec = record("rec-7", ("S-B", "subject"))
    store.write(Batch(records=[rec]))
    store.merge_subjects("S-A", "S-B")
    # The merge re-points the stored copy, not the record the caller still holds.
    assert rec.mentions[0].subject_id == "S-B"
    assert store.get_records(["rec-7"])["rec-7"].mentions[0].subject_id == "S-A"


def test_embedded_records_live_in_sqlite_not_in_memory(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    base_graph(store)
    assert (tmp_path / "store" / RECORDS).exists()
    assert not hasattr(store._disk.state, "records")
    assert store.counts()["records"] == 2
    store.close()


def test_embedded_sqlite_behind_the_journal_is_caught_up(tmp_path: Path) -> None:
    # SQLite commits after the journal fsync and without its own (WAL,
    # synchronous=NORMAL): a power loss can cost it its last commits. The
    # journal still has them, and replay applies them exactly once.
    store = EmbeddedStore(tmp_path / "store")
    scenario(store)
    store.write(Batch(records=[record("rec-9", ("S-B", "subject"))]))
    expected = dump(store)
    store._disk.records.db.execute("DELETE FROM record")
    store._disk.records.db.execute("DELETE FROM mention")
    store._disk.records.db.execute("UPDATE meta SET v = 0")
    crash(store)
    again = EmbeddedStore(tmp_path / "store")
    assert dump(again) == expected
    assert again.get_records(["rec-2"])["rec-2"].mentions[2].subject_id == "P-L2"
    again.close()
    assert dump(EmbeddedStore(tmp_path / "store")) == expected


def test_embedded_records_written_without_rowid_are_rewritten_on_open(tmp_path: Path) -> None:
    """Stores written before the records table had rowids (a WITHOUT ROWID table
    put every 1.2 KB record on an overflow page of its own): a reader reads the
    old file as it is; the next writer rewrites it, same answers, smaller file."""
    store = EmbeddedStore(tmp_path / "store")
    scenario(store)
    store.write(Batch(records=[record(f"rec-x{i}", ("S-B", "subject")) for i in range(300)]))
    expected = dump(store)
    db = store._disk.records.db
    db.executescript(
        """
        BEGIN;
        CREATE TABLE old_record (id TEXT PRIMARY KEY, body BLOB NOT NULL,
            seq INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
        INSERT INTO old_record SELECT id, body, seq FROM record;
        DROP TABLE record;
        ALTER TABLE old_record RENAME TO record;
        COMMIT;
        """
    )
    store.close()
    path = tmp_path / "store" / RECORDS

    def table_sql() -> str:
        con = sqlite3.connect(path)
        try:
            sql: str = con.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'record'"
            ).fetchone()[0]
            return sql
        finally:
            con.close()

    assert "WITHOUT ROWID" in table_sql()
    reader = EmbeddedStore(tmp_path / "store", read_only=True)
    assert dump(reader) == expected
    reader.close()
    assert "WITHOUT ROWID" in table_sql()  # a reader writes nothing
    again = EmbeddedStore(tmp_path / "store")
    assert dump(again) == expected
    assert again.get_records(["rec-x299"])["rec-x299"].mentions[0].subject_id == "S-B"
    again.close()
    assert "WITHOUT ROWID" not in table_sql()
    assert dump(EmbeddedStore(tmp_path / "store", read_only=True)) == expected


def test_embedded_close_leaves_a_small_journal_for_the_next_open(tmp_path: Path) -> None:
    """Closing after a small write does not rewrite the whole snapshot (what
    made every 12-row CLI load cost seconds on a big store); the next open
    replays the journal and answers the same. A journal grown past a quarter
    of the snapshot is folded in on close."""
    d = tmp_path / "store"
    store = EmbeddedStore(d)
    scenario(store)
    store.write(Batch(records=[record(f"rec-y{i}", ("S-B", "subject")) for i in range(400)]))
    store.close()  # no snapshot yet: the journal is everything, compacted
    snap = d / "graph.snapshot"
    first = snap.stat()
    store = EmbeddedStore(d)
    store.write(Batch(records=[record("rec-9", ("S-B", "subject"))]))
    expected = dump(store)
    store.close()
    kept = snap.stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert (d / JOURNAL).stat().st_size > 8
    again = EmbeddedStore(d)
    assert dump(again) == expected
    for i in range(40):  # many more changes than the snapshot holds
        again.write(Batch(subjects=[org(f"S-Z{i}", f"新增{i}公司")]))
    expected = dump(again)
    again.close()
    assert snap.stat().st_ino != first.st_ino
    assert dump(EmbeddedStore(d, read_only=True)) == expected


def test_embedded_lost_record_file_is_refused(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    base_graph(store)
    store.close()  # the snapshot now stands for the journal entries holding the records
    for f in (tmp_path / "store").glob(RECORDS + "*"):
        f.unlink()
    with pytest.raises(StoreUnavailable, match="records were lost"):
        EmbeddedStore(tmp_path / "store")


class _RunsCode:
    """Unpickled, this would create ``marker``: proof that a file ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def _chunk(obj: Any) -> bytes:
    import struct
    import zlib

    import msgpack

    payload = msgpack.packb(obj, use_bin_type=True)
    return struct.pack("<QI", len(payload), zlib.crc32(payload)) + payload


def test_embedded_store_files_run_no_code_and_old_formats_are_refused_by_name(
    tmp_path: Path,
) -> None:
    import marshal
    import pickle
    import struct
    import zlib

    marker = tmp_path / "ran"
    # A pickled snapshot (the oldest format), a CLSNAP2 one (marshal chunks),
    # and a journal of pickled or marshalled entries without the new header.
    old_snapshots = [
        pickle.dumps(_RunsCode(marker), protocol=5),
        b"CLSNAP2\n" + marshal.dumps(("meta", 1)),
    ]
    payload = pickle.dumps((1, ("batch", _RunsCode(marker))), protocol=5)
    old_journal = struct.pack("<QI", len(payload), zlib.crc32(payload)) + payload
    for i, snap in enumerate(old_snapshots):
        d = tmp_path / f"s{i}"
        d.mkdir()
        (d / "graph.snapshot").write_bytes(snap)
        with pytest.raises(StoreUnavailable, match=r"graph\.snapshot .*earlier creditlink"):
            EmbeddedStore(d)
        with pytest.raises(StoreUnavailable, match=r"graph\.snapshot"):
            EmbeddedStore(d, read_only=True)
    d = tmp_path / "j"
    d.mkdir()
    (d / JOURNAL).write_bytes(old_journal)
    with pytest.raises(StoreUnavailable, match=r"graph\.journal .*earlier creditlink"):
        EmbeddedStore(d)
    assert not marker.exists(), "a store file ran code"


def _crafted_snapshots() -> list[bytes]:
    magic = b"CLSNAP3\n"
    meta = _chunk(["meta", 0])
    end = _chunk(["end", 0])
    import msgpack

    nested = b"\x91" * 100_000 + b"\xc0"
    return [
        magic + b"\x00" * 5,  # a torn header
        magic + meta,  # no end marker
        magic + meta + _chunk(["nodes", [["S-x", 5]]]) + end,  # a node that is no blob
        magic + meta + _chunk(["nodes", [["S-x", b"\xc1"]]]) + end,  # a blob that is no data
        magic + meta + _chunk(["nodes", [["S-x", msgpack.packb([1, 2])]]]) + end,
        magic + meta + _chunk(["edges", [["R", "S-a", "S-b", "x", b""]]]) + end,
        magic + meta + _chunk(["docs", [["c", "d", msgpack.packb([1])]]]) + end,
        magic + meta + _chunk(["redirects", [[1, 2]]]) + end,
        magic + meta + _chunk(["bogus", []]) + end,
        magic + meta + _chunk(["meta", "x"]) + end,
        # a length far beyond the file, and a nesting deeper than any decoder stack
        magic + b"\xff" * 8 + b"\x00" * 4,
        magic + _chunk_raw(nested) + end,
        # an integer of 100,000 digits in an extension value
        magic + _chunk_raw(msgpack.packb(["meta", msgpack.ExtType(5, b"9" * 100_000)])) + end,
    ]


def _chunk_raw(payload: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack("<QI", len(payload), zlib.crc32(payload)) + payload


def test_embedded_crafted_snapshot_is_a_clean_error(tmp_path: Path) -> None:
    for i, data in enumerate(_crafted_snapshots()):
        d = tmp_path / f"c{i}"
        d.mkdir()
        (d / "graph.snapshot").write_bytes(data)
        for read_only in (False, True):
            with pytest.raises(StoreUnavailable, match=r"graph\.snapshot"):
                EmbeddedStore(d, read_only=read_only)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.binary(max_size=200))
def test_embedded_crafted_journal_entry_loads_or_is_a_clean_error(payload: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / JOURNAL).write_bytes(JOURNAL_MAGIC + _chunk_raw(payload))
        try:
            store = EmbeddedStore(d)
        except StoreUnavailable:
            return
        store.close()


def test_embedded_nx_graph_gives_subjects_and_relations(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    base_graph(store)
    g = store.nx_graph
    assert g.nodes["S-A"]["s"] == store.get_subjects(["S-A"])["S-A"]
    rels = {r.id: r for _u, _v, r in g.edges(data="r")}
    assert rels == store.get_relations(rels)
    assert sorted(g.successors("P-Z")) == ["S-A"]
    copy = g.copy()
    assert copy.nodes["P-L"]["s"] == g.nodes["P-L"]["s"]
    assert dict(copy.edges["S-A", "S-B", "R-3"]) == dict(g.edges["S-A", "S-B", "R-3"])
    # Values handed out are copies: changing them changes nothing stored.
    g.nodes["S-A"]["s"].keys.clear()
    assert store.find_by_keys([f"uscc:{USCC_A}"]) == {f"uscc:{USCC_A}": ["S-A"]}


RECORD_WRITER = """
import sys
from pathlib import Path
from graph.model import Mention, SourceRecord, Subject
from graph.store.base import Batch
from graph.store.embedded import EmbeddedStore

store = EmbeddedStore(Path(sys.argv[1]), compact_bytes=int(sys.argv[2]))
i = int(sys.argv[3])
while True:
    subjects = [Subject(id=f"S-{i}-{j}", type="person", name=f"人{i}-{j}") for j in range(20)]
    records = [
        SourceRecord(id=f"rec-{i}-{j}", feed="f", file="x.csv", row=j, loaded_at="t",
                     digest="d", values={"v": "值" * 40},
                     mentions=[Mention(f"S-{i}-{j}", "subject"), Mention(f"S-{i}-0", "peer")])
        for j in range(20)
    ]
    store.write(Batch(subjects=subjects, records=records, docs=[("acks", f"{i:06d}", {"i": i})]))
    if i % 5 == 4:
        store.merge_subjects(f"S-{i}-0", f"S-{i}-1")
    print(i, flush=True)  # acknowledged
    i += 1
"""


@pytest.mark.parametrize("compact_bytes", [32 * 1024, 256 * 1024 * 1024])
def test_embedded_records_survive_sigkill_during_writes(tmp_path: Path, compact_bytes: int) -> None:
    path = tmp_path / "store"
    written = 0
    for _ in range(3):
        acked = kill_when_acknowledged(
            RECORD_WRITER, [str(path), str(compact_bytes), str(written)], written + 30
        )
        store = EmbeddedStore(path)
        try:
            acks = sorted(int(k) for k in store.list_docs("acks"))
            n = len(acks)
            # everything acknowledged survived, in order, and at most the one
            # write under way when the kill came besides
            assert acks == list(range(n)) and acked + 1 <= n <= acked + 2, (acked, n)
            assert store.counts()["records"] == 20 * n
            for i in range(n):
                mine = store.records_of(f"S-{i}-2")
                assert [r.id for r in mine] == [f"rec-{i}-2"]
                assert len(store.records_of(f"S-{i}-0")) == 20
                merged = store.resolve_ids([f"S-{i}-1"]) == {f"S-{i}-1": f"S-{i}-0"}
                if i % 5 == 4 and i <= acked:
                    assert merged  # acknowledged after the merge
                if merged:
                    assert store.records_of(f"S-{i}-1") == []
                    rec = store.get_records([f"rec-{i}-1"])[f"rec-{i}-1"]
                    assert [m.subject_id for m in rec.mentions] == [f"S-{i}-0"] * 2
            written = n
        finally:
            store.close()


# -- Neo4j only: errors the API maps to 503 and 504 --------------------------------


def test_neo4j_unreachable_is_store_unavailable() -> None:
    from graph.store.neo4j import Neo4jStore

    # Port 1 on localhost: connection refused at once.
    store = Neo4jStore("bolt://127.0.0.1:1", user="neo4j", password="x", timeout_s=1.0)
    try:
        with pytest.raises(StoreUnavailable, match="unavailable"):
            store.ping()
        with pytest.raises(StoreUnavailable):
            store.get_subjects(["S-A"])
        with pytest.raises(StoreUnavailable):
            store.write(Batch(subjects=[org("S-A", "甲")]))
    finally:
        store.close()


def test_neo4j_slow_query_is_query_timeout() -> None:
    from graph.store.neo4j import Neo4jStore

    store = open_neo4j()
    assert isinstance(store, Neo4jStore)
    slow = Neo4jStore(NEO4J_URI, user="neo4j", password=NEO4J_PASSWORD, timeout_s=0.5)
    try:
        with pytest.raises(QueryTimeout):
            # A read that cannot finish in 0.5 s, through the store's own plumbing.
            slow._read(
                lambda tx: tx.run("UNWIND range(1, 2000000000) AS x RETURN count(x) AS c").single()
            )
    finally:
        slow.close()
        store.close()


def test_neo4j_write_waiting_on_a_lock_is_query_timeout() -> None:
    from neo4j import GraphDatabase

    from graph.store.neo4j import Neo4jStore

    store = open_neo4j()
    store.clear()
    store.write(Batch(subjects=[org("S-LOCK", "甲")]))
    blocked = Neo4jStore(
        NEO4J_URI, user="neo4j", password=NEO4J_PASSWORD, timeout_s=1.0, write_timeout_s=1.0
    )
    driver = GraphDatabase.driver(NEO4J_URI, auth=("neo4j", NEO4J_PASSWORD))
    try:
        with driver.session() as session:
            holder = session.begin_transaction()
            holder.run("MATCH (s:Subject {id: 'S-LOCK'}) SET s.name = '乙'").consume()
            with pytest.raises(QueryTimeout):
                blocked.write(Batch(subjects=[org("S-LOCK", "丙")]))
            holder.rollback()
        # Nothing stuck: the same store writes once the lock is gone.
        blocked.write(Batch(subjects=[org("S-LOCK", "丙")]))
        assert store.get_subjects(["S-LOCK"])["S-LOCK"].name == "丙"
    finally:
        driver.close()
        blocked.close()
        store.clear()
        store.close()


# -- both stores side by side: random operation sequences -------------------------

SIDS = [f"S{i}" for i in range(5)]  # S5 below is never created: an unknown subject
NAMES = ["华通建材", "华通", "恒达贸易", "建材厂", "张三"]
DATES = [None, "2020-01-01", "2021-06-30", "2022-01-01"]

sid_any = st.sampled_from([*SIDS, "S5"])
record_ids = st.lists(st.sampled_from(["rec0", "rec1", "rec2", "rec3"]), max_size=3)

subject_op = st.builds(
    lambda sid, stype, names, keys, attrs: (
        "write",
        Batch(
            subjects=[
                Subject(
                    id=sid,
                    type=stype,
                    name=names[0] if names else "",
                    names=names,
                    norm_names=names,
                    keys=keys,
                    attrs=attrs,
                )
            ]
        ),
    ),
    st.sampled_from(SIDS),
    st.sampled_from([ORG, PERSON, ""]),
    st.lists(st.sampled_from(NAMES), max_size=2),
    st.lists(
        st.sampled_from([f"uscc:{USCC_A}", f"uscc:{USCC_B}", f"id_number:{ID_LI}"]), max_size=2
    ),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2),
)
relation_op = st.builds(
    lambda rid, rtype, src, dst, vf, vt, ri: (
        "write",
        Batch(relations=[Relation(rid, rtype, src, dst, vf, vt, {"w": 1}, ri)]),
    ),
    st.sampled_from(["R0", "R1", "R2", "R3"]),
    st.sampled_from(["shareholder", "guarantees"]),
    sid_any,
    sid_any,
    st.sampled_from(DATES),
    st.sampled_from(DATES),
    record_ids,
)
listing_op = st.builds(
    lambda lid, sid, num, ri: (
        "write",
        Batch(listings=[Listing(lid, "admin_penalties", sid, number=num, record_ids=ri)]),
    ),
    st.sampled_from(["L0", "L1", "L2"]),
    sid_any,
    st.sampled_from([None, "", "商市监罚〔2022〕88号", "N2"]),
    record_ids,
)
record_op = st.builds(
    lambda rid, mentions: ("write", Batch(records=[record(rid, *mentions)])),
    st.sampled_from(["rec0", "rec1", "rec2", "rec3"]),
    st.lists(st.tuples(sid_any, st.sampled_from(["a", "b"])), max_size=3),
)
delete_op = st.builds(
    lambda rels, lsts: ("write", Batch(delete_relations=rels, delete_listings=lsts)),
    st.lists(st.sampled_from(["R0", "R1", "R9"]), max_size=2),
    st.lists(st.sampled_from(["L0", "L9"]), max_size=1),
)
doc_op = st.builds(
    lambda did, body: ("write", Batch(docs=[("judgements", did, body)])),
    st.sampled_from(["j0", "j1"]),
    st.one_of(st.none(), st.fixed_dictionaries({"v": st.integers(0, 2)})),
)
merge_op = st.tuples(st.just("merge"), sid_any, sid_any)
move_op = st.tuples(
    st.just("move"),
    st.lists(
        st.tuples(st.sampled_from(["rec0", "rec1", "rec2"]), st.sampled_from(["a", "b"])),
        max_size=2,
    ),
    sid_any,
    st.builds(lambda sid: org(sid, "拆分"), st.sampled_from([*SIDS, "S6"])),
)
operations = st.lists(
    st.one_of(subject_op, relation_op, listing_op, record_op, delete_op, doc_op, merge_op, move_op),
    min_size=1,
    max_size=10,
)


def apply(store: GraphStore, op: tuple[Any, ...]) -> str | None:
    """Run one operation; the name of the error it raised, if any."""
    try:
        if op[0] == "write":
            store.write(copy.deepcopy(op[1]))
        elif op[0] == "merge":
            store.merge_subjects(op[1], op[2])
        else:
            store.move_mentions(list(op[1]), op[2], copy.deepcopy(op[3]))
    except ValueError as exc:
        return type(exc).__name__
    return None


def answers(store: GraphStore) -> dict[str, Any]:
    ids = [*SIDS, "S5", "S6"]
    return {
        "dump": dump(store),
        "resolve": store.resolve_ids(ids),
        "records": {k: v.to_dict() for k, v in store.get_records(["rec0", "rec1", "rec2"]).items()},
        "search": [[s.id for s in store.search(t)] for t in ["华通", "建材", "通恒", "华", "厂"]],
        "as_of": [
            [r.id for r in store.relations_of(ids, as_of=d, direction=way)]
            for d in DATES
            for way in ("both", "in")
        ],
        "by_number": [x.id for x in store.listings_by_number(["商市监罚〔2022〕88号", "", "N2"])],
    }


@pytest.fixture(scope="module")
def neo4j_for_differential() -> Iterator[GraphStore]:
    store = open_neo4j()
    try:
        yield store
    finally:
        store.clear()
        store.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_both_stores_give_the_same_answers(
    neo4j_for_differential: GraphStore, ops: list[tuple[Any, ...]]
) -> None:
    neo = neo4j_for_differential
    neo.clear()
    emb = EmbeddedStore(None)
    for op in ops:
        assert apply(emb, op) == apply(neo, op), op
        assert answers(neo) == answers(emb), op


def test_look_ups_of_many_ids_cross_read_chunks(store: GraphStore) -> None:
    """A file's worth of keys (more than one Neo4j read chunk) in one call."""
    n = 4_500
    subjects = [
        Subject(id=f"S-{i:05d}", type="organisation", name=f"企业{i}", keys=[f"org_code:K{i:08d}"])
        for i in range(n)
    ]
    docs: list[tuple[str, str, dict[str, Any] | None]] = [
        ("quarantine", f"q{i:05d}", {"row": i}) for i in range(n)
    ]
    store.write(Batch(subjects=subjects, docs=docs))
    keys = [f"org_code:K{i:08d}" for i in range(n)] + ["org_code:absent"]
    found = store.find_by_keys(keys)
    assert len(found) == n and found["org_code:K00004499"] == ["S-04499"]
    assert "org_code:absent" not in found
    ids = [s.id for s in subjects]
    assert list(store.get_subjects(ids)) == ids
    assert store.resolve_ids(ids) == {i: i for i in ids}
    assert len(store.get_docs("quarantine", [f"q{i:05d}" for i in range(n)])) == n
