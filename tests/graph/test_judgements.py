"""Judgements on both stores: a split undoes a wrong merge and outlives
reloads; confirm merges with a redirect; reject keeps a pair apart; the API
and the CLI; the review queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from graph.lookup import get_subject
from graph.resolve.judgements import confirm, parse_records, reject, review_queue, split
from graph.resolve.table import Judgement, JudgementTable
from graph.settings import Settings
from graph.store.base import GraphStore
from graph.views import subject_card
from loaders.pipeline import FileLoader
from tests.builders import (
    DISHONEST,
    PENALTY,
    REGISTRY,
    X1,
    ZHANG,
    A,
    B,
    mention,
    penalty,
    registry_rows,
    sid,
    write_csv,
)

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
    assert (match["judgement"], match["by"], match["at"]) == (
        body["id"],
        "investigator-1",
        body["at"],
    )
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


@pytest.fixture
def cli(
    store: GraphStore,
    wrong: FileLoader,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    store_kind: str,
) -> Iterator[dict[str, str]]:
    """The CLI's own store (the configured one) with the same two files loaded:
    subject ids by USCC."""
    from graph.settings import get_settings
    from graph.store import open_store
    from tests.stores import NEO4J_PASSWORD, NEO4J_URI

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
        ids = {key: get_subject(cli_store, key).id for key in (A, B, X1)}
        cli_store.close()
        yield ids
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
        pair_id("S-a", "S-b"),
        pair_id("S-a2", "S-b"),
        pair_id("S-c", "S-d"),
    }
    ((key, assigned),) = table.assignments().items()
    assert key == "rec-1|subject" and assigned.subject_id == "S-d"
    assert assigned.match() == {"judgement": "J2", "kind": "split", "by": "r2", "at": day(2)}
    # a row round-trips through its stored form, and every row moves the generation
    assert [Judgement.from_doc(j.to_doc()) for j in rows] == list(rows)
    assert JudgementTable(rows[:2]).generation != table.generation


def test_cli_judge_review_and_quality(
    cli: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    a = cli[A]
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


def test_cli_confirm_and_reject_name_the_two_subjects(
    cli: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    a = cli[A]
    assert main(["judge", "split", a, f"{F}:2", "--by", "tester"]) == 0
    new = json.loads(capsys.readouterr().out)["new_subject"]
    # the reviewer changes his mind: the split-off record is 汇晨's after all
    assert main(["judge", "confirm", new, a, "--note", "同一家", "--by", "tester"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["kind"], done["a"], done["b"], done["survivor"], done["merged"]) == (
        "confirm",
        new,
        a,
        a,
        new,
    )
    assert (done["by"], done["note"]) == ("tester", "同一家")
    # namesakes in two counties are two enterprises
    assert main(["judge", "reject", cli[X1], cli[B], "--note", "两家"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["kind"], done["a"], done["b"], done["note"]) == ("reject", cli[X1], cli[B], "两家")
    assert done["by"].startswith("cli:")
    assert main(["judge", "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    # oldest first (the three may share a second: then by id)
    assert sorted(j["kind"] for j in listed["items"]) == ["confirm", "reject", "split"]
    # a confirm of two subjects with different USCCs is refused, and says why
    assert main(["judge", "confirm", cli[X1], cli[B]]) == 2
    assert "USCC" in capsys.readouterr().err


# -- What a judgement may decide, and what it leaves behind --------------------------
# A small store written directly: two registered enterprises, a keyless one that
# a record named by a close name, a person, and one source record for the keyless
# one that also names its legal representative.

U_REG = "91411403MA45HC0100"
U_OTHER = "91411481MA46HD0200"


def _people_and_firms(store: GraphStore) -> None:
    from graph.model import Mention, SourceRecord, Subject
    from graph.store.base import Batch

    subjects = [
        Subject(
            id="S-reg",
            type="organisation",
            name="商丘市汇晨商贸有限公司",
            names=["商丘市汇晨商贸有限公司"],
            keys=[f"uscc:{U_REG}", f"org_code:{U_REG[8:17]}"],
        ),
        Subject(
            id="S-other",
            type="organisation",
            name="永城市恒达建材有限公司",
            names=["永城市恒达建材有限公司"],
            keys=[f"uscc:{U_OTHER}"],
        ),
        Subject(id="S-close", type="organisation", name="汇晨商贸公司", names=["汇晨商贸公司"]),
        Subject(id="S-close-2", type="organisation", name="汇晨商贸", names=["汇晨商贸"]),
        Subject(id="S-person", type="person", name="张三", names=["张三"]),
    ]

    def record(rid: str, parties: dict[str, Any], *mentions: Mention) -> SourceRecord:
        feed, file, row = rid.split(":")
        return SourceRecord(
            id=rid,
            feed=feed,
            file=file,
            row=int(row),
            loaded_at="2025-01-01T00:00:00+00:00",
            digest=rid,
            cleaned={"parties": parties},
            mentions=list(mentions),
        )

    code = f"org_code:{U_REG[8:17]}"
    records = [
        record(
            "registry:r.csv:1",
            {"subject": {"name": "商丘市汇晨商贸有限公司", "keys": [f"uscc:{U_REG}"]}},
            Mention("S-reg", "subject", {"method": "key", "key": f"uscc:{U_REG}"}),
        ),
        record(
            "admin_penalties:p.csv:1",
            {
                "subject": {
                    "name": "汇晨商贸公司",
                    "keys": ["reg_no:411400000000123", f"uscc:{U_REG}"],
                },
                "legal_representative": {"name": "张三", "keys": []},
            },
            Mention("S-close", "subject", {"method": "new", "reason": "name_only"}),
            Mention("S-person", "legal_representative", {"method": "new"}),
        ),
        record(
            "admin_penalties:p.csv:2",
            {"subject": {"name": "汇晨商贸", "keys": []}},
            Mention("S-close-2", "subject", {"method": "exact_name", "name": "汇晨商贸"}),
        ),
        # a court record that gave the registered enterprise's organisation code only
        record(
            "dishonest_debtors:d.csv:1",
            {"subject": {"name": None, "keys": [code]}},
            Mention("S-reg", "subject", {"method": "bridge", "key": code}),
        ),
    ]
    review = {
        "a": "S-close",
        "b": "S-reg",
        "score": 0.91,
        "features": {"name": 0.91},
        "record": "admin_penalties:p.csv:1",
        "role": "subject",
        "status": "open",
        "created_at": "2025-01-01T00:00:00+00:00",
    }
    store.write(
        Batch(subjects=subjects, records=records, docs=[("review", "S-close|S-reg", review)])
    )


def _judgements(store: GraphStore) -> list[dict[str, Any]]:
    from graph.resolve.judgements import list_judgements

    items: list[dict[str, Any]] = list_judgements(store)["items"]
    return items


def test_confirm_refuses_what_can_never_be_one_subject(store: GraphStore) -> None:
    from graph.errors import InvalidInput

    _people_and_firms(store)
    for a, b in [
        ("S-reg", "S-other"),  # two different USCCs
        ("S-close", "S-person"),  # an organisation and a person
        ("S-reg", "S-reg"),  # already one
    ]:
        with pytest.raises(InvalidInput):
            confirm(store, a, b, by="investigator-1")
    assert store.resolve_ids(["S-reg", "S-other", "S-close", "S-person"]) == {
        s: s for s in ("S-reg", "S-other", "S-close", "S-person")
    }
    assert _judgements(store) == []
    # once merged, the two are one: neither a second confirm nor a reject of them
    confirm(store, "S-close", "S-reg", by="investigator-1")
    for judge_fn in (confirm, reject):
        with pytest.raises(InvalidInput):
            judge_fn(store, "S-close", "S-reg", by="investigator-1")
    assert len(_judgements(store)) == 1


def test_confirm_refuses_two_different_keys_of_any_kind(store: GraphStore) -> None:
    """Two registration numbers, two organisation codes or two people's ID
    numbers are two subjects, as two USCCs are; the refusal of two people does
    not repeat their ID numbers."""
    from graph.errors import InvalidInput
    from graph.model import Subject
    from graph.store.base import Batch

    p1, p2 = "411403198001011234", "411425197505051111"
    store.write(
        Batch(
            subjects=[
                Subject(
                    id="S-r1",
                    type="organisation",
                    name="甲",
                    names=["甲"],
                    keys=["reg_no:411400000000123"],
                ),
                Subject(
                    id="S-r2",
                    type="organisation",
                    name="甲",
                    names=["甲"],
                    keys=["reg_no:411400000000131"],
                ),
                Subject(
                    id="S-o1",
                    type="organisation",
                    name="乙",
                    names=["乙"],
                    keys=["org_code:MA45HC01X"],
                ),
                Subject(
                    id="S-o2",
                    type="organisation",
                    name="乙",
                    names=["乙"],
                    keys=["org_code:MA46HD02X"],
                ),
                Subject(
                    id="S-p1", type="person", name="王伟", names=["王伟"], keys=[f"id_number:{p1}"]
                ),
                Subject(
                    id="S-p2", type="person", name="王伟", names=["王伟"], keys=[f"id_number:{p2}"]
                ),
            ]
        )
    )
    refused = {}
    for a, b in (("S-r1", "S-r2"), ("S-o1", "S-o2"), ("S-p1", "S-p2")):
        with pytest.raises(InvalidInput) as err:
            confirm(store, a, b, by="investigator-1")
        refused[a] = (err.value.message, err.value.details)
    assert refused == {
        "S-r1": ("two different registration numbers are never one subject",
                 {"key": "reg_no", "a": ["411400000000123"], "b": ["411400000000131"]}),
        "S-o1": ("two different organisation codes are never one subject",
                 {"key": "org_code", "a": ["MA45HC01X"], "b": ["MA46HD02X"]}),
        "S-p1": ("two different ID numbers are never one subject",
                 {"key": "id_number", "a": "S-p1", "b": "S-p2"}),
    }  # fmt: skip
    assert _judgements(store) == []
    assert len(store.resolve_ids([f"S-{x}" for x in ("r1", "r2", "o1", "o2", "p1", "p2")])) == 6


@pytest.mark.parametrize("order", ["keyless_first", "keyed_first"])
def test_confirm_keeps_the_registered_subject_and_records_who_when_and_what(
    store: GraphStore, order: str
) -> None:
    from graph.resolve.judgements import judge

    _people_and_firms(store)
    a, b = ("S-close", "S-reg") if order == "keyless_first" else ("S-reg", "S-close")
    body = judge(store, {"kind": "confirm", "a": a, "b": b, "note": "同一家"}, by="investigator-1")
    # the enterprise with the keys survives, whichever side the reviewer named first
    assert store.resolve_ids(["S-close"]) == {"S-close": "S-reg"}
    assert set(store.get_subjects(["S-reg"])["S-reg"].keys) >= {f"uscc:{U_REG}"}
    assert body["at"] and body["id"].startswith("J-")
    assert {k: v for k, v in body.items() if k not in ("at", "id")} == {
        "kind": "confirm",
        "by": "investigator-1",
        "a": a,
        "b": b,
        "survivor": "S-reg",
        "merged": "S-close",
        "note": "同一家",
    }
    assert _judgements(store) == [body]
    # the merged record now says how it got there, and how it had matched before;
    # the other party of the same record keeps its own match
    rec = store.get_records(["admin_penalties:p.csv:1"])["admin_penalties:p.csv:1"]
    matches = {m.role: (m.subject_id, m.match) for m in rec.mentions}
    assert matches["subject"] == (
        "S-reg",
        {
            "method": "judgement",
            "judgement": body["id"],
            "kind": "confirm",
            "by": "investigator-1",
            "at": body["at"],
            "previous": {"method": "new", "reason": "name_only"},
        },
    )
    assert matches["legal_representative"] == ("S-person", {"method": "new"})
    # the review pair is closed by this judgement, and the card shows it
    review = store.get_docs("review", ["S-close|S-reg"])["S-close|S-reg"]
    assert (review["status"], review["judgement"]) == ("confirmed", body["id"])
    card = subject_card(store, store.get_subjects(["S-reg"])["S-reg"])
    assert [j["id"] for j in card["judgements"]] == [body["id"]]


def test_judge_validates_its_payload(store: GraphStore) -> None:
    from graph.errors import InvalidInput
    from graph.resolve.judgements import judge

    _people_and_firms(store)
    for payload in (
        {"kind": "confirm", "a": "S-close"},
        {"kind": "confirm", "b": "S-reg"},
        {"kind": "reject", "a": "S-close"},
        {"kind": "split", "records": ["admin_penalties:p.csv:1"]},
        {"kind": "merge", "a": "S-close", "b": "S-reg"},
    ):
        with pytest.raises(InvalidInput):
            judge(store, payload, by="investigator-1")
    assert _judgements(store) == []
    assert store.resolve_ids(["S-close"]) == {"S-close": "S-close"}


def test_reject_by_ids_that_were_merged_since_keeps_both_pairs_apart(store: GraphStore) -> None:
    from graph.resolve.judgements import judge

    _people_and_firms(store)
    confirm(store, "S-close-2", "S-reg", by="investigator-1")
    # the reviewer names the pair as the queue showed it, before the merge
    body = judge(
        store,
        {"kind": "reject", "a": "S-close", "b": "S-close-2", "note": "两家"},
        by="investigator-2",
    )
    assert {k: v for k, v in body.items() if k not in ("at", "id")} == {
        "kind": "reject",
        "by": "investigator-2",
        "a": "S-close",
        "b": "S-close-2",
        "note": "两家",
        # what the pair named when judged: S-close-2 is S-reg's since the confirm
        "rejected": ["S-close", "S-reg"],
    }
    assert body["at"] and body in _judgements(store)
    assert JudgementTable.read(store).rejections() == {"S-close|S-reg", "S-close|S-close-2"}
    # the open pair (named by its old ids) is closed by the reject
    review = store.get_docs("review", ["S-close|S-reg"])["S-close|S-reg"]
    assert (review["status"], review["judgement"]) == ("rejected", body["id"])
    assert store.resolve_ids(["S-close"]) == {"S-close": "S-close"}


def test_every_judgement_is_kept_and_bumps_the_generation_even_within_one_second(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolvers rebuild their index when the table's generation changes; two
    judgements made in the same second are two judgements."""
    import graph.resolve.judgements as judgements
    from graph.resolve.table import JudgementTable

    _people_and_firms(store)
    monkeypatch.setattr(judgements, "_now", lambda: "2025-06-01T10:00:00+00:00")
    done: list[dict[str, Any]] = []
    generations: list[tuple[int, str]] = []
    for fn, a, b in [
        (reject, "S-close", "S-other"),
        (reject, "S-close-2", "S-other"),
        (confirm, "S-close", "S-reg"),
        (confirm, "S-close-2", "S-reg"),
        (split, "S-reg", (("admin_penalties:p.csv:1", ""),)),
        (split, "S-reg", (("admin_penalties:p.csv:2", ""),)),
    ]:
        done.append(fn(store, a, b, by="investigator-1"))  # type: ignore[operator]
        generations.append(JudgementTable.read(store).generation)
    assert len({j["id"] for j in done}) == len(done)
    assert sorted(j["id"] for j in _judgements(store)) == sorted(j["id"] for j in done)
    assert len(set(generations)) == len(done)
    # two splits of one subject are two new subjects
    assert done[4]["new_subject"] != done[5]["new_subject"]


