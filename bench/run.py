"""The benchmark run: database, servers, load, report. `main()` is `python -m bench`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ckad_api.adapters.db import make_engine

from . import cards, due_scaling, report
from .config import (
    ANSWERS_PATH,
    DB_PATH,
    OUT_DIR,
    REAL_CONTENT,
    RESULTS_PATH,
    ROOT,
    SCALING_RESULTS_PATH,
    TOKENS_PATH,
    BenchConfig,
    BenchConfigError,
)
from .cpu import CpuSampler
from .loadgen import LoadGenError, WrkResult, ensure_wrk, run_wrk, wrk_version
from .scenarios import (
    BARE,
    FLOOR,
    SCENARIOS,
    SERVICE,
    Scenario,
    answer_lines,
    discover,
    open_conversations,
    preflight,
)
from .seed import (
    SeedError,
    fresh_database,
    migrate_and_load,
    seed_learners,
    server_env,
    sync_sequences,
    write_private,
)
from .servers import GunicornServer, ServerError

# More 409s than this share of an answer run's requests means the versions were not tracked.
CONFLICT_SHARE = 0.01

EXIT_OK, EXIT_BROKEN, EXIT_SETUP = 0, 1, 2


def _say(message: str = "") -> None:
    print(message, flush=True)


def _terminate(signum: int, _frame: Any) -> None:
    # SIGTERM would otherwise end Python without running `finally`, leaving servers behind.
    raise SystemExit(128 + signum)


def select_scenarios(config: BenchConfig) -> list[Scenario]:
    """The scenarios `BENCH_SCENARIOS` names (all by default), with bare and their floors."""
    if not config.scenarios:
        return list(SCENARIOS)
    known = {s.name for s in SCENARIOS}
    unknown = sorted(set(config.scenarios) - known)
    if unknown:
        raise BenchConfigError(
            f"BENCH_SCENARIOS names unknown scenario(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    wanted = set(config.scenarios)
    # bare for the ratios; a named scenario's floor, for what the stack allows it.
    return [s for s in SCENARIOS if s.name in wanted or s.server == BARE or s.floor_of in wanted]


def build_database(
    config: BenchConfig, kind: str
) -> tuple[dict[str, Any], list[cards.AnswerTarget]]:
    """A fresh bench database of `kind` with the course, learners and their cards; its facts
    and the cards the `answer` scenario answers."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    url = fresh_database(kind, config.postgres_url)
    env = server_env(str(REAL_CONTENT), url)
    t0 = time.monotonic()
    folder, loaded = migrate_and_load(env)
    if folder != REAL_CONTENT:
        _say(
            f"  NOTE: the real course in {REAL_CONTENT.relative_to(ROOT)}/ did not load; "
            f"benchmarking {folder.relative_to(ROOT)}/ instead"
        )
    _say(f"  {loaded} from {folder.relative_to(ROOT)}/")
    t1 = time.monotonic()
    tokens = seed_learners(url, config.learners, TOKENS_PATH)
    t2 = time.monotonic()
    engine = make_engine(url)
    try:
        questions = cards.course_questions(engine)
        per_learner = min(config.cards_per_learner, len(questions))
        if per_learner < config.cards_per_learner:
            _say(
                f"  NOTE: the course has {len(questions)} questions: {per_learner} cards per "
                f"learner instead of {config.cards_per_learner}"
            )
        seeded = cards.seed_cards(
            engine, range(1, config.learners + 1), per_learner, questions, now=_now()
        )
    finally:
        engine.dispose()
    sync_sequences(url)
    t3 = time.monotonic()
    _say(
        f"  migrated and loaded in {t1 - t0:.1f}s; {config.learners} learners and tokens "
        f"inserted in {t2 - t1:.1f}s; {seeded.cards} cards ({seeded.due_now} due now; "
        + ", ".join(f"{n} {state}" for state, n in seeded.state_counts.items() if n)
        + f") and {seeded.logs} review logs in {t3 - t2:.1f}s"
    )
    write_answers(seeded.targets, tokens, {})
    return {
        "kind": kind,
        "db_url": url,
        "url": url if kind != "sqlite" else str(DB_PATH.relative_to(ROOT)),
        "content_dir": str(folder.relative_to(ROOT)),
        "content_fallback": folder != REAL_CONTENT,
        "content_loaded": loaded,
        "questions": len(questions),
        "learners": config.learners,
        "cards": seeded.cards,
        "cards_per_learner": per_learner,
        "cards_due_at_seeding": seeded.due_now,
        "card_states": seeded.state_counts,
        "review_logs": seeded.logs,
        "answer_cards": len(seeded.targets),
        "seconds": {
            "migrate_and_load": round(t1 - t0, 1),
            "learners": round(t2 - t1, 1),
            "cards": round(t3 - t2, 1),
        },
    }, seeded.targets


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def write_answers(
    targets: list[cards.AnswerTarget], tokens: list[str], versions: dict[tuple[int, str], int]
) -> None:
    """The `answer` scenario's card file, with each card's version from `versions` if there."""
    write_private(
        ANSWERS_PATH,
        answer_lines(
            [
                (
                    tokens[t.learner_id - 1],
                    t.question_id,
                    t.answer,
                    versions.get((t.learner_id, t.question_id), t.version),
                )
                for t in targets
            ]
        ),
    )


