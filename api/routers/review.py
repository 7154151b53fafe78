"""The review queue and judgements: investigators decide what the scorer could not."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Principal, get_settings, get_store, require
from api.limits import heavy
from graph.resolve.judgements import judge, list_judgements, review_queue
from graph.settings import Settings
from graph.store.base import GraphStore

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


@router.get(
    "/review",
    summary="Open candidate pairs with scores and features, most uncertain first",
)
@heavy
def get_review(
    request: Request,
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(50, ge=1, le=200),
    store: GraphStore = Depends(get_store),  # noqa: B008
    settings: Settings = Depends(get_settings),  # noqa: B008
    _: Principal = Depends(require("review")),  # noqa: B008
) -> dict[str, Any]:
    return review_queue(store, settings, offset, min(limit, settings.max_page_size))


@router.post("/judgements", summary="Confirm or reject a candidate pair, or split a subject")
async def post_judgement(
    request: Request,
    body: JudgementIn,
    store: GraphStore = Depends(get_store),  # noqa: B008
    principal: Principal = Depends(require("judge")),  # noqa: B008
) -> dict[str, Any]:
    payload = body.model_dump()
    payload["records"] = [r.model_dump() for r in body.records]
    result = await run_in_threadpool(judge, store, payload, principal.key_id)
    # The app's loader keeps a name index; a merge or split makes it stale.
    loader = getattr(request.app.state, "loader", None)
    if loader is not None:
        loader.resolver.invalidate()
    return result


@router.get("/judgements", summary="Judgements made, oldest first, with who and when")
def get_judgements(
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(50, ge=1, le=200),
    store: GraphStore = Depends(get_store),  # noqa: B008
    _: Principal = Depends(require("review")),  # noqa: B008
) -> dict[str, Any]:
    return list_judgements(store, offset, limit)
