"""Judgements on both stores: a split undoes a wrong merge and outlives
reloads; confirm merges with a redirect; reject keeps a pair apart; the API
and the CLI; the review queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_resolution import (
    DISHONEST,
    PENALTY,
    REGISTRY,
    ZHANG,
    A,
    mention,
    penalty,
    registry_rows,
    sid,
    write_csv,
)

from api.app import create_app
from api.keys import KeyStore
from graph.lookup import get_subject
from graph.resolve.judgements import confirm, reject, review_queue, split
from graph.settings import Settings
from graph.store.base import GraphStore
from graph.views import subject_card
from loaders.pipeline import FileLoader

F = "admin_penalties:admin_penalties_w.csv"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def wrong(store: GraphStore, settings: Settings, tmp_path: Path) -> FileLoader:
    """汇晨's registry row, and two penalties: one on 汇晨, one on another
    enterprise whose department left the prefix off a name that, normalised,
    is 汇晨's — a wrong merge a reviewer must undo."""
    loader = FileLoader(store, settings)
    loader.load(write_csv(tmp_path / "registry_1.csv", REGISTRY, registry_rows()))
    rows = [penalty("商丘市汇晨商贸有限公司", n=1), penalty("汇晨商贸有限公司", n=2)]
    loader.load(write_csv(tmp_path / "admin_penalties_w.csv", PENALTY, rows, "gbk"))
    assert mention(store, f"{F}:2")[0] == sid(store, A)
    return loader


def test_split_undoes_a_wrong_merge_and_survives_reloads(
    store: GraphStore, wrong: FileLoader, settings: Settings, tmp_path: Path
) -> None:
    a = sid(store, A)
    body = split(store, a, ((f"{F}:2", "subject"),), by="investigator-1", note="另一家汇晨")
    new = body["new_subject"]
    assert body["by"] == "investigator-1" and body["at"]
    assert mention(store, f"{F}:2")[0] == new
    assert mention(store, f"{F}:1")[0] == a
    # The penalty listing follows its record.
    assert [x.subject_id for x in store.listings_of([new])] == [new]
    card = subject_card(store, store.get_subjects([new])[new])
    rec = next(r for r in card["records"] if r["id"] == f"{F}:2")
    assert rec["match"]["method"] == "judgement"
    assert rec["match"]["previous"]["method"] == "exact_name"
    assert card["judgements"][0]["kind"] == "split"
    # A changed row reloaded (another process, a new index) stays split off.
    rows = [penalty("商丘市汇晨商贸有限公司", n=1), penalty("汇晨商贸有限公司", n=2)]
    rows[1][-1] = "严重"
    write_csv(tmp_path / "admin_penalties_w.csv", PENALTY, rows, "gbk")
    report = FileLoader(store, settings).load(tmp_path / "admin_penalties_w.csv")
    assert report.new_versions == 1
    got, match = mention(store, f"{F}:2")
    assert got == new and match["method"] == "judgement"
    # The rejection keeps the scorer from merging the two again.
    assert store.get_subjects([a, new]).keys() == {a, new}


def test_confirm_merges_with_a_redirect_and_reject_keeps_apart(
    store: GraphStore, wrong: FileLoader, settings: Settings, tmp_path: Path
) -> None:
    masked = ZHANG[:10] + "****" + ZHANG[14:]
    rows = [
        ["(2025)豫14执3号", "张三", masked, "", "商丘市中级人民法院", "2025-01-04"],
        ["(2025)豫14执4号", "张三", masked, "", "商丘市中级人民法院", "2025-01-05"],
    ]
    wrong.load(write_csv(tmp_path / "dishonest_debtors_1.csv", DISHONEST, rows))
    zhang = sid(store, ZHANG)
    queue = review_queue(store, settings)
    pairs = [i for i in queue["items"] if zhang in (i["a"], i["b"])]
    assert len(pairs) == 2 and all(i["features"]["masked_id"] == 1.0 for i in pairs)
    first = mention(store, "dishonest_debtors:dishonest_debtors_1.csv:1")[0]
    second = mention(store, "dishonest_debtors:dishonest_debtors_1.csv:2")[0]
    confirm(store, first, zhang, by="investigator-1")
    reject(store, second, zhang, by="investigator-1")
    assert store.resolve_ids([first]) == {first: zhang}
    assert get_subject(store, first).id == zhang
    left = [i for i in review_queue(store, settings)["items"] if zhang in (i["a"], i["b"])]
    assert left == []
    # Reloading changed rows: the confirmed record lands on the survivor,
    # the rejected one stays apart.
    rows[0][-1], rows[1][-1] = "2025-01-14", "2025-01-15"
    write_csv(tmp_path / "dishonest_debtors_1.csv", DISHONEST, rows)
    FileLoader(store, settings).load(tmp_path / "dishonest_debtors_1.csv")
    assert mention(store, "dishonest_debtors:dishonest_debtors_1.csv:1")[0] == zhang
    assert mention(store, "dishonest_debtors:dishonest_debtors_1.csv:2")[0] == second
    card = subject_card(store, get_subject(store, ZHANG))
    assert any(r["match"]["method"] == "judgement" for r in card["records"])


