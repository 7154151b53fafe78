"""The FastAPI application factory (store opened and closed in the lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.audit import (
    AccessLogMiddleware,
    AuditLog,
    AuditMiddleware,
    BodyLimitMiddleware,
    TimeoutMiddleware,
)
from api.deps import MaskingJSONResponse
from api.errors import install_error_handlers
from api.keys import KeyStore
from api.limits import WorkPool
from api.oracle import MissQuota
from api.routers import audit, graph, health, loads, measures, search, subjects
from api.routers import model as model_router
from api.routers import quality as quality_router
from api.routers import review as review_router
from api.routers import web as web_router
from graph.settings import Settings, get_settings
from graph.store import open_store
from graph.store.base import GraphStore

DESCRIPTION = """
creditlink links the records of a city's departments into one subject per real
enterprise (统一社会信用代码) and person (公民身份号码), and answers which
measures of joint punishment (失信联合惩戒) apply to whom, along which path.

Every endpoint except `/health` needs `Authorization: Bearer <key>`
(`creditlink keys create --role ...`). ID numbers are masked unless the key's
role may see them. Errors are JSON: `{"error": {"code", "message", "details"}}`.
"""


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """Build the app. A given ``store`` is used as is and left open (tests)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        app.state.store = store if store is not None else open_store(settings)
        try:
            yield
        finally:
            if own:
                app.state.store.close()
            app.state.audit.close()
            app.state.heavy_pool.shutdown()

    app = FastAPI(
        title="creditlink",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=MaskingJSONResponse,
        # served below from vendored files: FastAPI's defaults load them from a
        # public CDN, which a government network without internet cannot reach
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.keys = KeyStore(settings.data_dir)
    if store is not None:
        app.state.store = store
    app.state.audit = AuditLog(settings.data_dir / "audit")
    app.state.heavy_pool = WorkPool(settings.heavy_workers, settings.heavy_queue)
    app.state.id_misses = MissQuota(settings.id_miss_quota_per_hour)
    install_error_handlers(app)
    # Every endpoint, whichever router adds it, passes these (last added is
    # outermost): the audit sees the final status, including 413 and 504, and
    # the access log every request.
    app.add_middleware(TimeoutMiddleware, timeout_s=settings.query_timeout_s)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_upload_bytes,
        max_json_bytes=settings.max_json_bytes,
    )
    app.add_middleware(
        AuditMiddleware,
        audit=app.state.audit,
        keys=app.state.keys,
        max_json_bytes=settings.max_json_bytes,
        max_subjects=settings.max_batch + 16,
    )
    app.add_middleware(AccessLogMiddleware)
    app.include_router(health.router)
    # /subjects/search before /subjects/{key}, which would otherwise take "search" as a key
    app.include_router(search.router)
    app.include_router(subjects.router)
    app.include_router(graph.router)
    app.include_router(measures.router)
    app.include_router(audit.router)
    app.include_router(loads.router)
    app.include_router(review_router.router)
    app.include_router(quality_router.router)
    app.include_router(model_router.router)
    _offline_docs(app)
    # the investigator page (/ and /static): public, the data it fetches is not
    app.include_router(web_router.router)
    return app


VENDOR = "/static/vendor"
# The docs pages run their own inline start-up script; beyond that they may load
# only from this server, so nothing (e.g. ReDoc's logo from its CDN) leaves the
# machine, with or without a network.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, their scripts and styles from
    api/static/vendor (scripts/vendor-static.sh), so that they work offline."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API",
            swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @app.get("/redoc", include_in_schema=False, response_class=HTMLResponse)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API",
            redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page
