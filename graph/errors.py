"""One error hierarchy for the whole service.

Every error a user can cause or meet carries a stable ``code`` and an HTTP
status so that the API maps it to JSON in one place (``api.errors``) and the CLI
prints it without a traceback.
"""

from __future__ import annotations

from typing import Any


class CreditlinkError(Exception):
    """Base of every error creditlink raises on purpose."""

    code = "error"
    status = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def public(self) -> tuple[str, dict[str, Any]]:
        """Message and details for an HTTP answer. Most errors are about what the
        caller sent and are shown as they are; errors about the service's own
        machinery (store addresses, file paths) override this."""
        return self.message, self.details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(CreditlinkError):
    code = "invalid_input"
    status = 400


class NotFound(CreditlinkError):
    code = "not_found"
    status = 404


class Unauthorized(CreditlinkError):
    code = "unauthorized"
    status = 401


class Forbidden(CreditlinkError):
    code = "forbidden"
    status = 403


class Conflict(CreditlinkError):
    code = "conflict"
    status = 409


class LimitExceeded(CreditlinkError):
    code = "limit_exceeded"
    status = 400


class FeedError(CreditlinkError):
    """A feed file that cannot be loaded at all (bad encoding, unknown header…).

    The whole file is refused; ``details`` names the file and what is wrong.
    """

    code = "feed_refused"
    status = 422


class StoreUnavailable(CreditlinkError):
    """The store cannot answer. The message is for the operator (it may name the
    Neo4j URI or a file); answers to callers carry only ``public_message``."""

    code = "store_unavailable"
    status = 503

    def __init__(self, message: str, public_message: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.public_message = public_message or "the graph store is unavailable; try again later"

    def public(self) -> tuple[str, dict[str, Any]]:
        return self.public_message, {}


class StoreRefused(CreditlinkError):
    """The store is up but refused the work (a transaction larger than the
    memory the server gives one): retrying the same work will not help."""

    code = "store_refused"
    status = 503


class StoreBusy(CreditlinkError):
    """Another writer holds the store: the embedded store's writer lock, or a
    load written to Neo4j in parts (graph/store/neo4j_loads.py)."""

    code = "store_busy"
    status = 409


class Overloaded(CreditlinkError):
    """Too much work is queued (or a quota is spent): try again after ``retry_after_s``."""

    code = "overloaded"
    status = 429

    def __init__(self, message: str, retry_after_s: int, **details: Any) -> None:
        super().__init__(message, retry_after_s=retry_after_s, **details)
        self.retry_after_s = retry_after_s


class QuotaExceeded(Overloaded):
    """A key spent its quota (full ID numbers checked without a match)."""

    code = "quota_exceeded"


class QueryTimeout(CreditlinkError):
    code = "query_timeout"
    status = 504

    def public(self) -> tuple[str, dict[str, Any]]:
        # A store's timeout names its address; the caller needs only the fact.
        return self.message, {k: v for k, v in self.details.items() if k != "uri"}


class ConfigError(CreditlinkError):
    code = "config_error"
    status = 500
