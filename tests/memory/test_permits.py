"""A page offers an action exactly when the domain would run it: ``may`` and the command agree,
for every command, in every state, for every kind of user (on the in-memory application)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from hotline.application import clocked
from hotline.domain.actors import ADMIN, DEPARTMENT, OPERATOR, SUPERVISOR, SYSTEM, Actor
from hotline.domain.case import Call, Case
from hotline.domain.emergency import HANDOFF_OUTCOMES
from hotline.domain.errors import DomainError
from hotline.domain.handling import DECIDING_ROLES, CallbackRules
from hotline.domain.notifications import SmsReplyRules
from hotline.domain.supervision import SupervisionItem
from hotline.domain.workdays import CHINA_TZ

T0 = datetime(2025, 10, 9, 9, 0, tzinfo=CHINA_TZ)
LATER = T0 + timedelta(days=40)  # past every deadline: escalation is allowed where the state is right
ACTORS = {
    "operator": Actor("op-1", OPERATOR),
    "supervisor": Actor("sup-1", SUPERVISOR),
    "admin": Actor("admin", ADMIN),
    "system": Actor("system", SYSTEM),
    "own department": Actor("hbj-1", DEPARTMENT, "HBJ"),
    "other department": Actor("sjj-1", DEPARTMENT, "SJJ"),
    "cooperating department": Actor("cgj-1", DEPARTMENT, "CGJ"),
}
OP, SUP, HBJ = ACTORS["operator"], ACTORS["supervisor"], ACTORS["own department"]

RULE = CallbackRules(attempts=3, distinct_days=2, reopen_days=30)
SMS_REPLY = SmsReplyRules(answers={"1": "satisfied"}, window_hours=168, signature_tolerance_seconds=300)
# How to bring a case to each state, from a freshly logged noise complaint (routed to HBJ).
CASE_PATHS = {
    "opened": [],
    "with a cooperating department": [
        "dispatch",
        "sign",
        lambda app, t: clocked(app, T0).assign_cooperation(t, OP, ["CGJ"]),
    ],
    "part signed": [
        "dispatch",
        lambda app, t: clocked(app, T0).assign_cooperation(t, OP, ["CGJ"]),
        lambda app, t: clocked(app, T0).sign_part(t, ACTORS["cooperating department"]),
    ],
    "unclassified": [],  # 待分类: opened by a channel without a person with a code the catalogue lacks
    "answered": [lambda app, t: clocked(app, T0).answer_directly(t, OP, "已解答")],
    "dispatched": ["dispatch"],
    "signed": ["dispatch", "sign"],
    "extension pending": ["dispatch", "sign", lambda app, t: clocked(app, T0).request_extension(t, HBJ, 2, "核查")],
    "return pending": ["dispatch", lambda app, t: clocked(app, T0).return_case(t, HBJ, "不属于本单位", "权责清单")],
    "returned": [
        "dispatch",
        lambda app, t: clocked(app, T0).return_case(t, HBJ, "不属于本单位", "权责清单"),
        lambda app, t: clocked(app, T0).approve_return(t, OP),
    ],
    "replied": ["dispatch", "sign", "reply"],
    "called back": ["dispatch", "sign", "reply", "callback"],
    "called back, not satisfied": [
        "dispatch",
        "sign",
        "reply",
        lambda app, t: clocked(app, T0).record_callback(t, OP, True, "dissatisfied", False, contacted_first=True),
    ],
    "not reached once": [
        "dispatch",
        "sign",
        "reply",
        lambda app, t: clocked(app, T0).record_callback(t, OP, False),
    ],
    "closed": ["dispatch", "sign", "reply", "callback", lambda app, t: clocked(app, T0).close_case(t, OP)],
    "closed, personal data erased": [
        "dispatch",
        "sign",
        "reply",
        "callback",
        lambda app, t: clocked(app, T0).close_case(t, OP),
        lambda app, t: clocked(app, T0).erase_personal_data(t, ACTORS["admin"], "来电人本人申请删除"),
    ],
    "reopened": ["dispatch", "sign", "reply", "callback", lambda app, t: clocked(app, T0).reopen(t, OP, "未解决")],
    "merged": [lambda app, t: clocked(app, T0).merge(t, OP, into=app.other)],
}
STEPS = {
    "dispatch": lambda app, t: clocked(app, T0).dispatch(t, OP, department="HBJ"),
    "sign": lambda app, t: clocked(app, T0).sign(t, HBJ),
    "reply": lambda app, t: clocked(app, T0).reply(t, HBJ, "已处理", True),
    "callback": lambda app, t: clocked(app, T0).record_callback(t, OP, True, "satisfied", True, contacted_first=True),
}
# Each case command with input that is always valid, so only the actor and the state decide.
CASE_COMMANDS = {
    "hold": lambda case, a: case.hold_for_classification(a, ["未知服务事项代码“ufo”"], at=T0),
    "classify": lambda case, a: case.classify(a, "noise", "complaint", {"noise"}, at=T0),
    "answer": lambda case, a: case.answer_directly(a, "已解答", at=T0),
    "dispatch": lambda case, a: case.dispatch(a, "HBJ", T0, T0, at=T0),
    "redispatch": lambda case, a: case.redispatch(a, "JTJ", T0, T0, note="改派交通", at=T0),
    "sign": lambda case, a: case.sign(a, at=T0),
    "return": lambda case, a: case.return_(a, "不属于本单位", "权责清单", T0, at=T0),
    "review_return": lambda case, a: case.approve_return(a, at=T0),
    "request_extension": lambda case, a: case.request_extension(a, 1, "核查", max_days=10, max_total=10, at=T0),
    # The widest set of approvers: rules/handling.toml narrows it (tests/memory/test_handling.py).
    "approve_extension": lambda case, a: case.approve_extension(a, T0, DECIDING_ROLES, at=T0),
    "reject_extension": lambda case, a: case.reject_extension(a, "按期办结", DECIDING_ROLES, at=T0),
    "urge": lambda case, a: case.urge(a, at=T0),
    "reply": lambda case, a: case.reply(a, "已处理", True, at=T0),
    "callback": lambda case, a: case.record_callback(a, True, RULE, True, "satisfied", True, at=T0),
    "waive_rehandling": lambda case, a: case.waive_rehandling(a, "超出政策范围", at=T0),
    "close": lambda case, a: case.close(a, at=T0),
    "reopen": lambda case, a: case.reopen(a, "未解决", 30, at=T0),
    "merge": lambda case, a: case.merge_into(a, "20990101-000001", at=T0),
    "assign_cooperation": lambda case, a: case.assign_cooperation(a, ["ZJJ"], {"ZJJ", "HBJ", "JTJ"}, at=T0),
    "sign_part": lambda case, a: case.sign_part(a, at=T0),
    "report_part": lambda case, a: case.report_part(a, "已核查", at=T0),
    "flag_emergency": lambda case, a: case.flag_emergency(a, ["119"], T0, at=T0),
    "hand_off": lambda case, a: case.hand_off(
        a, "119", "119指挥中心 0231 号席", "accepted", T0, {"119": "消防"}, HANDOFF_OUTCOMES, at=T0
    ),
    "request_interim": lambda case, a: case.request_interim_feedback(a, T0, at=T0),
    "interim_feedback": lambda case, a: case.give_interim_feedback(a, "已到场处置", at=T0),
    "mark_confidential": lambda case, a: case.mark_confidential(a, at=T0),
    "reveal_contact": lambda case, a: case.reveal_contact(a, "现场核查需要联系", at=T0),
    "erase_personal_data": lambda case, a: case.erase_personal_data(a, "来电人本人申请删除", at=T0),
    "record_sms_reply": lambda case, a: case.record_sms_reply(a, "gw-1", "k", "1", T0, SMS_REPLY, at=T0),
}


def outcome(command, *args, **kwargs) -> bool:
    """Whether the domain accepts ``command(*args, **kwargs)``."""
    try:
        command(*args, **kwargs)
    except DomainError:
        return False
    return True


@pytest.fixture
def case_in(app):
    def bring(state: str) -> str:
        call = Call(
            channel="phone",
            category="complaint",
            service_code="noise",
            description="夜间噪声",
            caller_phone="13800138000",
            district="城西区",
        )
        app.other = clocked(app, T0).open_case(call, OP).ticket_no
        if state == "unclassified":
            call = replace(call, service_code="ufo")
        ticket = clocked(app, T0).open_case(call, OP, route=state == "unclassified").ticket_no
        for step in CASE_PATHS[state]:
            (STEPS[step] if isinstance(step, str) else step)(app, ticket)
        return ticket

    return bring


@pytest.mark.parametrize("state", CASE_PATHS)
def test_case_pages_offer_what_the_case_commands_accept(app, case_in, state):
    ticket = case_in(state)
    assert set(CASE_COMMANDS) == set(Case.PERMITS) - {"escalate"}
    for who, actor in ACTORS.items():
        for name, command in CASE_COMMANDS.items():
            case = app.get_case(ticket)  # a fresh copy: the command below only changes it in memory
            offered = case.may(name, actor, T0)
            assert offered == outcome(command, case, actor), f"{state}: {name} by {who}"
        fresh = case_in(state)  # escalation creates an item: each actor tries on a case of its own
        offered = app.get_case(fresh).may("escalate", actor, LATER)
        escalated = outcome(clocked(app, LATER).escalate_case, fresh, actor, due=LATER + timedelta(days=10))
        assert offered == escalated, f"{state}: escalate by {who}"


ITEM_PATHS = {
    "in progress": [],
    "completion reported": [lambda app, r: clocked(app, T0).report_completion(r, HBJ, "已完成")],
    "verified": [
        lambda app, r: clocked(app, T0).report_completion(r, HBJ, "已完成"),
        lambda app, r: clocked(app, T0).verify_item(r, SUP),
    ],
    "reopened": [
        lambda app, r: clocked(app, T0).report_completion(r, HBJ, "已完成"),
        lambda app, r: clocked(app, T0).reopen_item(r, SUP, "回潮"),
    ],
}
ITEM_COMMANDS = {
    "progress": lambda item, a: item.report_progress(a, "进展", T0, at=T0),
    "feedback": lambda item, a: item.submit_feedback(a, "2025-10", "落实情况", T0, at=T0),
    "complete": lambda item, a: item.report_completion(a, "已完成", at=T0),
    "urge": lambda item, a: item.urge(a, at=T0),
    "change_due": lambda item, a: item.change_due_date(a, LATER, "调整", at=T0),
    "verify": lambda item, a: item.verify(a, at=T0),
    "reopen": lambda item, a: item.reopen(a, "回潮", T0, at=T0),
}


@pytest.mark.parametrize("state", ITEM_PATHS)
def test_item_pages_offer_what_the_item_commands_accept(app, state):
    reference = "督〔2025〕1号"
    clocked(app, T0).register_instruction(
        reference,
        SUP,
        leader="李市长",
        content="整治噪声",
        lead_department="HBJ",
        cooperating_departments=["CGJ"],
        due="2025-11-30",
    )
    for step in ITEM_PATHS[state]:
        step(app, reference)
    assert set(ITEM_COMMANDS) == set(SupervisionItem.PERMITS)
    for who, actor in ACTORS.items():
        for name, command in ITEM_COMMANDS.items():
            item = app.get_item(reference)
            assert item.may(name, actor, T0) == outcome(command, item, actor), f"{state}: {name} by {who}"


def test_a_cooperating_department_is_not_offered_to_report_completion(app):
    clocked(app, T0).register_instruction(
        "督〔2025〕2号",
        SUP,
        leader="李市长",
        content="整治噪声",
        lead_department="HBJ",
        cooperating_departments=["CGJ"],
        due="2025-11-30",
    )
    item = app.get_item("督〔2025〕2号")
    assert item.may("progress", ACTORS["cooperating department"], T0)
    refusal = item.refusal("complete", ACTORS["cooperating department"], T0)
    assert refusal is not None and "应由牵头单位报告办结" in str(refusal)
