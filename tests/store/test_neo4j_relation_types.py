"""Neo4j only: relations are stored under their own relationship types with
filterable props as native properties, and a database written with the old
single ``[:REL]`` type is converted when a store opens it. The answers
themselves are the contract suite's (tests/test_store_contract.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import graph.store.neo4j
from graph.model import Relation, Subject
from graph.store.base import Batch
from graph.store.neo4j import Neo4jStore
from tests.stores import NEO4J_PASSWORD, NEO4J_URI, open_neo4j


@pytest.fixture
def neo() -> Iterator[Neo4jStore]:
    store = open_neo4j()
    assert isinstance(store, Neo4jStore)
    store.clear()
    try:
        yield store
    finally:
        store.close()


def cypher(store: Neo4jStore, query: str, **params: Any) -> list[dict[str, Any]]:
    with store._driver.session(database=store.database) as session:
        return [row.data() for row in session.run(query, params)]


PEOPLE = [Subject("P1", "person", "张三"), Subject("O1", "organisation", "甲公司")]


def test_relations_have_their_type_and_native_props(neo: Neo4jStore) -> None:
    held = [{"from": "2020-01-01", "to": None}]
    rel = Relation(
        "R1", "shareholder", "P1", "O1", "2020-01-01", None,
        {"share": 0.3, "held": held, "subscribed_amount": 100, "note": None, "": "x"}, ["rec-1"],
    )  # fmt: skip
    neo.write(Batch(subjects=list(PEOPLE), relations=[rel]))
    rows = cypher(
        neo,
        "MATCH (:Subject)-[r:SHAREHOLDER]->(:Subject) WHERE r.share > 0.2 "
        "AND r.valid_from <= '2021-01-01' RETURN r.id AS id, r.props_json AS pj",
    )
    # lists of maps and nulls cannot be properties: they stay encoded
    assert rows == [{"id": "R1", "pj": json.dumps({"held": held, "note": None, "": "x"})}]
    assert cypher(neo, "MATCH ()-[r:REL]->() RETURN r") == []
    [back] = neo.relations_of(["O1"], ["shareholder"])
    assert back == rel
    assert list(back.props) == ["share", "held", "subscribed_amount", "note", ""]


def test_a_type_outside_the_model_is_stored_unmodelled_and_still_found(neo: Neo4jStore) -> None:
    odd = Relation("R9", "knows`]->(x) DETACH DELETE x //", "P1", "O1", props={"id": "shadow"})
    neo.write(Batch(subjects=list(PEOPLE), relations=[odd]))
    assert cypher(neo, "MATCH ()-[r:Unmodelled]->() RETURN r.id AS id") == [{"id": "R9"}]
    assert neo.relations_of(["P1"], [odd.type]) == [odd]
    assert neo.relations_of(["P1"], ["shareholder"]) == []
    assert neo.get_relations(["R9"]) == {"R9": odd}
    assert neo.counts()["relations"] == 1
    neo.write(Batch(delete_relations=["R9"]))
    assert neo.counts()["relations"] == 0


def test_a_database_written_with_rel_is_converted_on_open(
    neo: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one relation a page, so that the migration goes page by page here too
    monkeypatch.setattr(graph.store.neo4j, "PAGE_SIZE", 1)
    neo.write(Batch(subjects=list(PEOPLE)))
    old = [
        {"id": "R1", "type": "shareholder", "vf": "2020-01-01", "vt": None,
         "pj": json.dumps({"share": 0.5, "held": [{"from": "2020-01-01"}]}), "ri": ["rec-1"]},
        {"id": "R2", "type": "legal_representative", "vf": None, "vt": "2024-01-01",
         "pj": json.dumps({}), "ri": ["rec-2"]},
    ]  # fmt: skip
    # what the store wrote before relations had their own types
    cypher(
        neo,
        "MATCH (m:Migration {id: 'relation_types'}) DELETE m "
        "WITH count(*) AS _ UNWIND $rows AS row "
        "MATCH (a:Subject {id: 'P1'}), (b:Subject {id: 'O1'}) "
        "CREATE (a)-[:REL {id: row.id, type: row.type, valid_from: row.vf, "
        "valid_to: row.vt, props_json: row.pj, record_ids: row.ri}]->(b)",
        rows=old,
    )
    with Neo4jStore(NEO4J_URI, password=NEO4J_PASSWORD) as reopened:
        found = reopened.relations_of(["O1"])
        assert [(r.id, r.type, r.props) for r in found] == [
            ("R1", "shareholder", {"share": 0.5, "held": [{"from": "2020-01-01"}]}),
            ("R2", "legal_representative", {}),
        ]
        assert found[1].valid_to == "2024-01-01"
        assert reopened.relations_of(["O1"], ["legal_representative"], "2023-06-01") == [found[1]]
        assert reopened.counts()["relations"] == 2
    types = cypher(neo, "MATCH ()-[r]->() RETURN type(r) AS t, r.share AS share ORDER BY t")
    assert types == [
        {"t": "LEGAL_REPRESENTATIVE", "share": None},
        {"t": "SHAREHOLDER", "share": 0.5},
    ]
    assert cypher(neo, "MATCH (m:Migration {id: 'relation_types'}) RETURN m.id AS id") == [
        {"id": "relation_types"}
    ]
