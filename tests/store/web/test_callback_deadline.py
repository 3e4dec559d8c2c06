"""The callback deadline recorded on the reply shows on the case page, its timeline and the
operator's console, marked 暂定 when it rests on a year whose arrangement is not published."""

from datetime import datetime, timedelta

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.workdays import CHINA_TZ
from tests.conftest import OPERATOR_ACTOR, department

PROVISIONAL = '<span class="badge warn" title="该年度节假日安排尚未公布，暂按法定节假日（不含调休）计算">暂定</span>'


def replied_at(app, moment: datetime) -> str:
    call = Call(channel="phone", category="complaint", service_code="noise", description="楼下商铺夜间音响扰民")
    ticket = clocked(app, moment - timedelta(days=1)).open_case(call, OPERATOR_ACTOR).ticket_no
    clocked(app, moment - timedelta(days=1)).dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    clocked(app, moment - timedelta(hours=20)).sign(ticket, department("HBJ"))
    clocked(app, moment).reply(ticket, department("HBJ"), "已约谈商户", True)
    return ticket


def test_a_callback_deadline_in_an_unpublished_year_shows_as_provisional(signed_in, web_services):
    app, operator = web_services.app, signed_in("operator")
    firm = replied_at(app, datetime(2026, 12, 29, 16, 0, tzinfo=CHINA_TZ))  # called back by 12-30
    late = replied_at(app, datetime(2026, 12, 31, 16, 0, tzinfo=CHINA_TZ))  # by 2027-01-04, 暂定
    web_services.read_models.catch_up()

    page = operator.get(f"/cases/{late}").text
    assert f"<dt>回访期限</dt><dd>2027-01-04 23:59 {PROVISIONAL}</dd>" in page
    assert '<div class="detail">已解决：已约谈商户；回访期限 2027-01-04 23:59（暂定）</div>' in page  # the timeline
    page = operator.get(f"/cases/{firm}").text
    assert "<dt>回访期限</dt><dd>2026-12-30 23:59</dd>" in page
    assert '<div class="detail">已解决：已约谈商户；回访期限 2026-12-30 23:59</div>' in page

    console = operator.get("/operator").text
    late_row = console[console.index(f">{late}</a>") :].split("</li>")[0]
    firm_row = console[console.index(f">{firm}</a>") :].split("</li>")[0]
    assert "回访期限 01-04 23:59" in late_row and "暂定" in late_row
    assert "回访期限 12-30 23:59" in firm_row and "暂定" not in firm_row
