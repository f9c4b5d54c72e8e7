"""Build the benchmark database: migrate, load the course, bulk-insert learners and tokens."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import insert

from ckad_api.adapters.db import WRITE_OPTION, make_engine
from ckad_api.adapters.orm import AccessTokenRow, LearnerRow
from ckad_api.services.accounts import TOKEN_BYTES, hash_token

from .config import DB_PATH, FIXTURE_CONTENT, PARTIAL_CONTENT, REAL_CONTENT, ROOT

CLI_TIMEOUT = 300  # seconds; a migration or content load taking longer is broken
TOKEN_TTL = dt.timedelta(days=30)
CHUNK = 5000  # rows per INSERT batch: keeps memory flat for very large BENCH_LEARNERS


class SeedError(RuntimeError):
    """The database could not be built."""


def database_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite file at `path`."""
    return f"sqlite:///{path}"


def remove_database(path: Path) -> None:
    """Delete the SQLite file and its WAL side files, so every run starts fresh."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def server_env(content_dir: str, db: Path | str = DB_PATH) -> dict[str, str]:
    """The environment of the CLI and the service: production, a fresh secret, the bench DB.

    `db` is a SQLite file or a database URL.

    Inherited CKAD_* variables are dropped (the Makefile exports CKAD_DATABASE_URL for the
    developer's own database, which the benchmark must never touch).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAD_")}
    env.update(
        CKAD_ENV="production",
        # 36 random bytes -> 48 URL-safe characters; production refuses the dev secret.
        CKAD_SECRET_KEY=secrets.token_urlsafe(36),
        CKAD_DATABASE_URL=db if isinstance(db, str) else database_url(db),
        CKAD_CONTENT_DIR=content_dir,
    )
    return env


def _flask(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    # The real CLI in a child process, exactly as an operator runs it (`flask ...`).
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


PROBLEM_LINE = re.compile(r"^\S+:\d+: ")  # `path:line: what is wrong`, one per problem
LAB_FOLDER = re.compile(r"(?:^|/)labs/([^/:\s]+)")  # the loader names `<course>/labs/<lab>/...`


def broken_labs(output: list[str]) -> set[str] | None:
    """The lab folders a failed load blamed, or None when anything else was blamed too."""
    labs = set()
    for line in output:
        if not PROBLEM_LINE.match(line):
            continue
        found = LAB_FOLDER.search(line.split(":", 1)[0])
        if found is None:
            return None
        labs.add(found.group(1))
    return labs or None


def course_without_labs(labs: set[str], target: Path = PARTIAL_CONTENT) -> Path:
    """A copy of the real course without the named lab folders (being written elsewhere)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(
        REAL_CONTENT,
        target,
        ignore=lambda folder, names: [
            n for n in names if Path(folder).name == "labs" and n in labs
        ],
    )
    return target


def migrate_and_load(env: Mapping[str, str]) -> tuple[Path, str]:
    """`flask db upgrade`, then `flask content load` of the real course, else a fallback.

    The real course is being written while this runs elsewhere and may not load. When only
    some labs are to blame, a copy of the course without them is loaded (every chapter and
    question is still real, which the review scenarios need: 300 cards per learner); else
    the test fixtures, which always load. Returns the content folder loaded and the
    loader's summary line.
    """
    upgraded = _flask(["db", "upgrade"], env)
    if upgraded.returncode != 0:
        raise SeedError(f"flask db upgrade failed:\n{upgraded.stderr.strip()}")
    failures = []
    candidates = [REAL_CONTENT, FIXTURE_CONTENT]
    while candidates:
        folder = candidates.pop(0)
        loaded = _flask(["content", "load"], {**env, "CKAD_CONTENT_DIR": str(folder)})
        if loaded.returncode == 0:
            return folder, loaded.stdout.strip()
        problems = [
            ln for ln in loaded.stderr.strip().splitlines() if "nothing was loaded" not in ln
        ] or ["(no output)"]
        failures.append(f"{folder}:\n  " + "\n  ".join(problems[-20:]))
        print(
            f"  flask content load failed for {folder.relative_to(ROOT)}: "
            f"{problems[-1]} (first: {problems[0]})",
            flush=True,
        )
        labs = broken_labs(problems) if folder == REAL_CONTENT else None
        if labs:
            print(f"  retrying without the lab(s) {', '.join(sorted(labs))}", flush=True)
            candidates.insert(0, course_without_labs(labs))
    raise SeedError("flask content load failed for every content folder:\n" + "\n".join(failures))


PG_DATABASE = "ckad_bench"


def fresh_database(kind: str, postgres_url: str) -> str:
    """An empty database of `kind` ("sqlite" or "postgresql") for the benchmark; its URL.

    SQLite: the file DB_PATH, deleted first. PostgreSQL: the database `ckad_bench` on the
    server of `postgres_url`, dropped and created again (the URL's own database is only used
    to connect). Raises SeedError when the server does not answer.
    """
    if kind == "sqlite":
        remove_database(DB_PATH)
        return database_url(DB_PATH)
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(postgres_url).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    except Exception as exc:  # noqa: BLE001 - any connection problem: say which server
        raise SeedError(f"PostgreSQL at {admin_url.render_as_string()}: {exc}") from None
    finally:
        admin.dispose()
    return admin_url.set(database=PG_DATABASE).render_as_string(hide_password=False)


def sync_sequences(db_url: str) -> None:
    """Move PostgreSQL's id sequences past the ids the seeding inserted explicitly.

    The benchmark inserts learners and cards with chosen ids; without this the service's
    own inserts (a new card, a conversation) would collide with them. SQLite needs nothing.
    """
    if not db_url.startswith("postgresql"):
        return
    from sqlalchemy import text

    from ckad_api.adapters.orm import Base

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                column = table.c.get("id")
                if column is None or not column.primary_key or column.type.python_type is not int:
                    continue
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                    )
                )
    finally:
        engine.dispose()


def seed_learners(db_url: str, count: int, tokens_path: Path | None) -> list[str]:
    """Insert `count` learners (ids 1..count) with one live token each; the plain tokens.

    They are also written to `tokens_path` (unless None), one a line.

    Registration through the API would spend an argon2 hash per learner (about 50 ms each);
    the benchmark only needs rows that authenticate, so one hash is shared by every learner
    and rows go in with a few multi-row INSERTs in one transaction.
    """
    now = dt.datetime.now(dt.UTC)
    password_hash = PasswordHasher().hash(secrets.token_urlsafe(16))
    tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _ in range(count)]
    learners = [
        {
            "id": i,
            "username": f"bench{i:07d}",
            "email": None,
            "password_hash": password_hash,
            "display_name": None,
            "role": "learner",
            "timezone": "UTC",
            "desired_retention": 0.9,
            "new_cards_per_day": 20,
            "daily_goal": 50,
            "namespace": None,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, count + 1)
    ]
    access = [
        {
            "token_hash": hash_token(token),
            "learner_id": i,
            "created_at": now,
            "expires_at": now + TOKEN_TTL,
            "revoked_at": None,
        }
        for i, token in enumerate(tokens, start=1)
    ]
    engine = make_engine(db_url)
    try:
        # A writer's connection (BEGIN IMMEDIATE): otherwise every statement autocommits.
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
            for start in range(0, count, CHUNK):
                conn.execute(insert(LearnerRow.__table__), learners[start : start + CHUNK])
            for start in range(0, count, CHUNK):
                conn.execute(insert(AccessTokenRow.__table__), access[start : start + CHUNK])
    finally:
        engine.dispose()
    if tokens_path is not None:
        write_private(tokens_path, "".join(f"{t}\n" for t in tokens))
    return tokens


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner reads: live credentials of a throwaway database, but
    credentials all the same."""
    path.write_text(text)
    os.chmod(path, 0o600)
