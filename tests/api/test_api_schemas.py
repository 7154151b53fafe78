"""The response models (api/schemas.py) document the answers without changing
them: other systems parse these bytes, and a concealed check must not differ
from a clear one even in key order (api/oracle.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from api.app import create_app
from api.schemas import Node, PathHop, SearchHit
from graph.settings import Settings

HOP = {
    "from": "S-a",
    "from_name": "商丘市华通建材有限公司",
    "to": "S-b",
    "to_name": None,
    "direction": "forward",
    "id": "R-1",
    "relation": "officer",
    "source": "S-a",
    "target": "S-b",
    "valid_from": "2020-01-01",
    "valid_to": None,
    # relation properties, spread between the declared fields by the domain
    "title": "经理",
    "seen": [{"on": "2024-05-31", "record": "officers:o.csv:3"}],
    "records": ["officers:o.csv:3"],
    "role": "经理",
}
# a key match scores the int 100, a name match a float
HIT = {
    "id": "S-a",
    "type": "organisation",
    "name": "华通建材",
    "keys": ["uscc:91411403MA9GKJ1F86"],
    "status": None,
    "score": 100,
    "matched_name": "华通建材",
}
# asked without risk: the optional ``risk`` must not appear as null
NODE = {"id": "S-a", "type": "organisation", "name": "华通建材", "keys": [], "status": "存续"}


def as_served(model: type[BaseModel], data: dict[str, Any]) -> str:
    """The answer as the routes write it (by alias, unset fields left out)."""
    answer = model.model_validate(data)
    return json.dumps(answer.model_dump(mode="json", by_alias=True, exclude_unset=True))


@pytest.mark.parametrize(("model", "data"), [(PathHop, HOP), (SearchHit, HIT), (Node, NODE)])
def test_an_answer_keeps_its_fields_their_order_and_its_numbers(
    model: type[BaseModel], data: dict[str, Any]
) -> None:
    assert as_served(model, data) == json.dumps(data)


def test_every_operation_documents_its_answer(tmp_path: Path) -> None:
    schema = create_app(Settings(data_dir=tmp_path / "data")).openapi()
    undocumented = [
        f"{method.upper()} {path}"
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if "$ref" not in op["responses"]["200"]["content"]["application/json"].get("schema", {})
    ]
    assert undocumented == []
