"""Running the app under uvicorn: JSON for requests the HTTP parser refuses, and
a note printed once the server accepts connections (``make run``)."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.audit import uvicorn_log_config
from api.errors import error_body

# The usual cause: a URL with raw non-ASCII characters (curl sends them as they
# are typed), which HTTP does not allow; percent-encoded they are fine.
BAD_REQUEST_HINT = (
    "the HTTP request is malformed. A URL must be ASCII: percent-encode Chinese "
    "and other non-ASCII characters, e.g. curl -G --data-urlencode 'q=商丘' "
    "http://127.0.0.1:8000/subjects/search"
)


class JSONErrorH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering a request it cannot parse with the API's
    JSON error body instead of plain text: every error of the API is JSON."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps(
            error_body("bad_request", BAD_REQUEST_HINT, {"parser": msg}), ensure_ascii=False
        ).encode("utf-8")
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


def serve(
    app: FastAPI,
    host: str,
    port: int,
    *,
    when_ready: Callable[[], None] | None = None,
    log_level: str = "info",
) -> None:
    """Serve until interrupted; ``when_ready`` runs once the socket accepts
    connections, so what it prints comes after uvicorn's start-up lines."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=JSONErrorH11Protocol,
        # uvicorn's access log prints request paths and query strings as sent
        # (full ID numbers, keys in ?key=); the app logs its own masked line
        # (api.audit.AccessLogMiddleware) on the creditlink logger set up here.
        access_log=False,
        log_config=uvicorn_log_config(),
    )
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        if when_ready is not None:
            when_ready()
            sys.stdout.flush()

    threading.Thread(target=announce, name="ready-note", daemon=True).start()
    # uvicorn shuts down gracefully on SIGTERM and then raises the signal again
    # with our handler back in place. Python's default for SIGTERM ends the
    # process on the spot, so the caller's clean-up (closing the store, which
    # compacts it, and taking back the CLI hand-off) would never run under a
    # service manager's stop; as SystemExit it runs.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_after_shutdown)
    server.run()


def _exit_after_shutdown(signum: int, frame: object) -> None:
    raise SystemExit(0)
