"""Property-based tests of the whole HTTP API from its own OpenAPI schema.

Schemathesis generates requests (valid and invalid) for every documented
operation, routers added later included, and checks that the app never
answers with a 5xx and that answers conform to the documented schema and
content type. Bounded so that the run stays well under two minutes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from api.app import create_app
from api.keys import KeyStore
from graph.model import Subject
from graph.settings import Settings
from graph.store.base import Batch
from graph.store.embedded import EmbeddedStore

# Operations only an admin may call; the rest run as an investigator, the role
# that may do the most with the graph (and sees full ID numbers).
ADMIN_PREFIXES = ("/audit", "/loads", "/keys")
# Per operation; with a dozen routers this stays well under two minutes.
EXAMPLES = 30


@pytest.fixture(scope="module")
def app_and_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[FastAPI, dict[str, str]]:
    data = Path(tmp_path_factory.mktemp("schemathesis"))
    cfg = Settings(data_dir=data / "data", query_timeout_s=5.0)
    store = EmbeddedStore(data / "store")
    store.write(
        Batch(
            subjects=[
                Subject(id="S-org", type="organisation", name="甲公司", norm_names=["甲公司"]),
                Subject(id="S-person", type="person", name="王伟", norm_names=["王伟"]),
            ]
        )
    )
    keys = KeyStore(cfg.data_dir)
    return create_app(cfg, store=store), {
        "admin": keys.create("admin")[1],
        "investigator": keys.create("investigator")[1],
    }


def fuzz(op: Any, headers: dict[str, str]) -> None:
    @given(case=op.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        case.call_and_validate(
            headers=headers,
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        )

    check()


def test_api_conforms_and_never_fails(
    app_and_keys: tuple[FastAPI, dict[str, str]],
) -> None:
    app, keys = app_and_keys
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert operations
    for op in operations:
        role = "admin" if op.path.startswith(ADMIN_PREFIXES) else "investigator"
        fuzz(op, {"Authorization": f"Bearer {keys[role]}"})
