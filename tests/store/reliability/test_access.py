"""Access: every route of the Flask app (read from app.url_map, so a new route cannot be forgotten)
against every role, with the outcome each should get; department scope; sign-in throttling; and no
secret in the logs."""

from __future__ import annotations

import logging
import re
import time
from datetime import date, timedelta

import pytest

from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.case import Call
from hotline.domain.knowledge import ArticleContent
from hotline.web.limits import MemoryLimitStore, SignInLimits
from hotline.web.views.cases import ACTIONS
from hotline.web.views.supervision import ITEM_ACTIONS
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department
from tests.store.web.conftest import PASSWORDS, Browser, app, web_services  # noqa: F401 - fixtures

ROLES = ("anonymous", "operator", "hbj", "cgj", "supervisor", "admin")
REFERENCE = "市长批示〔2025〕3号"

# What each role gets, per route and method, for the HBJ case and the HBJ-led item of the fixture.
# Columns follow ROLES. 302 for a signed-in POST: the form was refused or done, with a message on the
# page it redirects to (the forms are posted empty). "login": a redirect to the sign-in page.
L = "login"
EXPECTED: dict[tuple[str, str], tuple] = {
    ("/", "GET"): (L, 302, 302, 302, 302, 302),
    ("/login", "GET"): (200, 302, 302, 302, 302, 302),
    ("/login", "POST"): (400, 302, 302, 302, 302, 302),
    ("/logout", "POST"): (L, 302, 302, 302, 302, 302),
    ("/static/<path:filename>", "GET"): (200, 200, 200, 200, 200, 200),
    # operator's desk
    ("/operator", "GET"): (L, 200, 403, 403, 403, 200),
    ("/calls/new", "GET"): (L, 200, 403, 403, 403, 200),
    ("/calls/new", "POST"): (L, 400, 403, 403, 403, 400),
    ("/operator/caller-history", "POST"): (L, 200, 403, 403, 403, 200),
    ("/operator/kb-suggestions", "POST"): (L, 200, 403, 403, 403, 200),
    ("/operator/dispatch", "GET"): (L, 200, 403, 403, 403, 200),
    ("/cases", "GET"): (L, 200, 200, 200, 200, 200),
    # accounts: the admin only
    ("/admin/users", "GET"): (L, 403, 403, 403, 403, 200),
    ("/admin/users/new", "POST"): (L, 403, 403, 403, 403, 400),  # posted empty: refused with the page
    ("/admin/users/<username>/<name>", "POST"): (L, 403, 403, 403, 403, 302),
    ("/cases", "POST"): (L, 200, 200, 200, 200, 200),  # the search, posted: no number in a URL
    ("/cases/export.csv", "GET"): (L, 200, 200, 200, 200, 200),
    ("/cases/export.xlsx", "GET"): (L, 200, 200, 200, 200, 200),
    ("/cases/export.csv", "POST"): (L, 200, 200, 200, 200, 200),  # a search by number exports posted
    ("/cases/export.xlsx", "POST"): (L, 200, 200, 200, 200, 200),
    # one case (dispatched to HBJ): another department gets 404, as if it did not exist
    ("/cases/<ticket_no>", "GET"): (L, 200, 200, 404, 200, 200),
    # name = urge, posted empty: refused (no version), the case page again with what was typed (400)
    ("/cases/<ticket_no>/<name>", "POST"): (L, 400, 403, 404, 400, 400),
    ("/cases/<ticket_no>/escalate", "POST"): (L, 403, 403, 403, 400, 400),  # not overdue: refused, shown again
    ("/department", "GET"): (L, 403, 200, 200, 403, 200),
    # the supervisor's desk
    ("/supervisor/deadlines", "GET"): (L, 403, 403, 403, 200, 200),
    ("/review", "GET"): (L, 200, 403, 403, 200, 200),
    ("/supervisor/ranking", "GET"): (L, 403, 403, 403, 200, 200),
    ("/supervisor/ranking/close", "POST"): (L, 403, 403, 403, 302, 302),  # 月度结账 (an empty form: refused)
    ("/audit/cases/<ticket_no>", "GET"): (L, 403, 403, 403, 200, 200),
    ("/supervisor/ledger", "GET"): (L, 403, 403, 403, 200, 200),
    ("/supervisor/ledger.xlsx", "GET"): (L, 403, 403, 403, 200, 200),
    ("/reports", "GET"): (L, 403, 403, 403, 200, 200),
    ("/supervisor/hotspots", "GET"): (L, 403, 403, 403, 200, 200),
    ("/call-centre", "GET"): (L, 403, 403, 403, 200, 200),
    ("/supervisor/clusters/<key>/merge", "POST"): (L, 403, 403, 403, 302, 302),  # no such cluster: a message
    ("/supervisor/clusters/<key>/escalate", "POST"): (L, 403, 403, 403, 302, 302),
    ("/reports/report.pdf", "GET"): (L, 403, 403, 403, 200, 200),
    ("/reports/report.xlsx", "GET"): (L, 403, 403, 403, 200, 200),
    ("/reports/report.html", "GET"): (L, 403, 403, 403, 200, 200),
    ("/supervisor/ledger/new", "GET"): (L, 403, 403, 403, 200, 200),
    ("/supervisor/ledger/new", "POST"): (L, 403, 403, 403, 400, 400),
    # one supervision item (led by HBJ)
    ("/supervision/items/<path:reference_no>", "GET"): (L, 403, 200, 404, 200, 200),
    # name = progress: the domain lets a supervisor record a department's progress (CAN_REPORT)
    # name = progress, posted empty: refused, the item page again with what was typed (400)
    ("/supervision/items/<path:reference_no>/do/<name>", "POST"): (L, 403, 400, 404, 400, 400),
    ("/audit/items/<path:reference_no>", "GET"): (L, 403, 403, 403, 200, 200),
    # the knowledge base: everyone reads; departments (their own) and editors write; one HBJ draft
    ("/kb", "GET"): (L, 200, 200, 200, 200, 200),
    ("/kb/new", "GET"): (L, 403, 200, 200, 403, 200),
    ("/kb/new", "POST"): (L, 403, 400, 400, 403, 400),
    ("/kb/coverage", "GET"): (L, 403, 403, 403, 200, 200),
    ("/kb/<number>", "GET"): (L, 200, 200, 200, 200, 200),
    ("/kb/<number>/<name>", "POST"): (L, 403, 400, 403, 403, 400),  # name = submit, no version: refused, shown again
    # messages out: the supervisor's list; requeue of a key that does not exist
    ("/notifications", "GET"): (L, 403, 403, 403, 200, 200),
    ("/notifications/<key>/requeue", "POST"): (L, 403, 403, 403, 404, 404),
    # Open311: public reads, writes need an api_key (none here), no session involved
    ("/open311/v2/discovery.<fmt>", "GET"): (200,) * 6,
    ("/open311/v2/openapi.json", "GET"): (200,) * 6,
    ("/open311/v2/services.<fmt>", "GET"): (200,) * 6,
    ("/open311/v2/services/<service_code>.<fmt>", "GET"): (200,) * 6,
    ("/open311/v2/requests.<fmt>", "GET"): (200,) * 6,
    ("/open311/v2/requests.<fmt>", "POST"): (403,) * 6,  # no api_key
    ("/sms/replies", "POST"): (404,) * 6,  # no shared key configured here; with one, unsigned is 401
    ("/open311/v2/requests/<service_request_id>.<fmt>", "GET"): (200,) * 6,
    ("/open311/v2/", "GET"): (404,) * 6,
    ("/open311/v2/<path:rest>", "GET"): (404,) * 6,
}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def world(app, web_services):  # noqa: F811
    services = web_services
    call = Call(
        channel="phone", category="complaint", service_code="noise", description="夜间噪音", caller_phone="13700137000"
    )
    ticket = services.app.open_case(call, OPERATOR_ACTOR).ticket_no
    services.app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    services.app.register_instruction(
        REFERENCE,
        SUPERVISOR_ACTOR,
        leader="张市长",
        content="整治噪音",
        lead_department="HBJ",
        due=date.today() + timedelta(days=30),
    )
    request_id = services.app.open_case(
        Call(channel="open311", category="complaint", service_code="noise", description="噪音"), OPERATOR_ACTOR
    ).ticket_no
    noise_article = ArticleContent(
        title="噪声扰民",
        question="噪声找谁",
        answer="转生态环境部门",
        basis="《中华人民共和国噪声污染防治法》",
        basis_no="主席令第104号",
        services=("noise",),
        valid_from=date.today(),
    )
    number = services.app.draft_article(department("HBJ"), "HBJ", noise_article).number
    values = {
        "number": number,
        "key": "no-such-message",
        "ticket_no": ticket,
        "reference_no": REFERENCE,
        "fmt": "json",
        "filename": "hotline.css",
        "service_code": "noise",
        "service_request_id": request_id,
        "rest": "nothing-here",
        "username": "hbj",
    }
    return {"ticket": ticket, "values": values}