def test_split_moves_exactly_the_named_mentions_and_never_empties_the_subject(
    store: GraphStore,
) -> None:
    from graph.errors import InvalidInput

    _people_and_firms(store)
    confirm(store, "S-close", "S-reg", by="investigator-1")
    mine = {"registry:r.csv:1", "admin_penalties:p.csv:1", "dishonest_debtors:d.csv:1"}
    assert {r.id for r in store.records_of("S-reg")} == mine
    with pytest.raises(InvalidInput):
        # the record names 汇晨商贸 (S-close-2), not this subject
        split(store, "S-reg", (("admin_penalties:p.csv:2", ""),), by="investigator-1")
    with pytest.raises(InvalidInput):
        split(store, "S-reg", tuple((r, "") for r in sorted(mine)), by="investigator-1")
    with pytest.raises(InvalidInput):
        split(
            store,
            "S-reg",
            (("admin_penalties:p.csv:1", "legal_representative"),),
            by="investigator-1",
        )
    assert {r.id for r in store.records_of("S-reg")} == mine and len(_judgements(store)) == 1
    # two records at once go to one new subject; the rest stays
    body = split(
        store,
        "S-reg",
        parse_records(["admin_penalties:p.csv:1|subject", {"record": "dishonest_debtors:d.csv:1"}]),
        by="investigator-1",
    )
    new = body["new_subject"]
    assert {r.id for r in store.records_of(new)} == mine - {"registry:r.csv:1"}
    assert {r.id for r in store.records_of("S-reg")} == {"registry:r.csv:1"}
    assert body["records"] == [
        {"record": "admin_penalties:p.csv:1", "role": "subject"},
        {"record": "dishonest_debtors:d.csv:1", "role": "subject"},
    ]
    # the legal representative named in the moved record stays who he was
    rec = store.get_records(["admin_penalties:p.csv:1"])["admin_penalties:p.csv:1"]
    assert {m.role: m.subject_id for m in rec.mentions} == {
        "subject": new,
        "legal_representative": "S-person",
    }