@pytest.fixture
def client(store: GraphStore, settings: Settings, wrong: FileLoader) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=store)) as c:
        yield c


def _key(settings: Settings, role: str) -> dict[str, str]:
    _, key = KeyStore(settings.data_dir).create(role, label="test")
    return {"Authorization": f"Bearer {key}"}


def test_api_judgements_and_review(
    client: TestClient, store: GraphStore, settings: Settings
) -> None:
    inv, analyst = _key(settings, "investigator"), _key(settings, "analyst")
    a = sid(store, A)
    body = {"kind": "split", "subject": a, "records": [{"record": f"{F}:2", "role": "subject"}]}
    assert client.post("/judgements", json=body, headers=analyst).status_code == 403
    r = client.post("/judgements", json=body, headers=inv)
    assert r.status_code == 200, r.text
    new = r.json()["new_subject"]
    listed = client.get("/judgements", headers=inv).json()
    assert [j["kind"] for j in listed["items"]] == ["split"] and listed["items"][0]["by"]
    card = client.get(f"/subjects/{new}", headers=inv).json()
    assert [x["id"] for x in card["records"]] == [f"{F}:2"]
    r = client.post("/judgements", json={"kind": "reject", "a": a, "b": a}, headers=inv)
    assert r.status_code == 400
    review = client.get("/review?limit=5", headers=analyst)
    assert review.status_code == 200 and "items" in review.json()
    assert client.get("/quality", headers=analyst).status_code == 200


def test_cli_judge_review_and_quality(
    store: GraphStore,
    wrong: FileLoader,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store_kind: str,
) -> None:
    from api.cli import main
    from graph.settings import get_settings
    from graph.store import open_store
    from tests.conftest import NEO4J_PASSWORD, NEO4J_URI

    monkeypatch.setenv("CREDITLINK_DATA_DIR", str(settings.data_dir.parent / "cli"))
    if store_kind == "neo4j":
        # The CLI opens the configured store: point it at the test server.
        monkeypatch.setenv("CREDITLINK_STORE", NEO4J_URI)
        monkeypatch.setenv("CREDITLINK_NEO4J_PASSWORD", NEO4J_PASSWORD)
    get_settings.cache_clear()
    try:
        # Load the same files through the CLI's own store (a no-op where they are in).
        cli_settings = get_settings()
        cli_store = open_store(cli_settings)
        loader = FileLoader(cli_store, cli_settings)
        loader.load(settings.data_dir.parent / "registry_1.csv")
        loader.load(settings.data_dir.parent / "admin_penalties_w.csv")
        a = get_subject(cli_store, A).id
        cli_store.close()
        assert main(["review", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["total"] >= 0
        assert main(["quality", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert {g["feed"] for g in report["departments"]} == {"registry", "admin_penalties"}
        assert main(["quality"]) == 0
        assert "admin_penalties" in capsys.readouterr().out
        assert main(["judge", "split", a, f"{F}:2", "--by", "tester"]) == 0
        assert json.loads(capsys.readouterr().out)["by"] == "tester"
        assert main(["judge", "list"]) == 0
        assert json.loads(capsys.readouterr().out)["total"] == 1
    finally:
        get_settings.cache_clear()


def test_rejections_and_assignments_are_derived_from_the_judgement_rows() -> None:
    from graph.docs import pair_id
    from graph.resolve.table import Judgement, JudgementTable

    day = "2024-01-0{}T00:00:00+00:00".format
    rows = (
        Judgement("J1", "reject", "r1", day(1), a="S-a", b="S-b", rejected=("S-a2", "S-b")),
        Judgement(
            "J2",
            "split",
            "r2",
            day(2),
            subject="S-c",
            new_subject="S-d",
            records=(("rec-1", "subject"),),
        ),
        Judgement("J3", "confirm", "r3", day(3), a="S-e", b="S-f", survivor="S-e", merged="S-f"),
    )
    table = JudgementTable(rows)
    assert table.rejections() == {
        pair_id("S-a", "S-b"), pair_id("S-a2", "S-b"), pair_id("S-c", "S-d")
    }
    (key, assigned), = table.assignments().items()
    assert key == "rec-1|subject" and assigned.subject_id == "S-d"
    assert assigned.match() == {"judgement": "J2", "kind": "split", "by": "r2", "at": day(2)}
    # a row round-trips through its stored form, and every row moves the generation
    assert [Judgement.from_doc(j.to_doc()) for j in rows] == list(rows)
    assert JudgementTable(rows[:2]).generation != table.generation
