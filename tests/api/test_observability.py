"""Metrics, request ids, JSON request logs without secrets, and rate limits."""

from __future__ import annotations

import io
import json
import logging

import pytest
import redis

from ckad_api import create_app
from ckad_api.http import observability
from tests.conftest import settings_for

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_metrics_count_requests_reviews_and_intents(client, api):
    headers = api.auth("ada")
    client.post(
        "/api/v1/reviews/basics-probe-traffic/answer",
        headers=headers,
        json={"answer": 1, "version": 0},
    )
    conversation = client.post("/api/v1/chat/conversations", headers=headers).get_json()["id"]
    client.post(
        f"/api/v1/chat/conversations/{conversation}/messages", headers=headers, json={"text": "hi"}
    )
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'ckad_http_requests_total{method="POST",route="/api/v1/auth/register",status="201"}' in text
    )
    assert 'ckad_reviews_total{rating="good"}' in text
    assert 'ckad_tutor_intents_total{intent="greeting"}' in text
    assert "ckad_content_info{" in text and "ckad_http_request_duration_seconds_bucket" in text


def test_request_id_is_kept_or_made_and_returned(client):
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["X-Request-ID"]) == 32


@pytest.fixture
def logged_client(app, database_url, caplog):
    """A client of an app that logs requests, the lines captured by caplog. (It depends on
    `app` for its cleanup: on PostgreSQL that fixture empties the learner tables after.)"""
    logged = create_app(settings_for(database_url, request_logs=True))
    logger = logging.getLogger("ckad_api.requests")
    logger.addHandler(caplog.handler)  # the logger does not propagate to caplog's root
    caplog.set_level(logging.INFO, logger="ckad_api.requests")
    try:
        yield logged.test_client()
    finally:
        logger.removeHandler(caplog.handler)
        logged.extensions["ckad"].engine.dispose()


def _log_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "ckad_api.requests"]


def test_request_log_is_json_and_never_carries_secrets(logged_client, caplog):
    client = logged_client
    token = client.post(
        "/api/v1/auth/register", json={"username": "ada", "password": "very-secret-password"}
    ).get_json()["access_token"]
    client.post(
        "/api/v1/labs/web/verify",
        headers={"Authorization": f"Bearer {token}"},
        json={"source": "manifests", "manifests": "kind: Secret\n# TOPSECRET\n"},
    )
    lines = _log_lines(caplog)
    assert [(x["route"], x["status"]) for x in lines] == [
        ("/api/v1/auth/register", 201),
        ("/api/v1/labs/<string:lab_id>/verify", 422),
    ]
    assert all(x["request_id"] for x in lines) and lines[1]["learner_id"] == 1
    everything = caplog.text
    for secret in ("very-secret-password", token, "TOPSECRET"):
        assert secret not in everything


def test_request_log_lines_reach_the_installed_handler(database_url, monkeypatch):
    app = create_app(settings_for(database_url, request_logs=True))
    logger = logging.getLogger("ckad_api.requests")
    handler = observability._own_handler
    assert handler is not None and handler in logger.handlers
    # As in production: the handler the app installed is the only one (pytest adds its own).
    monkeypatch.setattr(logger, "handlers", [handler])
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        client = app.test_client()
        client.get("/healthz", headers={"X-Request-ID": "line-check-1"})
        # A filter on the logger is honoured: the line goes through logging, and is dropped.
        drop = logging.Filter("somewhere.else")
        logger.addFilter(drop)
        try:
            client.get("/healthz", headers={"X-Request-ID": "line-check-2"})
        finally:
            logger.removeFilter(drop)
    finally:
        handler.setStream(previous)
        app.extensions["ckad"].engine.dispose()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines == [
        {
            "request_id": "line-check-1",
            "method": "GET",
            "route": "/healthz",
            "status": 200,
            "duration_ms": lines[0]["duration_ms"],
            "learner_id": None,
        }
    ]
    assert isinstance(lines[0]["duration_ms"], float) and lines[0]["duration_ms"] >= 0


def _other_405s(client) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    assert "BREW" not in text
    prefix = 'ckad_http_requests_total{method="OTHER",route="unmatched",status="405"} '
    found = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


