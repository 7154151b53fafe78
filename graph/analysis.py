"""Analyst queries over the graph: guarantee circles, hidden links, ownership.
Data quality is graph/quality.py (the same module serves GET /quality).

Everything here reads through the GraphStore protocol (``iter_relations``,
``get_subjects``, ``get_records``, ``list_docs``), so a notebook gets the same
answers from the embedded store and from Neo4j. The graph algorithms are
networkx's: the relations of interest are copied into a small networkx graph
and the library does the cycle, component and path work.

These are whole-graph scans meant for notebooks and batch reports, not for the
API's request path (which is bounded by ``max_depth`` / ``max_nodes``).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graph.model import Relation, Subject, model
from graph.store.base import GraphStore

# Batches for get_records: large enough to be few round trips on Neo4j, small
# enough that one batch stays well under the query timeout.
_RECORD_BATCH = 1000

Period = tuple[str | None, str | None]


def _relations(store: GraphStore, types: Iterable[str], as_of: str | None) -> Iterator[Relation]:
    for rel in store.iter_relations(list(types)):
        if rel.active(as_of):
            yield rel


def _names(store: GraphStore, ids: Iterable[str]) -> dict[str, Subject]:
    return store.get_subjects(sorted(set(ids)))


def _amount(rel: Relation) -> float:
    value = rel.props.get("amount")
    return float(value) if isinstance(value, int | float) else 0.0


# ---------------------------------------------------------------------------
# Guarantees


def guarantee_graph(store: GraphStore, as_of: str | None = None) -> nx.DiGraph:
    """Guarantor → borrower, one edge per pair, for guarantees in force on ``as_of``.

    Several guarantees between one pair (different creditors or periods) are
    folded into one edge: ``amount`` is their sum (万元), ``relations``,
    ``records`` and ``periods`` list them, ``amount_missing`` counts those
    without an amount. ``as_of=None`` takes every guarantee ever recorded.
    Nodes carry ``name`` and ``type``.
    """
    g = nx.DiGraph()
    for rel in _relations(store, model().with_trait("guarantee"), as_of):
        if not g.has_edge(rel.source, rel.target):
            g.add_edge(
                rel.source,
                rel.target,
                amount=0.0,
                amount_missing=0,
                relations=[],
                records=[],
                periods=[],
            )
        data = g.edges[rel.source, rel.target]
        data["amount"] += _amount(rel)
        data["amount_missing"] += 0 if "amount" in rel.props else 1
        data["relations"].append(rel.id)
        data["records"].extend(r for r in rel.record_ids if r not in data["records"])
        data["periods"].append((rel.valid_from, rel.valid_to))
    subjects = _names(store, g.nodes)
    for node in g.nodes:
        subj = subjects.get(node)
        g.nodes[node]["name"] = subj.name if subj else ""
        g.nodes[node]["type"] = subj.type if subj else ""
    return g


@dataclass(frozen=True)
class GuaranteeEdge:
    guarantor: str
    borrower: str
    amount: float
    relations: tuple[str, ...]
    records: tuple[str, ...]


@dataclass(frozen=True)
class Circle:
    """One guarantee cycle: each subject guarantees the next, the last the first."""

    subjects: tuple[str, ...]
    names: tuple[str, ...]
    amount: float
    edges: tuple[GuaranteeEdge, ...]
    # Periods in which every guarantee of the circle was in force at once; empty
    # when the circle exists only by joining guarantees of different times.
    windows: tuple[Period, ...]

    @property
    def length(self) -> int:
        return len(self.subjects)

    @property
    def records(self) -> tuple[str, ...]:
        return tuple(sorted({r for e in self.edges for r in e.records}))

    def to_row(self) -> dict[str, Any]:
        return {
            "length": self.length,
            "circle": " → ".join(self.names) + " → " + self.names[0],
            "amount": self.amount,
            "in_force": "; ".join(f"{a or '…'} – {b or '…'}" for a, b in self.windows) or "never",
            "records": len(self.records),
            "subjects": list(self.subjects),
        }


def _intersect(a: list[Period], b: list[Period]) -> list[Period]:
    out: list[Period] = []
    for a0, a1 in a:
        for b0, b1 in b:
            # None is an open end: -inf for a start, +inf for an end.
            start = max((x for x in (a0, b0) if x is not None), default=None)
            end = min((x for x in (a1, b1) if x is not None), default=None)
            if start is None or end is None or start < end:
                out.append((start, end))
    return sorted(set(out), key=lambda p: (p[0] or "", p[1] or "\uffff"))


def _rotate(cycle: list[str]) -> list[str]:
    # One canonical rotation, so a circle reads the same whatever node the
    # cycle search started from.
    i = cycle.index(min(cycle))
    return cycle[i:] + cycle[:i]


def guarantee_circles(
    store: GraphStore, as_of: str | None = None, max_len: int = 8
) -> list[Circle]:
    """Every guarantee cycle of at most ``max_len`` subjects (担保圈 in the narrow sense).

    Sorted by amount (largest first), then by subjects. With ``as_of=None``
    guarantees of different times can form a circle; ``Circle.windows`` says
    whether they were ever in force together.
    """
    g = guarantee_graph(store, as_of)
    circles: list[Circle] = []
    for raw in nx.simple_cycles(g, length_bound=max_len):
        cycle = _rotate(list(raw))
        pairs = list(itertools.pairwise([*cycle, cycle[0]]))
        edges = tuple(
            GuaranteeEdge(
                guarantor=u,
                borrower=v,
                amount=g.edges[u, v]["amount"],
                relations=tuple(g.edges[u, v]["relations"]),
                records=tuple(g.edges[u, v]["records"]),
            )
            for u, v in pairs
        )
        windows: list[Period] = [(None, None)]
        for u, v in pairs:
            windows = _intersect(windows, g.edges[u, v]["periods"])
        circles.append(
            Circle(
                subjects=tuple(cycle),
                names=tuple(g.nodes[n]["name"] for n in cycle),
                amount=sum(e.amount for e in edges),
                edges=edges,
                windows=tuple(windows),
            )
        )
    circles.sort(key=lambda c: (-c.amount, c.subjects))
    return circles


@dataclass(frozen=True)
class GuaranteeGroup:
    """A strongly connected set of subjects (担保圈 in the wide sense): every member
    is exposed, through some chain of guarantees, to every other."""

    subjects: tuple[str, ...]
    names: tuple[str, ...]
    # guarantees among members: the mutual exposure that can default as one
    internal_amount: float
    internal_edges: int
    # guarantees members gave to outsiders: where a failure inside spreads
    outward_amount: float
    # guarantees outsiders gave to members: who is exposed to the group
    inward_amount: float

    def to_row(self) -> dict[str, Any]:
        return {
            "members": len(self.subjects),
            "names": "、".join(self.names),
            "internal_amount": self.internal_amount,
            "internal_edges": self.internal_edges,
            "outward_amount": self.outward_amount,
            "inward_amount": self.inward_amount,
            "subjects": list(self.subjects),
        }


def guarantee_groups(store: GraphStore, as_of: str | None = None) -> list[GuaranteeGroup]:
    """Strongly connected components of two or more subjects, largest exposure first."""
    g = guarantee_graph(store, as_of)
    groups: list[GuaranteeGroup] = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) < 2:
            continue
        internal = outward = inward = 0.0
        edges = 0
        for u, v, amount in g.edges(data="amount"):
            if u in comp and v in comp:
                internal += amount
                edges += 1
            elif u in comp:
                outward += amount
            elif v in comp:
                inward += amount
        members = tuple(sorted(comp))
        groups.append(
            GuaranteeGroup(
                subjects=members,
                names=tuple(g.nodes[n]["name"] for n in members),
                internal_amount=internal,
                internal_edges=edges,
                outward_amount=outward,
                inward_amount=inward,
            )
        )
    groups.sort(key=lambda x: (-x.internal_amount, x.subjects))
    return groups


# ---------------------------------------------------------------------------
# Hidden links (shell clusters)


@dataclass(frozen=True)
class Evidence:
    signal: str  # legal_representative, officer, address, controlling_shareholder
    # the shared party's subject id, or the normalised address
    shared: str
    shared_name: str
    relations: tuple[str, ...] = ()
    records: tuple[str, ...] = ()


@dataclass
class HiddenLink:
    """Two organisations with something in common and no disclosed relation."""

    a: str
    b: str
    a_name: str
    b_name: str
    evidence: list[Evidence] = field(default_factory=list)
    # guarantees between the two: a related-party guarantee makes the link matter more
    guarantees: tuple[str, ...] = ()

    @property
    def signals(self) -> tuple[str, ...]:
        return tuple(sorted({e.signal for e in self.evidence}))

    def to_row(self) -> dict[str, Any]:
        return {
            "a": self.a_name,
            "b": self.b_name,
            "signals": ", ".join(self.signals),
            "shared": "; ".join(f"{e.signal}: {e.shared_name}" for e in self.evidence),
            "guarantees_between": len(self.guarantees),
            "records": len({r for e in self.evidence for r in e.records}),
            "a_id": self.a,
            "b_id": self.b,
        }


def normalise_address(text: str) -> str:
    """Full-width to half-width, no spaces or punctuation: the spellings of one address
    compare equal, different house numbers do not."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s,，.。·、()（）\-—]", "", folded)