def concrete(rule: str, endpoint: str, values: dict) -> str:
    path = rule
    name = {
        "cases.act": "urge",
        "supervision.act": "progress",
        "knowledge.act": "submit",
        "accounts.change": "role",
    }.get(endpoint)
    for converter, argument in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        value = name if argument == "name" else values[argument]
        path = path.replace(f"<{converter}:{argument}>" if converter else f"<{argument}>", value)
    if endpoint == "supervision.export":
        path += f"?month={date.today():%Y-%m}"
    return path


def sessions(app, roles=ROLES) -> dict[str, Browser]:  # noqa: F811
    signed = {}
    for role in roles:
        browser = Browser(app)
        if role != "anonymous":
            assert browser.login(role, PASSWORDS[role]).status_code == 302
        signed[role] = browser
    return signed


def test_every_route_for_every_role(app, world):  # noqa: F811
    routes = {
        (rule.rule, method): rule.endpoint
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    }
    # Every route the app serves has a row, and every row is a route: a new route must be added here.
    # (The catch-all Open311 routes also take PUT/PATCH/DELETE only to answer them in the API's format.)
    listed = {
        key
        for key in routes
        if not (
            key[0].startswith("/open311/v2/")
            and key[1] in ("PUT", "PATCH", "DELETE", "POST")
            and routes[key] == "open311.unknown"
        )
    }
    assert listed == set(EXPECTED), listed ^ set(EXPECTED)
    browsers = sessions(app)
    wrong = []
    for (rule, method), expected in sorted(EXPECTED.items(), key=lambda item: item[0][0] == "/logout"):
        path = concrete(rule, routes[(rule, method)], world["values"])
        for role, want in zip(ROLES, expected, strict=False):
            browser = browsers[role]
            if method == "GET":
                response = browser.get(path)
            else:
                token = browser.token("/login") if role == "anonymous" else _token(browser)
                response = browser.client.open(path, method=method, data={"csrf_token": token})
            got = response.status_code
            if want == L:
                ok = got == 302 and "/login" in response.headers.get("Location", "")
            else:
                ok = got == want
            if not ok:
                wrong.append((method, path, role, want, got))
    assert not wrong, "\n".join(map(str, wrong))
    # The catch-all Open311 routes answer the other methods in the API's own format.
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert browsers["anonymous"].client.open("/open311/v2/nothing.json", method=method).status_code in (404, 405)


