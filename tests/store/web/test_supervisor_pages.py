"""The supervisor's pages and the department's side of 督办: register, report, verify, export."""

import io
import re

from openpyxl import load_workbook

from tests.store.web.test_case_flow import act
from tests.store.web.test_operator_pages import log_call

REF = "市领导批示〔2025〕18号"


def item_version(page: str, action: str) -> str:
    return re.search(rf'name="{action}-version"[^>]*value="(\d+)"', page).group(1)


def item_act(browser, action: str, **fields):
    path = f"/supervision/items/{REF}"
    page = browser.get(path).text
    data = {f"{action}-{k}": v for k, v in fields.items()}
    data[f"{action}-version"] = item_version(page, action)
    return browser.post(f"{path}/do/{action}", data, token_from=path, follow_redirects=True)


def register(supervisor):
    return supervisor.post(
        "/supervisor/ledger/new",
        {
            "reference_no": REF,
            "leader": "张市长",
            "content": "请生态环境局牵头整治河道黑臭水体",
            "lead_department": "HBJ",
            "cooperating": ["SWJ", "CDQ"],
            "due": "2026-12-31",
        },
        follow_redirects=True,
    )


def test_register_report_verify_and_export(signed_in):
    supervisor, hbj, cgj = signed_in("supervisor"), signed_in("hbj"), signed_in("cgj")
    page = register(supervisor)
    assert f"已登记督办事项 {REF}" in page.text and "市水务局" in page.text

    assert REF in hbj.get("/department").text  # the lead department sees it on its workbench
    assert "已报送进度" in item_act(hbj, "progress", content="已完成排污口排查 12 处").text
    assert cgj.get(f"/supervision/items/{REF}").status_code == 404  # not involved: not visible

    assert "action-verify" not in supervisor.get(f"/supervision/items/{REF}").text  # 销号 only after completion
    assert "已报告完成" in item_act(hbj, "complete", summary="黑臭水体已消除，长效机制已建立").text
    assert "已销号" in item_act(supervisor, "verify", note="现场核验合格").text

    ledger = supervisor.get("/supervisor/ledger").text
    assert REF in ledger and "已销号" in ledger
    export = supervisor.get("/supervisor/ledger.xlsx?month=2026-11")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(export.data))
    assert "领导批示" in book.sheetnames

    audit = supervisor.get(f"/audit/items/{REF}").text
    assert all(f"<strong>{step}</strong>" in audit for step in ("登记", "报送进度", "报告办结", "销号"))


def test_registering_twice_is_a_clear_error(signed_in):
    supervisor = signed_in("supervisor")
    register(supervisor)
    again = register(supervisor)
    assert again.status_code == 400 and "已存在" in again.text


def test_an_export_needs_a_month(signed_in):
    response = signed_in("supervisor").get("/supervisor/ledger.xlsx?month=soon", follow_redirects=True)
    assert "请选择要导出的月份" in response.text


def test_search_and_caller_history(signed_in):
    operator = signed_in("operator")
    ticket = re.search(r"工单编号 (\d{8}-\d{6})", log_call(operator).text).group(1)
    found = operator.get("/cases", query_string={"q": "酒吧"}).text
    assert ticket in found
    assert ticket in operator.post("/cases", {"phone": "13800138000"}).text
    refused = operator.get("/cases", query_string={"phone": "13800138000"}).text  # a number in a URL
    assert "来电号码不能放在网址中" in refused and ticket not in refused
    assert ticket not in operator.get("/cases", query_string={"status": "closed"}).text
    history = operator.post(
        "/operator/caller-history", {"phone": "13800138000", "service_code": "noise"}, token_from="/operator"
    ).text
    assert ticket in history and "可能重复" in history
    assert (
        "可能重复"
        not in operator.post(
            "/operator/caller-history", {"phone": "13800138000", "service_code": "garbage"}, token_from="/operator"
        ).text
    )


def test_a_department_searches_only_its_own_cases(signed_in):
    operator, hbj, cgj = signed_in("operator"), signed_in("hbj"), signed_in("cgj")
    ticket = re.search(r"工单编号 (\d{8}-\d{6})", log_call(operator).text).group(1)
    act(operator, ticket, "dispatch", department="HBJ", note="")
    link = f'href="/cases/{ticket}"'
    assert link in hbj.get("/cases", query_string={"ticket": ticket}).text
    assert link not in cgj.get("/cases", query_string={"ticket": ticket, "department": "HBJ"}).text


def test_ranking_and_deadlines_render(signed_in):
    supervisor = signed_in("supervisor")
    assert "三率" in supervisor.get("/supervisor/ranking?month=2025-10").text
    assert "期限预警" in supervisor.get("/supervisor/deadlines?kind=signing").text
