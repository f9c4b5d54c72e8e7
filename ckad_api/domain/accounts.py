"""Learner accounts: the values and the rules for names, passwords and settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .errors import ValidationFailed
from .model import ROLES

# Lowercase DNS-label characters: the username also names the learner's lab namespace.
USERNAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,30}[a-z0-9])$")
NAMESPACE_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
EMAIL_MAX = 254  # RFC 5321: the longest address a mail server must accept
PASSWORD_MIN, PASSWORD_MAX = 10, 128
RETENTION_RANGE = (0.70, 0.99)
NEW_CARDS_RANGE = (0, 200)
DAILY_GOAL_RANGE = (1, 1000)
DEFAULT_NAMESPACE_PATTERN = "ckad-{username}"


@dataclasses.dataclass(frozen=True)
class Learner:
    """A learner as the services see it (never carries the password hash)."""

    id: int
    username: str
    email: str | None
    display_name: str | None
    role: str
    timezone: str
    desired_retention: float
    new_cards_per_day: int
    daily_goal: int
    namespace: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def is_admin(self) -> bool:
        """True for the admin role."""
        return self.role == "admin"

    def lab_namespace(self, pattern: str = DEFAULT_NAMESPACE_PATTERN) -> str:
        """The namespace bound to this learner: an admin's binding, or the pattern's default."""
        return self.namespace or pattern.format(username=self.username)


def check_registration(username: Any, password: Any, email: Any) -> None:
    """Raise `ValidationFailed` naming every field that breaks a rule."""
    errors: dict[str, list[str]] = {}
    if not isinstance(username, str) or not USERNAME_PATTERN.match(username):
        errors["username"] = [
            "must be 3-32 lowercase letters, digits or '-', starting and ending with a letter "
            "or digit (it also names your lab namespace)"
        ]
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        errors["password"] = [f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long"]
    elif username and isinstance(username, str) and password.lower() == username.lower():
        errors["password"] = ["must not be the same as the username"]
    if email is not None and (
        not isinstance(email, str) or len(email) > EMAIL_MAX or not EMAIL_PATTERN.match(email)
    ):
        errors["email"] = ["is not a valid email address"]
    if errors:
        raise ValidationFailed("the registration has invalid fields", errors=errors)


def check_settings(changes: dict[str, Any]) -> None:
    """Validate a partial update of a learner's own settings."""
    errors: dict[str, list[str]] = {}
    if "timezone" in changes and not valid_timezone(changes["timezone"]):
        errors["timezone"] = ["is not an IANA time zone name such as Europe/Paris"]
    if "desired_retention" in changes:
        low, high = RETENTION_RANGE
        value = changes["desired_retention"]
        if not isinstance(value, (int, float)) or not low <= value <= high:
            errors["desired_retention"] = [f"must be between {low} and {high}"]
    for field, (low, high) in (
        ("new_cards_per_day", NEW_CARDS_RANGE),
        ("daily_goal", DAILY_GOAL_RANGE),
    ):
        if field in changes:
            value = changes[field]
            if not isinstance(value, int) or not low <= value <= high:
                errors[field] = [f"must be an integer between {low} and {high}"]
    if errors:
        raise ValidationFailed("the settings have invalid fields", errors=errors)


def check_admin_changes(changes: dict[str, Any]) -> None:
    """Validate what an admin may change on a learner: role and namespace binding."""
    errors: dict[str, list[str]] = {}
    if "role" in changes and changes["role"] not in ROLES:
        errors["role"] = [f"must be one of {', '.join(ROLES)}"]
    ns = changes.get("namespace")
    if ns is not None and (not isinstance(ns, str) or not NAMESPACE_PATTERN.match(ns)):
        errors["namespace"] = ["must be a Kubernetes namespace name (DNS label, 63 characters)"]
    if errors:
        raise ValidationFailed("the changes have invalid fields", errors=errors)


_ZONES: frozenset[str] | None = None


def valid_timezone(name: Any) -> bool:
    """True when `name` is an IANA zone known to this system."""
    global _ZONES
    if not isinstance(name, str) or not name or len(name) > 64:
        return False
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    if name not in _ZONES:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
