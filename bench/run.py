"""The benchmark run: database, servers, load, report. `main()` is `python -m bench`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
import secrets
import signal
import sys
import time
from typing import Any

from . import report
from .config import (
    DB_PATH,
    OUT_DIR,
    REAL_CONTENT,
    RESULTS_PATH,
    ROOT,
    TOKENS_PATH,
    BenchConfig,
    BenchConfigError,
)
from .cpu import CpuSampler
from .loadgen import LoadGenError, ensure_wrk, run_wrk, wrk_version
from .scenarios import BARE, SCENARIOS, SERVICE, Scenario, discover, preflight
from .seed import SeedError, database_url, migrate_and_load, remove_database, seed_learners
from .servers import GunicornServer, ServerError

EXIT_OK, EXIT_BROKEN, EXIT_SETUP = 0, 1, 2


def _say(message: str = "") -> None:
    print(message, flush=True)


def _terminate(signum: int, _frame: Any) -> None:
    # SIGTERM would otherwise end Python without running `finally`, leaving servers behind.
    raise SystemExit(128 + signum)


def select_scenarios(config: BenchConfig) -> list[Scenario]:
    """The scenarios `BENCH_SCENARIOS` names (all by default); bare always, for the ratios."""
    if not config.scenarios:
        return list(SCENARIOS)
    known = {s.name for s in SCENARIOS}
    unknown = sorted(set(config.scenarios) - known)
    if unknown:
        raise BenchConfigError(
            f"BENCH_SCENARIOS names unknown scenario(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return [s for s in SCENARIOS if s.name in config.scenarios or s.server == BARE]


def server_env(content_dir: str) -> dict[str, str]:
    """The environment of the CLI and the service: production, a fresh secret, the bench DB.

    Inherited CKAD_* variables are dropped (the Makefile exports CKAD_DATABASE_URL for the
    developer's own database, which the benchmark must never touch).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAD_")}
    env.update(
        CKAD_ENV="production",
        # 36 random bytes -> 48 URL-safe characters; production refuses the dev secret.
        CKAD_SECRET_KEY=secrets.token_urlsafe(36),
        CKAD_DATABASE_URL=database_url(DB_PATH),
        CKAD_CONTENT_DIR=content_dir,
    )
    return env


def build_database(config: BenchConfig) -> dict[str, Any]:
    """A fresh bench database with the course and `config.learners` learners; its facts."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    remove_database(DB_PATH)
    env = server_env(str(REAL_CONTENT))
    t0 = time.monotonic()
    folder, loaded = migrate_and_load(env)
    if folder != REAL_CONTENT:
        _say(
            f"  NOTE: the real course in {REAL_CONTENT.relative_to(ROOT)}/ did not load; "
            f"benchmarking the test fixtures in {folder.relative_to(ROOT)}/ instead"
        )
    _say(f"  {loaded} from {folder.relative_to(ROOT)}/")
    t1 = time.monotonic()
    seed_learners(database_url(DB_PATH), config.learners, TOKENS_PATH)
    t2 = time.monotonic()
    _say(
        f"  migrated and loaded in {t1 - t0:.1f}s; {config.learners} learners and tokens "
        f"inserted in {t2 - t1:.1f}s"
    )
    return {
        "path": str(DB_PATH.relative_to(ROOT)),
        "content_dir": str(folder.relative_to(ROOT)),
        "content_fallback": folder != REAL_CONTENT,
        "content_loaded": loaded,
        "learners": config.learners,
    }


def measure(
    wrk: str,
    scenarios: list[Scenario],
    servers: dict[str, GunicornServer],
    config: BenchConfig,
) -> tuple[list[report.Measurement], list[str]]:
    """Preflight and warm up each scenario, then measure them in turn, `config.rounds` times.

    Rounds interleave the scenarios, so a neighbour's burst of CPU use lands on one round of
    several scenarios rather than on every round of one; each scenario keeps its median round.
    """
    token = TOKENS_PATH.read_text().split("\n", 1)[0]
    context = discover(servers[SERVICE].base_url, token)
    _say(f"  chapter {context['chapter_id']}, ETag {context['chapter_etag']}")
    problems: list[str] = []
    ready: list[Scenario] = []
    for template in scenarios:
        scenario = template.render(context)
        base_url = servers[scenario.server].base_url
        found = preflight(scenario, base_url, token)
        if found:
            problems.extend(found)
            _say(f"  {scenario.name}: skipped, preflight failed")
            continue
        if config.warmup_seconds:
            # Unmeasured: every worker builds its course view, search index and body cache
            # on first use; a steady state is what the numbers are about.
            run_wrk(wrk, scenario, base_url, TOKENS_PATH, config, config.warmup_seconds)
        ready.append(scenario)

    sampler = CpuSampler(s.pid for s in servers.values() if s.pid)
    runs: dict[str, list[report.Round]] = {s.name: [] for s in ready}
    for number in range(1, config.rounds + 1):
        for scenario in ready:
            server = servers[scenario.server]
            sampler.start()
            result = run_wrk(wrk, scenario, server.base_url, TOKENS_PATH, config, config.seconds)
            usage = sampler.stop()
            measured = report.Round.of(result, usage, server.pid)
            runs[scenario.name].append(measured)
            _say(
                f"  {f'round {number} ' if config.rounds > 1 else ''}{scenario.name:<12} "
                f"{result.requests_per_s:9.1f} req/s  p50 {result.p50_ms:6.2f} ms  "
                f"p99 {result.p99_ms:6.2f} ms  errors {result.errors}"
                + ("" if usage is None else f"  other cpu {usage.other_share:.0%}")
            )
            if result.errors:
                problems.append(
                    f"{scenario.name}: {result.non_2xx_3xx} non-2xx/3xx, "
                    f"{result.socket_errors} socket errors, {result.unexpected_status} "
                    f"unexpected statuses"
                )
    return [report.Measurement.of(s, runs[s.name]) for s in ready], problems


def main() -> int:
    """Run the whole benchmark; 0 when it measured, 1 when something broke, 2 on setup."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        config = BenchConfig.from_env()
        scenarios = select_scenarios(config)
    except BenchConfigError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return EXIT_SETUP
    try:
        wrk = ensure_wrk()
    except LoadGenError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return EXIT_SETUP
    started = dt.datetime.now(dt.UTC)
    _say(
        f"ckad-tutor bench: {config.learners} learners; wrk -t{config.threads} "
        f"-c{config.connections} -d{config.seconds}s (+{config.warmup_seconds}s warm-up); "
        f"gunicorn {config.workers} sync workers; {config.rounds} round(s); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )

    _say("== database")
    try:
        database = build_database(config)
    except (SeedError, OSError) as exc:
        print(f"bench: building the database failed: {exc}", file=sys.stderr)
        return EXIT_BROKEN

    service_env = server_env(database["content_dir"])
    bare_env = {k: v for k, v in service_env.items() if not k.startswith("CKAD_")}
    servers = {
        SERVICE: GunicornServer(
            SERVICE, "app:app", "/readyz", service_env, config.workers, OUT_DIR / "service.log"
        ),
        BARE: GunicornServer(
            BARE, "bench.bare:app", "/ping", bare_env, config.workers, OUT_DIR / "bare.log"
        ),
    }
    results: list[report.Measurement] = []
    problems: list[str] = []
    try:
        _say("== servers")
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready()
            _say(f"  {server.name} ready on {server.base_url} ({server.wsgi_app})")
        _say("== load")
        results, problems = measure(wrk, scenarios, servers, config)
    except (ServerError, LoadGenError, RuntimeError, OSError, ValueError, KeyError) as exc:
        problems.append(str(exc))
    finally:
        for server in servers.values():
            server.stop()

    table_rows = report.rows(results)
    verdicts: dict[str, bool] = {}
    if table_rows:
        _say("== results")
        _say(report.table(table_rows))
        _say()
        lines, verdicts = report.target_lines(table_rows)
        for line in lines:
            _say(line)
        noisy = report.noise_warning(table_rows, config.rounds)
        if noisy:
            _say()
            _say(noisy)
    report.write_json(
        RESULTS_PATH,
        {
            "started_at": started.isoformat(timespec="seconds"),
            "host": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_at_end": os.getloadavg()[0],
                "wrk": wrk_version(wrk),
            },
            "config": dataclasses.asdict(config),
            "database": database,
            "results": table_rows,
            "chapter_target": {"ratio": report.CHAPTER_TARGET_RATIO, "passed": verdicts},
            "problems": problems,
        },
    )
    _say(f"results written to {RESULTS_PATH.relative_to(ROOT)}")
    if problems:
        print("bench: something broke (the numbers above are not trustworthy):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BROKEN
    return EXIT_OK
