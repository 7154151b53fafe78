"""What the investigator's workbench reads from the API, on both stores: the
label table (GET /model), each node's risk, subject names on path and measure
hops; and how it is served: UTF-8 JSON, JSON for unparseable requests, the
make-run key kept and reused."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import main
from api.keys import KeyStore
from api.server import JSONErrorH11Protocol
from graph.errors import Unauthorized
from graph.evidence.roles import (
    ANOTHER_HOLDER,
    CONFLICT,
    DATED,
    KNOWN,
    NAMED_IN_RECORD,
    NO_EVIDENCE,
    NOT_HOLDING,
    SNAPSHOT,
    UNKNOWN,
)
from graph.propagate.engine import (
    RECORD_NAMES_ANOTHER,
    ROLE_TIME_UNKNOWN,
    TITLE_ONLY,
    measures_many,
)
from graph.risk import assess
from graph.rules import rulebook
from graph.settings import Settings
from graph.store.base import GraphStore
from graph.store.embedded import EmbeddedStore
from loaders.mapping import mappings
from tests.builders import AS_OF, ID_LR, load_city


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings, store: GraphStore) -> Iterator[TestClient]:
    load_city(store)
    with TestClient(create_app(settings, store=store)) as c:
        yield c


def h(settings: Settings, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KeyStore(settings.data_dir).create(role)[1]}"}


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
@pytest.mark.parametrize("role", ["admin", "investigator", "engine", "analyst"])
def test_model_labels_every_code_for_every_role(
    client: TestClient, settings: Settings, role: str
) -> None:
    r = client.get("/model", headers=h(settings, role))
    assert r.status_code == 200, r.text
    # UTF-8 as it is, not \\uXXXX escapes
    assert "法定代表人".encode() in r.content and b"\\u" not in r.content
    vocab = r.json()
    book = rulebook()
    assert set(vocab["measures"]) == set(book.measures)
    assert {rule.id for rule in book.rules} == set(vocab["rules"])
    assert set(vocab["feeds"]) == set(mappings())
    assert all(
        v["label"] for table in ("relation_types", "listing_kinds") for v in vocab[table].values()
    )
    # every role a rule names and every role a feed's records use has a label
    rule_roles = {role.role for rule in book.rules for role in rule.implicated}
    feed_roles = {p for m in mappings().values() for p in m.parties}
    assert rule_roles | feed_roles <= set(vocab["roles"]), (rule_roles | feed_roles) - set(
        vocab["roles"]
    )
    for code, zh in (("birth_year", "出生年份"), ("directly_responsible", "直接责任人员")):
        assert zh in (vocab["attributes"].get(code), vocab["roles"].get(code))
    assert vocab["values"]["sex"] == {"female": "女", "male": "男"}
    # why a review instead of a punishment, and how each hop's role time was known
    assert {ROLE_TIME_UNKNOWN, RECORD_NAMES_ANOTHER, TITLE_ONLY} <= set(vocab["review_reasons"])
    # every piece of evidence a review pair is scored on has a label
    from graph.resolve.compare import COMPARISONS

    scored = {"name", "former_name", "region_prefix", "branch"} | {c.feature for c in COMPARISONS}
    assert scored <= set(vocab["match_features"]), scored - set(vocab["match_features"])
    assert {KNOWN, UNKNOWN, NOT_HOLDING} <= set(vocab["role_time_states"])
    assert {DATED, SNAPSHOT, NAMED_IN_RECORD, CONFLICT, NO_EVIDENCE, ANOTHER_HOLDER} <= set(
        vocab["role_time_sources"]
    )
    assert set(vocab["risk"]) == {"listed", "implicated", "review", "clear"}
    # one drawing table for the page and the notebooks' figures (graph/style.yaml)
    from graph import figures
    from graph.model import model

    drawing = vocab["style"]
    assert set(drawing["risk"]) == set(vocab["risk"])
    assert set(drawing["subject_types"]) == set(vocab["subject_types"])
    assert set(model().relation_types) <= set(drawing["relation_types"])
    assert {t: d["fill"] for t, d in drawing["subject_types"].items()} == figures.TYPE_COLOURS
    assert [c for c, _, _ in figures.RELATION_STYLES.values()] == [
        d["color"] for d in drawing["relation_types"].values()
    ]
    assert figures.RISK_COLOURS["listed"] == drawing["risk"]["listed"]["fill"]
    # commendations and licences are not punitive: the page colours them apart
    assert vocab["listing_kinds"]["red_list"]["punitive"] is False
    assert vocab["listing_kinds"]["dishonest_debtors"]["punitive"] is True
    assert client.get("/model").status_code == 401


def test_labels_yaml_names_no_code_twice() -> None:
    data = yaml.safe_load(Path("graph/labels.yaml").read_text(encoding="utf-8"))
    for table in ("roles", "attributes", "match_methods", "listing_statuses", "properties"):
        assert all(isinstance(v, str) and v for v in data[table].values()), table


def test_neighbours_carry_each_subjects_risk(client: TestClient, settings: Settings) -> None:
    r = client.get(
        "/subjects/O-debtor/neighbors",
        params={"as_of": AS_OF, "depth": 2},
        headers=h(settings, "analyst"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    risk = {n["id"]: n["risk"] for n in body["nodes"]}
    assert body["center"]["risk"] == risk["O-debtor"] == "listed"
    assert risk["P-lr"] == "implicated"  # legal representative of a dishonest debtor
    assert risk["P-guarantor"] == "review"  # a guarantee alert is not a punishment
    assert "clear" in risk.values()
    # the same reading as the measures themselves, node by node
    store = client.app.state.store
    found = measures_many(store, list(risk), AS_OF)
    assert risk == {sid: assess(found.get(sid, [])).level for sid in risk}
    # callers that do not need it can skip the work
    bare = client.get(
        "/subjects/O-debtor/neighbors",
        params={"as_of": AS_OF, "risk": "false"},
        headers=h(settings, "analyst"),
    ).json()
    assert all("risk" not in n for n in bare["nodes"])


def test_path_hops_name_their_subjects(client: TestClient, settings: Settings) -> None:
    r = client.get(
        "/paths",
        params={"from": ID_LR, "to": "P-cfo", "as_of": AS_OF, "max_depth": 3},
        headers=h(settings, "investigator"),
    )
    (path,) = r.json()["paths"]
    names = {n["id"]: n["name"] for n in path["nodes"]}
    for hop in path["hops"]:
        assert hop["from_name"] == names[hop["from"]] and hop["to_name"] == names[hop["to"]]
    assert path["hops"][0]["from_name"] == "王伟"
    assert {n["id"]: n["risk"] for n in path["nodes"]}["O-debtor"] == "listed"


def test_measures_name_hops_and_sum_up_the_risk(client: TestClient, settings: Settings) -> None:
    r = client.get(
        "/subjects/P-lr/measures", params={"as_of": AS_OF}, headers=h(settings, "engine")
    )
    body = r.json()
    assert body["risk"]["level"] == "implicated"
    assert body["risk"]["punitive"] == sorted(
        {m["measure"] for m in body["measures"] if m["punitive"]}
    )
    propagated = [m for m in body["measures"] if m["path"]]
    assert propagated
    for m in propagated:
        assert m["listing"]["subject_name"] == "商丘市甲建材有限公司"
        for hop in m["path"]:
            assert hop["from_name"] and hop["to_name"]
        assert m["path"][-1]["to_name"] == "王伟"


# -- serving ------------------------------------------------------------------------


def test_a_raw_non_ascii_url_gets_a_json_error(tmp_path: Path) -> None:
    """curl sends typed Chinese as raw bytes; HTTP refuses them. The answer says so
    in JSON, like every other error, with the way to encode the query."""
    settings = Settings(data_dir=tmp_path / "data")
    app = create_app(settings, store=EmbeddedStore(tmp_path / "store"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", http=JSONErrorH11Protocol))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall("GET /subjects/search?q=商丘 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            raw = b""
            while chunk := conn.recv(65536):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400")
        assert b"content-type: application/json" in head.lower()
        error = json.loads(body)["error"]
        assert error["code"] == "bad_request" and "--data-urlencode" in error["message"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_make_run_keeps_and_reuses_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CREDITLINK_DATA_DIR", str(tmp_path / "data"))
    from graph.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["keys", "ensure", "--role", "investigator", "--label", "make-run"]) == 0
        first = capsys.readouterr().out.splitlines()
        assert main(["keys", "ensure", "--role", "investigator", "--label", "make-run"]) == 0
        second = capsys.readouterr().out.splitlines()
    finally:
        get_settings.cache_clear()
    assert first[0].startswith("created") and second[0].startswith("reused")
    assert first[-1] == second[-1] and re.fullmatch(r"cl_[0-9a-f]{8}_\S+", first[-1])
    keys = KeyStore(tmp_path / "data")
    assert [k.label for k in keys.list()] == ["make-run"]  # one key, not one per run
    kept = keys.kept_key_path("make-run")
    assert kept.stat().st_mode & 0o777 == 0o600
    # a revoked kept key is replaced, not printed again
    keys.revoke(keys.list()[0].key_id)
    info, key, created = keys.ensure("investigator", "make-run")
    assert created and key != first[-1] and keys.verify(key).key_id == info.key_id
    with pytest.raises(Unauthorized):
        keys.verify(first[-1])


def test_the_page_note_says_where_to_go_and_how(tmp_path: Path) -> None:
    from api.cli import page_note

    text = page_note("http://127.0.0.1:8000", "cl_0000_x", False, str(tmp_path / "k"))
    assert "open http://127.0.0.1:8000/ and paste the key" in text
    assert "reused" in text and "--data-urlencode 'q=商丘'" in text and "cl_0000_x" in text


def test_a_listing_waiting_on_identity_marks_the_candidate_review(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    """A masked ID number agreeing with one person: no measure yet, but his node
    and his card say `review`, as his credit check does, until a reviewer decides."""
    from graph.resolve.judgements import judge
    from loaders.pipeline import FileLoader
    from tests.builders import DING, O2, reg, write

    loader = FileLoader(store, settings)
    loader.load(
        write(
            tmp_path / "registry_2024.csv",
            [reg("睢县宏达纺织有限公司", O2, "丁", DING, "2015-01-01", "2024-05-31")],
        )
    )
    masked = DING[:10] + "****" + DING[14:]
    loader.load(
        write(
            tmp_path / "dishonest_debtors_5.csv",
            [
                {
                    "案号": "(2024)豫14执10号",
                    "被执行人姓名/名称": "丁",
                    "身份证号码/组织机构代码": masked,
                    "发布时间": "2024-02-01",
                }
            ],
        )
    )
    hdr = h(settings, "investigator")
    with TestClient(create_app(settings, store=store)) as c:
        body = c.get(f"/subjects/{DING}/measures", params={"as_of": AS_OF}, headers=hdr).json()
        assert body["measures"] == [] and body["pending"]
        assert body["risk"]["level"] == "review"
        hood = c.get(f"/subjects/{O2}/neighbors", params={"as_of": AS_OF}, headers=hdr).json()
        ding = next(n for n in hood["nodes"] if n["type"] == "person")
        assert ding["risk"] == "review" and hood["center"]["risk"] == "clear"
        a, b = body["pending"][0]["pair"].split("|")
        judge(store, {"kind": "reject", "a": a, "b": b}, by="reviewer-1")
        body = c.get(f"/subjects/{DING}/measures", params={"as_of": AS_OF}, headers=hdr).json()
        assert body["risk"]["level"] == "clear"
