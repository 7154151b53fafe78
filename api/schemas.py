"""The answers of the HTTP API, declared: the OpenAPI schema shows them and
every route's answer is validated against its model.

They are contracts the punishment engine and other systems call, so a field is
added, never renamed. Every model lets fields it does not declare pass
(``extra="allow"``): the domain spreads record properties into some views (a
relation's ``title``, ``share``…), and a field the domain adds reaches callers
rather than being dropped here. Optional fields that an answer leaves out stay
out: the routes serialise with ``response_model_exclude_unset``, so a model's
defaults never add a key the domain did not write.

Answers keep the key order the domain gave them, extra fields included where
they stand, so that validating an answer changes none of its bytes: a masked
caller's concealed check must not differ from a clear one even in key order
(api/oracle.py). Numbers the domain gives as an int or a float by case are
``Number``, so that 100 is not written 100.0.

Masking is not the models' business: the response class masks ID numbers and
leaves out personal fields after the model has shaped the answer
(``api.deps.MaskingJSONResponse``), so no personal field is declared here.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

Number = int | float


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")

    # the keys of the dict the answer was validated from, in their order
    _order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _note_order(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        answer = handler(data)
        if isinstance(data, dict):
            answer._order = tuple(data)
        return answer

    # No return annotation: one would replace the model's fields in the OpenAPI schema.
    @model_serializer(mode="wrap")
    def _in_order(self, handler: SerializerFunctionWrapHandler):
        out = handler(self)
        if not self._order or not isinstance(out, dict):
            return out
        # Keys written under another name (``from_`` when not dumped by alias)
        # or left out (unset) follow or drop out as the handler decided.
        first = {k: out[k] for k in self._order if k in out}
        return first | {k: v for k, v in out.items() if k not in first}


# -- subjects ------------------------------------------------------------------------


class SubjectRef(Answer):
    id: str


class SubjectSummary(SubjectRef):
    type: str = Field(description="organisation or person")
    name: str
    keys: list[str] = Field(description='"kind:value", e.g. "uscc:91411403MA9GKJ1F86"')
    status: str | None = Field(description="登记状态 as the registry gives it")


class SearchHit(SubjectSummary):
    score: Number = Field(description="similarity 0–100 (rapidfuzz ratio); 100 for a key")
    matched_name: str = Field(description="the subject's name that scored best")


class SearchAnswer(Answer):
    query: str
    normalised: str | None = Field(description="the name searched for; null for a key")
    match: Literal["key", "name"]
    total: int
    candidates_capped: bool = Field(
        description="more subjects contain the name than were ranked: narrow the query"
    )
    limit: int
    offset: int
    results: list[SearchHit]


class NameSources(Answer):
    name: str
    sources: list[str] = Field(description="records that give this name")


class RecordMention(Answer):
    id: str
    feed: str
    file: str
    row: int
    loaded_at: str
    role: str
    match: dict[str, Any] = Field(description="how the record was attached: method, key, score…")
    name: str | None
    warnings: list[str]


class PendingListingRef(Answer):
    id: str
    feed: str
    subject: str
    number: str | None
    department: str | None
    start: str | None
    end: str | None


class PendingListing(Answer):
    """A listing that may be about the subject, waiting for a reviewer."""

    reason: str | None
    pair: str | None
    record: str | None
    listing: PendingListingRef


class Judgement(Answer):
    """A row of the judgements table (graph/resolve/table.py): the fields its
    kind has, empty ones left out."""

    id: str
    kind: Literal["confirm", "reject", "split"]
    by: str
    at: str
    note: str | None = None
    a: str | None = None
    b: str | None = None
    survivor: str | None = None
    merged: str | None = None
    rejected: list[str] | None = Field(
        None, description="reject: the two subjects the pair named then (after redirects)"
    )
    subject: str | None = None
    new_subject: str | None = None
    records: list[dict[str, Any]] | None = None


class SubjectCard(SubjectSummary):
    names: list[NameSources]
    attributes: dict[str, Any]
    pending_identity: list[PendingListing]
    records: list[RecordMention]
    judgements: list[Judgement]


# -- the graph -----------------------------------------------------------------------


class Node(SubjectSummary):
    risk: str | None = Field(None, description="listed, implicated, review or clear")


class NeighbourNode(Node):
    distance: int | None


class Edge(Answer):
    id: str
    relation: str
    source: str
    target: str
    valid_from: str | None
    valid_to: str | None
    records: list[str]
    role: str = Field(description="the title recorded, else the relation type's label")


class Neighbourhood(Answer):
    center: Node
    as_of: str
    depth: int
    nodes: list[NeighbourNode]
    edges: list[Edge]
    truncated: bool
    max_nodes: int


class PathHop(Edge):
    from_: str = Field(alias="from")
    from_name: str | None
    to: str
    to_name: str | None
    direction: Literal["forward", "backward"]


class PathAnswer(Answer):
    length: int
    nodes: list[Node]
    hops: list[PathHop]


class Paths(Answer):
    from_: SubjectSummary = Field(alias="from")
    to: SubjectSummary
    as_of: str
    max_depth: int
    paths: list[PathAnswer]


# -- listings and measures -----------------------------------------------------------


class ListingDates(Answer):
    start: str | None
    end: str | None
    status: str = Field(description="active, pending, removed, repaired, expired, undated…")
    until: str | None = Field(description="first day the listing no longer holds, if known")
    reason: str | None = None
    repair: str | None = Field(None, description="the repair decision that ended it")


class ListingView(Answer):
    id: str
    feed: str
    subject: str
    number: str | None
    department: str | None
    dates: ListingDates
    props: dict[str, Any]
    record: list[str]
    subject_name: str | None = Field(None, description="the listed subject's name (measures)")


class Hop(Answer):
    """One step from the listed subject towards the one the measure reaches."""

    from_: str = Field(alias="from")
    to: str
    relation: str
    relation_id: str | None
    role: str
    valid_from: str | None
    valid_to: str | None
    read_at: str | None = Field(description="the day the role was read")
    records: list[str]
    from_name: str | None = None
    to_name: str | None = None
    time: dict[str, Any] | None = Field(
        None, description="how the role's time was known: state, source (graph/evidence/roles.py)"
    )


class MeasureAnswer(Answer):
    rule: str
    measure: str
    label: str
    punitive: bool
    basis: str
    direct: bool
    role: str | None
    until: str | None
    listing: ListingView
    path: list[Hop]


class Risk(Answer):
    level: str = Field(description="listed, implicated, review or clear")
    punitive: list[str]
    review: list[str]


class Measures(Answer):
    subject: SubjectSummary
    as_of: str
    risk: Risk
    measures: list[MeasureAnswer]
    pending: list[PendingListing]


class Listings(Answer):
    subject: SubjectSummary
    as_of: str
    listings: list[ListingView]


# -- the punishment engine: checks, repairs, the change feed ------------------------


class CheckEntry(Answer):
    index: int = Field(description="the input's position in the request")
    input: str
    found: bool | None
    matched_by: str = Field(
        description="key, name, unknown_key, not_found, name_too_common (id_number: concealed)"
    )
    result: Literal["clear", "restricted", "review"]
    reasons: list[str]
    candidates: list[str] | None = None
    subject: SubjectSummary | SubjectRef | None
    restrictions: list[MeasureAnswer]
    flags: list[MeasureAnswer]
    pending: list[PendingListing] | None = None


class CheckCounts(Answer):
    clear: int
    restricted: int
    review: int


class Checks(Answer):
    scenario: str
    as_of: str
    counts: CheckCounts
    results: list[CheckEntry]


class Repairs(Answer):
    repairs: list[ListingView]
    listings: list[ListingView] = Field(description="the listings repaired, with their status")
    subjects: list[str]


class Days(Answer):
    from_: str = Field(alias="from")
    to: str


class ByTime(Answer):
    listed: list[str]
    implicated: list[str]
    related: list[str]


class Changes(Answer):
    since: str
    now: str
    latest: str | None
    entries: int
    changed: list[str]
    days: Days
    by_time: ByTime
    total: int
    limit: int
    offset: int
    subjects: list[str]


# -- loads, review, quality, vocabulary, audit, health ------------------------------


class LoadReport(Answer):
    file: str
    kind: str
    rows_read: int
    loaded: int
    quarantined: int
    unchanged: int
    new_versions: int
    warnings: int
    reasons: dict[str, int]
    warning_reasons: dict[str, int]
    matched: dict[str, int]
    subjects_created: int
    review: int
    unresolved: int
    encoding: str | None
    format: str | None
    label: str | None
    department: str | None


class RunningLoad(Answer):
    file: str = Field(description="the uploaded file's name, as the load report names it")
    kind: str | None = Field(description="the feed kind; null until the loader has told it")
    # Not a Literal: a stage the loader adds later must not turn this answer into a 500.
    stage: str = Field(
        description="waiting (for the upload to be stored and for an earlier load to end), "
        "reading, checking (against the stored rows), resolving, writing, done"
    )
    rows_done: int = Field(description="rows finished with, loaded or quarantined")
    rows_total: int | None = Field(description="the file's data rows; null until it is read")
    started_at: str = Field(description="when the POST /loads request came in (UTC)")


class RunningLoads(Answer):
    loads: list[RunningLoad]


class ReviewSubject(SubjectRef):
    type: str
    name: str
    keys: list[str]


class ReviewItem(Answer):
    pair: str
    a: str
    b: str
    score: Number
    uncertainty: Number
    features: dict[str, Any]
    record: str | None
    role: str | None
    created_at: str | None
    a_subject: ReviewSubject | None
    b_subject: ReviewSubject | None


class ReviewQueue(Answer):
    total: int
    offset: int
    limit: int
    items: list[ReviewItem]


class Judgements(Answer):
    total: int
    offset: int
    limit: int
    items: list[Judgement]


class Timeliness(Answer):
    records: int
    within_target: int
    share_within_target: Number
    median_working_days: Number
    max_working_days: int


class DepartmentQuality(Answer):
    feed: str
    department: str | None
    records: int
    valid_key: int
    invalid_codes: int
    invalid_reasons: dict[str, int]
    conflicting_codes: int
    unresolved: int
    valid_key_share: Number | None
    without_publication_date: int | None = None
    timeliness: Timeliness | None = None


class Calendar(Answer):
    source: str
    weekday_only_years: list[int]


class Quality(Answer):
    generated_at: str
    target_working_days: int
    timeliness: str
    calendar: Calendar
    departments: list[DepartmentQuality]
    conflicting_codes: dict[str, list[dict[str, Any]]]


class Label(Answer):
    label: str


class KeyKind(Label):
    standard: str | None


class RelationType(Label):
    from_: list[str] = Field(alias="from")
    to: list[str]


class Punitive(Label):
    punitive: bool


class RuleLabel(Label):
    basis: str


class FeedLabel(Label):
    department: str | None


class RiskStyle(Answer):
    fill: str | None
    border: str
    dashed: bool
    tint: str | None = None


class SubjectTypeStyle(Answer):
    fill: str
    shape: str
    marker: str
    size: int


class RelationStyle(Answer):
    color: str
    line: str
    width: float


class GraphStyle(Answer):
    """How the graph is drawn (graph/style.yaml): the page and the notebooks' figures."""

    risk: dict[str, RiskStyle]
    subject_types: dict[str, SubjectTypeStyle]
    relation_types: dict[str, RelationStyle]
    other_relation: RelationStyle
    marks: dict[str, str]


