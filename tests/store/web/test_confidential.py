"""保密 callers: a 举报 caller is confidential by default; the handling department sees 王** /
139****5678 until it gives a reason, and the reason is in the case's audit trail; the dispatch
message never carries a contact in clear; the public never sees a confidential case."""

from __future__ import annotations

import json
import re

from hotline.domain.case import Call
from hotline.intake.dispatch_publisher import DispatchPublisher
from tests.conftest import OPERATOR_ACTOR

INFORMANT, PHONE = "王小明", "13912345678"


def _log_call(operator, **changes):
    page = operator.get("/calls/new").text
    submission = re.search(r'name="submission"[^>]*value="([^"]+)"', page)
    form = {
        "channel": "phone",
        "caller_phone": PHONE,
        "caller_name": INFORMANT,
        "category": "report",
        "urgency": "normal",
        "service_code": "noise",
        "district": "城东区",
        "address": "解放路 1 号",
        "description": "举报楼下酒吧深夜营业噪音扰民",
        "confidential": "",
        **({"submission": submission.group(1)} if submission else {}),
        **changes,
    }
    answer = operator.post("/calls/new", form, follow_redirects=True)
    return re.search(r"工单编号 (\d{8}-\d{6})", answer.text).group(1)


def _dispatch(operator, ticket):
    page = operator.get(f"/cases/{ticket}").text
    version = re.search(r'name="dispatch-version"[^>]*value="(\d+)"', page).group(1)
    operator.post(
        f"/cases/{ticket}/dispatch",
        {"dispatch-department": "HBJ", "dispatch-note": "", "dispatch-version": version},
        token_from=f"/cases/{ticket}",
    )


def test_a_report_caller_is_masked_for_the_department_until_a_reason_is_given(signed_in, web_services):
    operator, hbj = signed_in("operator"), signed_in("hbj")
    ticket = _log_call(operator)
    assert web_services.app.get_case(ticket).confidential  # 举报: 保密 by default (rules/privacy.toml)
    _dispatch(operator, ticket)
    page = hbj.get(f"/cases/{ticket}").text
    assert "王**" in page and "139****5678" in page and PHONE not in page and INFORMANT not in page
    version = re.search(r'name="reveal_contact-version"[^>]*value="(\d+)"', page).group(1)
    refused = hbj.post(
        f"/cases/{ticket}/reveal_contact",
        {"reveal_contact-reason": "", "reveal_contact-version": version},
        token_from=f"/cases/{ticket}",
        follow_redirects=True,
    )
    assert PHONE not in refused.text and "查看理由" in refused.text  # no reason, no contact
    hbj.post(
        f"/cases/{ticket}/reveal_contact",
        {"reveal_contact-reason": "现场核查需当面询问举报人", "reveal_contact-version": version},
        token_from=f"/cases/{ticket}",
    )
    shown = hbj.get(f"/cases/{ticket}").text
    assert PHONE in shown and INFORMANT in shown
    assert "查看保密来电人联系方式" in shown and "现场核查需当面询问举报人" in shown  # in the timeline
    revealed = [e for e in web_services.app.case_events(ticket) if type(e).__name__ == "ContactRevealed"]
    assert [(e.actor_id, e.department, e.reason) for e in revealed] == [("hbj", "HBJ", "现场核查需当面询问举报人")]
    # The operator always sees the caller; another department does not see the case at all.
    assert PHONE in operator.get(f"/cases/{ticket}").text
    assert signed_in("cgj").get(f"/cases/{ticket}").status_code == 404


def test_the_operator_may_mark_any_call_confidential_or_a_report_not(signed_in, web_services):
    operator = signed_in("operator")
    complaint = _log_call(operator, category="complaint", confidential="yes")
    report = _log_call(operator, confidential="no")
    ordinary = _log_call(operator, category="complaint")
    app = web_services.app
    assert [app.get_case(t).confidential for t in (complaint, report, ordinary)] == [True, False, False]


def test_the_dispatch_message_carries_no_contact_in_clear(web_services):
    app = web_services.app
    call = Call(
        channel="phone",
        category="report",
        service_code="noise",
        description=f"举报人电话 {PHONE}",
        caller_name=INFORMANT,
        caller_phone=PHONE,
    )
    ticket = app.open_case(call, OPERATOR_ACTOR).ticket_no
    app.dispatch(ticket, OPERATOR_ACTOR, "HBJ")
    sent = []
    publisher = DispatchPublisher(app, sent.extend, "hotline.dispatch", position_name="test")
    publisher.publish_pending()
    body = json.loads(sent[-1].value)
    assert body["schema"] == "hotline.dispatch/2"
    assert body["case"]["confidential"] is True
    assert body["case"]["caller"] == {"name": "王**", "phone": "139****5678"}
    assert PHONE not in sent[-1].value.decode() and INFORMANT not in sent[-1].value.decode()


def test_a_confidential_complaint_is_never_public(web_services, app):
    hotline = web_services.app
    call = Call(
        channel="web", category="complaint", service_code="garbage", description="垃圾清运不及时", confidential=True
    )
    ticket = hotline.open_case(call, OPERATOR_ACTOR).ticket_no
    client = app.test_client()
    assert ticket not in client.get("/open311/v2/requests.json").text
    assert client.get(f"/open311/v2/requests/{ticket}.json").status_code == 404