def hidden_links(
    store: GraphStore,
    as_of: str | None = None,
    control_threshold: float = 0.5,
    max_group: int = 50,
) -> list[HiddenLink]:
    """Organisation pairs sharing a legal representative, an officer, an address or a
    controlling shareholder, not related by ownership, control or branch.

    A controlling shareholder holds at least ``control_threshold`` directly or
    is a declared actual controller. A party or address shared by more than
    ``max_group`` organisations (a registered-agent office, a state holding
    company) is skipped: it is not a shell signal and its pairs would swamp
    the rest. Sorted by number of distinct signals, then by ids.
    """
    orgs = {s.id: s for s in store.iter_subjects("organisation")}
    # (signal, shared key) -> org id -> (relation ids, record ids)
    shared: dict[tuple[str, str], dict[str, tuple[set[str], set[str]]]] = defaultdict(dict)

    def note(signal: str, key: str, org: str, rel: Relation | None) -> None:
        rels, recs = shared[(signal, key)].setdefault(org, (set(), set()))
        if rel is not None:
            rels.add(rel.id)
            recs.update(rel.record_ids)

    spec = model()
    people, control = spec.with_trait("person_role"), spec.with_trait("control")
    ownership = spec.with_trait("ownership")
    # Relations that already disclose why two organisations share people or an
    # address (a subsidiary shares its parent's officers, a branch its head's
    # address), so a shared party between them is no hidden link.
    discloses = spec.with_trait("discloses")
    disclosed: set[frozenset[str]] = set()
    read = dict.fromkeys([*people, *control, *ownership, *discloses])
    for rel in _relations(store, list(read), as_of):
        if rel.type in discloses and rel.source in orgs and rel.target in orgs:
            disclosed.add(frozenset((rel.source, rel.target)))
        if rel.target not in orgs:
            continue
        if rel.type in people:
            note(rel.type, rel.source, rel.target, rel)
        elif rel.type in control or (
            rel.type in ownership and float(rel.props.get("share") or 0) >= control_threshold
        ):
            note("controlling_shareholder", rel.source, rel.target, rel)
    address_text: dict[str, str] = {}
    for org in orgs.values():
        address = org.attrs.get("address")
        if isinstance(address, str) and address.strip():
            key = normalise_address(address)
            address_text.setdefault(key, address.strip())
            note("address", key, org.id, None)

    party_ids = {key for (signal, key) in shared if signal != "address"}
    parties = _names(store, party_ids)
    links: dict[tuple[str, str], HiddenLink] = {}
    for (signal, key), members in sorted(shared.items()):
        if len(members) < 2 or len(members) > max_group:
            continue
        party = parties.get(key)
        label = (
            address_text.get(key, key) if signal == "address" else (party.name if party else key)
        )
        for a, b in itertools.combinations(sorted(members), 2):
            if frozenset((a, b)) in disclosed:
                continue
            link = links.get((a, b))
            if link is None:
                link = links[(a, b)] = HiddenLink(a, b, orgs[a].name, orgs[b].name)
            rels = members[a][0] | members[b][0]
            recs = members[a][1] | members[b][1]
            link.evidence.append(
                Evidence(signal, key, label, tuple(sorted(rels)), tuple(sorted(recs)))
            )
    if links:
        between: dict[frozenset[str], list[str]] = defaultdict(list)
        for rel in _relations(store, spec.with_trait("guarantee"), as_of):
            between[frozenset((rel.source, rel.target))].append(rel.id)
        for (a, b), link in links.items():
            link.guarantees = tuple(sorted(between.get(frozenset((a, b)), [])))
    return sorted(links.values(), key=lambda x: (-len(x.signals), x.a, x.b))


