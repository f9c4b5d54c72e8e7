"""Two processes writing one SQLite database never see "database is locked"."""

from __future__ import annotations

import multiprocessing as mp

from tests.conftest import settings_for


def _register_many(url: str, prefix: str, count: int, errors) -> None:
    from ckad_api import create_app

    app = create_app(settings_for(url))
    client = app.test_client()
    for i in range(count):
        response = client.post(
            "/api/v1/auth/register",
            json={"username": f"{prefix}-{i}", "password": "correct-horse-1"},
        )
        if response.status_code != 201:
            errors.put(f"{prefix}-{i}: {response.status_code} {response.get_data(as_text=True)}")
        token = client.post(
            "/api/v1/auth/token", json={"username": f"{prefix}-{i}", "password": "correct-horse-1"}
        )
        if token.status_code != 200:
            errors.put(f"token {prefix}-{i}: {token.status_code}")
    app.extensions["ckad"].engine.dispose()


def test_two_writer_processes_share_one_sqlite_file(sqlite_template, tmp_path):
    import shutil

    path = tmp_path / "shared.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    ctx = mp.get_context("spawn")
    errors = ctx.Queue()
    workers = [
        ctx.Process(target=_register_many, args=(url, f"w{n}", 40, errors)) for n in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == []
    import sqlite3

    with sqlite3.connect(path) as conn:
        assert conn.execute("select count(*) from learners").fetchone()[0] == 80
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