def test_log_and_metrics_labels_stay_bounded(logged_client, caplog):
    client = logged_client
    token = client.post(
        "/api/v1/auth/register", json={"username": "ada", "password": "correct-horse-1"}
    ).get_json()["access_token"]
    before = _other_405s(client)  # the metrics are the process's, shared by every test
    invented = [client.open("/healthz", method=f"BREW{n}") for n in range(3)]
    assert {r.status_code for r in invented} == {405}
    client.get("/api/v1/chapters/basics", headers={"Authorization": f"Bearer {token}"})
    assert _other_405s(client) == before + 3  # one series for every invented method
    lines = _log_lines(caplog)
    assert [x["method"] for x in lines[-5:-1]] == ["OTHER", "OTHER", "OTHER", "GET"]
    assert lines[-2]["route"] == "/api/v1/chapters/<string:chapter_id>"
    assert lines[-2]["learner_id"] == 1


def limited_app(database_url, **overrides):
    return create_app(settings_for(database_url, rate_limits=True, **overrides))


def test_register_is_limited_per_ip_with_a_problem_and_retry_after(app, database_url):
    app = limited_app(database_url)
    try:
        client = app.test_client()
        statuses = [
            client.post(
                "/api/v1/auth/register",
                json={"username": f"user{i}", "password": "correct-horse-1"},
            ).status_code
            for i in range(4)
        ]
        assert statuses == [201, 201, 201, 429]
        blocked = client.post(
            "/api/v1/auth/register", json={"username": "late", "password": "correct-horse-1"}
        )
        assert blocked.status_code == 429
        assert blocked.mimetype == "application/problem+json"
        assert int(blocked.headers["Retry-After"]) > 0
        with app.app_context():
            assert app.extensions["ckad"].accounts  # nothing else changed: no "late" learner
        token = client.post(
            "/api/v1/auth/token", json={"username": "late", "password": "correct-horse-1"}
        )
        assert token.status_code == 401
    finally:
        app.extensions["ckad"].engine.dispose()


def test_answers_are_limited_per_learner(app, database_url):
    app = limited_app(database_url)
    try:
        client = app.test_client()
        headers = {}
        token = client.post(
            "/api/v1/auth/register", json={"username": "ada", "password": "correct-horse-1"}
        ).get_json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        statuses = [
            client.post(
                "/api/v1/reviews/basics-probe-traffic/answer",
                headers=headers,
                json={"answer": 1, "version": 0, "mode": "practice"},
            ).status_code
            for _ in range(121)
        ]
        assert statuses[:120] == [200] * 120 and statuses[120] == 429
        other = client.post(
            "/api/v1/auth/register", json={"username": "bob", "password": "correct-horse-1"}
        ).get_json()["access_token"]
        fresh = client.post(
            "/api/v1/reviews/basics-probe-traffic/answer",
            headers={"Authorization": f"Bearer {other}"},
            json={"answer": 1, "version": 0, "mode": "practice"},
        )
        assert fresh.status_code == 200  # another learner has their own allowance
    finally:
        app.extensions["ckad"].engine.dispose()


def redis_available() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False
    return True


def test_limits_are_shared_through_redis(app, database_url):
    """Counters live in Redis: a new worker (a new app) still sees them; in memory it does not."""
    import os

    if not redis_available():
        if os.environ.get("CKAD_REQUIRE_POSTGRES") == "1":
            pytest.fail("Redis at 127.0.0.1:6379 is unreachable in CI")
        pytest.skip("Redis at 127.0.0.1:6379 is unreachable")
    redis.Redis.from_url(REDIS_URL).flushdb()
    apps = []
    try:

        def register(app, name):
            return (
                app.test_client()
                .post(
                    "/api/v1/auth/register", json={"username": name, "password": "correct-horse-1"}
                )
                .status_code
            )

        first = limited_app(database_url, redis_url=REDIS_URL)
        apps.append(first)
        assert [register(first, f"shared{i}") for i in range(3)] == [201, 201, 201]
        assert redis.Redis.from_url(REDIS_URL).keys("LIMITS*")
        second = limited_app(database_url, redis_url=REDIS_URL)  # another worker starts
        apps.append(second)
        assert register(second, "shared3") == 429
        in_memory = limited_app(database_url)  # the same in memory starts from zero
        apps.append(in_memory)
        assert register(in_memory, "alone") == 201
    finally:
        redis.Redis.from_url(REDIS_URL).flushdb()
        for app in apps:
            app.extensions["ckad"].engine.dispose()
