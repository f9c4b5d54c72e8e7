"""The one mapping from failures to RFC 9457 problem+json responses."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import flask
import marshmallow as ma
from flask_smorest import Api
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from ..domain.errors import DomainError, ValidationFailed

PROBLEM_MIME = "application/problem+json"
log = logging.getLogger(__name__)

# Slugs for plain HTTP errors, so every problem has a stable, documented `type`.
_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "unprocessable",
    429: "too-many-requests",
    500: "internal-error",
    503: "unavailable",
}


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str,
    *,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> flask.Response:
    """Build a problem+json response."""
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if flask.has_request_context():
        body["instance"] = flask.request.path
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = flask.current_app.response_class(
        json.dumps(body, default=_json_default, separators=(",", ":")),
        status=status,
        mimetype=PROBLEM_MIME,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _json_default(value: Any) -> Any:
    to_json = getattr(flask.current_app, "json", None)
    return to_json.default(value) if to_json else str(value)


def handle_domain_error(error: DomainError) -> flask.Response:
    """Expected failures: their detail is written for the client."""
    extra = {k: _dumpable(v) for k, v in error.extra.items()}
    return problem(
        error.status, error.title, error.detail, error.type_slug, errors=error.errors, **extra
    )


def _dumpable(value: Any) -> Any:
    # A domain value attached to an error (the current state on a 409) is dumped by the
    # schema registered for its type, so the client sees the same shape as on a read.
    dumper = _DUMPERS.get(type(value))
    return dumper(value) if dumper else value


_DUMPERS: dict[type, Any] = {}


def register_dumper(kind: type, dump) -> None:
    """Tell the error mapping how to show a domain value inside a problem."""
    _DUMPERS[kind] = dump


def handle_http_exception(error: HTTPException) -> flask.Response:
    """Werkzeug's errors (404 route, 405, 413, ...) as problems."""
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    data = getattr(error, "data", None) or {}
    detail = data.get("message") or error.description or error.name
    if status == 405:
        detail = f"{flask.request.method} is not allowed on {flask.request.path}"
    if status == 404 and detail == error.__class__.description:
        detail = f"nothing is found at {flask.request.path}"
    headers = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    headers.update(data.get("headers") or {})
    return problem(
        status,
        error.name,
        detail,
        _HTTP_SLUGS.get(status, "error"),
        errors=_flatten(data.get("errors") or data.get("messages")),
        headers=headers,
    )


def handle_unexpected(error: BaseException) -> flask.Response:
    """A bug: log it with its stack, tell the client nothing about the internals."""
    original = getattr(error, "original_exception", None) or error
    log.error(
        "unhandled error on %s %s",
        flask.request.method,
        flask.request.path,
        exc_info=(type(original), original, original.__traceback__),
    )
    return problem(
        500,
        "Internal Server Error",
        "the server failed to handle the request; it has been logged",
        "internal-error",
    )


def _flatten(messages: Any) -> dict[str, list[str]] | None:
    """webargs/marshmallow messages to {"field.sub": [messages]} (location dropped)."""
    if not messages:
        return None
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                name = str(key)
                if name == "_schema":
                    name = ""
                walk(f"{prefix}.{name}".strip(".") if name else prefix, sub)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out.setdefault(prefix or "body", []).extend(value)
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                walk(f"{prefix}.{i}", sub)
        else:
            out.setdefault(prefix or "body", []).append(str(value))

    if isinstance(messages, dict) and set(messages) <= set(core.Parser.__location_map__):
        for sub in messages.values():
            walk("", sub)
    else:
        walk("", messages)
    return out


