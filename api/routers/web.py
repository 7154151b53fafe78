"""The investigator page: ``GET /`` and its assets under ``/static``.

The page and its assets are public (they hold no data); every call the page
makes to the API carries the key the investigator pastes into it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# The page renders names that departments typed, some hostile: with no inline
# script or style allowed, an injected tag could not run even if rendering
# failed to escape it. frame-ancestors stops the page being framed (clickjacking
# the confirm/reject buttons).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # the page is a few kilobytes; a stale copy after an upgrade costs more
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["web"])


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
def index() -> HTMLResponse:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers=SECURITY_HEADERS)


class _StaticFiles(StaticFiles):
    """StaticFiles with the page's headers, so that the assets obey the same policy."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


# Mounted on the router so that the app adds the page with one include_router;
# tests/api/test_web.py fetches an asset, so a FastAPI that dropped the mount would fail.
router.mount("/static", _StaticFiles(directory=STATIC_DIR), name="static")
