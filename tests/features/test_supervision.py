"""Steps for features/supervision.feature, run on both stores, read through services.read_models."""

from datetime import datetime

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from hotline.application import clocked
from hotline.domain.case import EVENT_NAMES, Call, Case
from hotline.domain.catalogue import SATISFACTION, code_for
from hotline.domain.errors import DomainError
from hotline.domain.meeting import Decision
from hotline.domain.workdays import CHINA_TZ
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department, department_code, department_named
from tests.features.story import moment, rates_of

scenarios("supervision.feature")


def shown(value: datetime) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


class Story:
    def __init__(self, services):
        self.services = services
        self.hotline = services.app
        self.read_models = services.read_models
        self.reference = ""
        self.now: datetime | None = None
        self.refusal: DomainError | None = None
        self.metrics = {}

    def queue(self):
        self.read_models.catch_up()
        rows, _ = self.read_models.deadline_queue(self.now, due_within_hours=24 * 60)
        return rows

    def ledger_row(self, reference):
        self.read_models.catch_up()
        return self.read_models.ledger_item(reference, now=self.now)


@pytest.fixture(autouse=True)  # autouse: so the scenarios are parametrized over both stores
def story(services):
    return Story(services)


@given(parsers.parse('督办员在"{at}"登记领导批示"{reference}"，由"{lead}"牵头，办结期限"{due}"'))
def register(story, rules, at, reference, lead, due):
    story.reference = reference
    story.now = moment(at)
    clocked(story.hotline, moment(at)).register_instruction(
        reference,
        SUPERVISOR_ACTOR,
        leader="李市长",
        content="请抓紧落实",
        lead_department=department_code(rules, lead),
        due=due,
    )


@given(parsers.parse('督办员登记"{held}"召开的"{reference}"会议，纪要涉及财务，议定事项由"{lead}"牵头'))
def hold_meeting(story, rules, held, reference, lead):
    story.reference = reference
    clocked(story.hotline, moment(held).replace(hour=17)).hold_meeting(
        reference,
        SUPERVISOR_ACTOR,
        title="市政府常务会议",
        chaired_by="李市长",
        held_at=moment(held),
        touches_finance=True,
        decisions=[Decision("安排专项资金推进老旧小区改造", department_code(rules, lead), moment("2025-12-31 00:00"))],
    )


@when(parsers.parse('现在是"{now}"'))
def now_is(story, now):
    story.now = moment(now)


@when(parsers.parse('"{name}"在"{at}"报送进度"{content}"'))
def report_progress(story, rules, name, at, content):
    clocked(story.hotline, moment(at)).report_progress(story.reference, department_named(rules, name), content)


@when(parsers.parse('"{name}"在"{at}"反馈"{month}"的落实情况"{content}"'))
def submit_feedback(story, rules, name, at, month, content):
    clocked(story.hotline, moment(at)).submit_feedback(story.reference, department_named(rules, name), month, content)


@when(parsers.parse('"{name}"在"{at}"报告办结"{summary}"'))
def report_completion(story, rules, name, at, summary):
    clocked(story.hotline, moment(at)).report_completion(story.reference, department_named(rules, name), summary)


@when(parsers.parse('督办员在"{at}"核验销号'))
def verify(story, at):
    try:
        clocked(story.hotline, moment(at)).verify_item(story.reference, SUPERVISOR_ACTOR, "同意销号")
    except DomainError as error:
        story.refusal = error


@when(parsers.parse('督办员在"{at}"送签会议纪要'))
def send_minutes(story, at):
    clocked(story.hotline, moment(at)).send_minutes_for_signing(story.reference, SUPERVISOR_ACTOR)


@then(parsers.parse('下次进度报送期限是"{due}"'))
def progress_due(story, due):
    assert shown(story.hotline.get_item(story.reference).progress_due) == due


@then(parsers.parse('本月反馈期限是"{due}"'))
def feedback_due(story, due):
    assert shown(story.hotline.get_item(story.reference).feedback_due) == due


@then(parsers.parse('纪要送签期限是"{due}"'))
def minutes_due(story, due):
    assert shown(story.hotline.get_meeting(story.reference).minutes_due) == due


@then(parsers.parse('议定事项"{reference}"已登记为督办事项'))
def decision_registered(story, reference):
    item = story.hotline.get_item(reference)
    assert item.source == "meeting_decision" and item.meeting_ref == story.reference
    assert story.ledger_row(reference).leader_or_meeting.startswith("市政府常务会议")


@then(parsers.re(r'期限队列中"(?P<reference>[^"]+)"的"(?P<kind>[^"]+)"(?P<state>已逾期|尚未逾期)'))
def in_queue(story, reference, kind, state):
    rows = [r for r in story.queue() if r.reference == reference and r.kind_name == kind]
    assert len(rows) == 1, rows
    assert rows[0].overdue is (state == "已逾期")


