"""The authorization matrix, built from the app's URL map so no new route escapes it.

Every route is tried as anonymous, as the learner who owns the objects, as another learner
and as an admin; object-level checks make sure guessing another learner's ids gets nothing.
"""

from __future__ import annotations

import pytest

from tests.conftest import make_admin

PUBLIC = {
    # the web app's pages and assets (it signs in through the API), and Slack's endpoint
    # (Slack's own signature check instead of a token)
    "/",
    "/web/<path:filename>",
    "/slack/events",
    "/healthz",
    "/metrics",
    "/readyz",
    "/openapi.json",
    "/docs",
    "/docs/assets/<path:filename>",
    "/api/v1/auth/register",
    "/api/v1/auth/token",
    "/static/<path:filename>",
}
# Routes whose objects belong to one learner: another learner must get 404, never the data.
OWNED = {"/api/v1/chat/conversations/<string:conversation_id>/messages"}
ADMIN_ONLY = {
    "/api/v1/admin/learners",
    "/api/v1/admin/learners/<int:learner_id>",
    "/api/v1/admin/learners/<int:learner_id>/progress",
}
BODIES = {
    ("/api/v1/me", "PATCH"): {"daily_goal": 20},
    ("/api/v1/admin/learners/<int:learner_id>", "PATCH"): {"namespace": "team-x"},
    ("/api/v1/reviews/<string:question_id>/answer", "POST"): {"answer": 1, "version": 0},
    ("/api/v1/reviews/<string:question_id>/undo", "POST"): {},
    ("/api/v1/labs/<string:lab_id>/verify", "POST"): {
        "source": "manifests",
        "manifests": "kind: Pod\n",
    },
    ("/api/v1/chat/conversations/<string:conversation_id>/messages", "POST"): {"text": "hi"},
    ("/api/v1/auth/register", "POST"): {"username": "newbie", "password": "correct-horse-1"},
    ("/api/v1/auth/token", "POST"): {"username": "owner", "password": "correct-horse-1"},
}
SKIP_AS_CALLER = {("/api/v1/auth/logout", "POST")}  # it would end the caller's session
# Opens only after the caller's first attempt at the lab (admins may always read it).
LOCKED = {"/api/v1/labs/<string:lab_id>/solution"}


@pytest.fixture
def world(app, api, client):
    owner = api.auth("owner")
    other = api.auth("other")
    admin = make_admin(app)
    conversation = client.post("/api/v1/chat/conversations", headers=owner).get_json()["id"]
    owner_id = client.get("/api/v1/me", headers=owner).get_json()["id"]
    params = {
        "chapter_id": "basics",
        "section_id": "basics-pods",
        "question_id": "basics-probe-traffic",
        "lab_id": "web",
        "conversation_id": conversation,
        "learner_id": owner_id,
        "filename": "swagger-ui.css",
    }
    return {"anonymous": {}, "owner": owner, "other": other, "admin": admin}, params


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def call(client, rule, method, params, headers):
    path = rule.rule
    for name, value in params.items():
        for kind in ("string", "int", "path"):
            path = path.replace(f"<{kind}:{name}>", str(value))
    body = BODIES.get((rule.rule, method))
    response = client.open(
        path,
        method=method,
        headers=headers,
        json=body if method in ("POST", "PATCH", "PUT") else None,
    )
    response.close()
    return response.status_code


def test_every_route_is_in_the_matrix(app, client, world):
    callers, params = world
    seen = 0
    for rule, method in routes(app):
        seen += 1
        status = call(client, rule, method, params, callers["anonymous"])
        if rule.rule in PUBLIC:
            assert status < 500 and status != 401, (rule.rule, method, status)
        else:
            assert status == 401, f"{method} {rule.rule} answers {status} to anonymous callers"
        if (rule.rule, method) in SKIP_AS_CALLER or rule.rule in PUBLIC:
            continue
        admin_status = call(client, rule, method, params, callers["admin"])
        owner_status = call(client, rule, method, params, callers["owner"])
        other_status = call(client, rule, method, params, callers["other"])
        if rule.rule in ADMIN_ONLY:
            assert owner_status == 403 and other_status == 403, (rule.rule, method)
            assert admin_status < 400, (rule.rule, method, admin_status)
            continue
        if rule.rule in LOCKED:
            assert (owner_status, other_status, admin_status) == (403, 403, 200), rule.rule
            continue
        assert owner_status < 500 and owner_status not in (401, 403), (
            rule.rule,
            method,
            owner_status,
        )
        if rule.rule in OWNED:
            assert other_status == 404, (rule.rule, method, other_status)
            assert admin_status == 404, "admins do not read learners' conversations either"
    assert seen >= 30


def test_no_learner_reads_another_learners_objects(app, client, world):
    callers, params = world
    owner, other = callers["owner"], callers["other"]
    client.post(
        "/api/v1/reviews/basics-probe-traffic/answer",
        headers=owner,
        json={"answer": 1, "version": 0},
    )
    client.post(
        "/api/v1/labs/web/verify",
        headers=owner,
        json={"source": "manifests", "manifests": "kind: Pod\nmetadata: {name: x}\n"},
    )
    assert client.get("/api/v1/reviews/history", headers=other).get_json()["items"] == []
    assert client.get("/api/v1/reviews/export", headers=other).get_data() == b""
    assert client.get("/api/v1/labs/web/attempts", headers=other).get_json()["items"] == []
    assert client.get("/api/v1/progress", headers=other).get_json()["cards_seen"] == 0
    undo = client.post("/api/v1/reviews/basics-probe-traffic/undo", headers=other, json={})
    assert undo.status_code == 404
    stolen = client.get(
        f"/api/v1/chat/conversations/{params['conversation_id']}/messages", headers=other
    )
    assert stolen.status_code == 404
    assert client.get("/api/v1/reviews/history", headers=owner).get_json()["items"]
