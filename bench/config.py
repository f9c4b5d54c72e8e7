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
WRK_SCRIPT = BENCH_DIR / "wrk_script.lua"
REAL_CONTENT = ROOT / "content"
FIXTURE_CONTENT = ROOT / "tests" / "fixtures" / "content"

# The target: a chapter read keeps at least this fraction of the bare app's rate.
CHAPTER_TARGET_RATIO = 0.60


class BenchConfigError(ValueError):
    """A `BENCH_*` variable is malformed."""


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    """How big the database is and how hard and long each scenario is loaded."""

    learners: int = 1000
    seconds: int = 10
    warmup_seconds: int = 2
    threads: int = 1
    connections: int = 8
    workers: int = 2
    rounds: int = 1
    scenarios: tuple[str, ...] = ()  # empty: every scenario

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BenchConfig:
        """Read the `BENCH_*` variables; unset or empty ones keep their defaults."""
        e = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for var, field, minimum in (
            ("BENCH_LEARNERS", "learners", 1),
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
        config = cls(**values)  # type: ignore[arg-type]
        if config.connections < config.threads:
            # wrk refuses fewer connections than threads; say so before starting servers.
            raise BenchConfigError("BENCH_CONNECTIONS must be at least BENCH_THREADS")
        return config
