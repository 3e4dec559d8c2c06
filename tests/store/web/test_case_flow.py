"""A case through the web: operator, department and supervisor each do their part."""

import re
from dataclasses import replace
from datetime import datetime, timedelta

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.workdays import CHINA_TZ
from tests.conftest import OPERATOR_ACTOR, department
from tests.store.web.test_operator_pages import log_call


def noise_call() -> Call:
    return Call(channel="phone", category="complaint", service_code="noise", description="楼下商铺夜间音响扰民")


def version_of(page_text: str, action: str) -> str:
    return re.search(rf'name="{action}-version"[^>]*value="(\d+)"', page_text).group(1)


def act(browser, ticket: str, action: str, **fields):
    page = browser.get(f"/cases/{ticket}").text
    data = {f"{action}-{k}": v for k, v in fields.items()}
    data[f"{action}-version"] = version_of(page, action)
    return browser.post(f"/cases/{ticket}/{action}", data, token_from=f"/cases/{ticket}", follow_redirects=True)


def test_the_whole_story_through_the_pages(signed_in, web_services):
    operator, hbj, supervisor = signed_in("operator"), signed_in("hbj"), signed_in("supervisor")
    ticket = re.search(r"工单编号 (\d{8}-\d{6})", log_call(operator).text).group(1)

    # The case shows its service with its place in the catalogue (rules/services.csv).
    assert "<dd>生态环境 › 噪声 › 噪声扰民</dd>" in operator.get(f"/cases/{ticket}").text
    page = act(operator, ticket, "dispatch", department="HBJ", note="")
    assert "已派单" in page.text and "待签收" in page.text

    assert "签收" in hbj.get(f"/cases/{ticket}").text
    assert "已签收" in act(hbj, ticket, "sign").text
    page = act(hbj, ticket, "reply", result="已约谈商户，停止夜间营业音响", resolved="yes")
    assert "已答复" in page.text

    page = act(
        operator,
        ticket,
        "callback",
        reached="yes",
        contacted_first="yes",
        satisfaction="satisfied",
        resolved="yes",
        note="来电人满意",
    )
    assert "已记录回访" in page.text
    assert "工单已办结" in act(operator, ticket, "close", note="").text

    audit = supervisor.get(f"/audit/cases/{ticket}").text
    for step in ("受理", "派单", "签收", "答复", "回访", "办结"):
        assert f"<strong>{step}</strong>" in audit
    events = web_services.app.case_events(ticket)
    signed = events[2].timestamp.astimezone(CHINA_TZ).replace(tzinfo=None)  # the moment the department signed
    as_of = supervisor.get(f"/audit/cases/{ticket}?at={signed.isoformat()}").text
    assert "办理中" in as_of and "第 3 版" in as_of


def test_a_stale_page_cannot_overwrite_a_newer_state(signed_in):
    operator, supervisor = signed_in("operator"), signed_in("supervisor")
    ticket = re.search(r"工单编号 (\d{8}-\d{6})", log_call(operator).text).group(1)
    act(operator, ticket, "dispatch", department="HBJ", note="")
    stale = supervisor.get(f"/cases/{ticket}").text  # the supervisor opens the page …
    act(operator, ticket, "urge", note="请尽快签收")  # … while the operator urges first
    response = supervisor.post(
        f"/cases/{ticket}/urge",
        {"urge-version": version_of(stale, "urge"), "urge-note": "我也催一下"},
        token_from=f"/cases/{ticket}",
        follow_redirects=True,
    )
    assert "该工单已被他人更新，请刷新后重试" in response.text


def test_domain_refusals_are_shown_not_500(signed_in):
    operator, hbj = signed_in("operator"), signed_in("hbj")
    ticket = re.search(r"工单编号 (\d{8}-\d{6})", log_call(operator).text).group(1)
    act(operator, ticket, "dispatch", department="HBJ", note="")
    page = hbj.get(f"/cases/{ticket}").text
    response = hbj.post(
        f"/cases/{ticket}/reply",
        {"reply-version": version_of(page, "sign"), "reply-result": "x", "reply-resolved": "yes"},
        token_from=f"/cases/{ticket}",
        follow_redirects=True,
    )
    assert response.status_code == 400 and "尚未签收" in response.text
    response = hbj.post(
        f"/cases/{ticket}/return",
        {"return-version": version_of(page, "return"), "return-reason": ""},
        token_from=f"/cases/{ticket}",
        follow_redirects=True,
    )
    assert "请填写退单理由" in response.text
    # A refused form comes back with what was typed: nothing the user wrote is lost.
    response = hbj.post(
        f"/cases/{ticket}/return",
        {"return-version": version_of(page, "return"), "return-reason": "油烟属于城管职责", "return-basis": ""},
        token_from=f"/cases/{ticket}",
    )
    assert response.status_code == 400 and "请填写退单依据" in response.text
    assert "油烟属于城管职责</textarea>" in response.text
    assert hbj.post(f"/cases/{ticket}/explode", {}, token_from=f"/cases/{ticket}").status_code == 404


