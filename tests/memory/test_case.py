"""The case aggregate on its own: transitions, refusals, and what each event records."""

from datetime import datetime, timedelta

import pytest

from hotline.domain.actors import Actor
from hotline.domain.case import Call, Case, distinct_callers
from hotline.domain.errors import InvalidInput, InvalidTransition, NotPermitted
from hotline.domain.handling import CallbackRules
from hotline.domain.workdays import CHINA_TZ
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department

T0 = datetime(2025, 10, 9, 9, 30, tzinfo=CHINA_TZ)
HBJ = department("HBJ")
APPROVERS = ("supervisor", "admin")  # rules/handling.toml
CALLBACKS = CallbackRules(attempts=3, distinct_days=2, reopen_days=30)  # rules/handling.toml
RETURN_BY = T0 + timedelta(days=2)


def new_case(**changes) -> Case:
    fields = {
        "channel": "phone",
        "category": "complaint",
        "service_code": "noise",
        "description": "楼下噪音扰民",
        "caller_name": "张三",
        "caller_phone": "13800138000",
    }
    fields.update(changes)
    return Case.open("20251009-000123", Call(**fields), OPERATOR_ACTOR, at=T0)


def dispatched(case: Case | None = None) -> Case:
    case = case or new_case()
    case.dispatch(OPERATOR_ACTOR, "HBJ", sign_by=T0 + timedelta(days=1), reply_by=T0 + timedelta(days=20), at=T0)
    return case


def test_opening_records_the_call_the_actor_and_the_time():
    case = new_case()
    [opened] = case.collect_events()
    assert isinstance(opened, Case.Opened)
    assert (opened.ticket_no, opened.actor_id, opened.actor_role, opened.timestamp) == (
        "20251009-000123",
        "op-1001",
        "operator",
        T0,
    )
    assert case.status == "opened" and case.status_name == "待派单"


def test_the_whole_lifecycle():
    case = dispatched()
    case.sign(HBJ, at=T0 + timedelta(hours=1))
    case.request_extension(HBJ, 5, "需要协调施工单位", max_days=10, max_total=10, at=T0 + timedelta(hours=2))
    case.approve_extension(SUPERVISOR_ACTOR, reply_by=T0 + timedelta(days=27), approvers=APPROVERS)
    case.urge(SUPERVISOR_ACTOR, "请尽快办理")
    case.reply(HBJ, "已约谈商户，音响已拆除", resolved=True)
    case.record_callback(OPERATOR_ACTOR, True, CALLBACKS, True, "satisfied", True)
    case.close(OPERATOR_ACTOR)
    names = [type(e).__name__ for e in case.collect_events()]
    assert names == [
        "Opened",
        "Dispatched",
        "Signed",
        "ExtensionRequested",
        "ExtensionApproved",
        "Urged",
        "Replied",
        "CalledBack",
        "Closed",
    ]
    assert case.status == "closed" and case.reply_by == T0 + timedelta(days=27) and case.urge_count == 1


def test_return_reviewed_then_redispatch():
    case = dispatched()
    case.return_(HBJ, "属于城管职责", "市城管局权责清单第 12 项", return_by=RETURN_BY, at=T0 + timedelta(hours=1))
    assert case.status == "dispatched" and case.pending_return["basis"] == "市城管局权责清单第 12 项"
    with pytest.raises(NotPermitted):
        case.approve_return(HBJ)
    case.approve_return(OPERATOR_ACTOR, "属实", at=T0 + timedelta(hours=2))
    assert case.status == "returned" and case.return_reason == "属于城管职责"
    case.redispatch(OPERATOR_ACTOR, "CGJ", sign_by=T0, reply_by=T0, note="属城管职责", at=T0)
    assert case.status == "dispatched" and case.department == "CGJ" and case.dispatch_count == 2
    with pytest.raises(NotPermitted, match="不属于本单位"):
        case.sign(HBJ)
    case.sign(department("CGJ"))


def test_replying_to_a_case_nobody_signed_is_refused():
    case = dispatched()
    with pytest.raises(InvalidTransition, match="尚未签收"):
        case.reply(HBJ, "已处理", resolved=True)
    assert case.status == "dispatched"
    assert len(case.collect_events()) == 2  # nothing was triggered


