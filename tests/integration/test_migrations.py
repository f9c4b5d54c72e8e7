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
