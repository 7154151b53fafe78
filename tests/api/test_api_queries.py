"""Association queries and joint punishment over the API, on both stores:
search, neighbours, paths, measures, listings, checks, repairs and changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from graph.settings import Settings
from graph.store.base import Batch, GraphStore
from tests.builders import AS_OF, ID_LR, USCC_DEBTOR, load_city, org

UNKNOWN_USCC = "91110000100000000A"  # well-formed shape; the checks treat it as a key


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", max_nodes=50, max_batch=20)


@pytest.fixture
def client(settings: Settings, store: GraphStore) -> Iterator[TestClient]:
    load_city(store)
    store.write(
        Batch(
            subjects=[org("O-twin-1", "商丘市重名有限公司"), org("O-twin-2", "商丘市重名有限公司")]
        )
    )
    with TestClient(create_app(settings, store=store)) as c:
        yield c


def h(settings: Settings, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KeyStore(settings.data_dir).create(role)[1]}"}


# -- search ------------------------------------------------------------------------


def test_search_by_key_is_exact(client: TestClient, settings: Settings) -> None:
    r = client.get("/subjects/search", params={"q": USCC_DEBTOR}, headers=h(settings, "analyst"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["match"] == "key"
    assert [x["id"] for x in body["results"]] == ["O-debtor"]
    assert body["results"][0]["score"] == 100.0


def test_search_by_name_ranks_with_scores(client: TestClient, settings: Settings) -> None:
    hdr = h(settings, "investigator")
    r = client.get("/subjects/search", params={"q": "甲建材"}, headers=hdr)
    body = r.json()
    assert body["match"] == "name"
    ids = [x["id"] for x in body["results"]]
    assert ids[:2] == ["O-debtor", "O-branch"]  # the closer name first
    assert body["results"][0]["score"] > body["results"][1]["score"]
    r = client.get("/subjects/search", params={"q": "甲建材", "type": "person"}, headers=hdr)
    assert r.json()["results"] == []
    r = client.get("/subjects/search", params={"q": "甲建材", "limit": 1, "offset": 1}, headers=hdr)
    assert [x["id"] for x in r.json()["results"]] == ["O-branch"]


def test_search_limits(client: TestClient, settings: Settings) -> None:
    hdr = h(settings, "analyst")
    r = client.get("/subjects/search", params={"q": "甲", "limit": 100_000}, headers=hdr)
    assert r.status_code == 400 and r.json()["error"]["code"] == "limit_exceeded"
    assert client.get("/subjects/search", headers=hdr).status_code == 422


# -- neighbours and paths ------------------------------------------------------------------


def test_neighbors_carry_relation_role_dates_and_records(
    client: TestClient, settings: Settings
) -> None:
    r = client.get(
        f"/subjects/{USCC_DEBTOR}/neighbors",
        params={"as_of": AS_OF},
        headers=h(settings, "analyst"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    ids = {n["id"] for n in body["nodes"]}
    assert {"P-lr", "P-cfo", "O-holdco", "O-branch", "P-guarantor"} <= ids
    assert "P-old-lr" not in ids  # not a legal representative on as_of
    cfo = next(e for e in body["edges"] if e["source"] == "P-cfo")
    assert cfo["relation"] == "officer" and cfo["role"] == "财务负责人"
    assert cfo["valid_from"] == "2019-01-01" and cfo["records"]
    share = next(e for e in body["edges"] if e["source"] == "O-holdco")
    assert share["share"] == 0.7
    assert body["truncated"] is False


def test_neighbors_filter_cap_and_errors(client: TestClient, settings: Settings) -> None:
    hdr = h(settings, "analyst")
    r = client.get(
        "/subjects/O-debtor/neighbors",
        params={"relation": "shareholder", "depth": 2, "as_of": AS_OF},
        headers=hdr,
    )
    assert {n["id"] for n in r.json()["nodes"]} == {
        "O-debtor",
        "O-holdco",
        "P-minor-holder",
        "P-top",
    }
    assert (
        client.get("/subjects/O-debtor/neighbors", params={"depth": 99}, headers=hdr).status_code
        == 400
    )
    r = client.get("/subjects/O-debtor/neighbors", params={"relation": "spouse"}, headers=hdr)
    assert r.status_code == 400 and r.json()["error"]["details"]["unknown"] == ["spouse"]
    r = client.get("/subjects/O-debtor/neighbors", params={"as_of": "2024/06/01"}, headers=hdr)
    assert r.status_code == 400 and "ISO date" in r.json()["error"]["message"]
    assert client.get("/subjects/nobody/neighbors", headers=hdr).status_code == 404


def test_neighbors_are_capped(settings: Settings, store: GraphStore) -> None:
    load_city(store)
    small = Settings(data_dir=settings.data_dir, max_nodes=3)
    with TestClient(create_app(small, store=store)) as c:
        r = c.get(
            "/subjects/O-debtor/neighbors", params={"as_of": AS_OF}, headers=h(small, "admin")
        )
    assert r.json()["truncated"] is True and len(r.json()["nodes"]) == 3


def test_paths_between_two_subjects(client: TestClient, settings: Settings) -> None:
    r = client.get(
        "/paths",
        params={"from": ID_LR, "to": "P-cfo", "as_of": AS_OF, "max_depth": 3},
        headers=h(settings, "investigator"),
    )
    assert r.status_code == 200, r.text
    (path,) = r.json()["paths"]
    assert [n["id"] for n in path["nodes"]] == ["P-lr", "O-debtor", "P-cfo"]
    first, second = path["hops"]
    assert first["relation"] == "legal_representative" and first["direction"] == "forward"
    assert second["direction"] == "backward" and second["records"]
    r = client.get(
        "/paths",
        params={"from": "P-lr", "to": "P-cfo", "max_depth": 50},
        headers=h(settings, "analyst"),
    )
    assert r.status_code == 400


# -- measures and listings --------------------------------------------------------------------


def test_measures_of_a_subject(client: TestClient, settings: Settings) -> None:
    # The engine names people by subject id here (full numbers only in POST /checks).
    r = client.get(
        "/subjects/P-lr/measures", params={"as_of": AS_OF}, headers=h(settings, "engine")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["subject"]["id"] == "P-lr" and body["as_of"] == AS_OF
    (m,) = body["measures"]
    assert (m["rule"], m["measure"]) == ("dishonest_debtor", "consumption_restriction")
    assert m["listing"]["number"] == "(2023)豫14执123号"
    assert m["path"][0]["relation"] == "legal_representative"
    # what the engine reads: punitive or not, direct or through a role, until when
    assert {k: m[k] for k in ("label", "punitive", "basis", "direct", "role", "until")} == {
        "label": "限制高消费及非生活和工作必需的消费",
        "punitive": True,
        "basis": "法释〔2015〕17号 第三条; 中办发〔2016〕64号; 发改财金〔2016〕141号",
        "direct": False,
        "role": "legal_representative",
        "until": "2025-03-01",
    }
    held = client.get(
        "/subjects/O-holdco/measures", params={"as_of": AS_OF}, headers=h(settings, "engine")
    )
    (review,) = held.json()["measures"]
    assert (review["measure"], review["punitive"], review["direct"], review["role"]) == (
        "related_party_review",
        False,
        False,
        "inferred_controller",
    )
    # an engine key does not see full ID numbers
    assert ID_LR not in r.text and ID_LR[:6] + "********" + ID_LR[-4:] in r.text


def test_listings_with_status(client: TestClient, settings: Settings) -> None:
    r = client.get(
        "/subjects/O-repaired/listings", params={"as_of": AS_OF}, headers=h(settings, "analyst")
    )
    by_id = {x["id"]: x["dates"] for x in r.json()["listings"]}
    assert by_id["L-repaired"]["status"] == "repaired"
    r = client.get(
        "/subjects/O-repaired/listings",
        params={"as_of": "2023-06-01"},
        headers=h(settings, "analyst"),
    )
    assert {x["id"]: x["dates"]["status"] for x in r.json()["listings"]}["L-repaired"] == "active"


# -- checks -----------------------------------------------------------------------------------


def test_checks_per_scenario(client: TestClient, settings: Settings) -> None:
    body = {
        "scenario": "procurement",
        "as_of": AS_OF,
        "subjects": [
            USCC_DEBTOR,
            "P-lr",
            "商丘市癸矿业有限公司",  # by name
            "P-guarantor",
            "O-holdco",
            UNKNOWN_USCC,
            "商丘市重名有限公司",  # two subjects have this name
            "商丘市无此企业有限公司",
            "O-general",
        ],
    }
    r = client.post("/checks", json=body, headers=h(settings, "engine"))
    assert r.status_code == 200, r.text
    res = {x["input"]: x for x in r.json()["results"]}
    assert res[USCC_DEBTOR]["result"] == "restricted"
    assert res[USCC_DEBTOR]["restrictions"][0]["measure"] == "procurement_exclusion"
    assert res["P-lr"]["result"] == "clear"  # consumption restriction does not bar procurement
    assert res["商丘市癸矿业有限公司"]["result"] == "restricted"
    assert res["商丘市癸矿业有限公司"]["matched_by"] == "name"
    assert res["P-guarantor"]["result"] == "review"
    assert res["P-guarantor"]["flags"][0]["measure"] == "guarantee_risk_alert"
    assert res["O-holdco"]["result"] == "review"
    # a valid key nobody has: no records on the platform
    assert (res[UNKNOWN_USCC]["result"], res[UNKNOWN_USCC]["found"]) == ("clear", False)
    assert res["商丘市重名有限公司"]["result"] == "review"
    assert res["商丘市重名有限公司"]["candidates"] == ["O-twin-1", "O-twin-2"]
    assert res["商丘市无此企业有限公司"]["result"] == "review"
    assert res["O-general"]["result"] == "clear"
    assert r.json()["counts"]["restricted"] == 2

    def answer(x: dict[str, Any]) -> tuple[Any, ...]:
        who = (x["subject"] or {}).get("id")
        return (x["found"], x["matched_by"], x["result"], x["reasons"], x.get("candidates"), who)

    # what the engine reads beside the result: was the input found, how, why
    penalty = "severe_admin_penalty"
    assert {k: answer(v) for k, v in res.items()} == {
        USCC_DEBTOR: (
            True, "key", "restricted", ["dishonest_debtor:procurement_exclusion"], None, "O-debtor"
        ),
        "P-lr": (True, "key", "clear", [], None, "P-lr"),
        "商丘市癸矿业有限公司": (
            True, "name", "restricted",
            [f"{penalty}:enhanced_supervision", f"{penalty}:procurement_exclusion"],
            None, "O-safety",
        ),
        "P-guarantor": (
            True, "key", "review", ["loan_default_guarantee:guarantee_risk_alert"], None,
            "P-guarantor",
        ),
        "O-holdco": (
            True, "key", "review", ["dishonest_debtor:related_party_review"], None, "O-holdco"
        ),
        UNKNOWN_USCC: (False, "unknown_key", "clear", ["no records on the platform"], None, None),
        "商丘市重名有限公司": (
            True, "name", "review", ["the input names several subjects"],
            ["O-twin-1", "O-twin-2"], None,
        ),
        "商丘市无此企业有限公司": (
            False, "not_found", "review", ["no subject has this name"], None, None
        ),
        "O-general": (True, "key", "clear", [], None, "O-general"),
    }  # fmt: skip
    # a resolved input shows who was checked, not only an id
    assert res["商丘市癸矿业有限公司"]["subject"]["name"] == "商丘市癸矿业有限公司"


def test_checks_scenarios_differ(client: TestClient, settings: Settings) -> None:
    hdr = h(settings, "engine")

    def result(scenario: str, subject: str) -> str:
        body = {"scenario": scenario, "subjects": [subject], "as_of": AS_OF}
        return str(client.post("/checks", json=body, headers=hdr).json()["results"][0]["result"])

    assert result("market_access", "P-tax-fo") == "restricted"
    assert result("procurement", "P-tax-fo") == "clear"
    assert result("commendation", "O-red") == "restricted"
    assert result("bidding", "O-safety") == "review"  # enhanced supervision, no bidding ban


class SearchCounting:
    """A store proxy that counts ``search`` calls (thread-safe: names are searched
    concurrently)."""

    def __init__(self, inner: GraphStore) -> None:
        self.inner = inner
        self.searches: list[str] = []
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def search(self, text: str, subject_type: str | None = None, limit: int = 50) -> list[Any]:
        with self._lock:
            self.searches.append(text)
        return self.inner.search(text, subject_type, limit)


def test_checks_search_once_per_normalised_name(settings: Settings, store: GraphStore) -> None:
    load_city(store)
    counting = SearchCounting(store)
    names = [
        "商丘市癸矿业有限公司",
        "商丘市癸礦業有限公司",  # traditional characters: the same name
        "商丘市癸矿业有限责任公司",  # a legal-form variant: the same name again
        "商丘市无此企业有限公司",
    ]
    body = {"scenario": "procurement", "as_of": AS_OF, "subjects": names}
    with TestClient(create_app(settings, store=counting)) as c:  # type: ignore[arg-type]
        r = c.post("/checks", json=body, headers=h(settings, "engine"))
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["result"] for x in res] == ["restricted", "restricted", "restricted", "review"]
    assert {x["subject"]["id"] for x in res[:3]} == {"O-safety"}
    assert sorted(counting.searches) == ["商丘市无此企业有限公司", "商丘市癸矿业有限公司"]


def test_checks_never_guess_a_name_beyond_the_search_cap(
    settings: Settings, store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name contained in more names than one search returns: a second, wider
    search finds every subject bearing it, and past the widest one the check
    says review rather than take the one hit it saw as unique."""
    from graph import lookup
    from tests.builders import org

    monkeypatch.setattr(lookup, "NAME_FIRST_POOL", 3)
    monkeypatch.setattr(lookup, "CANDIDATE_POOL", 8)
    branches = [org(f"A-{i:02d}", f"商丘市寿山有限公司第{i}分公司") for i in range(5)]
    many_branches = [org(f"A-{i:02d}", f"商丘市福海有限公司第{i}分公司") for i in range(10)]
    store.write(
        Batch(
            subjects=[
                *branches,
                *many_branches,
                org("Z-shoushan", "商丘市寿山有限公司"),
                org("Z-fuhai", "商丘市福海有限公司"),
            ]
        )
    )
    body = {
        "scenario": "bidding",
        "as_of": AS_OF,
        "subjects": ["商丘市寿山有限公司", "商丘市福海有限公司"],
    }
    with TestClient(create_app(settings, store=store)) as c:
        res = c.post("/checks", json=body, headers=h(settings, "engine")).json()["results"]
    found, capped = res
    assert (found["matched_by"], found["result"]) == ("name", "clear")
    assert found["subject"]["id"] == "Z-shoushan"
    assert (capped["matched_by"], capped["result"]) == ("name_too_common", "review")
    assert capped["subject"] is None
    # nothing was picked, and the answer says why rather than list a sample
    assert (capped["found"], capped["candidates"]) == (False, [])
    assert capped["reasons"] == ["too many subjects' names contain this name to resolve it"]


