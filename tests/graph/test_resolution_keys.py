"""Resolution by keys and bridges, through feed files on both stores: a
mistyped USCC some subject already carries, a branch row with its head
office's code, a subject known by an old code gaining its USCC (from the store
or from an earlier row of the same file), one old code on two subjects, a
mistyped USCC bridged through a registration number only when it is a typo,
the look-ups a resolver makes without a prefetch, what a batch notes of a
subject named again, and what a reviewer's split or merge does to a record
read again.

Each test pins a decision of graph/resolve/resolver.py that mutation testing
found unchecked: who is merged, who is a review candidate, and which evidence
(keys, the method of a match) is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.docs import REVIEW
from graph.identifiers import Identifier
from graph.resolve.judgements import confirm, split
from graph.resolve.party import Party
from graph.resolve.resolver import Resolver
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders.pipeline import FileLoader
from tests.builders import (
    A_REG,
    DISHONEST,
    HB,
    HB2,
    PENALTY,
    REGISTRY,
    X1,
    A,
    B,
    H,
    make_reg_no,
    make_uscc,
    mention,
    mistype,
    penalty,
    registry_rows,
    sid,
    write_csv,
)

GUARANTEES = [
    "借款人名称", "借款人证件类型", "借款人证件号码",
    "担保人名称", "担保人证件类型", "担保人证件号码",
]  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def loader(store: GraphStore, settings: Settings, tmp_path: Path) -> FileLoader:
    """The resolution tests' little city (test_resolution.py)."""
    loader = FileLoader(store, settings)
    loader.load(write_csv(tmp_path / "registry_1.csv", REGISTRY, registry_rows()))
    return loader


def keys_of(store: GraphStore, subject: str) -> list[str]:
    return store.get_subjects([subject])[subject].keys


def reviews_of(store: GraphStore, subject: str) -> set[str]:
    """The other subjects of the review pairs ``subject`` is in."""
    out: set[str] = set()
    for d in store.list_docs(REVIEW).values():
        if subject in (d["a"], d["b"]):
            out.add(d["b"] if d["a"] == subject else d["a"])
    return out


def twice_mistyped(uscc: str) -> str:
    """Two characters of the code wrong: no longer one typo away."""
    once = mistype(uscc)
    return once[:13] + ("7" if once[13] != "7" else "8") + once[14:]


# -- full keys ------------------------------------------------------------------------


