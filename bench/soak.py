"""The soak: minutes of mixed traffic from hundreds of simulated learners, then an audit.

`python -m bench.soak` (or `make soak`) builds a database as `make bench` does, serves it
with gunicorn and runs simulated learners for `SOAK_SECONDS` (default 600). Each learner
reads chapters and sections, searches, looks at its due cards, answers its cards, asks the
tutor and verifies a lab, in a random mix. A learner belongs to one load thread, so its
answers never race each other: every 409 is a finding, not noise.

Then the audit. For every card the load answered, the number of review logs written since
the start must equal the answers that got a 200, and the card's version must have moved by
exactly that many: no review lost, none written twice. Any 5xx, any unexpected status and
any mismatch fails the run (exit 1). Answers whose outcome the generator could not see (a
timeout, a dropped connection) are counted and their cards left out of the strict check.

Knobs: SOAK_SECONDS (600), SOAK_LEARNERS (400), SOAK_THREADS (32), SOAK_DATABASE (sqlite or
postgresql; postgresql also shares rate limits through Redis, like the `scaled` overlay),
SOAK_WORKERS (gunicorn workers, 4), and BENCH_POSTGRES_URL / BENCH_REDIS_URL as for
`make bench`.
"""

from __future__ import annotations

import collections
import dataclasses
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse
from typing import Any

from sqlalchemy import func, select

from ckad_api.adapters.db import make_engine
from ckad_api.adapters.orm import CardRow, ReviewLogRow

from . import report
from .config import OUT_DIR, ROOT, SOAK_RESULTS_PATH, TOKENS_PATH, BenchConfig
from .run import build_database, service_environment
from .scenarios import CHAT_MESSAGES, SEARCH_QUERIES, discover
from .seed import SeedError
from .servers import GunicornServer, ServerError

# What a simulated learner does next, by weight.
ACTIONS = (
    ("chapter", 20),
    ("section", 10),
    ("search", 10),
    ("due", 20),
    ("answer", 25),
    ("chat", 10),
    ("verify", 5),
)
TIMEOUT = 30  # seconds per request: a slower answer is reported as lost, not waited for
PAUSE = (0.0, 0.05)  # a learner's think time between requests, seconds (uniform)


@dataclasses.dataclass
class Learner:
    """One simulated learner: its token, its cards and its conversation."""

    id: int
    token: str
    cards: list[list[Any]]  # [question id, right choice, version]
    conversation: str | None = None


@dataclasses.dataclass
class Tally:
    """What one load thread saw (merged at the end)."""

    statuses: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    latencies: dict[str, list[float]] = dataclasses.field(
        default_factory=lambda: collections.defaultdict(list)
    )
    answered: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    uncertain: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    conflicts: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)