def test_a_split_off_subject_has_the_records_name_and_only_keys_the_source_lacks(
    store: GraphStore,
) -> None:
    from graph.resolve.judgements import judge

    _people_and_firms(store)
    confirm(store, "S-close", "S-reg", by="investigator-1")
    body = judge(
        store,
        {
            "kind": "split",
            "subject": "S-reg",
            "records": ["admin_penalties:p.csv:1"],
            "note": "另一家",
        },
        by="investigator-2",
    )
    new = body["new_subject"]
    assert {k: v for k, v in body.items() if k not in ("at", "id")} == {
        "kind": "split",
        "by": "investigator-2",
        "subject": "S-reg",
        "new_subject": new,
        "records": [{"record": "admin_penalties:p.csv:1", "role": "subject"}],
        "note": "另一家",
    }
    subject = store.get_subjects([new])[new]
    assert (subject.type, subject.name, subject.names) == (
        "organisation",
        "汇晨商贸公司",
        ["汇晨商贸公司"],
    )
    # the USCC stays with the registered enterprise alone
    assert subject.keys == ["reg_no:411400000000123"]
    assert subject.attrs == {"split_from": "S-reg"}
    assert store.find_by_keys([f"uscc:{U_REG}"]) == {f"uscc:{U_REG}": ["S-reg"]}
    # how the record got there, and how it had matched before any judgement
    rec = store.get_records(["admin_penalties:p.csv:1"])["admin_penalties:p.csv:1"]
    match = next(m.match for m in rec.mentions if m.role == "subject")
    assert match == {
        "method": "judgement",
        "judgement": body["id"],
        "kind": "split",
        "by": "investigator-2",
        "at": body["at"],
        "previous": {"method": "new", "reason": "name_only"},
    }
    # both cards show the split
    for shown in ("S-reg", new):
        card = subject_card(store, store.get_subjects([shown])[shown])
        assert body["id"] in [j["id"] for j in card["judgements"]]
    # confirming it back: the record's first match is still the one kept
    again = confirm(store, new, "S-reg", by="investigator-1")
    rec = store.get_records(["admin_penalties:p.csv:1"])["admin_penalties:p.csv:1"]
    match = next(m.match for m in rec.mentions if m.role == "subject")
    assert match["judgement"] == again["id"]
    assert match["previous"] == {"method": "new", "reason": "name_only"}