def test_closing_twice_is_refused():
    case = dispatched()
    case.sign(HBJ)
    case.reply(HBJ, "已处理", resolved=True)
    for day in (0, 0, 1):  # 无法联系: three attempts on two days
        case.record_callback(OPERATOR_ACTOR, False, CALLBACKS, note="无人接听", at=T0 + timedelta(days=day, hours=9))
    case.close(OPERATOR_ACTOR)
    with pytest.raises(InvalidTransition, match="不能重复办结"):
        case.close(OPERATOR_ACTOR)


def test_another_department_cannot_touch_the_case():
    case = dispatched()
    for action in (
        lambda: case.sign(department("SJJ")),
        lambda: case.return_(department("SJJ"), "不是我们的", "清单", RETURN_BY, at=T0),
    ):
        with pytest.raises(NotPermitted):
            action()


def test_roles_are_checked():
    case = new_case()
    with pytest.raises(NotPermitted, match="承办单位不能派单"):
        case.dispatch(HBJ, "HBJ", sign_by=T0, reply_by=T0)
    with pytest.raises(NotPermitted):
        dispatched().sign(OPERATOR_ACTOR)


def test_a_return_needs_a_reason():
    with pytest.raises(InvalidInput, match="退单理由不能为空"):
        dispatched().return_(HBJ, "   ", "清单", RETURN_BY, at=T0)
    with pytest.raises(InvalidInput, match="退单依据不能为空"):
        dispatched().return_(HBJ, "不属于本单位", "", RETURN_BY, at=T0)


def test_a_return_after_its_limit_is_refused_and_a_rejected_one_stays():
    case = dispatched()
    with pytest.raises(InvalidTransition, match="已超过退单时限"):
        case.return_(HBJ, "不属于本单位", "清单", RETURN_BY, at=RETURN_BY + timedelta(seconds=1))
    case.return_(HBJ, "不属于本单位", "清单", RETURN_BY, at=T0 + timedelta(hours=1))
    with pytest.raises(InvalidTransition, match="等待派单中心审核"):
        case.return_(HBJ, "再退一次", "清单", RETURN_BY, at=T0 + timedelta(hours=2))
    case.reject_return(OPERATOR_ACTOR, "属于本单位职责", at=T0 + timedelta(hours=3))
    assert case.status == "dispatched" and case.department == "HBJ" and case.return_rejection == "属于本单位职责"


def test_an_extension_within_the_limit_and_one_at_a_time():
    case = dispatched()
    case.sign(HBJ)
    soon = T0 + timedelta(hours=3)
    with pytest.raises(InvalidInput, match="1 到 10"):
        case.request_extension(HBJ, 11, "太复杂", max_days=10, max_total=10, at=soon)
    case.request_extension(HBJ, 3, "需要现场核查", max_days=10, max_total=10, at=soon)
    with pytest.raises(InvalidTransition, match="待审批"):
        case.request_extension(HBJ, 3, "再要几天", max_days=10, max_total=10, at=soon)
    with pytest.raises(NotPermitted, match="话务员不能审批延期"):
        case.reject_extension(OPERATOR_ACTOR, "事项简单，请按期办结", APPROVERS)
    case.reject_extension(SUPERVISOR_ACTOR, "事项简单，请按期办结", APPROVERS)
    assert case.pending_extension is None


def test_extensions_are_capped_in_total_and_only_before_the_deadline():
    case = dispatched()
    case.sign(HBJ)
    for days in (4, 4):
        case.request_extension(HBJ, days, "需要现场核查", max_days=10, max_total=10, at=T0 + timedelta(hours=3))
        case.approve_extension(SUPERVISOR_ACTOR, reply_by=case.reply_by + timedelta(days=4), approvers=APPROVERS)
    assert case.extension_days_granted == 8
    with pytest.raises(InvalidInput, match="最多还可申请 2 个工作日"):
        case.request_extension(HBJ, 3, "还要几天", max_days=10, max_total=10, at=T0 + timedelta(hours=4))
    with pytest.raises(InvalidTransition, match="延期须在期限届满前申请"):
        case.request_extension(HBJ, 2, "还要几天", max_days=10, max_total=10, at=case.reply_by + timedelta(minutes=1))


