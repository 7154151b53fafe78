"""Inferred actual control (实际控制) from the ownership chain.

A holder's cumulative share in an organisation is the sum, over every simple
ownership path from the holder to it, of the product of the shares along the
path (A holds 60% of B, B holds 80% of C: A holds 48% of C through B). At or
above ``settings.control_threshold`` the holder is an inferred controller,
and the paths are the evidence. Inferred control is a flag for review, never
grounds to punish (rules.yaml: ``inferred_measures``).

Written over the store protocol: one ``relations_of`` call per hop for all
holders together, so a batch costs ``max_depth`` round trips whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from graph.model import Relation, model
from graph.store.base import GraphStore

# Partial paths below this share cannot matter to a 50% threshold in practice,
# and pruning them keeps dense ownership webs from exploding.
_NEGLIGIBLE = 1e-4
_MAX_PARTIALS = 50_000


@dataclass
class Control:
    # the controller is the key this is filed under in controlled_by's answer
    org: str
    share: float
    # each chain runs from the controller down to the organisation
    chains: list[list[Relation]] = field(default_factory=list)


def ownership_types() -> list[str]:
    """Relation types through which a holder owns a share (model.yaml trait)."""
    return list(model().with_trait("ownership"))


def share_of(rel: Relation) -> float | None:
    value = rel.props.get("share")
    if isinstance(value, int | float) and 0 < value <= 1:
        return float(value)
    return None


def controlled_by(
    store: GraphStore,
    holder_ids: Iterable[str],
    as_of: str | None,
    threshold: float,
    max_depth: int,
) -> dict[str, list[Control]]:
    """holder id -> organisations it controls through shareholdings on ``as_of``.

    ``threshold`` and ``max_depth`` have no defaults: every caller passes the
    settings' ``control_threshold`` and ``max_depth``, which stay their one home."""
    holders = sorted(set(holder_ids))
    # partial paths: (holder, current node, product, chain)
    partials: list[tuple[str, str, float, list[Relation]]] = [(h, h, 1.0, []) for h in holders]
    totals: dict[tuple[str, str], float] = {}
    chains: dict[tuple[str, str], list[list[Relation]]] = {}
    for _ in range(max_depth):
        if not partials:
            break
        frontier = sorted({p[1] for p in partials})
        out: dict[str, list[Relation]] = {}
        for rel in store.relations_of(frontier, ownership_types(), as_of, direction="out"):
            out.setdefault(rel.source, []).append(rel)
        nxt: list[tuple[str, str, float, list[Relation]]] = []
        for holder, node, product, chain in partials:
            visited = {holder, *(r.target for r in chain)}
            for rel in out.get(node, []):
                share = share_of(rel)
                if share is None or rel.target in visited:
                    continue
                p = product * share
                if p < _NEGLIGIBLE:
                    continue
                path = [*chain, rel]
                key = (holder, rel.target)
                totals[key] = totals.get(key, 0.0) + p
                chains.setdefault(key, []).append(path)
                nxt.append((holder, rel.target, p, path))
        partials = nxt[:_MAX_PARTIALS]
    result: dict[str, list[Control]] = {h: [] for h in holders}
    for (holder, org), total in sorted(totals.items()):
        # a tolerance so that 0.3 + 0.2 counts as the 50% it is
        if total + 1e-9 >= threshold:
            result[holder].append(Control(org, round(total, 6), chains[(holder, org)]))
    return result


def holders_of(
    store: GraphStore,
    org_ids: Iterable[str],
    as_of: str | None,
    max_depth: int,
) -> dict[str, dict[str, float]]:
    """org id -> {holder id: cumulative share} over shareholding chains up to
    ``max_depth`` hops above it on ``as_of``: ``controlled_by`` read upwards.

    The change feed needs this direction: when an organisation's listing or a
    shareholding below a holder changes, the holders whose inferred control
    (and so whose review flag) may change are found from the organisation up,
    one ``relations_of`` call per hop for all organisations together.
    """
    orgs = sorted(set(org_ids))
    # partial paths: (org, current holder, product, holders seen on the way up)
    partials: list[tuple[str, str, float, frozenset[str]]] = [
        (o, o, 1.0, frozenset({o})) for o in orgs
    ]
    totals: dict[str, dict[str, float]] = {o: {} for o in orgs}
    for _ in range(max_depth):
        if not partials:
            break
        frontier = sorted({p[1] for p in partials})
        into: dict[str, list[Relation]] = {}
        for rel in store.relations_of(frontier, ownership_types(), as_of, direction="in"):
            into.setdefault(rel.target, []).append(rel)
        nxt: list[tuple[str, str, float, frozenset[str]]] = []
        for org, node, product, seen in partials:
            for rel in into.get(node, []):
                share = share_of(rel)
                if share is None or rel.source in seen:
                    continue
                p = product * share
                if p < _NEGLIGIBLE:
                    continue
                got = totals[org]
                got[rel.source] = got.get(rel.source, 0.0) + p
                nxt.append((org, rel.source, p, seen | {rel.source}))
        partials = nxt[:_MAX_PARTIALS]
    return totals


def controllers_of(
    store: GraphStore,
    org_ids: Iterable[str],
    as_of: str | None,
    threshold: float,
    max_depth: int,
) -> dict[str, set[str]]:
    """org id -> the holders that control it on ``as_of`` (same sums and tolerance
    as ``controlled_by``)."""
    return {
        org: {h for h, total in held.items() if total + 1e-9 >= threshold}
        for org, held in holders_of(store, org_ids, as_of, max_depth).items()
    }
