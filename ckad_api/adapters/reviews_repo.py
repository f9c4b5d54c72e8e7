"""The cards and review_logs tables: Core queries, because reviews are the hot path.

The statements of the two hot paths (due cards, an answer) are built once at import and run
straight on the DBAPI cursor of the unit of work's connection (see `Prepared`): building
statements per call, the ORM's bulk-update path and SQLAlchemy's execution and result
processing cost more than the database itself did. The first answer to a card
(`create`) stays a Core statement: it needs a savepoint and SQLAlchemy's IntegrityError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from ..domain.scheduling import CardState
from ..services.ports import CardConflict, CardRecord, KnownCards
from .orm import CardRow, QuestionCompetencyRow, QuestionRow, ReviewLogRow, UTCDateTime
from .prepared import Prepared, utc

_CARDS = CardRow.__table__
_LOGS = ReviewLogRow.__table__
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


class _ElapsedDays(FunctionElement):
    """Whole days from `last_review` to `now`, never below 0: FSRS's `elapsed_days`.

    Exact to the microsecond on both databases, because the ranking must match
    `scheduling.retrievability`, which floors a timedelta. SQLite's julianday() of a
    timestamp is rounded to milliseconds (measured: the whole days came out wrong for half
    of the gaps within 1 ms below a whole day), so the SQLite form takes whole days between
    the dates, exact, less one when the last review's time of day is later than now's. It
    reads the text SQLAlchemy stores: `YYYY-MM-DD HH:MM:SS.ffffff`, UTC, fixed width.
    """

    type = Integer()
    inherit_cache = True


@compiles(_ElapsedDays, "sqlite")
def _elapsed_days_sqlite(element, compiler, **kw):
    now, last = (compiler.process(arg, **kw) for arg in element.clauses)
    days = f"CAST(julianday(substr({now}, 1, 10)) - julianday(substr({last}, 1, 10)) AS INTEGER)"
    return f"max(0, {days} - (substr({last}, 12) > substr({now}, 12)))"


@compiles(_ElapsedDays, "postgresql")
def _elapsed_days_postgresql(element, compiler, **kw):
    now, last = (compiler.process(arg, **kw) for arg in element.clauses)
    # EXTRACT(EPOCH ...) is an exact numeric (microseconds) on PostgreSQL 14 and later.
    return f"GREATEST(0, CAST(floor(EXTRACT(EPOCH FROM ({now} - {last})) / 86400) AS INTEGER))"


_NOW = bindparam("now", type_=UTCDateTime())
# FSRS's retrievability (1 + F * days / stability) ** -decay falls as days / stability grows,
# so ranking by that ratio, highest first, is ranking by retrievability, lowest first. A card
# without stability or last review has retrievability 0: it comes first, as in Python.
_RISK = case(
    (
        or_(CardRow.last_review.is_(None), CardRow.stability.is_(None)),
        literal_column("1e308", Float()),
    ),
    else_=_ElapsedDays(_NOW, CardRow.last_review) / CardRow.stability,
)


def _ranked_due(chapter: bool, competency: bool) -> Prepared:
    stmt = (
        select(*_CARD_COLUMNS)
        .join(QuestionRow, QuestionRow.id == CardRow.question_id)
        .where(
            CardRow.learner_id == bindparam("learner_id"),
            CardRow.due <= _NOW,
            CardRow.state > 0,
            QuestionRow.retired.is_(False),
        )
    )
    if chapter:
        stmt = stmt.where(QuestionRow.chapter_id == bindparam("chapter"))
    if competency:
        stmt = stmt.where(
            exists().where(
                QuestionCompetencyRow.question_id == CardRow.question_id,
                QuestionCompetencyRow.competency_id == bindparam("competency"),
            )
        )
    ranked = stmt.order_by(_RISK.desc(), CardRow.due, CardRow.id).limit(bindparam("limit"))
    return Prepared(ranked)


# One prebuilt statement per combination of filters: (chapter given, competency given).
_DUE = {(ch, co): _ranked_due(ch, co) for ch in (False, True) for co in (False, True)}
_KNOWN = Prepared(
    select(
        CardRow.question_id,
        CardRow.state,
        CardRow.version,
        # Compared in SQL: no timestamp of the learner's every card is converted.
        (CardRow.introduced_at >= bindparam("today", type_=UTCDateTime())).label("today"),
    ).where(CardRow.learner_id == bindparam("learner_id"))
)
_ONE = Prepared(
    select(*_CARD_COLUMNS).where(
        CardRow.learner_id == bindparam("learner_id"),
        CardRow.question_id == bindparam("question_id"),
    )
)
_ALL = Prepared(select(*_CARD_COLUMNS).where(CardRow.learner_id == bindparam("learner_id")))
_STATE_FIELDS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses")


def _binds(table: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    # Bind names differ from the column names: SQLAlchemy reserves those for its own binds.
    return {f: bindparam(f"new_{f}", type_=table.c[f].type) for f in fields}


_SET_STATE = _binds(_CARDS, (*_STATE_FIELDS, "updated_at"))
_SAVE = (
    update(_CARDS)
    .where(_CARDS.c.id == bindparam("card_id"), _CARDS.c.version == bindparam("expected_version"))
    .values(**_SET_STATE, version=_CARDS.c.version + 1)
)
_SAVE_STATE = Prepared(_SAVE)
_SAVE_INTRODUCED = Prepared(_SAVE.values(**_binds(_CARDS, ("introduced_at",))))
_CREATE = insert(_CARDS).values(
    **_binds(_CARDS, ("learner_id", "question_id", "introduced_at")), **_SET_STATE, version=1
)
_LOG_FIELDS = (
    "learner_id",
    "card_id",
    "question_id",
    "rating",
    "answer",
    "correct",
    "elapsed_ms",
    "reviewed_at",
    "state_before",
    "state_after",
    "undone_at",
)
_LOG = Prepared(insert(_LOGS).values(**_binds(_LOGS, _LOG_FIELDS)))


def _record(row: tuple[Any, ...]) -> CardRecord:
    # Positions of _CARD_COLUMNS.
    card = CardState(
        state=row[2],
        step=row[3],
        stability=row[4],
        difficulty=row[5],
        due=utc(row[6]),
        last_review=utc(row[7]),
        reps=row[8],
        lapses=row[9],
    )
    return CardRecord(row[0], row[1], card, row[10], utc(row[11]))


def _state_params(card: CardState, now: dt.datetime) -> dict[str, Any]:
    return {
        "new_updated_at": now,
        "new_state": card.state,
        "new_step": card.step,
        "new_stability": card.stability,
        "new_difficulty": card.difficulty,
        "new_due": card.due,
        "new_last_review": card.last_review,
        "new_reps": card.reps,
        "new_lapses": card.lapses,
    }


class SqlReviewRepository:
    """Owner of `cards` and `review_logs`."""

    def __init__(self, session: Session):
        self.session = session

    def _run(self, statement: Any, params: dict[str, Any]) -> Any:
        # Core on the session's connection (the unit of work's transaction), without the
        # ORM execution layer: these statements load no ORM objects.
        return self.session.connection().execute(statement, params)

    def due(
        self,
        learner_id: int,
        now: dt.datetime,
        limit: int,
        *,
        chapter: str | None = None,
        competency: str | None = None,
    ) -> list[CardRecord]:
        """The `limit` cards most at risk among those due at `now`, for live questions.

        Ranked in SQL by FSRS retrievability, lowest first (then earliest due, then id), so
        only the returned rows are read whatever the learner's number of due cards. The
        due cards are an index range scan (`ix_cards_learner_due`).
        """
        params: dict[str, Any] = {"learner_id": learner_id, "now": now, "limit": limit}
        if chapter is not None:
            params["chapter"] = chapter
        if competency is not None:
            params["competency"] = competency
        rows = _DUE[chapter is not None, competency is not None].all(self.session, params)
        return [_record(r) for r in rows]

    def known(self, learner_id: int, today: dt.datetime) -> KnownCards:
        """What new-card selection needs of the learner's cards, in one light query."""
        seen: set[str] = set()
        parked: dict[str, int] = {}
        introduced_today = 0
        for question_id, state, version, introduced in _KNOWN.all(
            self.session, {"learner_id": learner_id, "today": today}
        ):
            if state > 0:
                seen.add(question_id)
                introduced_today += bool(introduced)
            else:
                parked[question_id] = version
        return KnownCards(seen, parked, introduced_today)

    def card(self, learner_id: int, question_id: str) -> CardRecord | None:
        """The learner's card for a question, or None."""
        rows = _ONE.all(self.session, {"learner_id": learner_id, "question_id": question_id})
        return _record(rows[0]) if rows else None

    def all_cards(self, learner_id: int) -> list[CardRecord]:
        """Every card of the learner."""
        return [_record(r) for r in _ALL.all(self.session, {"learner_id": learner_id})]

    def create(self, learner_id: int, question_id: str, card: CardState, now: dt.datetime) -> int:
        """Insert the learner's first card for a question; a racing insert is a conflict."""
        params = {
            "new_learner_id": learner_id,
            "new_question_id": question_id,
            "new_introduced_at": now,
            **_state_params(card, now),
        }
        try:
            with self.session.begin_nested():
                result = self._run(_CREATE, params)
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
        params = {
            "card_id": card_id,
            "expected_version": expected_version,
            **_state_params(card, now),
        }
        statement = _SAVE_STATE
        if introduced_at is not None:
            statement = _SAVE_INTRODUCED
            params["new_introduced_at"] = introduced_at
        if statement.run(self.session, params) != 1:
            raise CardConflict
        return expected_version + 1

    def log(self, **values: Any) -> None:
        """Append a review log row (every column of `_LOG_FIELDS`, by name)."""
        _LOG.run(self.session, {f"new_{name}": value for name, value in values.items()})

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
