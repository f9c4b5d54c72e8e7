"""Prebuilt statements run straight on the driver, for the few hot paths that need it.

Building a SQLAlchemy statement and running it through Core or the ORM costs several times
what the database itself does for a one-row read or write; the review, chat and token hot
paths run every request. `Prepared` compiles a statement once per dialect and then only
converts parameters; `utc` and `from_json` read the driver's raw values back.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session


class Prepared:
    """A prebuilt statement run on the DBAPI cursor of the session's connection.

    Compiled once per dialect, then each call only converts its parameters and lets the
    driver run it, inside the unit of work's transaction (or on a bare pooled connection,
    `execute_on`, as the token lookup does). Parameters go through the column types' own
    bind processors, so values are stored and compared exactly as Core would bind them;
    rows come back as the driver's tuples (see `utc` for timestamps).
    """

    def __init__(self, statement: Any):
        self._statement = statement
        self._by_dialect: dict[tuple[str, str], tuple[str, bool, list[tuple[Any, ...]]]] = {}

    def _compiled(self, dialect: Any) -> tuple[str, bool, list[tuple[Any, ...]]]:
        key = (dialect.name, dialect.driver)
        entry = self._by_dialect.get(key)
        if entry is None:
            compiled = self._statement.compile(dialect=dialect)
            if compiled.literal_execute_params or compiled.post_compile_params:
                # Such parameters are rendered into the SQL at each execution: not here.
                raise NotImplementedError(f"{dialect.name} renders parameters into the SQL")
            names = compiled.positiontup if compiled.positional else list(compiled.binds)
            binds = []  # (name, required, value if not given, bind processor), in SQL order
            for name in names:
                bind = compiled.binds[name]
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                binds.append((name, bind.required, bind.effective_value, processor))
            entry = (str(compiled), compiled.positional, binds)
            self._by_dialect[key] = entry
        return entry

    def execute(self, session: Session, params: dict[str, Any]) -> Any:
        """Run with `params` in the session's transaction; the open DBAPI cursor (the caller
        fetches and closes it)."""
        connection = session.connection()
        return self.execute_on(connection.dialect, connection.connection, params)

    def execute_on(self, dialect: Any, dbapi_connection: Any, params: dict[str, Any]) -> Any:
        """Run with `params` on a driver connection (such as a pool's `raw_connection()`);
        the open DBAPI cursor, as `execute`."""
        sql, positional, binds = self._compiled(dialect)
        values = []
        for name, required, default, processor in binds:
            value = params[name] if required else params.get(name, default)
            values.append(processor(value) if processor else value)
        if not positional:
            values = dict(zip((b[0] for b in binds), values, strict=True))
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql, values)
        except BaseException:
            cursor.close()
            raise
        return cursor

    def all(self, session: Session, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, as the driver's tuples."""
        cursor = self.execute(session, params)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    def run(self, session: Session, params: dict[str, Any]) -> int:
        """Run a write; the number of rows it matched."""
        cursor = self.execute(session, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()


def utc(value: Any) -> dt.datetime | None:
    """A driver's timestamp as an aware UTC datetime (SQLite gives the text SQLAlchemy
    stored, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC; PostgreSQL an aware datetime)."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) <= 26:  # SQLAlchemy's text, without an offset: read it as UTC at once
            return dt.datetime.fromisoformat(value + "+00:00")
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def from_json(value: Any) -> Any:
    """A JSON column as the driver returns it: text on SQLite, decoded by psycopg."""
    return json.loads(value) if isinstance(value, str) else value
