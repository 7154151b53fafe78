"""The CLI hands its loads to the running server.

The embedded store has one writer. While ``creditlink serve`` holds it, a
``creditlink load`` on the same data directory used to be refused; and even
with no server, a CLI load pays for opening the whole store (reading the
snapshot, replaying the journal) and for compacting it on close, whatever the
size of its file: seconds at 50,000 enterprises, minutes at a million.

So the server announces itself: once it accepts connections it writes
``server.json`` into the store directory (mode 0600, in the 0700 data
directory) with its URL, its process id and a key of the ``loader`` role that
lives as long as the server does (kept in memory by the server, never in
keys.json). A CLI load that finds the writer lock held by that very process
(same pid and host as the lock names) sends its files to ``POST /loads``
instead, in the same order, and prints the same reports. Whoever can read the
file can read the store itself, so the key adds no right to what they have.

A stale file (a server killed with SIGKILL) is never used: the file copies
what the writer lock said of its holder (pid, host, start time), a dead
process holds no lock, and a new holder says something else.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from graph.errors import CreditlinkError, StoreUnavailable
from graph.store.files import current_holder, replace_file
from loaders.pipeline import LoadProgress, ProgressCallback

ANNOUNCEMENT = "server.json"
# How often the CLI asks the server how far a load has got (GET /loads/current).
POLL_S = 0.5
# How long the CLI waits for a starting server to announce itself.
STARTING_S = 10.0


@dataclass(frozen=True)
class Announcement:
    url: str
    pid: int
    key: str
    # what the writer lock said of its holder when the server announced itself
    holder: dict[str, Any]


def announce(store_dir: Path, url: str, key: str) -> Path:
    path = store_dir / ANNOUNCEMENT
    holder = current_holder(store_dir)
    if holder.get("pid") != os.getpid():
        raise RuntimeError(f"announce: this process does not hold the writer lock of {store_dir}")
    body = {"url": url, "pid": os.getpid(), "key": key, "holder": holder}
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    replace_file(path, lambda fh: fh.write(data))
    return path


def withdraw(store_dir: Path) -> None:
    """Remove the announcement if it is this process's (a later server's stays)."""
    path = store_dir / ANNOUNCEMENT
    found = _read(path)
    if found is not None and found.pid == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _read(path: Path) -> Announcement | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        holder = raw["holder"]
        if not isinstance(holder, dict):
            return None
        return Announcement(
            url=str(raw["url"]), pid=int(raw["pid"]), key=str(raw["key"]), holder=holder
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find(store_dir: Path, holder: dict[str, Any], wait_s: float = 0.0) -> Announcement | None:
    """The server to send loads to: the one that announced itself in
    ``store_dir`` if it is the process holding the writer lock now, looked for
    during ``wait_s`` seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        found = _read(store_dir / ANNOUNCEMENT)
        if found is not None and holder and holder == found.holder:
            return found
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def announce_wait(holder: dict[str, Any]) -> float:
    """How long to look for the announcement of the lock's holder: a server
    takes the lock before it listens and announces itself once it does, so a
    load started with the server waits for it; any other writer never will."""
    return STARTING_S if "serve" in str(holder.get("command", "")).split() else 0.0


class ServerRefused(CreditlinkError):
    """The server answered a load with an error: its code and message, as given."""

    def __init__(self, code: str, status: int, message: str, details: object) -> None:
        super().__init__(message)
        # as the server gave them: any keys (one may be called "message")
        self.details = details if isinstance(details, dict) else {}
        self.code = code
        self.status = status


class ServerLoads:
    """``FileLoader.load``'s counterpart that loads through the server."""

    def __init__(self, server: Announcement, timeout_s: float = 30.0) -> None:
        self.server = server
        # Reading the answer waits as long as the load runs: no read timeout.
        self._client = httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {server.key}"},
            timeout=httpx.Timeout(timeout_s, read=None),
            # Loopback: a proxy from the environment must not see the key.
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def load(
        self,
        path: Path,
        kind: str | None,
        snapshot_date: str | None,
        progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        params = {k: v for k, v in (("kind", kind), ("snapshot_date", snapshot_date)) if v}
        try:
            with path.open("rb") as fh, self._watch(path.name, progress):
                answer = self._client.post("/loads", params=params, files={"file": (path.name, fh)})
        except httpx.HTTPError as exc:
            raise StoreUnavailable(
                f"the store's writer, the server at {self.server.url} (pid {self.server.pid}), "
                f"did not answer: {exc}"
            ) from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if answer.status_code == 200 and isinstance(body, dict):
            return body
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            error = {"code": "error", "message": answer.text[:300]}
        raise ServerRefused(
            str(error.get("code", "error")),
            answer.status_code,
            str(error.get("message", "")),
            error.get("details"),
        )

    @contextlib.contextmanager
    def _watch(self, name: str, progress: ProgressCallback | None) -> Iterator[None]:
        """Feed ``progress`` from GET /loads/current while the upload is in flight."""
        if progress is None:
            yield
            return
        done = threading.Event()

        def poll() -> None:
            while not done.wait(POLL_S):
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
                    loads = self._client.get("/loads/current").json()["loads"]
                    for entry in loads:
                        if entry["file"] == name:
                            progress(
                                LoadProgress(
                                    file=name,
                                    kind=entry.get("kind") or "",
                                    stage=entry["stage"],
                                    rows_done=entry.get("rows_done", 0),
                                    rows_total=entry.get("rows_total"),
                                )
                            )
                            break

        watcher = threading.Thread(target=poll, name="creditlink-load-progress", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()
