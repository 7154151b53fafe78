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

from collections.abc import Iterable, Iterator
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


def _ownership_paths(
    store: GraphStore, starts: list[str], as_of: str | None, max_depth: int, *, down: bool
) -> Iterator[tuple[str, str, float, list[Relation]]]:
    """(start, subject reached, product of the shares, path) for every simple
    shareholding path of at most ``max_depth`` hops from each start: down to
    what it holds, or up to who holds it. One ``relations_of`` call per hop
    serves all starts together."""

    def far(rel: Relation) -> str:
        return rel.target if down else rel.source

    # partial paths: (start, current end, product, path)
    partials: list[tuple[str, str, float, list[Relation]]] = [(s, s, 1.0, []) for s in starts]
    direction = "out" if down else "in"
    for _ in range(max_depth):
        if not partials:
            break
        frontier = sorted({p[1] for p in partials})
        step: dict[str, list[Relation]] = {}
        for rel in store.relations_of(frontier, ownership_types(), as_of, direction=direction):
            near = rel.source if down else rel.target
            step.setdefault(near, []).append(rel)
        nxt: list[tuple[str, str, float, list[Relation]]] = []
        for start, node, product, path in partials:
            visited = {start, *(far(r) for r in path)}
            for rel in step.get(node, []):
                share = share_of(rel)
                if share is None or far(rel) in visited:
                    continue
                p = product * share
                if p < _NEGLIGIBLE:
                    continue
                longer = [*path, rel]
                yield start, far(rel), p, longer
                nxt.append((start, far(rel), p, longer))
        partials = nxt[:_MAX_PARTIALS]


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
    totals: dict[tuple[str, str], float] = {}
    chains: dict[tuple[str, str], list[list[Relation]]] = {}
    for holder, org, share, path in _ownership_paths(store, holders, as_of, max_depth, down=True):
        key = (holder, org)
        totals[key] = totals.get(key, 0.0) + share
        chains.setdefault(key, []).append(path)
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
    totals: dict[str, dict[str, float]] = {o: {} for o in orgs}
    for org, holder, share, _ in _ownership_paths(store, orgs, as_of, max_depth, down=False):
        got = totals[org]
        got[holder] = got.get(holder, 0.0) + share
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
