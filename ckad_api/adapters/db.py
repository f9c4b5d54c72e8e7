"""Engine and sessions: one pooled engine per app, SQLite tuned for several workers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

WRITE_OPTION = "ckad_write"


def make_engine(url: str) -> Engine:
    """Create the pooled engine for `url`.

    SQLite gets WAL (readers never block the writer), foreign keys on and a busy timeout
    (a second worker waits for the lock instead of failing with "database is locked").
    Transactions begin IMMEDIATE on write so two writers queue instead of deadlocking on
    a read-to-write lock upgrade.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"timeout": 30, "check_same_thread": False}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args=connect_args, pool_size=5, max_overflow=10)
        else:  # in-memory: one shared connection, or every checkout would see a new database
            engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            # Let SQLAlchemy, not the driver, decide when transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - exercised by every test
            # Writers take the write lock up front (queued by busy_timeout). Readers open no
            # transaction at all: each statement reads a consistent snapshot in autocommit
            # mode, which saves a BEGIN and a ROLLBACK on every authenticated request.
            if conn.get_execution_options().get(WRITE_OPTION):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)


def make_session_factories(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """Read and write session factories over one pool.

    Sessions keep loaded values after commit (results are returned after it). Write
    sessions mark their connections so SQLite starts them with BEGIN IMMEDIATE.
    """
    read = sessionmaker(engine, expire_on_commit=False)
    write = sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)
    return read, write