def _token(browser: Browser) -> str:
    """The CSRF token of the signed-in user's home page (every page carries one in its sign-out form)."""
    page = browser.get("/", follow_redirects=True).text
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_another_department_gets_404_everywhere_for_a_case_or_item_not_its_own(app, world, web_services):  # noqa: F811
    cgj, hbj = sessions(app, ("cgj", "hbj")).values()
    ticket = world["ticket"]
    missing = "20200101-000001"
    token = _token(cgj)
    for name in ACTIONS:
        assert cgj.client.post(f"/cases/{ticket}/{name}", data={"csrf_token": token}).status_code == 404, name
    for name in ITEM_ACTIONS:
        response = cgj.client.post(f"/supervision/items/{REFERENCE}/do/{name}", data={"csrf_token": token})
        assert response.status_code == 404, name
    # The same answer as for a ticket that does not exist: the page says nothing about the case.
    assert cgj.get(f"/cases/{ticket}").text == cgj.get(f"/cases/{missing}").text
    assert cgj.get(f"/supervision/items/{REFERENCE}").text == cgj.get("/supervision/items/不存在").text
    # Nor do the lists: the search and the inbox of CGJ never show HBJ's case.
    web_services.read_models.catch_up()
    for path in (f"/cases?ticket={ticket}", "/cases?department=HBJ&q=噪音", "/department"):
        assert f'href="/cases/{ticket}"' not in cgj.get(path).text, path  # (the search box echoes it)
    assert REFERENCE not in cgj.get("/department").text
    assert f'href="/cases/{ticket}"' in hbj.get("/department").text and REFERENCE in hbj.get("/department").text
    events = len(web_services.app.case_events(ticket))
    assert events == 2  # nothing the other department posted was stored


def test_failed_sign_ins_slow_the_account_down_and_an_address_only_after_many():
    now = [1000.0]
    limits = SignInLimits(MemoryLimitStore(), lambda: now[0], address_limit=10)
    for _ in range(3):  # three free tries
        assert limits.wait("hbj", "10.0.0.1") == 0
        limits.failed("hbj", "10.0.0.1")
    waits = []
    for _ in range(5):
        waits.append(limits.wait("hbj", "10.0.0.1"))
        now[0] += waits[-1]
        limits.failed("hbj", "10.0.0.1")
    assert waits == [1, 2, 4, 8, 16]  # each wait twice the one before
    assert limits.wait("someone-else", "10.0.0.1") == 0  # another account from the same address is not slowed
    assert limits.wait("hbj", "10.9.9.9") == 32  # the account is, from every address
    now[0] += 32
    limits.succeeded("hbj")
    assert limits.wait("hbj", "10.0.0.1") == 0  # the right password clears the account's failures
    limits.failed("other", "10.0.0.1")
    limits.failed("other", "10.0.0.1")
    assert limits.wait("a-third", "10.0.0.1") == 300  # ten failures from one address stop it for a while
    now[0] += 301
    assert limits.wait("a-third", "10.0.0.1") == 0


