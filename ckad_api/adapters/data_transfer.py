"""Move every learner's data between databases (SQLite to PostgreSQL and back).

`export_data` writes JSON lines: a header, then one line per row of each learner-owned
table in dependency order, then a footer with counts and a SHA-256 per table computed over
the rows in a canonical form. `import_data` loads such a file into a database whose schema
is at the same revision and whose course content is loaded (cards point at questions), in
one transaction, then recomputes counts and checksums from the database itself and refuses
to commit unless they match. Content is not exported: it is loaded from the files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Engine, func, select, text

from .db import WRITE_OPTION
from .orm import Base, UTCDateTime

FORMAT = "ckad-tutor-data"
FORMAT_VERSION = 1
# Learner-owned tables, parents before children (content tables come from the files).
TABLES = (
    "learners",
    "access_tokens",
    "cards",
    "review_logs",
    "lab_attempts",
    "conversations",
    "conversation_messages",
)


class TransferError(Exception):
    """The data could not be moved; nothing was written."""


def _tables() -> list[Any]:
    known = Base.metadata.tables
    # Tables added by later features (Slack identities...) join automatically when they
    # reference learners, after the tables above.
    extra = [
        t
        for name, t in known.items()
        if name not in TABLES
        and name not in _CONTENT
        and any(fk.column.table.name == "learners" for fk in t.foreign_keys)
    ]
    return [known[name] for name in TABLES if name in known] + extra


_CONTENT = {
    "content_state",
    "domains",
    "competencies",
    "chapters",
    "sections",
    "section_competencies",
    "questions",
    "question_competencies",
    "labs",
}


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def _canonical(row: dict[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), default=str).encode()


def _rows(conn, table) -> Iterator[dict[str, Any]]:
    pk = list(table.primary_key.columns)
    for row in conn.execute(select(table).order_by(*pk)).mappings():
        yield {k: _encode(v) for k, v in row.items()}


def summary(engine: Engine) -> dict[str, dict[str, Any]]:
    """Per table: row count and SHA-256 of the canonical rows."""
    out = {}
    with engine.connect() as conn:
        for table in _tables():
            digest = hashlib.sha256()
            count = 0
            for row in _rows(conn, table):
                digest.update(_canonical(row))
                count += 1
            out[table.name] = {"rows": count, "sha256": digest.hexdigest()}
    return out


def _revision(conn) -> str | None:
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - no version table means "not migrated"
        return None


def export_data(engine: Engine, out: IO[str]) -> dict[str, dict[str, Any]]:
    """Write every learner-owned row to `out`; returns the per-table summary."""
    with engine.connect() as conn:
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "revision": _revision(conn),
            "tables": [t.name for t in _tables()],
        }
        out.write(json.dumps({"header": header}) + "\n")
        totals: dict[str, dict[str, Any]] = {}
        for table in _tables():
            digest = hashlib.sha256()
            count = 0
            for row in _rows(conn, table):
                digest.update(_canonical(row))
                count += 1
                out.write(json.dumps({"t": table.name, "r": row}, default=str) + "\n")
            totals[table.name] = {"rows": count, "sha256": digest.hexdigest()}
    out.write(json.dumps({"footer": totals}) + "\n")
    return totals


def _decode(table, row: dict[str, Any]) -> dict[str, Any]:
    decoded = {}
    for name, value in row.items():
        column = table.columns[name]
        if isinstance(column.type, UTCDateTime) and isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        decoded[name] = value
    return decoded


def import_data(engine: Engine, source: IO[str], batch: int = 1000) -> dict[str, dict[str, Any]]:
    """Load an export into an empty database at the same revision, or raise TransferError."""
    lines = iter(source)
    try:
        header = json.loads(next(lines))["header"]
    except (StopIteration, KeyError, ValueError):
        raise TransferError("not a ckad-tutor export: the header line is missing") from None
    if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
        raise TransferError(f"unsupported export format {header.get('format')!r}")
    tables = {t.name: t for t in _tables()}
    footer = None
    # The write option makes SQLite open a real transaction (reads there run without one).
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        if _revision(conn) != header["revision"]:
            raise TransferError(
                f"the database is at revision {_revision(conn)!r}, the export "
                f"at {header['revision']!r}: migrate first"
            )
        for name in tables:
            if conn.execute(select(func.count()).select_from(tables[name])).scalar():
                raise TransferError(f"table {name} is not empty: import into a fresh database")
        pending: dict[str, list[dict[str, Any]]] = {}

        def flush(name: str) -> None:
            if pending.get(name):
                conn.execute(tables[name].insert(), pending[name])
                pending[name] = []

        current = None
        for line in lines:
            item = json.loads(line)
            if "footer" in item:
                footer = item["footer"]
                break
            name = item["t"]
            if name not in tables:
                raise TransferError(f"unknown table {name!r} in the export")
            if current and name != current:
                flush(current)
            current = name
            pending.setdefault(name, []).append(_decode(tables[name], item["r"]))
            if len(pending[name]) >= batch:
                flush(name)
        if current:
            flush(current)
        if footer is None:
            raise TransferError("the export is truncated: its footer is missing")
        if engine.dialect.name == "postgresql":
            _reset_sequences(conn, tables.values())
        # Verify inside the transaction: a mismatch rolls everything back.
        for name, expected in footer.items():
            digest = hashlib.sha256()
            count = 0
            for row in _rows(conn, tables[name]):
                digest.update(_canonical(row))
                count += 1
            if count != expected["rows"] or digest.hexdigest() != expected["sha256"]:
                raise TransferError(
                    f"table {name}: {count} rows read back for {expected['rows']} exported, "
                    "or their checksum differs: nothing was imported"
                )
    return footer


def _reset_sequences(conn, tables) -> None:
    """PostgreSQL: move each serial sequence past the imported ids."""
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or pk[0].type.python_type is not int:
            continue
        column = pk[0].name
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                f"COALESCE((SELECT MAX({column}) FROM {table.name}), 0) + 1, false)"
            )
        )
