"""graph/analysis.py on small hand-built graphs, against both stores.

Subject ids say what each subject is for. Guarantees run guarantor → borrower.
"""

from __future__ import annotations

from typing import Any

import pytest

from graph import analysis
from graph.model import Relation, Subject
from graph.store.base import Batch, GraphStore
from tests import builders
from tests.builders import AS_OF


def org(sid: str, name: str, address: str | None = None) -> Subject:
    attrs: dict[str, Any] = {"address": address} if address else {}
    return Subject(id=sid, type="organisation", name=name, names=[name], attrs=attrs)


def person(sid: str, name: str) -> Subject:
    return Subject(id=sid, type="person", name=name, names=[name])


def rel(
    rtype: str,
    source: str,
    target: str,
    valid_from: str | None = "2020-01-01",
    valid_to: str | None = None,
    **props: Any,
) -> Relation:
    # the shared builder, with this module's default start
    return builders.rel(rtype, source, target, valid_from, valid_to, **props)


def guarantee(src: str, tgt: str, amount: float, valid_to: str | None = None) -> Relation:
    return rel("guarantees", src, tgt, "2020-01-01", valid_to, amount=amount)


@pytest.fixture
def city(store: GraphStore) -> GraphStore:
    orgs = [
        # a 3-circle, always in force
        org("C3-a", "甲公司"),
        org("C3-b", "乙公司"),
        org("C3-c", "丙公司"),
        # a 4-circle whose last guarantee expires before AS_OF
        org("C4-a", "丁公司"),
        org("C4-b", "戊公司"),
        org("C4-c", "己公司"),
        org("C4-d", "庚公司"),
        # two companies sharing a legal representative and an address
        org("LR-a", "壳一公司", "河南省商丘市睢阳区 民主路１号"),
        org("LR-b", "壳二公司", "河南省商丘市睢阳区民主路1号"),
        # a parent and its subsidiary: same legal representative, but disclosed
        org("OWN-parent", "母公司"),
        org("OWN-sub", "子公司"),
        org("OWN-grandchild", "孙公司"),
    ]
    people = [person("P-shell", "张三"), person("P-group", "李四")]
    relations = [
        guarantee("C3-a", "C3-b", 100),
        guarantee("C3-b", "C3-c", 200),
        guarantee("C3-c", "C3-a", 300),
        guarantee("C4-a", "C4-b", 10),
        guarantee("C4-b", "C4-c", 10),
        guarantee("C4-c", "C4-d", 10),
        guarantee("C4-d", "C4-a", 10, valid_to="2023-01-01"),
        # an outsider guaranteeing into the 3-circle
        guarantee("OWN-parent", "C3-a", 50),
        rel("legal_representative", "P-shell", "LR-a"),
        rel("legal_representative", "P-shell", "LR-b"),
        rel("legal_representative", "P-group", "OWN-parent"),
        rel("legal_representative", "P-group", "OWN-sub"),
        rel("shareholder", "OWN-parent", "OWN-sub", share=0.6),
        rel("shareholder", "OWN-sub", "OWN-grandchild", share=0.7),
        rel("shareholder", "P-group", "OWN-parent", share=1.0),
    ]
    store.write(Batch(subjects=orgs + people, relations=relations))
    return store


def test_guarantee_graph_in_force(city: GraphStore) -> None:
    every = analysis.guarantee_graph(city)
    assert every.has_edge("C4-d", "C4-a")
    assert every.edges["C3-c", "C3-a"]["amount"] == 300
    assert every.nodes["C3-a"]["name"] == "甲公司"
    on_date = analysis.guarantee_graph(city, AS_OF)
    assert not on_date.has_edge("C4-d", "C4-a")
    assert on_date.has_edge("C4-a", "C4-b")