def shell_clusters(links: Iterable[HiddenLink]) -> list[list[str]]:
    """Connected groups of organisations joined by hidden links, largest first."""
    g = nx.Graph()
    g.add_edges_from((link.a, link.b) for link in links)
    return sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: (-len(c), c))


# ---------------------------------------------------------------------------
# Ownership


@dataclass(frozen=True)
class Ownership:
    """A holder's cumulative share in an organisation through every ownership chain."""

    holder: str
    held: str
    share: float
    # each chain from the holder down to the organisation, as relation ids
    chains: tuple[tuple[str, ...], ...]


def shareholding_graph(store: GraphStore, as_of: str | None = None) -> nx.DiGraph:
    """Holder → organisation with ``share`` (0..1) and ``relation`` (its id).

    A pair recorded several times (a changed stake) keeps the latest record by
    ``valid_from``: summing them would count one stake twice.
    """
    g = nx.DiGraph()
    for rel in _relations(store, model().with_trait("ownership"), as_of):
        share = rel.props.get("share")
        if not isinstance(share, int | float) or not 0 < share <= 1:
            continue
        if g.has_edge(rel.source, rel.target) and (
            g.edges[rel.source, rel.target]["valid_from"] or ""
        ) > (rel.valid_from or ""):
            continue
        g.add_edge(
            rel.source, rel.target, share=float(share), relation=rel.id, valid_from=rel.valid_from
        )
    return g


