"""FSRS scheduling wrapper and progress math, with fixed UTC datetimes."""

from __future__ import annotations

import datetime as dt

import fsrs
import pytest

from ckad_api.domain import progress
from ckad_api.domain.scheduling import (
    RATINGS,
    CardState,
    is_mastered,
    preview,
    retrievability,
    review,
)

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def test_new_card_reviews_follow_fsrs_learning_steps():
    card = review(CardState(), RATINGS["good"], T0, desired_retention=0.9, fuzz=False)
    assert card.state == 1 and card.reps == 1
    assert card.due - T0 == dt.timedelta(minutes=10)
    again = review(CardState(), RATINGS["again"], T0, desired_retention=0.9, fuzz=False)
    assert again.due - T0 == dt.timedelta(minutes=1)


def test_higher_retention_gives_shorter_intervals():
    card = CardState()
    now = T0
    for _ in range(4):
        card = review(card, RATINGS["good"], now, desired_retention=0.9, fuzz=False)
        now = card.due
    low = review(card, RATINGS["good"], now, desired_retention=0.8, fuzz=False)
    high = review(card, RATINGS["good"], now, desired_retention=0.97, fuzz=False)
    assert high.due < low.due


def test_lapses_count_again_on_review_cards():
    card = CardState()
    now = T0
    while card.state != 2:
        card = review(card, RATINGS["good"], now, desired_retention=0.9, fuzz=False)
        now = card.due
    lapsed = review(card, RATINGS["again"], now, desired_retention=0.9, fuzz=False)
    assert lapsed.lapses == 1 and lapsed.state == 3


def _cards_in_every_state() -> list[tuple[CardState, dt.datetime]]:
    """(card, when it is next reviewed): new, learning, review (on time and overdue),
    relearning."""
    out = [(CardState(), T0)]
    card, now = CardState(), T0
    for rating in (3, 3, 3, 4, 1, 3, 2):
        card = review(card, rating, now, desired_retention=0.9, fuzz=False)
        now = card.due
        out.append((card, now))
        out.append((card, now + dt.timedelta(days=9, hours=5)))  # late
    assert {c.state for c, _ in out} == {0, 1, 2, 3}
    return out


@pytest.mark.parametrize("retention", [0.8, 0.9, 0.97])
def test_preview_matches_review_without_fuzz_in_every_state(retention):
    for card, now in _cards_in_every_state():
        intervals = preview(card, now, desired_retention=retention)
        assert list(intervals) == ["again", "hard", "good", "easy"]
        for name, value in RATINGS.items():
            after = review(card, value, now, desired_retention=retention, fuzz=False)
            assert int((after.due - now).total_seconds()) == intervals[name], (card, name)


def test_retrievability_is_fsrs_own():
    scheduler = fsrs.Scheduler(desired_retention=0.9, enable_fuzzing=False)
    for card, now in _cards_in_every_state()[1:]:
        for later in (
            now,
            now + dt.timedelta(days=1, microseconds=-1),
            now + dt.timedelta(days=40),
        ):
            fsrs_card = fsrs.Card(
                card_id=1,
                state=fsrs.State(card.state),
                step=card.step,
                stability=card.stability,
                difficulty=card.difficulty,
                due=card.due,
                last_review=card.last_review,
            )
            assert retrievability(card, later) == scheduler.get_card_retrievability(
                fsrs_card, later
            )


def test_state_round_trips_through_dict():
    card = review(CardState(), RATINGS["easy"], T0, desired_retention=0.9, fuzz=False)
    assert CardState.from_dict(card.to_dict()) == card
    assert CardState.from_dict(None) == CardState()


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        review(CardState(), 3, T0.replace(tzinfo=None), desired_retention=0.9, fuzz=False)
    with pytest.raises(ValueError):
        review(CardState(), 5, T0, desired_retention=0.9, fuzz=False)


def test_retrievability_decays_and_mastery_needs_three_weeks():
    card = review(CardState(), RATINGS["easy"], T0, desired_retention=0.9, fuzz=False)
    r1 = retrievability(card, T0 + dt.timedelta(days=1))
    r30 = retrievability(card, T0 + dt.timedelta(days=30))
    assert 1 > r1 > r30 > 0
    assert retrievability(CardState(), T0) == 0
    assert not is_mastered(card)
    assert is_mastered(CardState(state=2, stability=21.0))


def test_local_day_start_uses_the_learners_zone():
    now = dt.datetime(2026, 3, 10, 11, 30, tzinfo=dt.UTC)  # 00:30 on the 11th in Auckland
    start = progress.local_day_start(now, "Pacific/Auckland")
    assert start == dt.datetime(2026, 3, 10, 11, 0, tzinfo=dt.UTC)
    assert progress.local_day_start(now, "UTC") == dt.datetime(2026, 3, 10, tzinfo=dt.UTC)


def test_streak_counts_consecutive_local_days():
    days = [T0 - dt.timedelta(days=d) for d in (0, 1, 2, 4)]
    assert progress.streak(days, T0, "UTC") == 3
    assert progress.streak(days[1:], T0, "UTC") == 2  # nothing yet today: still counts
    assert progress.streak([T0 - dt.timedelta(days=3)], T0, "UTC") == 0


def test_true_retention_counts_first_daily_review_of_mature_cards():
    mature = CardState(
        state=2, stability=30, difficulty=5, due=T0, last_review=T0 - dt.timedelta(days=25)
    ).to_dict()
    young = CardState(
        state=2, stability=3, difficulty=5, due=T0, last_review=T0 - dt.timedelta(days=3)
    ).to_dict()
    logs = [
        ("q1", 3, T0, mature),
        ("q1", 1, T0 + dt.timedelta(hours=1), mature),  # second review that day: ignored
        ("q2", 1, T0, mature),
        ("q3", 3, T0, young),  # not mature: ignored
        ("q4", 3, T0, None),  # new: ignored
    ]
    assert progress.true_retention(logs, "UTC") == (0.5, 2)
    assert progress.true_retention([], "UTC") == (None, 0)


def test_readiness_weights_domains():
    assert progress.readiness({"a": 1.0, "b": 0.0}, {"a": 25, "b": 75}) == 25.0
    assert progress.readiness({"a": 1.0}, {"a": 0}) == 0.0


def test_mastery_and_forecast():
    card = CardState(
        state=2,
        stability=30,
        difficulty=5,
        due=T0 + dt.timedelta(days=2),
        last_review=T0 - dt.timedelta(days=1),
    )
    m = progress.mastery(["q1", "q2"], {"q1": card}, T0, 0.9)
    assert (m.questions, m.seen, m.mastered) == (2, 1, 1)
    assert 0 < m.score < m.retrievability <= 1
    overdue = CardState(
        state=2,
        stability=1,
        difficulty=5,
        due=T0 - dt.timedelta(days=3),
        last_review=T0 - dt.timedelta(days=5),
    )
    days = progress.forecast([card, overdue, CardState()], T0, "UTC", 5)
    assert [n for _, n in days] == [1, 0, 1, 0, 0]
