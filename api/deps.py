"""FastAPI dependencies: the store, the settings, the clock and the caller's role,
each also as an ``Annotated`` alias that a route's parameter names as its type
(``store: StoreDep``), so that no route repeats ``Depends(...)``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from api.oracle import MissQuota, refuse_id_lookups
from api.roles import allowed
from graph.errors import Forbidden, Unauthorized
from graph.privacy import mask_payload
from graph.settings import Settings
from graph.store.base import GraphStore

# Set by the auth dependency, read when the response is rendered (same task).
_see_id_numbers: ContextVar[bool] = ContextVar("see_id_numbers", default=False)


# Where a request names the subject it looks up: the path's {key} and these
# query parameters (/audit's ``subject`` searches the log, not the graph).
LOOKUP_QUERY_PARAMS = ("q", "from", "to", "key")


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    # the app's count of full ID numbers checked without a match (api.oracle)
    id_misses: MissQuota | None = field(default=None, compare=False)

    @property
    def sees_id_numbers(self) -> bool:
        return allowed(self.role, "see_id_numbers")

    def charge_id_misses(self, misses: int) -> None:
        if self.id_misses is not None and not self.sees_id_numbers:
            self.id_misses.charge(self.key_id, misses)


class MaskingJSONResponse(JSONResponse):
    """Masks ID numbers in every payload unless the caller's role may see them, and
    leaves out the fields that tell a birth date or sex (graph.privacy)."""

    # False for answers that describe fields rather than hold anyone's data
    personal_fields = True

    def render(self, content: Any) -> bytes:
        if not _see_id_numbers.get():
            content = mask_payload(content, personal=self.personal_fields)
        return super().render(content)


class VocabularyJSONResponse(MaskingJSONResponse):
    """For the vocabulary (``GET /model``): its keys are field names such as
    ``birth_year`` with their labels, not a person's birth year."""

    personal_fields = False


def get_store(request: Request) -> GraphStore:
    store: GraphStore = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def clock() -> datetime:
    """The current time; a dependency so that tests can fix it."""
    return datetime.now(UTC)


async def current_principal(request: Request) -> Principal:
    _see_id_numbers.set(False)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("an API key is required: Authorization: Bearer <key>")
    info = request.app.state.keys.verify(token.strip())
    principal = Principal(
        key_id=info.key_id, role=info.role, id_misses=getattr(request.app.state, "id_misses", None)
    )
    request.state.principal = principal
    _see_id_numbers.set(principal.sees_id_numbers)
    # Before any route runs: a masked role may not use a full ID number as a
    # look-up key (an existence oracle), whatever the route and its permission.
    key = request.path_params.get("key")
    if key is not None:
        refuse_id_lookups(principal.role, [str(key)], "key")
    for name in LOOKUP_QUERY_PARAMS:
        refuse_id_lookups(principal.role, request.query_params.getlist(name), name)
    return principal


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not allowed(principal.role, permission):
            raise Forbidden(
                f"the role {principal.role!r} may not do this ({permission})",
                role=principal.role,
                permission=permission,
            )
        return principal

    # Tagged so that code walking the routes can tell what each one demands:
    # the timeout exempts writes, and the role-matrix test is derived from it.
    check.permission = permission  # type: ignore[attr-defined]
    return check


StoreDep = Annotated[GraphStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(clock)]

# The caller, once its role is known to hold the permission (api/roles.py): one
# alias per permission a route demands.
ModelCaller = Annotated[Principal, Depends(require("model"))]
ReadCaller = Annotated[Principal, Depends(require("read"))]
MeasuresCaller = Annotated[Principal, Depends(require("measures"))]
ChecksCaller = Annotated[Principal, Depends(require("checks"))]
ChangesCaller = Annotated[Principal, Depends(require("changes"))]
ReviewCaller = Annotated[Principal, Depends(require("review"))]
QualityCaller = Annotated[Principal, Depends(require("quality"))]
JudgeCaller = Annotated[Principal, Depends(require("judge"))]
RepairCaller = Annotated[Principal, Depends(require("repair"))]
LoadCaller = Annotated[Principal, Depends(require("load"))]
AuditCaller = Annotated[Principal, Depends(require("audit"))]
