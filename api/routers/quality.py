"""``GET /quality``: department data quality.

The report reads the whole store, so it is computed once per store change
(``GraphStore.generation``) and shared: a crowd asking at once waits for one
computation on the bounded pool (``api.limits``) instead of running one each.
The shared computation is not cut off at a caller's deadline — its result
serves every later caller until the store changes — but only one runs at a
time.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.deps import QualityCaller, StoreDep
from api.limits import WorkPool
from api.schemas import Quality
from graph.quality import quality_report
from graph.store.base import GraphStore

router = APIRouter(tags=["quality"])


class QualityCache:
    """The last report and the store generation it was computed at."""

    def __init__(self) -> None:
        self.generation: str | None = None
        self.report: Quality | None = None
        self._running: asyncio.Future[None] | None = None

    async def get(self, store: GraphStore, pool: WorkPool) -> Quality:
        while True:
            generation = await run_in_threadpool(store.generation)
            if self.report is not None and self.generation == generation:
                return self.report
            if self._running is not None:
                # One computation at a time; shielded, so that a caller timing
                # out does not cancel it for the others.
                await asyncio.shield(self._running)
                continue
            self._running = asyncio.ensure_future(self._compute(store, pool, generation))
            try:
                await asyncio.shield(self._running)
            finally:
                if self._running is not None and self._running.done():
                    self._running = None

    async def _compute(self, store: GraphStore, pool: WorkPool, generation: str) -> None:
        try:
            # validated once per generation, on the pool, not per caller
            report = await pool.run(lambda: Quality.model_validate(quality_report(store)))
            # Computed from what the store held at ``generation`` or later: a
            # write during the computation makes the next caller compute again.
            self.generation, self.report = generation, report
        finally:
            self._running = None


def _cache(request: Request) -> QualityCache:
    cache: QualityCache | None = getattr(request.app.state, "quality_cache", None)
    if cache is None:
        cache = request.app.state.quality_cache = QualityCache()
    return cache


@router.get(
    "/quality",
    summary="Per department and feed: valid keys, invalid and conflicting codes, "
    "unresolved records, 双公示 timeliness",
    response_model_exclude_unset=True,
)
async def get_quality(request: Request, store: StoreDep, _: QualityCaller) -> Quality:
    return await _cache(request).get(store, request.app.state.heavy_pool)