def test_a_split_off_record_without_a_name_gets_a_subject_without_one(store: GraphStore) -> None:
    _people_and_firms(store)
    body = split(store, "S-reg", (("dishonest_debtors:d.csv:1", ""),), by="investigator-1")
    subject = store.get_subjects([body["new_subject"]])[body["new_subject"]]
    # no name was written, and the organisation code stays with the registered one
    assert (subject.name, subject.names, subject.keys) == ("", [], [])


def test_the_review_queue_shows_open_live_pairs_most_uncertain_first(
    store: GraphStore, settings: Settings
) -> None:
    from graph.store.base import Batch

    _people_and_firms(store)
    t = settings.match_merge_threshold

    def pair(a: str, b: str, score: float, status: str = "open") -> dict[str, Any]:
        return {
            "a": a,
            "b": b,
            "score": score,
            "features": {"name": score},
            "record": f"r-{a}-{b}",
            "role": "subject",
            "status": status,
            "created_at": "2025-01-02T00:00:00+00:00",
        }

    # ids sort the stale pairs first: one stale pair must not hide the rest
    store.write(
        Batch(
            docs=[
                ("review", "a-gone", pair("S-gone", "S-reg", t)),
                ("review", "b-gone", pair("S-close", "S-gone", t)),
                ("review", "c-merged", pair("S-close-2", "S-reg", t)),
                ("review", "d-rejected-now", pair("S-close", "S-other", t)),
                ("review", "S-close-2|S-other", pair("S-close-2", "S-other", t)),
                ("review", "f-closed", pair("S-close", "S-person", t, "rejected")),
                ("review", "S-close|S-reg", pair("S-close", "S-reg", t - 0.10)),
                ("review", "S-close-2|S-person", pair("S-close-2", "S-person", t + 0.05)),
                ("review", "S-other|S-person", pair("S-other", "S-person", t - 0.01)),
                # judged before the merge below, by the ids the pairs named then
                *(
                    ("judgements", j.id, j.to_doc())
                    for j in (
                        Judgement(
                            "J-0",
                            "reject",
                            "r",
                            "2025-01-01T00:00:00+00:00",
                            a="S-close",
                            b="S-other",
                        ),
                        Judgement(
                            "J-1",
                            "reject",
                            "r",
                            "2025-01-01T00:00:01+00:00",
                            a="S-close-2",
                            b="S-other",
                        ),
                    )
                ),
            ]
        )
    )
    # S-close-2 is merged into S-reg, but the rejected pair still names it
    confirm(store, "S-close-2", "S-reg", by="investigator-1")
    queue = review_queue(store, settings)
    assert [i["pair"] for i in queue["items"]] == [
        "S-other|S-person",
        "S-close-2|S-person",
        "S-close|S-reg",
    ]
    assert queue["total"] == 3
    first = queue["items"][0]
    assert first == {
        "pair": "S-other|S-person",
        "a": "S-other",
        "b": "S-person",
        "score": t - 0.01,
        "uncertainty": 0.01,
        "features": {"name": t - 0.01},
        "record": "r-S-other-S-person",
        "role": "subject",
        "created_at": "2025-01-02T00:00:00+00:00",
        "a_subject": {
            "id": "S-other",
            "type": "organisation",
            "name": "永城市恒达建材有限公司",
            "keys": [f"uscc:{U_OTHER}"],
        },
        "b_subject": {"id": "S-person", "type": "person", "name": "张三", "keys": []},
    }
    # a pair whose side was merged shows the survivor
    assert (queue["items"][1]["a"], queue["items"][1]["b"]) == ("S-reg", "S-person")
