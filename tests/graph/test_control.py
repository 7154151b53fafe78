"""Inferred control (graph/control.py) on both stores: a cumulative share of 50%
or more through shareholding chains, read on a date, the same whether asked
from the holder down (the engine: ``controlled_by``) or from the organisation
up (the change feed: ``controllers_of``). rules.md: inferred control gives
``related_party_review`` only, so a wrong answer here flags or misses a party."""

from __future__ import annotations

from typing import Any

import pytest

from graph.control import controlled_by, controllers_of
from graph.model import Relation
from graph.store.base import Batch, GraphStore
from tests.builders import AS_OF, org, person, rel

HOLDERS = ["P-sum", "P-third", "P-sold", "P-whole", "P-top", "P-half", "P-over"]
ORGS = ["O-a", "O-h", "O-b", "O-x", "O-y", "O-z", "O-half", "O-mid", "O-over"]


def share(
    source: str, target: str, value: Any, start: str = "2015-01-01", end: str | None = None
) -> Relation:
    r = rel("shareholder", source, target, start, end)
    if value is not None:
        r.props["share"] = value
    return r


@pytest.fixture
def owners(store: GraphStore) -> GraphStore:
    store.write(
        Batch(
            subjects=[person(p, p) for p in HOLDERS]
            + [person(p, p) for p in ("P-a-unknown", "P-b-tiny")]
            + [org(o, o) for o in ORGS],
            relations=[
                # 30% directly and 30% through a wholly owned company: 60%
                share("P-sum", "O-a", 0.3),
                share("P-sum", "O-h", 1.0),
                share("O-h", "O-a", 0.3),
                # 30% alone controls nothing
                share("P-third", "O-a", 0.3),
                # sold before the day asked about
                share("P-sold", "O-b", 0.6, "2015-01-01", "2024-01-01"),
                # the holders sorted first say nothing: an unknown share, a negligible one
                share("P-a-unknown", "O-b", None),
                share("P-b-tiny", "O-b", 0.00005),
                share("P-whole", "O-b", 1.0),
                # three hops of sole ownership
                share("P-top", "O-x", 1.0),
                share("O-x", "O-y", 1.0),
                share("O-y", "O-z", 1.0),
                # 70% of 70%, plus 1% directly: 50%, whatever the floating point says
                share("P-half", "O-mid", 0.7),
                share("O-mid", "O-half", 0.7),
                share("P-half", "O-half", 0.01),
                # an impossible share (150%) is no share at all
                share("P-over", "O-over", 1.5),
            ],
        )
    )
    return store


EXPECTED = {
    ("P-sum", "O-a"): 0.6,
    ("P-sum", "O-h"): 1.0,
    ("P-whole", "O-b"): 1.0,
    ("P-top", "O-x"): 1.0,
    ("P-top", "O-y"): 1.0,
    ("P-top", "O-z"): 1.0,
    ("P-half", "O-mid"): 0.7,
    ("P-half", "O-half"): 0.5,
    # companies in the chains control what lies below them too
    ("O-x", "O-y"): None,
    ("O-x", "O-z"): None,
    ("O-y", "O-z"): None,
    ("O-mid", "O-half"): None,
}


def test_control_is_the_same_read_down_from_holders_and_up_from_organisations(
    owners: GraphStore,
) -> None:
    everyone = HOLDERS + ORGS + ["P-a-unknown", "P-b-tiny"]
    down = controlled_by(owners, everyone, AS_OF, 0.5, 4)
    pairs = {(h, c.org): c.share for h, cs in down.items() for c in cs}
    assert set(pairs) == set(EXPECTED)
    for pair, value in EXPECTED.items():
        if value is not None:
            assert pairs[pair] == pytest.approx(value), pair
    up = controllers_of(owners, ORGS, AS_OF, 0.5, 4)
    assert {(h, o) for o, hs in up.items() for h in hs} == set(EXPECTED)


