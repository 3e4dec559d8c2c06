"""A refused form on a 督办 item or a knowledge-base article comes back with what was typed, as on
a case page: the page again (400) with the reason, never a redirect that loses the text."""

from datetime import date

from hotline.domain.knowledge import ArticleContent
from tests.conftest import department
from tests.store.web.test_supervisor_pages import REF, item_version, register


def test_a_progress_report_refused_as_stale_keeps_its_text(signed_in, web_services):
    supervisor, hbj = signed_in("supervisor"), signed_in("hbj")
    register(supervisor)
    path = f"/supervision/items/{REF}"
    stale = hbj.get(path).text  # the liaison opens the page …
    web_services.app.report_progress(REF, department("HBJ"), "已完成排污口排查 3 处")  # … a colleague reports first

    typed = "已完成排污口排查 12 处，正在制定整治方案"
    response = hbj.post(
        f"{path}/do/progress",
        {"progress-version": item_version(stale, "progress"), "progress-content": typed},
        token_from=path,
    )
    assert response.status_code == 400 and "请刷新后重试" in response.text
    assert f"{typed}</textarea>" in response.text
    resent = item_version(response.text, "progress")  # the page shows the item as it is now: it can be sent again
    again = hbj.post(f"{path}/do/progress", {"progress-version": resent, "progress-content": typed}, token_from=path)
    assert again.status_code == 302


def test_an_article_edit_refused_as_stale_keeps_its_text(signed_in, web_services):
    hbj = signed_in("hbj")
    content = ArticleContent(
        "噪声投诉", "夜间噪声找谁", "转生态环境部门", "噪声法", "主席令第104号", ("noise",), date.today()
    )
    number = web_services.app.draft_article(department("HBJ"), "HBJ", content).number
    page = f"/kb/{number}"
    stale = hbj.get(page).text
    web_services.app.edit_article(number, department("HBJ"), content)  # saved meanwhile from another desk

    typed = "夜间施工噪声请拨打 12345，由生态环境局处理"
    fields = {
        "edit-title": "噪声投诉",
        "edit-question": "夜间噪声找谁",
        "edit-answer": typed,
        "edit-basis": "噪声法",
        "edit-basis_no": "主席令第104号",
        "edit-services": "noise",
        "edit-valid_from": date.today().isoformat(),
    }
    response = hbj.post(f"{page}/edit", {**fields, "edit-version": item_version(stale, "edit")}, token_from=page)
    assert response.status_code == 400 and "请刷新后重试" in response.text
    assert f"{typed}</textarea>" in response.text


def test_a_refused_escalation_keeps_its_text(signed_in, web_services):
    from datetime import timedelta

    from hotline.application import clocked
    from tests.conftest import OPERATOR_ACTOR
    from tests.store.web.test_case_flow import noise_call, version_of

    supervisor, app = signed_in("supervisor"), web_services.app
    now = web_services.clock.now()
    ticket = clocked(app, now - timedelta(days=40)).open_case(noise_call(), OPERATOR_ACTOR).ticket_no
    clocked(app, now - timedelta(days=40)).dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    clocked(app, now)  # back to now: long overdue
    page = supervisor.get(f"/cases/{ticket}").text
    typed = "超期四十天未签收，请环保局说明原因"
    data = {"escalate-version": version_of(page, "escalate"), "escalate-due": "", "escalate-content": typed}
    response = supervisor.post(f"/cases/{ticket}/escalate", data, token_from=f"/cases/{ticket}")
    assert response.status_code == 400  # no due date: refused, with the reason and what was typed
    assert f"{typed}</textarea>" in response.text
