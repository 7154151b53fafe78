# ruff: noqa: E501  (feed rows are kept one per line, as in the files they stand for)
"""Conditions that decide who is merged or punished, each pinned by a test that
fails when the condition is turned around (found by hand and by mutation
testing, `make mutation`), on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore
from graph.docs import QUARANTINE
from graph.lookup import get_subject
from graph.propagate.status import parse_as_of
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders.pipeline import FileLoader
from tests.builders import make_reg_no, make_uscc, write

HEAD = make_uscc("411400", "MA81HY01")
BRANCH = make_uscc("411422", "MA82HY02")
U1 = make_uscc("411403", "MA83AA03")
U2 = make_uscc("411403", "MA84BB04")
R1 = make_reg_no("411403", "00000088")


@pytest.fixture
def loader(store: GraphStore, tmp_path: Path) -> FileLoader:
    return FileLoader(store, Settings(data_dir=tmp_path / "data"))


def test_a_keyless_head_office_row_never_joins_its_registered_branch(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    # only the branch is registered; the head office appears by name alone
    loader.load(write(tmp_path / "registry_1.csv", [
        {"企业名称": "商丘市宏远机械有限公司睢县分公司", "统一社会信用代码": BRANCH, "隶属企业名称": "商丘市宏远机械有限公司"},
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_1.csv", [
        {"案号": "(2024)豫14执1号", "被执行人姓名/名称": "商丘市宏远机械有限公司", "发布时间": "2024-02-01"},
    ]))  # fmt: skip
    branch = get_subject(store, BRANCH).id
    assert store.listings_of([branch]) == []
    (lst,) = store.iter_listings(["dishonest_debtors"])
    assert lst.subject_id != branch


def test_a_record_with_its_own_uscc_never_joins_another_uscc_through_a_bridge(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    loader.load(write(tmp_path / "registry_1.csv", [
        {"企业名称": "商丘市甲商贸有限公司", "统一社会信用代码": U1, "注册号": R1},
    ]))  # fmt: skip
    # another enterprise's row carries U1's old registration number by mistake
    loader.load(write(tmp_path / "admin_penalties_1.csv", [
        {"行政相对人名称": "商丘市乙商贸有限公司", "行政相对人代码_1(统一社会信用代码)": U2, "行政相对人代码_2(工商注册号)": R1,
         "行政处罚决定书文号": "商市监罚〔2024〕1号", "处罚决定日期": "2024-03-01", "失信严重程度": "一般"},
    ]))  # fmt: skip
    u1 = get_subject(store, U1).id
    assert store.listings_of([u1]) == []
    assert get_subject(store, U2).id != u1


def test_a_corrected_row_leaves_the_quarantine_on_reload(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    path = tmp_path / "abnormal_operations_1.csv"
    row = {"企业名称": "商丘市甲商贸有限公司", "统一社会信用代码": U1, "列入日期": "2024-02-30"}
    rep = loader.load(write(path, [row]))
    assert rep.quarantined == 1 and list(store.list_docs(QUARANTINE)) == [
        "abnormal_operations:abnormal_operations_1.csv:1"
    ]
    rep = loader.load(write(path, [{**row, "列入日期": "2024-02-28"}]))
    assert (rep.loaded, rep.quarantined) == (1, 0)
    assert store.list_docs(QUARANTINE) == {}


@pytest.fixture
def client(store: GraphStore, loader: FileLoader, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    loader.load(write(tmp_path / "registry_1.csv", [
        {"企业名称": "商丘市甲商贸有限公司", "统一社会信用代码": U1},
    ]))  # fmt: skip
    # two listings without a document number
    loader.load(write(tmp_path / "tax_violations_1.csv", [
        {"纳税人名称": "商丘市甲商贸有限公司", "统一社会信用代码": U1, "公布日期": "2023-01-10"},
    ]))  # fmt: skip
    loader.load(write(tmp_path / "abnormal_operations_1.csv", [
        {"企业名称": "商丘市甲商贸有限公司", "统一社会信用代码": U1, "列入日期": "2023-02-10"},
    ]))  # fmt: skip
    settings = Settings(data_dir=tmp_path / "data")
    with TestClient(create_app(settings, store=store)) as c:
        yield c, {"Authorization": f"Bearer {KeyStore(settings.data_dir).create('investigator')[1]}"}


def test_a_repair_of_one_unnumbered_listing_leaves_the_others_listed(
    client: tuple[TestClient, dict[str, str]], store: GraphStore
) -> None:
    c, h = client
    u1 = get_subject(store, U1).id
    tax = next(x for x in store.listings_of([u1]) if x.kind == "tax_violations")
    r = c.post("/repairs", json={"listing": tax.id, "decided": "2024-03-01"}, headers=h)
    assert r.status_code == 200, r.text
    listings = c.get(f"/subjects/{U1}/listings", params={"as_of": "2024-06-01"}, headers=h).json()
    status = {x["feed"]: x["dates"]["status"] for x in listings["listings"] if x["feed"] != "credit_repairs"}
    assert status == {"tax_violations": "repaired", "abnormal_operations": "active"}
    measures = c.get(f"/subjects/{U1}/measures", params={"as_of": "2024-06-01"}, headers=h).json()
    # /measures agrees with /listings: the abnormal-operations listing still counts
    assert {(m["rule"], m["measure"]) for m in measures["measures"]} == {
        ("abnormal_operations", "enhanced_supervision")
    }


def test_a_repair_over_the_api_ends_only_the_named_joint_debtors_listing(
    client: tuple[TestClient, dict[str, str]], store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """POST /repairs with a number that lists two joint debtors: refused without
    a subject (naming both), refused for a subject the number does not list,
    and with one named, that one's listing alone ends."""
    c, h = client
    case = "(2023)豫14执77号"
    loader.load(write(tmp_path / "registry_2.csv", [
        {"企业名称": "商丘市乙商贸有限公司", "统一社会信用代码": U2},
    ]))  # fmt: skip
    loader.load(write(tmp_path / "dishonest_debtors_1.csv", [
        {"案号": case, "被执行人姓名/名称": "商丘市甲商贸有限公司", "身份证号码/组织机构代码": U1[8:17], "发布时间": "2023-09-01"},
        {"案号": case, "被执行人姓名/名称": "商丘市乙商贸有限公司", "身份证号码/组织机构代码": U2[8:17], "发布时间": "2023-09-01"},
    ]))  # fmt: skip
    u1, u2 = get_subject(store, U1).id, get_subject(store, U2).id

    def debtor_listing(key: str) -> str:
        (lst,) = [x for x in store.listings_of([get_subject(store, key).id]) if x.kind == "dishonest_debtors"]
        return lst.id

    def debtor_status(key: str) -> str:
        got = c.get(f"/subjects/{key}/listings", params={"as_of": "2024-06-01"}, headers=h).json()
        (status,) = [x["dates"]["status"] for x in got["listings"] if x["feed"] == "dishonest_debtors"]
        return str(status)

    r = c.post("/repairs", json={"listing": case, "decided": "2024-03-01"}, headers=h)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["details"] == {"listing": case, "subjects": sorted([u1, u2])}
    assert err["message"] == "several subjects are listed under this number; name the subject repaired"
    r = c.post("/repairs", json={"listing": case, "decided": "2024-03-01", "subject": "S-nobody"}, headers=h)
    assert r.status_code == 404, r.text
    loader.load(write(tmp_path / "registry_3.csv", [
        {"企业名称": "商丘市丙商贸有限公司", "统一社会信用代码": make_uscc("411403", "MA85CC05")},
    ]))  # fmt: skip
    r = c.post("/repairs", json={"listing": case, "decided": "2024-03-01",
                                 "subject": make_uscc("411403", "MA85CC05")}, headers=h)  # fmt: skip
    assert r.status_code == 404, r.text
    err = r.json()["error"]
    assert (err["message"], err["details"]) == (
        "the subject has no listing with this number or id", {"listing": case}
    )
    assert debtor_status(U1) == debtor_status(U2) == "active"
    r = c.post("/repairs", json={"listing": case, "decided": "2024-03-01", "subject": U2,
                                 "department": "商丘中院", "note": "已履行"}, headers=h)  # fmt: skip
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["subjects"] == [u2]
    (repair,) = done["repairs"]
    # what the repair record keeps: the number, who decided and recorded it, when
    assert (repair["subject"], repair["number"], repair["department"]) == (u2, case, "商丘中院")
    assert repair["props"]["note"] == "已履行" and repair["props"]["recorded_by"]
    assert (repair["props"]["source"], repair["props"]["repairs"]) == ("api", [debtor_listing(U2)])
    assert repair["props"]["recorded_at"].endswith("+00:00")
    assert [x["dates"]["status"] for x in done["listings"]] == ["repaired"]
    assert (debtor_status(U1), debtor_status(U2)) == ("active", "repaired")
    measures = c.get(f"/subjects/{U1}/measures", params={"as_of": "2024-06-01"}, headers=h).json()
    assert any(m["rule"] == "dishonest_debtor" for m in measures["measures"])
    # a repair decided today is not in the future
    today = parse_as_of(None)
    r = c.post("/repairs", json={"listing": case, "decided": today, "subject": U1}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["repairs"][0]["dates"]["start"] == today


def test_a_repair_of_a_number_ends_every_listing_of_the_subject_under_it(
    client: tuple[TestClient, dict[str, str]], store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A decision number under which one enterprise is listed twice (the same
    文号 in two departments' files): one repair decision ends both listings."""
    c, h = client
    number = "商市监罚〔2024〕31号"
    loader.load(write(tmp_path / "admin_penalties_5.csv", [
        {"行政相对人名称": "商丘市甲商贸有限公司", "行政相对人代码_1(统一社会信用代码)": U1, "行政处罚决定书文号": number,
         "违法行为类型": kind, "处罚决定日期": "2024-01-10", "失信严重程度": "严重失信"}
        for kind in ("安全生产", "食品药品")
    ]))  # fmt: skip
    u1 = get_subject(store, U1).id
    listed = [x.id for x in store.listings_of([u1]) if x.number == number]
    assert len(listed) == 2
    r = c.post("/repairs", json={"listing": number, "decided": "2025-02-01"}, headers=h)
    assert r.status_code == 200, r.text
    assert len({x["id"] for x in r.json()["repairs"]}) == 2
    got = c.get(f"/subjects/{U1}/listings", params={"as_of": "2025-03-01"}, headers=h).json()
    assert {x["id"]: x["dates"]["status"] for x in got["listings"] if x["id"] in listed} == {
        i: "repaired" for i in listed
    }


@pytest.mark.parametrize(
    ("party_branch", "candidate_branch"), [(True, False), (False, True)]
)
def test_a_branch_and_its_head_office_are_never_one_subject_either_way(
    party_branch: bool, candidate_branch: bool
) -> None:
    from graph.resolve.compare import CandidateInfo, PartyEvidence, conflict

    head, branch = "商丘市宏远机械有限公司", "商丘市宏远机械有限公司睢县分公司"
    party = PartyEvidence(norm_name=branch if party_branch else head, is_branch=party_branch)
    cand = CandidateInfo(
        id="S-1",
        type="organisation",
        # the candidate bears both names (a former name, a record merged earlier):
        # only the branch rule keeps them apart
        norm_names=[head, branch],
        is_branch=candidate_branch,
    )
    assert conflict(party, cand) == "branch_vs_head_office"


def test_a_subject_whose_write_failed_is_never_matched_afterwards(tmp_path: Path) -> None:
    """The loader's name index learns each subject before the batch is written;
    when the write fails, a later file must not attach records to a subject the
    store never got."""
    from graph.store.base import Batch
    from graph.store.embedded import EmbeddedStore

    class DiskFullOnce(EmbeddedStore):
        failed = False

        def write(self, batch: Batch) -> None:
            if not self.failed:
                self.failed = True
                raise OSError("no space left on device")
            super().write(batch)

    store = DiskFullOnce(tmp_path / "store")
    loader = FileLoader(store, Settings(data_dir=tmp_path / "data"))
    with pytest.raises(OSError):
        loader.load(write(tmp_path / "registry_1.csv", [
            {"企业名称": "商丘市甲商贸有限公司", "统一社会信用代码": U1},
        ]))  # fmt: skip
    assert store.counts()["subjects"] == 0
    rep = loader.load(write(tmp_path / "admin_penalties_1.csv", [
        {"行政相对人名称": "商丘市甲商贸有限公司", "行政处罚决定书文号": "商市监罚〔2024〕5号",
         "处罚决定日期": "2024-03-01", "失信严重程度": "一般"},
    ]))  # fmt: skip
    assert (rep.loaded, rep.matched) == (1, {"new": 1})
    (lst,) = store.iter_listings(["admin_penalties"])
    assert list(store.get_subjects([lst.subject_id])) == [lst.subject_id]
    store.close()


def test_today_is_the_citys_day_whatever_the_servers_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rules read as_of (default: today): a server in another zone must not answer
    for yesterday or tomorrow."""
    import time
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from graph.propagate.status import parse_as_of

    city = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    # one of these two zones is on another date than the city at any moment
    zone = next(z for z in ("Etc/GMT+12", "Etc/GMT-14") if datetime.now(ZoneInfo(z)).date() != city)
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert parse_as_of(None) == parse_as_of("") == city.isoformat()
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "text", ["2024-W22-6", "20240601", "2024-6-1", "2024-06-01T00:00", "2024-02-30"]
)
def test_as_of_is_a_calendar_date_written_yyyy_mm_dd(text: str) -> None:
    from graph.errors import InvalidInput
    from graph.propagate.status import parse_as_of

    with pytest.raises(InvalidInput):
        parse_as_of(text)
    assert parse_as_of("2024-06-01") == "2024-06-01"