def test_the_delay_never_grows_past_a_minute():
    now = [0.0]
    limits = SignInLimits(MemoryLimitStore(), lambda: now[0])
    for _ in range(30):
        now[0] += limits.wait("operator", "10.0.0.1")
        limits.failed("operator", "10.0.0.1")
    assert limits.wait("operator", "10.0.0.1") == 60


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def test_no_secret_in_the_logs(app, web_services, caplog):  # noqa: F811
    capture = _Capture()
    capture.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(capture)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    phone = "13912345678"
    try:
        browser = Browser(app)
        browser.login("operator", "a-wrong-password-123")
        browser.login("operator")
        browser.post(
            "/calls/new",
            {
                "channel": "phone",
                "caller_phone": phone,
                "caller_name": "孙八",
                "category": "complaint",
                "urgency": "normal",
                "service_code": "noise",
                "district": "城东区",
                "address": "解放路 1 号",
                "description": "噪音",
            },
        )
        browser.post("/operator/caller-history", {"phone": phone}, token_from="/operator")
        key = web_services.app.issue_api_key("日志测试", SYSTEM_ACTOR).key
        client = app.test_client()
        client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": key,
                "service_code": "noise",
                "phone": phone,
                "description": "路灯不亮",
                "address_string": "解放路 2 号",
            },
        )
        client.post("/open311/v2/requests.json", data={"api_key": key + "x", "service_code": "noise"})
        from hotline.intake.messages import CALL_SCHEMA, Outgoing, encode

        message = {
            "schema": CALL_SCHEMA,
            "call_id": "wechat-log-1",
            "received_at": "2025-10-09T09:30:00+08:00",
            "channel": "wechat",
            "caller": {"name": "周九", "phone": phone},
            "category": "complaint",
            "service_code": "noise",
            "address": "解放路 3 号",
            "description": "噪音",
            "urgency": "normal",
        }
        bad = {**message, "call_id": "wechat-log-2", "caller": {"name": "周九", "phone": phone + "x"}}
        web_services.bus.send_many(
            [Outgoing("hotline.calls", b"k", encode(message)), Outgoing("hotline.calls", b"k", encode(bad))]
        )
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
    text = "\n".join(capture.lines + [r.getMessage() for r in caplog.records])
    assert "sign-in" in text and "failed sign-in" in text  # the logs were captured at all
    secrets = {
        "password": "a-wrong-password-123",
        "right password": PASSWORDS["operator"],
        "api key": key,
        "phone": phone,
        "caller name": "周九",
        "other caller name": "孙八",
        "cipher key": web_services.config.cipher_key_text(),
        "session key": web_services.config.flask_secret_key(),
    }
    leaked = [name for name, secret in secrets.items() if secret in text]
    assert not leaked, leaked


@pytest.mark.slow
def test_under_gunicorn_workers_share_sessions_and_each_slows_down_alone(tmp_path):
    """Two gunicorn workers on a fresh data directory: a session made by one is good on the other
    (both read one secret key), and without Redis the sign-in slow-down counts per worker, so a name
    gets its free tries once per worker before the waits begin (measured: see docs/reliability.md)."""
    import subprocess
    import sys

    from hotline.infra.bootstrap import bootstrap
    from hotline.infra.config import Config
    from hotline.infra.demo import ensure_demo_users
    from tests.support.live import free_port
    from tests.support.servers import HttpSession, server_env

    config = Config(data_dir=tmp_path)
    built = bootstrap(config)
    ensure_demo_users(built.app, built.passwords)
    built.close()
    port = free_port()
    with open(tmp_path / "gunicorn.log", "wb") as log:  # the child keeps its own copy
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "entrypoints.wsgi:app"],
            env={**server_env(config), "HOTLINE_DEMO": "1"},  # the demo accounts sign in: a demo, said so
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if HttpSession(base).get("/login").status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.2)
        operator = HttpSession(base).login("operator", PASSWORDS["operator"])
        assert [operator.get("/operator").status for _ in range(20)] == [200] * 20
        answers = []
        for attempt in range(14):
            answers.append(
                HttpSession(base).post("/login", {"username": "supervisor", "password": f"guess-{attempt}"}).status
            )
        refused = answers.count(401)
        assert 3 <= refused <= 10 and answers.count(429) == 14 - refused, answers
        print(f"gunicorn -w 2: {refused} wrong passwords answered 401, the others were told to wait (429)")
    finally:
        server.terminate()
        server.wait(timeout=20)
