"""``GET /audit``: who asked what, for admins. There is no endpoint to edit or delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.audit import AuditLog
from api.deps import AuditCaller, SettingsDep
from api.schemas import AuditPage
from graph.errors import LimitExceeded

router = APIRouter(tags=["audit"])


@router.get(
    "/audit",
    summary="Audit log entries, newest first (admin only)",
    description=(
        "Every request made with a key: time, key id, role, method, endpoint template, "
        "the subject keys asked for (ID numbers masked), status and response bytes. "
        "`subject` finds entries about one key, given in full or masked."
    ),
    response_model_exclude_unset=True,
)
def read_audit(
    request: Request,
    settings: SettingsDep,
    _: AuditCaller,
    subject: Annotated[str | None, Query(max_length=200, description="a subject key")] = None,
    key_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[
        str | None, Query(max_length=40, description="ISO 8601 date or date-time")
    ] = None,
    limit: Annotated[int, Query(ge=1, description="at most settings.max_page_size")] = 100,
) -> AuditPage:
    if limit > settings.max_page_size:
        raise LimitExceeded(
            f"limit is at most {settings.max_page_size}",
            parameter="limit",
            max=settings.max_page_size,
        )
    log: AuditLog = request.app.state.audit
    entries = log.query(subject=subject or None, key_id=key_id or None, since=since, limit=limit)
    return AuditPage.model_validate({"entries": entries, "count": len(entries)})