def test_another_department_sees_nothing_of_the_case(signed_in):
    operator, cgj = signed_in("operator"), signed_in("cgj")
    ticket = re.search(r"工单编号 (\d{8}-\d{6})", log_call(operator).text).group(1)
    act(operator, ticket, "dispatch", department="HBJ", note="")
    assert cgj.get(f"/cases/{ticket}").status_code == 404
    for action in ("sign", "return", "reply", "extend"):
        response = cgj.post(f"/cases/{ticket}/{action}", {f"{action}-version": "2"}, token_from="/department")
        assert response.status_code == 404, action
    assert cgj.get(f"/audit/cases/{ticket}").status_code == 403


def test_a_callback_made_by_phone_is_entered_later_with_the_time_it_was_made(signed_in, web_services):
    app, operator = web_services.app, signed_in("operator")
    start = datetime(2026, 10, 12, 9, 0, tzinfo=CHINA_TZ)
    ticket = clocked(app, start).open_case(noise_call(), OPERATOR_ACTOR).ticket_no
    clocked(app, start + timedelta(minutes=10)).dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    clocked(app, start + timedelta(hours=1)).sign(ticket, department("HBJ"))
    clocked(app, start + timedelta(hours=3)).reply(ticket, department("HBJ"), "已约谈商户", True)
    clocked(app, start + timedelta(hours=6))

    fields = {
        "reached": "yes",
        "contacted_first": "yes",
        "satisfaction": "satisfied",
        "resolved": "yes",
        "note": "电话回访，来电人满意",
    }
    refused = act(operator, ticket, "callback", called_at="2026-10-12 11:00", **fields)
    assert refused.status_code == 400 and "早于该工单上一步的时间 2026-10-12 12:00:00" in refused.text
    assert app.get_case(ticket).status == "replied"

    page = act(operator, ticket, "callback", called_at="2026-10-12 14:30", **fields)
    assert "已记录回访" in page.text
    assert "记录 2026-10-12 15:00:00" in page.text and "报告发生于 2026-10-12 14:30:00" in page.text


def test_an_unclassified_call_is_classified_on_the_case_page_and_then_routed(signed_in, web_services):
    """A call from a channel with a service code the catalogue lacks: 待分类 in the dispatch queue,
    the operator chooses the service and category (nothing typed is lost on a refusal)."""
    operator = signed_in("operator")
    app = web_services.app
    call = Call(channel="wechat", category="complaint", service_code="ufo", description="楼下商铺夜间音响扰民")
    ticket = app.open_case(call, OPERATOR_ACTOR, route=True).ticket_no
    assert "待分类" in operator.get("/operator/dispatch").text
    page = operator.get(f"/cases/{ticket}").text
    assert "待分类" in page and "未知服务事项代码“ufo”" in page and 'action="/cases/' + ticket + '/classify"' in page
    assert f'/cases/{ticket}/dispatch"' not in page  # no 派单 before the case is classified

    refused = act(operator, ticket, "classify", service_code="", category="complaint", note="夜间噪声")
    assert refused.status_code == 400 and "请选择服务事项" in refused.text and "夜间噪声" in refused.text
    page = act(operator, ticket, "classify", service_code="noise", category="complaint", note="夜间噪声")
    assert "已分类" in page.text and "市生态环境局" in page.text and "待签收" in page.text
    assert "渠道所报：ufo / complaint" in page.text  # the timeline keeps what the channel sent
    case = app.get_case(ticket)
    assert (case.status, case.service_code, case.department) == ("dispatched", "noise", "HBJ")


def test_an_escalated_case_and_its_item_link_to_each_other_and_escalation_is_not_offered_twice(signed_in, web_services):
    supervisor = signed_in("supervisor")
    app = web_services.app
    now = web_services.clock.now()
    ticket = clocked(app, now - timedelta(days=40)).open_case(noise_call(), OPERATOR_ACTOR).ticket_no
    clocked(app, now - timedelta(days=40)).dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    clocked(app, now)  # back to now: long overdue
    page = supervisor.get(f"/cases/{ticket}").text
    assert f'action="/cases/{ticket}/escalate"' in page
    due = (now + timedelta(days=20)).date().isoformat()
    data = {"escalate-version": version_of(page, "escalate"), "escalate-due": due, "escalate-content": "超期未签收"}
    item_page = supervisor.post(f"/cases/{ticket}/escalate", data, token_from=f"/cases/{ticket}", follow_redirects=True)
    assert f"督办事项 {ticket}" in item_page.text and f'href="/cases/{ticket}"' in item_page.text
    page = supervisor.get(f"/cases/{ticket}").text
    assert f'action="/cases/{ticket}/escalate"' not in page  # not offered twice
    assert "转督办" in page and f'href="/supervision/items/{ticket}"' in page  # the fact and the timeline link


