"""The audit log, and the guards that wrap every HTTP exchange.

Audit: every request that presents a key is recorded as one JSON line under
``<data_dir>/audit/``: time, key id, role, method, endpoint (the path
template, so that an ID number in a path does not land in the log in full),
the subject keys asked for (masked; plus a salted digest so that an auditor
can still find every query about one ID number), status and response bytes.
The line is appended with O_APPEND and fsynced *before* the response leaves,
so a client never holds an answer that the log does not have. Nothing in the
service edits or deletes audit lines.

The guards live here too because, like the audit, they must see the raw ASGI
exchange of every endpoint, including the ones other routers add later:

- ``BodyLimitMiddleware``: bodies above ``max_upload_bytes`` (multipart
  uploads) or ``max_json_bytes`` (everything else) get a 413, counted over
  every chunk as it arrives.
- ``TimeoutMiddleware``: a request still running after ``query_timeout_s``
  gets a 504 ``query_timeout`` at the deadline. Its task is cancelled: work
  still queued for the bounded pool (``api.limits``) never starts, and work
  already running there stops at its next store call. A plain sync handler
  cannot be stopped (Python cannot kill a thread); its late answer is
  dropped. Writes (routes that need the ``load``, ``judge`` or ``repair``
  permission) are never cut off: a 504 for a write that then commits would be
  a lie; nor is an answer already being sent. When the store turns out to be
  unreachable at the deadline (the Neo4j driver retries a lost server for a
  while), the answer is the 503 ``store_unavailable`` that the wait was
  really about.
- ``AccessLogMiddleware``: the server's access log (uvicorn's own is off),
  with ID numbers in paths masked and query strings that name subjects left
  out.

The audit and these guards never wait for the threads that handlers use: the
audit appends and the store pings have threads of their own, so a crowd of
slow handlers cannot hold an answer (or a 504) back.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.keys import KeyStore
from graph.errors import CreditlinkError, InvalidInput, StoreUnavailable
from graph.identifiers import InvalidIdentifier, compact, parse_identifier
from graph.privacy import mask_error_payload
from graph.store.files import private_dir

log = logging.getLogger("creditlink.audit")
access_log = logging.getLogger("creditlink.access")

# Query parameters that name subjects (search text, path ends).
SUBJECT_QUERY_PARAMS = ("q", "from", "to", "key", "subject")
# Fields of a JSON body that hold the keys a batch check asks about.
_BODY_KEY_FIELDS = frozenset({"key", "keys", "subject", "subjects", "id", "ids", "q"})
# Subjects recorded per line when the app does not say (a batch check names
# at most max_batch; a request naming more is refused before any look-up).
_DEFAULT_MAX_SUBJECTS = 2000
# Bodies kept for the audit when the app does not say: JSON bodies larger than
# this are refused (BodyLimitMiddleware), so every accepted one is kept whole.
DEFAULT_MAX_JSON_BYTES = 1024 * 1024
# Routes behind these permissions change data and are never cut off by the timeout.
WRITE_PERMISSIONS = frozenset({"load", "judge", "repair"})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# Threads appending audit lines: enough that a crowd's lines share an fsync.
AUDIT_THREADS = 8


class AuditLog:
    """Append-only JSON lines, one file per UTC day, each line fsynced.

    Lines are fsynced in groups: an append writes its line, then returns once
    an fsync that started after the write has finished, its own or one that a
    concurrent append ran (group commit). A crowd of requests shares one disk
    flush instead of queueing for one each, and no answer leaves before its
    line is on disk."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._lock = threading.Lock()
        # held through an fsync; taken before self._lock, never after
        self._sync_lock = threading.Lock()
        self._written = 0  # lines written (numbered from 1)
        self._synced = 0  # lines known to be on disk
        self._fd: int | None = None
        # files of earlier days: fsynced when the day changed, closed on close()
        # (an fsync under way may still hold the descriptor)
        self._retired: list[int] = []
        self._day: str | None = None
        self._salt: bytes | None = None
        self._executor: ThreadPoolExecutor | None = None
        # Not self._lock: that one is held through each fsync, and the event
        # loop asks for the executor.
        self._executor_lock = threading.Lock()

    @property
    def executor(self) -> ThreadPoolExecutor:
        """Appends run on a thread of their own, never on the pool that handlers
        use: a crowd of slow handlers must not hold answers back."""
        with self._executor_lock:
            if self._executor is None:
                # several, so that concurrent appends can share an fsync
                self._executor = ThreadPoolExecutor(
                    max_workers=AUDIT_THREADS, thread_name_prefix="audit"
                )
            return self._executor

    # -- digests: find every query about one key without storing it in clear --
    def _salt_bytes(self) -> bytes:
        if self._salt is None:
            private_dir(self.dir)
            path = self.dir / ".salt"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                self._salt = bytes.fromhex(path.read_text(encoding="ascii").strip())
            else:
                salt = secrets.token_bytes(32)
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(salt.hex())
                    fh.flush()
                    os.fsync(fh.fileno())
                self._salt = salt
        return self._salt

    def digest(self, key: str) -> str:
        """Digest of one canonical spelling (``key_forms`` gives them)."""
        return hmac.new(self._salt_bytes(), key.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def digests(self, key: str) -> list[str]:
        return [self.digest(form) for form in key_forms(key)]

    # -- writing ---------------------------------------------------------------
    def _file_for(self, day: str) -> Path:
        return self.dir / f"audit-{day}.jsonl"

    def append(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._lock:
            day = str(entry.get("at", _now()))[:10]
            if self._fd is None or day != self._day:
                private_dir(self.dir)
                if self._fd is not None:
                    # the day's lines are on disk before the next day's start
                    os.fsync(self._fd)
                    self._retired.append(self._fd)
                # O_APPEND: every write lands at the end, whatever else has the file open.
                self._fd = os.open(
                    self._file_for(day), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
                )
                self._day = day
            view = memoryview(line)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            self._written += 1
            mine = self._written
        with self._sync_lock:
            if self._synced >= mine:
                return  # an fsync that began after this line was written covered it
            with self._lock:
                fd, upto = self._fd, self._written
            os.fsync(fd)
            self._synced = upto

    def close(self) -> None:
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)  # appends under way finish first
        with self._lock:
            for fd in [*self._retired, *([self._fd] if self._fd is not None else [])]:
                os.close(fd)
            self._retired, self._fd = [], None

    # -- reading ---------------------------------------------------------------
    def _lines(self, since_day: str | None) -> Iterator[dict[str, Any]]:
        if not self.dir.exists():
            return
        for path in sorted(self.dir.glob("audit-*.jsonl")):
            day = path.name[len("audit-") : -len(".jsonl")]
            if since_day is not None and day < since_day:
                continue
            with path.open("rb") as fh:
                for raw in fh:
                    try:
                        yield json.loads(raw)
                    except ValueError:
                        # A torn last line (crash mid-append) is skipped, not fatal.
                        continue

    def query(
        self,
        subject: str | None = None,
        key_id: str | None = None,
        since: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` entries matching every given filter, newest first."""
        since_at = _parse_since(since) if since else None
        want_digest = self.digest(key_forms(subject)[0]) if subject else None
        want_masked = mask_key(subject) if subject else None
        found: list[dict[str, Any]] = []
        for entry in self._lines(since_at[:10] if since_at else None):
            if since_at is not None and str(entry.get("at", "")) < since_at:
                continue
            if key_id is not None and entry.get("key_id") != key_id:
                continue
            if (
                subject is not None
                and want_digest not in entry.get("subject_digests", ())
                and (want_masked not in entry.get("subjects", ()))
            ):
                continue
            found.append(entry)
        found.reverse()
        return found[:limit]


def key_forms(key: str) -> list[str]:
    """Canonical spellings of a key a caller typed, the one to search by first.

    An identifier is written as the stores write it: NFKC (full-width digits),
    no spaces, dashes or dots, upper case, and a 15-digit ID number as its
    18-digit form — so ``GET /audit?subject=<ID>`` finds the request however
    the ID was typed. A 15-digit value that is a registration number and a
    legacy ID number at once gets both forms. Anything else (a name) is kept
    as typed, upper-cased.
    """
    text = key.strip()
    try:
        ident = parse_identifier(text)
    except InvalidIdentifier:
        return [text.upper()]
    forms = [ident.value]
    if "ambiguous_id_number" in ident.warnings:
        with contextlib.suppress(InvalidIdentifier):
            forms.append(parse_identifier(ident.value, hint="id_number").value)
    elif ident.kind == "id_masked":
        forms = [compact(text)]
    return forms


def mask_key(key: str) -> str:
    """A key as the audit and the access log show it: canonical, then masked."""
    return str(mask_error_payload(key_forms(key)[0]))


def _parse_since(text: str) -> str:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            "since must be an ISO 8601 date or date-time, e.g. 2024-05-01T08:00:00Z",
            parameter="since",
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


# --- what a request asked about -------------------------------------------------


def _body_keys(body: Any) -> Iterator[str]:
    """Strings a batch-check body names as keys, whatever its exact shape."""
    if isinstance(body, str):
        yield body
    elif isinstance(body, list):
        for item in body:
            yield from _body_keys(item)
    elif isinstance(body, dict):
        for field, value in body.items():
            if field in _BODY_KEY_FIELDS:
                yield from _body_keys(value)
            elif isinstance(value, list | dict):
                yield from _body_keys_nested(value)


def _body_keys_nested(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                yield from _body_keys(item)
            elif isinstance(item, str):
                yield item
    elif isinstance(value, dict):
        yield from _body_keys(value)


def _check_keys(body: Any) -> Iterator[str]:
    """What a check looks up: exactly its ``subjects`` (as the handler reads them,
    other fields ignored however large), or any key-like field of another shape."""
    if isinstance(body, dict) and isinstance(body.get("subjects"), list):
        yield from (s for s in body["subjects"] if isinstance(s, str))
    else:
        yield from _body_keys(body)


def subjects_asked(scope: Scope, endpoint: str | None, body: bytes | None) -> list[str]:
    keys: list[str] = []
    for value in (scope.get("path_params") or {}).values():
        keys.append(str(value))
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        for name, value in parse_qsl(query, keep_blank_values=False):
            if name in SUBJECT_QUERY_PARAMS:
                keys.append(value)
    if body and scope.get("method") == "POST" and endpoint and endpoint.endswith("/checks"):
        with contextlib.suppress(ValueError, RecursionError):
            keys.extend(_check_keys(json.loads(body)))
    return list(dict.fromkeys(k.strip() for k in keys if isinstance(k, str) and k.strip()))


def route_permissions(route: Any) -> set[str]:
    """Permissions a route's dependencies demand (``api.deps.require`` tags them)."""
    found: set[str] = set()
    stack = list(getattr(getattr(route, "dependant", None), "dependencies", []) or [])
    while stack:
        dep = stack.pop()
        permission = getattr(dep.call, "permission", None)
        if isinstance(permission, str):
            found.add(permission)
        stack.extend(dep.dependencies)
    return found


# --- the middlewares ------------------------------------------------------------


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    response = JSONResponse(body, status_code=status)
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})


def _error(code: str, message: str, **details: Any) -> dict[str, Any]:
    from api.errors import error_body

    return error_body(code, message, details or None)


@dataclass
class _Exchange:
    status: int = 0
    bytes: int = 0


class AuditMiddleware:
    """Records every request that carries a key; the line is durable before the answer leaves."""

    def __init__(
        self,
        app: ASGIApp,
        audit: AuditLog,
        keys: KeyStore,
        max_json_bytes: int = DEFAULT_MAX_JSON_BYTES,
        max_subjects: int = _DEFAULT_MAX_SUBJECTS,
    ) -> None:
        self.app = app
        self.audit = audit
        self.keys = keys
        # The same limit as BodyLimitMiddleware's for JSON: a body the app
        # accepts is kept whole, so every subject it names is recorded.
        self.max_json_bytes = max_json_bytes
        self.max_subjects = max_subjects

    def _caller(self, scope: Scope) -> tuple[str | None, str | None] | None:
        principal = (scope.get("state") or {}).get("principal")
        if principal is not None:
            return principal.key_id, principal.role
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization")
        if not auth:
            return None
        # The request was refused before the auth dependency ran (413, unknown
        # route, bad key): name the key only if it is a real one.
        _scheme, _, token = auth.decode("latin-1").partition(" ")
        try:
            info = self.keys.verify(token.strip())
        except CreditlinkError:
            return (None, None)
        return info.key_id, info.role

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        kept: list[bytes] = []
        kept_size = 0
        # Uploads (feed files) are not kept: only JSON bodies name subjects.
        keep = scope.get("method") == "POST" and not _is_multipart(scope)

        async def tee_receive() -> Message:
            nonlocal kept_size, keep
            message = await receive()
            if keep and message["type"] == "http.request":
                chunk = message.get("body", b"")
                kept_size += len(chunk)
                if kept_size > self.max_json_bytes:
                    # Refused with a 413 by BodyLimitMiddleware: never answered.
                    keep = False
                    kept.clear()
                else:
                    kept.append(chunk)
            return message

        ex = _Exchange()
        held: list[Message] = []

        async def record() -> None:
            caller = self._caller(scope)
            if caller is None:
                return
            route = scope.get("route")
            endpoint = getattr(route, "path", None)
            body = b"".join(kept) if keep else None
            asked = subjects_asked(scope, endpoint, body)
            truncated = len(asked) > self.max_subjects
            asked = asked[: self.max_subjects]
            entry = {
                "at": _now(),
                "key_id": caller[0],
                "role": caller[1],
                "method": scope.get("method"),
                # An unmatched path may hold anything a caller typed: masked.
                "endpoint": endpoint or mask_error_payload(scope.get("path", "")),
                "matched": endpoint is not None,
                "subjects": [mask_key(k) for k in asked],
                "subject_digests": [d for k in asked for d in self.audit.digests(k)],
                "status": ex.status,
                "bytes": ex.bytes,
                "ms": round((time.monotonic() - started) * 1000, 1),
            }
            if truncated:
                entry["subjects_truncated"] = True
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self.audit.executor, self.audit.append, entry)

        async def holding_send(message: Message) -> None:
            # The answer is held until its audit line is on disk.
            if message["type"] == "http.response.start":
                ex.status = int(message["status"])
                held.append(message)
                return
            if message["type"] == "http.response.body":
                ex.bytes += len(message.get("body", b""))
                held.append(message)
                if message.get("more_body", False):
                    return
                try:
                    await record()
                except OSError:
                    log.exception("audit log write failed; the answer is withheld")
                    held.clear()
                    await _send_json(
                        send,
                        503,
                        _error("audit_unavailable", "the audit log cannot be written"),
                    )
                    return
                for m in held:
                    await send(m)
                held.clear()
                return
            await send(message)

        try:
            await self.app(scope, tee_receive, holding_send)
        except Exception:
            # Unhandled errors become a 500 further out; record them as such.
            if ex.status == 0:
                ex.status = 500
                with contextlib.suppress(OSError):
                    await record()
            raise


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _is_multipart(scope: Scope) -> bool:
    return _header(scope, b"content-type").lower().startswith("multipart/")


class BodyLimitMiddleware:
    """Refuses request bodies larger than the limit with a 413: ``max_bytes`` for
    multipart uploads (feed files), ``max_json_bytes`` for everything else."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _is_multipart(scope):
            limit, setting = self.max_bytes, "CREDITLINK_MAX_UPLOAD_BYTES"
        else:
            limit, setting = self.max_json_bytes, "CREDITLINK_MAX_JSON_BYTES"
        message = f"the request body is larger than the limit of {limit} bytes ({setting})"
        declared_text = _header(scope, b"content-length")
        if declared_text:
            try:
                declared = int(declared_text)
            except ValueError:
                declared = -1
            if declared > limit:
                await _send_json(send, 413, _error("too_large", message, limit=limit))
                return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    # FastAPI passes an HTTPException raised while reading the
                    # body through to the JSON error handler (api.errors).
                    raise HTTPException(status_code=413, detail=message)
            return msg

        await self.app(scope, counting_receive, send)


class TimeoutMiddleware:
    """Answers 504 ``query_timeout`` when a request runs longer than ``timeout_s``."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s
        # Timed-out requests still winding down; kept so they are not garbage-collected.
        self._abandoned: set[asyncio.Task[None]] = set()
        # Pings at the deadline get threads of their own: the pool handlers use
        # may be full of the very requests that are timing out.
        self._ping_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ping")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = {"started": False, "abandoned": False}
        # request.state.started: work on the bounded pool checks its deadline
        # against the same clock (api.limits).
        scope.setdefault("state", {})["started"] = time.monotonic()

        async def guarded_send(message: Message) -> None:
            if state["abandoned"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        try:
            await asyncio.wait_for(asyncio.shield(task), self.timeout_s)
            return
        except TimeoutError:
            if state["started"] or route_permissions(scope.get("route")) & WRITE_PERMISSIONS:
                # A write is never cut off; an answer already on its way is
                # finished rather than broken off half-sent (which a server
                # would turn into a bare 500).
                await task
                return
        except asyncio.CancelledError:
            task.cancel()
            raise
        state["abandoned"] = True
        # Cancelled, not just left: work queued in the bounded pool never
        # starts, and running work stops at its next store call.
        task.cancel()
        self._abandoned.add(task)
        task.add_done_callback(self._forget)
        down = await self._store_down(scope)
        if down is not None:
            # A request that waited on a store that is gone (the Neo4j driver
            # retries until its own deadline) is a 503, not a slow query.
            message, details = down.public()
            await _send_json(send, 503, _error(down.code, message, **details))
        else:
            await _send_json(
                send,
                504,
                _error(
                    "query_timeout",
                    f"the request took longer than {self.timeout_s:g} s and was cut off; "
                    "narrow it (depth, limit, filters)",
                    timeout_s=self.timeout_s,
                ),
            )

    async def _store_down(self, scope: Scope) -> StoreUnavailable | None:
        store = getattr(getattr(scope.get("app"), "state", None), "store", None)
        if store is None:
            return None
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(self._ping_pool, store.ping), 3.0)
        except StoreUnavailable as exc:
            return exc
        except Exception:  # a ping that hangs or fails otherwise: report the timeout
            return None
        return None

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if not isinstance(exc, CreditlinkError):
                log.warning("a timed-out request failed later: %r", exc)


# --- the access log ---------------------------------------------------------------

_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
# Digits with the separators people type inside ID numbers (spaces, dashes).
_DIGIT_RUN = re.compile(r"\d[\d\s\-]{5,}[\dXx]")


def _mask_free_text(text: str) -> str:
    """A path no route matched: every long run of digits goes through the key
    masking (so an ID number typed with dashes or full-width digits is masked)."""
    text = unicodedata.normalize("NFKC", text)
    return _DIGIT_RUN.sub(lambda m: mask_key(m.group(0)), text)


def loggable_target(scope: Scope) -> str:
    """What the access log shows of a request's path and query."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    params = scope.get("path_params") or {}
    if template:
        path = _PARAM.sub(lambda m: mask_key(str(params.get(m.group(1), ""))), template)
    else:
        path = _mask_free_text(scope.get("path", ""))
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    if not query:
        return path
    names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    if names & set(SUBJECT_QUERY_PARAMS):
        # The query names subjects: the audit log has them (masked, digested).
        return path + "?[query left out]"
    return path + "?" + _mask_free_text(query)


class AccessLogMiddleware:
    """One line per request on ``creditlink.access``, with nothing personal in it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 0

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            client = scope.get("client") or ("-", 0)
            access_log.info(
                '%s - "%s %s HTTP/%s" %d %.0fms',
                client[0],
                scope.get("method"),
                loggable_target(scope),
                scope.get("http_version", "1.1"),
                status or 500,
                (time.monotonic() - started) * 1000,
            )


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the ``creditlink`` loggers (access, audit, store)
    on its stderr handler."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["creditlink"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