def ownership_chains(
    store: GraphStore,
    subject_id: str,
    as_of: str | None = None,
    direction: str = "up",
    max_depth: int = 6,
    graph: nx.DiGraph | None = None,
) -> list[Ownership]:
    """Cumulative ownership along shareholder chains of at most ``max_depth`` hops.

    ``direction="up"``: who owns ``subject_id`` (directly or through others);
    ``"down"``: what ``subject_id`` owns. A share is the sum over simple chains
    of the product of the shares along each (A holds 60% of B, B 70% of C: A
    holds 42% of C). Largest share first. Pass ``graph`` (from
    ``shareholding_graph``) to reuse one graph for many subjects.
    """
    if direction not in ("up", "down"):
        raise ValueError("direction must be 'up' or 'down'")
    g = graph if graph is not None else shareholding_graph(store, as_of)
    if subject_id not in g:
        return []
    walk = g.reverse(copy=False) if direction == "up" else g
    others = nx.descendants(walk, subject_id)
    totals: dict[str, float] = defaultdict(float)
    chains: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for path in nx.all_simple_paths(walk, subject_id, others, cutoff=max_depth):
        # Chains always read from the holder down to the held organisation.
        down = path[::-1] if direction == "up" else path
        share = 1.0
        rels = []
        for u, v in itertools.pairwise(down):
            share *= g.edges[u, v]["share"]
            rels.append(g.edges[u, v]["relation"])
        totals[path[-1]] += share
        chains[path[-1]].append(tuple(rels))
    out = [
        Ownership(
            holder=other if direction == "up" else subject_id,
            held=subject_id if direction == "up" else other,
            share=min(total, 1.0),
            chains=tuple(sorted(chains[other])),
        )
        for other, total in totals.items()
    ]
    return sorted(out, key=lambda o: (-o.share, o.holder, o.held))