def test_a_mistyped_code_a_subject_already_carries_finds_it_and_says_so(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A code failing its check is kept (pilot-area codes are lawful) but not
    trusted: a name nobody has makes a subject carrying it, and each mistyped
    code its own subject. A later record with the same code, under another
    spelling of the name, is that subject, and its match says the code failed
    its check."""
    one, two = mistype(HB2), mistype(X1)
    loader.load(write_csv(tmp_path / "admin_penalties_1.csv", PENALTY, [
        penalty("睢县无名五金有限公司", uscc=one, n=1),
        penalty("宁陵县无名木器有限公司", uscc=two, n=2),
    ]))  # fmt: skip
    f = "admin_penalties:admin_penalties_1.csv"
    first, second = mention(store, f"{f}:1")[0], mention(store, f"{f}:2")[0]
    assert first != second
    assert f"uscc:{one}" in keys_of(store, first) and f"uscc:{two}" in keys_of(store, second)
    loader.load(write_csv(tmp_path / "admin_penalties_2.csv", PENALTY, [
        penalty("睢县无名五金厂", uscc=one, n=3),
    ]))  # fmt: skip
    assert mention(store, "admin_penalties:admin_penalties_2.csv:1") == (
        first,
        {"method": "key", "key": f"uscc:{one}", "warning": "uscc_check_mismatch"},
    )


def test_a_branch_row_with_its_head_offices_code_is_the_branch_and_never_takes_the_code(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A department printed the head office's USCC on its 睢县分公司's penalty:
    the code says which enterprise, the name that this is its registered
    branch (rules.md: a branch is never its head office). The branch does not
    take the head office's code, which still names the head office alone."""
    loader.load(write_csv(tmp_path / "admin_penalties_b.csv", PENALTY, [
        penalty("商丘市宏远机械有限公司睢县分公司", uscc=H, n=1),
    ]))  # fmt: skip
    hb, h = sid(store, HB), sid(store, H)
    got, match = mention(store, "admin_penalties:admin_penalties_b.csv:1")
    assert (got, match) == (
        hb,
        {"method": "exact_name", "name": "商丘市宏远机械有限公司睢县分公司"},
    )
    assert f"uscc:{H}" not in keys_of(store, hb)
    assert store.find_by_keys([f"uscc:{H}"]) == {f"uscc:{H}": [h]}


def test_an_unregistered_branch_with_its_head_offices_code_never_takes_the_code(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """The same for a branch nobody registered (虞城县分公司): a new subject,
    without the head office's code. Otherwise the code would name two subjects
    (the head office could no longer be looked up by it) and the next row of
    another branch with that code (睢县分公司, registered) would land on the
    虞城县 branch by key."""
    loader.load(write_csv(tmp_path / "admin_penalties_c.csv", PENALTY, [
        penalty("商丘市宏远机械有限公司虞城县分公司", uscc=H, n=1),
    ]))  # fmt: skip
    branch, match = mention(store, "admin_penalties:admin_penalties_c.csv:1")
    assert match["method"] == "new" and branch not in (sid(store, H), sid(store, HB))
    assert keys_of(store, branch) == []
    assert store.find_by_keys([f"uscc:{H}", f"org_code:{H[8:17]}"]) == {
        f"uscc:{H}": [sid(store, H)],
        f"org_code:{H[8:17]}": [sid(store, H)],
    }
    loader.load(write_csv(tmp_path / "admin_penalties_d.csv", PENALTY, [
        penalty("商丘市宏远机械有限公司睢县分公司", uscc=H, n=2),
    ]))  # fmt: skip
    assert mention(store, "admin_penalties:admin_penalties_d.csv:1")[0] == sid(store, HB)


def test_a_bridge_never_joins_a_row_whose_registration_number_is_another(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A row gives 汇晨's organisation code beside another valid 注册号: the
    codes contradict each other (two registration numbers are two subjects), so
    the organisation code does not bridge it to 汇晨, which keeps its one 注册号."""
    other = make_reg_no("411400", "00000099")
    loader.load(write_csv(tmp_path / "admin_penalties_e.csv", PENALTY, [
        penalty("睢县某某五金有限公司", reg=other, org=A[8:17], n=1),
    ]))  # fmt: skip
    got, match = mention(store, "admin_penalties:admin_penalties_e.csv:1")
    assert got != sid(store, A) and match["method"] == "new"
    assert [k for k in keys_of(store, sid(store, A)) if k.startswith("reg_no:")] == [
        f"reg_no:{A_REG}"
    ]


def test_the_parties_of_one_record_without_keys_are_two_subjects(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A guarantee naming a borrower and a guarantor, neither with a code or
    number nobody has: each party is its own new subject, never one."""
    loader.load(write_csv(tmp_path / "guarantees_1.csv", GUARANTEES, [
        ["睢县无名纺织有限公司", "统一社会信用代码", "",
         "柘城县无名担保有限公司", "统一社会信用代码", ""],
    ]))  # fmt: skip
    f = "guarantees:guarantees_1.csv:1"
    borrower, guarantor = mention(store, f, "borrower")[0], mention(store, f, "guarantor")[0]
    assert borrower != guarantor
    assert store.get_subjects([borrower])[borrower].name == "睢县无名纺织有限公司"
    assert store.get_subjects([guarantor])[guarantor].name == "柘城县无名担保有限公司"


# -- bridges ----------------------------------------------------------------------------


def test_a_subject_known_by_its_old_code_gains_its_uscc(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A court knew 万利 only by its organisation code; its registry row then
    gives the USCC that carries that code (positions 9–17): one subject, which
    keeps both. A USCC nobody has, on the same file, is a new subject made for
    that key."""
    wanli = make_uscc("411423", "MA70WL01")
    nobody = make_uscc("411423", "MA71NB02")
    loader.load(write_csv(tmp_path / "dishonest_debtors_1.csv", DISHONEST, [
        ["(2025)豫14执9号", "宁陵县万利农资有限公司", wanli[8:17], "", "商丘市中级人民法院",
         "2025-01-02"],
    ]))  # fmt: skip
    court = mention(store, "dishonest_debtors:dishonest_debtors_1.csv:1")[0]
    loader.load(write_csv(tmp_path / "registry_2.csv", REGISTRY, [
        ["宁陵县万利农业生产资料有限公司", wanli, "", "", "", "", "", "", ""],
        ["宁陵县无名农资有限公司", nobody, "", "", "", "", "", "", ""],
    ]))  # fmt: skip
    assert mention(store, "registry:registry_2.csv:1") == (
        court,
        {"method": "bridge", "key": f"org_code:{wanli[8:17]}"},
    )
    assert f"uscc:{wanli}" in keys_of(store, court)
    assert mention(store, "registry:registry_2.csv:2")[1] == {
        "method": "new",
        "key": f"uscc:{nobody}",
    }


def test_a_subject_made_earlier_in_the_same_file_is_found_by_its_old_code(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """Not yet stored, the subject a first row made for an organisation code is
    what a later row of the file, with the USCC carrying that code, names."""
    wanli = make_uscc("411423", "MA72WL03")
    loader.load(write_csv(tmp_path / "admin_penalties_p.csv", PENALTY, [
        penalty("宁陵县万利农资有限公司", org=wanli[8:17], n=1),
        penalty("宁陵县万利农业生产资料有限公司", uscc=wanli, n=2),
    ]))  # fmt: skip
    f = "admin_penalties:admin_penalties_p.csv"
    first = mention(store, f"{f}:1")[0]
    assert mention(store, f"{f}:2") == (
        first,
        {"method": "bridge", "key": f"org_code:{wanli[8:17]}"},
    )
    assert f"uscc:{wanli}" in keys_of(store, first)


def test_one_old_code_on_a_stored_and_a_new_subject_goes_to_a_reviewer(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A USCC registered in another district with 汇晨's organisation code is
    another enterprise (two USCCs are never one subject), and the file's next
    row, knowing only that code, could be either: a reviewer decides between
    the stored 汇晨 and the one the file made."""
    twin = make_uscc("411403", "MA45HC01")
    assert twin != A and twin[8:17] == A[8:17]
    loader.load(write_csv(tmp_path / "admin_penalties_o.csv", PENALTY, [
        penalty("商丘市梁园区汇晨百货有限公司", uscc=twin, n=1),
        penalty("汇晨百货", org=A[8:17], n=2),
    ]))  # fmt: skip
    f = "admin_penalties:admin_penalties_o.csv"
    a, other = sid(store, A), mention(store, f"{f}:1")[0]
    assert other != a
    got, match = mention(store, f"{f}:2")
    assert got not in (a, other)
    assert match == {"method": "new", "ambiguous_bridge": f"org_code:{A[8:17]}"}
    assert reviews_of(store, got) == {a, other}


def test_a_mistyped_code_bridges_through_a_registration_number_only_as_a_typo(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """汇晨's 注册号 beside its USCC with one character wrong: a typo, so the
    number bridges, and 汇晨 does not take the typo as a key. Two characters
    wrong is another code: the two contradict and the record is not 汇晨."""
    loader.load(write_csv(tmp_path / "admin_penalties_t.csv", PENALTY, [
        penalty("汇晨商贸", uscc=mistype(A), reg=A_REG, n=1),
        penalty("汇晨商贸", uscc=twice_mistyped(A), reg=A_REG, n=2),
    ]))  # fmt: skip
    f = "admin_penalties:admin_penalties_t.csv"
    a = sid(store, A)
    assert mention(store, f"{f}:1") == (a, {"method": "bridge", "key": f"reg_no:{A_REG}"})
    assert f"uscc:{mistype(A)}" not in keys_of(store, a)
    got, match = mention(store, f"{f}:2")
    assert got != a and match["method"] == "new"
    assert f"uscc:{twice_mistyped(A)}" not in keys_of(store, a)


def test_an_unknown_registration_number_does_not_stop_the_organisation_code(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """恒达 has no 注册号 on file; a record gives one nobody has, then 恒达's
    organisation code: the code bridges, and 恒达 gains the number."""
    reg = make_reg_no("411481", "00000077")
    loader.load(write_csv(tmp_path / "admin_penalties_u.csv", PENALTY, [
        penalty("永城恒达", reg=reg, org=B[8:17], n=1),
    ]))  # fmt: skip
    b = sid(store, B)
    got = mention(store, "admin_penalties:admin_penalties_u.csv:1")
    assert got == (b, {"method": "bridge", "key": f"org_code:{B[8:17]}"})
    assert f"reg_no:{reg}" in keys_of(store, b)


# -- look-ups and what a batch notes ---------------------------------------------------


def test_a_key_not_prefetched_is_still_looked_up(store: GraphStore, loader: FileLoader) -> None:
    """``prefetch`` saves round trips; a resolver used without it (one party at
    a time) still finds a subject by its key."""
    resolver = Resolver(store, loader.settings)
    resolver.begin()
    uscc = Identifier(kind="uscc", value=A)
    party = Party("admin_penalties:x.csv:1", "subject", "organisation", "汇晨", "汇晨", [uscc])
    res = resolver.resolve(party)
    assert (res.subject_id, res.is_new) == (sid(store, A), False)
    assert res.match == {"method": "key", "key": f"uscc:{A}"}


def test_a_spelling_a_file_gives_a_subject_is_found_later_in_that_file(
    store: GraphStore, loader: FileLoader, tmp_path: Path
) -> None:
    """A registry row renames 恒达 (its USCC, a new name): the rows after it in
    the file find it by the new name, without a code."""
    loader.load(write_csv(tmp_path / "registry_2.csv", REGISTRY, [
        ["永城市恒达新型建材集团有限公司", B, "", "", "", "", "", "", ""],
        ["永城市恒达新型建材集团有限公司", "", "", "", "", "", "", "", ""],
    ]))  # fmt: skip
    got, match = mention(store, "registry:registry_2.csv:2")
    assert got == sid(store, B)
    assert match == {"method": "exact_name", "name": "永城市恒达新型建材集团有限公司"}


def test_a_former_name_read_from_the_store_is_compared_as_a_former_name(
    store: GraphStore, loader: FileLoader, settings: Settings, tmp_path: Path
) -> None:
    """In a new process (the index read from the store), a close spelling of
    恒达's former name 恒达水泥, with nothing else agreeing, is a review
    candidate: the reviewer is shown that it is the former name that is alike,
    not the name 恒达 bears now."""
    fresh = FileLoader(store, settings)
    fresh.load(write_csv(tmp_path / "admin_penalties_f.csv", PENALTY, [
        penalty("永城市恒达水坭有限公司", n=1),
    ]))  # fmt: skip
    got, match = mention(store, "admin_penalties:admin_penalties_f.csv:1")
    b = sid(store, B)
    assert got != b and match == {"method": "new", "reason": "uncertain match"}
    pairs = [d for d in store.list_docs(REVIEW).values() if {d["a"], d["b"]} == {got, b}]
    assert [(d["score"], d["features"]) for d in pairs] == [
        (0.8727, {"name": 0.8182, "former_name": 0.8727, "branch": False})
    ]


# -- a reviewer's judgements ----------------------------------------------------------


def test_a_record_split_off_and_then_merged_is_read_again_onto_the_survivor(
    store: GraphStore, loader: FileLoader, settings: Settings, tmp_path: Path
) -> None:
    """A reviewer splits a penalty off 汇晨, then merges the split-off subject
    into 夏邑 利民食品. The changed row, read again, lands on the survivor itself,
    and so does its listing."""
    path = tmp_path / "admin_penalties_w.csv"
    rows = [penalty("商丘市汇晨商贸有限公司", n=1), penalty("汇晨商贸有限公司", n=2)]
    loader.load(write_csv(path, PENALTY, rows))
    f = "admin_penalties:admin_penalties_w.csv"
    a = sid(store, A)
    new = split(store, a, ((f"{f}:2", "subject"),), by="investigator-1")["new_subject"]
    x1 = sid(store, X1)
    confirm(store, x1, new, by="investigator-1")
    assert store.resolve_ids([new]) == {new: x1}
    rows[1][-1] = "严重"
    FileLoader(store, settings).load(write_csv(path, PENALTY, rows))
    rec = store.get_records([f"{f}:2"])[f"{f}:2"]
    raw = next(m for m in rec.mentions if m.role == "subject")
    assert raw.subject_id == x1 and raw.match["method"] == "judgement"
    assert [x.subject_id for x in store.listings_of([x1])] == [x1]


def test_a_record_whose_subject_a_reviewer_merged_says_which_subject_it_was(
    store: GraphStore, loader: FileLoader, settings: Settings, tmp_path: Path
) -> None:
    """A name nobody has makes the record its own subject; a reviewer merges
    it into 恒达. The changed row, read again, is 恒达's, and its match names
    the subject the reviewer merged."""
    path = tmp_path / "admin_penalties_m.csv"
    rows = [penalty("永城某建材门市", n=1)]
    loader.load(write_csv(path, PENALTY, rows))
    f = "admin_penalties:admin_penalties_m.csv:1"
    own: Any = mention(store, f)[0]
    b = sid(store, B)
    confirm(store, b, own, by="investigator-1")
    rows[0][-1] = "严重"
    FileLoader(store, settings).load(write_csv(path, PENALTY, rows))
    assert mention(store, f) == (b, {"method": "judgement", "merged": own})
