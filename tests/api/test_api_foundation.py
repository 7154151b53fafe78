"""The API skeleton: health without a key, everything else only with one,
subjects by any key, errors as JSON — on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import main as cli_main
from api.keys import KeyStore
from graph.model import Subject
from graph.settings import Settings
from graph.store.base import Batch, GraphStore

USCC = "91411403MA9GKJ1F86"  # synthetic; the lookup goes through the key index
PERSON_ID = "411425198001011231"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings, store: GraphStore) -> Iterator[TestClient]:
    store.write(
        Batch(
            subjects=[
                Subject(
                    id="S-org",
                    type="organisation",
                    name="商丘市华通建材有限公司",
                    names=["商丘市华通建材有限公司"],
                    keys=[f"uscc:{USCC}", f"org_code:{USCC[8:17]}"],
                ),
                Subject(
                    id="S-person",
                    type="person",
                    name="王伟",
                    names=["王伟"],
                    keys=[f"id_number:{PERSON_ID}"],
                ),
            ]
        )
    )
    with TestClient(create_app(settings, store=store)) as c:
        yield c


def key_for(settings: Settings, role: str) -> dict[str, str]:
    _, key = KeyStore(settings.data_dir).create(role)
    return {"Authorization": f"Bearer {key}"}


def test_health_needs_no_key(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer cl_nope_nope", "Basic abc"])
def test_everything_else_needs_a_valid_key(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = client.get(f"/subjects/{USCC}", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


def test_subject_by_uscc_org_code_and_id(client: TestClient, settings: Settings) -> None:
    h = key_for(settings, "investigator")
    for key in (USCC, USCC.lower(), USCC[8:16] + "-" + USCC[16], "S-org"):
        r = client.get(f"/subjects/{key}", headers=h)
        assert r.status_code == 200, (key, r.text)
        assert r.json()["id"] == "S-org"
    r = client.get(f"/subjects/{PERSON_ID}", headers=h)
    assert r.status_code == 200
    assert r.json()["id"] == "S-person"


def test_unknown_subject_is_a_json_404(client: TestClient, settings: Settings) -> None:
    r = client.get("/subjects/S-nobody", headers=key_for(settings, "analyst"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_id_numbers_masked_for_analyst_not_investigator(
    client: TestClient, settings: Settings
) -> None:
    # an analyst finds the person by subject id (a full number is no look-up key for it)
    r = client.get("/subjects/S-person", headers=key_for(settings, "analyst"))
    assert PERSON_ID not in r.text
    assert "id_number:411425********1231" in r.json()["keys"]
    r = client.get(f"/subjects/{PERSON_ID}", headers=key_for(settings, "investigator"))
    assert f"id_number:{PERSON_ID}" in r.json()["keys"]


def test_engine_may_not_read_subject_cards(client: TestClient, settings: Settings) -> None:
    r = client.get(f"/subjects/{USCC}", headers=key_for(settings, "engine"))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"


def test_cli_creates_lists_and_revokes_keys(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from graph.settings import get_settings

    monkeypatch.setenv("CREDITLINK_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    try:
        assert cli_main(["keys", "create", "--role", "engine"]) == 0
        key = capsys.readouterr().out.strip().splitlines()[-1]
        info = KeyStore(settings.data_dir).verify(key)
        assert info.role == "engine"
        # only the hash is stored
        assert key not in (settings.data_dir / "keys.json").read_text()
        assert cli_main(["keys", "revoke", info.key_id]) == 0
        capsys.readouterr()
        assert cli_main(["keys", "list", "--json"]) == 0
        listed = capsys.readouterr().out
        assert info.key_id in listed and "revoked_at" in listed
        with pytest.raises(Exception, match="revoked"):
            KeyStore(settings.data_dir).verify(key)
    finally:
        get_settings.cache_clear()
