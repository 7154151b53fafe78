"""Bounded work per request.

Expensive reads (the routes marked ``@heavy``: data quality, neighbourhoods,
paths, checks, measures, the change feed, name search, the review queue) run
on a small pool of their own (``heavy_workers`` threads, ``heavy_queue`` more
may wait). A request that finds the pool and its queue full is refused at once
with 429 ``overloaded`` and a ``Retry-After``. Cheap look-ups run on the
server's ordinary threads, so a crowd of expensive requests holds at most
``heavy_workers`` threads busy (on this many cores) and a look-up still gets
its turn.

Every store call of a pooled handler first checks the request's deadline
(``query_timeout_s`` from its start): work still queued when the timeout
answers never starts (the middleware cancels it), and work running stops at
its next store call with ``QueryTimeout`` rather than holding a worker to the
end.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar, cast

from fastapi import Request

from graph.errors import Overloaded, QueryTimeout
from graph.store.base import GraphStore

T = TypeVar("T")

# Store methods that write: never cut off half-way (heavy routes do not call
# them, but a store handed on is still whole).
_WRITES = frozenset({"write", "merge_subjects", "move_mentions", "clear", "close"})
# Items of a store iterator between two deadline checks.
_ITER_CHECK = 256


class WorkPool:
    """A fixed number of threads and a bounded queue in front of them."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="heavy")
        self._lock = threading.Lock()
        # Jobs submitted and not finished (running or waiting); a cancelled
        # job that never started counts off at once.
        self._pending = 0
        # Mean seconds per job, for Retry-After.
        self._mean_s = 0.5

    @property
    def pending(self) -> int:
        return self._pending

    def retry_after(self) -> int:
        waiting = max(1, self._pending - self.workers + 1)
        return int(min(60, max(1, math.ceil(waiting * self._mean_s / self.workers))))

    def _done(self, _: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1

    def _timed(self, func: Callable[[], T]) -> T:
        t0 = time.monotonic()
        try:
            return func()
        finally:
            spent = time.monotonic() - t0
            self._mean_s = 0.8 * self._mean_s + 0.2 * spent

    async def run(self, func: Callable[[], T]) -> T:
        """Run ``func`` on the pool; 429 at once when the pool and its queue are full."""
        with self._lock:
            if self._pending >= self.workers + self.queue:
                raise Overloaded(
                    "the server is busy with expensive requests; try again shortly",
                    retry_after_s=self.retry_after(),
                    workers=self.workers,
                    queue=self.queue,
                )
            self._pending += 1
        try:
            future = self._executor.submit(self._timed, func)
        except BaseException:
            with self._lock:
                self._pending -= 1
            raise
        future.add_done_callback(self._done)
        # Cancelling the awaiting task cancels a job that has not started.
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class DeadlineStore:
    """A store whose reads refuse to start after ``deadline`` (time.monotonic)."""

    def __init__(self, store: GraphStore, deadline: float, timeout_s: float) -> None:
        self._store = store
        self._deadline = deadline
        self._timeout_s = timeout_s

    def _check(self) -> None:
        if time.monotonic() > self._deadline:
            raise QueryTimeout(
                f"the request took longer than {self._timeout_s:g} s and was cut off",
                timeout_s=self._timeout_s,
            )

    def _iterate(self, items: Iterator[Any]) -> Iterator[Any]:
        for n, item in enumerate(items):
            if n % _ITER_CHECK == 0:
                self._check()
            yield item

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name in _WRITES or not callable(attr):
            return attr

        @functools.wraps(attr)
        def checked(*args: Any, **kwargs: Any) -> Any:
            self._check()
            result = attr(*args, **kwargs)
            if inspect.isgenerator(result):
                return self._iterate(result)
            return result

        return checked


def _pool(request: Request) -> WorkPool:
    pool: WorkPool = request.app.state.heavy_pool
    return pool


def _deadline_store(request: Request, store: GraphStore) -> GraphStore:
    timeout_s = float(request.app.state.settings.query_timeout_s)
    # TimeoutMiddleware notes the start: the deadline is the one it answers at.
    started = float(getattr(request.state, "started", time.monotonic()))
    return cast(GraphStore, DeadlineStore(store, started + timeout_s, timeout_s))


def heavy(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Mark a sync read handler as expensive: it runs on the bounded pool, and its
    ``store`` argument stops answering at the request's deadline.

    The wrapper is async with the handler's own signature (plus the request),
    so FastAPI resolves the same parameters and dependencies as before.
    """
    signature = inspect.signature(func, eval_str=True)
    params = list(signature.parameters.values())
    # FastAPI hands the request to one parameter only: the handler's own if it
    # has one, else one added here.
    own = next((p.name for p in params if p.annotation is Request), None)
    extra = own or "_heavy_request"
    if own is None:
        params.append(inspect.Parameter(extra, inspect.Parameter.KEYWORD_ONLY, annotation=Request))

    @functools.wraps(func)
    async def wrapper(**kwargs: Any) -> T:
        request: Request = kwargs[extra] if own else kwargs.pop(extra)
        if "store" in kwargs:
            kwargs["store"] = _deadline_store(request, kwargs["store"])
        return await _pool(request).run(functools.partial(func, **kwargs))

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper
