"""A realistic demo data set: a few hundred cases in every state, Chinese text, repeat callers.

Deterministic for a given seed, and relative to "now", so that the deadline queue always shows
some cases overdue, some due today and some comfortably in time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from domain.actors import Actor, OPERATOR, DEPARTMENT, SUPERVISOR
from domain.application import HotlineApplication, now
from domain.case import Call
from domain.errors import DomainError
from infra.demo_supervision import load_supervision_demo

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建国", "晓东", "海燕"]
DISTRICTS = ["城东区", "城西区", "高新区"]
STREETS = {
    "城东区": ["解放路", "人民路", "东风街道", "朝阳小区", "滨河花园"],
    "城西区": ["建设路", "西湖路", "和平街道", "锦绣家园", "梧桐苑"],
    "高新区": ["科技大道", "创业路", "软件园", "高新一路", "未来城"],
}
DESCRIPTIONS = {
    "noise": ["楼下商铺每天晚上十点后还在用大喇叭促销，严重影响休息", "小区广场舞音响声音太大，晚上九点半以后仍未停止"],
    "construction_noise": ["附近工地夜间十一点后仍在施工打桩，噪声很大", "地铁施工现场凌晨运渣车作业，噪音扰民"],
    "street_vending": ["学校门口流动摊贩占道经营，上下学时段交通拥堵", "夜市摊位占用人行道，行人只能走机动车道"],
    "illegal_building": ["顶楼住户私自搭建阳光房，存在安全隐患", "小区一楼住户圈占公共绿地搭建围墙"],
    "garbage": ["小区垃圾桶已满三天无人清运，气味很大", "路边建筑垃圾堆放多日无人处理"],
    "property_mgmt": ["小区电梯频繁故障，物业维修不及时", "物业公司擅自提高停车费，业主不认可"],
    "water_supply": ["家中自来水发黄有异味，已持续两天", "小区高层水压不足，早晚高峰基本没水"],
    "power_outage": ["小区突然停电，没有任何通知，已停了四个小时", "家中电压不稳，电器频繁跳闸"],
    "road_damage": ["路口路面塌陷出现大坑，夜间容易发生事故", "人行道井盖缺失，存在安全隐患"],
    "bus_route": ["建议增加早高峰公交班次，车厢过于拥挤", "公交站台迁移后没有任何提示，乘客找不到站点"],
    "food_safety": ["在某餐馆就餐后腹泻，怀疑食材不新鲜", "超市销售过期酸奶，要求查处"],
    "consumer_rights": ["健身房突然关门，预付卡余额无法退还", "网购家电质量问题，商家拒绝退换"],
    "unpaid_wages": ["在工地干了三个月，老板拖欠工资一万二未付", "公司以经营困难为由拖欠两个月工资"],
    "social_security": ["咨询灵活就业人员社保如何缴纳", "养老金领取资格认证一直办不下来"],
    "medical_insurance": ["异地就医备案后报销比例与规定不符", "咨询门诊慢特病医保报销流程"],
    "school_enrollment": ["咨询孩子幼升小需要准备哪些材料", "非户籍子女入学积分如何计算"],
    "medical_service": ["医院挂号难，网上号源一放出就没有", "医院收费清单与实际治疗项目不符"],
    "household_registration": ["咨询人才引进落户需要哪些条件", "身份证丢失补办需要多长时间"],
    "housing_fund": ["公积金提取申请提交一个月仍未到账", "咨询异地购房能否使用本市公积金贷款"],
    "pollution": ["附近工厂夜间排放刺鼻废气", "河道有黑臭污水排放"],
    "other": ["反映小区周边缺少停车位，希望统筹解决", "建议在公园增设无障碍设施"],
}
CATEGORY_BY_SERVICE = {
    "social_security": "consult", "medical_insurance": "consult", "school_enrollment": "consult",
    "household_registration": "consult", "housing_fund": "consult", "bus_route": "suggestion",
    "other": "suggestion", "food_safety": "report", "pollution": "report", "unpaid_wages": "help",
    "water_supply": "help", "power_outage": "help",
}
CHANNEL_WEIGHTS = {"phone": 70, "web": 8, "wechat": 12, "app": 6, "letter": 2, "open311": 2}
ENDINGS = [
    # (final state, weight)
    ("opened", 4), ("answered", 8), ("dispatched", 10), ("signed", 16), ("returned", 3),
    ("replied", 10), ("called_back", 5), ("closed", 34), ("reopened", 3), ("merged", 3),
    ("extension", 4),
]
PATHS = {
    "opened": [],
    "answered": ["answer"],
    "dispatched": ["dispatch"],
    "signed": ["dispatch", "sign"],
    "extension": ["dispatch", "sign", "extend"],
    "returned": ["dispatch", "return"],
    "replied": ["dispatch", "sign", "reply"],
    "called_back": ["dispatch", "sign", "reply", "callback"],
    "closed": ["dispatch", "sign", "reply", "callback", "close"],
    "reopened": ["dispatch", "sign", "reply", "callback", "reopen"],
    "merged": ["merge"],
}

OPERATORS = [Actor(f"op-10{n:02d}", OPERATOR) for n in range(1, 7)]
SUPERVISOR_ACTOR = Actor("sup-01", SUPERVISOR)


@dataclass
class DemoResult:
    cases: int
    events: int


def department_actor(code: str) -> Actor:
    return Actor(f"dept-{code.lower()}-01", DEPARTMENT, code)


class DemoLoader:
    def __init__(self, app: HotlineApplication, seed: int = 12345, reference: datetime | None = None):
        self.app = app
        self.rng = random.Random(seed)
        self.now = reference or now()
        self.callers = [self._caller() for _ in range(140)]
        self.events = 0

    def _caller(self) -> tuple[str, str]:
        name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        phone = "1" + self.rng.choice("3578") + "".join(self.rng.choice("0123456789") for _ in range(9))
        return name, phone

    def load(self, cases: int, progress: Callable[[int], None] | None = None) -> DemoResult:
        opened: list[tuple[str, str, str]] = []  # (ticket, service, phone) of open cases, for merging
        endings = [e for e, _ in ENDINGS]
        weights = [w for _, w in ENDINGS]
        for index in range(cases):
            ending = self.rng.choices(endings, weights)[0]
            self._one_case(index, ending, opened)
            if progress:
                progress(1)
        # Supervision items and meetings in every state, beside the cases (infra/demo_supervision.py).
        self.events += load_supervision_demo(self.app, self.now, [ticket for ticket, *_ in opened])
        return DemoResult(cases=cases, events=self.events)

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
            service = self.rng.choice(["social_security", "school_enrollment", "household_registration", "housing_fund"])
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
        ticket = self.app.open_case(call, operator, at=at).ticket_no
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
            app.answer_directly(ticket, operator, "已按政策口径当场解答，来电人表示清楚。", at=at)
        elif step == "dispatch":
            app.dispatch(ticket, operator, at=at)
        elif step == "merge":
            target = next((t for t, *_ in reversed(opened) if t != ticket), None)
            if target is None:
                raise DomainError("nothing to merge into")
            app.merge(ticket, operator, into=target, at=at)
        else:
            department = department_actor(app.get_case(ticket).department)
            if step == "sign":
                app.sign(ticket, department, at=at)
                if self.rng.random() < 0.15:
                    app.urge(ticket, SUPERVISOR_ACTOR, "请加快办理进度", at=at + timedelta(hours=1))
                    self.events += 1
            elif step == "extend":
                app.request_extension(ticket, department, self.rng.randint(3, 10), "需协调多个部门现场核查", at=at)
                decision = self.rng.random()
                if decision < 0.4:
                    app.approve_extension(ticket, SUPERVISOR_ACTOR, at=at + timedelta(hours=3))
                    self.events += 1
                elif decision < 0.6:
                    app.reject_extension(ticket, SUPERVISOR_ACTOR, "事项不复杂，请按期办结", at=at + timedelta(hours=3))
                    self.events += 1
            elif step == "return":
                app.return_case(ticket, department, "该事项不属于本单位职责范围，建议转区政府办理", at=at)
            elif step == "reply":
                resolved = self.rng.random() < 0.8
                result = "已安排工作人员现场核查并处理完毕" if resolved else "已现场核查，因涉及历史遗留问题暂无法解决，已向来电人解释"
                app.reply(ticket, department, result, resolved, at=at)
            elif step == "callback":
                if self.rng.random() < 0.1:
                    app.record_callback(ticket, operator, reached=False, note="电话无人接听", at=at)
                else:
                    satisfaction = self.rng.choices(["satisfied", "basically_satisfied", "dissatisfied"], [70, 20, 10])[0]
                    app.record_callback(
                        ticket, operator, reached=True, satisfaction=satisfaction,
                        resolved=satisfaction != "dissatisfied", note="已回访来电人", at=at,
                    )
            elif step == "close":
                app.close_case(ticket, operator, at=at)
            elif step == "reopen":
                app.reopen(ticket, operator, "来电人反映问题仍未解决", at=at)
