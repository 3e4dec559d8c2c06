"""The knowledge base (知识库): articles the seats read out to answer a call on the spot.

An article has a question, the answer to read out (答复口径), its basis (政策依据, with the
document number), the services it applies to, the department that owns it, and the dates it is
valid from and until. Lifecycle, each step an event with actor and time:

    起草 (drafted) → 提交审核 → 审核退回 | 发布 (revision 1) → 提出修订 → 提交审核 → 发布 (revision 2) … → 下线

A published article stays live while a revision of it is drafted and reviewed: the seats keep
reading the last published revision until the next one is published. Departments draft and revise
the articles they own; the hotline's knowledge editors review, publish and withdraw them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from hotline.domain.actors import ADMIN, DEPARTMENT, EDITOR, Actor, require_role
from hotline.domain.aggregate import HotlineAggregate
from hotline.domain.errors import DomainError, InvalidInput, InvalidTransition, NotPermitted
from hotline.domain.permits import Permit, Permitted
from hotline.domain.text import text

DRAFT = "draft"
IN_REVIEW = "in_review"
PUBLISHED = "published"
REVISING = "revising"
REVISION_IN_REVIEW = "revision_in_review"
WITHDRAWN = "withdrawn"
STATUS_NAMES = {
    DRAFT: "起草中",
    IN_REVIEW: "待审核",
    PUBLISHED: "已发布",
    REVISING: "修订中",
    REVISION_IN_REVIEW: "修订待审核",
    WITHDRAWN: "已下线",
}
LIVE = (PUBLISHED, REVISING, REVISION_IN_REVIEW)  # the last published revision is read out

CAN_PROPOSE = (DEPARTMENT, EDITOR, ADMIN)  # departments for their own services
CAN_REVIEW = (EDITOR, ADMIN)
NUMBER_PREFIX = "ZS"


class ArticleNotFound(DomainError):
    def __init__(self, number: str):
        super().__init__(f"知识库中没有编号为 {number} 的条目")


def article_id(number: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"hotline/article/{number}")


def article_number(sequence: int) -> str:
    return f"{NUMBER_PREFIX}{sequence:05d}"


def parse_day(value: date | str | None, label: str, required: bool = True) -> date | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"请填写{label}")
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{label}格式不正确：{value}，请写成 2025-01-01") from None


@dataclass(frozen=True)
class ArticleContent:
    """What an article says; every draft, revision and published revision is one of these."""

    title: str
    question: str
    answer: str  # 答复口径: what the seat reads out
    basis: str  # 政策依据
    basis_no: str  # the basis's document number (文号)
    services: tuple[str, ...]
    valid_from: date
    valid_until: date | None = None  # None: until withdrawn

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", text(self.title, "标题", limit=100))
        object.__setattr__(self, "question", text(self.question, "问题", limit=500))
        object.__setattr__(self, "answer", text(self.answer, "答复口径"))
        object.__setattr__(self, "basis", text(self.basis, "政策依据", limit=500))
        object.__setattr__(self, "basis_no", text(self.basis_no, "依据文号", limit=100))
        services = tuple(dict.fromkeys(code.strip() for code in self.services if code and code.strip()))
        if not services:
            raise InvalidInput("请选择该条目适用的服务事项")
        object.__setattr__(self, "services", services)
        if not isinstance(self.valid_from, date):
            raise InvalidInput("请填写生效日期")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise InvalidInput("失效日期不能早于生效日期")

    def fields(self) -> dict[str, Any]:
        """As recorded on an event (dates as ISO text)."""
        return {
            "title": self.title,
            "question": self.question,
            "answer": self.answer,
            "basis": self.basis,
            "basis_no": self.basis_no,
            "services": list(self.services),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }

    @classmethod
    def of(cls, fields: dict[str, Any]) -> ArticleContent:
        return cls(
            title=fields["title"],
            question=fields["question"],
            answer=fields["answer"],
            basis=fields["basis"],
            basis_no=fields["basis_no"],
            services=tuple(fields["services"]),
            valid_from=date.fromisoformat(fields["valid_from"]),
            valid_until=date.fromisoformat(fields["valid_until"]) if fields["valid_until"] else None,
        )

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


CONTENT_FIELDS = ("title", "question", "answer", "basis", "basis_no", "services", "valid_from", "valid_until")


class Article(Permitted, HotlineAggregate):
    TOPIC = "hotline:Article"

    PERMITS: ClassVar[dict[str, Permit]] = {
        "edit": Permit("修改", CAN_PROPOSE, (DRAFT, REVISING), department_bound=True),
        "submit": Permit("提交审核", CAN_PROPOSE, (DRAFT, REVISING), department_bound=True),
        "return": Permit("退回修改", CAN_REVIEW, (IN_REVIEW, REVISION_IN_REVIEW)),
        "publish": Permit("审核发布", CAN_REVIEW, (IN_REVIEW, REVISION_IN_REVIEW)),
        "revise": Permit("提出修订", CAN_PROPOSE, (PUBLISHED, WITHDRAWN), department_bound=True),
        "withdraw": Permit("下线", CAN_REVIEW, LIVE),
    }

    class Event(Aggregate.Event):
        TOPIC = "hotline:Article.Event"
        actor_id: str
        actor_role: str

    class Drafted(Event, Aggregate.Created):
        TOPIC = "hotline:Article.Drafted"
        number: str
        department: str
        title: str
        question: str
        answer: str
        basis: str
        basis_no: str
        services: list[str]
        valid_from: str
        valid_until: str | None

    @staticmethod
    def create_id(number: str, **_: Any) -> UUID:
        return article_id(number)

    @classmethod
    def draft(
        cls, number: str, department: str, content: ArticleContent, actor: Actor, at: datetime | None = None
    ) -> Article:
        """起草: a department for itself, or an editor on a department's behalf."""
        require_role(actor, CAN_PROPOSE, "起草知识库条目")
        if actor.role == DEPARTMENT and actor.department != department:
            raise NotPermitted("承办单位只能起草本单位的知识库条目")
        return cls._create(
            cls.Drafted,
            id=article_id(number),
            timestamp=at,
            number=number,
            department=text(department, "所属单位", limit=64),
            actor_id=actor.id,
            actor_role=actor.role,
            **content.fields(),
        )

    @event(Drafted)
    def __init__(
        self,
        number: str,
        department: str,
        actor_id: str,
        title: str,
        question: str,
        answer: str,
        basis: str,
        basis_no: str,
        services: list[str],
        valid_from: str,
        valid_until: str | None,
    ) -> None:
        self.number = number
        self.department = department
        self.drafted_by = actor_id
        self.draft_content: ArticleContent | None = ArticleContent.of(
            {
                "title": title,
                "question": question,
                "answer": answer,
                "basis": basis,
                "basis_no": basis_no,
                "services": services,
                "valid_from": valid_from,
                "valid_until": valid_until,
            }
        )
        self.live: ArticleContent | None = None
        self.last_live: ArticleContent | None = None  # what was live before it was withdrawn
        self.revision = 0  # the published revision the seats read (0: never published)
        self.status = DRAFT
        self.returned_reason = ""
        self.published_at: datetime | None = None
        self.withdrawn_reason = ""

    # ---- reading ----------------------------------------------------------------------------

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    @property
    def is_live(self) -> bool:
        return self.status in LIVE and self.live is not None

    def citable_on(self, day: date) -> bool:
        """Published, and inside its validity on ``day``: a seat may answer from it."""
        return self.is_live and self.live is not None and self.live.valid_on(day)

    @property
    def shown(self) -> ArticleContent:
        """What the article's page shows first: the draft under work, else the live text."""
        content = self.draft_content or self.live or self.last_live
        assert content is not None
        return content

    # ---- the rules ----------------------------------------------------------------------------

    def _refuse(self, action: str) -> InvalidTransition:
        return InvalidTransition(f"知识库条目 {self.number} 当前状态为“{self.status_name}”，不能{action}")

    def _department_refusal(self, command: str, actor: Actor, action: str) -> DomainError | None:
        if actor.department != self.department:
            return NotPermitted(f"知识库条目 {self.number} 不属于本单位，不能{action}")
        return None

    # ---- drafting and reviewing ---------------------------------------------------------------

    class Edited(Event):
        TOPIC = "hotline:Article.Edited"
        title: str
        question: str
        answer: str
        basis: str
        basis_no: str
        services: list[str]
        valid_from: str
        valid_until: str | None

    def edit(self, actor: Actor, content: ArticleContent, at: datetime | None = None) -> None:
        self._permit("edit", actor)
        self._record(self.Edited, actor, at, **content.fields())

    @event(Edited)
    def _edited(
        self,
        title: str,
        question: str,
        answer: str,
        basis: str,
        basis_no: str,
        services: list[str],
        valid_from: str,
        valid_until: str | None,
    ) -> None:
        self.draft_content = ArticleContent.of(
            {
                "title": title,
                "question": question,
                "answer": answer,
                "basis": basis,
                "basis_no": basis_no,
                "services": services,
                "valid_from": valid_from,
                "valid_until": valid_until,
            }
        )

    class Submitted(Event):
        TOPIC = "hotline:Article.Submitted"

    def submit(self, actor: Actor, at: datetime | None = None) -> None:
        self._permit("submit", actor)
        self._record(self.Submitted, actor, at)

    @event(Submitted)
    def _submitted(self) -> None:
        self.status = IN_REVIEW if self.status == DRAFT else REVISION_IN_REVIEW

    class ReturnedForChanges(Event):
        TOPIC = "hotline:Article.ReturnedForChanges"
        reason: str

    def return_for_changes(self, actor: Actor, reason: str, at: datetime | None = None) -> None:
        self._permit("return", actor)
        self._record(self.ReturnedForChanges, actor, at, reason=text(reason, "退回理由", limit=1000))

    @event(ReturnedForChanges)
    def _returned(self, reason: str) -> None:
        self.returned_reason = reason
        self.status = DRAFT if self.status == IN_REVIEW else REVISING

    class Published(Event):
        TOPIC = "hotline:Article.Published"
        revision: int

    def publish(self, actor: Actor, at: datetime | None = None) -> None:
        """发布: the reviewed draft becomes the revision the seats read out."""
        self._permit("publish", actor)
        self._record(self.Published, actor, at, revision=self.revision + 1)

    @event(Published)
    def _published(self, revision: int, timestamp: datetime) -> None:
        self.live = self.draft_content
        self.draft_content = None
        self.revision = revision
        self.published_at = timestamp
        self.returned_reason = ""
        self.status = PUBLISHED

    class RevisionProposed(Event):
        TOPIC = "hotline:Article.RevisionProposed"
        reason: str
        title: str
        question: str
        answer: str
        basis: str
        basis_no: str
        services: list[str]
        valid_from: str
        valid_until: str | None

    def revise(self, actor: Actor, content: ArticleContent, reason: str, at: datetime | None = None) -> None:
        """修订: new text for a published (or withdrawn) article; the live revision stays until it is published."""
        self._permit("revise", actor)
        self._record(self.RevisionProposed, actor, at, reason=text(reason, "修订理由", limit=1000), **content.fields())

    @event(RevisionProposed)
    def _revision_proposed(
        self,
        title: str,
        question: str,
        answer: str,
        basis: str,
        basis_no: str,
        services: list[str],
        valid_from: str,
        valid_until: str | None,
    ) -> None:
        self.draft_content = ArticleContent.of(
            {
                "title": title,
                "question": question,
                "answer": answer,
                "basis": basis,
                "basis_no": basis_no,
                "services": services,
                "valid_from": valid_from,
                "valid_until": valid_until,
            }
        )
        self.status = REVISING

    class Withdrawn(Event):
        TOPIC = "hotline:Article.Withdrawn"
        reason: str

    def withdraw(self, actor: Actor, reason: str, at: datetime | None = None) -> None:
        """下线: the seats no longer find it; a revision may bring it back."""
        self._permit("withdraw", actor)
        self._record(self.Withdrawn, actor, at, reason=text(reason, "下线理由", limit=1000))

    @event(Withdrawn)
    def _withdrawn(self, reason: str) -> None:
        self.withdrawn_reason = reason
        self.last_live = self.live
        self.live = None  # a revision brings it back only once published again
        self.draft_content = None
        self.status = WITHDRAWN


EVENT_NAMES = {
    Article.Drafted: "起草",
    Article.Edited: "修改",
    Article.Submitted: "提交审核",
    Article.ReturnedForChanges: "审核退回",
    Article.Published: "审核发布",
    Article.RevisionProposed: "提出修订",
    Article.Withdrawn: "下线",
}
