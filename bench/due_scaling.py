"""Due latency against database size: `python -m bench.due_scaling` (also run at the end of
`python -m bench` unless `BENCH_SKIP_SCALING=1`).

In-process, no HTTP: for each database shape (learners x cards per learner) it builds a
SQLite database with the real schema and course (`flask db upgrade`, `flask content load`,
the same fallbacks as the load benchmark), bulk-inserts the learners and their cards like
the load benchmark does. Then it builds one app per database with `create_app(Settings(...))`
and times `ReviewService.due(learner, 20)` (the service behind `GET /reviews/due?limit=20`)
for random learners, and separately the repository's due query alone: median and p95 of the
wall-clock latency, and the median CPU time of the calling thread (which other work on a
shared machine moves less). The databases are measured in turn, ten calls at a time, so a
burst of outside load lands on all of them alike.

The target: due latency at 1M cards at most `DUE_SCALING_TARGET` times its latency at 10k.
The largest database is compared with each smaller one. The default shapes give two
comparisons: `100x100` -> `3334x300` (the issue's example: 100 times the cards, but also 3
times the cards per learner, and the due path reads every due card of the learner) and
`34x300` -> `3334x300` (the same 300 cards per learner: only the database grew).

Environment variables (all optional):

- `BENCH_SCALING_SHAPES` (`100x100,34x300,3334x300`): comma-separated `LEARNERSxCARDS`.
- `BENCH_SCALING_CALLS` (300): timed calls per database (after 30 unmeasured ones).
- `BENCH_SCALING_BUDGET` (600): seconds for everything; a database not yet built when it
  runs out is skipped, and the timed calls stop at it (after at least 10 per database).
- `BENCH_SCALING_KEEP` (0): `1` keeps the databases under `bench/out/scaling/`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ckad_api import create_app
from ckad_api.adapters.db import make_engine
from ckad_api.config import Settings
from ckad_api.services.reviews import DUE_SCAN_LIMIT

from . import cards
from .config import DUE_SCALING_TARGET, OUT_DIR, REAL_CONTENT, ROOT, SCALING_RESULTS_PATH
from .seed import (
    SeedError,
    database_url,
    migrate_and_load,
    remove_database,
    seed_learners,
    server_env,
)

SCALING_DIR = OUT_DIR / "scaling"
DEFAULT_SHAPES = "100x100,34x300,3334x300"
DUE_LIMIT = 20  # what the `due` load scenario asks for
WARMUP_CALLS = 30
INTERLEAVE = 10  # calls on one database before moving to the next
SAMPLED_LEARNERS = 500  # learners loaded up front; each call picks one at random
EXIT_OK, EXIT_BROKEN, EXIT_SETUP = 0, 1, 2


class ScalingConfigError(ValueError):
    """A `BENCH_SCALING_*` variable is malformed."""


@dataclasses.dataclass(frozen=True)
class Shape:
    """A database: `learners` learners with `per_learner` cards each."""

    learners: int
    per_learner: int

    @property
    def name(self) -> str:
        return f"{self.learners}x{self.per_learner}"

    @property
    def cards(self) -> int:
        return self.learners * self.per_learner


@dataclasses.dataclass(frozen=True)
class ScalingConfig:
    """What to build and how long to measure."""

    shapes: tuple[Shape, ...]
    calls: int = 300
    budget: float = 600.0
    keep: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ScalingConfig:
        """Read the `BENCH_SCALING_*` variables; unset or empty ones keep their defaults."""
        e = os.environ if environ is None else environ
        shapes = []
        for item in (e.get("BENCH_SCALING_SHAPES", "").strip() or DEFAULT_SHAPES).split(","):
            learners, _, per = item.strip().lower().partition("x")
            try:
                shape = Shape(int(learners), int(per))
            except ValueError:
                raise ScalingConfigError(
                    f"BENCH_SCALING_SHAPES items are LEARNERSxCARDS, got {item!r}"
                ) from None
            if shape.learners < 1 or shape.per_learner < 1:
                raise ScalingConfigError(f"BENCH_SCALING_SHAPES: {item!r} has no card")
            shapes.append(shape)
        if len(shapes) < 2:
            raise ScalingConfigError("BENCH_SCALING_SHAPES needs at least two shapes to compare")
        values: dict[str, Any] = {"shapes": tuple(shapes)}
        for var, field, kind, minimum in (
            ("BENCH_SCALING_CALLS", "calls", int, 10),
            ("BENCH_SCALING_BUDGET", "budget", float, 10),
        ):
            raw = e.get(var, "").strip()
            if not raw:
                continue
            try:
                number = kind(raw)
            except ValueError:
                raise ScalingConfigError(f"{var} must be a number, got {raw!r}") from None
            if number < minimum:
                raise ScalingConfigError(f"{var} must be at least {minimum}, got {number}")
            values[field] = number
        values["keep"] = e.get("BENCH_SCALING_KEEP", "").strip() not in ("", "0")
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class Timing:
    """Milliseconds of one timed operation over many calls."""

    calls: int
    median_ms: float
    p95_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timing:
        ms = sorted(s * 1000 for s in seconds)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return cls(len(ms), statistics.median(ms), p95)


@dataclasses.dataclass(frozen=True)
class ShapeResult:
    """One database's facts and timings."""

    shape: Shape
    cards: int
    due_now: int
    build_s: float
    service: Timing  # ReviewService.due(learner, 20), wall clock
    service_cpu: Timing  # the same calls, CPU time of this thread
    query: Timing  # the repository's due query alone, in a read unit of work
    due_cards_median: float  # due cards the query returned per learner (capped at the scan)


