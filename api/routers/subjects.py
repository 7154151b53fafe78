from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.deps import Principal, get_store, require
from api.params import SUBJECT_KEY
from graph.lookup import get_subject
from graph.store.base import GraphStore
from graph.views import subject_card

router = APIRouter(tags=["subjects"])


@router.get(
    "/subjects/{key}",
    summary="A subject by any of its keys, with its names, records and how each matched",
)
def read_subject(
    key: str = SUBJECT_KEY,
    store: GraphStore = Depends(get_store),  # noqa: B008
    _: Principal = Depends(require("read")),  # noqa: B008
) -> dict[str, Any]:
    return subject_card(store, get_subject(store, key))
