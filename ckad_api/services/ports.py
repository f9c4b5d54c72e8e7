"""The small interfaces services depend on. Adapters implement them; tests may fake them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Protocol

from ..domain.accounts import Learner
from ..domain.model import Course
from ..domain.scheduling import CardState


class Clock(Protocol):
    """Where services get the time; tests inject a fixed one."""

    def now(self) -> dt.datetime:  # pragma: no cover - protocol
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        return dt.datetime.now(dt.UTC)


class PasswordHasher(Protocol):
    """Hashes and verifies passwords (argon2 in production)."""

    def hash(self, password: str) -> str: ...  # pragma: no cover - protocol

    def verify(self, hashed: str, password: str) -> bool: ...  # pragma: no cover - protocol


class LearnerRepository(Protocol):
    """Owner of the learners table."""

    def get(self, learner_id: int) -> Learner | None: ...  # pragma: no cover - protocol

    def by_username(self, username: str) -> tuple[Learner, str] | None: ...  # pragma: no cover

    def add(self, **fields: Any) -> Learner: ...  # pragma: no cover - protocol

    def update(
        self, learner_id: int, expected_version: int | None, **changes: Any
    ) -> Learner: ...  # pragma: no cover - protocol

    def page(self, after_id: int, limit: int) -> list[Learner]: ...  # pragma: no cover


class TokenRepository(Protocol):
    """Owner of the access_tokens table."""

    def add(
        self, token_hash: str, learner_id: int, created_at: dt.datetime, expires_at: dt.datetime
    ) -> None: ...  # pragma: no cover - protocol

    def revoke(self, token_hash: str, now: dt.datetime) -> bool: ...  # pragma: no cover


class ContentRepository(Protocol):
    """Owner of the course tables."""

    def replace_course(
        self, course: Course, html: dict[str, str], checksum: str, now: dt.datetime
    ) -> dict[str, int]: ...  # pragma: no cover - protocol


class UnitOfWork(Protocol):
    """One transaction over the repositories: all of it happens, or none of it."""

    learners: LearnerRepository
    tokens: TokenRepository
    content: ContentRepository

    def __enter__(self) -> UnitOfWork: ...  # pragma: no cover - protocol

    def __exit__(self, *exc: object) -> None: ...  # pragma: no cover - protocol

    def commit(self) -> None: ...  # pragma: no cover - protocol


@dataclasses.dataclass(frozen=True, slots=True)
class CardRecord:
    """A stored card: its id, question, FSRS state and version (for compare-and-set)."""

    id: int
    question_id: str
    card: CardState
    version: int
    introduced_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class KnownCards:
    """What choosing new cards needs to know of a learner's cards."""

    seen: set[str]  # questions with an effective review (not new)
    parked: dict[str, int]  # question -> version of cards back to new (every review undone)
    introduced_today: int  # cards introduced since the start of the learner's local day


class CardConflict(Exception):
    """A card write lost a race: another request changed or created the card first."""


@dataclasses.dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message just stored in a conversation, as written (nothing is read back)."""

    id: int
    role: str  # "learner" or "tutor"
    text: str
    payload: dict[str, Any] | None  # the tutor's reply as plain data; None for the learner's
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class ConversationState:
    """What answering a message needs of a conversation: its state and version (for CAS)."""

    state: dict[str, Any]
    version: int
