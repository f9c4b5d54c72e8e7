"""Failure kinds of the domain and services. The HTTP layer maps each to one problem type."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure; `detail` is safe to show to the client."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class ValidationFailed(DomainError):
    """Input is well-formed but breaks a rule; `errors` maps field to messages."""

    status = 400
    type_slug = "validation-error"
    title = "Validation failed"


class Unauthorized(DomainError):
    """No valid credentials were presented."""

    status = 401
    type_slug = "unauthorized"
    title = "Unauthorized"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    """The named thing does not exist (or the caller may not know it exists)."""

    status = 404
    type_slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """The write conflicts with the current state (duplicate name, stale version)."""

    status = 409
    type_slug = "conflict"
    title = "Conflict"


class Unavailable(DomainError):
    """A dependency the request needs is not ready (database, content, cluster)."""

    status = 503
    type_slug = "unavailable"
    title = "Service unavailable"
