"""``GET /health``: liveness and store reachability, without a key."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import StoreDep
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Liveness and store reachability (no key needed)",
    response_model_exclude_unset=True,
)
def health(store: StoreDep) -> Health:
    store.ping()
    return Health(status="ok", store=store.name)
