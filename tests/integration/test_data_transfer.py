"""flask data export / import: SQLite to PostgreSQL and back, nothing lost or changed."""

from __future__ import annotations

import io

import pytest

from ckad_api import create_app
from ckad_api.adapters.data_transfer import TransferError, export_data, import_data, summary
from ckad_api.adapters.db import make_engine
from tests.conftest import prepare_database, settings_for


def populate(app) -> None:
    client = app.test_client()
    for name in ("ada", "bob"):
        token = client.post(
            "/api/v1/auth/register", json={"username": name, "password": "correct-horse-1"}
        ).get_json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        client.post(
            "/api/v1/reviews/basics-probe-traffic/answer",
            headers=headers,
            json={"answer": 1, "version": 0, "elapsed_ms": 1234},
        )
        client.post(
            "/api/v1/reviews/basics-pod-smallest/answer",
            headers=headers,
            json={"answer": False, "version": 0},
        )
        client.post("/api/v1/reviews/basics-pod-smallest/undo", headers=headers, json={})
        client.post(
            "/api/v1/labs/web/verify",
            headers=headers,
            json={
                "source": "manifests",
                "manifests": "kind: Pod\napiVersion: v1\nmetadata: {name: a}\n",
            },
        )
        conversation = client.post("/api/v1/chat/conversations", headers=headers).get_json()
        client.post(
            f"/api/v1/chat/conversations/{conversation['id']}/messages",
            headers=headers,
            json={"text": "quiz me 2 questions"},
        )


@pytest.mark.postgres
def test_sqlite_to_postgresql_and_back(tmp_path, pg_server):
    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    prepare_database(source_url)
    app = create_app(settings_for(source_url))
    populate(app)
    app.extensions["ckad"].engine.dispose()

    source = make_engine(source_url)
    buffer = io.StringIO()
    exported = export_data(source, buffer)
    assert exported["learners"]["rows"] == 2 and exported["review_logs"]["rows"] == 4
    assert exported["conversation_messages"]["rows"] == 6

    pg_url = pg_server.create("ckad_transfer")
    try:
        prepare_database(pg_url)
        pg = make_engine(pg_url)
        import_data(pg, io.StringIO(buffer.getvalue()))
        assert summary(pg) == summary(source)
        # The sequences moved on: a new learner after the import gets a fresh id.
        app_pg = create_app(settings_for(pg_url))
        created = app_pg.test_client().post(
            "/api/v1/auth/register", json={"username": "carol", "password": "correct-horse-1"}
        )
        assert created.status_code == 201 and created.get_json()["learner"]["id"] == 3
        app_pg.extensions["ckad"].engine.dispose()

        back_buffer = io.StringIO()
        export_data(pg, back_buffer)
        back_url = f"sqlite:///{tmp_path / 'back.db'}"
        prepare_database(back_url)
        back = make_engine(back_url)
        import_data(back, io.StringIO(back_buffer.getvalue()))
        both = summary(back)
        assert both["review_logs"] == summary(source)["review_logs"]
        assert both["learners"]["rows"] == 3
        pg.dispose()
        back.dispose()
    finally:
        pg_server.drop(pg_url)
        source.dispose()


def test_refuses_non_empty_targets_and_truncated_files(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    prepare_database(url)
    app = create_app(settings_for(url))
    populate(app)
    app.extensions["ckad"].engine.dispose()
    engine = make_engine(url)
    buffer = io.StringIO()
    export_data(engine, buffer)
    before = summary(engine)
    with pytest.raises(TransferError, match="not empty"):
        import_data(engine, io.StringIO(buffer.getvalue()))
    assert summary(engine) == before

    fresh_url = f"sqlite:///{tmp_path / 'b.db'}"
    prepare_database(fresh_url)
    fresh = make_engine(fresh_url)
    truncated = "".join(buffer.getvalue().splitlines(keepends=True)[:-1])
    with pytest.raises(TransferError, match="truncated"):
        import_data(fresh, io.StringIO(truncated))
    assert all(t["rows"] == 0 for t in summary(fresh).values())
    with pytest.raises(TransferError, match="header"):
        import_data(fresh, io.StringIO(""))
    engine.dispose()
    fresh.dispose()


def test_cli_export_then_import(tmp_path):
    source_url = f"sqlite:///{tmp_path / 'cli-source.db'}"
    prepare_database(source_url)
    app = create_app(settings_for(source_url))
    populate(app)
    out = tmp_path / "export.jsonl"
    exported = app.test_cli_runner().invoke(args=["data", "export", str(out)])
    assert exported.exit_code == 0 and "review_logs" in exported.output
    target_url = f"sqlite:///{tmp_path / 'cli-target.db'}"
    prepare_database(target_url)
    target = create_app(settings_for(target_url))
    imported = target.test_cli_runner().invoke(args=["data", "import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert "checksum verified" in imported.output
    again = target.test_cli_runner().invoke(args=["data", "import", str(out)])
    assert again.exit_code == 1 and "not empty" in again.output
    for each in (app, target):
        each.extensions["ckad"].engine.dispose()
