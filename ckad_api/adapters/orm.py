"""SQLAlchemy 2.x typed models: the only place that knows the tables.

Rows are mapped separately from domain values; repositories translate between them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with the project's naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LearnerRow(Base):
    """A learner account (role learner or admin)."""

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default="learner")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    desired_retention: Mapped[float] = mapped_column(Float, default=0.9)
    new_cards_per_day: Mapped[int] = mapped_column(Integer, default=20)
    daily_goal: Mapped[int] = mapped_column(Integer, default=50)
    namespace: Mapped[str | None] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AccessTokenRow(Base):
    """An access token, stored only as the SHA-256 of the token the client holds."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ContentStateRow(Base):
    """One row: which content is loaded (version and checksum) and when."""

    __tablename__ = "content_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))
    kubernetes_version: Mapped[str] = mapped_column(String(20))
    checksum: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DomainRow(Base):
    """An exam domain."""

    __tablename__ = "domains"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    weight: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class CompetencyRow(Base):
    """An exam competency inside a domain."""

    __tablename__ = "competencies"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class ChapterRow(Base):
    """A chapter of the course."""

    __tablename__ = "chapters"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    objectives: Mapped[list[str]] = mapped_column(JSON)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class SectionRow(Base):
    """A teaching section: the author's Markdown and its sanitised HTML."""

    __tablename__ = "sections"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    chapter_id: Mapped[str] = mapped_column(ForeignKey("chapters.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class SectionCompetencyRow(Base):
    """Which competencies a section teaches."""

    __tablename__ = "section_competencies"

    section_id: Mapped[str] = mapped_column(
        ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[str] = mapped_column(
        ForeignKey("competencies.id"), primary_key=True, index=True
    )


class QuestionRow(Base):
    """A review question. Retired (never deleted) when removed from the files."""

    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_chapter_position", "chapter_id", "position"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    chapter_id: Mapped[str] = mapped_column(ForeignKey("chapters.id"))
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    answer: Mapped[Any] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text)
    difficulty: Mapped[int] = mapped_column(Integer)
    hint: Mapped[str | None] = mapped_column(Text)
    expected_seconds: Mapped[int] = mapped_column(Integer)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class QuestionCompetencyRow(Base):
    """Which competencies a question tests."""

    __tablename__ = "question_competencies"

    question_id: Mapped[str] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[str] = mapped_column(
        ForeignKey("competencies.id"), primary_key=True, index=True
    )


class CardRow(Base):
    """One learner's FSRS card for one question (state in real columns, not a blob)."""

    __tablename__ = "cards"
    __table_args__ = (
        UniqueConstraint("learner_id", "question_id", name="uq_cards_learner_question"),
        # "What is due for this learner" is a range scan on this index.
        Index("ix_cards_learner_due", "learner_id", "due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"), index=True)
    state: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_review: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    introduced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ReviewLogRow(Base):
    """Every review, with the card state before and after; never deleted (undo marks it)."""

    __tablename__ = "review_logs"
    __table_args__ = (Index("ix_review_logs_learner_reviewed", "learner_id", "reviewed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(80))
    rating: Mapped[int] = mapped_column(Integer)
    answer: Mapped[Any] = mapped_column(JSON)
    correct: Mapped[bool | None] = mapped_column(Boolean)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    reviewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    state_before: Mapped[dict[str, Any]] = mapped_column(JSON)
    state_after: Mapped[dict[str, Any]] = mapped_column(JSON)
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LabRow(Base):
    """A lab as authored: instructions, rubric checks and the reference solution."""

    __tablename__ = "labs"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    chapter_id: Mapped[str] = mapped_column(ForeignKey("chapters.id"))
    competencies: Mapped[list[str]] = mapped_column(JSON)
    difficulty: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    instructions_md: Mapped[str] = mapped_column(Text)
    instructions_html: Mapped[str] = mapped_column(Text)
    hints: Mapped[list[str]] = mapped_column(JSON)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reads: Mapped[list[str]] = mapped_column(JSON)
    solution: Mapped[str] = mapped_column(Text)
    start: Mapped[str | None] = mapped_column(Text)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class LabAttemptRow(Base):
    """One verification of a lab by a learner: every check's outcome, kept for history."""

    __tablename__ = "lab_attempts"
    __table_args__ = (Index("ix_lab_attempts_learner_lab", "learner_id", "lab_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    lab_id: Mapped[str] = mapped_column(ForeignKey("labs.id"))
    source: Mapped[str] = mapped_column(String(16))
    namespace: Mapped[str | None] = mapped_column(String(63))
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    warnings: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ConversationRow(Base):
    """A tutor conversation; its state lives here so any worker can continue it."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ConversationMessageRow(Base):
    """One message of a conversation: the learner's text or the tutor's reply."""

    __tablename__ = "conversation_messages"
    __table_args__ = (Index("ix_conversation_messages_conv", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SlackIdentityRow(Base):
    """A Slack user (workspace and user id) and the learner account they study as."""

    __tablename__ = "slack_identities"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_slack_identities_team_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True
    )
    # True while the learner is the Slack-only account made on first use (merged on link).
    owns_learner: Mapped[bool] = mapped_column(Boolean, default=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SlackLinkCodeRow(Base):
    """A one-time code linking a Slack user to a learner: stored as a hash, expires, used once."""

    __tablename__ = "slack_link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SlackReminderRow(Base):
    """A learner's daily Slack reminder: on or off, the local time, whom to message."""

    __tablename__ = "slack_reminders"

    learner_id: Mapped[int] = mapped_column(
        ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("slack_identities.id", ondelete="CASCADE"), index=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    local_time: Mapped[str] = mapped_column(String(5))  # HH:MM, 24-hour
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the learner's timezone
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SlackReminderSendRow(Base):
    """One reminder per learner and local day: the row is inserted before the message is sent,
    and the unique key makes a second send that day impossible, even from overlapping runs."""

    __tablename__ = "slack_reminder_sends"
    __table_args__ = (
        UniqueConstraint("learner_id", "local_date", name="uq_slack_reminder_sends_learner_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    local_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # claimed, sent, skipped, failed
    due_count: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