class Client:
    """A keep-alive HTTP connection of one load thread."""

    def __init__(self, base_url: str):
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port = parsed.hostname, parsed.port
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, token: str, body: Any = None
    ) -> tuple[int, dict[str, Any] | None]:
        """Status and JSON body; raises OSError/HTTPException when the outcome is unknown."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        headers = {"Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        return response.status, payload


class Soak:
    """What every load thread's simulated learners do (the learners are the threads')."""

    def __init__(self, base_url: str, context: dict[str, str]):
        self.base_url = base_url
        self.context = context
        self.sections: list[str] = []
        body = OUT_DIR / "verify_body.json"  # written by discover() when a lab has a solution
        self.verify_body = json.loads(body.read_text()) if "lab_id" in context else None

    def run_thread(self, mine: list[Learner], deadline: float, seed: int) -> Tally:
        """Drive `mine` round-robin until `deadline`."""
        rng = random.Random(seed)
        client, tally = Client(self.base_url), Tally()
        names, weights = zip(*ACTIONS, strict=True)
        turn = 0
        while time.monotonic() < deadline:
            learner = mine[turn % len(mine)]
            turn += 1
            action = rng.choices(names, weights)[0]
            started = time.perf_counter()
            try:
                status = getattr(self, f"_{action}")(client, learner, rng, tally)
            except (OSError, http.client.HTTPException) as exc:
                tally.statuses[(action, "lost")] += 1
                tally.failures.append(f"{action}: {type(exc).__name__}: {exc}")
                continue
            tally.latencies[action].append(time.perf_counter() - started)
            tally.statuses[(action, status)] += 1
            time.sleep(rng.uniform(*PAUSE))
        return tally

    # -- actions: each returns the status it got --------------------------------------------
    def _chapter(self, client, learner, rng, tally) -> int:
        status, body = client.request("GET", "/api/v1/chapters", learner.token)
        if status == 200 and body and body["items"]:
            chapter = rng.choice(body["items"])["id"]
            status, body = client.request("GET", f"/api/v1/chapters/{chapter}", learner.token)
            if status == 200 and not self.sections:
                self.sections = [s["id"] for s in body.get("sections", []) if "id" in s]
        return status

    def _section(self, client, learner, rng, tally) -> int:
        if not self.sections:
            return self._chapter(client, learner, rng, tally)
        section = rng.choice(self.sections)
        return client.request("GET", f"/api/v1/sections/{section}", learner.token)[0]

    def _search(self, client, learner, rng, tally) -> int:
        query = urllib.parse.quote_plus(rng.choice(SEARCH_QUERIES))
        return client.request("GET", f"/api/v1/search?q={query}", learner.token)[0]

    def _due(self, client, learner, rng, tally) -> int:
        return client.request("GET", "/api/v1/reviews/due?limit=20", learner.token)[0]

    def _answer(self, client, learner, rng, tally) -> int:
        card = rng.choice(learner.cards)
        question, choice, version = card
        body = {"answer": choice, "version": version, "elapsed_ms": rng.randint(3000, 20000)}
        key = (learner.id, question)
        try:
            status, reply = client.request(
                "POST", f"/api/v1/reviews/{question}/answer", learner.token, body
            )
        except (OSError, http.client.HTTPException):
            tally.uncertain[key] += 1  # it may or may not have been recorded
            raise
        if status == 200:
            tally.answered[key] += 1
            card[2] = reply["card"]["version"]
        elif status == 409:
            tally.conflicts += 1  # only this thread answers this card: a real finding
            card[2] = reply["current"]["version"]
        return status

    def _chat(self, client, learner, rng, tally) -> int:
        if learner.conversation is None:
            status, body = client.request("POST", "/api/v1/chat/conversations", learner.token)
            if status != 201:
                return status
            learner.conversation = body["id"]
        path = f"/api/v1/chat/conversations/{learner.conversation}/messages"
        return client.request("POST", path, learner.token, {"text": rng.choice(CHAT_MESSAGES)})[0]

    def _verify(self, client, learner, rng, tally) -> int:
        lab = self.context.get("lab_id")
        if lab is None:
            return self._due(client, learner, rng, tally)
        path = f"/api/v1/labs/{lab}/verify"
        return client.request("POST", path, learner.token, self.verify_body)[0]


EXPECTED = {"chat": {200, 201}}  # every other action: 200


def audit(db_url: str, before: dict[tuple[int, str], tuple[int, int]], tally: Tally) -> dict:
    """Compare the database with what the load generator saw; the audit's findings."""
    engine = make_engine(db_url)
    try:
        after = card_counts(engine, list(before))
    finally:
        engine.dispose()
    checked = mismatches = 0
    examples: list[str] = []
    for key, (logs_before, version_before) in before.items():
        if tally.uncertain.get(key):
            continue
        ok = tally.answered.get(key, 0)
        logs_after, version_after = after[key]
        checked += 1
        if logs_after - logs_before != ok or version_after - version_before != ok:
            mismatches += 1
            if len(examples) < 10:
                examples.append(
                    f"learner {key[0]} card {key[1]}: {ok} answers succeeded, "
                    f"{logs_after - logs_before} review logs written, version moved "
                    f"{version_after - version_before}"
                )
    return {
        "cards_checked": checked,
        "cards_uncertain": sum(1 for k in before if tally.uncertain.get(k)),
        "answers_succeeded": sum(tally.answered.values()),
        "mismatches": mismatches,
        "examples": examples,
    }


