# ruff: noqa: E501  (feed rows are kept one per line, as in the files they stand for)
"""Adversarial histories: no punitive measure without evidence at the time read.

Hypothesis builds a small city whose true history the test knows: companies
whose legal representatives change on known days (seen through registry
snapshots taken now and then, with 核准日期 that may date another change,
empty cells, officers rows with or without 离任日期), listings on random days
whose records name the responsible person by number, by name or not at all,
court rows with masked ID numbers of real people, name-only court rows whose
names are one character off a real company, and namesakes. The files are
loaded in a random order into each store; then, on a random day, every
measure of every subject is checked against the truth:

- a punitive measure through a legal-representative hop (or a record naming
  him) reaches a person who truly held the role at the time the rule reads;
- a punitive measure's hop says its time was known;
- a listing is punitive only for the company the record is truly about;
- a person who only agrees with a masked number, and a company whose name is
  one character off, are never punished (their checks may say review).
"""

from __future__ import annotations

import itertools
import os
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import NotFound
from graph.lookup import get_subject
from graph.propagate.engine import measures_many
from graph.settings import Settings
from graph.store.base import GraphStore
from loaders.pipeline import FileLoader
from tests.builders import make_id, make_uscc, write

START = date(2015, 1, 1)
# the day of the current extract (registry and officers), after every change
FINAL = 3650
PEOPLE = [
    ("甲", make_id("411403", "19700101", "111")),
    ("乙", make_id("411403", "19800202", "222")),
    ("丙", make_id("411421", "19900303", "333")),
    # namesakes: two 王伟
    ("王伟", make_id("411425", "19750505", "451")),
    ("王伟", make_id("411402", "19820303", "223")),
]
COMPANIES = [
    ("商丘市鑫源商贸有限公司", make_uscc("411403", "MA71XY01"), "商丘市鑫元商贸有限公司"),
    ("睢县宏达纺织有限公司", make_uscc("411422", "MA72HD02"), "睢县宏运纺织有限公司"),
]
EVENT_KINDS = ("tax_violations", "serious_violations", "admin_penalties")


def day(n: int) -> date:
    return START + timedelta(days=n)


@dataclass
class World:
    # company index -> [(person index, first day)] sorted by day
    lr: list[list[tuple[int, date]]]
    snapshots: list[tuple[int, date, bool, int]]  # company, file date, empty cell, approval lag
    officer_rows: list[tuple[int, int, bool]]  # company, span index, with end date
    listings: list[tuple[str, int, date, str]]  # kind, company, day, how the LR is named
    masked_court: list[tuple[int, date]]  # person index, day
    near_names: list[tuple[int, date]]  # company whose near-namesake is listed, day
    as_of: date
    order_seed: int
    files: list[Path] = field(default_factory=list)

    def holder(self, company: int, when: date) -> int | None:
        """The true legal representative on a day (None before the company existed)."""
        current = None
        for person, first in self.lr[company]:
            if first <= when:
                current = person
        return current


@st.composite
def worlds(draw: st.DrawFn) -> World:
    lr = []
    for _ in COMPANIES:
        n = draw(st.integers(1, 3))
        days = sorted(draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n, unique=True)))
        days[0] = 0
        people = draw(st.lists(st.integers(0, len(PEOPLE) - 1), min_size=n, max_size=n))
        # consecutive holders differ: a "change" to the same person is no change
        spans: list[tuple[int, date]] = []
        for p, d in zip(people, days, strict=True):
            if not spans or spans[-1][0] != p:
                spans.append((p, day(d)))
        lr.append(spans)
    # The registry tells the truth, but only now and then: a snapshot after each
    # change and before the next, one on the last day (the current extract),
    # and more at random, some with an empty cell. With at most one change
    # between two snapshots, rules.md's reading ("holds until a later snapshot
    # names someone else") is sound, so the true history is the oracle.
    snapshots = []
    for c, spans in enumerate(lr):
        bounds = [first for _, first in spans] + [day(FINAL)]
        for lo, hi in itertools.pairwise(bounds):
            offset = draw(st.integers(0, max(0, (hi - lo).days - 1)))
            snapshots.append((c, lo + timedelta(days=offset), False, draw(st.integers(0, 400))))
        snapshots.append((c, day(FINAL), False, draw(st.integers(0, 400))))
    snapshots += draw(
        st.lists(
            st.tuples(
                st.integers(0, len(COMPANIES) - 1),
                st.integers(30, FINAL).map(day),
                # now and then an empty legal-representative cell (missing data)
                st.sampled_from([False, False, False, True]),
                st.integers(0, 400),
            ),
            max_size=3,
        )
    )
    officer_rows = draw(
        st.lists(
            st.tuples(st.integers(0, len(COMPANIES) - 1), st.integers(0, 2), st.booleans()),
            max_size=3,
        )
    )
    as_of = day(draw(st.integers(2600, 3700)))
    # listings mostly still in force on as_of, so that the check has work to do
    listings = draw(
        st.lists(
            st.tuples(
                st.sampled_from((*EVENT_KINDS, "dishonest_debtors")),
                st.integers(0, len(COMPANIES) - 1),
                st.integers(0, 900).map(lambda back: as_of - timedelta(days=back)),
                st.sampled_from(["none", "key", "name", "wrong_key"]),
            ),
            min_size=1,
            max_size=5,
        )
    )
    masked_court = draw(
        st.lists(
            st.tuples(st.integers(0, len(PEOPLE) - 1), st.integers(2500, 3600).map(day)), max_size=2
        )
    )
    near_names = draw(
        st.lists(
            st.tuples(st.integers(0, len(COMPANIES) - 1), st.integers(2500, 3600).map(day)),
            max_size=2,
        )
    )
    return World(
        lr,
        snapshots,
        officer_rows,
        listings,
        masked_court,
        near_names,
        as_of,
        draw(st.integers(0, 99)),
    )


