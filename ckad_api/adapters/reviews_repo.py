"""The cards and review_logs tables: Core queries, because reviews are the hot path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.scheduling import CardState
from ..services.ports import CardConflict, CardRecord
from .orm import CardRow, ReviewLogRow

_CARD_COLUMNS = (
    CardRow.id,
    CardRow.question_id,
    CardRow.state,
    CardRow.step,
    CardRow.stability,
    CardRow.difficulty,
    CardRow.due,
    CardRow.last_review,
    CardRow.reps,
    CardRow.lapses,
    CardRow.version,
    CardRow.introduced_at,
)
_DUE = (
    select(*_CARD_COLUMNS)
    .where(
        CardRow.learner_id == bindparam("learner_id"),
        CardRow.due <= bindparam("now"),
        CardRow.state > 0,
    )
    .order_by(CardRow.due)
    .limit(bindparam("limit"))
)
_KNOWN = select(CardRow.question_id, CardRow.state, CardRow.version, CardRow.introduced_at).where(
    CardRow.learner_id == bindparam("learner_id")
)
_ONE = select(*_CARD_COLUMNS).where(
    CardRow.learner_id == bindparam("learner_id"), CardRow.question_id == bindparam("question_id")
)


def _record(row: Any) -> CardRecord:
    card = CardState(
        state=row.state,
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=row.due,
        last_review=row.last_review,
        reps=row.reps,
        lapses=row.lapses,
    )
    return CardRecord(row.id, row.question_id, card, row.version, row.introduced_at)


def _state_columns(card: CardState) -> dict[str, Any]:
    return {
        "state": card.state,
        "step": card.step,
        "stability": card.stability,
        "difficulty": card.difficulty,
        "due": card.due,
        "last_review": card.last_review,
        "reps": card.reps,
        "lapses": card.lapses,
    }


class SqlReviewRepository:
    """Owner of `cards` and `review_logs`."""

    def __init__(self, session: Session):
        self.session = session

    def due(self, learner_id: int, now: dt.datetime, limit: int) -> list[CardRecord]:
        """Cards due at `now`, earliest first (an index range scan), at most `limit`."""
        rows = self.session.execute(_DUE, {"learner_id": learner_id, "now": now, "limit": limit})
        return [_record(r) for r in rows]

    def known(self, learner_id: int) -> list[Any]:
        """(question_id, state, version, introduced_at) of every card the learner has."""
        return self.session.execute(_KNOWN, {"learner_id": learner_id}).all()

    def card(self, learner_id: int, question_id: str) -> CardRecord | None:
        """The learner's card for a question, or None."""
        row = self.session.execute(
            _ONE, {"learner_id": learner_id, "question_id": question_id}
        ).first()
        return _record(row) if row else None

    def all_cards(self, learner_id: int) -> list[CardRecord]:
        """Every card of the learner."""
        rows = self.session.execute(select(*_CARD_COLUMNS).where(CardRow.learner_id == learner_id))
        return [_record(r) for r in rows]

    def create(self, learner_id: int, question_id: str, card: CardState, now: dt.datetime) -> int:
        """Insert the learner's first card for a question; a racing insert is a conflict."""
        try:
            with self.session.begin_nested():
                result = self.session.execute(
                    insert(CardRow).values(
                        learner_id=learner_id,
                        question_id=question_id,
                        version=1,
                        introduced_at=now,
                        updated_at=now,
                        **_state_columns(card),
                    )
                )
        except IntegrityError:
            raise CardConflict from None
        return result.inserted_primary_key[0]

    def save(
        self,
        card_id: int,
        expected_version: int,
        card: CardState,
        now: dt.datetime,
        introduced_at: dt.datetime | None = None,
    ) -> int:
        """Compare-and-set the card: the UPDATE only matches the version the client saw."""
        values = {**_state_columns(card), "version": CardRow.version + 1, "updated_at": now}
        if introduced_at is not None:
            values["introduced_at"] = introduced_at
        result = self.session.execute(
            update(CardRow)
            .where(CardRow.id == card_id, CardRow.version == expected_version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise CardConflict
        return expected_version + 1

    def log(self, **values: Any) -> int:
        """Append a review log row."""
        result = self.session.execute(insert(ReviewLogRow).values(**values))
        return result.inserted_primary_key[0]

    def last_log(self, learner_id: int, question_id: str) -> Any | None:
        """The newest review of this card that has not been undone."""
        return (
            self.session.execute(
                select(ReviewLogRow)
                .where(
                    ReviewLogRow.learner_id == learner_id,
                    ReviewLogRow.question_id == question_id,
                    ReviewLogRow.undone_at.is_(None),
                )
                .order_by(ReviewLogRow.id.desc())
                .limit(1)
            )
            .scalars()
            .first()
        )

    def mark_undone(self, log_id: int, now: dt.datetime) -> None:
        """Keep the log, marked as undone."""
        self.session.execute(
            update(ReviewLogRow).where(ReviewLogRow.id == log_id).values(undone_at=now)
        )

    def history(self, learner_id: int, before_id: int | None, limit: int) -> list[Any]:
        """Logs newest first, for paging."""
        stmt = select(ReviewLogRow).where(ReviewLogRow.learner_id == learner_id)
        if before_id:
            stmt = stmt.where(ReviewLogRow.id < before_id)
        return (
            self.session.execute(stmt.order_by(ReviewLogRow.id.desc()).limit(limit)).scalars().all()
        )

    def export(self, learner_id: int, batch: int = 500) -> Iterator[Any]:
        """Every log of the learner, oldest first, read in batches."""
        after = 0
        while True:
            rows = (
                self.session.execute(
                    select(ReviewLogRow)
                    .where(ReviewLogRow.learner_id == learner_id, ReviewLogRow.id > after)
                    .order_by(ReviewLogRow.id)
                    .limit(batch)
                )
                .scalars()
                .all()
            )
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].id

    def logs_since(self, learner_id: int, since: dt.datetime) -> list[Any]:
        """Effective (not undone) reviews since `since`, oldest first."""
        return self.session.execute(
            select(
                ReviewLogRow.question_id,
                ReviewLogRow.rating,
                ReviewLogRow.reviewed_at,
                ReviewLogRow.state_before,
            )
            .where(
                and_(
                    ReviewLogRow.learner_id == learner_id,
                    ReviewLogRow.reviewed_at >= since,
                    ReviewLogRow.undone_at.is_(None),
                )
            )
            .order_by(ReviewLogRow.reviewed_at)
        ).all()

    def review_days(self, learner_id: int) -> list[dt.datetime]:
        """Times of every effective review (for streaks in the learner's timezone)."""
        return list(
            self.session.execute(
                select(ReviewLogRow.reviewed_at)
                .where(ReviewLogRow.learner_id == learner_id, ReviewLogRow.undone_at.is_(None))
                .order_by(ReviewLogRow.reviewed_at.desc())
            ).scalars()
        )

    def count(self, learner_id: int) -> int:
        """How many review logs the learner has (undone included)."""
        return self.session.execute(
            select(func.count())
            .select_from(ReviewLogRow)
            .where(ReviewLogRow.learner_id == learner_id)
        ).scalar_one()
