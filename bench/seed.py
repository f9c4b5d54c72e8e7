"""Build the benchmark database: migrate, load the course, bulk-insert learners and tokens."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import insert

from ckad_api.adapters.db import make_engine
from ckad_api.adapters.orm import AccessTokenRow, LearnerRow
from ckad_api.services.accounts import TOKEN_BYTES, hash_token

from .config import FIXTURE_CONTENT, REAL_CONTENT, ROOT

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


def migrate_and_load(env: Mapping[str, str]) -> tuple[Path, str]:
    """`flask db upgrade`, then `flask content load` of the real course, else the fixtures.

    The real course is being written while this runs elsewhere and may not load; the test
    fixtures always do. Returns the content folder loaded and the loader's summary line.
    """
    upgraded = _flask(["db", "upgrade"], env)
    if upgraded.returncode != 0:
        raise SeedError(f"flask db upgrade failed:\n{upgraded.stderr.strip()}")
    failures = []
    for folder in (REAL_CONTENT, FIXTURE_CONTENT):
        loaded = _flask(["content", "load"], {**env, "CKAD_CONTENT_DIR": str(folder)})
        if loaded.returncode == 0:
            return folder, loaded.stdout.strip()
        problems = loaded.stderr.strip().splitlines() or ["(no output)"]
        failures.append(f"{folder}:\n  " + "\n  ".join(problems[-20:]))
        print(
            f"  flask content load failed for {folder.relative_to(ROOT)}: "
            f"{problems[-1]} (first: {problems[0]})",
            flush=True,
        )
    raise SeedError("flask content load failed for every content folder:\n" + "\n".join(failures))


def seed_learners(db_url: str, count: int, tokens_path: Path) -> None:
    """Insert `count` learners with one live token each; write the plain tokens, one a line.

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
        with engine.begin() as conn:
            for start in range(0, count, CHUNK):
                conn.execute(insert(LearnerRow.__table__), learners[start : start + CHUNK])
            for start in range(0, count, CHUNK):
                conn.execute(insert(AccessTokenRow.__table__), access[start : start + CHUNK])
    finally:
        engine.dispose()
    tokens_path.write_text("".join(f"{t}\n" for t in tokens))
    # Live credentials of a throwaway database, but credentials all the same.
    os.chmod(tokens_path, 0o600)