def card_counts(engine, keys: list[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, int]]:
    """{(learner, question): (review logs, card version)} for the cards of `keys`."""
    learners = sorted({k[0] for k in keys})
    with engine.connect() as conn:
        versions = {
            (r.learner_id, r.question_id): r.version
            for r in conn.execute(
                select(CardRow.learner_id, CardRow.question_id, CardRow.version).where(
                    CardRow.learner_id.in_(learners)
                )
            )
        }
        logs = {
            (r.learner_id, r.question_id): r.n
            for r in conn.execute(
                select(
                    ReviewLogRow.learner_id,
                    ReviewLogRow.question_id,
                    func.count().label("n"),
                )
                .where(ReviewLogRow.learner_id.in_(learners))
                .group_by(ReviewLogRow.learner_id, ReviewLogRow.question_id)
            )
        }
    return {k: (logs.get(k, 0), versions[k]) for k in keys}


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def main() -> int:
    """Build, serve, load, audit; 0 when nothing failed and every review is there once."""
    seconds = _int_env("SOAK_SECONDS", 600)
    kind = os.environ.get("SOAK_DATABASE", "sqlite").strip() or "sqlite"
    threads = _int_env("SOAK_THREADS", 32)
    base = BenchConfig.from_env()
    config = dataclasses.replace(
        base,
        learners=_int_env("SOAK_LEARNERS", 400),
        cards_per_learner=30,
        workers=_int_env("SOAK_WORKERS", 4),
    )
    print(
        f"ckad-tutor soak: {config.learners} learners on {threads} threads for {seconds}s, "
        f"{kind}, gunicorn {config.workers} workers; {os.cpu_count()} CPUs",
        flush=True,
    )
    try:
        database, targets = build_database(config, kind)
    except (SeedError, OSError, ValueError) as exc:
        print(f"soak: building the database failed: {exc}", file=sys.stderr)
        return 1
    db_url = database["db_url"]
    env = service_environment(database, config)
    server = GunicornServer(
        "service", "app:app", "/readyz", env, config.workers, OUT_DIR / "soak-service.log"
    )
    tokens = TOKENS_PATH.read_text().split()
    by_learner: dict[int, list[list[Any]]] = collections.defaultdict(list)
    for t in targets:
        by_learner[t.learner_id].append([t.question_id, t.answer, t.version])
    learners = [Learner(i, tokens[i - 1], by_learner[i]) for i in sorted(by_learner)]
    engine = make_engine(db_url)
    try:
        before = card_counts(engine, [(t.learner_id, t.question_id) for t in targets])
    finally:
        engine.dispose()
    tallies: list[Tally] = []
    try:
        server.start()
        server.wait_ready()
        context = discover(server.base_url, tokens[0], ROOT / database["content_dir"])
        soak = Soak(server.base_url, context)
        deadline = time.monotonic() + seconds
        started = time.monotonic()
        results: list[Tally | None] = [None] * threads
        workers = []
        for n in range(threads):
            mine = learners[n::threads]

            def work(n=n, mine=mine):
                results[n] = soak.run_thread(mine, deadline, seed=n)

            workers.append(threading.Thread(target=work, name=f"soak-{n}"))
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.monotonic() - started
        tallies = [t for t in results if t is not None]
    except (ServerError, RuntimeError, OSError) as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()

    total = Tally()
    for t in tallies:
        total.statuses.update(t.statuses)
        for action, values in t.latencies.items():
            total.latencies[action].extend(values)
        total.answered.update(t.answered)
        total.uncertain.update(t.uncertain)
        total.conflicts += t.conflicts
        total.failures.extend(t.failures)
    found = audit(db_url, before, total)
    requests = sum(total.statuses.values())
    server_errors = sum(
        n for (_, s), n in total.statuses.items() if isinstance(s, int) and s >= 500
    )
    unexpected = {
        f"{a} {s}": n
        for (a, s), n in sorted(total.statuses.items(), key=str)
        if s not in EXPECTED.get(a, {200})
    }
    per_action = {
        action: {
            "requests": len(values),
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p99_ms": round(sorted(values)[int(len(values) * 0.99) - 1] * 1000, 1)
            if len(values) >= 100
            else None,
        }
        for action, values in sorted(total.latencies.items())
    }
    passed = not server_errors and not unexpected and not found["mismatches"]
    passed = passed and not total.conflicts and found["answers_succeeded"] > 0
    document = {
        "database": kind,
        "seconds": round(elapsed, 1),
        "learners": len(learners),
        "threads": threads,
        "workers": config.workers,
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "server_errors": server_errors,
        "unexpected_statuses": unexpected,
        "answer_conflicts": total.conflicts,
        "per_action": per_action,
        "audit": found,
        "failures": total.failures[:20],
        "passed": passed,
    }
    report.write_json(SOAK_RESULTS_PATH, document)
    print(f"== soak: {requests} requests in {elapsed:.0f}s ({requests / elapsed:.1f} req/s)")
    for action, figures in per_action.items():
        p99 = figures["p99_ms"]
        print(
            f"  {action:<8} {figures['requests']:7d} requests  p50 {figures['p50_ms']:7.1f} ms"
            + (f"  p99 {p99:7.1f} ms" if p99 is not None else "")
        )
    print(
        f"  5xx: {server_errors}; unexpected statuses: {unexpected or 'none'}; lost: "
        f"{sum(n for (_, s), n in total.statuses.items() if s == 'lost')}; "
        f"answer 409s: {total.conflicts}"
    )
    print(
        f"  audit: {found['answers_succeeded']} answers succeeded; {found['cards_checked']} "
        f"cards checked, {found['mismatches']} mismatches, {found['cards_uncertain']} left "
        "out (outcome unknown)"
    )
    for example in found["examples"]:
        print(f"    {example}")
    print(f"soak {'PASS' if passed else 'FAIL'}; written to {SOAK_RESULTS_PATH.relative_to(ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