@then(parsers.parse('期限队列中不再有"{reference}"的"{kind}"'))
def not_in_queue(story, reference, kind):
    assert not [r for r in story.queue() if r.reference == reference and r.kind_name == kind]


@then(parsers.parse('台账中"{reference}"标记为周进度逾期'))
def ledger_progress_overdue(story, reference):
    row = story.ledger_row(reference)
    assert row.progress_overdue and row.any_overdue and not row.overdue


@then(parsers.parse('台账中"{reference}"的最新进度是"{content}"'))
def ledger_latest_progress(story, reference, content):
    row = story.ledger_row(reference)
    assert row.latest_progress == content and not row.progress_overdue


@then(parsers.parse('台账中"{reference}"的最新反馈是"{content}"'))
def ledger_latest_feedback(story, reference, content):
    assert story.ledger_row(reference).latest_feedback == content


@then(parsers.parse('台账中"{reference}"未超期'))
def ledger_not_overdue(story, reference):
    story.now = moment("2026-01-15 00:00")  # long after the due date: it was completed in time
    row = story.ledger_row(reference)
    assert row.status == "verified" and not row.any_overdue


@then(parsers.parse('操作被拒绝，提示"{text}"'))
def refused(story, text):
    assert story.refusal is not None and text in str(story.refusal)


@then(parsers.parse('督办事项状态是"{status}"'))
def item_status(story, status):
    assert story.hotline.get_item(story.reference).status_name == status
    assert story.ledger_row(story.reference).status_name == status


@given(parsers.parse("{year:d} 年 {month:d} 月派出的工单如下："))
def cases_of_month(story, rules, year, month, datatable):
    hotline = story.hotline
    header, *rows = datatable
    for number, values in enumerate(rows):
        row = dict(zip(header, (v.strip() for v in values), strict=False))
        code = department_code(rules, row["承办单位"])
        opened = datetime(year, month, 9, 9, number, tzinfo=CHINA_TZ)
        call = Call(
            channel="phone",
            category="complaint",
            service_code="noise",
            description="噪声扰民",
            caller_phone=f"1380000{number:04d}",
        )
        ticket = clocked(hotline, opened).open_case(call, OPERATOR_ACTOR).ticket_no
        clocked(hotline, opened).dispatch(ticket, OPERATOR_ACTOR, department=code)
        # 签收 within 1 working day: by 24:00 of Friday the 10th; Saturday the 11th is a make-up working day.
        signed = opened.replace(hour=15) if row["签收"] == "按时" else opened.replace(day=11, hour=10)
        clocked(hotline, signed).sign(ticket, department(code))
        clocked(hotline, signed.replace(day=13)).reply(ticket, department(code), "已处理", row["问题解决"] != "否")
        if row["回访"] != "未回访":
            satisfaction = code_for(SATISFACTION, row["回访"])
            clocked(hotline, signed.replace(day=14)).record_callback(
                ticket,
                OPERATOR_ACTOR,
                True,
                satisfaction,
                row["问题解决"] == "是",
                contacted_first=row.get("先行联系", "是") == "是",
            )


@when(parsers.parse('计算"{month}"的三率'))
def compute_metrics(story, month):
    story.read_models.catch_up()
    story.metrics = {row.department: row for row in story.read_models.metrics(month, now=moment("2025-11-15 00:00"))}


@then(
    parsers.re(
        r'"(?P<name>\w+)"的响应率是 (?P<response>[\d.]+)%，解决率是 (?P<resolution>[\d.]+)%，'
        r"满意率是 (?P<satisfaction>[\d.]+)%，综合得分 (?P<score>[\d.]+)，排名第 (?P<rank>\d+)"
    )
)
def metric_row(story, rules, name, response, resolution, satisfaction, score, rank):
    row = story.metrics[department_code(rules, name)]
    assert f"{row.response_rate:.2f}" == response
    assert f"{row.resolution_rate:.2f}" == resolution
    assert f"{row.satisfaction_rate:.2f}" == satisfaction
    assert f"{row.score:.2f}" == score
    assert row.rank == int(rank)


@then(parsers.re(r'"(?P<name>\w+)"的及时签收率是 (?P<signing>[\d.]+)%，按时办结率是 (?P<on_time>[\d.]+)%'))
def other_rates(story, rules, name, signing, on_time):
    row = story.metrics[department_code(rules, name)]
    assert (f"{row.timely_signing_rate:.2f}", f"{row.on_time_rate:.2f}") == (signing, on_time)


@then(parsers.parse('"{name}"只有 {count:d} 件，列出但不参加排名'))
def not_ranked(story, rules, name, count):
    row = story.metrics[department_code(rules, name)]
    assert row.dispatched == count and row.rank is None and not row.ranked and row.score == 100.0


