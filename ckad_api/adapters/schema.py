"""Which migration the database is at, compared with the migrations this code ships.

Readiness uses it so that a pod never takes traffic on a database its migration Job has not
brought up to date yet. A database *ahead* of the code (a newer release migrated it while
this one still runs, mid-rollout) is fine: migrations only add what old code can ignore.
"""

from __future__ import annotations

import functools

from sqlalchemy import Engine

from ..config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(database_url: str | None = None):
    """An Alembic config for this project's migrations (and `database_url`, if given)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url is not None:
        # ConfigParser interpolation would eat '%' in passwords.
        cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


@functools.cache
def _known_revisions() -> tuple[str, frozenset[str]]:
    """(head, every revision) of the migrations shipped with this code."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    revisions = frozenset(s.revision for s in script.walk_revisions())
    return script.get_current_head(), revisions


class SchemaProbe:
    """Reads the database's revision (one query) and says whether this code can serve it."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def status(self) -> tuple[str, str | None, str]:
        """("ok" | "behind" | "missing", the database's revision, this code's head).

        Database errors propagate: the caller reports the database as failing.
        """
        from alembic.migration import MigrationContext

        head, known = _known_revisions()
        with self._engine.connect() as conn:
            # None when the version table is missing or empty: never migrated.
            revision = MigrationContext.configure(conn).get_current_revision()
        if revision is None:
            return "missing", None, head
        if revision == head or revision not in known:  # at head, or ahead of this code
            return "ok", revision, head
        return "behind", revision, head
