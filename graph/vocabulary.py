"""One table of every code the API returns and its Chinese label.

Assembled from where each vocabulary is declared: the model (graph/model.yaml:
subject types, key kinds, relation types, listing kinds), the rule book
(graph/rules.yaml: measures, rules, scenarios), labels.yaml (roles,
attributes and their values, match methods, statuses, properties, risk
levels) and style.yaml (how the graph is drawn). Feed labels belong to
loaders/, so the API adds them (``api/routers/model.py``): graph/ does not
know the feeds.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from graph.model import model
from graph.rules import rulebook


def _table(name: str) -> dict[str, Any]:
    text = (Path(__file__).parent / name).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    return _table("labels.yaml")


@lru_cache(maxsize=1)
def style() -> dict[str, Any]:
    """How the graph is drawn (graph/style.yaml), for the page and the figures."""
    return _table("style.yaml")


def vocabulary() -> dict[str, Any]:
    spec = model()
    book = rulebook()
    extra = labels()
    return {
        "subject_types": {k: {"label": v.label} for k, v in spec.subject_types.items()},
        "key_kinds": {
            k: {"label": v.label, "standard": v.standard} for k, v in spec.key_kinds.items()
        },
        "relation_types": {
            k: {"label": v.label, "from": list(v.sources), "to": list(v.targets)}
            for k, v in spec.relation_types.items()
        },
        "listing_kinds": {
            k: {"label": v.label, "punitive": v.punitive} for k, v in spec.listing_kinds.items()
        },
        "measures": {
            k: {"label": m.label, "punitive": m.punitive} for k, m in book.measures.items()
        },
        "rules": {r.id: {"label": r.label, "basis": r.basis} for r in book.rules},
        "scenarios": {k: {"label": s.label} for k, s in book.scenarios.items()},
        "roles": dict(extra["roles"]),
        "attributes": dict(extra["attributes"]),
        "hidden_attributes": list(extra.get("hidden_attributes") or []),
        "values": {k: dict(v) for k, v in (extra.get("values") or {}).items()},
        "match_methods": dict(extra["match_methods"]),
        "listing_statuses": dict(extra["listing_statuses"]),
        "properties": dict(extra["properties"]),
        "risk": dict(extra["risk"]),
        "check_results": dict(extra["check_results"]),
        "review_reasons": dict(extra["review_reasons"]),
        "match_features": dict(extra["match_features"]),
        "role_time_states": dict(extra["role_time_states"]),
        "role_time_sources": dict(extra["role_time_sources"]),
        "style": copy.deepcopy(style()),
    }