def _files(world: World, out: Path) -> list[Path]:
    files = []
    for i, (company, taken, empty, lag) in enumerate(world.snapshots):
        holder = world.holder(company, taken)
        if holder is None:
            continue
        name, uscc, _ = COMPANIES[company]
        latest_change = max(first for _, first in world.lr[company] if first <= taken)
        # 核准日期: the latest approved change, sometimes another change after it
        approved = min(latest_change + timedelta(days=lag), taken)
        pname, pid = PEOPLE[holder]
        files.append(write(out / f"registry_{i}.csv", [{
            "企业名称": name, "统一社会信用代码": uscc,
            "法定代表人": "" if empty else pname, "法定代表人证件号码": "" if empty else pid,
            "核准日期": approved.isoformat(), "数据日期": taken.isoformat(),
        }]))  # fmt: skip
    officer = []
    for company, span_index, with_end in world.officer_rows:
        spans = world.lr[company]
        if span_index >= len(spans):
            continue
        person, first = spans[span_index]
        end = spans[span_index + 1][1] if span_index + 1 < len(spans) else None
        name, uscc, _ = COMPANIES[company]
        pname, pid = PEOPLE[person]
        officer.append({
            "企业名称": name, "统一社会信用代码": uscc, "姓名": pname, "证件号码": pid,
            "职务": "法定代表人", "任职日期": first.isoformat(),
            "离任日期": end.isoformat() if end and with_end else "",
            "数据日期": day(FINAL).isoformat(),
        })  # fmt: skip
    if officer:
        files.append(write(out / "officers_1.csv", officer))
    by_kind: dict[str, list[dict[str, str]]] = {}
    for n, (kind, company, when, named) in enumerate(world.listings):
        name, uscc, _ = COMPANIES[company]
        holder = world.holder(company, when)
        who = PEOPLE[holder] if holder is not None else None
        if named == "wrong_key":
            # the record names someone who never held the role: he is the one it names
            who = PEOPLE[(holder or 0) + 1 if (holder or 0) + 1 < len(PEOPLE) else 0]
        lr_name = who[0] if who and named in ("key", "name", "wrong_key") else ""
        lr_id = who[1] if who and named in ("key", "wrong_key") else ""
        d = when.isoformat()
        row = {
            "tax_violations": {"纳税人名称": name, "统一社会信用代码": uscc, "公布日期": d,
                               "法定代表人或者负责人姓名": lr_name, "法定代表人或者负责人证件号码": lr_id},
            "serious_violations": {"企业名称": name, "统一社会信用代码": uscc, "列入日期": d,
                                   "法定代表人": lr_name, "法定代表人证件号码": lr_id},
            "admin_penalties": {"行政相对人名称": name, "行政相对人代码_1(统一社会信用代码)": uscc,
                                "法定代表人": lr_name, "证件号码": lr_id, "行政处罚决定书文号": f"罚〔{n}〕号",
                                "违法行为类型": "安全生产", "处罚决定日期": d, "失信严重程度": "严重"},
            "dishonest_debtors": {"案号": f"(执){n}号", "被执行人姓名/名称": name,
                                  "身份证号码/组织机构代码": uscc[8:17], "发布时间": d},
        }[kind]  # fmt: skip
        by_kind.setdefault(kind, []).append(row)
    for n, (person, when) in enumerate(world.masked_court):
        pname, pid = PEOPLE[person]
        by_kind.setdefault("dishonest_debtors", []).append(
            {
                "案号": f"(执)m{n}号",
                "被执行人姓名/名称": pname,
                "身份证号码/组织机构代码": pid[:10] + "****" + pid[14:],
                "发布时间": when.isoformat(),
            }
        )
    for n, (company, when) in enumerate(world.near_names):
        by_kind.setdefault("dishonest_debtors", []).append(
            {
                "案号": f"(执)n{n}号",
                "被执行人姓名/名称": COMPANIES[company][2],
                "发布时间": when.isoformat(),
            }
        )
    for kind, rows in by_kind.items():
        files.append(write(out / f"{kind}_1.csv", rows))
    return files


