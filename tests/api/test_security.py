"""Access control and personal data over the whole API.

The tests walk the routes of the real app, so a router added later is covered
without editing this file: every route but the public ones demands a key;
what each role may call follows from the permissions the route's
dependencies demand (``api.deps.require``) and the one table in
``api.roles``; an ID number never reaches a role that may not see it, in a
payload or in an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from api.app import create_app
from api.audit import route_permissions
from api.keys import ROLES, KeyStore
from api.roles import PERMISSIONS, allowed
from graph.identifiers import id_check_char
from graph.model import Mention, SourceRecord, Subject
from graph.privacy import mask_error_payload, mask_payload
from graph.settings import Settings
from graph.store.base import Batch, GraphStore

PUBLIC = re.compile(r"^/(health|openapi\.json|docs.*|redoc.*)$")
PERSON_ID = "411425198001011231"
PERSON_ID15 = "411425800101123"  # the same person's legacy 15-digit number
UNKNOWN_ID = "110101199003077715"  # well-formed, nobody has it
USCC = "91411403MA9GKJ1F2X"


def seed(store: GraphStore) -> None:
    store.write(
        Batch(
            subjects=[
                Subject(
                    id="S-org",
                    type="organisation",
                    name="商丘市华通建材有限公司",
                    names=["商丘市华通建材有限公司"],
                    norm_names=["商丘市华通建材有限公司"],
                    keys=[f"uscc:{USCC}", f"org_code:{USCC[8:17]}"],
                ),
                Subject(
                    id="S-person",
                    type="person",
                    name="王伟",
                    names=["王伟"],
                    norm_names=["王伟"],
                    keys=[f"id_number:{PERSON_ID}"],
                    # what the loader derives from the number
                    attrs={"region": PERSON_ID[:6], "birth_year": 1980, "sex": "male"},
                ),
            ],
            records=[
                SourceRecord(
                    id="dishonest_debtors:f.csv:1",
                    feed="dishonest_debtors",
                    file="f.csv",
                    row=1,
                    loaded_at="2024-01-01T00:00:00Z",
                    digest="d",
                    # Raw cells as the department sent them: the full number,
                    # and the legacy one in a column that says what it is.
                    values={
                        "被执行人": "王伟",
                        "身份证号码": PERSON_ID,
                        "旧身份证号": PERSON_ID15,
                        "备注": f"身份证 {PERSON_ID} 已核实",
                        "性别": "男",
                        "年龄": "44",
                    },
                    cleaned={
                        "fields": {"id_number": PERSON_ID, "sex": "男", "age": "44"},
                        "parties": {},
                    },
                    mentions=[
                        Mention(
                            "S-person",
                            "subject",
                            {"method": "key", "key": f"id_number:{PERSON_ID}"},
                        )
                    ],
                )
            ],
        )
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


class RouteSpy:
    """Notes which route served each request (routing stores it in the scope).

    Going through a real request rather than the app's route list keeps the
    tests independent of how FastAPI nests included routers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope.get("route") is not None:
            SERVED[(scope["method"], scope["path"])] = scope["route"]


SERVED: dict[tuple[str, str], Any] = {}