def _say(message: str = "") -> None:
    print(message, flush=True)


def template_database(path: Path) -> tuple[Path, str]:
    """A database with the schema and the course, copied for each shape."""
    remove_database(path)
    folder, loaded = migrate_and_load(server_env(str(REAL_CONTENT), path))
    return folder, loaded


def build(shape: Shape, template: Path, path: Path, now: dt.datetime) -> cards.CardsSeeded:
    """The shape's database: the template's copy plus learners and cards."""
    remove_database(path)
    shutil.copyfile(template, path)
    url = database_url(path)
    seed_learners(url, shape.learners, None)
    engine = make_engine(url)
    try:
        questions = cards.course_questions(engine)
        return cards.seed_cards(
            engine, range(1, shape.learners + 1), shape.per_learner, questions, now=now
        )
    finally:
        engine.dispose()


class Probe:
    """The app over one shape's database, and the timings of its due calls so far."""

    def __init__(self, path: Path, content_dir: Path, learner_count: int, seed: int):
        settings = Settings(
            env="production",
            database_url=database_url(path),
            secret_key=secrets.token_urlsafe(36),
            content_dir=content_dir,
        )
        self.services = create_app(settings).extensions["ckad"]
        self.rng = random.Random(seed)
        ids = self.rng.sample(range(1, learner_count + 1), min(learner_count, SAMPLED_LEARNERS))
        with self.services.read_uow() as uow:
            self.learners = [uow.learners.get(i) for i in ids]
        for learner in self.learners[:WARMUP_CALLS]:  # builds the course view, warms caches
            self.services.reviews.due(learner, DUE_LIMIT)
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.query: list[float] = []
        self.due_counts: list[int] = []

    def call(self) -> None:
        """One timed `ReviewService.due`, then the repository's due query alone."""
        learner = self.rng.choice(self.learners)
        reviews, clock = self.services.reviews, self.services.clock
        c0, t0 = time.thread_time(), time.perf_counter()
        reviews.due(learner, DUE_LIMIT)
        t1, c1 = time.perf_counter(), time.thread_time()
        with self.services.read_uow() as uow:
            rows = uow.reviews.due(learner.id, clock.now(), DUE_SCAN_LIMIT)
        t2 = time.perf_counter()
        self.wall.append(t1 - t0)
        self.cpu.append(c1 - c0)
        self.query.append(t2 - t1)
        self.due_counts.append(len(rows))

    def close(self) -> None:
        """Release the database (its file may be deleted next)."""
        self.services.engine.dispose()


def measure(probes: list[Probe], calls: int, deadline: float) -> None:
    """`calls` due calls per database, interleaved in batches of `INTERLEAVE`.

    Interleaving spreads a neighbour's burst of CPU use over every database alike rather
    than over one: the ratios stay fair on a shared machine. Stops at `deadline` once each
    database has at least 10 calls.
    """
    while any(len(p.wall) < calls for p in probes):
        if time.monotonic() > deadline and all(len(p.wall) >= 10 for p in probes):
            break
        for probe in probes:
            for _ in range(min(INTERLEAVE, calls - len(probe.wall))):
                probe.call()


def run(config: ScalingConfig) -> tuple[dict[str, Any], list[str]]:
    """Build every shape, then measure them together; the results and the problems found."""
    started = time.monotonic()
    deadline = started + config.budget
    SCALING_DIR.mkdir(parents=True, exist_ok=True)
    template = SCALING_DIR / "template.sqlite3"
    problems: list[str] = []
    results: list[ShapeResult] = []
    built: list[tuple[Shape, Path, cards.CardsSeeded, float]] = []
    probes: list[Probe] = []
    _say(f"== due scaling: {', '.join(s.name for s in config.shapes)}")
    try:
        folder, loaded = template_database(template)
        _say(f"  template: {loaded} from {folder.relative_to(ROOT)}/")
        for shape in config.shapes:
            if time.monotonic() >= deadline:
                problems.append(f"due scaling: no time left to build {shape.name} (budget)")
                continue
            path = SCALING_DIR / f"due-{shape.name}.sqlite3"
            t0 = time.monotonic()
            try:
                seeded = build(shape, template, path, dt.datetime.now(dt.UTC))
            except ValueError as exc:  # more cards per learner than the course has questions
                problems.append(f"due scaling: {shape.name}: {exc}")
                continue
            built.append((shape, path, seeded, time.monotonic() - t0))
            _say(
                f"  {shape.name:<10} {seeded.cards:>9,} cards ({seeded.due_now:,} due) built "
                f"in {time.monotonic() - t0:5.1f}s"
            )
        probes = [
            Probe(path, folder, shape.learners, seed=n)
            for n, (shape, path, _, _) in enumerate(built)
        ]
        measure(probes, config.calls, deadline)
        for (shape, _, seeded, seconds), probe in zip(built, probes, strict=True):
            results.append(
                ShapeResult(
                    shape,
                    seeded.cards,
                    seeded.due_now,
                    seconds,
                    Timing.of(probe.wall),
                    Timing.of(probe.cpu),
                    Timing.of(probe.query),
                    statistics.median(probe.due_counts),
                )
            )
    except SeedError as exc:
        problems.append(f"due scaling: {exc}")
    finally:
        for probe in probes:
            probe.close()
        if not config.keep:
            for _, path, _, _ in built:
                remove_database(path)
            remove_database(template)
    document = {
        "target": DUE_SCALING_TARGET,
        "seconds": round(time.monotonic() - started, 1),
        "config": {
            "shapes": [s.name for s in config.shapes],
            "calls": config.calls,
            "budget_s": config.budget,
        },
        "results": [_result_dict(r) for r in results],
        "comparisons": comparisons(results),
        "problems": problems,
    }
    return document, problems


