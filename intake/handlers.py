"""Handlers that turn intake messages into application commands.

Transport-free: the Kafka consumer and the in-process bus hand them the same records (anything
with ``topic``, ``partition``, ``offset``, ``key`` and ``value``) and act on the ``Outcome``: dead
letters to publish, counts to log. A message that can never succeed (invalid, or refused by the
domain: code ``refused``) becomes a dead letter with a reason; anything that may succeed later (a
lost race, a lock timeout, an unavailable store: application/failures.py) raises, so that the
caller retries the batch without committing it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hotline.application import HotlineApplication
from hotline.domain.actors import DEPARTMENT, SYSTEM_ACTOR, Actor
from hotline.domain.case import Case
from hotline.domain.errors import DomainError
from hotline.intake.messages import (
    API_KEY_HEADER,
    DLQ_CODE,
    DLQ_FAILED_AT,
    DLQ_REASON,
    DLQ_SOURCE,
    CallMessage,
    DepartmentAction,
    InvalidMessage,
    Outgoing,
    Topics,
    header,
    parse_call,
    parse_reply,
)
from hotline.intake.telephony import TelephonyError, TelephonyEvent, parse_telephony

log = logging.getLogger(__name__)

# The event each department action records: a stored one with the same actor and time is a repeat.
ACTION_EVENTS: dict[str, type[Case.Event]] = {
    "sign": Case.Signed,
    "return": Case.ReturnRequested,
    "request_extension": Case.ExtensionRequested,
    "reply": Case.Replied,
}


class Record(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class DeadLetter:
    record: Any  # a Record
    reason: str
    code: str


@dataclass
class Outcome:
    messages: int = 0
    created: int = 0
    repeats: int = 0
    routed: int = 0
    manual: int = 0
    applied: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)

    def add(self, other: Outcome) -> Outcome:
        for name in ("messages", "created", "repeats", "routed", "manual", "applied"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.dead_letters.extend(other.dead_letters)
        return self


def refusal_code(error: DomainError) -> str:
    """The dead-letter code of what the domain refused: ``implausible_time`` for a reported time
    the plausibility rules refuse (rules/time_plausibility.toml), ``refused`` for the rest."""
    return getattr(error, "code", "refused")


class CallIntake:
    """``hotline.calls``: each valid call becomes one case, routed at once where a rule matches."""

    def __init__(self, app: HotlineApplication, actor: Actor = SYSTEM_ACTOR):
        self.app = app
        self.actor = actor
        self.districts = tuple(app.rules.districts)

    def parse(self, record: Record) -> CallMessage:
        return parse_call(record.value, self.districts)

    def handle(self, records: Sequence[Record]) -> Outcome:
        outcome = Outcome(messages=len(records))
        valid: list[tuple[Record, CallMessage]] = []
        for record in records:
            try:
                valid.append((record, self.parse(record)))
            except InvalidMessage as error:
                outcome.dead_letters.append(DeadLetter(record, error.reason, error.code))
        if not valid:
            return outcome
        try:
            openings = self.app.open_cases([(m.call, m.received_at) for _, m in valid], self.actor)
        except DomainError:
            # Something the parser let through and the domain refuses: find it, keep the rest.
            openings = []
            for record, message in valid:
                try:
                    openings.extend(self.app.open_cases([(message.call, message.received_at)], self.actor))
                except DomainError as error:
                    outcome.dead_letters.append(DeadLetter(record, str(error), refusal_code(error)))
        for opening in openings:
            if not opening.created:
                outcome.repeats += 1
                continue
            outcome.created += 1
            if opening.department:
                outcome.routed += 1
            else:
                outcome.manual += 1
        return outcome


class ReplyIntake:
    """``hotline.replies``: a department's sign / return / request_extension / reply on a case."""

    def __init__(self, app: HotlineApplication):
        self.app = app

    def handle(self, records: Iterable[Record]) -> Outcome:
        outcome = Outcome()
        for record in records:
            outcome.messages += 1
            try:
                action = parse_reply(record.value)
                self._authenticate(record, action)
                if self._apply(action):
                    outcome.applied += 1
                else:
                    outcome.repeats += 1
            except InvalidMessage as error:
                outcome.dead_letters.append(DeadLetter(record, error.reason, error.code))
            except DomainError as error:
                outcome.dead_letters.append(DeadLetter(record, str(error), refusal_code(error)))
        return outcome

    def _authenticate(self, record: Record, action: DepartmentAction) -> None:
        """Only the department's own system, with its key (``hotline apikey create --department``)
        in the ``hotline-api-key`` header, acts in its name; anything else is never applied."""
        department = self.app.authenticate_department(header(record, API_KEY_HEADER))
        if department is None:
            raise InvalidMessage(
                f"缺少有效的承办单位接口密钥（消息头 {API_KEY_HEADER}；密钥未知、已吊销或不是承办单位的密钥）",
                "unauthenticated",
            )
        if department != action.department:
            raise InvalidMessage(
                f"接口密钥属于{self.app.rules.department_name(department)}，"
                f"不能以{self.app.rules.department_name(action.department)}的名义办理",
                "unauthenticated",
            )

    def _apply(self, action: DepartmentAction) -> bool:
        """Apply once; False when the case already records this very action (a redelivery)."""
        # A lost race with another writer of the case is run again inside the command; one that
        # keeps losing raises LostRace, transient: the consumer retries the batch, uncommitted.
        if self._already_applied(action):
            return False
        self._command(action, Actor(action.actor_id, DEPARTMENT, action.department))
        return True

    def _already_applied(self, action: DepartmentAction) -> bool:
        kind = ACTION_EVENTS[action.action]
        return any(
            isinstance(e, kind) and e.actor_id == action.actor_id and e.reported_at == action.at
            for e in self.app.case_events(action.ticket_no)
        )

    def _command(self, action: DepartmentAction, actor: Actor) -> None:
        app, ticket, at = self.app, action.ticket_no, action.at
        if action.action == "sign":
            app.sign(ticket, actor, reported_at=at)
        elif action.action == "return":
            app.return_case(ticket, actor, action.reason, action.basis, reported_at=at)
        elif action.action == "request_extension":
            app.request_extension(ticket, actor, action.working_days, action.reason, reported_at=at)
        else:
            app.reply(ticket, actor, action.result, action.resolved, reported_at=at)


