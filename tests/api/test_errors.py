"""Client mistakes get clear problem+json answers, never a 500 or a stack trace."""

from __future__ import annotations

import pytest

from ckad_api import create_app
from tests.conftest import settings_for


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].startswith("/problems/")
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_unknown_route_is_404_problem(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert_problem(client.get("/favicon.ico"), 404)


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/api/v1/auth/register")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_non_json_body_is_415(client):
    response = client.post(
        "/api/v1/auth/register",
        data="username=ada",
        content_type="application/x-www-form-urlencoded",
    )
    assert_problem(response, 415)


def test_malformed_and_deep_json_is_400(client):
    body = assert_problem(
        client.post("/api/v1/auth/register", data="{not json", content_type="application/json"), 400
    )
    assert body["errors"] == {"body": ["is not valid JSON"]}
    deep = "[" * 100_000 + "]" * 100_000
    assert_problem(
        client.post("/api/v1/auth/register", data=deep, content_type="application/json"), 400
    )
    invalid_utf8 = client.post(
        "/api/v1/auth/register", data=b'{"username": "\xff\xfe"}', content_type="application/json"
    )
    assert_problem(invalid_utf8, 400)


def test_json_that_is_not_an_object_is_400(client):
    body = assert_problem(client.post("/api/v1/auth/register", json=[1, 2]), 400)
    assert body["errors"]


def test_wrong_types_are_named(client):
    body = assert_problem(
        client.post("/api/v1/auth/register", json={"username": 5, "password": ["x"]}), 400
    )
    assert set(body["errors"]) == {"username", "password"}


def test_body_over_the_limit_is_413(database_url):
    app = create_app(settings_for(database_url, max_body_bytes=2048))
    try:
        client = app.test_client()
        response = client.post(
            "/api/v1/auth/register", data="{" + " " * 5000 + "}", content_type="application/json"
        )
        assert_problem(response, 413)
    finally:
        app.extensions["ckad"].engine.dispose()


def test_unexpected_failure_is_a_bare_500_problem(app, api, monkeypatch, caplog):
    headers = api.auth()

    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internals: SELECT password_hash FROM learners")

    monkeypatch.setattr(app.extensions["ckad"].content, "view", boom)
    response = app.test_client().get("/api/v1/chapters", headers=headers)
    body = assert_problem(response, 500)
    assert "SELECT" not in response.get_data(as_text=True)
    assert body["detail"] == "the server failed to handle the request; it has been logged"
    assert "secret internals" in caplog.text  # logged for operators, not shown to clients


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/auth/token"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response.headers


def test_cors_only_for_configured_origins(database_url):
    app = create_app(settings_for(database_url, cors_origins=("https://app.example.org",)))
    try:
        client = app.test_client()
        ok = client.get("/api/v1/chapters", headers={"Origin": "https://app.example.org"})
        assert ok.headers.get("Access-Control-Allow-Origin") == "https://app.example.org"
        other = client.get("/api/v1/chapters", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        app.extensions["ckad"].engine.dispose()