def is_json_mimetype(mimetype: str) -> bool:
    """application/json or any application/*+json."""
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects a request body may have; real bodies use 3 at most."""

NUL_REASON = "must not contain NUL (U+0000) characters"
SURROGATE_REASON = "is not valid Unicode: it contains an unpaired surrogate (U+D800 to U+DFFF)"
# Text goes into the database: PostgreSQL refuses NUL in text, and no driver can encode a
# lone surrogate (which a JSON `\ud800` escape decodes to), so both would surface as a 500.
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str, *, surrogates: bool = True) -> str | None:
    """Why `value` cannot be accepted as text (NUL, lone surrogate), or None when it can.

    `surrogates=False` skips the search for lone surrogates, for text that cannot hold any.
    """
    # `in` and `isascii()` run at C speed (the latter reads a flag): a 500 kB manifest costs
    # microseconds; only non-ASCII text that may hold surrogates pays for the search.
    if "\x00" in value:
        return NUL_REASON
    if surrogates and not value.isascii() and _SURROGATE.search(value):
        return SURROGATE_REASON
    return None


def _body_problems(body: Any, *, surrogates: bool = True) -> dict[str, list[str]]:
    """Field path to problems for text that cannot be stored and for nesting that is too deep.

    Walks the parsed body without recursion (a deep body must not exhaust the stack here
    either) and stops at the first problem: one clear reason is enough to refuse the request.
    `surrogates` as for `text_problem`.
    """
    stack: list[tuple[Any, str, int]] = [(body, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            reason = text_problem(value, surrogates=surrogates)
            if reason:
                return {path or "body": [reason]}
        elif isinstance(value, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                # Named by its top-level field: the full path would be 32 segments long.
                reason = f"is nested too deeply (more than {MAX_JSON_DEPTH} levels)"
                return {path.split(".", 1)[0] or "body": [reason]}
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, sub in items:
                name = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    reason = text_problem(key, surrogates=surrogates)
                    if reason:
                        return {path or "body": [f"has a field name that {reason}"]}
                stack.append((sub, name, depth + 1))
    return {}


def request_json() -> Any:
    """The request body parsed as JSON once per request; a clear 400 when it is not JSON,
    is nested too deeply or carries text that cannot be stored."""
    cached = flask.g.get("_json_body", core.missing)
    if cached is not core.missing:
        return cached
    request = flask.request
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    # A chunked body has no length to refuse up front, and werkzeug stops reading it at the
    # limit without an error: the truncated text must not be parsed as if complete. One more
    # byte from the server's stream tells a longer body from one of exactly the limit.
    if (
        request.content_length is None
        and limit is not None
        and len(raw) >= limit
        and request.environ["wsgi.input"].read(1)
    ):
        flask.abort(413, f"the body is larger than {limit} bytes")
    if not raw:
        body = core.missing
    else:
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError, UnicodeDecodeError) as exc:
            reason = (
                "is nested too deeply"
                if isinstance(exc, RecursionError)
                else (
                    "is not valid JSON"
                    if not isinstance(exc, UnicodeDecodeError)
                    else "is not valid UTF-8"
                )
            )
            raise ValidationFailed(
                f"the request body {reason}", errors={"body": [reason]}
            ) from None
        # Strictly decoded UTF-8 holds no surrogate: only a JSON \u escape can produce one.
        problems = _body_problems(body, surrogates=b"\\u" in raw)
        if problems:
            field, reasons = next(iter(problems.items()))
            subject = "the request body" if field == "body" else f"the field {field}"
            raise ValidationFailed(f"{subject} {reasons[0]}", errors=problems)
    flask.g._json_body = body
    return body


def _query_problems(raw: bytes) -> dict[str, list[str]]:
    """Problems of the raw query string: werkzeug would silently replace invalid UTF-8 with
    U+FFFD and pass NUL through, so both are refused here, naming the parameter."""
    if raw.isascii() and b"%" not in raw and b"\x00" not in raw:
        return {}  # the common case: nothing encoded, nothing to check
    for pair in raw.split(b"&"):
        texts = []
        for part in pair.partition(b"=")[::2]:
            decoded = unquote_to_bytes(part.replace(b"+", b" "))
            try:
                texts.append(decoded.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(None)
        name = texts[0] or "query"
        if None in texts:
            return {name: ["is not valid UTF-8"]}
        reason = text_problem(texts[1]) or text_problem(texts[0])
        if reason:
            return {name: [reason]}
    return {}


class StrictParser(FlaskParser):
    """webargs parser: 400 with field errors, JSON parsed once, unknown fields refused."""

    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION = {
        "json": ma.RAISE,
        "query": ma.RAISE,
        "view_args": ma.RAISE,
        "headers": ma.EXCLUDE,
        "cookies": ma.EXCLUDE,
        "form": ma.RAISE,
        "files": ma.RAISE,
        "json_or_form": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_mimetype(req.mimetype):
            return core.missing
        return request_json()

    def load_json(self, req: flask.Request, schema: ma.Schema) -> Any:
        """The JSON body; every body the API documents is required, so none at all is a 400
        (a PATCH without a body is a client mistake, not an empty change)."""
        body = super().load_json(req, schema)
        if body is core.missing:
            raise ValidationFailed(
                "the request needs a JSON body (Content-Type: application/json)",
                errors={"body": ["is required"]},
            )
        return body

    def load_querystring(self, req: flask.Request, schema: ma.Schema) -> Any:
        """The query parameters, after refusing invalid UTF-8 and unstorable text in them."""
        problems = _query_problems(req.query_string)
        if problems:
            field, reasons = next(iter(problems.items()))
            raise ValidationFailed(f"the query parameter {field} {reasons[0]}", errors=problems)
        return super().load_querystring(req, schema)

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        """Validation errors become our ValidationFailed (one mapping for every 400)."""
        raise ValidationFailed("the request has invalid fields", errors=_flatten(error.messages))


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem (documentation only; responses are built by `problem`)."""

    class Meta:
        # RFC 9457 extension members: a 409 carries `current`, a 422 `line` and `column`,
        # a 503 `checks`; the document must not forbid them.
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True, metadata={"description": "URI naming the problem"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True, metadata={"description": "What went wrong"})
    instance = ma.fields.String(metadata={"description": "The request path"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Field name to messages, for validation errors"},
    )


class ProblemApi(Api):
    """flask-smorest Api whose documented and actual errors are problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        import http as _http

        from flask_smorest.utils import prepare_response

        for status in _http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIME)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIME)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_error_handlers(self):
        app = self._app
        app.register_error_handler(DomainError, handle_domain_error)
        app.register_error_handler(HTTPException, handle_http_exception)
        app.register_error_handler(Exception, handle_unexpected)

    def handle_http_exception(self, error):  # pragma: no cover - replaced above
        """Unused: errors go through `handle_http_exception` of this module."""
        return handle_http_exception(error)
