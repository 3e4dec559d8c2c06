"""Password hashing with argon2 (argon2-cffi's defaults follow RFC 9106's recommendations), and
the password policy: at least 12 characters, and not a common password (infra/common_passwords.txt)."""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
SEQUENCES = (
    "0123456789012345678901234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb",
)
LOOK_ALIKES = str.maketrans("@4310$5!7", "aaeiossit")


class WeakPassword(ValueError):
    pass


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def weakness(password: str) -> str | None:
    """Why ``password`` is refused (in Chinese), or None when it may be used."""
    if len(password or "") < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位"
    lowered = password.lower()
    core = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", lowered)  # admin2024! → admin
    candidates = {lowered, core, core.translate(LOOK_ALIKES), lowered.translate(LOOK_ALIKES)}
    words = common_passwords()
    for candidate in candidates:
        unit = _repeated_unit(candidate)
        if candidate in words or (unit and (unit in words or len(unit) <= 4)):
            return "密码过于常见，请换一个不易猜到的密码（可用几个词组成的长句）"
    sequence = any(len(c) >= 4 and _is_sequence(text, c) for text in SEQUENCES for c in candidates)
    if sequence or len(set(lowered)) <= 3:
        return "密码是连续或重复的字符，请换一个不易猜到的密码"
    return None


def _repeated_unit(text: str) -> str | None:
    """'adminadmin' → 'admin', 'abcabcabcabc' → 'abc'; None when the text is not one piece repeated."""
    match = re.fullmatch(r"(.+?)\1+", text)
    return match.group(1) if match else None


def _is_sequence(sequence: str, text: str) -> bool:
    return text in sequence or text in sequence[::-1]


class Passwords:
    """What the web app and the CLI use to hash and check passwords; built once, passed in."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()

    @cached_property
    def _dummy(self) -> str:
        """Verifying against this when the user does not exist keeps the response time the same,
        so timing does not reveal which user names exist. Made when a web app starts (``ready``), not
        with the services: a hash takes argon2's 64 MiB for a moment, which a process that signs
        nobody in (a rebuild's worker, a CLI command) need not have at its peak."""
        return self._hasher.hash("not-a-real-password")

    def ready(self) -> None:
        """A web app makes the dummy hash before its first sign-in (``create_app``)."""
        self._dummy  # noqa: B018 - computed and kept

    def hash(self, password: str) -> str:
        if problem := weakness(password):
            raise WeakPassword(problem)
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no hash (no such user) it costs the same and fails."""
        try:
            return self._hasher.verify(password_hash or self._dummy, password or "") and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
