"""Password hashing with argon2 (argon2-cffi's defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8


class WeakPassword(ValueError):
    pass


class Passwords:
    """What the web app and the CLI use to hash and check passwords; built once, passed in."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()
        # Verifying against this when the user does not exist keeps the response time the same,
        # so timing does not reveal which user names exist.
        self._dummy = self._hasher.hash("not-a-real-password")

    def hash(self, password: str) -> str:
        if len(password or "") < MIN_LENGTH:
            raise WeakPassword(f"密码至少 {MIN_LENGTH} 位")
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no hash (no such user) it costs the same and fails."""
        try:
            return self._hasher.verify(password_hash or self._dummy, password or "") and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
