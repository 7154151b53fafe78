"""``GET /audit``: who asked what, for admins. There is no endpoint to edit or delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from api.audit import AuditLog
from api.deps import Principal, get_settings, require
from graph.errors import LimitExceeded
from graph.settings import Settings

router = APIRouter(tags=["audit"])


@router.get(
    "/audit",
    summary="Audit log entries, newest first (admin only)",
    description=(
        "Every request made with a key: time, key id, role, method, endpoint template, "
        "the subject keys asked for (ID numbers masked), status and response bytes. "
        "`subject` finds entries about one key, given in full or masked."
    ),
)
def read_audit(
    request: Request,
    subject: str | None = Query(None, max_length=200, description="a subject key"),
    key_id: str | None = Query(None, max_length=64),
    since: str | None = Query(None, max_length=40, description="ISO 8601 date or date-time"),
    limit: int = Query(100, ge=1, description="at most settings.max_page_size"),
    settings: Settings = Depends(get_settings),  # noqa: B008
    _: Principal = Depends(require("audit")),  # noqa: B008
) -> dict[str, Any]:
    if limit > settings.max_page_size:
        raise LimitExceeded(
            f"limit is at most {settings.max_page_size}",
            parameter="limit",
            max=settings.max_page_size,
        )
    log: AuditLog = request.app.state.audit
    entries = log.query(subject=subject or None, key_id=key_id or None, since=since, limit=limit)
    return {"entries": entries, "count": len(entries)}
