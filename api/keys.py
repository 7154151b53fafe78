"""API keys: created by the CLI, stored hashed in the data directory.

A key reads ``cl_<key id>_<secret>``. Only the SHA-256 of the whole key is
stored, so a leaked keys file does not leak usable keys; the key id is kept in
clear so that audit lines and revocations can name a key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from graph.errors import InvalidInput, NotFound, Unauthorized

# "loader": uploads feed files (POST /loads) and nothing else: a department's
# upload key, and the key a server hands the CLI on its own machine (loaders.handoff).
ROLES = ("admin", "investigator", "engine", "analyst", "loader")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass
class KeyInfo:
    key_id: str
    role: str
    created_at: str
    digest: str
    label: str = ""
    revoked_at: str | None = None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "keys.json"
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[str, KeyInfo]] | None = None
        # Keys of this process's life only (loaders.handoff): never in keys.json.
        self._session: dict[str, KeyInfo] = {}

    def _read(self) -> dict[str, KeyInfo]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if self._cache is not None and self._cache[0] == mtime:
            return self._cache[1]
        data = json.loads(self.path.read_text(encoding="utf-8"))
        keys = {k["key_id"]: KeyInfo(**k) for k in data.get("keys", [])}
        self._cache = (mtime, keys)
        return keys

    def _write(self, keys: dict[str, KeyInfo]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        body = {"keys": [asdict(k) for k in keys.values()]}
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
        self._cache = None

    def create(self, role: str, label: str = "") -> tuple[KeyInfo, str]:
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        with self._lock:
            keys = dict(self._read())
            key_id = secrets.token_hex(4)
            while key_id in keys:
                key_id = secrets.token_hex(4)
            key = f"cl_{key_id}_{secrets.token_urlsafe(24)}"
            info = KeyInfo(
                key_id=key_id,
                role=role,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                digest=_digest(key),
                label=label,
            )
            keys[key_id] = info
            self._write(keys)
            return info, key

    def kept_key_path(self, label: str) -> Path:
        if not _LABEL.fullmatch(label):
            raise InvalidInput(
                "a kept key's label is letters, digits, '.', '_' or '-'", label=label
            )
        return self.path.parent / f"{label}.key"

    def ensure(self, role: str, label: str) -> tuple[KeyInfo, str, bool]:
        """The key kept for ``label`` in the data directory if it still works with
        this role, else a new one, kept there (mode 0600) for next time. Returns
        (info, key, created). For ``make run``: one development key per data
        directory instead of a new never-expiring key on every start. Keeping a
        secret on disk is what keys.json avoids, so production keys never use this."""
        path = self.kept_key_path(label)
        try:
            key = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            key = ""
        if key:
            try:
                info = self.verify(key)
            except Unauthorized:
                info = None
            if info is not None and info.role == role:
                return info, key, False
        info, key = self.create(role, label=label)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(key + "\n")
        os.replace(tmp, path)
        return info, key, True

    def session_key(self, role: str, label: str) -> str:
        """A key that works until this process ends, kept in memory only (as its
        digest). For the server's hand-off file: a key in keys.json would outlive
        the server and pile up, one per start."""
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        with self._lock:
            key_id = "s" + secrets.token_hex(4)
            key = f"cl_{key_id}_{secrets.token_urlsafe(24)}"
            self._session[key_id] = KeyInfo(
                key_id=key_id,
                role=role,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                digest=_digest(key),
                label=label,
            )
            return key

    def verify(self, key: str) -> KeyInfo:
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "cl":
            raise Unauthorized("invalid API key")
        info = self._session.get(parts[1]) or self._read().get(parts[1])
        if info is None or not hmac.compare_digest(info.digest, _digest(key)):
            raise Unauthorized("invalid API key")
        if info.revoked_at is not None:
            raise Unauthorized("this API key was revoked")
        return info

    def list(self) -> list[KeyInfo]:
        return sorted(self._read().values(), key=lambda k: k.created_at)

    def revoke(self, key_id: str) -> KeyInfo:
        with self._lock:
            keys = dict(self._read())
            info = keys.get(key_id)
            if info is None:
                raise NotFound(f"no API key with id {key_id!r}")
            if info.revoked_at is None:
                info.revoked_at = datetime.now(UTC).isoformat(timespec="seconds")
                self._write(keys)
            return info
