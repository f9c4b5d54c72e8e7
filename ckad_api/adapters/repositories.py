"""SQL repositories and the unit of work: the only code that reads or writes the tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..domain.accounts import Learner
from ..domain.errors import Conflict, NotFound
from ..domain.model import Course
from ..services.ports import ConversationState, StoredMessage
from .orm import (
    AccessTokenRow,
    CardRow,
    ChapterRow,
    CompetencyRow,
    ContentStateRow,
    ConversationMessageRow,
    ConversationRow,
    DomainRow,
    LabAttemptRow,
    LabRow,
    LearnerRow,
    QuestionCompetencyRow,
    QuestionRow,
    ReviewLogRow,
    SectionCompetencyRow,
    SectionRow,
    SlackIdentityRow,
    SlackLinkCodeRow,
    SlackReminderRow,
    SlackReminderSendRow,
)
from .prepared import Prepared, from_json, utc
from .reviews_repo import SqlReviewRepository

_LEARNER_FIELDS = (
    "id",
    "username",
    "email",
    "display_name",
    "role",
    "timezone",
    "desired_retention",
    "new_cards_per_day",
    "daily_goal",
    "namespace",
    "version",
    "created_at",
    "updated_at",
)


def learner_from_row(row: Any) -> Learner:
    """Build the domain value from an ORM row or a Core result row."""
    return Learner(**{f: getattr(row, f) for f in _LEARNER_FIELDS})


class SqlLearnerRepository:
    """The learners table."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, learner_id: int) -> Learner | None:
        """The learner with this id, or None."""
        row = self.session.get(LearnerRow, learner_id)
        return learner_from_row(row) if row else None

    def by_username(self, username: str) -> tuple[Learner, str] | None:
        """The learner and their password hash, or None."""
        row = self.session.scalar(select(LearnerRow).where(LearnerRow.username == username))
        return (learner_from_row(row), row.password_hash) if row else None

    def add(self, **fields: Any) -> Learner:
        """Insert a learner; a taken username is a Conflict."""
        row = LearnerRow(**fields)
        self.session.add(row)
        try:
            with self.session.begin_nested():
                self.session.flush()
        except IntegrityError:
            raise Conflict(
                f"the username {fields.get('username')!r} is taken",
                errors={"username": ["is already taken"]},
            ) from None
        return learner_from_row(row)

    def update(self, learner_id: int, expected_version: int | None, **changes: Any) -> Learner:
        """Apply `changes` and bump the version, atomically checked against `expected_version`.

        The compare-and-set happens in the UPDATE itself, so two racing writers cannot both win.
        """
        stmt = update(LearnerRow).where(LearnerRow.id == learner_id)
        if expected_version is not None:
            stmt = stmt.where(LearnerRow.version == expected_version)
        result = self.session.execute(
            stmt.values(**changes, version=LearnerRow.version + 1).execution_options(
                synchronize_session=False
            )
        )
        if result.rowcount == 0:
            current = self.session.get(LearnerRow, learner_id, populate_existing=True)
            if current is None:
                raise NotFound(f"learner {learner_id} does not exist")
            raise Conflict(
                f"the learner changed since version {expected_version}",
                current=learner_from_row(current),
            )
        row = self.session.get(LearnerRow, learner_id, populate_existing=True)
        return learner_from_row(row)

    def page(self, after_id: int, limit: int) -> list[Learner]:
        """Learners with id greater than `after_id`, by id, at most `limit`."""
        rows = self.session.scalars(
            select(LearnerRow).where(LearnerRow.id > after_id).order_by(LearnerRow.id).limit(limit)
        )
        return [learner_from_row(r) for r in rows]


