"""主办 / 协办 in the read models, on both stores: the cooperating department's 协办工单, the lead's
count of parts still to report, a new dispatch clearing the parts, and rebuild equal to the
incremental run."""

from datetime import datetime, timedelta

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.workdays import CHINA_TZ
from tests.conftest import OPERATOR_ACTOR, department

T0 = datetime(2025, 10, 9, 9, 0, tzinfo=CHINA_TZ)  # a Thursday after National Day


def open_case(hotline, at=T0, lead="HBJ", description="商铺门前占道经营并夜间噪音扰民，联系电话13800138000"):
    call = Call(channel="phone", category="complaint", service_code="noise", description=description)
    ticket = clocked(hotline, at).open_case(call, OPERATOR_ACTOR).ticket_no
    clocked(hotline, at).dispatch(ticket, OPERATOR_ACTOR, department=lead)
    return ticket


def cooperate(hotline, ticket, at, *codes):
    clocked(hotline, at).assign_cooperation(ticket, OPERATOR_ACTOR, list(codes), "门前占道经营")


def test_the_cooperating_department_sees_its_part_and_the_lead_what_is_outstanding(services):
    hotline, models = services.app, services.read_models
    ticket = open_case(hotline)
    clocked(hotline, T0 + timedelta(minutes=30)).sign(ticket, department("HBJ"))
    cooperate(hotline, ticket, T0 + timedelta(hours=1), "CGJ", "JTJ")
    models.catch_up()

    parts, total = models.cooperation_inbox("CGJ", now=T0 + timedelta(hours=2))
    assert total == 1 and len(parts) == 1
    part = parts[0]
    case = hotline.get_case(ticket)
    assert (part.ticket_no, part.lead_department, part.state_name) == (ticket, "HBJ", "待签收协办")
    assert part.reply_by == case.reply_by and part.version == case.version and not part.overdue
    # What the lead's inbox shows of the caller, no more: contacts scrubbed the same way.
    lead_rows, _ = models.inbox("HBJ", now=T0 + timedelta(hours=2))
    assert part.description == lead_rows[0].description and "13800138000" not in part.description
    assert (lead_rows[0].cooperating, lead_rows[0].parts_outstanding) == (2, 2)
    assert models.cooperation_inbox("HBJ")[1] == 0  # the lead is not a cooperating department

    clocked(hotline, T0 + timedelta(hours=3)).sign_part(ticket, department("CGJ"))
    models.catch_up()
    assert models.cooperation_inbox("CGJ")[0][0].state_name == "办理中"
    clocked(hotline, T0 + timedelta(hours=4)).report_part(ticket, department("CGJ"), "已查处占道经营")
    models.catch_up()
    reported = models.cooperation_inbox("CGJ")[0][0]
    assert reported.state_name == "已报送" and reported.reported_at == T0 + timedelta(hours=4)
    assert models.inbox("HBJ")[0][0].parts_outstanding == 1  # JTJ still to report
    assert [p.state_name for p in models.cooperation_inbox("JTJ")[0]] == ["待签收协办"]

    # Once the lead has replied for all, the case leaves the cooperating departments' inboxes too.
    clocked(hotline, T0 + timedelta(hours=5)).sign_part(ticket, department("JTJ"))
    clocked(hotline, T0 + timedelta(hours=5)).report_part(ticket, department("JTJ"), "已疏导交通")
    models.catch_up()
    assert models.inbox("HBJ")[0][0].parts_outstanding == 0
    clocked(hotline, T0 + timedelta(hours=6)).reply(ticket, department("HBJ"), "已约谈商户，城管、交警已处理", True)
    models.catch_up()
    assert models.cooperation_inbox("CGJ") == ([], 0) and models.cooperation_inbox("JTJ") == ([], 0)


def test_a_new_dispatch_clears_the_parts_and_names_its_own(services):
    hotline, models = services.app, services.read_models
    ticket = open_case(hotline)
    cooperate(hotline, ticket, T0 + timedelta(hours=1), "CGJ")
    clocked(hotline, T0 + timedelta(hours=2)).sign_part(ticket, department("CGJ"))
    models.catch_up()
    assert models.cooperation_inbox("CGJ")[0][0].state_name == "办理中"

    clocked(hotline, T0 + timedelta(hours=3)).dispatch(ticket, OPERATOR_ACTOR, department="JTJ", note="属交通问题")
    models.catch_up()
    assert models.cooperation_inbox("CGJ") == ([], 0)  # the case cleared its parts: so does the view
    assert models.inbox("JTJ")[0][0].cooperating == 0

    cooperate(hotline, ticket, T0 + timedelta(hours=4), "CGJ")  # named again by the new dispatch: a fresh part
    models.catch_up()
    part = models.cooperation_inbox("CGJ")[0][0]
    assert (part.lead_department, part.state_name, part.signed_at) == ("JTJ", "待签收协办", None)
    assert hotline.get_case(ticket).cooperating["CGJ"]["signed_at"] is None


def test_rebuild_gives_exactly_the_parts_of_the_incremental_run(services):
    hotline, models = services.app, services.read_models
    models.batch_size = 3  # batch boundaries inside the cases' histories
    tickets = [open_case(hotline, at=T0 + timedelta(minutes=i)) for i in range(4)]
    for number, ticket in enumerate(tickets):
        at = T0 + timedelta(hours=1 + number)
        cooperate(hotline, ticket, at, "CGJ", "JTJ")
        if number % 3 == 0:
            models.catch_up()  # catch up while the data arrives
        clocked(hotline, at + timedelta(minutes=10)).sign_part(ticket, department("CGJ"))
        if number % 2:
            clocked(hotline, at + timedelta(minutes=20)).report_part(ticket, department("CGJ"), "已处理")
        if number == 2:
            clocked(hotline, at + timedelta(minutes=30)).dispatch(ticket, OPERATOR_ACTOR, department="SWJ", note="改派")
            cooperate(hotline, ticket, at + timedelta(minutes=40), "CGJ")
    models.catch_up()
    incremental = models.dump("cooperation")
    assert len(incremental["hv_case_parts"]) == 7  # 3 cases × 2 parts, and the redispatched one's new part
    models.batch_size = 5000
    models.rebuild(["cooperation"])
    assert models.dump("cooperation") == incremental
    models.rebuild()
    assert models.dump("cooperation") == incremental