def test_a_capped_name_search_never_picks_its_one_hit_and_shows_two_as_namesakes(
    settings: Settings, store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the widest search, a name seen on one subject is still too common to
    be that subject (review, the one seen shown as a candidate); seen on two it
    is already two namesakes (review by name, both candidates)."""
    from graph import lookup
    from tests.builders import org

    monkeypatch.setattr(lookup, "NAME_FIRST_POOL", 3)
    monkeypatch.setattr(lookup, "CANDIDATE_POOL", 8)
    subjects = [
        org(f"A-{i:02d}", f"商丘市{town}有限公司第{i}分公司")
        for town in ("福海", "寿山")
        for i in range(10)
    ]
    # ids that sort first: the stores return the hits of a capped search by id
    subjects += [
        org("0-fuhai", "商丘市福海有限公司"),
        org("0-shoushan-1", "商丘市寿山有限公司"),
        org("0-shoushan-2", "商丘市寿山有限公司"),
    ]
    store.write(Batch(subjects=subjects))
    body = {
        "scenario": "bidding",
        "as_of": AS_OF,
        "subjects": ["商丘市福海有限公司", "商丘市寿山有限公司"],
    }
    with TestClient(create_app(settings, store=store)) as c:
        one, two = c.post("/checks", json=body, headers=h(settings, "engine")).json()["results"]
    assert (one["matched_by"], one["result"], one["found"], one["candidates"]) == (
        "name_too_common",
        "review",
        False,
        ["0-fuhai"],
    )
    assert one["subject"] is None
    assert (two["matched_by"], two["result"], two["candidates"]) == (
        "name",
        "review",
        ["0-shoushan-1", "0-shoushan-2"],
    )
    assert two["subject"] is None


def test_checks_validation(client: TestClient, settings: Settings) -> None:
    hdr = h(settings, "engine")
    r = client.post("/checks", json={"scenario": "parking", "subjects": ["x"]}, headers=hdr)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    r = client.post("/checks", json={"scenario": "bidding", "subjects": ["x"] * 21}, headers=hdr)
    assert r.status_code == 400 and r.json()["error"]["code"] == "limit_exceeded"
    r = client.post("/checks", json={"scenario": "bidding", "subjects": []}, headers=hdr)
    assert r.status_code == 422
    r = client.post(
        "/checks",
        json={"scenario": "bidding", "subjects": ["x"], "as_of": "01.06.2024"},
        headers=hdr,
    )
    assert r.status_code == 400


def test_checks_take_the_rule_books_scenarios(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A scenario is declared in rules.yaml alone: OpenAPI lists the rule book's,
    an unknown one is refused naming them, and one added to the rule book is
    answered with no change to the router."""
    import yaml

    import graph.rules
    from graph.rules import rulebook

    hdr = h(settings, "engine")
    schema = client.get("/openapi.json").json()["components"]["schemas"]["CheckRequest"]
    assert schema["properties"]["scenario"]["enum"] == list(rulebook().scenarios)
    r = client.post("/checks", json={"scenario": "parking", "subjects": ["x"]}, headers=hdr)
    assert all(name in r.text for name in rulebook().scenarios), r.text
    data = yaml.safe_load(graph.rules.RULES_FILE.read_text(encoding="utf-8"))
    data["scenarios"]["tender_review"] = {**data["scenarios"]["bidding"], "label": "招标复核"}
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(graph.rules, "RULES_FILE", rules_file)
    rulebook.cache_clear()
    try:
        body = {"scenario": "tender_review", "subjects": [USCC_DEBTOR], "as_of": AS_OF}
        r = client.post("/checks", json=body, headers=hdr)
        assert r.status_code == 200, r.text
        # the same restrictions as the scenario it copies
        bidding = {**body, "scenario": "bidding"}
        same = client.post("/checks", json=bidding, headers=hdr).json()["results"]
        assert r.json()["results"] == same
    finally:
        rulebook.cache_clear()


# -- repairs and changes ------------------------------------------------------------------------


def test_repair_takes_effect_at_once_and_is_in_the_change_feed(
    client: TestClient, settings: Settings
) -> None:
    inv, engine = h(settings, "investigator"), h(settings, "engine")
    since = client.get("/changes", params={"since": "2000-01-01"}, headers=engine)
    assert since.status_code == 200
    before = {"scenario": "procurement", "subjects": [USCC_DEBTOR], "as_of": AS_OF}
    assert client.post("/checks", json=before, headers=engine).json()["results"][0]["result"] == (
        "restricted"
    )
    r = client.post(
        "/repairs",
        json={"listing": "(2023)豫14执123号", "decided": "2024-05-01", "department": "商丘中院"},
        headers=inv,
    )
    assert r.status_code == 200, r.text
    assert r.json()["subjects"] == ["O-debtor"]
    assert client.post("/checks", json=before, headers=engine).json()["results"][0]["result"] == (
        "clear"
    )
    m = client.get("/subjects/P-lr/measures", params={"as_of": AS_OF}, headers=engine).json()
    assert m["measures"] == []
    # before the decision date the listing still held
    m = client.get("/subjects/P-lr/measures", params={"as_of": "2024-04-30"}, headers=engine).json()
    assert len(m["measures"]) == 1
    changes = client.get("/changes", params={"since": "2000-01-01"}, headers=engine).json()
    assert "O-debtor" in changes["changed"]
    assert {"P-lr", "P-guarantor", "O-holdco"} <= set(changes["subjects"])  # one hop out
    r = client.get("/changes", params={"since": "2999-01-01"}, headers=engine)
    assert r.status_code == 400 and "future" in r.json()["error"]["message"]
    # ``now`` is whole seconds, like the log, so an entry logged in the second of
    # a poll comes again in the next one rather than never: past that second,
    # the repair is behind and nothing is new
    time.sleep(1.05)
    now = client.get("/changes", params={"since": "2000-01-01"}, headers=engine).json()["now"]
    later = client.get("/changes", params={"since": now}, headers=engine).json()
    assert (later["entries"], later["subjects"]) == (0, [])


def test_repair_by_listing_id_for_listings_without_number(
    client: TestClient, settings: Settings
) -> None:
    inv = h(settings, "admin")
    r = client.post("/repairs", json={"listing": "L-tax", "decided": "2024-02-01"}, headers=inv)
    assert r.status_code == 200, r.text
    m = client.get("/subjects/P-tax-fo/measures", params={"as_of": AS_OF}, headers=inv).json()
    assert m["measures"] == []


def test_repair_refusals(client: TestClient, settings: Settings) -> None:
    inv = h(settings, "investigator")
    r = client.post(
        "/repairs", json={"listing": "商市监罚〔2024〕2号", "decided": "2024-02-01"}, headers=inv
    )
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["details"] == {"listing": "L-general", "earliest": "2024-04-01"}
    assert err["message"] == "a repair can be decided only after the minimum publicity period"
    r = client.post("/repairs", json={"listing": "no-such", "decided": "2024-02-01"}, headers=inv)
    assert r.status_code == 404
    err = r.json()["error"]
    assert (err["message"], err["details"]) == (
        "no listing has this number or id",
        {"listing": "no-such"},
    )
    r = client.post("/repairs", json={"listing": "L-tax", "decided": "2023-01-01"}, headers=inv)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["message"] == "a repair cannot precede the listing"
    assert err["details"] == {"listing": "L-tax", "start": "2023-05-01", "decided": "2023-01-01"}
    r = client.post("/repairs", json={"listing": "L-tax", "decided": "2999-01-01"}, headers=inv)
    assert r.status_code == 400
    err = r.json()["error"]
    assert (err["message"], err["details"]) == (
        "a repair cannot be decided in the future",
        {"decided": "2999-01-01"},
    )
    r = client.post(
        "/repairs",
        json={"listing": "L-tax", "decided": "2024-02-01"},
        headers=h(settings, "engine"),
    )
    assert r.status_code == 403
    # the first day each allows is allowed: the listing's own start, the end
    # of the minimum publicity period
    r = client.post("/repairs", json={"listing": "L-tax", "decided": "2023-05-01"}, headers=inv)
    assert r.status_code == 200, r.text
    r = client.post(
        "/repairs", json={"listing": "商市监罚〔2024〕2号", "decided": "2024-04-01"}, headers=inv
    )
    assert r.status_code == 200, r.text
    # a second decision on the same listing, later, is kept beside the first,
    # which still ended the listing on its own day
    r = client.post(
        "/repairs", json={"listing": "商市监罚〔2024〕2号", "decided": "2024-06-01"}, headers=inv
    )
    assert r.status_code == 200, r.text
    got = client.get(
        "/subjects/O-general/listings", params={"as_of": "2024-05-01"}, headers=inv
    ).json()["listings"]
    assert {x["id"]: x["dates"]["status"] for x in got}["L-general"] == "repaired"
    repairs = sorted(x["dates"]["start"] for x in got if x["feed"] == "credit_repairs")
    assert repairs == ["2024-04-01", "2024-06-01"]


def test_changes_validation(client: TestClient, settings: Settings) -> None:
    hdr = h(settings, "engine")
    # a bad date names the parameter and the value it got
    r = client.get("/subjects/O-debtor/measures", params={"as_of": "2024-13-01"}, headers=hdr)
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {"parameter": "as_of", "value": "2024-13-01"}
    assert r.json()["error"]["message"].startswith("as_of must be an ISO date")
    assert client.get("/changes", params={"since": "yesterday"}, headers=hdr).status_code == 400
    assert client.get("/changes", headers=hdr).status_code == 422
    assert (
        client.get(
            "/changes", params={"since": "2024-01-01"}, headers=h(settings, "analyst")
        ).status_code
        == 403
    )


def test_openapi_documents_the_new_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/subjects/search",
        "/subjects/{key}/neighbors",
        "/paths",
        "/subjects/{key}/measures",
        "/subjects/{key}/listings",
        "/checks",
        "/repairs",
        "/changes",
    ):
        assert p in paths, p
    assert list(paths).index("/subjects/search") < list(paths).index("/subjects/{key}")


