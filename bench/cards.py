"""Review cards at scale: FSRS states from a few template histories, bulk-inserted.

Replaying FSRS for 300,000 cards would take minutes; the states of real learners come from
a handful of typical histories anyway (a card answered right a few times, a lapse and a
relearn, a card still in learning). Each template history is replayed once through the
app's own `scheduling.review`, and every card row copies one template's state (templates
drawn by weight: most cards are in review, a few in (re)learning) with its dates shifted so
that its due date lands somewhere from `DUE_PAST_DAYS` ago to `DUE_FUTURE_DAYS` ahead: each
learner has overdue cards and cards not due yet (about a fifth due). A (re)learning card's
interval is minutes, so it is overdue: it went unanswered when its learner left. The due
count therefore stays steady for the minutes a benchmark runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, func, insert, select

from ckad_api.adapters.db import WRITE_OPTION
from ckad_api.adapters.orm import CardRow, QuestionRow, ReviewLogRow
from ckad_api.domain import scheduling
from ckad_api.domain.scheduling import CardState

CHUNK = 10_000  # rows per multi-row INSERT batch
DUE_PAST_DAYS = 5.0  # the most overdue card was due this long ago
DUE_FUTURE_DAYS = 45.0  # the furthest card is due this far ahead
SHORT_INTERVAL = dt.timedelta(days=1)  # a (re)learning step: such a card is overdue
LOGS_PER_LEARNER = 3  # review_logs rows per learner (the newest review of a few cards)
ANSWER_QUESTIONS_PER_LEARNER = 3  # single_choice cards per learner the `answer` scenario uses
ELAPSED_MS = 8000  # answer time logged (well under any question's expected time)
RETENTION = 0.9  # the learners' desired retention (the seeded default)

# (weight in percent, ratings 1 Again .. 4 Easy), each review taken when the card fell due.
TEMPLATE_HISTORIES: tuple[tuple[int, tuple[int, ...]], ...] = (
    (3, (3,)),  # learning, one step done
    (2, (1,)),  # learning, failed first time
    (8, (4,)),  # graduated straight away
    (12, (3, 3)),  # just graduated
    (14, (3, 3, 3)),
    (14, (3, 3, 3, 3)),
    (12, (3, 3, 3, 3, 3, 3)),  # mature
    (10, (4, 4, 4)),
    (10, (2, 3, 2, 3)),
    (3, (3, 3, 1)),  # lapsed: relearning
    (10, (3, 3, 3, 1, 3)),  # relearned
    (2, (3, 3, 3, 3, 1, 1)),  # relearning, failed again
)


@dataclasses.dataclass(frozen=True)
class Template:
    """A card's state after a replayed history, and the state before its last review."""

    weight: int
    before: CardState
    after: CardState
    rating: int  # of the last review
    span: dt.timedelta  # first review to last review
    interval: dt.timedelta  # last review to due


@dataclasses.dataclass(frozen=True)
class CourseQuestion:
    """A question of the loaded course that a card may be for."""

    id: str
    type: str
    answer: Any


@dataclasses.dataclass(frozen=True)
class AnswerTarget:
    """A seeded card the `answer` scenario answers: whose, which question, the right choice."""

    learner_id: int
    question_id: str
    answer: int
    version: int


@dataclasses.dataclass(frozen=True)
class CardsSeeded:
    """What `seed_cards` inserted."""

    cards: int
    due_now: int
    logs: int
    state_counts: dict[str, int]
    targets: list[AnswerTarget]


def templates(now: dt.datetime) -> list[Template]:
    """Replay every template history through FSRS (no fuzz: the same states every run)."""
    out = []
    for weight, history in TEMPLATE_HISTORIES:
        start = now - dt.timedelta(days=400)
        card, before, t = CardState(), CardState(), start
        for rating in history:
            before = card
            card = scheduling.review(card, rating, t, desired_retention=RETENTION, fuzz=False)
            t = card.due
        assert card.due is not None and card.last_review is not None
        out.append(
            Template(
                weight,
                before,
                card,
                history[-1],
                card.last_review - start,
                card.due - card.last_review,
            )
        )
    return out