def refresh_answers(targets: list[cards.AnswerTarget], tokens: list[str], url: str) -> None:
    """Rewrite the card file with the versions in the database now.

    Each wrk run starts from this file: the previous run's answers moved the versions on
    (and the answers still in flight when it stopped were never read back).
    """
    engine = make_engine(url)
    try:
        versions = cards.changed_versions(engine)
    finally:
        engine.dispose()
    write_answers(targets, tokens, versions)


def measure(
    wrk: str,
    scenarios: list[Scenario],
    servers: dict[str, GunicornServer],
    config: BenchConfig,
    content_dir: Path,
    targets: list[cards.AnswerTarget],
    db_url: str,
) -> tuple[list[report.Measurement], list[str]]:
    """Preflight and warm up each scenario, then measure them in turn, `config.rounds` times.

    Rounds interleave the scenarios, so a neighbour's burst of CPU use lands on one round of
    several scenarios rather than on every round of one; each scenario keeps its median round.
    """
    tokens = TOKENS_PATH.read_text().split()
    token = tokens[0]
    context = discover(servers[SERVICE].base_url, token, content_dir)
    context.update(open_conversations(servers[SERVICE].base_url, tokens))
    _say(
        f"  chapter {context['chapter_id']}, ETag {context['chapter_etag']}; lab "
        + (
            f"{context['lab_id']} (10 manifests from {_shown(context['lab_solution'])})"
            if "lab_id" in context
            else "none with a solution"
        )
    )

    def run(scenario: Scenario, seconds: int) -> WrkResult:
        if scenario.answers:
            refresh_answers(targets, tokens, db_url)
        base_url = servers[scenario.server].base_url
        return run_wrk(wrk, scenario, base_url, TOKENS_PATH, config, seconds)

    problems: list[str] = []
    ready: list[Scenario] = []
    for template in scenarios:
        scenario = template.render(context)
        if scenario.answers:
            refresh_answers(targets, tokens, db_url)
        found = preflight(scenario, servers[scenario.server].base_url, token)
        if found:
            problems.extend(found)
            _say(f"  {scenario.name}: skipped, preflight failed")
            continue
        if config.warmup_seconds:
            # Unmeasured: every worker builds its course view, search index and body cache
            # on first use; a steady state is what the numbers are about.
            run(scenario, config.warmup_seconds)
        ready.append(scenario)

    sampler = CpuSampler(s.pid for s in servers.values() if s.pid)
    runs: dict[str, list[report.Round]] = {s.name: [] for s in ready}
    for number in range(1, config.rounds + 1):
        for scenario in ready:
            server = servers[scenario.server]
            sampler.start()
            result = run(scenario, config.seconds)
            usage = sampler.stop()
            measured = report.Round.of(result, usage, server.pid)
            runs[scenario.name].append(measured)
            _say(
                f"  {f'round {number} ' if config.rounds > 1 else ''}{scenario.name:<12} "
                f"{result.requests_per_s:9.1f} req/s  p50 {result.p50_ms:6.2f} ms  "
                f"p99 {result.p99_ms:6.2f} ms  errors {result.errors}"
                + (f"  409s {result.conflicts}" if scenario.counts_conflicts else "")
                + ("" if usage is None else f"  other cpu {usage.other_share:.0%}")
            )
            if result.errors:
                problems.append(
                    f"{scenario.name}: {result.non_2xx_3xx} non-2xx/3xx, "
                    f"{result.socket_errors} socket errors, {result.unexpected_status} "
                    f"unexpected statuses"
                    + (f" ({result.conflicts} of them 409s)" if scenario.counts_conflicts else "")
                )
            too_many = result.conflicts > CONFLICT_SHARE * max(result.requests, 1)
            if scenario.requests_file is not None and too_many:
                problems.append(
                    f"{scenario.name}: {result.conflicts} of {result.requests} requests were "
                    "409: more than racing requests to one learner's object explain"
                )
            if scenario.answers and too_many:
                shared = result.raw.get("shared", 0)
                problems.append(
                    f"{scenario.name}: {result.conflicts} of {result.requests} answers were "
                    "409 (stale version): the script lost track of the cards' versions"
                    + (
                        f"; {shared} requests shared a question id with one in flight (fewer "
                        "single_choice questions than connections: a fixture course?)"
                        if shared
                        else ""
                    )
                )
    return [report.Measurement.of(s, runs[s.name]) for s in ready], problems