def _known_persons(store: GraphStore) -> dict[str, int]:
    out = {}
    for i, (_, pid) in enumerate(PEOPLE):
        try:
            out[get_subject(store, pid).id] = i
        except NotFound:  # never loaded in this world
            continue
    return out


def _load_and_check(store: GraphStore, world: World) -> Counter[str]:
    """Load the world's files in a shuffled order, check every measure against the
    truth, and count what was checked (so that a test can tell it checked something)."""
    store.clear()
    with tempfile.TemporaryDirectory() as tmp:
        files = _files(world, Path(tmp))
        random.Random(world.order_seed).shuffle(files)
        loader = FileLoader(store, Settings(data_dir=Path(tmp) / "data"))
        for f in files:
            loader.load(f)
    persons = _known_persons(store)
    companies = {}
    for i, (_, uscc, _) in enumerate(COMPANIES):
        try:
            companies[get_subject(store, uscc).id] = i
        except NotFound:
            continue
    counts: Counter[str] = Counter()
    everyone = [s.id for s in store.iter_subjects()]
    for sid, ms in measures_many(store, everyone, world.as_of.isoformat()).items():
        for m in ms:
            if not m.punitive:
                counts["flags"] += 1
                continue
            listed = m.listing["subject"]
            # a punitive listing is only ever on the company the record is about
            # (never on a near namesake's company, never on a masked-ID person)
            assert listed in companies or listed not in persons, (m.to_dict(), world)
            if m.direct:
                assert sid in companies or sid not in persons, (m.to_dict(), world)
                counts["direct"] += 1
                continue
            (hop,) = m.path
            assert hop["time"]["state"] == "known", (m.to_dict(), world)
            if m.role != "legal_representative":
                continue
            if hop["relation"] == "named_in_listing":
                # the record itself names him by number: that is the evidence
                counts["named_by_key"] += 1
                continue
            company = companies[listed]
            read_at = date.fromisoformat(hop["read_at"])
            person = persons.get(sid)
            truly = world.holder(company, read_at)
            assert person is not None and truly is not None, (m.to_dict(), world)
            assert PEOPLE[truly][1] == PEOPLE[person][1], (
                f"{PEOPLE[person]} punished as legal representative of {COMPANIES[company][0]} "
                f"on {read_at}, truly {PEOPLE[truly]}",
                m.to_dict(),
                world,
            )
            counts["through_graph"] += 1
    return counts


def test_no_punitive_measure_without_evidence_at_the_time_read(
    store: GraphStore, store_kind: str
) -> None:
    # Each example loads a city into the store: the server store costs a round
    # trip per call, so it gets fewer examples; both run the same property.
    # `make mutation` runs it once per mutant: 5 examples there, and the
    # same ones every time, so that a mutant's verdict does not depend on luck.
    mutation = os.environ.get("CREDITLINK_MUTATION") == "1"

    @settings(
        max_examples=5 if mutation else 60 if store_kind == "embedded" else 15,
        derandomize=mutation,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(world=worlds())
    def holds(world: World) -> None:
        _load_and_check(store, world)

    holds()


def test_the_checker_sees_punishments_where_the_evidence_holds(store: GraphStore) -> None:
    """The property above is only worth something if its worlds punish: one
    world where the truth and the files agree gives graph, key-named and
    review outcomes, all checked."""
    world = World(
        # 鑫源: 甲 from 2015, 乙 from 2019-06-25; 宏达: 丙 throughout
        lr=[[(0, day(0)), (1, day(1636))], [(2, day(0))]],
        snapshots=[(0, day(1000), False, 0), (0, day(2900), False, 0), (1, day(2000), False, 30)],
        # (no final extract here: the snapshots above already tell the truth)
        officer_rows=[],
        listings=[
            ("tax_violations", 0, day(2200), "none"),  # 乙, known from his 核准日期
            ("tax_violations", 0, day(2250), "key"),  # 乙, named by number
            ("serious_violations", 1, day(2100), "name"),  # 丙 by name, graph knows
            ("tax_violations", 0, day(1400), "none"),  # between sightings: reviewed
        ],
        masked_court=[(0, day(2200))],
        near_names=[(1, day(2200))],
        as_of=day(2300),
        order_seed=3,
    )
    counts = _load_and_check(store, world)
    # 乙 for the 2021 tax case (2 measures), 丙 named by name and known (1)
    assert counts["through_graph"] == 3 and counts["named_by_key"] == 2, counts
    assert counts["flags"] >= 1 and counts["direct"] >= 1, counts
