"""协办 on the workbench: the cooperating department's inbox lists the case under 协办工单 with the
lead, its part's state, the reply deadline and the 协办签收 / 报送协办情况 actions; the lead's inbox
says how many parts are still to report."""

import re
from datetime import timedelta

from hotline.application import clocked
from hotline.domain.case import Call
from tests.conftest import OPERATOR_ACTOR, department
from tests.store.web.test_case_flow import act


def cooperation_section(page: str) -> str:
    return re.search(r'<section class="card" id="cooperation">(.*?)</section>', page, re.S).group(1)


def test_a_cooperating_department_signs_and_reports_its_part_from_its_inbox(signed_in, web_services):
    hbj, cgj = signed_in("hbj"), signed_in("cgj")
    app = web_services.app
    now = web_services.clock.now()
    call = Call(
        channel="phone",
        category="complaint",
        service_code="noise",
        description="商铺门前占道经营，来电人电话13800138000",
    )
    ticket = clocked(app, now - timedelta(hours=2)).open_case(call, OPERATOR_ACTOR).ticket_no
    clocked(app, now - timedelta(hours=2)).dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    clocked(app, now - timedelta(hours=1)).sign(ticket, department("HBJ"))
    clocked(app, now - timedelta(hours=1)).assign_cooperation(ticket, OPERATOR_ACTOR, ["CGJ"], "门前占道经营")
    clocked(app, now)
    reply_by = app.get_case(ticket).reply_by

    section = cooperation_section(cgj.get("/department").text)
    assert "共 1 件" in section and ticket in section
    assert "市生态环境局" in section and "待签收协办" in section  # the lead by name, the part's state
    assert reply_by.strftime("%Y-%m-%d %H:%M") in section
    # What the lead sees of the caller, no more: the contact scrubbed the same way in both inboxes.
    assert "13800138000" not in section and "来电人电话＊＊" in section
    assert f'action="/cases/{ticket}/sign_part"' in section
    lead = hbj.get("/department").text
    assert "协办 1 家，待报送 1 家" in lead and "本单位暂无协办工单" in lead
    assert "13800138000" not in lead and "来电人电话＊＊" in lead

    version = re.search(r'name="sign_part-version" value="(\d+)"', section).group(1)
    signed = cgj.post(
        f"/cases/{ticket}/sign_part", {"sign_part-version": version}, token_from="/department", follow_redirects=True
    )
    assert "已签收协办任务" in signed.text
    section = cooperation_section(cgj.get("/department").text)
    assert "办理中" in section and f'href="/cases/{ticket}#action-report_part"' in section
    assert 'id="action-report_part"' in cgj.get(f"/cases/{ticket}").text  # the link lands on the form

    act(cgj, ticket, "report_part", content="已查处门前占道经营")
    assert "已报送" in cooperation_section(cgj.get("/department").text)
    assert "协办 1 家，均已报送" in hbj.get("/department").text
