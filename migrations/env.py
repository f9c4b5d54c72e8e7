"""Alembic environment: targets the ORM metadata; the URL comes from the app's settings."""

from __future__ import annotations

from alembic import context

from ckad_api.adapters.db import WRITE_OPTION, make_engine
from ckad_api.adapters.orm import Base
from ckad_api.config import Settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    """Emit SQL without a database connection."""
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the database; SQLite uses batch mode so ALTERs work there too."""
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(_url())
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


# Any constant both sides agree on: it names "ckad-tutor's migrations" among the database's
# advisory locks.
MIGRATION_LOCK_ID = 0x636B6164  # "ckad"


def _run(connection) -> None:
    """Run the migrations in one transaction that holds the database's migration lock.

    Two `flask db upgrade` at once (the migration Job and an operator, or the Jobs of two
    rollouts) must not both apply a revision. The lock is taken before Alembic reads the
    current revision, so the second waits, then finds the database at head and does
    nothing. PostgreSQL: a transaction-scoped advisory lock. SQLite: BEGIN IMMEDIATE, its
    one write lock (queued by the busy timeout). Either way a failed migration leaves
    nothing half applied.
    """
    if connection.in_transaction():  # the caller's transaction (tests): the caller commits
        _migrate(connection)
        return
    if connection.dialect.name == "sqlite":
        connection.execution_options(**{WRITE_OPTION: True})  # our engine: BEGIN IMMEDIATE
    with connection.begin():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        _migrate(connection)


def _migrate(connection) -> None:
    # Inside an external transaction Alembic opens none of its own.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
