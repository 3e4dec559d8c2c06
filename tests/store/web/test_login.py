"""Signing in: argon2-checked passwords, roles, a growing delay after failures, safe redirects,
sessions that end on the server."""

from urllib.parse import unquote

import pytest

from hotline.domain.actors import ADMIN, Actor
from hotline.infra.passwords import Passwords

OPERATOR = {"username": "operator", "password": "hotline-operator"}
ADMIN_ACTOR = Actor("admin", ADMIN)
PASSWORDS_HASHER = Passwords()


def test_each_role_lands_on_its_own_page(signed_in):
    assert signed_in("operator").get("/").headers["Location"].endswith("/operator")
    assert signed_in("hbj").get("/").headers["Location"].endswith("/department")
    assert signed_in("supervisor").get("/").headers["Location"].endswith("/supervisor/deadlines")


def test_a_wrong_password_is_refused_in_chinese(browser):
    response = browser.login("operator", "wrong-password")
    assert response.status_code == 401 and "用户名或密码不正确" in response.text
    assert browser.get("/operator").status_code == 302  # still signed out


def test_an_unknown_user_gets_the_same_answer(browser):
    response = browser.login("nobody", "whatever-password")
    assert response.status_code == 401 and "用户名或密码不正确" in response.text


def test_the_right_password_still_works_after_20_wrong_ones(app, browser):
    now = [1_000_000.0]
    app.extensions["hotline_sign_in"].now = lambda: now[0]  # the waits pass on this clock, not in real time
    answers = []
    for n in range(20):
        response = browser.login("supervisor", f"guess-guess-{n}")
        if response.status_code == 429:  # told to wait: the guess was not even checked
            answers.append(429)
            now[0] += int(response.headers["Retry-After"])
            response = browser.login("supervisor", f"guess-guess-{n}")
        answers.append(response.status_code)
    assert answers.count(401) == 20 and answers.count(429) == 17  # a wait before every guess after the third
    early = browser.login("supervisor")
    assert early.status_code == 429 and "秒后再试" in early.text  # even the right password waits its turn
    now[0] += int(early.headers["Retry-After"])
    assert browser.login("supervisor").status_code == 302  # and then gets in: no lock-out


def test_an_address_is_stopped_only_after_many_failures(app):
    from tests.store.web.conftest import Browser

    for n in range(20):  # twenty colleagues behind one NAT mistype their passwords
        assert Browser(app).login(f"user{n}", "mistyped-password").status_code == 401
    assert Browser(app).login("operator").status_code == 302


def test_pages_need_a_signed_in_user(browser):
    response = browser.get("/operator")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/%09/evil.example",  # a browser drops the tab and reads //evil.example
        "/\t/evil.example",
        "/operator%0d%0aSet-Cookie:%20x=1",  # CR/LF: once a 500 after a good password
        "/operator\r\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_never_leaves_the_site(browser, target):
    token = browser.token("/login")
    response = browser.client.post(
        "/login", query_string={"next": unquote(target)}, data={"csrf_token": token, **OPERATOR}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_on_the_site_is_followed(browser):
    token = browser.token("/login")
    response = browser.client.post("/login?next=/cases%3Fq%3D%E5%99%AA", data={"csrf_token": token, **OPERATOR})
    assert response.status_code == 302 and response.headers["Location"].startswith("/cases?q=")


def test_a_role_without_access_gets_403(signed_in):
    assert signed_in("hbj").get("/operator").status_code == 403
    assert signed_in("operator").get("/supervisor/deadlines").status_code == 403


def test_sign_out(signed_in):
    operator = signed_in("operator")
    response = operator.post("/logout", {}, token_from="/operator")
    assert response.status_code == 302
    assert operator.get("/operator").status_code == 302


def test_a_cookie_copied_before_sign_out_is_refused_afterwards(app, signed_in):
    operator = signed_in("operator")
    copied = operator.client.get_cookie("hotline_session").value
    elsewhere = signed_in("operator")  # the same account on another computer
    operator.post("/logout", {}, token_from="/operator")
    thief = app.test_client()
    thief.set_cookie("hotline_session", copied)
    assert thief.get("/operator").status_code == 302  # back to the sign-in page
    assert elsewhere.get("/operator").status_code == 302  # signing out ends every session of the account


@pytest.mark.parametrize(
    "change",
    [
        lambda hotline: hotline.change_password("hbj", PASSWORDS_HASHER.hash("a-new-long-passphrase"), ADMIN_ACTOR),
        lambda hotline: hotline.change_role("hbj", "department", ADMIN_ACTOR, department="CGJ"),
        lambda hotline: hotline.deactivate_user("hbj", ADMIN_ACTOR),
    ],
    ids=["password changed", "role changed", "deactivated"],
)
def test_an_account_change_ends_its_sessions(web_services, signed_in, change):
    hbj = signed_in("hbj")
    assert hbj.get("/department").status_code == 200
    change(web_services.app)
    assert hbj.get("/department").status_code == 302


def test_session_cookie_flags(app, browser):
    app.config["SESSION_COOKIE_SECURE"] = True
    response = browser.login("operator")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
