"""Signing in: argon2-checked passwords, roles, throttling, safe redirects."""


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


def test_sign_in_attempts_are_rate_limited(browser):
    for _ in range(5):
        assert browser.login("supervisor", "guess-guess").status_code == 401
    response = browser.login("supervisor")  # even the right password waits now
    assert response.status_code == 429 and "请 5 分钟后再试" in response.text


def test_pages_need_a_signed_in_user(browser):
    response = browser.get("/operator")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_next_never_leaves_the_site(browser):
    token = browser.token("/login")
    response = browser.client.post(
        "/login?next=https://evil.example/",
        data={"csrf_token": token, "username": "operator", "password": "hotline-operator"},
    )
    assert response.headers["Location"] == "/"


def test_a_role_without_access_gets_403(signed_in):
    assert signed_in("hbj").get("/operator").status_code == 403
    assert signed_in("operator").get("/supervisor/deadlines").status_code == 403


def test_sign_out(signed_in):
    operator = signed_in("operator")
    response = operator.post("/logout", {}, token_from="/operator")
    assert response.status_code == 302
    assert operator.get("/operator").status_code == 302


def test_session_cookie_flags(app, browser):
    app.config["SESSION_COOKIE_SECURE"] = True
    response = browser.login("operator")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