class Vocabulary(Answer):
    subject_types: dict[str, Label]
    key_kinds: dict[str, KeyKind]
    relation_types: dict[str, RelationType]
    listing_kinds: dict[str, Punitive]
    measures: dict[str, Punitive]
    rules: dict[str, RuleLabel]
    scenarios: dict[str, Label]
    roles: dict[str, str]
    attributes: dict[str, str]
    hidden_attributes: list[str]
    values: dict[str, dict[str, str]]
    match_methods: dict[str, str]
    listing_statuses: dict[str, str]
    properties: dict[str, str]
    risk: dict[str, str]
    check_results: dict[str, str]
    review_reasons: dict[str, str]
    role_time_states: dict[str, str]
    role_time_sources: dict[str, str]
    match_features: dict[str, str]
    style: GraphStyle
    feeds: dict[str, FeedLabel]


class AuditEntry(Answer):
    """A line of the audit log as it was written. The log is append-only and
    outlives upgrades, so a field added since may be missing from older lines:
    none is required, and a missing one stays missing."""

    at: str | None = None
    key_id: str | None = None
    role: str | None = None
    method: str | None = None
    endpoint: str | None = Field(None, description="the route template, else the path masked")
    matched: bool | None = Field(None, description="a route served the request")
    subjects: list[str] | None = Field(None, description="subject keys asked for, masked")
    subject_digests: list[str] | None = None
    status: int | None = None
    bytes: int | None = None
    ms: Number | None = None
    subjects_truncated: bool | None = None


class AuditPage(Answer):
    entries: list[AuditEntry]
    count: int


class Health(Answer):
    status: str
    store: str
