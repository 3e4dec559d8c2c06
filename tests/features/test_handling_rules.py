"""Steps for features/handling_rules.feature, on both stores, on a simulated clock: every command
takes its time from the application's clock (no ``at=``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from hotline.application import SimulatedClock
from hotline.domain.case import EVENT_NAMES, Call, Case
from hotline.domain.catalogue import SATISFACTION, code_for
from hotline.domain.errors import DomainError
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.bootstrap import bootstrap
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department_code, department_named, make_config
from tests.features.story import ClockedStory, moment

scenarios("handling_rules.feature")


class Story(ClockedStory):
    def __init__(self, services, clock: SimulatedClock):
        super().__init__(services, clock)
        self.ticket = ""
        self.refusal: DomainError | None = None

    def attempt(self, command) -> None:
        try:
            command()
        except DomainError as error:
            self.refusal = error

    def case(self):
        return self.hotline.get_case(self.ticket)


@pytest.fixture(autouse=True)  # autouse: so the scenarios are parametrized over both stores
def story(store, tmp_path, request):
    clock = SimulatedClock(moment("2025-11-03 09:00"))
    services = bootstrap(make_config(store, tmp_path, request), clock)
    yield Story(services, clock)
    services.close()


def complaint(rules, service: str, description: str, **fields) -> Call:
    """A complaint about the service the scenario names (rules/services.csv)."""
    code = next(c for c, s in rules.services.items() if s.name == service)
    return Call(channel="phone", category="complaint", service_code=code, description=description, **fields)


@given(parsers.parse('"{when}"（星期一）话务员受理了一个关于"{service}"的投诉来电，按派单规则派给"{name}"'))
def opened_and_dispatched(story, rules, when, service, name):
    story.at(when)
    call = complaint(rules, service, "晚上十点后商铺喇叭噪音扰民", caller_phone="13700001111", district="城西区")
    story.ticket = story.hotline.open_case(call, OPERATOR_ACTOR).ticket_no
    story.hotline.dispatch(story.ticket, OPERATOR_ACTOR)
    assert rules.department_name(story.case().department) == name


@when(parsers.parse('"{when}""{name}"申请退单，理由是"{reason}"，依据是"{basis}"'))
def return_case(story, rules, when, name, reason, basis):
    story.at(when)
    story.attempt(lambda: story.hotline.return_case(story.ticket, department_named(rules, name), reason, basis))


@when(parsers.parse('"{when}"派单中心同意退单'))
def approve_return(story, when):
    story.at(when)
    story.hotline.approve_return(story.ticket, OPERATOR_ACTOR, "经核实属实")


@when(parsers.parse('"{when}"派单中心不同意退单，理由是"{reason}"'))
def reject_return(story, when, reason):
    story.at(when)
    story.hotline.reject_return(story.ticket, OPERATOR_ACTOR, reason)


@when(parsers.parse('"{when}"话务员改派给"{name}"，说明"{note}"'))
def redispatch(story, rules, when, name, note):
    story.at(when)
    story.hotline.dispatch(story.ticket, OPERATOR_ACTOR, department=department_code(rules, name), note=note)


@given(parsers.parse('"{when}""{name}"签收工单'))
@when(parsers.parse('"{when}""{name}"签收工单'))
def sign(story, rules, when, name):
    story.at(when)
    story.hotline.sign(story.ticket, department_named(rules, name))


@given(parsers.parse('"{when}""{name}"申请延期 {days:d} 个工作日，督办员同意'))
def extended(story, rules, when, name, days):
    story.at(when)
    story.hotline.request_extension(story.ticket, department_named(rules, name), days, "需要联合执法")
    story.hotline.approve_extension(story.ticket, SUPERVISOR_ACTOR)


@given(parsers.parse('"{when}""{name}"申请延期 {days:d} 个工作日'))
@when(parsers.parse('"{when}""{name}"申请延期 {days:d} 个工作日'))
def request_extension(story, rules, when, name, days):
    story.at(when)
    story.attempt(
        lambda: story.hotline.request_extension(story.ticket, department_named(rules, name), days, "需要联合执法")
    )


@when(parsers.parse('"{when}"话务员同意延期'))
def operator_approves(story, when):
    story.at(when)
    story.attempt(lambda: story.hotline.approve_extension(story.ticket, OPERATOR_ACTOR))


@then(parsers.parse('工单状态是"{status}"'))
def status_is(story, status):
    assert story.case().status_name == status


def _review_queues(story):
    story.services.read_models.catch_up()
    (_, returns), (_, extensions) = story.services.read_models.awaiting_review()
    return [r.ticket_no for r in returns], [r.ticket_no for r in extensions]


@then("工单在退单审核队列中")
def in_return_queue(story):
    assert story.ticket in _review_queues(story)[0]


@then("工单不在退单审核队列中")
def not_in_return_queue(story):
    assert story.ticket not in _review_queues(story)[0]


@then("工单在延期审批队列中")
def in_extension_queue(story):
    assert story.ticket in _review_queues(story)[1]


def _inbox_row(story, rules, name):
    story.services.read_models.catch_up()
    rows, _ = story.services.read_models.inbox(department_code(rules, name))
    return next(row for row in rows if row.ticket_no == story.ticket)


@then(parsers.parse('"{name}"的待办中显示退单未获同意："{reason}"'))
def inbox_shows_rejection(story, rules, name, reason):
    assert _inbox_row(story, rules, name).return_rejection == reason


@then(parsers.parse('"{name}"的待办中显示延期待审批'))
def inbox_shows_pending_extension(story, rules, name):
    assert _inbox_row(story, rules, name).extension_pending == 3


@then(parsers.parse('工单派给了"{name}"，办理期限是"{reply_by}"'))
def assigned_with_deadline(story, rules, name, reply_by):
    case = story.case()
    assert rules.department_name(case.department) == name
    assert f"{case.reply_by.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}" == reply_by


@then(parsers.parse('办理期限是"{reply_by}"'))
def reply_deadline(story, reply_by):
    assert f"{story.case().reply_by.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}" == reply_by


@then(parsers.parse('办理过程依次是"{steps}"'))
def history(story, steps):
    assert "、".join(EVENT_NAMES[type(e)] for e in story.hotline.case_events(story.ticket)) == steps


@then(parsers.parse('操作被拒绝，提示"{text}"'))
def refused(story, text):
    assert story.refusal is not None and text in str(story.refusal), story.refusal


@given(parsers.parse('"{when}""{name}"答复"{result}"'))
def replied(story, rules, when, name, result):
    story.at(when)
    story.hotline.reply(story.ticket, department_named(rules, name), result, True)


@when(parsers.parse('"{when}"话务员回访：承办单位"{first}"，来电人认为"{solved}"，"{satisfaction}"'))
def called_back(story, when, first, solved, satisfaction):
    story.at(when)
    story.hotline.record_callback(
        story.ticket,
        OPERATOR_ACTOR,
        True,
        code_for(SATISFACTION, satisfaction),
        solved == "已解决",
        contacted_first=first == "先行联系过",
    )


@when(parsers.parse('"{when}"话务员回访未联系上'))
def not_reached(story, when):
    story.at(when)
    story.hotline.record_callback(story.ticket, OPERATOR_ACTOR, False, note="无人接听")


@when(parsers.parse('"{when}"话务员办结工单'))
def close(story, when):
    story.at(when)
    story.attempt(lambda: story.hotline.close_case(story.ticket, OPERATOR_ACTOR))


@when(parsers.parse('"{when}"话务员重办，理由是"{reason}"'))
def rehandle(story, when, reason):
    story.at(when)
    assert story.case().needs_rehandling
    story.hotline.reopen(story.ticket, OPERATOR_ACTOR, reason)


@when(parsers.parse('"{when}"{who}登记不予重办，理由是"{reason}"'))
def waive(story, when, who, reason):
    story.at(when)
    actor = SUPERVISOR_ACTOR if who == "督办员" else OPERATOR_ACTOR
    story.attempt(lambda: story.hotline.waive_rehandling(story.ticket, actor, reason))


@when(parsers.parse('"{when}"来电人再次来电，话务员重启工单'))
def reopen_on_new_call(story, when):
    story.at(when)
    story.attempt(lambda: story.hotline.reopen(story.ticket, OPERATOR_ACTOR, "来电人再次来电反映问题复发"))


@when(parsers.parse('"{when}"话务员改派给"{name}"，不写理由'))
def redispatch_without_reason(story, rules, when, name):
    story.at(when)
    story.attempt(lambda: story.hotline.dispatch(story.ticket, OPERATOR_ACTOR, department=department_code(rules, name)))


@given(parsers.parse('"{when}"来电人反映"{service}"，话务员受理后未派单'))
def logged_only(story, rules, when, service, urgent=""):
    story.at(when)
    call = complaint(rules, service, f"{service}，{when}", urgency="urgent" if urgent == "紧急的" else "normal")
    story.logged = [*getattr(story, "logged", []), story.hotline.open_case(call, OPERATOR_ACTOR).ticket_no]


@then("待派单队列依次是紧急的、19:30 受理的，共 2 件，与列表一致")
def queue_order(story):
    story.services.read_models.catch_up()
    rows, total = story.services.read_models.dispatch_queue(limit=100)
    assert [row.ticket_no for row in rows] == [story.logged[1], story.logged[0]]
    assert total == len(rows) == 2


@then(parsers.parse('19:30 受理的工单派单时限是"{due}"'))
def dispatch_due(story, due):
    rows, _ = story.services.read_models.dispatch_queue(limit=100)
    row = next(r for r in rows if r.ticket_no == story.logged[0])
    assert f"{row.dispatch_by:%Y-%m-%d %H:%M}" == due


@then(parsers.parse('"{when}"期限预警中有 {count:d} 件"派单"已超时'))
def dispatch_overdue(story, when, count):
    rows, _ = story.services.read_models.deadline_queue(moment(when), kinds=["dispatching"])
    assert len(rows) == count and all(row.overdue and row.kind_name == "派单" for row in rows)


@given(parsers.parse('"{when}"来电人反映紧急的"{service}"，话务员受理后未派单'))
def logged_urgent(story, rules, when, service):
    logged_only(story, rules, when, service, urgent="紧急的")


@when(parsers.parse('"{when}"来电人"{name}"（{phone}）反映同一处噪声，话务员把它并入该工单'))
def merged_call(story, rules, when, name, phone):
    story.at(when)
    call = complaint(rules, "噪声扰民", f"{name}反映楼下商铺夜间噪声", caller_name=name, caller_phone=phone)
    repeat = story.hotline.open_case(call, OPERATOR_ACTOR).ticket_no
    story.hotline.merge(repeat, OPERATOR_ACTOR, into=story.ticket)
    story.merged_names = [*getattr(story, "merged_names", []), name]


def _merged(story):
    models = story.services.read_models
    models.catch_up()
    rows, total = models.cases.merged_into(story.ticket)
    return total, story.hotline.merged_calls(story.case(), [row.ticket_no for row in rows])


@then(parsers.parse('该工单列出 {count:d} 件并入的来电，来电人依次是"{names}"，电话依次是"{phones}"'))
def merged_listed(story, count, names, phones):
    total, merged = _merged(story)
    assert total == len(merged.calls) == count
    assert [c.caller for c in merged.calls] == names.split("、")
    assert [c.phone for c in merged.calls] == phones.split("、")
    # the caller's name is not in the text either (domain/privacy.scrub)
    assert not any(name in c.description for c in merged.calls for name in story.merged_names)


@then(parsers.parse("该工单的诉求人数是 {count:d} 人，同一号码的来电人只算一次"))
def callers_counted(story, count):
    assert _merged(story)[1].callers == count


@when(parsers.parse('"{when}"派单中心指定"{name}"为协办单位'))
def assign_cooperation(story, rules, when, name):
    story.at(when)
    story.hotline.assign_cooperation(story.ticket, OPERATOR_ACTOR, [department_code(rules, name)], "门前占道经营")


@when(parsers.parse('"{when}""{name}"以主办单位答复"{result}"'))
def lead_replies(story, rules, when, name, result):
    story.at(when)
    story.attempt(lambda: story.hotline.reply(story.ticket, department_named(rules, name), result, True))


@when(parsers.parse('"{when}""{name}"未签收协办就报送"{content}"'))
def reports_unsigned(story, rules, when, name, content):
    story.at(when)
    story.attempt(lambda: story.hotline.report_part(story.ticket, department_named(rules, name), content))


@when(parsers.parse('"{when}""{name}"签收协办并报送"{content}"'))
def signs_and_reports(story, rules, when, name, content):
    story.at(when)
    story.hotline.sign_part(story.ticket, department_named(rules, name))
    story.hotline.report_part(story.ticket, department_named(rules, name), content)


@then(parsers.parse('工单记录了主办单位"{lead}"，以及协办单位"{partner}"的签收和报送'))
def both_in_the_case(story, rules, lead, partner):
    case = story.case()
    assert case.department == department_code(rules, lead)
    part = case.cooperating[department_code(rules, partner)]
    assert part["signed_at"] is not None and part["report"] == "已查处门前占道经营"
    names = [EVENT_NAMES[type(event)] for event in story.hotline.case_events(story.ticket)]
    assert names[-4:] == ["指定协办单位", "协办签收", "报送协办情况", "答复"]


@then(parsers.parse('答复事件记录的回访期限是"{due}"，标注暂定'))
def callback_deadline_recorded(story, due):
    [reply] = [event for event in story.hotline.case_events(story.ticket) if isinstance(event, Case.Replied)]
    assert reply.callback_by == moment(due) and reply.callback_by_provisional is True


@then(parsers.parse('工单一览和期限预警中该工单的回访期限都是"{due}"，标注暂定'))
def callback_deadline_shown(story, due):
    read_models = story.services.read_models
    read_models.catch_up()
    row = read_models.cases.get(story.ticket)
    assert row.callback_by == moment(due) and row.callback_provisional is True
    rows, _ = read_models.deadline_queue(moment(due) - timedelta(hours=2), kinds=["callback"])
    [mine] = [r for r in rows if r.reference == story.ticket]
    assert (mine.kind_name, mine.due_at, mine.provisional) == ("回访", moment(due), True)
