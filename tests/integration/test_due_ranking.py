"""The due query ranks in SQL exactly as the domain ranks in Python, on both databases.

`GET /reviews/due` returns the cards most at risk first: lowest FSRS retrievability, then
earliest due, then oldest card. The repository sorts in SQL with its own expression per
database (whole elapsed days over stability); these tests compare its order with
`scheduling.retrievability` over cards made to land on the edges: whole days to the
microsecond, a microsecond either side, last reviews ahead of `now`, equal ratios.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import insert

from ckad_api.adapters.db import WRITE_OPTION
from ckad_api.adapters.orm import CardRow, LearnerRow
from ckad_api.domain import scheduling
from tests.conftest import FIXTURE_QUESTIONS

QUESTIONS = list(FIXTURE_QUESTIONS)
PROBES = {"basics-probe-traffic", "basics-probe-kinds", "basics-liveness-card"}
NOW = dt.datetime(2026, 3, 10, 9, 30, 15, 123456, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
US = dt.timedelta(microseconds=1)


def _elapsed_cases(now: dt.datetime) -> list[dt.datetime]:
    """Last reviews on and around whole days before `now`, and a few after it."""
    cases = []
    for days in (0, 1, 2, 3, 7, 30, 365):
        exact = now - days * DAY
        cases += [exact, exact + US, exact - US, exact - dt.timedelta(milliseconds=1) + US]
    cases += [now + US, now + dt.timedelta(hours=5), now + 2 * DAY]  # clock skew: 0 days
    return cases


def _cards(rng: random.Random, now: dt.datetime, learners: int) -> list[list[dict]]:
    """Seven card rows per learner, every one due at `now`."""
    reviews = _elapsed_cases(now)
    stabilities = [0.5, 1.0, 2.0, 2.5, 3.0, 10.0, 45.123456789, 0.001]
    out = []
    for _ in range(learners):
        rows = []
        for question_id in QUESTIONS:
            last_review = rng.choice(reviews)
            stability = rng.choice(stabilities)
            # Due anywhere up to now; several cards share a due time to test the tie on id.
            due = now - rng.choice([dt.timedelta(0), US, dt.timedelta(minutes=rng.randint(0, 3))])
            rows.append(
                {
                    "question_id": question_id,
                    "state": rng.choice([1, 2, 3]),
                    "step": None,
                    "stability": stability,
                    "difficulty": 5.0,
                    "due": due,
                    "last_review": last_review,
                    "reps": 3,
                    "lapses": 0,
                    "version": 1,
                    "introduced_at": now - 400 * DAY,
                    "updated_at": now - 400 * DAY,
                }
            )
        out.append(rows)
    return out


def _seed(services, per_learner: list[list[dict]]) -> list[int]:
    """Insert learners (ids returned) and their cards, in one transaction."""
    ids = list(range(9001, 9001 + len(per_learner)))
    engine = services.engine.execution_options(**{WRITE_OPTION: True})
    with engine.begin() as conn:
        conn.execute(
            insert(LearnerRow.__table__),
            [
                {
                    "id": learner_id,
                    "username": f"rank{learner_id}",
                    "password_hash": "-",
                    "role": "learner",
                    "timezone": "UTC",
                    "desired_retention": 0.9,
                    "new_cards_per_day": 20,
                    "daily_goal": 50,
                    "version": 1,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for learner_id in ids
            ],
        )
        conn.execute(
            insert(CardRow.__table__),
            [
                {"learner_id": learner_id, **row}
                for learner_id, rows in zip(ids, per_learner, strict=True)
                for row in rows
            ],
        )
    return ids


def _python_order(records, now: dt.datetime) -> list[str]:
    """The domain's ranking: lowest retrievability, then earliest due, then card id."""
    ranked = sorted(
        records, key=lambda r: (scheduling.retrievability(r.card, now), r.card.due, r.id)
    )
    return [r.question_id for r in ranked]


