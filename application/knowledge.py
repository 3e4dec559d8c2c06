"""The knowledge base: drafting, reviewing and publishing articles, and answering calls from them.

Same conventions as the case commands (``application/base.py``). Departments draft and revise
articles only for the services the routing rules send them (``Rules.services_of``); the hotline's
knowledge editors may write for any department. Article numbers (ZS00001 …) are handed out in
order; two writers taking the same number at once are settled by the store (the article id is
derived from the number), and the loser takes the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from hotline.application.cases import CaseCommands
from hotline.application.failures import LostRace
from hotline.domain.actors import DEPARTMENT, Actor
from hotline.domain.case import Case
from hotline.domain.errors import InvalidInput, NotPermitted
from hotline.domain.knowledge import (
    NUMBER_PREFIX,
    Article,
    ArticleContent,
    ArticleNotFound,
    article_id,
    article_number,
)
from hotline.domain.workdays import as_china_time

ARTICLE_CHANGED = "该知识库条目已被他人更新，请刷新后重试"
NUMBER_RETRIES = 50


class KnowledgeCommands(CaseCommands):
    _next_article = 0  # the next article sequence number this process will try (0: not known yet)
    _numbers = threading.Lock()

    # ---- writing articles -------------------------------------------------------------------

    def draft_article(self, actor: Actor, department: str, content: ArticleContent) -> Article:
        """起草 a new article for ``department``; it gets the next free number."""
        if department not in self.rules.departments:
            raise InvalidInput(f"未知承办单位：{department}")
        self._check_services(actor, department, content)
        moment = self.now()
        for _ in range(NUMBER_RETRIES):
            article = Article.draft(article_number(self._take_number()), department, content, actor, at=moment)
            try:
                self.save(article)
            except IntegrityError:
                self._next_article = 0  # someone else took it: look again
                continue
            return article
        raise LostRace("系统繁忙，知识库编号分配冲突，请稍后重试")  # transient: retried, then 503

    def edit_article(self, number: str, actor: Actor, content: ArticleContent, **options: Any) -> Article:
        self._check_services(actor, self.get_article(number).department, content)
        return self._change_article(number, lambda article, at: article.edit(actor, content, at=at), **options)

    def submit_article(self, number: str, actor: Actor, **options: Any) -> Article:
        return self._change_article(number, lambda article, at: article.submit(actor, at=at), **options)

    def return_article(self, number: str, actor: Actor, reason: str, **options: Any) -> Article:
        return self._change_article(
            number, lambda article, at: article.return_for_changes(actor, reason, at=at), **options
        )

    def publish_article(self, number: str, actor: Actor, **options: Any) -> Article:
        return self._change_article(number, lambda article, at: article.publish(actor, at=at), **options)

    def revise_article(
        self, number: str, actor: Actor, content: ArticleContent, reason: str, **options: Any
    ) -> Article:
        self._check_services(actor, self.get_article(number).department, content)
        return self._change_article(
            number, lambda article, at: article.revise(actor, content, reason, at=at), **options
        )

    def withdraw_article(self, number: str, actor: Actor, reason: str, **options: Any) -> Article:
        return self._change_article(number, lambda article, at: article.withdraw(actor, reason, at=at), **options)

    def _change_article(self, number: str, command: Callable[[Article, datetime], None], **options: Any) -> Article:
        return self._run(self._for_command(lambda: self.get_article(number)), command, ARTICLE_CHANGED, **options)

    def _check_services(self, actor: Actor, department: str, content: ArticleContent) -> None:
        unknown = [code for code in content.services if code not in self.rules.services]
        if unknown:
            raise InvalidInput(f"未知服务事项代码：{'、'.join(unknown)}")
        if actor.role == DEPARTMENT:
            own = self.rules.services_of(department)
            foreign = [self.rules.service_name(code) for code in content.services if code not in own]
            if foreign:
                raise NotPermitted(
                    f"承办单位只能为本单位承办的服务事项编写知识库条目：{'、'.join(foreign)}不属于本单位"
                )

    def _take_number(self) -> int:
        with self._numbers:
            if not self._next_article:
                self._next_article = self._highest_article_number() + 1
            number = self._next_article
            self._next_article += 1
            return number

    def _highest_article_number(self) -> int:
        highest = 0
        for aggregate_id in self.article_ids():
            for drafted in self.events.get(aggregate_id, limit=1):
                number = cast(Article.Drafted, drafted).number
                if number.startswith(NUMBER_PREFIX) and number[len(NUMBER_PREFIX) :].isdigit():
                    highest = max(highest, int(number[len(NUMBER_PREFIX) :]))
        return highest

    # ---- reading ------------------------------------------------------------------------------

    def get_article(self, number: str, version: int | None = None) -> Article:
        try:
            article: Article = self.repository.get(article_id((number or "").strip()), version=version)
        except AggregateNotFoundError:
            raise ArticleNotFound(number) from None
        return article

    def article_events(self, number: str) -> list[Article.Event]:
        events = cast(list[Article.Event], list(self.events.get(article_id(number))))
        if not events:
            raise ArticleNotFound(number)
        return events

    def article_ids(self) -> Iterator[UUID]:
        return self.originator_ids(Article.Drafted.TOPIC)

    # ---- answering a call from an article --------------------------------------------------------

    def answer_from_article(self, ticket_no: str, actor: Actor, number: str, **options: Any) -> Case:
        """直接答复 by reading out the article's published revision; the case records which one."""
        article = self.get_article(number)

        def command(case: Case, at: datetime) -> None:
            if not article.citable_on(as_china_time(at).date()) or article.live is None:
                raise InvalidInput(f"知识库条目 {number} 未发布或不在有效期内，不能引用")
            case.answer_from_article(
                actor, str(article.id), article.number, article.revision, article.live.answer, at=at
            )

        return self._change(ticket_no, command, **options)
