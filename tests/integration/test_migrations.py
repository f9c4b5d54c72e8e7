"""Migrations: empty -> head -> base on both databases, and models == migrations."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from ckad_api.adapters.db import make_engine
from ckad_api.adapters.orm import Base
from ckad_api.cli import alembic_config

TABLES = set(Base.metadata.tables)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    """An empty database of each kind, removed afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    server = request.getfixturevalue("pg_server")
    url = server.create("ckad_migrate")
    yield url
    server.drop(url)


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_to_head_then_downgrade_to_base(empty_database):
    cfg = alembic_config(empty_database)
    command.upgrade(cfg, "head")
    assert table_names(empty_database) == TABLES
    command.downgrade(cfg, "base")
    assert table_names(empty_database) == set()
    command.upgrade(cfg, "head")  # and back up again: downgrade left nothing behind
    assert table_names(empty_database) == TABLES


def test_models_and_migrations_agree(empty_database):
    command.upgrade(alembic_config(empty_database), "head")
    engine = make_engine(empty_database)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_each_migration_upgrades_and_downgrades_alone(empty_database):
    """Walk the chain one revision at a time: up, down, up again, then on to the next."""
    from alembic.script import ScriptDirectory

    cfg = alembic_config(empty_database)
    revisions = [s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()][::-1]
    assert len(revisions) >= 5
    previous = "base"
    for revision in revisions:
        command.upgrade(cfg, revision)
        after_up = table_names(empty_database)
        command.downgrade(cfg, previous)
        assert current_revision(empty_database) == (None if previous == "base" else previous)
        command.upgrade(cfg, revision)
        assert table_names(empty_database) == after_up, f"{revision}: down then up differs"
        previous = revision
    assert table_names(empty_database) == TABLES


def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


RACE_SCRIPT = """
import sys
from alembic import command
from ckad_api.cli import alembic_config
print("ready", flush=True)
sys.stdin.readline()  # every process waits here, then all start together
command.upgrade(alembic_config(sys.argv[1]), "head")
"""


def test_concurrent_upgrades_apply_each_revision_once(empty_database):
    """Three `upgrade head` at once on an empty database: all succeed, the schema is whole.

    Without the migration lock the losers fail with "table already exists" (or worse, two
    of them insert the version row).
    """
    import subprocess
    import sys

    from alembic.script import ScriptDirectory

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_SCRIPT, empty_database],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:  # imported and waiting at the barrier
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()[-2000:]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    head = ScriptDirectory.from_config(alembic_config(empty_database)).get_current_head()
    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    finally:
        engine.dispose()
    assert rows == [(head,)]
    assert table_names(empty_database) == TABLES
