"""Liveness and readiness."""

from __future__ import annotations

from ckad_api import create_app
from tests.conftest import settings_for


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "schema": "ok", "content": "ok"}


def test_readyz_is_503_without_content(tmp_path):
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'empty.db'}"))
    try:
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        client = app.test_client()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["content"] == "missing"
        assert client.get("/healthz").status_code == 200
        runner.invoke(args=["learner", "create", "ada", "--password", "correct-horse-1"])
        token = client.post(
            "/api/v1/auth/token", json={"username": "ada", "password": "correct-horse-1"}
        ).get_json()["access_token"]
        chapters = client.get("/api/v1/chapters", headers={"Authorization": f"Bearer {token}"})
        assert chapters.status_code == 503
    finally:
        app.extensions["ckad"].engine.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
    missing_dir = tmp_path / "no" / "such"
    app = create_app(settings_for(f"sqlite:///{missing_dir}/x.db"))
    try:
        missing_dir.rmdir()  # make_engine created it; now the file cannot be opened
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"] == {"database": "failing"}
    finally:
        app.extensions["ckad"].engine.dispose()


def test_readyz_is_503_until_the_schema_is_migrated_and_ok_when_ahead(tmp_path):
    """A pod is not ready on a database its migration Job has not brought to this code's head;
    a database a newer release already migrated (unknown revision) is fine."""
    from sqlalchemy import text

    app = create_app(settings_for(f"sqlite:///{tmp_path / 'schema.db'}"))
    engine = app.extensions["ckad"].engine
    client, runner = app.test_client(), app.test_cli_runner()
    try:
        never = client.get("/readyz")
        assert never.status_code == 503
        assert never.get_json()["checks"] == {"database": "ok", "schema": "missing"}
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert runner.invoke(args=["db", "downgrade", "--", "-1"]).exit_code == 0
        behind = client.get("/readyz")
        assert behind.status_code == 503
        assert behind.get_json()["checks"] == {"database": "ok", "schema": "behind"}
        assert "flask db upgrade" in behind.get_json()["detail"]
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert runner.invoke(args=["content", "load"]).exit_code == 0
        assert client.get("/readyz").status_code == 200
        with engine.begin() as conn:  # as if a newer release had migrated past our head
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
        assert client.get("/readyz").status_code == 200
    finally:
        engine.dispose()
