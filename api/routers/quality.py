"""``GET /quality``: department data quality."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.deps import Principal, get_store, require
from graph.quality import quality_report
from graph.store.base import GraphStore

router = APIRouter(tags=["quality"])


@router.get(
    "/quality",
    summary="Per department and feed: valid keys, invalid and conflicting codes, "
    "unresolved records, 双公示 timeliness",
)
def get_quality(
    store: GraphStore = Depends(get_store),  # noqa: B008
    _: Principal = Depends(require("quality")),  # noqa: B008
) -> dict[str, Any]:
    return quality_report(store)