@pytest.mark.parametrize("now", [NOW, NOW.replace(microsecond=0)], ids=["micros", "whole-second"])
def test_sql_order_is_the_domain_retrievability_order(services, now):
    learner_ids = _seed(services, _cards(random.Random(5), now, learners=60))
    ties = 0
    with services.read_uow() as uow:
        for learner_id in learner_ids:
            every = uow.reviews.due(learner_id, now, 50)
            assert len(every) == len(QUESTIONS)
            assert [r.question_id for r in every] == _python_order(every, now)
            # LIMIT keeps the head of the same order.
            assert [r.question_id for r in uow.reviews.due(learner_id, now, 3)] == [
                r.question_id for r in every[:3]
            ]
            risks = [scheduling.retrievability(r.card, now) for r in every]
            ties += len(risks) - len(set(risks))
    assert ties > 0, "the data should exercise the tie-breaks (due, then id)"


def test_filters_in_sql_keep_the_order(services):
    (learner_id,) = _seed(services, _cards(random.Random(11), NOW, learners=1))
    with services.read_uow() as uow:
        every = uow.reviews.due(learner_id, NOW, 50)
        probes = uow.reviews.due(learner_id, NOW, 50, competency="observability/probes")
        chapter = uow.reviews.due(learner_id, NOW, 50, chapter="basics")
        both = uow.reviews.due(
            learner_id, NOW, 50, chapter="basics", competency="observability/probes"
        )
        none = uow.reviews.due(learner_id, NOW, 50, chapter="no-such-chapter")
    expected = [r.question_id for r in every if r.question_id in PROBES]
    assert [r.question_id for r in probes] == expected and len(expected) == len(PROBES)
    assert [r.question_id for r in both] == expected
    assert [r.question_id for r in chapter] == [r.question_id for r in every]
    assert none == []


def test_cards_not_due_or_new_are_not_ranked(services):
    rows = _cards(random.Random(3), NOW, learners=1)[0]
    rows[0]["due"] = NOW + US  # due a microsecond from now
    rows[1]["state"] = 0  # back to new (its only review was undone)
    (learner_id,) = _seed(services, [rows])
    with services.read_uow() as uow:
        ranked = uow.reviews.due(learner_id, NOW, 50)
    assert {r.question_id for r in ranked} == set(QUESTIONS[2:])


def test_a_question_the_loaded_course_does_not_serve_leaves_the_page_full(
    services, clock, monkeypatch
):
    """Between a content reload and the next course view the database and the view may
    disagree; the due list then ranks further instead of returning a short page."""
    (learner_id,) = _seed(services, [_cards(random.Random(8), NOW, learners=1)[0]])
    with services.read_uow() as uow:
        learner = uow.learners.get(learner_id)
        ranked = [r.question_id for r in uow.reviews.due(learner_id, NOW, 50)]
    view = services.content.view()
    hidden = ranked[0]
    monkeypatch.setattr(view, "questions", {k: v for k, v in view.questions.items() if k != hidden})
    clock.set(NOW)
    items = services.reviews.due(learner, 3)
    assert [i["question"]["id"] for i in items] == ranked[1:4]
    assert not any(i["new"] for i in items)


def test_elapsed_days_in_sql_are_whole_days_to_the_microsecond(services):
    """The SQL elapsed days equal Python's `timedelta.days` (floored, never below 0)."""
    from sqlalchemy import bindparam, select

    from ckad_api.adapters.orm import UTCDateTime
    from ckad_api.adapters.reviews_repo import _ElapsedDays

    now = bindparam("now", type_=UTCDateTime())
    last = bindparam("last", type_=UTCDateTime())
    query = select(_ElapsedDays(now, last))
    rng = random.Random(2)
    pairs = [(NOW, last) for last in _elapsed_cases(NOW)]
    for _ in range(200):
        start = NOW - dt.timedelta(
            seconds=rng.randint(0, 400 * 86400), microseconds=rng.randint(0, 999999)
        )
        gap = dt.timedelta(days=rng.randint(0, 60)) + rng.choice([dt.timedelta(0), US, -US])
        pairs.append((start + gap, start))
    with services.engine.connect() as conn:
        for when, last_review in pairs:
            got = conn.execute(query, {"now": when, "last": last_review}).scalar_one()
            assert got == max(0, (when - last_review).days), (when, last_review)
