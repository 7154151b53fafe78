"""rules.yaml against the spec (rules.md): every rule and measure id is there,
and the validator refuses what would silently implicate nobody."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from graph.errors import ConfigError
from graph.rules import RULES_FILE, load_rules, parse_rules, title_parts

SPEC = Path("/work/shared/domain/rules.md")
# Copied from rules.md, for when the shared spec is not mounted.
MEASURE_IDS = {
    "consumption_restriction",
    "procurement_exclusion",
    "bidding_restriction",
    "subsidy_restriction",
    "officer_disqualification",
    "exit_restriction",
    "tax_credit_grade_d",
    "enhanced_supervision",
    "incentive_suspension",
    "guarantee_risk_alert",
    "related_party_review",
}
RULE_IDS = {
    "dishonest_debtor",
    "dishonest_debtor_reference",
    "major_tax_violation",
    "serious_violation_list",
    "severe_admin_penalty",
    "abnormal_operations",
    "loan_default_guarantee",
    "red_list_suspension",
}


def spec_ids() -> tuple[set[str], set[str]]:
    if not SPEC.is_file():
        return MEASURE_IDS, RULE_IDS
    text = SPEC.read_text(encoding="utf-8")
    measures_part = text.split("## Measures", 1)[1].split("## Rules", 1)[0]
    rules_part = text.split("## Rules", 1)[1].split("Not implicated", 1)[0]
    first_cell = re.compile(r"^\|\s*`([a-z_]+)`", re.MULTILINE)
    return set(first_cell.findall(measures_part)), set(first_cell.findall(rules_part))


def raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    return data


def test_every_spec_id_is_in_the_rules_file() -> None:
    measures, rules = spec_ids()
    assert measures >= MEASURE_IDS and rules >= RULE_IDS  # the parser read the spec
    book = load_rules()
    assert set(book.measures) == measures
    assert {r.id for r in book.rules} == rules


def test_only_alerts_and_review_flags_are_not_punitive() -> None:
    book = load_rules()
    assert {m for m, s in book.measures.items() if not s.punitive} == {
        "guarantee_risk_alert",
        "related_party_review",
    }


def test_rules_carry_the_spec_details() -> None:
    book = load_rules()
    dd = book.rule("dishonest_debtor")
    assert dd.person_measures == ("officer_disqualification",)
    assert {r.role for r in dd.implicated} == {
        "legal_representative",
        "principal",
        "actual_controller",
        "directly_responsible",
    }
    assert all(r.time == "now" for r in dd.implicated)
    tax = book.rule("major_tax_violation")
    lr = next(r for r in tax.implicated if r.role == "legal_representative")
    assert lr.time == "event"
    assert lr.named_party == "legal_representative"
    fo = next(r for r in tax.implicated if r.role == "finance_officer")
    assert (fo.named_party, fo.unnamed) == ("finance_officer", "review")
    sv = book.rule("serious_violation_list").implicated[0]
    assert sv.duration_years == 3 and sv.measures == ("officer_disqualification",)
    sap = book.rule("severe_admin_penalty")
    assert sap.trigger_props == {"severity": frozenset({"严重"})}
    assert sap.implicated[0].listing_props["violation_type"] == {"安全生产", "食品药品"}
    assert book.rule("loan_default_guarantee").implicated[0].measures == ("guarantee_risk_alert",)
    # nothing reaches a branch, a head office or a plain shareholder
    used = {t for r in book.rules for role in r.implicated for t in role.relations}
    assert not used & {"branch_of", "shareholder"}


def test_every_scenario_of_the_checks_endpoint_is_defined() -> None:
    assert set(load_rules().scenarios) == {
        "procurement",
        "bidding",
        "approval",
        "market_access",
        "commendation",
    }


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw())
    node: Any = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["rules", 0, "subject_measures"], ["consumption_restrictoin"], "unknown measure"),
        (["rules", 0, "person_measures"], ["jail"], "unknown measure"),
        (["rules", 0, "implicated", 0, "measures"], ["fine"], "unknown measure"),
        (["rules", 0, "implicated", 0, "relations"], ["spouse"], "unknown relation type"),
        (["rules", 0, "implicated", 1, "titles"], ["janitor"], "unknown title group"),
        (["rules", 0, "implicated", 0, "time"], ["yesterday"], "must be one of"),
        (["rules", 0, "trigger", "kinds"], ["parking_tickets"], "unknown listing kind"),
        (["rules", 0, "implicated", 2, "inferred_measures"], ["exit_restriction"], "punished"),
        (["scenarios", "bidding", "restrict"], ["no_bids"], "unknown measure"),
        (["rules", 0, "basis"], "", "legal basis"),
    ],
)
def test_validator_names_the_problem(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_rules(_broken(path, value))
    assert message in err.value.message
    assert "rules.yaml: rules.dishonest_debtor" in err.value.message or "scenarios" in str(path)


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (["measures", "enhanced_supervision", "增加检查频次"], "measures.enhanced_supervision"),
        (["rules", 0, "trigger", "subject"], "rules.dishonest_debtor.trigger"),
        (["rules", 0, "measures"], "rules.dishonest_debtor"),
        (["scenarios", "bidding", "flags"], "scenarios.bidding"),
        (["periods", "tax_violations", "years"], "periods.tax_violations"),
        (["rule"], "top"),
    ],
)
def test_validator_rejects_keys_it_does_not_know(path: list[Any], where: str) -> None:
    """A stray key is refused, not ignored: an unquoted comma in a flow-mapping
    label (列为重点监管对象,增加检查频次) splits it into a label and a stray key."""
    with pytest.raises(ConfigError, match="unknown field") as err:
        parse_rules(_broken(path, None))
    assert where in err.value.message


def test_a_label_with_a_comma_is_kept_whole() -> None:
    book = load_rules()
    assert book.measures["enhanced_supervision"].label == "列为重点监管对象,增加检查频次"
    assert all("," not in m or m == "enhanced_supervision" for m in book.measures)


def test_the_basis_follows_the_violation_type() -> None:
    sap = load_rules().rule("severe_admin_penalty")
    safety = sap.basis_for({"violation_type": "安全生产"})
    food = sap.basis_for({"violation_type": "食品药品"})
    other = sap.basis_for({"violation_type": "环境保护"})
    assert "发改财金〔2016〕1001号" in safety and "食品药品" not in safety
    assert "食品药品" in food and "1001号" not in food
    assert other == "国发〔2016〕33号"


def test_duplicate_rule_ids_are_refused() -> None:
    data = raw()
    data["rules"].append(copy.deepcopy(data["rules"][0]))
    with pytest.raises(ConfigError, match="duplicate rule id"):
        parse_rules(data)


def test_compound_titles_count_for_each_part() -> None:
    assert title_parts("董事长兼总经理") == {"董事长", "总经理"}
    assert title_parts("董事") == {"董事"}
    assert "董事" not in title_parts("董事长")