class SqlTokenRepository:
    """The access_tokens table (hashes only)."""

    def __init__(self, session: Session):
        self.session = session

    def add(
        self, token_hash: str, learner_id: int, created_at: dt.datetime, expires_at: dt.datetime
    ) -> None:
        """Store a new token's hash."""
        self.session.add(
            AccessTokenRow(
                token_hash=token_hash,
                learner_id=learner_id,
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    def revoke(self, token_hash: str, now: dt.datetime) -> bool:
        """Mark the token revoked; False when it was unknown or already revoked."""
        result = self.session.execute(
            update(AccessTokenRow)
            .where(AccessTokenRow.token_hash == token_hash, AccessTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return result.rowcount > 0

    def purge_expired(self, before: dt.datetime) -> int:
        """Delete tokens that expired before `before` (they can never be used again)."""
        result = self.session.execute(
            delete(AccessTokenRow).where(AccessTokenRow.expires_at < before)
        )
        return result.rowcount


class SqlContentRepository:
    """The course tables: domains, competencies, chapters, sections, questions."""

    def __init__(self, session: Session):
        self.session = session

    def state(self) -> ContentStateRow | None:
        """The loaded content's version row, or None before the first load."""
        return self.session.get(ContentStateRow, 1)

    def replace_course(
        self, course: Course, html: dict[str, str], checksum: str, now: dt.datetime
    ) -> dict[str, int]:
        """Upsert everything by id; retire what the files no longer have; delete nothing.

        Learners' cards and history reference questions by id, so a question is only ever
        updated in place or retired, never deleted.
        """
        s = self.session
        counts = {
            "chapters": 0,
            "sections": 0,
            "questions": 0,
            "retired_questions": 0,
            "new_questions": 0,
        }

        def upsert(model, key: str, values: dict[str, Any], existing: dict[str, Any]):
            row = existing.get(key)
            if row is None:
                row = model(**values)
                s.add(row)
                return row, True
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
            return row, False

        domains = {r.id: r for r in s.scalars(select(DomainRow))}
        comps = {r.id: r for r in s.scalars(select(CompetencyRow))}
        chapters = {r.id: r for r in s.scalars(select(ChapterRow))}
        sections = {r.id: r for r in s.scalars(select(SectionRow))}
        questions = {r.id: r for r in s.scalars(select(QuestionRow))}

        live_domains, live_comps = set(), set()
        for d in course.domains:
            upsert(
                DomainRow,
                d.id,
                dict(id=d.id, title=d.title, weight=d.weight, position=d.position, retired=False),
                domains,
            )
            live_domains.add(d.id)
        s.flush()  # domains before the competencies that reference them
        for d in course.domains:
            for c in d.competencies:
                upsert(
                    CompetencyRow,
                    c.id,
                    dict(
                        id=c.id, domain_id=d.id, title=c.title, position=c.position, retired=False
                    ),
                    comps,
                )
                live_comps.add(c.id)
        s.flush()

        live_chapters, live_sections, live_questions = set(), set(), set()
        for ch in course.chapters:
            upsert(
                ChapterRow,
                ch.id,
                dict(
                    id=ch.id,
                    number=ch.number,
                    title=ch.title,
                    summary=ch.summary,
                    objectives=list(ch.objectives),
                    retired=False,
                ),
                chapters,
            )
            live_chapters.add(ch.id)
            counts["chapters"] += 1
        s.flush()
        for ch in course.chapters:
            for sec in ch.sections:
                upsert(
                    SectionRow,
                    sec.id,
                    dict(
                        id=sec.id,
                        chapter_id=ch.id,
                        position=sec.position,
                        title=sec.title,
                        body_md=sec.body_md,
                        body_html=html[sec.id],
                        retired=False,
                    ),
                    sections,
                )
                live_sections.add(sec.id)
                counts["sections"] += 1
        s.flush()
        for ch in course.chapters:
            for q in ch.questions:
                _, created = upsert(
                    QuestionRow,
                    q.id,
                    dict(
                        id=q.id,
                        chapter_id=ch.id,
                        section_id=q.section_id,
                        position=q.position,
                        type=q.type,
                        prompt=q.prompt,
                        choices=list(q.choices) if q.choices is not None else None,
                        answer=q.answer,
                        explanation=q.explanation,
                        difficulty=q.difficulty,
                        hint=q.hint,
                        expected_seconds=q.expected_seconds,
                        retired=False,
                    ),
                    questions,
                )
                live_questions.add(q.id)
                counts["questions"] += 1
                counts["new_questions"] += int(created)
        s.flush()

        for rows, live in (
            (domains, live_domains),
            (comps, live_comps),
            (chapters, live_chapters),
            (sections, live_sections),
        ):
            for key, row in rows.items():
                if key not in live and not row.retired:
                    row.retired = True
        for key, row in questions.items():
            if key not in live_questions and not row.retired:
                row.retired = True
                counts["retired_questions"] += 1

        labs = {r.id: r for r in s.scalars(select(LabRow))}
        live_labs = set()
        for position, lab in enumerate(course.labs):
            upsert(
                LabRow,
                lab.id,
                dict(
                    id=lab.id,
                    position=position,
                    title=lab.title,
                    chapter_id=lab.chapter_id,
                    competencies=list(lab.competencies),
                    difficulty=lab.difficulty,
                    summary=lab.summary,
                    instructions_md=lab.instructions,
                    instructions_html=html[f"lab:{lab.id}"],
                    hints=list(lab.hints),
                    checks=list(lab.raw_checks),
                    reads=list(lab.reads),
                    solution=lab.solution,
                    start=lab.start,
                    retired=False,
                ),
                labs,
            )
            live_labs.add(lab.id)
        for key, row in labs.items():
            if key not in live_labs and not row.retired:
                row.retired = True
        counts["labs"] = len(live_labs)

        # Link tables are derived from the files: rebuild them for what is live.
        s.execute(delete(SectionCompetencyRow))
        s.execute(delete(QuestionCompetencyRow))
        s.flush()
        s.add_all(
            SectionCompetencyRow(section_id=sec.id, competency_id=cid)
            for ch in course.chapters
            for sec in ch.sections
            for cid in dict.fromkeys(sec.competencies)
        )
        s.add_all(
            QuestionCompetencyRow(question_id=q.id, competency_id=cid)
            for ch in course.chapters
            for q in ch.questions
            for cid in dict.fromkeys(q.competencies)
        )
        state = s.get(ContentStateRow, 1)
        values = dict(
            id=1,
            course_id=course.id,
            title=course.title,
            version=course.version,
            kubernetes_version=course.kubernetes_version,
            checksum=checksum,
            loaded_at=now,
        )
        if state is None:
            s.add(ContentStateRow(**values))
        else:
            for name, value in values.items():
                setattr(state, name, value)
        s.flush()
        return counts

    def snapshot(self) -> dict[str, Any] | None:
        """Everything the course routes serve, read in a handful of queries."""
        s = self.session
        state = s.get(ContentStateRow, 1)
        if state is None:
            return None
        domains = s.scalars(
            select(DomainRow).where(DomainRow.retired.is_(False)).order_by(DomainRow.position)
        ).all()
        comps = s.scalars(
            select(CompetencyRow)
            .where(CompetencyRow.retired.is_(False))
            .order_by(CompetencyRow.position)
        ).all()
        chapters = s.scalars(
            select(ChapterRow).where(ChapterRow.retired.is_(False)).order_by(ChapterRow.number)
        ).all()
        sections = s.scalars(
            select(SectionRow)
            .where(SectionRow.retired.is_(False))
            .order_by(SectionRow.chapter_id, SectionRow.position)
        ).all()
        section_comps = s.execute(
            select(SectionCompetencyRow.section_id, SectionCompetencyRow.competency_id)
        ).all()
        question_counts = s.execute(
            select(QuestionRow.section_id, func.count())
            .where(QuestionRow.retired.is_(False))
            .group_by(QuestionRow.section_id)
        ).all()
        questions = s.scalars(
            select(QuestionRow)
            .where(QuestionRow.retired.is_(False))
            .order_by(QuestionRow.chapter_id, QuestionRow.position)
        ).all()
        labs = s.scalars(
            select(LabRow).where(LabRow.retired.is_(False)).order_by(LabRow.position)
        ).all()
        question_comps = s.execute(
            select(QuestionCompetencyRow.question_id, QuestionCompetencyRow.competency_id)
        ).all()
        return {
            "state": state,
            "questions": questions,
            "question_competencies": question_comps,
            "labs": labs,
            "domains": domains,
            "competencies": comps,
            "chapters": chapters,
            "sections": sections,
            "section_competencies": section_comps,
            "question_counts": dict(question_counts),
        }


class SqlAttemptRepository:
    """Owner of `lab_attempts`."""

    def __init__(self, session: Session):
        self.session = session

    # Built once. Every verification stores an attempt, and adding a row through the ORM (the
    # unit-of-work flush) cost about twice the CPU of this one statement; nothing reads the row
    # back in the same unit of work.
    _INSERT = LabAttemptRow.__table__.insert()

    def add(self, **values: Any) -> int:
        """Store an attempt; returns its id."""
        return self.session.connection().execute(self._INSERT, values).inserted_primary_key[0]

    def page(
        self, learner_id: int, lab_id: str, before_id: int | None, limit: int
    ) -> list[LabAttemptRow]:
        """The learner's attempts at a lab, newest first."""
        stmt = select(LabAttemptRow).where(
            LabAttemptRow.learner_id == learner_id, LabAttemptRow.lab_id == lab_id
        )
        if before_id:
            stmt = stmt.where(LabAttemptRow.id < before_id)
        return list(self.session.scalars(stmt.order_by(LabAttemptRow.id.desc()).limit(limit)))

    def count(self, learner_id: int, lab_id: str) -> int:
        """How many attempts the learner made at a lab."""
        return self.session.scalar(
            select(func.count())
            .select_from(LabAttemptRow)
            .where(LabAttemptRow.learner_id == learner_id, LabAttemptRow.lab_id == lab_id)
        )

    def summary(self, learner_id: int) -> dict[str, tuple[int, float, bool]]:
        """Per lab: (attempts, best score, ever passed) for the learner."""
        rows = self.session.execute(
            select(
                LabAttemptRow.lab_id,
                func.count(),
                func.max(LabAttemptRow.score),
                func.max(case((LabAttemptRow.passed, 1), else_=0)),
            )
            .where(LabAttemptRow.learner_id == learner_id)
            .group_by(LabAttemptRow.lab_id)
        ).all()
        return {lab_id: (n, best, bool(passed)) for lab_id, n, best, passed in rows}


_CONVERSATIONS = ConversationRow.__table__
_MESSAGES = ConversationMessageRow.__table__


class SqlConversationRepository:
    """Owner of `conversations` and `conversation_messages`."""

    def __init__(self, session: Session):
        self.session = session

    # Every chat message reads a conversation's state, compare-and-sets it and appends two
    # messages. Built per call and run through the ORM (a flush per new row) or even Core,
    # these cost several times what the database did; prepared as the review hot path's are
    # (`Prepared`), each is about what the driver takes. Nothing reads the rows back.
    _STATE = Prepared(
        select(_CONVERSATIONS.c.state, _CONVERSATIONS.c.version).where(
            _CONVERSATIONS.c.id == bindparam("conversation_id"),
            _CONVERSATIONS.c.learner_id == bindparam("learner_id"),
        )
    )
    _SAVE_STATE = Prepared(
        _CONVERSATIONS.update()
        .where(
            _CONVERSATIONS.c.id == bindparam("conversation_id"),
            _CONVERSATIONS.c.version == bindparam("expected_version"),
        )
        .values(
            state=bindparam("new_state"),
            version=bindparam("new_version"),
            updated_at=bindparam("now"),
        )
    )
    _ADD_MESSAGE = Prepared(
        _MESSAGES.insert()
        .values(
            conversation_id=bindparam("conversation_id"),
            role=bindparam("role"),
            text=bindparam("text"),
            payload=bindparam("payload"),
            created_at=bindparam("created_at"),
        )
        .returning(_MESSAGES.c.id)
    )

    def create(
        self, conversation_id: str, learner_id: int, state: dict[str, Any], now: dt.datetime
    ) -> ConversationRow:
        """A new conversation."""
        row = ConversationRow(
            id=conversation_id,
            learner_id=learner_id,
            state=state,
            version=1,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, conversation_id: str, learner_id: int) -> ConversationRow | None:
        """The learner's conversation (another learner's is as good as missing)."""
        return self.session.scalar(
            select(ConversationRow).where(
                ConversationRow.id == conversation_id, ConversationRow.learner_id == learner_id
            )
        )

    def state(self, conversation_id: str, learner_id: int) -> ConversationState | None:
        """The state and version of the learner's conversation, or None (missing or not
        theirs): one indexed read of the two columns a message needs."""
        rows = self._STATE.all(
            self.session, {"conversation_id": conversation_id, "learner_id": learner_id}
        )
        return ConversationState(from_json(rows[0][0]), rows[0][1]) if rows else None

    def save_state(
        self, conversation_id: str, expected_version: int, state: dict[str, Any], now: dt.datetime
    ) -> bool:
        """Compare-and-set the state; False when another message changed it first."""
        matched = self._SAVE_STATE.run(
            self.session,
            {
                "conversation_id": conversation_id,
                "expected_version": expected_version,
                "new_state": state,
                "new_version": expected_version + 1,
                "now": now,
            },
        )
        return matched == 1

    def add_message(
        self,
        conversation_id: str,
        role: str,
        text: str,
        payload: dict[str, Any] | None,
        now: dt.datetime,
    ) -> StoredMessage:
        """Append a message; returned as written, with its new id."""
        ((message_id,),) = self._ADD_MESSAGE.all(
            self.session,
            {
                "conversation_id": conversation_id,
                "role": role,
                "text": text,
                "payload": payload,
                "created_at": now,
            },
        )
        return StoredMessage(message_id, role, text, payload, now)

    def messages(
        self, conversation_id: str, after_id: int, limit: int
    ) -> list[ConversationMessageRow]:
        """Messages in order, after `after_id`."""
        return list(
            self.session.scalars(
                select(ConversationMessageRow)
                .where(
                    ConversationMessageRow.conversation_id == conversation_id,
                    ConversationMessageRow.id > after_id,
                )
                .order_by(ConversationMessageRow.id)
                .limit(limit)
            )
        )

    def page(self, learner_id: int, limit: int) -> list[ConversationRow]:
        """The learner's conversations, most recent first."""
        return list(
            self.session.scalars(
                select(ConversationRow)
                .where(ConversationRow.learner_id == learner_id)
                .order_by(ConversationRow.updated_at.desc())
                .limit(limit)
            )
        )


class SqlUnitOfWork:
    """One session and transaction; leaving without `commit()` rolls everything back."""

    def __init__(self, factory: sessionmaker[Session]):
        self._factory = factory

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._factory()
        self.learners = SqlLearnerRepository(self.session)
        self.tokens = SqlTokenRepository(self.session)
        self.content = SqlContentRepository(self.session)
        self.reviews = SqlReviewRepository(self.session)
        self.attempts = SqlAttemptRepository(self.session)
        self.conversations = SqlConversationRepository(self.session)
        self.slack = SqlSlackRepository(self.session)
        self.merges = SqlLearnerMergeRepository(self.session)
        return self

    def __exit__(self, *exc: object) -> None:
        # close() rolls back anything uncommitted and detaches rows without expiring them,
        # so values read inside the unit of work stay readable after it.
        self.session.close()

    def commit(self) -> None:
        """Make every change of this unit of work durable, at once."""
        self.session.commit()


class SqlTokenLookup:
    """The authentication hot path: one indexed query on a pooled DBAPI connection.

    It runs on every authenticated request, outside any unit of work, so it skips the
    session and SQLAlchemy's execution layer: a `Prepared` statement on the pool's raw
    connection (measured: about a fifth of the Core path's time).
    """

    _TIMES = ("created_at", "updated_at", "expires_at", "revoked_at")
    _NAMES = (*_LEARNER_FIELDS, "expires_at", "revoked_at")
    _QUERY = Prepared(
        select(
            *(getattr(LearnerRow, f) for f in _LEARNER_FIELDS),
            AccessTokenRow.expires_at,
            AccessTokenRow.revoked_at,
        )
        .join(LearnerRow, LearnerRow.id == AccessTokenRow.learner_id)
        .where(AccessTokenRow.token_hash == bindparam("token_hash"))
    )

    def __init__(self, engine):
        self._engine = engine

    def lookup(self, token_hash: str, now: dt.datetime) -> Learner | None:
        """The learner owning this unexpired, unrevoked token, or None."""
        conn = self._engine.raw_connection()
        try:
            cursor = self._QUERY.execute_on(self._engine.dialect, conn, {"token_hash": token_hash})
            try:
                raw = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            conn.close()  # back to the pool
        if raw is None:
            return None
        row = dict(zip(self._NAMES, raw, strict=True))
        for name in self._TIMES:
            row[name] = utc(row[name])
        if row["revoked_at"] is not None or row["expires_at"] <= now:
            return None
        return Learner(**{f: row[f] for f in _LEARNER_FIELDS})


class SqlSlackRepository:
    """Owner of `slack_identities`, `slack_link_codes`, `slack_reminders` and
    `slack_reminder_sends`."""

    def __init__(self, session: Session):
        self.session = session

    # -- identities -----------------------------------------------------------------------
    def identity(self, team_id: str, user_id: str) -> SlackIdentityRow | None:
        """The identity of a Slack user in a workspace, or None."""
        return self.session.scalar(
            select(SlackIdentityRow).where(
                SlackIdentityRow.team_id == team_id, SlackIdentityRow.user_id == user_id
            )
        )

    def identity_by_id(self, identity_id: int) -> SlackIdentityRow | None:
        """The identity with this id, or None."""
        return self.session.get(SlackIdentityRow, identity_id)

    def identities_of(self, learner_id: int) -> list[SlackIdentityRow]:
        """The learner's Slack identities, most recently used first."""
        return list(
            self.session.scalars(
                select(SlackIdentityRow)
                .where(SlackIdentityRow.learner_id == learner_id)
                .order_by(SlackIdentityRow.updated_at.desc(), SlackIdentityRow.id.desc())
            )
        )

    def add_identity(self, **values: Any) -> SlackIdentityRow | None:
        """Insert an identity; None when a racing request inserted the same user first."""
        row = SlackIdentityRow(**values)
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            return None
        return row

    def update_identity(self, identity_id: int, **values: Any) -> None:
        """Change an identity (its learner, conversation, ownership, last use)."""
        self.session.execute(
            update(SlackIdentityRow).where(SlackIdentityRow.id == identity_id).values(**values)
        )

    # -- link codes -----------------------------------------------------------------------
    def add_code(
        self, code_hash: str, learner_id: int, now: dt.datetime, expires_at: dt.datetime
    ) -> None:
        """Store a new code's hash; the learner's earlier unused codes stop working."""
        self.session.execute(
            delete(SlackLinkCodeRow).where(
                SlackLinkCodeRow.learner_id == learner_id, SlackLinkCodeRow.used_at.is_(None)
            )
        )
        self.session.add(
            SlackLinkCodeRow(
                code_hash=code_hash, learner_id=learner_id, created_at=now, expires_at=expires_at
            )
        )
        self.session.flush()

    def use_code(self, code_hash: str, now: dt.datetime) -> int | None:
        """Mark an unexpired, unused code used and return its learner; None otherwise.

        The compare-and-set is in the UPDATE, so a code can be used once only.
        """
        row = self.session.scalar(
            select(SlackLinkCodeRow).where(SlackLinkCodeRow.code_hash == code_hash)
        )
        if row is None:
            return None
        result = self.session.execute(
            update(SlackLinkCodeRow)
            .where(
                SlackLinkCodeRow.id == row.id,
                SlackLinkCodeRow.used_at.is_(None),
                SlackLinkCodeRow.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return row.learner_id if result.rowcount == 1 else None

    # -- reminders ------------------------------------------------------------------------
    def reminder(self, learner_id: int) -> SlackReminderRow | None:
        """The learner's reminder settings, or None."""
        return self.session.get(SlackReminderRow, learner_id)

    def save_reminder(self, learner_id: int, **values: Any) -> SlackReminderRow:
        """Create or change the learner's reminder settings."""
        row = self.session.get(SlackReminderRow, learner_id)
        if row is None:
            row = SlackReminderRow(learner_id=learner_id, **values)
            self.session.add(row)
        else:
            for name, value in values.items():
                setattr(row, name, value)
        self.session.flush()
        return row

    def enabled_reminders(self) -> list[tuple[SlackReminderRow, SlackIdentityRow, Learner]]:
        """Every switched-on reminder with the identity to message and the learner."""
        rows = self.session.execute(
            select(SlackReminderRow, SlackIdentityRow, LearnerRow)
            .join(SlackIdentityRow, SlackIdentityRow.id == SlackReminderRow.identity_id)
            .join(LearnerRow, LearnerRow.id == SlackReminderRow.learner_id)
            .where(SlackReminderRow.enabled.is_(True))
            .order_by(SlackReminderRow.learner_id)
        ).all()
        return [(r, i, learner_from_row(lr)) for r, i, lr in rows]

    def claim_send(self, learner_id: int, local_date: dt.date, now: dt.datetime) -> int | None:
        """Insert today's send row before sending; None when one exists (sent or being sent).

        The UNIQUE (learner_id, local_date) key decides: of two overlapping runs, the second
        insert fails (on PostgreSQL it waits for the first to commit, then fails).
        """
        row = SlackReminderSendRow(
            learner_id=learner_id, local_date=local_date, status="claimed", claimed_at=now
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            return None
        return row.id

    def finish_send(
        self,
        send_id: int,
        status: str,
        now: dt.datetime,
        due_count: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Record how a claimed send ended."""
        self.session.execute(
            update(SlackReminderSendRow)
            .where(SlackReminderSendRow.id == send_id)
            .values(status=status, finished_at=now, due_count=due_count, detail=detail)
        )

    def release_send(self, send_id: int) -> None:
        """Drop a claim whose message certainly did not leave (a later run may try again)."""
        self.session.execute(delete(SlackReminderSendRow).where(SlackReminderSendRow.id == send_id))

    def sends(self, learner_id: int) -> list[SlackReminderSendRow]:
        """The learner's reminder sends, oldest first."""
        return list(
            self.session.scalars(
                select(SlackReminderSendRow)
                .where(SlackReminderSendRow.learner_id == learner_id)
                .order_by(SlackReminderSendRow.local_date, SlackReminderSendRow.id)
            )
        )


class SqlLearnerMergeRepository:
    """Moves everything a learner owns to another learner: the one place that does it.

    Linking a Slack-only account to a web account merges the histories. Every table a
    learner fills is listed here; a new learner-owned table must be added.
    """

    def __init__(self, session: Session):
        self.session = session

    def merge(self, source_id: int, target_id: int, now: dt.datetime) -> dict[str, int]:
        """Move `source_id`'s data to `target_id`, then delete the source learner.

        Cards: where both have a card for the same question, the one reviewed most recently
        is kept (the target's on a tie) and every review log of the other is re-pointed to
        it before the other is deleted, so no review is lost; the kept card's version moves
        past both, so a client holding either version must reload. Runs in the caller's
        transaction: all of it happens, or none.
        """
        s = self.session
        counts = {"cards": 0, "cards_merged": 0, "review_logs": 0, "lab_attempts": 0}
        columns = (CardRow.id, CardRow.question_id, CardRow.last_review, CardRow.version)
        columns += (CardRow.introduced_at,)
        theirs = {
            r.question_id: r
            for r in s.execute(select(*columns).where(CardRow.learner_id == target_id))
        }
        oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
        mine = s.execute(select(*columns).where(CardRow.learner_id == source_id)).all()
        counts["cards"] = len(mine)
        for card in mine:
            other = theirs.get(card.question_id)
            if other is None:
                continue
            counts["cards_merged"] += 1
            source_newer = (card.last_review or oldest) > (other.last_review or oldest)
            keep, drop = (card, other) if source_newer else (other, card)
            s.execute(
                update(ReviewLogRow).where(ReviewLogRow.card_id == drop.id).values(card_id=keep.id)
            )
            s.execute(delete(CardRow).where(CardRow.id == drop.id))
            s.execute(
                update(CardRow)
                .where(CardRow.id == keep.id)
                .values(
                    version=max(card.version, other.version) + 1,
                    introduced_at=min(card.introduced_at, other.introduced_at),
                    updated_at=now,
                )
            )
        s.execute(
            update(CardRow).where(CardRow.learner_id == source_id).values(learner_id=target_id)
        )
        counts["review_logs"] = s.execute(
            update(ReviewLogRow)
            .where(ReviewLogRow.learner_id == source_id)
            .values(learner_id=target_id)
        ).rowcount
        counts["lab_attempts"] = s.execute(
            update(LabAttemptRow)
            .where(LabAttemptRow.learner_id == source_id)
            .values(learner_id=target_id)
        ).rowcount
        s.execute(
            update(ConversationRow)
            .where(ConversationRow.learner_id == source_id)
            .values(learner_id=target_id)
        )
        s.execute(
            update(SlackIdentityRow)
            .where(SlackIdentityRow.learner_id == source_id)
            .values(learner_id=target_id, owns_learner=False, updated_at=now)
        )
        if s.get(SlackReminderRow, target_id) is None:
            s.execute(
                update(SlackReminderRow)
                .where(SlackReminderRow.learner_id == source_id)
                .values(learner_id=target_id)
            )
        target_days = select(SlackReminderSendRow.local_date).where(
            SlackReminderSendRow.learner_id == target_id
        )
        s.execute(
            delete(SlackReminderSendRow).where(
                SlackReminderSendRow.learner_id == source_id,
                SlackReminderSendRow.local_date.in_(target_days.scalar_subquery()),
            )
        )
        s.execute(
            update(SlackReminderSendRow)
            .where(SlackReminderSendRow.learner_id == source_id)
            .values(learner_id=target_id)
        )
        # What is left of the source (its own reminder when the target has one, codes,
        # tokens) goes with it.
        s.execute(delete(SlackReminderRow).where(SlackReminderRow.learner_id == source_id))
        s.execute(delete(SlackLinkCodeRow).where(SlackLinkCodeRow.learner_id == source_id))
        s.execute(delete(AccessTokenRow).where(AccessTokenRow.learner_id == source_id))
        s.execute(delete(LearnerRow).where(LearnerRow.id == source_id))
        s.expire_all()
        return counts