def test_a_callback_needs_satisfaction_when_the_caller_was_reached():
    case = dispatched()
    case.sign(HBJ)
    case.reply(HBJ, "已处理", resolved=False)
    with pytest.raises(InvalidInput, match="满意度"):
        case.record_callback(OPERATOR_ACTOR, True, CALLBACKS, True, "开心", True)
    with pytest.raises(InvalidInput, match="先行联系"):
        case.record_callback(OPERATOR_ACTOR, True, CALLBACKS, None, "satisfied", True)


def test_reopen_then_dispatch_again():
    case = dispatched()
    case.sign(HBJ)
    case.reply(HBJ, "已处理", resolved=True)
    case.record_callback(OPERATOR_ACTOR, True, CALLBACKS, True, "dissatisfied", False)
    with pytest.raises(InvalidTransition, match="不满意、认为问题未解决，应重办"):
        case.close(OPERATOR_ACTOR)
    case.reopen(OPERATOR_ACTOR, "来电人反映噪音仍在", 30)
    assert case.status == "reopened" and case.satisfaction is None
    dispatched(case)
    assert case.dispatch_count == 2


def test_merging_a_duplicate():
    case = new_case()
    with pytest.raises(InvalidInput, match="自身"):
        case.merge_into(OPERATOR_ACTOR, "20251009-000123")
    case.merge_into(OPERATOR_ACTOR, "20251009-000100")
    assert case.status == "merged" and not case.is_open
    with pytest.raises(InvalidTransition, match="已并单"):
        case.urge(SUPERVISOR_ACTOR)


def test_a_call_the_catalogue_does_not_know_waits_unclassified_until_the_operator_classifies_it():
    call = Call("web", "praise", "ufo", "小区门口有不明飞行物", caller_phone="13800138000")
    assert call.unknown_to({"noise"}) == [
        "未知服务事项代码“ufo”，不在派单目录中",
        "未知诉求类别“praise”，应为咨询、求助、投诉、举报、建议之一",
    ]
    assert Call("web", "complaint", "noise", "噪音").unknown_to({"noise"}) == []
    case = Case.open("20251009-000123", call, OPERATOR_ACTOR, at=T0)
    case.hold_for_classification(OPERATOR_ACTOR, call.unknown_to({"noise"}), at=T0)
    assert (case.status, case.status_name, case.service_code, case.category) == (
        "unclassified",
        "待分类",
        "ufo",
        "praise",
    )
    assert not case.may("dispatch", OPERATOR_ACTOR, T0) and not case.may("answer", OPERATOR_ACTOR, T0)
    with pytest.raises(InvalidTransition, match="待分类"):
        case.dispatch(OPERATOR_ACTOR, "HBJ", sign_by=T0, reply_by=T0, at=T0)
    with pytest.raises(InvalidInput, match="派单目录"):
        case.classify(OPERATOR_ACTOR, "ufo", "complaint", {"noise"}, at=T0)
    with pytest.raises(InvalidInput, match="诉求类别"):
        case.classify(OPERATOR_ACTOR, "noise", "praise", {"noise"}, at=T0)
    with pytest.raises(NotPermitted):
        case.classify(department("HBJ"), "noise", "complaint", {"noise"}, at=T0)
    case.classify(OPERATOR_ACTOR, "noise", "complaint", {"noise"}, note="来电人说的是夜间噪音", at=T0)
    *_, classified = case.collect_events()
    assert (classified.sent_service_code, classified.sent_category, classified.actor_id) == ("ufo", "praise", "op-1001")
    assert (case.status, case.service_code, case.category, case.unclassified) == ("opened", "noise", "complaint", [])
    assert case.may("dispatch", OPERATOR_ACTOR, T0)
    with pytest.raises(InvalidTransition):
        case.classify(OPERATOR_ACTOR, "noise", "complaint", {"noise"}, at=T0)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"channel": "pigeon"}, "未知渠道"),
        ({"description": " "}, "诉求内容不能为空"),
        ({"description": "长" * 4001}, "4000"),
        ({"caller_phone": "call me"}, "联系电话格式不正确"),
        ({"lat": 91.0, "long": 120.0}, "纬度"),
        ({"lat": 30.0}, "同时"),
        ({"urgency": "asap"}, "紧急程度"),
    ],
)
def test_bad_call_details_are_refused_clearly(changes, message):
    with pytest.raises(InvalidInput, match=message):
        new_case(**changes)


