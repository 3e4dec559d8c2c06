"""A realistic demo data set: a few hundred cases in every state, Chinese text, repeat callers.

Deterministic for a given seed, and relative to "now", so that the deadline queue always shows
some cases overdue, some due today and some comfortably in time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from hotline.application import HotlineApplication, clocked
from hotline.domain.actors import OPERATOR, SUPERVISOR, Actor
from hotline.domain.case import Call
from hotline.domain.errors import DomainError
from hotline.infra.demo.accounts import department_actor
from hotline.infra.demo.knowledge import load_knowledge_demo
from hotline.infra.demo.supervision import load_supervision_demo
from hotline.infra.demo.vocabulary import (
    CATEGORY_BY_SERVICE,
    CHANNEL_WEIGHTS,
    DESCRIPTIONS,
    DISTRICTS,
    ENDINGS,
    GIVEN,
    PATHS,
    STREETS,
    SURNAMES,
)

OPERATORS = [Actor(f"op-10{n:02d}", OPERATOR) for n in range(1, 7)]
EMERGENCY_CALLS = [
    ("gas_leak", "楼道里燃气味很浓，怀疑管道漏气，已让家人下楼"),
    ("traffic_injury", "路口两车相撞，一名骑电动车的人倒地受伤"),
    ("fire", "对面小区高层窗口冒黑烟，看到明火"),
    ("personal_safety", "邻居家传来呼救声，男子持刀威胁家人"),
    ("drowning", "河边有小孩落水，岸上的人正在施救"),
]
SUPERVISOR_ACTOR = Actor("sup-01", SUPERVISOR)


@dataclass
class DemoResult:
    cases: int
    events: int


class DemoLoader:
    def __init__(self, app: HotlineApplication, seed: int = 12345, reference: datetime | None = None):
        self.app = app
        self.rng = random.Random(seed)
        self.now = reference or app.now()
        self.callers = [self._caller() for _ in range(140)]
        self.events = 0
        self.citable: dict[str, str] = {}

    def _caller(self) -> tuple[str, str]:
        name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        phone = "1" + self.rng.choice("3578") + "".join(self.rng.choice("0123456789") for _ in range(9))
        return name, phone

    def load(self, cases: int, progress: Callable[[int], None] | None = None) -> DemoResult:
        """Replay a history of ``cases`` calls on a simulated clock (each step moves it); the
        application is on its own clock again afterwards."""
        own_clock = self.app.clock
        try:
            return self._load(cases, progress)
        finally:
            self.app.clock = own_clock

    def _load(self, cases: int, progress: Callable[[int], None] | None) -> DemoResult:
        # The knowledge base first, so that answers on the call can cite its articles.
        knowledge = load_knowledge_demo(self.app, self.now)
        self.citable = knowledge.citable or {}
        self.events += knowledge.events
        opened: list[tuple[str, str, str]] = []  # (ticket, service, phone) of open cases, for merging
        endings = [e for e, _ in ENDINGS]
        weights = [w for _, w in ENDINGS]
        emergencies = cases // 50  # of the cases asked for: a few emergency calls of the last hours
        for index in range(cases - emergencies):
            ending = self.rng.choices(endings, weights)[0]
            self._one_case(index, ending, opened)
            if progress:
                progress(1)
        # Supervision items and meetings in every state, beside the cases (infra/demo/supervision.py).
        self.events += load_supervision_demo(self.app, self.now, [ticket for ticket, *_ in opened])
        self._emergencies(emergencies, progress)
        return DemoResult(cases=cases, events=self.events)

    def _emergencies(self, count: int, progress: Callable[[int], None] | None) -> None:
        """Emergency calls of the last hours: most handed to their desk within a minute or two, some not."""
        for index in range(count):
            service = EMERGENCY_CALLS[index % len(EMERGENCY_CALLS)]
            district = self.rng.choice(DISTRICTS)
            at = self.now - timedelta(minutes=self.rng.randint(5, 600))
            caller = self.rng.choice(self.callers)
            call = Call(
                channel="phone",
                category="help",
                service_code=service[0],
                description=service[1],
                caller_name=caller[0],
                caller_phone=caller[1],
                urgency="urgent",
                address=f"{district}{self.rng.choice(STREETS[district])}{self.rng.randint(1, 120)}号",
                district=district,
                call_id=f"demo-emergency-{index:04d}",
            )
            operator = self.rng.choice(OPERATORS)
            opening = clocked(self.app, at).open_case(call, operator, route=True)
            self.events += 2
            if self.rng.random() < 0.7:
                desk = self.app.rules.emergency.desks_for(service[0])[0]
                handed = at + timedelta(seconds=self.rng.randint(40, 150))
                clocked(self.app, handed + timedelta(seconds=20)).hand_off(
                    opening.ticket_no,
                    operator,
                    desk,
                    f"{desk}指挥中心 {self.rng.randint(1, 40):02d} 号席",
                    "accepted",
                    handed_off_at=handed,
                )
                self.events += 1
            if progress:
                progress(1)

    def _opened_at(self) -> datetime:
        days_ago = self.rng.choice([0, 0, 1, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 21, 25, 30, 35, 40, 45])
        day = (self.now - timedelta(days=days_ago)).date()
        moment = datetime.combine(day, time(self.rng.randint(7, 21), self.rng.randint(0, 59)), self.now.tzinfo)
        return min(moment, self.now - timedelta(minutes=self.rng.randint(5, 90)))

    def _one_case(self, index: int, ending: str, opened: list[tuple[str, str, str]]) -> None:
        # One caller in four calls again: repeat callers for duplicate detection.
        caller = self.rng.choice(self.callers[:30] if self.rng.random() < 0.25 else self.callers)
        service = self.rng.choice(list(DESCRIPTIONS))
        if ending == "answered":
            service = self.rng.choice(
                ["social_security", "school_enrollment", "household_registration", "housing_fund"]
            )
        if ending == "merged" and opened:
            _, service, phone = self.rng.choice(opened)
            caller = next((c for c in self.callers if c[1] == phone), caller)
        if ending != "opened" and service == "other":
            service = "garbage"
        district = self.rng.choice(DISTRICTS)
        at = self._opened_at()
        call = Call(
            channel=self.rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0],
            category=CATEGORY_BY_SERVICE.get(service, self.rng.choice(["complaint", "complaint", "help", "report"])),
            service_code=service,
            description=self.rng.choice(DESCRIPTIONS[service]),
            caller_name=caller[0] if self.rng.random() > 0.1 else "",
            caller_phone=caller[1],
            urgency="urgent" if self.rng.random() < 0.05 else "normal",
            address=f"{district}{self.rng.choice(STREETS[district])}{self.rng.randint(1, 120)}号",
            district=district,
            call_id=f"demo-{index:05d}",
        )
        operator = self.rng.choice(OPERATORS)
        ticket = clocked(self.app, at).open_case(call, operator).ticket_no
        self.events += 1
        for step in PATHS[ending]:
            at = at + timedelta(minutes=self.rng.randint(10, 60 * 30))
            if at >= self.now:
                break
            try:
                self._step(step, ticket, operator, at, opened)
            except DomainError:
                break
            self.events += 1
        case = self.app.get_case(ticket)
        if case.is_open:
            opened.append((ticket, case.service_code, caller[1]))

    def _step(self, step: str, ticket: str, operator: Actor, at: datetime, opened: list) -> None:
        app = self.app
        if step == "answer":
            number = self.citable.get(app.get_case(ticket).service_code)
            if number:
                clocked(app, at).answer_from_article(ticket, operator, number)
            else:
                clocked(app, at).answer_directly(ticket, operator, "已按政策口径当场解答，来电人表示清楚。")
        elif step == "dispatch":
            clocked(app, at).dispatch(ticket, operator)
        elif step == "merge":
            target = next((t for t, *_ in reversed(opened) if t != ticket), None)
            if target is None:
                raise DomainError("nothing to merge into")
            clocked(app, at).merge(ticket, operator, into=target)
        else:
            department = department_actor(app.get_case(ticket).department)
            if step == "sign":
                clocked(app, at).sign(ticket, department)
                if self.rng.random() < 0.15:
                    clocked(app, at + timedelta(hours=1)).urge(ticket, SUPERVISOR_ACTOR, "请加快办理进度")
                    self.events += 1
            elif step == "extend":
                clocked(app, at).request_extension(
                    ticket, department, self.rng.randint(3, 10), "需协调多个部门现场核查"
                )
                decision = self.rng.random()
                if decision < 0.4:
                    clocked(app, at + timedelta(hours=3)).approve_extension(ticket, SUPERVISOR_ACTOR)
                    self.events += 1
                elif decision < 0.6:
                    clocked(app, at + timedelta(hours=3)).reject_extension(
                        ticket, SUPERVISOR_ACTOR, "事项不复杂，请按期办结"
                    )
                    self.events += 1
            elif step == "return":
                clocked(app, at).return_case(
                    ticket,
                    department,
                    "该事项不属于本单位职责范围，建议转区政府办理",
                    "本单位“三定”方案及权责清单未列此项",
                )
                decision = self.rng.random()  # the dispatch centre's review (退单审核)
                if decision < 0.6:
                    clocked(app, at + timedelta(hours=2)).approve_return(ticket, operator, "经核实属实，同意退单")
                    self.events += 1
                elif decision < 0.8:
                    clocked(app, at + timedelta(hours=2)).reject_return(
                        ticket, operator, "该事项属于本单位职责，请继续办理"
                    )
                    self.events += 1
            elif step == "reply":
                resolved = self.rng.random() < 0.8
                result = (
                    "已安排工作人员现场核查并处理完毕"
                    if resolved
                    else "已现场核查，因涉及历史遗留问题暂无法解决，已向来电人解释"
                )
                clocked(app, at).reply(ticket, department, result, resolved)
            elif step == "callback":
                if self.rng.random() < 0.1:  # not reached: tried again the next day (rules/handling.toml)
                    for retry in (timedelta(0), timedelta(hours=2), timedelta(days=1)):
                        clocked(app, at + retry).record_callback(ticket, operator, reached=False, note="电话无人接听")
                else:
                    satisfaction = self.rng.choices(["satisfied", "basically_satisfied", "dissatisfied"], [70, 20, 10])[
                        0
                    ]
                    clocked(app, at).record_callback(
                        ticket,
                        operator,
                        reached=True,
                        satisfaction=satisfaction,
                        # 解决 and 满意 are separate questions: some are satisfied with a problem not solved
                        resolved=self.rng.random()
                        < {"satisfied": 0.92, "basically_satisfied": 0.6, "dissatisfied": 0.1}[satisfaction],
                        contacted_first=self.rng.random() < 0.85,
                        note="已回访来电人",
                    )
            elif step == "close":
                if app.get_case(ticket).needs_rehandling:  # 不满意: 重办 (the case is dispatched anew)
                    clocked(app, at).reopen(ticket, operator, "回访不满意，重办")
                    return
                clocked(app, at).close_case(ticket, operator)
            elif step == "reopen":
                clocked(app, at).reopen(ticket, operator, "来电人反映问题仍未解决")
