"""Adding a relation type is a change to data, not to code: the README's recipe
(a relation type in graph/model.yaml, a feed mapping that asserts it) is carried
out here on copies of the two, and the new relation is loaded, labelled and
stored on both stores, and punishes nobody, since no rule names it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import graph.model
import loaders.mapping
from graph.lookup import get_subject
from graph.model import model
from graph.propagate.engine import measures
from graph.settings import Settings
from graph.store.base import GraphStore
from graph.vocabulary import vocabulary
from loaders.mapping import mappings
from loaders.pipeline import FileLoader
from tests.builders import make_id, make_uscc

LIAISON_FEED = """\
kind: liaisons
label: 联络员信息
department: 市场监管局
priority: 25
columns:
  name: {headers: [企业名称], type: name, required: true}
  uscc: {headers: [统一社会信用代码], type: id, kind: uscc}
  person_name: {headers: [联络员姓名], type: name, required: true}
  id_number: {headers: [联络员证件号码], type: id, kind: id_number}
  start: {headers: [备案日期], type: date}
parties:
  subject: {type: organisation, name: name, keys: [uscc]}
  liaison: {type: person, name: person_name, keys: [id_number]}
relations:
  - type: liaison
    from: liaison
    to: subject
    valid_from: start
"""

ORG = make_uscc("411402", "LL700100")
LIAISON = make_id("411402", "19800101", "701")
LR = make_id("411402", "19750505", "702")


@pytest.fixture
def with_liaison(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    spec = yaml.safe_load(graph.model.MODEL_FILE.read_text(encoding="utf-8"))
    spec["relation_types"]["liaison"] = {
        "label": "联络员",
        "from": ["person"],
        "to": ["organisation"],
        "properties": [],
        "traits": [],
    }
    model_file = tmp_path / "model.yaml"
    model_file.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    feeds = tmp_path / "feeds"
    shutil.copytree(loaders.mapping.FEEDS_DIR, feeds)
    (feeds / "liaisons.yaml").write_text(LIAISON_FEED, encoding="utf-8")
    monkeypatch.setattr(graph.model, "MODEL_FILE", model_file)
    monkeypatch.setattr(loaders.mapping, "FEEDS_DIR", feeds)
    model.cache_clear()
    mappings.cache_clear()
    yield
    model.cache_clear()
    mappings.cache_clear()


def csv_file(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_relation_type_added_in_yaml_is_loaded_labelled_and_punishes_nobody(
    with_liaison: None, store: GraphStore, tmp_path: Path
) -> None:
    assert vocabulary()["relation_types"]["liaison"]["label"] == "联络员"
    loader = FileLoader(store, Settings(data_dir=tmp_path / "data"))
    loader.load(csv_file(tmp_path / "registry.csv",
        ["企业名称", "统一社会信用代码", "法定代表人", "法定代表人证件号码", "核准日期"],
        [["商丘市联络商贸有限公司", ORG, "王甲", LR, "2020-01-01"]]))  # fmt: skip
    report = loader.load(csv_file(tmp_path / "liaisons_2024.csv",
        ["企业名称", "统一社会信用代码", "联络员姓名", "联络员证件号码", "备案日期"],
        [["商丘市联络商贸有限公司", ORG, "李乙", LIAISON, "2021-03-01"]]))  # fmt: skip
    assert (report.loaded, report.quarantined) == (1, 0), report
    org = get_subject(store, ORG).id
    person = get_subject(store, LIAISON).id
    [rel] = store.relations_of([org], ["liaison"], direction="in")
    assert (rel.source, rel.valid_from) == (person, "2021-03-01")
    # the enterprise is listed as a dishonest judgment debtor: its legal
    # representative is restricted, its liaison is not (no rule names liaisons)
    loader.load(csv_file(tmp_path / "dishonest_debtors.csv",
        ["被执行人名称", "证件号码", "案号", "执行法院", "立案时间", "发布时间"],
        [["商丘市联络商贸有限公司", ORG, "(2024)豫1402执100号", "商丘市梁园区人民法院",
          "2024-01-10", "2024-03-01"]]))  # fmt: skip
    assert measures(store, get_subject(store, LR).id, "2024-06-01")
    assert measures(store, person, "2024-06-01") == []