class Intake:
    """Every intake handler behind one entry point, shared by the Kafka consumer and the bus."""

    def __init__(
        self,
        app: HotlineApplication,
        topics: Topics | None = None,
        telephony: Callable[[list[TelephonyEvent]], Any] | None = None,
    ):
        self.clock = app.clock
        self.topics = topics or Topics()
        self.calls = CallIntake(app)
        self.replies = ReplyIntake(app)
        self.telephony = telephony  # where the switch's messages go (the read models' telephony log)

    @property
    def subscribed(self) -> list[str]:
        topics = [self.topics.calls, self.topics.replies]
        return [*topics, self.topics.telephony] if self.telephony else topics

    def handle(self, records: Sequence[Record]) -> Outcome:
        outcome = self.calls.handle([r for r in records if r.topic == self.topics.calls])
        outcome = outcome.add(self.replies.handle([r for r in records if r.topic == self.topics.replies]))
        if self.telephony:
            self.telephony(self._telephony([r for r in records if r.topic == self.topics.telephony]))
        return outcome

    @staticmethod
    def _telephony(records: Sequence[Record]) -> list[TelephonyEvent]:
        """The switch's messages; one that cannot be read is logged and skipped (the feed goes on)."""
        found = []
        for record in records:
            try:
                found.append(parse_telephony(record.value or b""))
            except TelephonyError as error:
                log.warning("话务消息无效 %s/%s/%s：%s", record.topic, record.partition, record.offset, error)
        return found

    def dead_letter(self, letter: DeadLetter) -> Outgoing:
        record = letter.record
        log.warning("死信 %s/%s/%s：%s", record.topic, record.partition, record.offset, letter.reason)
        headers = (
            (DLQ_REASON, letter.reason.encode("utf-8")),
            (DLQ_CODE, letter.code.encode("utf-8")),
            (DLQ_SOURCE, f"{record.topic}/{record.partition}/{record.offset}".encode()),
            (DLQ_FAILED_AT, self.clock.now().isoformat().encode()),
        )
        return Outgoing(self.topics.dead_letter_topic(record.topic), record.key, record.value, headers)
