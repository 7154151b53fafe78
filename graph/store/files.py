"""Files of the embedded store: private permissions, replacement by rename, and
the one-writer lock.

The store's files hold full ID numbers, so they are created 0600 in a 0700
directory whatever the process umask is.

A file that is rewritten whole (the snapshot, a new journal) is written
beside itself, fsynced and renamed over the old one, and the directory is
fsynced after: a crash leaves the old file or the new one, never part of one.

One writer: a process that may write holds an exclusive ``flock`` on
``writer.lock`` for as long as it has the store open. The lock belongs to the
open file, so the kernel drops it when the process ends however it ends
(kill -9 included): there is no stale lock to clean up. The holder writes who
it is into the file, so that a second writer is refused with a message naming
the holder. ``flock`` is local to one machine: the data directory must be on a
local disk, not a network share.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from graph.errors import StoreBusy

WRITER_LOCK = "writer.lock"
_HOLDER_MAX = 4096


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700; tighten it if it is ours and wider."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid == os.getuid() and st.st_mode & 0o077:
        os.chmod(path, 0o700)


def private_file(path: Path) -> None:
    """Make sure ``path`` exists and is 0600 (files created by others, e.g. SQLite,
    take the mode of the file they belong to)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def open_private(path: Path, flags: int) -> int:
    """``os.open`` creating the file 0600."""
    return os.open(path, flags | os.O_CLOEXEC, 0o600)


def replace_file(path: Path, write: Callable[[BinaryIO], object]) -> int:
    """Write ``path`` anew beside it (0600), fsync, rename over it; returns its size.
    The caller fsyncs the directory (``fsync_dir``) once its renames are done."""
    tmp = path.with_name(path.name + ".tmp")
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
        size = fh.tell()
    os.replace(tmp, path)
    return size


def fsync_dir(directory: Path) -> None:
    """Make the renames in ``directory`` durable."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _holder_text(fd: int) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        raw = os.pread(fd, _HOLDER_MAX, 0)
        info = json.loads(raw.decode("utf-8"))
        if isinstance(info, dict):
            return info
    return {}


def current_holder(directory: Path) -> dict[str, Any]:
    """Who holds the writer lock of ``directory`` by its own account (pid, host,
    command, since), or {} when nobody has said; read without taking the lock."""
    try:
        fd = os.open(directory / WRITER_LOCK, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return {}
    try:
        return _holder_text(fd)
    finally:
        os.close(fd)


def describe_holder(info: dict[str, Any]) -> str:
    if not info:
        return "another process (it has not said who it is yet)"
    return (
        f"pid {info.get('pid')} on host {info.get('host')} "
        f"({info.get('command')}), since {info.get('since')}"
    )


class WriterLock:
    """The exclusive writer lock of one store directory, held until ``release``."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / WRITER_LOCK
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once or raise StoreBusy naming the holder (never waits)."""
        fd = open_private(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_text(fd)
            # The holder writes who it is just after taking the lock: give it
            # that moment rather than refuse with "it has not said who it is".
            for _ in range(20):
                if holder:
                    break
                time.sleep(0.025)
                holder = _holder_text(fd)
            os.close(fd)
            raise StoreBusy(
                f"the embedded store in {self.path.parent} already has a writer: "
                f"{describe_holder(holder)}. Only one process may write to it: wait for "
                "that one to end, or stop it. (A running `creditlink serve` takes "
                "`creditlink load`'s files itself, and POST /loads.)",
                holder=holder,
            ) from None
        except BaseException:
            os.close(fd)
            raise
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(
                os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv)
            )[:300],
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        data = json.dumps(info, ensure_ascii=False).encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the file drops the flock
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
