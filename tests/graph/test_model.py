"""graph/model.yaml as typed objects: inconsistent definitions are refused by
name, and the code that used to repeat the model's facts reads them from it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from graph.errors import ConfigError
from graph.identifiers import KINDS, parse_identifier
from graph.model import MODEL_FILE, model, parse_model


def raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MODEL_FILE.read_text(encoding="utf-8"))
    return data


def broken(path: list[str], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw())
    node: Any = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return data


def test_the_shipped_model_reads_as_typed_objects() -> None:
    spec = model()
    assert spec.subject_types["organisation"].full_keys == ("uscc",)
    assert spec.key_kinds["reg_no"].bridge_to == "uscc"
    lr = spec.relation_types["legal_representative"]
    assert lr.label == "法定代表人" and lr.single_holder and lr.sources == ("person",)
    assert spec.relation_types["actual_controller"].record_props == {"basis": "declared"}
    assert spec.listing_kinds["dishonest_debtors"].punitive
    assert spec.with_trait("ownership") == ("shareholder",)
    assert spec.subject_type_of_key("id_masked") == "person"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["relation_types", "officer", "from"], ["robot"], "unknown subject type 'robot'"),
        (["relation_types", "officer", "traits"], ["secret"], "unknown trait 'secret'"),
        (["relation_types", "officer", "colour"], "red", "unknown field(s) ['colour']"),
        (["relation_types", "officer", "record_props"], {"rank": "x"}, "is not one of its"),
        (["subject_types", "person", "full_keys"], ["uscc"], "unknown key of this type"),
        (["subject_types", "person", "keys"], ["passport"], "unknown key kind 'passport'"),
        (["key_kinds", "reg_no", "bridge_to"], "tax_no", "unknown key kind 'tax_no'"),
        (["listing_kinds", "red_list", "punitive"], "no", "must be true or false"),
        (["relations"], {}, "unknown field(s) ['relations']"),
    ],
)
def test_an_inconsistent_model_is_refused_by_name(
    path: list[str], value: Any, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_model(broken(path, value))
    assert message in err.value.message
    assert err.value.message.startswith("model.yaml: ")


def test_identifier_kinds_and_full_keys_come_from_the_model() -> None:
    assert set(KINDS) == set(model().key_kinds)
    full = {k for t in model().subject_types.values() for k in t.full_keys}
    assert parse_identifier("91411403MA9GKJ1F86").is_full_key == ("uscc" in full)
    assert not parse_identifier("MA9GKJ1F8", hint="org_code").is_full_key
