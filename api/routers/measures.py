"""Measures and the punishment engine's endpoints: measures and listings of a
subject, batch credit checks, credit repairs and the change feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Query
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from api.deps import (
    ChangesCaller,
    ChecksCaller,
    MeasuresCaller,
    NowDep,
    ReadCaller,
    RepairCaller,
    SettingsDep,
    StoreDep,
)
from api.limits import heavy
from api.oracle import conceal_id_checks, id_misses, refuse_id_checks
from api.params import SubjectKey, check_page
from api.schemas import Changes, Checks, Listings, Measures, Repairs
from graph.checks import RESULTS, check_inputs
from graph.errors import InvalidInput, LimitExceeded
from graph.lookup import get_subject
from graph.privacy import mask_error_payload
from graph.propagate.changes import change_feed, parse_time
from graph.propagate.engine import listings_with_status
from graph.propagate.repairs import record_repair
from graph.propagate.status import parse_as_of
from graph.rules import rulebook
from graph.views import measures_card, subject_summary

router = APIRouter(tags=["measures"])


AsOf = Annotated[
    str | None,
    Query(
        description="ISO date to answer for (default: today, Asia/Shanghai)",
        examples=["2024-06-01"],
        max_length=10,
    ),
]

MEASURE_EXAMPLE = {
    "rule": "dishonest_debtor",
    "measure": "consumption_restriction",
    "label": "限制高消费及非生活和工作必需的消费",
    "punitive": True,
    "basis": "法释〔2015〕17号 第三条; 中办发〔2016〕64号; 发改财金〔2016〕141号",
    "direct": False,
    "role": "legal_representative",
    "until": "2025-03-01",
    "listing": {
        "id": "L-0123456789abcdef",
        "feed": "dishonest_debtors",
        "subject": "S-org",
        "number": "(2023)豫14执123号",
        "department": "商丘市中级人民法院",
        "dates": {"start": "2023-03-01", "end": None, "status": "active", "until": "2025-03-01"},
        "props": {},
        "record": ["dishonest_debtors:court_2023.csv:17"],
    },
    "path": [
        {
            "from": "S-org",
            "to": "S-person",
            "relation": "legal_representative",
            "relation_id": "R-0123456789abcdef",
            "role": "legal_representative",
            "valid_from": "2020-01-01",
            "valid_to": None,
            "read_at": "2024-06-01",
            "records": ["registry:registry_2024.csv:3"],
        }
    ],
}


@router.get(
    "/subjects/{key}/measures",
    summary="Measures of joint punishment that apply to a subject on a date, and why",
    description=(
        "Direct measures (the subject's own active listings) and propagated ones (a related "
        "party's listing, through a role a rule names). Each carries the rule, the measure, "
        "the legal basis, the listing (feed, number, department, dates, status, records, the "
        "listed subject's name) and the path of hops from the listed subject to this one, "
        "each hop naming its subjects. `risk` sums them up: `level` (listed, implicated, "
        "review, clear) and the distinct punitive and review measures."
    ),
    response_model_exclude_unset=True,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "subject": {
                            "id": "S-person",
                            "type": "person",
                            "name": "王伟",
                            "keys": ["id_number:411425********1231"],
                            "status": None,
                        },
                        "as_of": "2024-06-01",
                        "risk": {
                            "level": "implicated",
                            "punitive": ["consumption_restriction"],
                            "review": [],
                        },
                        "measures": [MEASURE_EXAMPLE],
                        "pending": [],
                    }
                }
            }
        }
    },
)
@heavy
def get_measures(
    key: SubjectKey,
    store: StoreDep,
    settings: SettingsDep,
    _: MeasuresCaller,
    as_of: AsOf = None,
) -> Measures:
    day = parse_as_of(as_of)
    card = measures_card(
        store,
        get_subject(store, key),
        day,
        threshold=settings.control_threshold,
        control_depth=settings.max_depth,
    )
    return Measures.model_validate(card)


@router.get(
    "/subjects/{key}/listings",
    summary="A subject's listings with their status on a date",
    description=(
        "Every listing, penalty, licence, commendation and repair decision about the subject. "
        "`dates.status` is active, pending (starts later), removed, repaired or expired "
        "(publicity end or the maximum period), with `until` and the reason."
    ),
    response_model_exclude_unset=True,
)
def get_listings(key: SubjectKey, store: StoreDep, _: ReadCaller, as_of: AsOf = None) -> Listings:
    day = parse_as_of(as_of)
    subject = get_subject(store, key)
    return Listings.model_validate(
        {
            "subject": subject_summary(subject),
            "as_of": day,
            "listings": listings_with_status(store, subject.id, day),
        }
    )


# -- POST /checks ------------------------------------------------------------------

Item = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _known_scenario(value: str) -> str:
    names = list(rulebook().scenarios)
    if value not in names:
        raise ValueError(f"unknown scenario; the rule book has: {', '.join(names)}")
    return value


# The scenarios are the rule book's (graph/rules.yaml), not a list kept here.
ScenarioName = Annotated[
    str,
    AfterValidator(_known_scenario),
    WithJsonSchema({"type": "string", "enum": list(rulebook().scenarios)}),
]


class CheckRequest(BaseModel):
    # ``purpose`` is accepted too: callers (and the audit tests) name it that way
    scenario: ScenarioName = Field(..., validation_alias=AliasChoices("scenario", "purpose"))
    subjects: list[Item] = Field(
        ..., min_length=1, description="keys (USCC, ID number, subject id…) or names"
    )
    as_of: str | None = Field(None, max_length=10, description="ISO date (default: today)")


CHECK_EXAMPLE = {
    "scenario": "procurement",
    "subjects": ["91411403MA9GKJ1F86", "商丘市华通建材有限公司"],
    "as_of": "2024-06-01",
}


@router.post(
    "/checks",
    summary="Batch credit check (信用核查) for a scenario: clear, restricted or review",
    description=(
        "Up to `max_batch` subjects, as keys or names. Per subject: `restricted` when a "
        "measure the scenario names restricts it (rules.yaml `scenarios`), `review` when only "
        "review flags apply (related-party review, guarantee alert…), when a listing may be "
        "about the subject but waits for a reviewer (`pending`: a masked ID number or a close "
        "name agrees with it), or when a name is ambiguous or unknown, else `clear`. A "
        "well-formed key nobody has is `clear` with `found: false` (no records on the "
        "platform). All subjects are answered together with a fixed number of store round "
        "trips."
    ),
    response_model_exclude_unset=True,
)
@heavy
def post_checks(
    body: Annotated[CheckRequest, Body(openapi_examples={"procurement": {"value": CHECK_EXAMPLE}})],
    store: StoreDep,
    settings: SettingsDep,
    principal: ChecksCaller,
) -> Checks:
    if len(body.subjects) > settings.max_batch:
        raise LimitExceeded(
            f"at most {settings.max_batch} subjects per check",
            parameter="subjects",
            value=len(body.subjects),
        )
    day = parse_as_of(body.as_of)
    scenario = rulebook().scenarios[body.scenario]
    # Full ID numbers follow api.oracle: refused for roles without
    # check_id_numbers, and a masked caller's unmatched ones are charged to its
    # quota once the keys are looked up, before any name is searched.
    refuse_id_checks(principal.role, body.subjects)
    answers = check_inputs(
        store,
        scenario,
        body.subjects,
        day,
        threshold=settings.control_threshold,
        control_depth=settings.max_depth,
        keys_resolved=lambda keys: principal.charge_id_misses(id_misses(body.subjects, keys)),
    )
    results = [
        {
            "index": index,
            # An input may be a 15-digit ID number, which response masking cannot
            # tell from other digits; ``index`` lets the caller match answers to inputs.
            "input": text if principal.sees_id_numbers else mask_error_payload(text),
            **answers[text].to_dict(),
        }
        for index, text in enumerate(body.subjects)
    ]
    conceal_id_checks(principal.sees_id_numbers, body.subjects, results)
    counts = {k: sum(1 for e in results if e["result"] == k) for k in RESULTS}
    return Checks.model_validate(
        {"scenario": body.scenario, "as_of": day, "counts": counts, "results": results}
    )


# -- POST /repairs -------------------------------------------------------------------


class RepairRequest(BaseModel):
    listing: str = Field(
        ...,
        min_length=1,
        max_length=200,
        description="the original decision's number or a listing id",
    )
    decided: str = Field(..., max_length=10, description="修复决定日期, ISO date")
    subject: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description=(
            "the subject repaired (key or subject id); required when the number lists "
            "several subjects (joint debtors under one 案号): the others stay listed"
        ),
    )
    department: str | None = Field(None, max_length=200, description="修复机关")
    note: str | None = Field(None, max_length=2000)


REPAIR_EXAMPLE = {
    "listing": "(2023)豫14执123号",
    "decided": "2024-05-20",
    "department": "商丘市中级人民法院",
    "note": "已履行生效法律文书确定的义务",
}


@router.post(
    "/repairs",
    summary="Record a credit repair decision (信用修复) for a listing (investigator, admin)",
    description=(
        "Ends the listing(s) with this number (or this listing id) from the decision date on; "
        "measures, checks and the change feed show it at once. Refused with 409 before the "
        "minimum publicity period (一般: 3 months, 严重: 1 year) and with 400 for a date "
        "before the listing or in the future."
    ),
    response_model_exclude_unset=True,
)
def post_repairs(
    body: Annotated[RepairRequest, Body(openapi_examples={"court": {"value": REPAIR_EXAMPLE}})],
    store: StoreDep,
    principal: RepairCaller,
) -> Repairs:
    done = record_repair(
        store,
        body.listing,
        parse_as_of(body.decided, "decided"),
        recorded_by=principal.key_id,
        subject=body.subject,
        department=body.department,
        note=body.note,
    )
    return Repairs.model_validate(done)


# -- GET /changes --------------------------------------------------------------------


# A poller's clock may run a little ahead of the server's: that is not a future ``since``.
CLOCK_SKEW = timedelta(minutes=1)


@router.get(
    "/changes",
    summary="Subjects whose measures may have changed since a time",
    description=(
        "Every subject whose measures may differ now from what they were at `since`; "
        "re-check them with `POST /checks`. Three causes: (1) loads and credit repairs "
        "logged since `since`, with their direct related parties and inferred "
        "controllers (`changed` lists the logged subjects); (2) time alone, for every "
        "day after the city's date at `since` up to today: a listing that starts or "
        "ends (removal date, publicity end, maximum period by kind and severity, a "
        "repair decision taking effect), a time-limited implication that ends "
        "(`duration_years`), with the parties the rules implicate through it; "
        "(3) relations of the types the rules read (and shareholdings) whose validity "
        "starts or ends on those days: both ends, and the holders above a moved "
        "shareholding. `since` is an ISO date (the start of that day, Asia/Shanghai) "
        "or date-time (naive = UTC), not in the future; pass the previous answer's "
        "`now` to poll without gaps."
    ),
    response_model_exclude_unset=True,
)
@heavy
def get_changes(
    since: Annotated[str, Query(max_length=40, examples=["2024-06-01T00:00:00+08:00"])],
    store: StoreDep,
    settings: SettingsDep,
    now: NowDep,
    _: ChangesCaller,
    limit: Annotated[
        int | None, Query(ge=1, description="page size (default and cap: max_page_size)")
    ] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Changes:
    limit = limit or settings.max_page_size
    check_page(limit, offset, settings)
    start = parse_time(since)
    if start > now + CLOCK_SKEW:
        raise InvalidInput(
            "since is in the future", parameter="since", value=since, now=now.isoformat()
        )
    feed = change_feed(
        store, start, now, threshold=settings.control_threshold, control_depth=settings.max_depth
    )
    return Changes.model_validate(
        {
            "since": since,
            # whole seconds, like the log's ``at``: polling again from here repeats what
            # was logged in this second rather than missing it
            "now": now.isoformat(timespec="seconds"),
            "latest": feed.latest,
            "entries": feed.entries,
            "changed": feed.changed,
            # days whose time-driven changes are included: after ``from``, up to ``to``
            "days": {"from": feed.since_day, "to": feed.today},
            "by_time": feed.by_time.by_cause(),
            "total": len(feed.subjects),
            "limit": limit,
            "offset": offset,
            "subjects": feed.subjects[offset : offset + limit],
        }
    )
