"""Request ids, one JSON log line per request, Prometheus metrics, and rate limits.

Logs never carry bodies, query strings, headers or tokens: only the method, the route
pattern, the status, the duration, the request id and the learner's id.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import time
from typing import Any

import flask
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from ..config import Settings

log = logging.getLogger("ckad_api.requests")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # fullmatch: `$` would pass a "\n"
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

REQUESTS = Counter("ckad_http_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram(
    "ckad_http_request_duration_seconds",
    "HTTP request latency",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
REVIEWS = Counter("ckad_reviews_total", "Reviews recorded, by rating", ["rating"])
VERIFICATIONS = Counter(
    "ckad_lab_verifications_total", "Lab verifications, by outcome", ["source", "outcome"]
)
INTENTS = Counter("ckad_tutor_intents_total", "Tutor messages, by intent", ["intent"])
CONTENT = Gauge(
    "ckad_content_info",
    "The loaded course content",
    ["version", "checksum"],
    multiprocess_mode="liveall",
)


def _learner_key() -> str:
    """Rate-limit key: the authenticated learner (authenticating here, once per request)."""
    from .common import bearer_token, services

    learner = flask.g.get("learner")
    if learner is None:
        try:
            learner = services().accounts.authenticate(bearer_token())
        except Exception:  # noqa: BLE001 - no valid token: the view answers 401 itself
            return f"ip:{get_remote_address()}"
        flask.g.learner = learner
    return f"learner:{learner.id}"


# The handler `init_observability` installs, when it did: lines for it alone are written
# straight to its stream (see `_emit`).
_own_handler: logging.StreamHandler | None = None


def _emit(message: str) -> None:
    """Write one INFO line through the request logger.

    When the only handler is the one `init_observability` installed (format: the message
    alone), the line is written to its stream directly: a LogRecord, the filters and the
    formatter would only reproduce the message, and cost more than the rest of a cached
    read's logging. Any other setup (a test's capture handler, an operator's logging
    config, filters) gets a real record, as does a failed write (logging reports it).
    """
    handler = _own_handler
    if handler is not None and not log.filters and not handler.filters:
        handlers = log.handlers
        if len(handlers) == 1 and handlers[0] is handler:
            try:
                with handler.lock:
                    stream = handler.stream
                    stream.write(message + "\n")
                    stream.flush()
                return
            except Exception:  # noqa: BLE001 - handed to logging, which reports it its way
                pass
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, message, None, None))


def _when_limited(hook):
    """`hook`, run only on requests whose view checked a rate limit."""

    @functools.wraps(hook)
    def wrapper(value):
        if hasattr(request_ctx, "_limiter_request_context"):  # set by flask-limiter
            return hook(value)
        return value

    return wrapper


limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
# Named limits, applied to views with these decorators (see accounts, reviews, labs, chat).
per_ip_register = limiter.limit("10 per hour;3 per minute", key_func=get_remote_address)
per_ip_token = limiter.limit("30 per minute", key_func=get_remote_address)
per_learner_answer = limiter.limit("120 per minute", key_func=_learner_key)
per_learner_verify = limiter.limit("30 per minute", key_func=_learner_key)
per_learner_chat = limiter.limit("60 per minute", key_func=_learner_key)


def init_observability(app: flask.Flask, settings: Settings) -> None:
    """Wire request ids, logging, metrics and limits into `app`."""
    app.config["RATELIMIT_ENABLED"] = settings.rate_limits
    app.config["RATELIMIT_STORAGE_URI"] = settings.redis_url or "memory://"
    limiter.init_app(app)
    # Only five views have limits, and their decorators check them inline. The extension's
    # own before_request pass would resolve (to nothing) every other route's limits on every
    # request, which measured about a fifth of a cached chapter read; there are no default
    # or application-wide limits for it to apply.
    before = app.before_request_funcs.setdefault(None, [])
    if limiter._check_request_limit in before:  # absent when limits are off
        before.remove(limiter._check_request_limit)
    # Its after-request (headers) and teardown hooks only have work on the requests a limit
    # was checked on: those made the limiter's per-request context.
    after = app.after_request_funcs.setdefault(None, [])
    after[:] = [_when_limited(f) if getattr(f, "args", ())[:1] == (limiter,) else f for f in after]
    teardown = app.teardown_request_funcs.setdefault(None, [])
    teardown[:] = [
        _when_limited(f) if getattr(f, "__self__", None) is limiter else f for f in teardown
    ]
    if settings.rate_limits and not settings.redis_url:
        # In-memory counters belong to this app (each gunicorn worker counts alone; set
        # CKAD_REDIS_URL to share them). A new app must not inherit another's counters.
        limiter.reset()
    if not log.handlers:
        global _own_handler
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        _own_handler = handler

    # Per (route, method, status): the metric children and the log line's middle part.
    # `labels()` takes a lock and builds a key on every call, and encoding the same route
    # into every line is wasted work. The set is small and fixed: rules, not paths
    # (unmatched paths share one route), and methods outside HTTP's usual ones share one
    # label, or a client inventing methods would add series and entries without end.
    children: dict[tuple[str, str, int], tuple[Any, Any, str]] = {}
    encode = json.JSONEncoder(separators=(",", ":")).encode

    @app.before_request
    def _start() -> None:
        # The proxies' objects, looked up once: each proxy access walks the context.
        g = flask.g._get_current_object()
        given = flask.request._get_current_object().headers.get("X-Request-ID", "")
        # 128 random bits as 32 hex digits, as uuid4().hex gave, without building a UUID.
        g.request_id = given if _REQUEST_ID.fullmatch(given) else os.urandom(16).hex()
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: flask.Response) -> flask.Response:
        request, g = flask.request._get_current_object(), flask.g._get_current_object()
        rule = request.url_rule
        route = rule.rule if rule is not None else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        request_id = g.get("request_id", "")
        response.headers["X-Request-ID"] = request_id
        method = request.method
        key = (route, method if method in _METHODS else "OTHER", response.status_code)
        entry = children.get(key)
        if entry is None:
            entry = children[key] = (
                REQUESTS.labels(route, key[1], str(key[2])),
                LATENCY.labels(route, key[1]),
                f',"method":{encode(key[1])},"route":{encode(route)},"status":{key[2]},'
                '"duration_ms":',
            )
        entry[0].inc()
        entry[1].observe(elapsed)
        if settings.request_logs and log.isEnabledFor(logging.INFO):
            learner = g.get("learner")
            # The JSON object `encode` would make of request_id, method, route, status,
            # duration_ms and learner_id, written out: the id is [A-Za-z0-9._-] (checked
            # above) and needs no escaping; a float's JSON is its repr.
            _emit(
                f'{{"request_id":"{request_id}"{entry[2]}{round(elapsed * 1000, 2)!r},'
                f'"learner_id":{"null" if learner is None else int(learner.id)}}}'
            )
        return response

    @app.get("/metrics")
    def metrics() -> flask.Response:
        """Prometheus text format (all gunicorn workers when PROMETHEUS_MULTIPROC_DIR is set)."""
        try:
            view = app.extensions["ckad"].content.view()
            CONTENT.clear()
            CONTENT.labels(view.version, view.checksum[:12]).set(1)
        except Exception:  # noqa: BLE001 - no content yet: the gauge stays empty
            pass
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            body = generate_latest(registry)
        else:
            body = generate_latest()
        return flask.Response(
            body,
            mimetype=CONTENT_TYPE_LATEST.split(";")[0],
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )
