"""Accounts: registration, tokens, logout, settings, admin routes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ckad_api.adapters.orm import AccessTokenRow, LearnerRow
from tests.conftest import make_admin


def test_register_returns_learner_and_working_token(api, client):
    body = api.register("ada", email="ada@example.org", display_name="Ada")
    assert body["learner"]["username"] == "ada"
    assert body["learner"]["namespace"] == "ckad-ada"
    assert body["learner"]["role"] == "learner"
    assert body["token_type"] == "Bearer"
    assert "password" not in body["learner"] and "password_hash" not in body["learner"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["email"] == "ada@example.org"


def test_password_and_token_are_stored_only_as_hashes(api, services):
    body = api.register("ada", "correct-horse-1")
    with services.engine.connect() as conn:
        row = conn.execute(select(LearnerRow.password_hash)).one()
        token_hash = conn.execute(select(AccessTokenRow.token_hash)).scalar_one()
    assert row.password_hash.startswith("$argon2id$")
    assert "correct-horse-1" not in row.password_hash
    assert token_hash != body["access_token"] and len(token_hash) == 64


def test_duplicate_username_is_409_and_creates_nothing(api, client, services):
    api.register("ada")
    response = client.post(
        "/api/v1/auth/register", json={"username": "ada", "password": "another-pass-2"}
    )
    assert response.status_code == 409
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem["errors"] == {"username": ["is already taken"]}
    with services.engine.connect() as conn:
        assert conn.execute(select(LearnerRow)).all().__len__() == 1


def test_registration_reports_every_bad_field(client, services):
    response = client.post(
        "/api/v1/auth/register", json={"username": "Bad Name", "password": "short", "email": "nope"}
    )
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert set(errors) == {"username", "password", "email"}
    with services.engine.connect() as conn:
        assert conn.execute(select(LearnerRow)).first() is None


def test_missing_and_unknown_fields_are_named(client):
    response = client.post("/api/v1/auth/register", json={"password": "x" * 12, "admin": True})
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert errors["username"] == ["Missing data for required field."]
    assert errors["admin"] == ["Unknown field."]


def test_token_with_good_and_bad_credentials(api, client):
    api.register("ada", "correct-horse-1")
    ok = client.post("/api/v1/auth/token", json={"username": "ada", "password": "correct-horse-1"})
    assert ok.status_code == 200
    assert ok.get_json()["expires_in"] > 0
    for creds in (
        {"username": "ada", "password": "wrong-password"},
        {"username": "nobody", "password": "correct-horse-1"},
    ):
        bad = client.post("/api/v1/auth/token", json=creds)
        assert bad.status_code == 401
        assert bad.get_json()["detail"] == "the username or password is wrong"


def test_logout_revokes_only_the_presented_token(api, client):
    first = api.auth("ada")
    second_token = client.post(
        "/api/v1/auth/token", json={"username": "ada", "password": "correct-horse-1"}
    ).get_json()["access_token"]
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    assert client.get("/api/v1/me", headers=first).status_code == 401
    other = client.get("/api/v1/me", headers={"Authorization": f"Bearer {second_token}"})
    assert other.status_code == 200


def test_expired_token_is_refused(api, client, services):
    headers = api.auth("ada")
    with services.engine.begin() as conn:
        conn.execute(
            AccessTokenRow.__table__.update().values(
                expires_at=services.clock.now() - dt.timedelta(seconds=1)
            )
        )
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_requests_without_or_with_garbage_tokens_are_401(client):
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer not-a-token"},
    ):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.mimetype == "application/problem+json"


def test_patch_me_changes_settings_and_bumps_version(api, client):
    headers = api.auth("ada")
    response = client.patch(
        "/api/v1/me",
        headers=headers,
        json={
            "timezone": "Europe/Paris",
            "desired_retention": 0.85,
            "new_cards_per_day": 15,
            "daily_goal": 30,
            "display_name": "Ada L.",
            "version": 1,
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["timezone"], body["desired_retention"], body["version"]) == (
        "Europe/Paris",
        0.85,
        2,
    )
    assert client.get("/api/v1/me", headers=headers).get_json()["new_cards_per_day"] == 15


def test_patch_me_rejects_out_of_range_values_and_changes_nothing(api, client):
    headers = api.auth("ada")
    response = client.patch(
        "/api/v1/me",
        headers=headers,
        json={
            "timezone": "Mars/Olympus",
            "desired_retention": 0.5,
            "new_cards_per_day": -1,
        },
    )
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {
        "timezone",
        "desired_retention",
        "new_cards_per_day",
    }
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert (me["timezone"], me["desired_retention"], me["version"]) == ("UTC", 0.9, 1)


def test_stale_version_is_409_with_current_state(api, client):
    headers = api.auth("ada")
    assert (
        client.patch(
            "/api/v1/me", headers=headers, json={"daily_goal": 10, "version": 1}
        ).status_code
        == 200
    )
    stale = client.patch("/api/v1/me", headers=headers, json={"daily_goal": 99, "version": 1})
    assert stale.status_code == 409
    current = stale.get_json()["current"]
    assert (current["daily_goal"], current["version"]) == (10, 2)


def test_admin_routes_refuse_learners(api, client):
    headers = api.auth("ada")
    assert client.get("/api/v1/admin/learners", headers=headers).status_code == 403
    response = client.patch("/api/v1/admin/learners/1", headers=headers, json={"role": "admin"})
    assert response.status_code == 403


def test_admin_lists_with_cursor_and_binds_namespace(app, api, client):
    admin = make_admin(app)
    ids = [api.register(f"learner{i}")["learner"]["id"] for i in range(3)]
    first = client.get("/api/v1/admin/learners?limit=2", headers=admin).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(
        f"/api/v1/admin/learners?limit=2&cursor={first['next_cursor']}", headers=admin
    ).get_json()
    seen = [x["id"] for x in first["items"] + second["items"]]
    assert seen == sorted(seen) and set(ids) <= set(seen) and second["next_cursor"] is None
    changed = client.patch(
        f"/api/v1/admin/learners/{ids[0]}", headers=admin, json={"namespace": "team-a"}
    )
    assert changed.status_code == 200
    assert changed.get_json()["namespace"] == "team-a"
    bad = client.patch(
        f"/api/v1/admin/learners/{ids[0]}", headers=admin, json={"namespace": "Not_A_Namespace"}
    )
    assert bad.status_code == 400 and "namespace" in bad.get_json()["errors"]
    missing = client.patch("/api/v1/admin/learners/999999", headers=admin, json={"role": "admin"})
    assert missing.status_code == 404


def test_bad_cursor_is_400(app, client):
    admin = make_admin(app)
    response = client.get("/api/v1/admin/learners?cursor=%%%", headers=admin)
    assert response.status_code == 400
    assert "cursor" in response.get_json()["errors"]


def test_cli_creates_learners_and_reports_errors(app):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["learner", "create", "bob", "--password", "bob-password-1"])
    assert ok.exit_code == 0 and "created learner bob" in ok.output
    dup = runner.invoke(args=["learner", "create", "bob", "--password", "bob-password-1"])
    assert dup.exit_code == 1 and "taken" in dup.output
