"""Every failure classified once, here: may it succeed later, or never?

- **permanent**: the domain refuses the command for ever (``DomainError``: an unknown service, a
  step the case's state does not allow, a malformed value). A message that gets one is a dead
  letter with code ``refused``; a form shows the Chinese message and keeps what was typed.
- **transient**: trying again later may succeed: a lost race for an aggregate's version or a call
  id (``LostRace``), a lock that timed out, a store that is unavailable (the library's
  ``PersistenceError``: operational errors, pool exhaustion, an integrity error that escaped a
  command). Consumers retry with backoff without committing their offsets, however long it
  takes; a web request retries a few times (``retrying``) and then answers 503 with Retry-After.
- **unexpected**: anything else is a bug or a poison message; the consumer narrows it down to the
  message that fails alone (docs/messages.md).

A broker that cannot be reached is the consumer's own concern (it retries publishing and commits).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from eventsourcing.persistence import PersistenceError

from hotline.domain.errors import DomainError

PERMANENT, TRANSIENT, UNEXPECTED = "permanent", "transient", "unexpected"
BUSY = "系统繁忙，请稍后重试"
RETRY_AFTER_SECONDS = 2  # what a 503 tells the client to wait
REQUEST_ATTEMPTS = 5  # tries of one web request before it answers 503

T = TypeVar("T")


class Transient(Exception):
    """A failure that may go away if the same thing is tried again later."""

    def __init__(self, message: str = BUSY):
        super().__init__(message)


class LostRace(Transient):
    """Another writer got in first (the same aggregate version, the same call id), again and again."""


def classify(error: BaseException) -> str:
    if isinstance(error, Transient | PersistenceError):
        return TRANSIENT
    if isinstance(error, DomainError):
        return PERMANENT
    return UNEXPECTED


def is_transient(error: BaseException) -> bool:
    return classify(error) == TRANSIENT


def back_off(attempt: int, first: float = 0.002, most: float = 0.1) -> None:
    """Wait a random moment (up to ``first`` doubling per attempt, at most ``most``): writers that
    retry at once must not meet again in lockstep."""
    time.sleep(random.uniform(0, min(first * 2**attempt, most)))


def retrying(action: Callable[[], T], attempts: int = REQUEST_ATTEMPTS, first: float = 0.02) -> T:
    """``action``, tried again while it fails transiently (at most ``attempts`` times in all, with
    backoff); the last transient failure is raised for the caller to answer 503."""
    for attempt in range(attempts - 1):
        try:
            return action()
        except Exception as error:
            if not is_transient(error):
                raise
        back_off(attempt, first=first, most=0.5)
    return action()
