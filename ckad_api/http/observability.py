"""Request ids, one JSON log line per request, Prometheus metrics, and rate limits.

Logs never carry bodies, query strings, headers or tokens: only the method, the route
pattern, the status, the duration, the request id and the learner's id.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid

import flask
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
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

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
    if settings.rate_limits and not settings.redis_url:
        # In-memory counters belong to this app (each gunicorn worker counts alone; set
        # CKAD_REDIS_URL to share them). A new app must not inherit another's counters.
        limiter.reset()
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

    @app.before_request
    def _start() -> None:
        given = flask.request.headers.get("X-Request-ID", "")
        flask.g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        flask.g.started = time.perf_counter()

    @app.after_request
    def _finish(response: flask.Response) -> flask.Response:
        request = flask.request
        route = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - flask.g.get("started", time.perf_counter())
        response.headers["X-Request-ID"] = flask.g.get("request_id", "")
        REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        LATENCY.labels(route, request.method).observe(elapsed)
        if settings.request_logs:
            learner = flask.g.get("learner")
            log.info(
                json.dumps(
                    {
                        "request_id": flask.g.get("request_id"),
                        "method": request.method,
                        "route": route,
                        "status": response.status_code,
                        "duration_ms": round(elapsed * 1000, 2),
                        "learner_id": learner.id if learner is not None else None,
                    },
                    separators=(",", ":"),
                )
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
