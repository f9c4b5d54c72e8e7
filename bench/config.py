"""The benchmark's knobs, read from `BENCH_*` environment variables, and its paths."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
DB_PATH = OUT_DIR / "bench.sqlite3"
TOKENS_PATH = OUT_DIR / "tokens.txt"
RESULTS_PATH = OUT_DIR / "results.json"
ANSWERS_PATH = OUT_DIR / "answers.txt"  # the `answer` scenario's cards: token, question, ...
VERIFY_BODY_PATH = OUT_DIR / "verify_body.json"  # the `verify` scenario's request body
CHAT_REQUESTS_PATH = OUT_DIR / "chat_requests.txt"  # the `chat` scenario: TOKEN PATH a line
CHAT_BODIES_PATH = OUT_DIR / "chat_bodies.txt"  # the `chat` scenario's bodies, one a line
SOAK_RESULTS_PATH = OUT_DIR / "soak.json"
SCALING_RESULTS_PATH = OUT_DIR / "due_scaling.json"
WRK_SCRIPT = BENCH_DIR / "wrk_script.lua"
REAL_CONTENT = ROOT / "content"
PARTIAL_CONTENT = OUT_DIR / "content"  # the real course minus labs that do not load yet
FIXTURE_CONTENT = ROOT / "tests" / "fixtures" / "content"

# The issues' targets, as a fraction of the bare app's requests/s or as requests/s.
CHAPTER_TARGET_RATIO = 0.60  # a chapter read, with or without a matching ETag
DUE_TARGET_RATIO = 0.50  # GET /reviews/due?limit=20
ANSWER_TARGET_RATIO = 0.30  # POST /reviews/{id}/answer
VERIFY_TARGET_RPS = 100.0  # POST /labs/{id}/verify with 10 manifests, on 2 workers
CHAT_TARGET_RATIO = 0.40  # POST /chat/conversations/{id}/messages, a course question
# `python -m bench.due_scaling`: the due query at 1M cards at most this many times its 10k time.
DUE_SCALING_TARGET = 1.5


DATABASES = ("sqlite", "postgresql")


class BenchConfigError(ValueError):
    """A `BENCH_*` variable is malformed."""


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    """How big the database is and how hard and long each scenario is loaded."""

    learners: int = 1000
    cards_per_learner: int = 300
    seconds: int = 10
    warmup_seconds: int = 2
    threads: int = 1
    connections: int = 8
    workers: int = 2
    rounds: int = 1
    scenarios: tuple[str, ...] = ()  # empty: every scenario
    skip_scaling: bool = False  # BENCH_SKIP_SCALING=1: no `bench.due_scaling` at the end
    # Each database gets the whole run (its own build, servers and bare app, same scenarios).
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    # A PostgreSQL server's URL with the right to create databases; the benchmark makes and
    # drops its own `ckad_bench` database there (the one in the URL is never written).
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    # The PostgreSQL run shares rate-limit counters through Redis, as the `scaled` overlay
    # does; empty (BENCH_REDIS_URL=) keeps them in memory.
    redis_url: str = "redis://127.0.0.1:6379/14"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BenchConfig:
        """Read the `BENCH_*` variables; unset or empty ones keep their defaults."""
        e = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for var, field, minimum in (
            ("BENCH_LEARNERS", "learners", 1),
            ("BENCH_CARDS", "cards_per_learner", 0),
            ("BENCH_SECONDS", "seconds", 1),
            ("BENCH_WARMUP_SECONDS", "warmup_seconds", 0),
            ("BENCH_THREADS", "threads", 1),
            ("BENCH_CONNECTIONS", "connections", 1),
            ("BENCH_WORKERS", "workers", 1),
            ("BENCH_ROUNDS", "rounds", 1),
        ):
            raw = e.get(var, "").strip()
            if not raw:
                continue
            try:
                number = int(raw)
            except ValueError:
                raise BenchConfigError(f"{var} must be an integer, got {raw!r}") from None
            if number < minimum:
                raise BenchConfigError(f"{var} must be at least {minimum}, got {number}")
            values[field] = number
        names = e.get("BENCH_SCENARIOS", "")
        values["scenarios"] = tuple(n.strip() for n in names.split(",") if n.strip())
        values["skip_scaling"] = e.get("BENCH_SKIP_SCALING", "").strip() not in ("", "0")
        databases = tuple(d.strip() for d in e.get("BENCH_DATABASES", "").split(",") if d.strip())
        if databases:
            unknown = sorted(set(databases) - set(DATABASES))
            if unknown:
                raise BenchConfigError(
                    f"BENCH_DATABASES: unknown {', '.join(unknown)} (use {', '.join(DATABASES)})"
                )
            values["databases"] = databases
        if "BENCH_REDIS_URL" in e:
            values["redis_url"] = e["BENCH_REDIS_URL"].strip()
        if e.get("BENCH_POSTGRES_URL", "").strip():
            values["postgres_url"] = e["BENCH_POSTGRES_URL"].strip()
        config = cls(**values)  # type: ignore[arg-type]
        if config.connections < config.threads:
            # wrk refuses fewer connections than threads; say so before starting servers.
            raise BenchConfigError("BENCH_CONNECTIONS must be at least BENCH_THREADS")
        return config