def test_circles_found_with_amounts_and_records(city: GraphStore) -> None:
    circles = analysis.guarantee_circles(city)
    by_members = {frozenset(c.subjects): c for c in circles}
    assert set(by_members) == {
        frozenset({"C3-a", "C3-b", "C3-c"}),
        frozenset({"C4-a", "C4-b", "C4-c", "C4-d"}),
    }
    three = by_members[frozenset({"C3-a", "C3-b", "C3-c"})]
    assert three.subjects == ("C3-a", "C3-b", "C3-c")  # guarantee order, canonical start
    assert three.names == ("甲公司", "乙公司", "丙公司")
    assert three.amount == 600
    assert len(three.records) == 3
    assert [(e.guarantor, e.borrower) for e in three.edges] == [
        ("C3-a", "C3-b"),
        ("C3-b", "C3-c"),
        ("C3-c", "C3-a"),
    ]
    assert three.windows == (("2020-01-01", None),)
    four = by_members[frozenset({"C4-a", "C4-b", "C4-c", "C4-d"})]
    assert four.length == 4 and four.amount == 40
    assert four.windows == (("2020-01-01", "2023-01-01"),)
    assert circles[0] is three  # largest amount first


def test_expired_guarantee_breaks_circle_on_date(city: GraphStore) -> None:
    circles = analysis.guarantee_circles(city, as_of=AS_OF)
    assert [c.subjects for c in circles] == [("C3-a", "C3-b", "C3-c")]
    assert analysis.guarantee_circles(city, as_of="2022-06-01", max_len=8)[1].length == 4


def test_max_len_bounds_cycles(city: GraphStore) -> None:
    assert [c.length for c in analysis.guarantee_circles(city, max_len=3)] == [3]


def test_guarantee_groups_exposure(city: GraphStore) -> None:
    groups = analysis.guarantee_groups(city)
    assert [g.subjects for g in groups] == [
        ("C3-a", "C3-b", "C3-c"),
        ("C4-a", "C4-b", "C4-c", "C4-d"),
    ]
    assert groups[0].internal_amount == 600
    assert groups[0].inward_amount == 50
    assert groups[0].outward_amount == 0
    assert [g.subjects for g in analysis.guarantee_groups(city, AS_OF)] == [
        ("C3-a", "C3-b", "C3-c")
    ]


def test_hidden_links_shared_legal_rep_and_address(city: GraphStore) -> None:
    links = analysis.hidden_links(city)
    pairs = {(link.a, link.b): link for link in links}
    # The parent and subsidiary share a legal representative, but the
    # shareholding discloses why: not a hidden link.
    assert set(pairs) == {("LR-a", "LR-b")}
    link = pairs[("LR-a", "LR-b")]
    assert link.signals == ("address", "legal_representative")
    lr = next(e for e in link.evidence if e.signal == "legal_representative")
    assert lr.shared == "P-shell" and lr.shared_name == "张三"
    assert set(lr.records) == {
        "rec:R-legal_representative-P-shell-LR-a-2020-01-01",
        "rec:R-legal_representative-P-shell-LR-b-2020-01-01",
    }
    assert analysis.shell_clusters(links) == [["LR-a", "LR-b"]]


def test_hidden_links_respect_as_of(store: GraphStore) -> None:
    store.write(
        Batch(
            subjects=[org("A", "一公司"), org("B", "二公司"), person("P", "王五")],
            relations=[
                rel("legal_representative", "P", "A", "2020-01-01", "2021-01-01"),
                rel("legal_representative", "P", "B", "2022-01-01"),
            ],
        )
    )
    assert [(x.a, x.b) for x in analysis.hidden_links(store)] == [("A", "B")]
    assert analysis.hidden_links(store, as_of="2023-01-01") == []


def test_ownership_chains_up_and_down(city: GraphStore) -> None:
    up = analysis.ownership_chains(city, "OWN-grandchild")
    shares = {o.holder: round(o.share, 6) for o in up}
    assert shares == {"OWN-sub": 0.7, "OWN-parent": 0.42, "P-group": 0.42}
    parent = next(o for o in up if o.holder == "OWN-parent")
    assert parent.chains == (
        (
            "R-shareholder-OWN-parent-OWN-sub-2020-01-01",
            "R-shareholder-OWN-sub-OWN-grandchild-2020-01-01",
        ),
    )
    down = analysis.ownership_chains(city, "P-group", direction="down")
    assert {o.held: round(o.share, 6) for o in down} == {
        "OWN-parent": 1.0,
        "OWN-sub": 0.6,
        "OWN-grandchild": 0.42,
    }
    assert analysis.ownership_chains(city, "OWN-grandchild", max_depth=1)[0].holder == "OWN-sub"
    assert analysis.ownership_chains(city, "nobody") == []