def test_an_escalation_of_a_case_changed_meanwhile_asks_to_look_again_and_keeps_the_text(signed_in, web_services):
    supervisor = signed_in("supervisor")
    app = web_services.app
    now = web_services.clock.now()
    ticket = clocked(app, now - timedelta(days=40)).open_case(noise_call(), OPERATOR_ACTOR).ticket_no
    clocked(app, now - timedelta(days=40)).dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    clocked(app, now)
    page = supervisor.get(f"/cases/{ticket}").text
    app.urge(ticket, OPERATOR_ACTOR, "请尽快签收")  # someone else writes the case while the supervisor types
    due = (now + timedelta(days=20)).date().isoformat()
    data = {
        "escalate-version": version_of(page, "escalate"),
        "escalate-due": due,
        "escalate-content": "超期未签收，请督办",
    }
    refused = supervisor.post(f"/cases/{ticket}/escalate", data, token_from=f"/cases/{ticket}")
    assert refused.status_code == 400
    assert "该工单已被他人更新，请刷新后重试" in refused.text and "已转督办" not in refused.text
    assert "超期未签收，请督办" in refused.text  # what was typed is kept
    assert app.get_case(ticket).escalated_to is None
    data["escalate-version"] = version_of(refused.text, "escalate")  # the page as it is now: sent again, it works
    item_page = supervisor.post(f"/cases/{ticket}/escalate", data, token_from=f"/cases/{ticket}", follow_redirects=True)
    assert f"督办事项 {ticket}" in item_page.text


def test_the_target_of_a_merge_lists_the_merged_calls_with_masked_callers_and_counts_them(signed_in, web_services):
    operator, hbj = signed_in("operator"), signed_in("hbj")
    app = web_services.app
    target = app.open_case(noise_call(), OPERATOR_ACTOR).ticket_no
    app.dispatch(target, OPERATOR_ACTOR, department="HBJ")
    for name, phone in (("李四", "13800000001"), ("李四", "13800000001"), ("张三", "13800000002")):
        call = Call(
            channel="phone", category="complaint", service_code="noise", description=f"{name}：同一商铺夜间音响扰民"
        )
        repeat = app.open_case(replace(call, caller_name=name, caller_phone=phone), OPERATOR_ACTOR).ticket_no
        act(operator, repeat, "merge", target=target)
    for browser in (operator, hbj):  # the department handling the target sees the list too, masked
        page = browser.get(f"/cases/{target}").text
        assert "并入的来电" in page and "3 件 · 诉求人数 3 人" in page  # the anonymous target caller, 李四 once, 张三
        assert page.count("李**") == 2 and "张**" in page and "138****0002" in page
        assert "13800000001" not in page and "李四" not in page and "张三" not in page


def test_lead_and_cooperating_departments_each_do_their_part_on_the_case_page(signed_in, web_services):
    operator, hbj, cgj = signed_in("operator"), signed_in("hbj"), signed_in("cgj")
    app = web_services.app
    ticket = app.open_case(noise_call(), OPERATOR_ACTOR).ticket_no
    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    assert cgj.get(f"/cases/{ticket}").status_code == 404  # not its case yet
    act(hbj, ticket, "sign")
    page = act(operator, ticket, "assign_cooperation", department="CGJ", note="门前占道经营")
    assert "已指定协办单位" in page.text and "协办单位" in page.text
    page = hbj.get(f"/cases/{ticket}").text  # the lead's reply waits for the part (the domain's may)
    assert f'action="/cases/{ticket}/reply"' not in page and "待签收" in page
    page = cgj.get(f"/cases/{ticket}").text  # the cooperating department sees it, with its own steps
    assert f'action="/cases/{ticket}/sign_part"' in page and f'action="/cases/{ticket}/reply"' not in page
    act(cgj, ticket, "sign_part")
    assert "已报送协办情况" in act(cgj, ticket, "report_part", content="已查处门前占道经营").text
    page = act(hbj, ticket, "reply", result="已约谈商户，城管已查处占道经营", resolved="yes")
    assert app.get_case(ticket).status == "replied"
    assert "已查处门前占道经营" in hbj.get(f"/cases/{ticket}").text
