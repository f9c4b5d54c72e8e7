"""Accounts: registration, tokens, the learner's own settings, and admin changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from ..domain import accounts as rules
from ..domain.accounts import Learner
from ..domain.errors import Forbidden, NotFound, Unauthorized
from .ports import Clock, PasswordHasher, UnitOfWork

TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 (a database leak reveals no usable token)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    """A token as given to the client, once."""

    access_token: str
    expires_in: int
    expires_at: dt.datetime
    token_type: str = "Bearer"


class AccountService:
    """Use cases around learner accounts."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        hasher: PasswordHasher,
        clock: Clock,
        token_ttl: int,
        lookup: Callable[[str, dt.datetime], Learner | None],
        *,
        read_uow: Callable[[], UnitOfWork] | None = None,
    ):
        self._uow = uow
        # Reads go through connections that take no write lock (SQLite: no BEGIN IMMEDIATE).
        self._read = read_uow or uow
        self._hasher = hasher
        self._clock = clock
        self._ttl = token_ttl
        self._lookup = lookup

    def _issue(self, uow: UnitOfWork, learner_id: int, now: dt.datetime) -> IssuedToken:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        expires = now + dt.timedelta(seconds=self._ttl)
        uow.tokens.add(hash_token(token), learner_id, now, expires)
        return IssuedToken(token, self._ttl, expires)

    def register(
        self,
        username: str,
        password: str,
        email: str | None = None,
        display_name: str | None = None,
        role: str = "learner",
    ) -> tuple[Learner, IssuedToken]:
        """Create a learner and their first token in one transaction."""
        rules.check_registration(username, password, email)
        now = self._clock.now()
        password_hash = self._hasher.hash(password)
        with self._uow() as uow:
            learner = uow.learners.add(
                username=username,
                email=email,
                password_hash=password_hash,
                display_name=display_name,
                role=role,
                timezone="UTC",
                desired_retention=0.9,
                new_cards_per_day=20,
                daily_goal=50,
                namespace=None,
                version=1,
                created_at=now,
                updated_at=now,
            )
            token = self._issue(uow, learner.id, now)
            uow.commit()
        return learner, token

    def issue_token(self, username: str, password: str) -> IssuedToken:
        """A new token for valid credentials; the same 401 whichever part was wrong."""
        with self._uow() as uow:
            found = uow.learners.by_username(username) if isinstance(username, str) else None
            ok = self._hasher.verify(found[1] if found else None, password)
            if not found or not ok:
                raise Unauthorized("the username or password is wrong")
            token = self._issue(uow, found[0].id, self._clock.now())
            uow.commit()
        return token

    def authenticate(self, token: str) -> Learner:
        """The learner owning `token`; 401 when it is unknown, expired or revoked."""
        learner = self._lookup(hash_token(token), self._clock.now())
        if learner is None:
            raise Unauthorized("the access token is invalid, expired or revoked")
        return learner

    def logout(self, token: str) -> None:
        """Revoke the presented token (idempotent)."""
        with self._uow() as uow:
            uow.tokens.revoke(hash_token(token), self._clock.now())
            uow.commit()

    def update_settings(
        self, learner: Learner, changes: dict[str, Any], version: int | None
    ) -> Learner:
        """Change the learner's own settings; a stale `version` is a 409 with the current state."""
        rules.check_settings(changes)
        with self._uow() as uow:
            updated = uow.learners.update(
                learner.id, version, **changes, updated_at=self._clock.now()
            )
            uow.commit()
        return updated

    def list_learners(self, actor: Learner, after_id: int, limit: int) -> list[Learner]:
        """A page of learners, for admins."""
        _require_admin(actor)
        with self._read() as uow:
            return uow.learners.page(after_id, limit)

    def get_learner(self, actor: Learner, learner_id: int) -> Learner:
        """A learner by id, for admins."""
        _require_admin(actor)
        with self._read() as uow:
            learner = uow.learners.get(learner_id)
        if learner is None:
            raise NotFound(f"learner {learner_id} does not exist")
        return learner

    def admin_update(
        self, actor: Learner, learner_id: int, changes: dict[str, Any], version: int | None
    ) -> Learner:
        """Change a learner's role or namespace binding, for admins."""
        _require_admin(actor)
        rules.check_admin_changes(changes)
        if learner_id == actor.id and changes.get("role", "admin") != "admin":
            raise Forbidden("an admin cannot remove their own admin role")
        with self._uow() as uow:
            if uow.learners.get(learner_id) is None:
                raise NotFound(f"learner {learner_id} does not exist")
            updated = uow.learners.update(
                learner_id, version, **changes, updated_at=self._clock.now()
            )
            uow.commit()
        return updated


def _require_admin(actor: Learner) -> None:
    if not actor.is_admin:
        raise Forbidden("this route is for admins only")