def test_an_actor_needs_an_id_and_a_known_role():
    with pytest.raises(InvalidInput):
        Actor("", "operator")
    with pytest.raises(InvalidInput):
        Actor("x", "mayor")
    with pytest.raises(InvalidInput, match="绑定单位"):
        Actor("x", "department")


def test_a_caller_not_reached_is_tried_on_two_days_before_closing_as_unreachable():
    case = dispatched()
    case.sign(HBJ)
    case.reply(HBJ, "已处理", resolved=True)
    monday = datetime(2025, 10, 13, 10, 0, tzinfo=CHINA_TZ)
    for hours in (0, 3, 6):  # three attempts, one day
        case.record_callback(OPERATOR_ACTOR, False, CALLBACKS, at=monday + timedelta(hours=hours))
    assert case.status == "replied" and not case.may("close", OPERATOR_ACTOR)
    case.record_callback(OPERATOR_ACTOR, False, CALLBACKS, at=monday + timedelta(days=1))
    assert case.status == "called_back" and case.caller_reached is False
    case.close(OPERATOR_ACTOR)


def test_a_closed_case_reopens_only_within_the_window():
    case = dispatched()
    case.sign(HBJ)
    case.reply(HBJ, "已处理", resolved=True)
    case.record_callback(OPERATOR_ACTOR, True, CALLBACKS, True, "satisfied", True, at=T0 + timedelta(days=1))
    case.close(OPERATOR_ACTOR, at=T0 + timedelta(days=1))
    with pytest.raises(InvalidTransition, match="办结已超过 30 天"):
        case.reopen(OPERATOR_ACTOR, "又来电", 30, at=T0 + timedelta(days=31, hours=1))
    case.reopen(OPERATOR_ACTOR, "又来电", 30, at=T0 + timedelta(days=30))
    assert case.status == "reopened"


def test_callers_are_counted_once_by_number_else_by_name_and_each_anonymous_call_alone():
    assert distinct_callers([]) == 0
    assert distinct_callers([("王五", "137-0000-1111"), ("王先生", "+86 13700001111"), ("李四", "")]) == 2
    assert distinct_callers([("李四", ""), ("李四", ""), ("", ""), ("", "")]) == 3


def test_the_lead_replies_for_all_once_every_cooperating_department_reported_its_part():
    case = dispatched()
    case.sign(department("HBJ"), at=T0)
    known = {"HBJ", "CGJ", "JTJ"}
    with pytest.raises(InvalidInput, match="主办单位不能同时是协办单位"):
        case.assign_cooperation(OPERATOR_ACTOR, ["HBJ"], known, at=T0)
    with pytest.raises(InvalidInput, match="未知承办单位"):
        case.assign_cooperation(OPERATOR_ACTOR, ["XYZ"], known, at=T0)
    with pytest.raises(NotPermitted):
        case.assign_cooperation(department("HBJ"), ["CGJ"], known, at=T0)
    case.assign_cooperation(OPERATOR_ACTOR, ["CGJ", "JTJ"], known, at=T0)
    assert case.parts_missing == ["CGJ", "JTJ"] and not case.may("reply", department("HBJ"), T0)
    with pytest.raises(NotPermitted, match=r"不是工单 .* 的协办单位"):
        case.sign_part(department("SJJ"), at=T0)
    with pytest.raises(NotPermitted, match="不属于本单位"):
        case.reply(department("CGJ"), "已处理", True, at=T0)  # only the lead replies
    for code in ("CGJ", "JTJ"):
        with pytest.raises(InvalidTransition, match="请先签收"):
            case.report_part(department(code), "已核查", at=T0)
        case.sign_part(department(code), at=T0)
        case.report_part(department(code), f"{code} 已核查", at=T0)
    with pytest.raises(InvalidTransition, match="已报送"):
        case.report_part(department("CGJ"), "再报一次", at=T0)
    case.reply(department("HBJ"), "已汇总各单位办理情况", True, at=T0)
    assert case.status == "replied" and case.cooperating["JTJ"]["report"] == "JTJ 已核查"
