"""Helpers every view module shares: the service container, auth, caching, cursors."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from typing import Any

import flask
from flask_smorest import Blueprint as _Blueprint

from ..domain.accounts import Learner
from ..domain.errors import NotFound, Unauthorized, ValidationFailed
from .errors import PROBLEM_MIME, StrictParser, text_problem

MAX_ID = 2**31 - 1
"""The largest row id (or version): 32-bit INTEGER columns on PostgreSQL (and SQLite cannot
even bind an integer past 2**63), so a larger id in a path or cursor names nothing, and a
larger version is refused as a field error rather than failing in the database."""


class Blueprint(_Blueprint):
    """flask-smorest Blueprint with the strict parser (400 with field errors).

    `doc` and `alt_response` only document: here they attach the documentation to the view
    itself instead of wrapping it in one more pass-through call per request (a route has up
    to five of them).
    """

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url_value_preprocessor(_refuse_impossible_path_values)

    def doc(self, **kwargs):
        """Document the view (see flask-smorest), without a runtime wrapper."""
        return _documentation_only(super().doc(**kwargs))

    def alt_response(self, *args, **kwargs):
        """Document an alternative response (see flask-smorest), without a runtime wrapper."""
        return _documentation_only(super().alt_response(*args, **kwargs))


def _documentation_only(decorator):
    """Apply a flask-smorest documenting decorator's `_apidoc` to the view, not its wrapper."""

    def apply(view):
        view._apidoc = decorator(view)._apidoc  # a deep copy, extended: the view's own
        return view

    return apply


def _refuse_impossible_path_values(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # A path value that cannot be stored (NUL, lone surrogate) or an id past the column's
    # range names nothing: answer the documented 404 before the database refuses it with a 500.
    for name, value in (values or {}).items():
        if isinstance(value, str) and (reason := text_problem(value)):
            raise NotFound(f"the path names nothing: its {name} {reason}", errors={name: [reason]})
        if isinstance(value, int) and value > MAX_ID:
            raise NotFound(
                f"the path names nothing: {name} {value} is larger than any id",
                errors={name: [f"must be at most {MAX_ID}"]},
            )


def services():
    """The wired services of the current app (see `create_app`)."""
    return flask.current_app.extensions["ckad"]


def current_learner() -> Learner:
    """The authenticated learner of this request (set by `auth_required`)."""
    return flask.g.learner


def bearer_token() -> str:
    """The token from `Authorization: Bearer <token>`, or a 401."""
    header = flask.request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise Unauthorized("send an access token as 'Authorization: Bearer <token>'")
    return token


def auth_required(blp: Blueprint):
    """Decorator: authenticate the caller and document the bearer requirement."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            # A rate limit keyed by learner may have authenticated this request already.
            if flask.g.get("learner") is None:
                flask.g.learner = services().accounts.authenticate(bearer_token())
            return view(*args, **kwargs)

        documented = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        return blp.alt_response(401, response="UNAUTHORIZED")(documented)

    return decorator


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None):
    """A JSON response from already-dumped data."""
    body = json.dumps(payload, separators=(",", ":"), default=flask.current_app.json.default)
    return flask.current_app.response_class(
        body, status=status, mimetype="application/json", headers=headers
    )


def cached_content(view, key: Any, schema, produce) -> flask.Response:
    """Serve a content read from the view's cache of encoded bodies, with ETag and 304.

    Content changes only when it is reloaded (a new view), so the body and its ETag are
    computed once per view and key, then every request is a dictionary lookup.
    """
    entry = view.cache.get(key)
    if entry is None:
        body = json.dumps(
            schema.dump(produce()), separators=(",", ":"), default=flask.current_app.json.default
        ).encode()
        etag = hashlib.sha256(body).hexdigest()[:32]
        entry = view.cache[key] = (body, etag)
    body, etag = entry
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, no-cache"}
    if flask.request.if_none_match.contains_weak(etag):
        return flask.current_app.response_class(status=304, headers=headers)
    return flask.current_app.response_class(body, mimetype="application/json", headers=headers)


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for the item after `last_id`."""
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def page(rows: list[Any], limit: int, key) -> dict[str, Any]:
    """A page of `rows` read with `limit + 1`: the extra row only says a next page exists."""
    more = len(rows) > limit
    items = rows[:limit]
    return {"items": items, "next_cursor": encode_cursor(key(items[-1])) if more else None}


def decode_cursor(cursor: str | None) -> int:
    """The id a cursor points after; 400 when it is not one of ours."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "id" or not value.isdigit() or len(value) > 10 or int(value) > MAX_ID:
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "the cursor is not valid", errors={"cursor": ["is not a cursor this API returned"]}
        ) from None


__all__ = ["PROBLEM_MIME"]
