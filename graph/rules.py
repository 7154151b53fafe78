"""The joint punishment rules (``rules.yaml``): loaded, validated, typed.

Validation is strict on purpose: a rule that names a measure, relation type,
listing kind or title group nobody defined would silently implicate nobody (or
punish with a measure the API cannot explain), so it is refused with the rule,
the field and the unknown value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from graph.errors import ConfigError
from graph.model import ORGANISATION, PERSON, model

RULES_FILE = Path(__file__).parent / "rules.yaml"
RULE_FIELDS = {
    "id",
    "label",
    "trigger",
    "subject_measures",
    "person_measures",
    "implicated",
    "basis",
    "basis_by",
}
TRIGGER_FIELDS = {"kinds", "subject_type", "props", "punitive_listing"}
TIMES = ("now", "event")
UNNAMED = ("graph", "review")
ENDS = ("source", "target")


@dataclass(frozen=True)
class MeasureSpec:
    id: str
    label: str
    punitive: bool


@dataclass(frozen=True)
class Role:
    """One way a rule reaches a related party of the listed subject."""

    role: str
    measures: tuple[str, ...]
    relations: tuple[str, ...] = ()
    # which end of the relation is the implicated party; the other is the listed one
    party_end: str = "source"
    titles: frozenset[str] = frozenset()
    time: str = "now"
    # The person the listing record names in this capacity (props.parties.<name>
    # by key, props.<name>_name by name) decides who is implicated
    # (rules.md, "The record names the responsible person").
    named_party: str | None = None
    # What the graph alone gives when the record names nobody: ``graph`` reads
    # the role (known punishes, unknown reviews); ``review`` only flags it (a
    # title alone is not a finding of responsibility).
    unnamed: str = "graph"
    listing_props: dict[str, frozenset[str]] = field(default_factory=dict)
    inferred_measures: tuple[str, ...] = ()
    duration_years: int | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    kinds: tuple[str, ...]
    subject_measures: tuple[str, ...]
    person_measures: tuple[str, ...]
    implicated: tuple[Role, ...]
    basis: str
    # (listing property, {its value: basis}): the memorandum that applies follows
    # the listing (a 安全生产 penalty is not punished under the 食品药品 memorandum)
    basis_by: tuple[str, dict[str, str]] | None = None
    subject_type: str | None = None
    trigger_props: dict[str, frozenset[str]] = field(default_factory=dict)
    punitive_listing: bool = False

    def basis_for(self, props: dict[str, Any]) -> str:
        if self.basis_by is not None:
            prop, table = self.basis_by
            chosen = table.get(str(props.get(prop) or ""))
            if chosen is not None:
                return chosen
        return self.basis


@dataclass(frozen=True)
class Period:
    max_years: int | None = None
    min_months: int | None = None
    not_published: bool = False
    override_prop: str | None = None


@dataclass(frozen=True)
class Scenario:
    id: str
    label: str
    restrict: frozenset[str]
    review: frozenset[str]
    restrict_punitive: bool = False


@dataclass(frozen=True)
class RuleBook:
    measures: dict[str, MeasureSpec]
    rules: tuple[Rule, ...]
    title_groups: dict[str, frozenset[str]]
    # kind -> (prop name or None, {prop value or "" -> Period})
    periods: dict[str, tuple[str | None, dict[str, Period]]]
    scenarios: dict[str, Scenario]

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def period(self, kind: str, props: dict[str, Any]) -> Period | None:
        entry = self.periods.get(kind)
        if entry is None:
            return None
        prop, table = entry
        if prop is None:
            return table.get("")
        return table.get(str(props.get(prop) or ""))

    def is_punitive(self, measure: str) -> bool:
        return self.measures[measure].punitive


def _fail(where: str, message: str, **details: Any) -> ConfigError:
    return ConfigError(f"rules.yaml: {where}: {message}", where=where, **details)


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, "expected a list of strings", value=value)
    return tuple(value)


def _prop_conditions(value: Any, where: str) -> dict[str, frozenset[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(where, "expected a mapping of property -> allowed values", value=value)
    return {str(k): frozenset(_str_list(v, f"{where}.{k}")) for k, v in value.items()}


def _known(values: tuple[str, ...], known: Any, where: str, what: str) -> None:
    for v in values:
        if v not in known:
            raise _fail(where, f"unknown {what} {v!r}", value=v, known=sorted(known))


def _only(value: Any, allowed: set[str], where: str) -> dict[str, Any]:
    """A mapping with no key outside ``allowed``: a misspelt or stray key (a label
    with an unquoted comma splits into two in a YAML flow mapping) would otherwise
    be ignored in silence."""
    if not isinstance(value, dict):
        raise _fail(where, "expected a mapping", value=value)
    unknown = set(value) - allowed
    if unknown:
        raise _fail(where, f"unknown field(s) {sorted(map(str, unknown))}", known=sorted(allowed))
    return value


def parse_rules(data: Any) -> RuleBook:
    """Validate a parsed rules document; ConfigError names the first problem precisely."""
    _only(data, {"measures", "title_groups", "periods", "scenarios", "rules"}, "top")
    spec = model()
    measures: dict[str, MeasureSpec] = {}
    for mid, m in (data.get("measures") or {}).items():
        _only(m, {"label", "punitive"}, f"measures.{mid}")
        if not isinstance(m.get("punitive"), bool) or not isinstance(m.get("label"), str):
            raise _fail(f"measures.{mid}", "needs a label and punitive: true|false")
        measures[mid] = MeasureSpec(mid, str(m["label"]), bool(m["punitive"]))
    if not measures:
        raise _fail("measures", "no measures defined")

    groups = {
        g: frozenset(_str_list(v, f"title_groups.{g}"))
        for g, v in (data.get("title_groups") or {}).items()
    }

    periods: dict[str, tuple[str | None, dict[str, Period]]] = {}
    for kind, p in (data.get("periods") or {}).items():
        _known((kind,), spec.listing_kinds, f"periods.{kind}", "listing kind")
        if isinstance(p, dict) and "by_prop" in p:
            _only(p, {"by_prop", "values"}, f"periods.{kind}")
            values = _only(p.get("values"), set(map(str, p.get("values") or {})), f"periods.{kind}")
            table = {str(v): _period(b, f"periods.{kind}.{v}") for v, b in values.items()}
            periods[kind] = (str(p["by_prop"]), table)
        else:
            periods[kind] = (None, {"": _period(p, f"periods.{kind}")})

    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(data.get("rules") or []):
        rid = r.get("id") if isinstance(r, dict) else None
        where = f"rules[{i}]" if not rid else f"rules.{rid}"
        if not rid:
            raise _fail(where, "a rule needs an id")
        if rid in seen:
            raise _fail(where, "duplicate rule id", rule=rid)
        seen.add(rid)
        _only(r, RULE_FIELDS, where)
        trig = _only(r.get("trigger") or {}, TRIGGER_FIELDS, f"{where}.trigger")
        kinds = _str_list(trig.get("kinds"), f"{where}.trigger.kinds")
        if not kinds:
            raise _fail(f"{where}.trigger.kinds", "a rule needs at least one trigger kind")
        _known(kinds, spec.listing_kinds, f"{where}.trigger.kinds", "listing kind")
        stype = trig.get("subject_type")
        if stype is not None and stype not in (PERSON, ORGANISATION):
            raise _fail(f"{where}.trigger.subject_type", f"unknown subject type {stype!r}")
        subj = _str_list(r.get("subject_measures"), f"{where}.subject_measures")
        pers = _str_list(r.get("person_measures"), f"{where}.person_measures")
        _known(subj, measures, f"{where}.subject_measures", "measure")
        _known(pers, measures, f"{where}.person_measures", "measure")
        roles = tuple(
            _role(x, f"{where}.implicated[{j}]", measures, groups)
            for j, x in enumerate(r.get("implicated") or [])
        )
        if not r.get("basis"):
            raise _fail(where, "a rule needs its legal basis")
        basis_by = _basis_by(r.get("basis_by"), f"{where}.basis_by")
        rules.append(
            Rule(
                id=str(rid),
                label=str(r.get("label") or rid),
                kinds=kinds,
                subject_measures=subj,
                person_measures=pers,
                implicated=roles,
                basis=str(r["basis"]),
                basis_by=basis_by,
                subject_type=stype,
                trigger_props=_prop_conditions(trig.get("props"), f"{where}.trigger.props"),
                punitive_listing=bool(trig.get("punitive_listing", False)),
            )
        )

    scenarios: dict[str, Scenario] = {}
    for sid, s in (data.get("scenarios") or {}).items():
        _only(s, {"label", "restrict", "review", "restrict_punitive"}, f"scenarios.{sid}")
        restrict = _str_list(s.get("restrict"), f"scenarios.{sid}.restrict")
        review = _str_list(s.get("review"), f"scenarios.{sid}.review")
        _known(restrict, measures, f"scenarios.{sid}.restrict", "measure")
        _known(review, measures, f"scenarios.{sid}.review", "measure")
        scenarios[sid] = Scenario(
            sid,
            str(s.get("label") or sid),
            frozenset(restrict),
            frozenset(review),
            bool(s.get("restrict_punitive", False)),
        )
    return RuleBook(measures, tuple(rules), groups, periods, scenarios)


def _basis_by(value: Any, where: str) -> tuple[str, dict[str, str]] | None:
    if value is None:
        return None
    _only(value, {"prop", "values"}, where)
    values = value.get("values")
    if not isinstance(value.get("prop"), str) or not isinstance(values, dict) or not values:
        raise _fail(where, "needs prop: <listing property> and values: {value: basis}")
    if not all(isinstance(b, str) and b for b in values.values()):
        raise _fail(f"{where}.values", "every basis must be a non-empty string")
    return str(value["prop"]), {str(k): str(b) for k, b in values.items()}


def _period(p: Any, where: str) -> Period:
    if not isinstance(p, dict):
        raise _fail(where, "expected a mapping")
    unknown = set(p) - {"max_years", "min_months", "not_published", "override_prop"}
    if unknown:
        raise _fail(where, f"unknown field(s) {sorted(unknown)}")
    return Period(
        max_years=p.get("max_years"),
        min_months=p.get("min_months"),
        not_published=bool(p.get("not_published", False)),
        override_prop=p.get("override_prop"),
    )


def _role(
    x: Any, where: str, measures: dict[str, MeasureSpec], groups: dict[str, frozenset[str]]
) -> Role:
    if not isinstance(x, dict) or not x.get("role"):
        raise _fail(where, "an implicated party needs a role name")
    known_fields = {
        "role",
        "relations",
        "party_end",
        "titles",
        "time",
        "named_party",
        "unnamed",
        "listing_props",
        "measures",
        "inferred_measures",
        "duration_years",
    }
    unknown = set(x) - known_fields
    if unknown:
        raise _fail(where, f"unknown field(s) {sorted(unknown)}", known=sorted(known_fields))
    rels = _str_list(x.get("relations"), f"{where}.relations")
    _known(rels, model().relation_types, f"{where}.relations", "relation type")
    if not rels:
        raise _fail(f"{where}.relations", "an implicated party needs the relation(s) it holds")
    named = x.get("named_party")
    if named is not None and (not isinstance(named, str) or not named):
        raise _fail(f"{where}.named_party", "must be a party name", value=named)
    unnamed = x.get("unnamed", "graph")
    if unnamed not in UNNAMED:
        raise _fail(f"{where}.unnamed", f"must be one of {UNNAMED}", value=unnamed)
    end = x.get("party_end", "source")
    if end not in ENDS:
        raise _fail(f"{where}.party_end", f"must be one of {ENDS}", value=end)
    time = x.get("time", "now")
    if time not in TIMES:
        raise _fail(f"{where}.time", f"must be one of {TIMES}", value=time)
    title_groups = _str_list(x.get("titles"), f"{where}.titles")
    _known(title_groups, groups, f"{where}.titles", "title group")
    titles = frozenset(t for g in title_groups for t in groups[g])
    ms = _str_list(x.get("measures"), f"{where}.measures")
    if not ms:
        raise _fail(f"{where}.measures", "an implicated party needs at least one measure")
    _known(ms, measures, f"{where}.measures", "measure")
    inferred = _str_list(x.get("inferred_measures"), f"{where}.inferred_measures")
    _known(inferred, measures, f"{where}.inferred_measures", "measure")
    if any(measures[m].punitive for m in inferred):
        # DESIGN: inferred control is evidence for a reviewer, never grounds to punish
        raise _fail(f"{where}.inferred_measures", "an inferred controller may not be punished")
    dur = x.get("duration_years")
    if dur is not None and (not isinstance(dur, int) or dur <= 0):
        raise _fail(f"{where}.duration_years", "must be a positive integer", value=dur)
    return Role(
        role=str(x["role"]),
        measures=ms,
        relations=rels,
        party_end=end,
        titles=titles,
        time=time,
        named_party=named,
        unnamed=unnamed,
        listing_props=_prop_conditions(x.get("listing_props"), f"{where}.listing_props"),
        inferred_measures=inferred,
        duration_years=dur,
    )


def load_rules(path: Path | None = None) -> RuleBook:
    p = path or RULES_FILE
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the rules file {p}: {exc}") from exc
    return parse_rules(data)


@lru_cache(maxsize=1)
def rulebook() -> RuleBook:
    return load_rules()


def title_parts(title: str | None) -> set[str]:
    """``董事长兼总经理`` -> {董事长, 总经理}: a compound title holds each of its roles."""
    if not title:
        return set()
    text = title
    for sep in ("兼任", "兼", "、", "，", ",", "/", "及", " "):
        text = text.replace(sep, "\x1f")
    return {t.strip() for t in text.split("\x1f") if t.strip()}
