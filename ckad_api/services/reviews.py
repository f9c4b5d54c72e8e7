"""Reviews: what is due, answering (graded, scheduled, logged), undo, history, progress."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from ..domain import grading, progress, scheduling
from ..domain.accounts import Learner
from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.model import Question
from ..domain.scheduling import CardState
from .ports import CardConflict, Clock, UnitOfWork

# Due cards ranked when the database and the loaded course disagree on which questions live.
DUE_SCAN_LIMIT = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class CardView:
    """A card as a client sees it (new cards have version 0 until first answered)."""

    question_id: str
    state: str
    due: dt.datetime | None
    last_review: dt.datetime | None
    stability: float | None
    difficulty: float | None
    retrievability: float
    reps: int
    lapses: int
    version: int


def card_view(
    question_id: str, card: CardState, version: int, now: dt.datetime, desired_retention: float
) -> CardView:
    """The client-facing view of a card."""
    return CardView(
        question_id=question_id,
        state=scheduling.STATE_NAMES[card.state],
        due=card.due,
        last_review=card.last_review,
        stability=round(card.stability, 4) if card.stability is not None else None,
        difficulty=round(card.difficulty, 4) if card.difficulty is not None else None,
        retrievability=round(scheduling.retrievability(card, now, desired_retention), 4),
        reps=card.reps,
        lapses=card.lapses,
        version=version,
    )


def public_question(q: Question) -> dict[str, Any]:
    """A question without its answer or explanation."""
    return {
        "id": q.id,
        "type": q.type,
        "prompt": q.prompt,
        "choices": list(q.choices) if q.choices is not None else None,
        "chapter_id": q.chapter_id,
        "section_id": q.section_id,
        "competencies": list(q.competencies),
        "difficulty": q.difficulty,
        "expected_seconds": q.expected_seconds,
        "has_hint": bool(q.hint),
    }


_PUBLIC_QUESTIONS = ("reviews", "public questions")  # key in the course view's cache


def public_questions(view: Any) -> dict[str, dict[str, Any]]:
    """Every live question of a course view as `public_question`, built once per view.

    Due lists share these dicts (and the HTTP layer their encoded JSON): read them only.
    """
    questions = view.cache.get(_PUBLIC_QUESTIONS)
    if questions is None:
        questions = view.cache[_PUBLIC_QUESTIONS] = {
            question_id: public_question(q) for question_id, q in view.questions.items()
        }
    return questions


class ReviewService:
    """Use cases of spaced-repetition reviews."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        content,
        *,
        fuzz: bool,
        manifest_grader: Callable[..., Any] | None = None,
        read_uow: Callable[[], UnitOfWork] | None = None,
    ):
        self._uow = uow
        # Reads go through connections that take no write lock (SQLite: no BEGIN IMMEDIATE).
        self._read = read_uow or uow
        self._clock = clock
        self._content = content
        self._fuzz = fuzz
        self._manifest_grader = manifest_grader

    # -- due --------------------------------------------------------------------------------
    def due(
        self,
        learner: Learner,
        limit: int,
        chapter: str | None = None,
        competency: str | None = None,
    ) -> list[dict[str, Any]]:
        """Due cards, most at risk first, then new cards in course order up to today's limit."""
        now = self._clock.now()
        view = self._content.view()
        if chapter is not None and chapter not in view.chapters:
            raise NotFound(f"there is no chapter {chapter!r}")
        if competency is not None and competency not in view.competency_domain:
            raise NotFound(f"there is no competency {competency!r}")

        def wanted(q: Question | None) -> bool:
            return (
                q is not None
                and (chapter is None or q.chapter_id == chapter)
                and (competency is None or competency in q.competencies)
            )

        retention = learner.desired_retention
        with self._read() as uow:
            # Ranked and filtered in SQL: only the cards returned are read.
            rows = uow.reviews.due(learner.id, now, limit, chapter=chapter, competency=competency)
            picked = [(r, q) for r in rows if wanted(q := view.questions.get(r.question_id))]
            if len(picked) < len(rows) == limit:
                # The database named a question the loaded view does not serve (a content
                # reload between the two): rank every due card so the page stays full.
                rows = uow.reviews.due(
                    learner.id, now, DUE_SCAN_LIMIT, chapter=chapter, competency=competency
                )
                picked = [(r, q) for r in rows if wanted(q := view.questions.get(r.question_id))]
                del picked[limit:]
            public = public_questions(view)
            items = [
                _item(public[q.id], r.card, r.version, now, retention, new=False) for r, q in picked
            ]
            if len(items) < limit:
                items += self._new_cards(
                    uow, learner, view, public, wanted, limit - len(items), now
                )
        return items

    def _new_cards(self, uow, learner, view, public, wanted, room, now) -> list[dict[str, Any]]:
        known = uow.reviews.known(learner.id, progress.local_day_start(now, learner.timezone))
        allowance = min(room, max(0, learner.new_cards_per_day - known.introduced_today))
        if allowance == 0:
            return []
        items = []
        for question_id in view.question_order:
            if len(items) >= allowance:
                break
            q = view.questions[question_id]
            if question_id in known.seen or not wanted(q):
                continue
            items.append(
                _item(
                    public[question_id],
                    CardState(),
                    known.parked.get(question_id, 0),
                    now,
                    learner.desired_retention,
                    new=True,
                )
            )
        return items

    # -- answer -----------------------------------------------------------------------------
    def answer(
        self,
        learner: Learner,
        question_id: str,
        *,
        answer: Any = None,
        rating: str | None = None,
        elapsed_ms: int | None = None,
        version: int,
        mode: str = "review",
    ) -> dict[str, Any]:
        """Grade an answer and, unless practising, schedule the card and log the review."""
        now = self._clock.now()
        q = self._content.view().question(question_id)
        if q.type == "flashcard":
            if rating is None:
                raise ValidationFailed(
                    "a flashcard is rated by the learner",
                    errors={"rating": ["is required for a flashcard"]},
                )
        elif answer is None:
            raise ValidationFailed("an answer is required", errors={"answer": ["is required"]})
        grade = grading.grade(q, answer, manifest_grader=self._manifest_grader)
        requested = scheduling.RATINGS[rating] if rating else None
        rating_value = grading.rating_for(grade, elapsed_ms, q.expected_seconds, requested)
        retention = learner.desired_retention
        result = {
            "question_id": q.id,
            "mode": mode,
            "correct": grade.correct,
            "expected": grade.expected,
            "explanation": q.explanation,
            "feedback": list(grade.feedback),
            "details": grade.details,
            "rating": scheduling.RATING_NAMES[rating_value],
        }
        with self._uow() as uow:
            row = uow.reviews.card(learner.id, q.id)
            current = row.card if row else CardState()
            current_version = row.version if row else 0
            if version != current_version:
                raise Conflict(
                    f"the card changed since version {version}; reload it and answer again",
                    current=card_view(q.id, current, current_version, now, retention),
                )
            if mode == "practice":
                # Graded and explained, the schedule untouched: nothing is written.
                result.update(
                    card=card_view(q.id, current, current_version, now, retention),
                    next_due=current.due,
                    intervals=scheduling.preview(current, now, desired_retention=retention),
                )
                return result
            after = scheduling.review(
                current, rating_value, now, desired_retention=retention, fuzz=self._fuzz
            )
            try:
                if row is None:
                    card_id = uow.reviews.create(learner.id, q.id, after, now)
                    new_version = 1
                else:
                    card_id = row.id
                    new_version = uow.reviews.save(
                        row.id, version, after, now, introduced_at=now if current.is_new else None
                    )
            except CardConflict as exc:
                raise self._conflict(q.id, learner, now) from exc
            uow.reviews.log(
                learner_id=learner.id,
                card_id=card_id,
                question_id=q.id,
                rating=rating_value,
                answer=answer,
                correct=grade.correct,
                elapsed_ms=elapsed_ms,
                reviewed_at=now,
                state_before=current.to_dict() if not current.is_new else None,
                state_after=after.to_dict(),
                undone_at=None,
            )
            uow.commit()
        result.update(
            card=card_view(q.id, after, new_version, now, retention),
            next_due=after.due,
            intervals=scheduling.preview(current, now, desired_retention=retention),
        )
        return result

    def _conflict(self, question_id: str, learner: Learner, now: dt.datetime) -> Conflict:
        with self._read() as uow:
            row = uow.reviews.card(learner.id, question_id)
        card = row.card if row else CardState()
        return Conflict(
            "another answer for this card was recorded first; reload it",
            current=card_view(
                question_id, card, row.version if row else 0, now, learner.desired_retention
            ),
        )

    def card_version(self, learner: Learner, question_id: str) -> int:
        """The version to send with an answer to this card (0 before the first answer)."""
        with self._read() as uow:
            row = uow.reviews.card(learner.id, question_id)
        return row.version if row else 0

    # -- undo -------------------------------------------------------------------------------
    def undo(self, learner: Learner, question_id: str, version: int | None) -> CardView:
        """Restore the card to its state before the last (not yet undone) review."""
        now = self._clock.now()
        retention = learner.desired_retention
        with self._uow() as uow:
            log = uow.reviews.last_log(learner.id, question_id)
            row = uow.reviews.card(learner.id, question_id)
            if log is None or row is None:
                raise NotFound(f"there is no review of {question_id!r} to undo")
            if version is not None and version != row.version:
                raise Conflict(
                    f"the card changed since version {version}",
                    current=card_view(question_id, row.card, row.version, now, retention),
                )
            restored = CardState.from_dict(log.state_before)
            try:
                new_version = uow.reviews.save(row.id, row.version, restored, now)
            except CardConflict as exc:
                raise self._conflict(question_id, learner, now) from exc
            uow.reviews.mark_undone(log.id, now)
            uow.commit()
        return card_view(question_id, restored, new_version, now, retention)

    # -- history ----------------------------------------------------------------------------
    def history(self, learner: Learner, before_id: int | None, limit: int) -> list[Any]:
        """The learner's review logs, newest first."""
        with self._read() as uow:
            return uow.reviews.history(learner.id, before_id, limit)

    def export(self, learner: Learner) -> Iterator[dict[str, Any]]:
        """Every review log of the learner, oldest first, as plain dicts."""
        with self._read() as uow:
            for row in uow.reviews.export(learner.id):
                yield log_dict(row)

    # -- progress ---------------------------------------------------------------------------
    def progress(self, learner: Learner) -> dict[str, Any]:
        """Per domain and competency mastery, streak, today's counts, retention, readiness."""
        now = self._clock.now()
        view = self._content.view()
        tz = learner.timezone
        today = progress.local_day_start(now, tz)
        tomorrow = progress.local_day_start(now, tz, days=1)
        window = now - dt.timedelta(days=progress.RETENTION_WINDOW_DAYS)
        with self._read() as uow:
            rows = uow.reviews.all_cards(learner.id)
            logs = uow.reviews.logs_since(learner.id, min(window, today))
            times = uow.reviews.review_days(learner.id)
        cards = {r.question_id: r.card for r in rows if r.question_id in view.questions}
        retention = learner.desired_retention
        by_comp: dict[str, list[str]] = {}
        for q in view.questions.values():
            for cid in q.competencies:
                by_comp.setdefault(cid, []).append(q.id)
        domains = []
        scores = {}
        weights = {}
        for d in view.course["domains"]:
            comps = []
            domain_questions: list[str] = []
            for c in d["competencies"]:
                qids = by_comp.get(c["id"], [])
                domain_questions += qids
                m = progress.mastery(qids, cards, now, retention)
                comps.append({"id": c["id"], "title": c["title"], **dataclasses.asdict(m)})
            m = progress.mastery(domain_questions, cards, now, retention)
            scores[d["id"]] = m.score
            weights[d["id"]] = d["weight"]
            domains.append(
                {
                    "id": d["id"],
                    "title": d["title"],
                    "weight": d["weight"],
                    **dataclasses.asdict(m),
                    "competencies": comps,
                }
            )
        value, counted = progress.true_retention(
            [
                (lg.question_id, lg.rating, lg.reviewed_at, lg.state_before)
                for lg in logs
                if lg.reviewed_at >= window
            ],
            tz,
        )
        return {
            "domains": domains,
            "streak_days": progress.streak(times, now, tz),
            "reviews_today": sum(1 for lg in logs if lg.reviewed_at >= today),
            "due_today": sum(
                1 for c in cards.values() if not c.is_new and c.due is not None and c.due < tomorrow
            ),
            "cards_seen": sum(1 for c in cards.values() if not c.is_new),
            "true_retention": value,
            "true_retention_reviews": counted,
            "readiness": progress.readiness(scores, weights),
        }

    def forecast(self, learner: Learner, days: int) -> list[dict[str, Any]]:
        """Due counts per local day."""
        now = self._clock.now()
        view = self._content.view()
        with self._read() as uow:
            rows = uow.reviews.all_cards(learner.id)
        cards = [r.card for r in rows if r.question_id in view.questions]
        return [
            {"date": day, "due": n}
            for day, n in progress.forecast(cards, now, learner.timezone, days)
        ]


def _item(question, card, version, now, retention, *, new) -> dict[str, Any]:
    return {
        "question": question,
        "new": new,
        "card": card_view(question["id"], card, version, now, retention),
    }


def log_dict(row: Any) -> dict[str, Any]:
    """A review log as exported and listed."""
    return {
        "id": row.id,
        "question_id": row.question_id,
        "rating": scheduling.RATING_NAMES[row.rating],
        "answer": row.answer,
        "correct": row.correct,
        "elapsed_ms": row.elapsed_ms,
        "reviewed_at": row.reviewed_at,
        "state_before": row.state_before,
        "state_after": row.state_after,
        "undone_at": row.undone_at,
    }