@given(parsers.parse('"{at}"受理的一件噪声投诉派给了"{name}"'))
def dispatched_noise_case(story, rules, at, name):
    call = Call(channel="phone", category="complaint", service_code="noise", description="夜间噪声扰民")
    opened = clocked(story.hotline, moment(at)).open_case(call, OPERATOR_ACTOR).ticket_no
    clocked(story.hotline, moment(at)).dispatch(opened, OPERATOR_ACTOR, department=department_code(rules, name))
    story.reference = opened


@then(parsers.re("督办员(?P<may>可以|不能再)对这件工单转督办"))
def may_escalate(story, may):
    case = story.hotline.get_case(story.reference)
    assert case.may("escalate", SUPERVISOR_ACTOR, story.now) == (may == "可以")


@when(parsers.re('督办员(再次)?把这件工单转督办，办结期限"(?P<due>[^"]+)"'))
def escalate(story, due):
    try:
        clocked(story.hotline, story.now).escalate_case(story.reference, SUPERVISOR_ACTOR, due=due)
    except DomainError as error:
        story.refusal = error


@then('工单的过程记录中有"转督办"，指向以工单编号为督办编号的督办事项')
def case_points_to_item(story):
    events = story.hotline.case_events(story.reference)
    assert isinstance(events[-1], Case.Escalated) and events[-1].reference_no == story.reference
    assert EVENT_NAMES[type(events[-1])] == "转督办"
    assert story.hotline.get_case(story.reference).escalated_to == story.reference
    assert story.hotline.get_item(story.reference).ticket_no == story.reference


@then("督办事项的过程记录中指向这件工单")
def item_points_to_case(story):
    [registered] = story.hotline.item_events(story.reference)
    assert registered.ticket_no == story.reference


@given(
    parsers.parse(
        '{year:d} 年 {month:d} 月派给"{name}"{count:d} 件工单，其中 1 件经派单中心同意退单后改派"{other}"，'
        '1 件回访不满意后重办、再派给"{again}"'
    )
)
def returned_and_rehandled(story, rules, year, month, name, count, other, again):
    hotline, code = story.hotline, department_code(rules, name)
    opened = datetime(year, month, 9, 9, 0, tzinfo=CHINA_TZ)  # a Thursday
    tickets = []
    for number in range(count):
        call = Call("phone", "complaint", "noise", "噪声扰民", caller_phone=f"1390000{number:04d}")
        tickets.append(clocked(hotline, opened).open_case(call, OPERATOR_ACTOR).ticket_no)
        clocked(hotline, opened).dispatch(tickets[-1], OPERATOR_ACTOR, department=code)
    returned, unhappy = tickets[:2]
    later = opened.replace(day=10)
    clocked(hotline, later).return_case(returned, department(code), "油烟属城管职责", "权责清单第 12 项")
    clocked(hotline, later).approve_return(returned, OPERATOR_ACTOR, "属实")
    clocked(hotline, later).dispatch(returned, OPERATOR_ACTOR, department=department_code(rules, other), note="改派")
    clocked(hotline, later).sign(unhappy, department(code))
    clocked(hotline, later.replace(day=13)).reply(unhappy, department(code), "已处理", True)
    clocked(hotline, later.replace(day=14)).record_callback(
        unhappy, OPERATOR_ACTOR, True, "dissatisfied", False, contacted_first=True
    )
    clocked(hotline, later.replace(day=14)).reopen(unhappy, OPERATOR_ACTOR, "来电人不满意，重办")
    assert isinstance(hotline.case_events(unhappy)[-1], Case.Rehandled)
    clocked(hotline, later.replace(day=15)).dispatch(unhappy, OPERATOR_ACTOR, department=department_code(rules, again))


@then(
    parsers.re(
        r'"(?P<name>\w+)"收到派单 (?P<received>\d+) 件，退回 (?P<returned>\d+) 件，重办 (?P<rehandled>\d+) 件，'
        r"回退率是 (?P<returns>[\d.]+)%，重办率是 (?P<rehandling>[\d.]+)%"
    )
)
def return_and_rehandling_rates(story, rules, name, received, returned, rehandled, returns, rehandling):
    row = story.metrics[department_code(rules, name)]
    assert (row.dispatches_received, row.returned, row.rehandled) == (int(received), int(returned), int(rehandled))
    assert (f"{row.return_rate:.2f}", f"{row.rehandling_rate:.2f}") == (returns, rehandling)


@then("回退率和重办率不改变综合得分")
def not_in_the_score(story, rules):
    for row in story.metrics.values():
        assert row.score == rules.metrics.score(rates_of(row, {"return": None, "rehandling": None}))
        assert row.score == rules.metrics.score(rates_of(row, {"return": 100.0, "rehandling": 100.0}))
