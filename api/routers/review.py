"""The review queue and judgements: investigators decide what the scorer could not."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import JudgeCaller, ReviewCaller, SettingsDep, StoreDep
from api.limits import heavy
from api.schemas import Judgement, Judgements, ReviewQueue
from graph.resolve.judgements import judge, list_judgements, review_queue

router = APIRouter(tags=["resolution"])


class RecordRole(BaseModel):
    record: str = Field(max_length=400)
    role: str | None = Field(default=None, max_length=60)


class JudgementIn(BaseModel):
    kind: Literal["confirm", "reject", "split"]
    a: str | None = Field(default=None, max_length=200, description="confirm/reject: a subject")
    b: str | None = Field(default=None, max_length=200, description="confirm/reject: the other")
    subject: str | None = Field(default=None, max_length=200, description="split: the subject")
    records: list[RecordRole] = Field(
        default_factory=list, max_length=1000, description="split: the mentions to move"
    )
    note: str | None = Field(default=None, max_length=2000)


Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get(
    "/review",
    summary="Open candidate pairs with scores and features, most uncertain first",
    response_model_exclude_unset=True,
)
@heavy
def get_review(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    _: ReviewCaller,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ReviewQueue:
    queue = review_queue(store, settings, offset, min(limit, settings.max_page_size))
    return ReviewQueue.model_validate(queue)


@router.post(
    "/judgements",
    summary="Confirm or reject a candidate pair, or split a subject",
    response_model_exclude_unset=True,
)
async def post_judgement(
    request: Request, body: JudgementIn, store: StoreDep, principal: JudgeCaller
) -> Judgement:
    payload = body.model_dump()
    payload["records"] = [r.model_dump() for r in body.records]
    result = await run_in_threadpool(judge, store, payload, principal.key_id)
    # The app's loader keeps a name index; a merge or split makes it stale.
    loader = getattr(request.app.state, "loader", None)
    if loader is not None:
        loader.resolver.invalidate()
    return Judgement.model_validate(result)


@router.get(
    "/judgements",
    summary="Judgements made, oldest first, with who and when",
    response_model_exclude_unset=True,
)
def get_judgements(
    store: StoreDep, _: ReviewCaller, offset: Offset = 0, limit: Limit = 50
) -> Judgements:
    return Judgements.model_validate(list_judgements(store, offset, limit))