def test_the_chains_behind_a_cumulative_share(owners: GraphStore) -> None:
    (a,) = [c for c in controlled_by(owners, ["P-sum"], AS_OF, 0.5, 4)["P-sum"] if c.org == "O-a"]
    assert sorted([r.id for r in chain] for chain in a.chains) == sorted(
        [
            ["R-shareholder-P-sum-O-a-2015-01-01"],
            ["R-shareholder-P-sum-O-h-2015-01-01", "R-shareholder-O-h-O-a-2015-01-01"],
        ]
    )


def test_control_is_read_on_the_day_asked(owners: GraphStore) -> None:
    sold = controlled_by(owners, ["P-sold"], "2023-12-31", 0.5, 4)["P-sold"]
    assert {c.org for c in sold} == {"O-b"}
    assert controllers_of(owners, ["O-b"], "2023-12-31", 0.5, 4)["O-b"] == {"P-sold", "P-whole"}
    assert controlled_by(owners, ["P-sold"], AS_OF, 0.5, 4)["P-sold"] == []


def test_the_depth_bounds_how_far_control_is_followed(owners: GraphStore) -> None:
    assert {c.org for c in controlled_by(owners, ["P-top"], AS_OF, 0.5, 2)["P-top"]} == {
        "O-x",
        "O-y",
    }
    assert controllers_of(owners, ["O-z"], AS_OF, 0.5, 2)["O-z"] == {"O-x", "O-y"}


def test_cross_holdings_never_make_a_company_its_own_controller(store: GraphStore) -> None:
    store.write(
        Batch(
            subjects=[org("O-p", "O-p"), org("O-q", "O-q")],
            relations=[share("O-p", "O-q", 0.8), share("O-q", "O-p", 0.8)],
        )
    )
    assert controllers_of(store, ["O-p", "O-q"], AS_OF, 0.5, 4) == {
        "O-p": {"O-q"},
        "O-q": {"O-p"},
    }
    down = controlled_by(store, ["O-p", "O-q"], AS_OF, 0.5, 4)
    assert {h: [c.org for c in cs] for h, cs in down.items()} == {"O-p": ["O-q"], "O-q": ["O-p"]}


def test_a_holding_that_says_nothing_hides_none_listed_after_it(store: GraphStore) -> None:
    """A holder's shareholdings are read in id order: one with an unknown share,
    a negligible one or one back into the chain is passed over, and those after
    it still count."""
    store.write(
        Batch(
            subjects=[org(o, o) for o in ("A-mix", "O-1", "O-2", "O-3")],
            relations=[
                share("A-mix", "O-1", None),
                share("A-mix", "O-2", 0.00005),
                share("A-mix", "O-3", 0.6),
                share("O-3", "O-1", 0.9),
                # a cross-holding back up to A-mix, read before O-1's holding in O-2
                share("O-1", "A-mix", 0.5),
                share("O-1", "O-2", 1.0),
            ],
        )
    )
    down = controlled_by(store, ["A-mix", "O-3"], AS_OF, 0.5, 4)
    assert {h: [(c.org, c.share) for c in cs] for h, cs in down.items()} == {
        "A-mix": [("O-1", 0.54), ("O-2", 0.54), ("O-3", 0.6)],
        "O-3": [("O-1", 0.9), ("O-2", 0.9)],
    }


def test_only_a_shareholding_confers_control(store: GraphStore) -> None:
    """A guarantee or a declared controller carrying a share (a guaranteed
    fraction, say) is no ownership: read down or up, it controls nothing."""
    store.write(
        Batch(
            subjects=[person("P-g", "P-g"), org("O-g", "O-g"), org("O-d", "O-d")],
            relations=[
                rel("guarantees", "P-g", "O-g", share=0.9),
                rel("actual_controller", "P-g", "O-d", share=1.0),
            ],
        )
    )
    assert controlled_by(store, ["P-g"], AS_OF, 0.5, 4) == {"P-g": []}
    assert controllers_of(store, ["O-g", "O-d"], AS_OF, 0.5, 4) == {"O-g": set(), "O-d": set()}
