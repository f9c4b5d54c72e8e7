"""Password hashing with argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    """argon2id with the library's recommended parameters; cheaper ones only for tests."""

    def __init__(self, fast_for_tests: bool = False):
        # Tests hash hundreds of passwords; production keeps argon2-cffi's RFC 9106 defaults.
        self._ph = (
            PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
            if fast_for_tests
            else PasswordHasher()
        )
        self._dummy = self._ph.hash("timing-equaliser-not-a-password")

    def hash(self, password: str) -> str:
        """A salted argon2id hash of `password`."""
        return self._ph.hash(password)

    def verify(self, hashed: str | None, password: str) -> bool:
        """True when `password` matches; checks a dummy hash for unknown users (same timing)."""
        try:
            return self._ph.verify(hashed or self._dummy, password) and hashed is not None
        except (VerificationError, InvalidHashError):
            return False