def course_questions(engine: Engine) -> list[CourseQuestion]:
    """The loaded course's questions that are not retired, in a stable order."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(QuestionRow.id, QuestionRow.type, QuestionRow.answer)
            .where(QuestionRow.retired.is_(False))
            .order_by(QuestionRow.id)
        ).all()
    return [CourseQuestion(r.id, r.type, r.answer) for r in rows]


def _shifted(card: CardState, delta: dt.timedelta) -> CardState:
    return dataclasses.replace(
        card,
        due=card.due + delta if card.due else None,
        last_review=card.last_review + delta if card.last_review else None,
    )


def _card_rows(
    learner_ids: Sequence[int],
    per_learner: int,
    questions: Sequence[CourseQuestion],
    shapes: Sequence[Template],
    now: dt.datetime,
    rng: random.Random,
    first_id: int,
    targets: list[AnswerTarget],
    logs: list[dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """Card rows, learner by learner; fills `targets` and `logs` on the way."""
    card_id = first_id
    single = {q.id for q in questions if q.type == "single_choice"}
    by_id = {q.id: q for q in questions}
    ids = [q.id for q in questions]
    weighted = [shape for shape in shapes for _ in range(shape.weight)]  # rng.choice by weight
    for learner_id in learner_ids:
        picked = rng.sample(ids, per_learner)
        answerable = [qid for qid in picked if qid in single][:ANSWER_QUESTIONS_PER_LEARNER]
        targets.extend(
            AnswerTarget(learner_id, qid, int(by_id[qid].answer), 1) for qid in answerable
        )
        for n, question_id in enumerate(picked):
            shape = rng.choice(weighted)
            if shape.interval < SHORT_INTERVAL:
                due = now - dt.timedelta(days=rng.uniform(0, DUE_PAST_DAYS))
            else:
                offset = dt.timedelta(days=rng.uniform(-DUE_PAST_DAYS, DUE_FUTURE_DAYS))
                # Its last review may not be in the future: due at most one interval ahead.
                due = now + min(offset, shape.interval)
            last_review = due - shape.interval
            after = shape.after
            yield {
                "id": card_id,
                "learner_id": learner_id,
                "question_id": question_id,
                "state": after.state,
                "step": after.step,
                "stability": after.stability,
                "difficulty": after.difficulty,
                "due": due,
                "last_review": last_review,
                "reps": after.reps,
                "lapses": after.lapses,
                "version": 1,
                "introduced_at": last_review - shape.span,
                "updated_at": last_review,
            }
            if n < LOGS_PER_LEARNER:
                delta = due - after.due
                card = _shifted(after, delta)
                before = _shifted(shape.before, delta)
                q = by_id[question_id]
                correct = shape.rating > scheduling.RATINGS["again"]
                logs.append(
                    {
                        "learner_id": learner_id,
                        "card_id": card_id,
                        "question_id": question_id,
                        "rating": shape.rating,
                        "answer": q.answer if q.type == "single_choice" and correct else None,
                        "correct": correct,
                        "elapsed_ms": ELAPSED_MS,
                        "reviewed_at": last_review,
                        "state_before": None if before.is_new else before.to_dict(),
                        "state_after": card.to_dict(),
                        "undone_at": None,
                    }
                )
            card_id += 1


def seed_cards(
    engine: Engine,
    learner_ids: Sequence[int],
    per_learner: int,
    questions: Sequence[CourseQuestion],
    *,
    now: dt.datetime,
    seed: int = 1,
) -> CardsSeeded:
    """Insert `per_learner` cards (distinct questions) and a few review logs per learner.

    One transaction of `CHUNK`-row executemany INSERTs with SQLAlchemy Core: the rows go
    through the same column types (UTC timestamps) as the service's own writes.
    """
    if per_learner > len(questions):
        raise ValueError(f"{per_learner} cards per learner, but the course has {len(questions)}")
    rng = random.Random(seed)
    shapes = templates(now)
    targets: list[AnswerTarget] = []
    logs: list[dict[str, Any]] = []
    cards = due_now = 0
    states = dict.fromkeys(scheduling.STATE_NAMES.values(), 0)
    table = CardRow.__table__
    # The app's SQLite connections autocommit unless marked as writers (then BEGIN IMMEDIATE):
    # unmarked, every row would be a transaction of its own, 20 times slower.
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        first_id = (conn.execute(select(func.max(CardRow.id))).scalar() or 0) + 1
        rows = _card_rows(
            learner_ids, per_learner, questions, shapes, now, rng, first_id, targets, logs
        )
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            cards += 1
            due_now += row["due"] <= now
            states[scheduling.STATE_NAMES[row["state"]]] += 1
            if len(batch) == CHUNK:
                conn.execute(insert(table), batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
        for start in range(0, len(logs), CHUNK):
            conn.execute(insert(ReviewLogRow.__table__), logs[start : start + CHUNK])
    return CardsSeeded(cards, due_now, len(logs), states, targets)


def changed_versions(engine: Engine) -> dict[tuple[int, str], int]:
    """{(learner id, question id): version} of every card answered since it was seeded."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(CardRow.learner_id, CardRow.question_id, CardRow.version).where(
                CardRow.version != 1
            )
        ).all()
    return {(r.learner_id, r.question_id): r.version for r in rows}
