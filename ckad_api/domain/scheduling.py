"""Spaced repetition with FSRS (the `fsrs` package): card states, reviews, previews.

Pure functions over frozen values; `now` is always passed in (UTC-aware), never read.
A card that was introduced but has no effective review (or whose only review was undone)
has state NEW; every other state is FSRS's own (Learning, Review, Relearning).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

import fsrs

NEW = 0
STATE_NAMES = {NEW: "new", 1: "learning", 2: "review", 3: "relearning"}
RATINGS = {"again": 1, "hard": 2, "good": 3, "easy": 4}
RATING_NAMES = {v: k for k, v in RATINGS.items()}
# Anki's and FSRS's convention: a card whose memory lasts three weeks is "mastered"/"mature".
MASTERED_STABILITY_DAYS = 21.0


def _require_utc(now: dt.datetime) -> None:
    if now.tzinfo is None or now.utcoffset() != dt.timedelta(0):
        raise ValueError("scheduling needs a timezone-aware UTC datetime")


# Slotted: a due list builds one per card, and a frozen dataclass with slots is built in
# about half the time (measured).
@dataclasses.dataclass(frozen=True, slots=True)
class CardState:
    """The FSRS memory state of one learner's card for one question."""

    state: int = NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: dt.datetime | None = None
    last_review: dt.datetime | None = None
    reps: int = 0
    lapses: int = 0

    @property
    def is_new(self) -> bool:
        """True before the first effective review."""
        return self.state == NEW

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in review logs so undo can restore it exactly)."""
        return {
            "state": self.state,
            "step": self.step,
            "stability": self.stability,
            "difficulty": self.difficulty,
            "due": self.due.isoformat() if self.due else None,
            "last_review": self.last_review.isoformat() if self.last_review else None,
            "reps": self.reps,
            "lapses": self.lapses,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CardState:
        """Inverse of `to_dict`; None is a new card."""
        if not data:
            return cls()
        return cls(
            state=data["state"],
            step=data.get("step"),
            stability=data.get("stability"),
            difficulty=data.get("difficulty"),
            due=dt.datetime.fromisoformat(data["due"]) if data.get("due") else None,
            last_review=(
                dt.datetime.fromisoformat(data["last_review"]) if data.get("last_review") else None
            ),
            reps=data.get("reps", 0),
            lapses=data.get("lapses", 0),
        )


@functools.lru_cache(maxsize=256)
def scheduler(desired_retention: float, fuzz: bool) -> fsrs.Scheduler:
    """An FSRS scheduler for a learner's desired retention (schedulers are reusable)."""
    return fsrs.Scheduler(desired_retention=round(desired_retention, 4), enable_fuzzing=fuzz)


def _to_fsrs(card: CardState) -> fsrs.Card:
    if card.is_new:
        return fsrs.Card(card_id=1)
    return fsrs.Card(
        card_id=1,
        state=fsrs.State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
    )


def review(
    card: CardState, rating: int, now: dt.datetime, *, desired_retention: float, fuzz: bool
) -> CardState:
    """The card after a review with `rating` (1 Again .. 4 Easy) at `now`."""
    _require_utc(now)
    if rating not in RATING_NAMES:
        raise ValueError(f"rating must be 1..4, got {rating!r}")
    before = _to_fsrs(card)
    after, _log = scheduler(desired_retention, fuzz).review_card(before, fsrs.Rating(rating), now)
    lapse = rating == RATINGS["again"] and card.state == fsrs.State.Review
    return CardState(
        state=int(after.state),
        step=after.step,
        stability=after.stability,
        difficulty=after.difficulty,
        due=after.due,
        last_review=after.last_review,
        reps=card.reps + 1,
        lapses=card.lapses + int(lapse),
    )


def preview(card: CardState, now: dt.datetime, *, desired_retention: float) -> dict[str, int]:
    """Seconds until the card would be due for each rating (without fuzz: nominal intervals).

    The same as `review(card, rating, now, fuzz=False).due - now` for each rating, with the
    card converted once (`review_card` copies the card it is given).
    """
    _require_utc(now)
    before = _to_fsrs(card)
    review_card = scheduler(desired_retention, False).review_card
    return {
        name: int((review_card(before, fsrs.Rating(value), now)[0].due - now).total_seconds())
        for name, value in RATINGS.items()
    }


def retrievability(card: CardState, now: dt.datetime, desired_retention: float = 0.9) -> float:
    """Probability of recall at `now` (0 for a new card)."""
    if card.is_new or card.stability is None or card.last_review is None:
        return 0.0
    # FSRS reads only `last_review` and `stability` of the card it is given: passing the
    # CardState saves building an fsrs.Card for every card of a due list.
    return float(scheduler(desired_retention, False).get_card_retrievability(card, now))


def is_mastered(card: CardState) -> bool:
    """Stability of at least three weeks."""
    return (card.stability or 0.0) >= MASTERED_STABILITY_DAYS
