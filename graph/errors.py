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
    code = "store_unavailable"
    status = 503


class QueryTimeout(CreditlinkError):
    code = "query_timeout"
    status = 504


class ConfigError(CreditlinkError):
    code = "config_error"
    status = 500