def _result_dict(r: ShapeResult) -> dict[str, Any]:
    return {
        "shape": r.shape.name,
        "learners": r.shape.learners,
        "cards_per_learner": r.shape.per_learner,
        "cards": r.cards,
        "due_at_seeding": r.due_now,
        "due_cards_per_learner_median": r.due_cards_median,
        "build_s": round(r.build_s, 1),
        "service": dataclasses.asdict(r.service),
        "service_cpu": dataclasses.asdict(r.service_cpu),
        "query": dataclasses.asdict(r.query),
    }


def comparisons(results: list[ShapeResult]) -> list[dict[str, Any]]:
    """The largest database against each smaller one: latency ratios and the verdict."""
    if len(results) < 2:
        return []
    largest = max(results, key=lambda r: r.cards)
    out = []
    for small in results:
        if small is largest:
            continue
        median = largest.service.median_ms / small.service.median_ms
        p95 = largest.service.p95_ms / small.service.p95_ms
        cpu = largest.service_cpu.median_ms / small.service_cpu.median_ms
        out.append(
            {
                "large": largest.shape.name,
                "small": small.shape.name,
                "cards_ratio": round(largest.cards / small.cards, 1),
                "per_learner_ratio": round(largest.shape.per_learner / small.shape.per_learner, 2),
                "median_ratio": round(median, 2),
                "p95_ratio": round(p95, 2),
                "cpu_median_ratio": round(cpu, 2),
                "query_median_ratio": round(largest.query.median_ms / small.query.median_ms, 2),
                "passed": median <= DUE_SCALING_TARGET,
            }
        )
    return out


def report_lines(document: dict[str, Any]) -> list[str]:
    """The table of shapes and the target lines."""
    lines = [
        f"due latency: ReviewService.due(learner, {DUE_LIMIT}) in-process, random learners "
        f"(databases interleaved)",
        f"  {'database':<10} {'cards':>10} {'due/learner':>11} {'median ms':>9} {'p95 ms':>7} "
        f"{'cpu median':>10} {'query median':>12} {'query p95':>9} {'calls':>5}",
    ]
    for r in document["results"]:
        lines.append(
            f"  {r['shape']:<10} {r['cards']:>10,} {r['due_cards_per_learner_median']:>11.0f} "
            f"{r['service']['median_ms']:>9.2f} {r['service']['p95_ms']:>7.2f} "
            f"{r['service_cpu']['median_ms']:>10.2f} {r['query']['median_ms']:>12.2f} "
            f"{r['query']['p95_ms']:>9.2f} {r['service']['calls']:>5}"
        )
    lines.append(
        f"due scaling target: the largest database's median latency <= {DUE_SCALING_TARGET:.1f}x"
    )
    for c in document["comparisons"]:
        lines.append(
            f"  {c['large']} vs {c['small']:<8} ({c['cards_ratio']:g}x cards, "
            f"{c['per_learner_ratio']:g}x per learner): median {c['median_ratio']:.2f}x, "
            f"p95 {c['p95_ratio']:.2f}x, cpu {c['cpu_median_ratio']:.2f}x, query alone "
            f"{c['query_median_ratio']:.2f}x  {'PASS' if c['passed'] else 'FAIL'}"
        )
    return lines


def main() -> int:
    """`python -m bench.due_scaling`: 0 when measured, 1 when something broke, 2 on setup."""
    try:
        config = ScalingConfig.from_env()
    except ScalingConfigError as exc:
        print(f"bench.due_scaling: {exc}", file=sys.stderr)
        return EXIT_SETUP
    document, problems = run(config)
    for line in report_lines(document):
        _say(line)
    SCALING_RESULTS_PATH.write_text(json.dumps(document, indent=2) + "\n")
    _say(f"due scaling written to {SCALING_RESULTS_PATH.relative_to(ROOT)}")
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return EXIT_BROKEN if problems else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
