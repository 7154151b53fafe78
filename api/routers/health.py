from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.deps import get_store
from graph.store.base import GraphStore

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness and store reachability (no key needed)")
def health(store: GraphStore = Depends(get_store)) -> dict[str, Any]:  # noqa: B008
    store.ping()
    return {"status": "ok", "store": store.name}
