"""``GET /subjects/{key}``: a subject's card, with where each piece came from."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ReadCaller, StoreDep
from api.params import SubjectKey
from api.schemas import SubjectCard
from graph.lookup import get_subject
from graph.views import subject_card

router = APIRouter(tags=["subjects"])


@router.get(
    "/subjects/{key}",
    summary="A subject by any of its keys, with its names, records and how each matched",
    response_model_exclude_unset=True,
)
def read_subject(key: SubjectKey, store: StoreDep, _: ReadCaller) -> SubjectCard:
    return SubjectCard.model_validate(subject_card(store, get_subject(store, key)))
