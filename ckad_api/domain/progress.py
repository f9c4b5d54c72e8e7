"""Progress figures from cards and review logs: mastery, streaks, retention, readiness.

Everything here is pure: the caller passes the cards, the logs, the course's questions,
the learner's timezone and `now`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from .scheduling import MASTERED_STABILITY_DAYS, CardState, is_mastered, retrievability

MATURE_INTERVAL_DAYS = 21  # Anki's "mature": the interval before the review was 3+ weeks
RETENTION_WINDOW_DAYS = 30


def local_day_start(now: dt.datetime, timezone: str, days: int = 0) -> dt.datetime:
    """UTC instant at which the learner's local day (`days` from today) begins."""
    tz = ZoneInfo(timezone)
    local_date = now.astimezone(tz).date() + dt.timedelta(days=days)
    return dt.datetime.combine(local_date, dt.time(0), tz).astimezone(dt.UTC)


def local_date(moment: dt.datetime, timezone: str) -> dt.date:
    """The learner's calendar date at `moment`."""
    return moment.astimezone(ZoneInfo(timezone)).date()


@dataclasses.dataclass(frozen=True)
class Mastery:
    """Figures for one group of questions (a competency or a domain)."""

    questions: int
    seen: int
    mastered: int
    retrievability: float | None  # mean over seen cards
    score: float  # expected share of the group's questions recalled now (unseen count as 0)


def mastery(
    question_ids: Iterable[str],
    cards: Mapping[str, CardState],
    now: dt.datetime,
    desired_retention: float,
) -> Mastery:
    """Mastery of a group of questions from the learner's cards."""
    ids = list(dict.fromkeys(question_ids))
    seen = [cards[q] for q in ids if q in cards and not cards[q].is_new]
    rs = [retrievability(c, now, desired_retention) for c in seen]
    return Mastery(
        questions=len(ids),
        seen=len(seen),
        mastered=sum(1 for c in seen if is_mastered(c)),
        retrievability=round(sum(rs) / len(rs), 4) if rs else None,
        score=round(sum(rs) / len(ids), 4) if ids else 0.0,
    )


def streak(review_times: Iterable[dt.datetime], now: dt.datetime, timezone: str) -> int:
    """Consecutive local days with at least one review, ending today (or yesterday)."""
    days = {local_date(t, timezone) for t in review_times}
    today = local_date(now, timezone)
    day = today if today in days else today - dt.timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= dt.timedelta(days=1)
    return count


def true_retention(
    logs: Sequence[tuple[str, int, dt.datetime, dict | None]], timezone: str
) -> tuple[float | None, int]:
    """Anki's true retention over `logs` (question_id, rating, reviewed_at, state_before).

    Only the first review of a card on each local day counts, and only when the card was
    mature (its interval before the review was at least 21 days). Again is a fail.
    Returns (retention or None when nothing counted, number of reviews counted).
    """
    firsts: dict[tuple[str, dt.date], tuple[int, dict | None]] = {}
    for question_id, rating, reviewed_at, before in logs:
        key = (question_id, local_date(reviewed_at, timezone))
        firsts.setdefault(key, (rating, before))
    counted = passed = 0
    for rating, before in firsts.values():
        card = CardState.from_dict(before)
        if card.is_new or card.due is None or card.last_review is None:
            continue
        if (card.due - card.last_review) < dt.timedelta(days=MATURE_INTERVAL_DAYS):
            continue
        counted += 1
        passed += int(rating != 1)
    return (round(passed / counted, 4) if counted else None), counted


def readiness(domain_scores: Mapping[str, float], weights: Mapping[str, int]) -> float:
    """Exam readiness in percent: domain mastery scores weighted by the exam weights."""
    total = sum(w for d, w in weights.items() if w > 0)
    if not total:
        return 0.0
    value = sum(domain_scores.get(d, 0.0) * w for d, w in weights.items() if w > 0) / total
    return round(100 * value, 1)


def forecast(
    cards: Iterable[CardState], now: dt.datetime, timezone: str, days: int
) -> list[tuple[dt.date, int]]:
    """Due counts per local day for `days` days from today (overdue cards count today)."""
    today = local_date(now, timezone)
    counts = {today + dt.timedelta(days=i): 0 for i in range(days)}
    last = today + dt.timedelta(days=days - 1)
    for card in cards:
        if card.is_new or card.due is None:
            continue
        day = max(local_date(card.due, timezone), today)
        if day <= last:
            counts[day] += 1
    return sorted(counts.items())


__all__ = [
    "MASTERED_STABILITY_DAYS",
    "Mastery",
    "forecast",
    "local_day_start",
    "mastery",
    "readiness",
    "streak",
    "true_retention",
]