@pytest.fixture
def client(settings: Settings, store: GraphStore) -> Iterator[TestClient]:
    seed(store)
    app = create_app(settings, store=store)
    app.add_middleware(RouteSpy)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def headers(settings: Settings) -> dict[str, dict[str, str]]:
    keys = KeyStore(settings.data_dir)
    return {role: {"Authorization": f"Bearer {keys.create(role)[1]}"} for role in ROLES}


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path template) of every operation the app documents, public ones left out."""
    schema = client.get("/openapi.json").json()
    found = []
    for path, ops in schema["paths"].items():
        if PUBLIC.match(path):
            continue
        for method in ops:
            if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                found.append((method.upper(), path))
    return sorted(found)


def permissions_of(client: TestClient, method: str, path: str) -> set[str]:
    url = concrete(path, "S-org")
    client.request(method, url)
    route = SERVED.get((method, url))
    assert route is not None, f"{method} {url} was not routed to {path}"
    assert getattr(route, "path", None) == path, (route, path)
    return route_permissions(route)


def concrete(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def call(
    client: TestClient, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, str, object]:
    r = client.request(method, path, headers=headers or {})
    try:
        body: object = r.json()
    except ValueError:
        body = None
    return r.status_code, r.text, body


# --- keys ---------------------------------------------------------------------


def test_route_walk_finds_the_known_routes(client: TestClient) -> None:
    paths = {p for _, p in api_routes(client)}
    assert {"/subjects/{key}", "/audit"} <= paths


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
def test_every_route_but_the_public_ones_demands_a_key(client: TestClient) -> None:
    for method, path in api_routes(client):
        for auth in (None, {"Authorization": "Bearer cl_00000000_forged"}):
            status, _, body = call(client, method, concrete(path, "S-org"), auth)
            assert status == 401, (method, path, auth, status)
            assert isinstance(body, dict) and body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
def test_the_public_routes_need_no_key(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
def test_every_route_demands_a_known_permission(client: TestClient) -> None:
    """A route with no ``require(...)`` would be open to every role: name it here."""
    for method, path in api_routes(client):
        perms = permissions_of(client, method, path)
        assert perms, f"{method} {path} demands no permission (use api.deps.require)"
        assert perms <= set(PERMISSIONS), (path, perms)


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
def test_role_matrix(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    """Allowed → neither 401 nor 403; not allowed → 403 JSON, for every route × role."""
    for method, path in api_routes(client):
        perms = permissions_of(client, method, path)
        for role in ROLES:
            may = all(allowed(role, p) for p in perms)
            status, text, body = call(client, method, concrete(path, "S-org"), headers[role])
            if may:
                assert status not in (401, 403), (method, path, role, status, text)
            else:
                assert status == 403, (method, path, role, status, text)
                assert isinstance(body, dict) and body["error"]["code"] == "forbidden"


def test_the_role_table_says_what_the_issue_says() -> None:
    # loading: the admin, and the upload-only role (a department's key, the
    # key a server hands its CLI), which may do nothing else
    assert PERMISSIONS["load"] == {"admin", "loader"}
    assert {p for p, roles in PERMISSIONS.items() if "loader" in roles} == {"load"}
    assert PERMISSIONS["audit"] == {"admin"}
    assert PERMISSIONS["see_id_numbers"] == {"investigator"}
    assert PERMISSIONS["judge"] == {"admin", "investigator"}
    assert PERMISSIONS["repair"] == {"admin", "investigator"}
    for p in ("checks", "measures", "changes"):
        assert allowed("engine", p)
    for p in ("read", "judge", "repair", "load", "audit", "review", "quality"):
        assert not allowed("engine", p)
    for p in ("judge", "repair", "load", "audit", "changes"):
        assert not allowed("analyst", p)
    for p, roles in PERMISSIONS.items():
        if p not in ("load", "audit", "see_id_numbers"):
            assert "investigator" in roles, p


def test_revoked_key_is_refused(client: TestClient, settings: Settings) -> None:
    keys = KeyStore(settings.data_dir)
    info, key = keys.create("admin")
    h = {"Authorization": f"Bearer {key}"}
    assert client.get("/audit", headers=h).status_code == 200
    keys.revoke(info.key_id)
    r = client.get("/audit", headers=h)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


# --- ID numbers ---------------------------------------------------------------

FULL = (PERSON_ID, PERSON_ID15, UNKNOWN_ID)


def leaks(text: str) -> list[str]:
    return [v for v in FULL if v in text]


def personal_fields(payload: object) -> list[str]:
    """Names of fields anywhere in a payload that tell a birth date, age or sex."""
    found: list[str] = []
    if isinstance(payload, dict):
        for k, v in payload.items():
            if k in ("birth_year", "birth_date", "sex", "age", "性别", "年龄"):
                found.append(k)
            found += personal_fields(v)
    elif isinstance(payload, list):
        for v in payload:
            found += personal_fields(v)
    return found


def test_subject_and_records_masked_for_every_role_but_investigator(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    r = client.get(f"/subjects/{PERSON_ID}", headers=headers["investigator"])
    assert r.status_code == 200, r.text
    assert f"id_number:{PERSON_ID}" in r.json()["keys"]
    assert r.json()["attributes"]["birth_year"] == 1980
    for role in ROLES:
        # Masked roles find people by name or subject id, never by full number.
        r = client.get("/subjects/S-person", headers=headers[role])
        if not allowed(role, "read"):
            assert r.status_code == 403
            assert not leaks(r.text)
            continue
        assert r.status_code == 200, (role, r.text)
        if role == "investigator":
            continue
        assert not leaks(r.text), role
        assert "id_number:411425********1231" in r.json()["keys"]
        # The hidden digits are the birth date: nothing may tell it, or the sex.
        assert personal_fields(r.json()) == [], role
        assert "1980" not in r.text and "男" not in r.text


def test_masked_roles_cannot_use_a_full_id_number_as_an_oracle(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    """Every look-up by a full number answers the same 403, whether anybody has it."""
    for role in ("admin", "analyst", "engine"):
        bodies = set()
        for value in (PERSON_ID, UNKNOWN_ID, PERSON_ID15, PERSON_ID.replace("1231", "1231 ")):
            for url, params in (
                (f"/subjects/{value}", {}),
                (f"/subjects/{value}/neighbors", {}),
                (f"/subjects/{value}/measures", {}),
                (f"/subjects/{value}/listings", {}),
                ("/subjects/search", {"q": value}),
                ("/paths", {"from": value, "to": "S-org"}),
                ("/paths", {"from": "S-org", "to": value}),
            ):
                r = client.get(url, params=params, headers=headers[role])
                assert r.status_code == 403, (role, url, params, r.status_code, r.text)
                assert not leaks(r.text)
                body = r.json()["error"]
                where = body["details"]["parameter"]
                bodies.add((url.replace(value, "{v}"), where, body["code"], body["message"]))
        # one answer per route, the same for a known, an unknown and a legacy number
        assert len(bodies) == 7, bodies
    # Names and subject ids still work; investigators look up by number.
    assert (
        client.get("/subjects/search", params={"q": "王伟"}, headers=headers["analyst"]).json()[
            "total"
        ]
        == 1
    )
    r = client.get(f"/subjects/{PERSON_ID15}", headers=headers["investigator"])
    assert r.status_code == 200 and r.json()["id"] == "S-person"


def check(client: TestClient, h: dict[str, str], subjects: list[str]) -> Any:
    return client.post("/checks", json={"scenario": "procurement", "subjects": subjects}, headers=h)


def test_engine_checks_do_not_tell_a_clear_person_from_an_unknown_number(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    r = check(client, headers["engine"], [PERSON_ID, UNKNOWN_ID])
    assert r.status_code == 200, r.text
    known, unknown = r.json()["results"]
    assert known["result"] == unknown["result"] == "clear"
    strip = ("index", "input")
    assert {k: v for k, v in known.items() if k not in strip} == {
        k: v for k, v in unknown.items() if k not in strip
    }
    assert list(known) == list(unknown)  # not even the order of the fields differs
    assert "S-person" not in r.text and "王伟" not in r.text
    # An investigator still sees what matched.
    inv = check(client, headers["investigator"], [PERSON_ID, UNKNOWN_ID]).json()["results"]
    assert (inv[0]["found"], inv[1]["found"]) == (True, False)
    assert inv[0]["subject"]["id"] == "S-person"
    # Roles with no business checking by number are refused outright.
    for role in ("admin", "analyst"):
        r = check(client, headers[role], ["商丘市华通建材有限公司", UNKNOWN_ID])
        assert r.status_code == 403, (role, r.text)
        assert r.json()["error"]["details"]["permission"] == "check_id_numbers"
        assert check(client, headers[role], ["S-person", USCC]).status_code == 200


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
def test_full_id_numbers_checked_without_a_match_are_limited_per_key(
    tmp_path: Path, store: GraphStore
) -> None:
    seed(store)
    quota = Settings(data_dir=tmp_path / "q", id_miss_quota_per_hour=5)
    keys = KeyStore(quota.data_dir)
    engine = {"Authorization": f"Bearer {keys.create('engine')[1]}"}
    other = {"Authorization": f"Bearer {keys.create('engine')[1]}"}
    guesses = [PERSON_ID[:6] + f"1980{m:02d}02" + "125" for m in range(1, 13)]
    guesses = [g + id_check_char(g) for g in guesses]
    with TestClient(create_app(quota, store=store), raise_server_exceptions=False) as c:
        assert check(c, engine, guesses[:5]).status_code == 200
        # a match costs nothing; a sixth miss is refused before anything is looked up
        assert check(c, engine, [PERSON_ID]).status_code == 200
        r = check(c, engine, [guesses[5], PERSON_ID])
        assert r.status_code == 429, r.text
        assert r.json()["error"]["code"] == "quota_exceeded"
        assert 1 <= int(r.headers["Retry-After"]) <= 3600
        assert "S-person" not in r.text
        # the quota is the key's own
        assert check(c, other, guesses[5:10]).status_code == 200


def test_legacy_15_digit_numbers_are_masked_without_a_birth_digit() -> None:
    masked = mask_error_payload({"error": {"message": f"no subject {PERSON_ID15}"}})
    text = str(masked)
    assert PERSON_ID15 not in text
    assert "411425******123" in text  # region and sequence: no digit of 800101
    assert mask_payload({"旧身份证号": PERSON_ID15}) == {"旧身份证号": "411425******123"}


@pytest.mark.parametrize("store_kind", ["embedded"], indirect=True)
def test_no_route_shows_a_full_id_number_to_a_masked_role(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    """Every GET route, with ID numbers in every path parameter and in q/from/to."""
    for method, path in api_routes(client):
        if method != "GET":
            continue
        for value in FULL:
            url = concrete(path, value)
            query = {"q": value, "from": value, "to": value, "subject": value}
            for role in ("admin", "analyst", "engine"):
                r = client.get(url, params=query, headers=headers[role])
                assert not leaks(r.text), (role, url, r.status_code, r.text[:300])
                assert r.headers["content-type"].startswith("application/json"), url


def test_unknown_id_number_in_a_path_is_not_echoed(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    for value in (UNKNOWN_ID, UNKNOWN_ID[:17] + "x", "411425990101123"):
        for role in ("admin", "analyst"):
            r = client.get(f"/subjects/{value}", headers=headers[role])
            # a full number is refused (api.oracle), anything else not found
            assert r.status_code in (403, 404), (value, r.text)
            assert value not in r.text and value.upper() not in r.text
            assert r.json()["error"]["code"] in ("forbidden", "not_found")
        # an investigator may see what they typed
        r = client.get(f"/subjects/{UNKNOWN_ID}", headers=headers["investigator"])
        assert r.status_code == 404


def test_unknown_route_with_an_id_number_is_not_echoed(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    r = client.get(f"/no-such-thing/{PERSON_ID}", headers=headers["analyst"])
    assert r.status_code == 404
    assert not leaks(r.text)


def test_masking_reaches_raw_cells_and_free_text() -> None:
    payload = {
        "values": {"身份证号码": PERSON_ID, "旧身份证号": PERSON_ID15, "注册号": "410100000012345"},
        "note": f"见 {PERSON_ID.lower()} 与 id_number:{PERSON_ID}",
        f"key {PERSON_ID}": [PERSON_ID],
    }
    masked = mask_payload(payload)
    assert not leaks(str(masked))
    # a registration number in its own field is not an ID number
    assert masked["values"]["注册号"] == "410100000012345"
    assert "411425********1231" in str(masked)
    err = mask_error_payload({"error": {"message": f"no subject {PERSON_ID15}"}})
    assert PERSON_ID15 not in str(err)