def service_environment(database: dict[str, Any], config: BenchConfig) -> dict[str, str]:
    """The service's environment for a database `build_database` made.

    On PostgreSQL it is the `scaled` overlay's setup: rate-limit counters shared through Redis.
    """
    env = server_env(database["content_dir"], database["db_url"])
    if database["kind"] == "postgresql" and config.redis_url:
        env["CKAD_REDIS_URL"] = config.redis_url
    return env


def run_database(
    kind: str, config: BenchConfig, scenarios: list[Scenario], wrk: str
) -> dict[str, Any]:
    """Build a database of `kind`, serve it, load every scenario; the run's JSON document."""
    _say(f"== database: {kind}")
    problems: list[str] = []
    try:
        database, targets = build_database(config, kind)
    except (SeedError, OSError, ValueError) as exc:
        _say(f"  building the {kind} database failed: {exc}")
        return {
            "database": kind,
            "problems": [f"building the database failed: {exc}"],
            "results": [],
            "targets_passed": {},
        }
    service_env = service_environment(database, config)
    bare_env = {k: v for k, v in service_env.items() if not k.startswith("CKAD_")}
    servers = {
        SERVICE: GunicornServer(
            SERVICE,
            "app:app",
            "/readyz",
            service_env,
            config.workers,
            OUT_DIR / f"service-{kind}.log",
        ),
        BARE: GunicornServer(
            BARE, "bench.bare:app", "/ping", bare_env, config.workers, OUT_DIR / "bare.log"
        ),
    }
    if any(s.server == FLOOR for s in scenarios):
        servers[FLOOR] = GunicornServer(
            FLOOR,
            "bench.floor:create()",
            "/ping",
            service_env,
            config.workers,
            OUT_DIR / f"floor-{kind}.log",
        )
    results: list[report.Measurement] = []
    try:
        _say("== servers")
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready()
            _say(f"  {server.name} ready on {server.base_url} ({server.wsgi_app})")
        _say("== load")
        results, found = measure(
            wrk,
            scenarios,
            servers,
            config,
            ROOT / database["content_dir"],
            targets,
            database["db_url"],
        )
        problems.extend(found)
    except (ServerError, LoadGenError, RuntimeError, OSError, ValueError, KeyError) as exc:
        problems.append(str(exc))
    finally:
        for server in servers.values():
            server.stop()

    table_rows = report.rows(results)
    verdicts: dict[str, bool] = {}
    if table_rows:
        _say(f"== results: {kind}")
        _say(report.table(table_rows))
        _say()
        lines, verdicts = report.target_lines(table_rows)
        for line in lines:
            _say(line)
        noisy = report.noise_warning(table_rows, config.rounds)
        if noisy:
            _say()
            _say(noisy)
        _say()
    database.pop("db_url")
    return {
        "database": kind,
        "facts": database,
        "results": table_rows,
        "targets_passed": verdicts,
        "problems": problems,
    }


def run_scaling(problems: list[str]) -> dict[str, Any] | None:
    """`bench.due_scaling`, printed and written; its document (None when misconfigured)."""
    try:
        scaling_config = due_scaling.ScalingConfig.from_env()
    except due_scaling.ScalingConfigError as exc:
        problems.append(f"due scaling: {exc}")
        return None
    document, found = due_scaling.run(scaling_config)
    problems.extend(found)
    for line in due_scaling.report_lines(document):
        _say(line)
    report.write_json(SCALING_RESULTS_PATH, document)
    return document


def _shown(path: str) -> str:
    """`path` relative to the repository when it is inside it."""
    try:
        return str(Path(path).relative_to(ROOT))
    except ValueError:
        return path


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
        f"ckad-tutor bench: {config.learners} learners x {config.cards_per_learner} cards; "
        f"wrk -t{config.threads} "
        f"-c{config.connections} -d{config.seconds}s (+{config.warmup_seconds}s warm-up); "
        f"gunicorn {config.workers} sync workers; {config.rounds} round(s); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )

    runs: list[dict[str, Any]] = []
    problems: list[str] = []
    verdicts: dict[str, bool] = {}
    for kind in config.databases:
        run = run_database(kind, config, scenarios, wrk)
        runs.append(run)
        problems.extend(f"{kind}: {p}" for p in run["problems"])
        verdicts.update({f"{kind} {name}": ok for name, ok in run["targets_passed"].items()})
    scaling = None
    if not config.skip_scaling:
        # After the servers stopped: in-process, it would compete with them for the CPUs.
        _say()
        scaling = run_scaling(problems)
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
            "runs": runs,
            "targets_passed": verdicts,
            "due_scaling": scaling,
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