def test_a_checked_subject_the_store_no_longer_has_is_shown_by_its_id() -> None:
    """Between resolving an input and reading its subject, a merge may take the
    subject away: the answer still says which subject was checked, by id, in
    the place a resolved subject goes; an unresolved input's subject is null
    after its reasons."""
    from graph.checks import CheckAnswer

    gone = CheckAnswer(True, "key", "clear", [], subject_id="S-merged").to_dict()
    assert list(gone)[:4] == ["found", "matched_by", "subject", "result"]
    assert gone["subject"] == {"id": "S-merged"}
    unresolved = CheckAnswer(False, "not_found", "review", ["no subject has this name"]).to_dict()
    assert list(unresolved)[:5] == ["found", "matched_by", "result", "reasons", "subject"]
    assert unresolved["subject"] is None


def test_the_key_hook_sees_the_keys_answers_before_any_name_is_searched(
    store: GraphStore,
) -> None:
    """The API counts a masked role's full ID numbers checked without a match
    (api.oracle) from this hook, before the names cost a search."""
    from graph.checks import resolve_inputs

    load_city(store)
    seen: list[dict[str, Any]] = []
    inputs = [USCC_DEBTOR, UNKNOWN_USCC, "商丘市无此企业有限公司"]
    got = resolve_inputs(store, inputs, keys_resolved=lambda out: seen.append(dict(out)))
    assert len(seen) == 1 and set(seen[0]) == {USCC_DEBTOR, UNKNOWN_USCC}
    assert seen[0][UNKNOWN_USCC].ids == ()
    assert set(got) == set(inputs)
