"""Accounts: the admin page and ``hotline users`` list, add, deactivate, reactivate, reset a
password and change a role, each an event; demo accounts only in a store made by ``hotline demo``
when empty, a 演示数据 banner while they are active, and ``hotline serve`` refusing them without --demo."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tests.store.reliability.test_bad_input import FUZZ, admin_desk, junk  # noqa: F401 - a fixture
from tests.support.cli import hotline as run


def _token(browser, path="/admin/users"):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get(path).text).group(1)


def test_the_admin_adds_an_account_and_a_weak_password_is_refused_keeping_what_was_typed(signed_in, web_services):
    admin = signed_in("admin")
    form = {"username": "zhang", "display_name": "张科员", "role": "department", "department": "CGJ"}
    weak = admin.post("/admin/users/new", {**form, "password": "12345678"}, token_from="/admin/users")
    assert weak.status_code == 400 and "密码至少 12 位" in weak.text and 'value="zhang"' in weak.text
    assert web_services.app.get_user("zhang") is None
    done = admin.post("/admin/users/new", {**form, "password": "港口晚霞里坐着七只小花猫"}, token_from="/admin/users")
    assert done.status_code == 302
    user = web_services.app.get_user("zhang")
    assert (user.role, user.department, user.active) == ("department", "CGJ", True)


def test_each_change_is_an_event_and_ends_the_accounts_sessions(app, signed_in, web_services):
    admin, hbj = signed_in("admin"), signed_in("hbj")
    assert hbj.get("/department").status_code == 200
    admin.post("/admin/users/hbj/role", {"role": "department", "department": "CGJ"}, token_from="/admin/users")
    assert web_services.app.get_user("hbj").department == "CGJ"
    assert hbj.get("/department").status_code == 302  # signed out by the change
    admin.post("/admin/users/hbj/reset", {"password": "password1234"}, token_from="/admin/users")
    assert web_services.passwords.verify(web_services.app.get_user("hbj").password_hash, "hotline-department")
    admin.post("/admin/users/hbj/reset", {"password": "一个足够长的新口令句子啊呀"}, token_from="/admin/users")
    admin.post("/admin/users/hbj/deactivate", {}, token_from="/admin/users")
    from tests.store.web.conftest import Browser

    assert Browser(app).login("hbj", "一个足够长的新口令句子啊呀").status_code == 401  # deactivated
    admin.post("/admin/users/hbj/reactivate", {}, token_from="/admin/users")
    assert Browser(app).login("hbj", "一个足够长的新口令句子啊呀").status_code == 302
    stored = web_services.app.recorder.select_events(web_services.app.get_user("hbj").id)
    assert [e.topic.split(".")[-1] for e in stored][-4:] == [
        "RoleChanged",
        "PasswordChanged",
        "Deactivated",
        "Reactivated",
    ]
    page = admin.get("/admin/users").text
    assert "演示账号" in page
    assert signed_in("supervisor").get("/admin/users").status_code == 403


@FUZZ
@given(
    name=st.sampled_from(["new", "deactivate", "reactivate", "reset", "role"]),
    values=st.lists(junk, min_size=6, max_size=6),
)
def test_the_account_forms(admin_desk, name, values):  # noqa: F811
    fields = dict(zip(["username", "display_name", "role", "department", "password", "x"], values, strict=True))
    path = "/admin/users/new" if name == "new" else f"/admin/users/kb/{name}"
    response = admin_desk.post(path, fields, token_from="/admin/users")
    assert response.status_code in (302, 400)


def test_the_banner_shows_while_demo_accounts_are_active(signed_in, web_services):
    admin = signed_in("admin")
    assert "演示数据" in admin.get("/admin/users").text
    for username in web_services.app.active_demo_accounts():
        if username != "admin":
            web_services.app.deactivate_user(username, web_services.app.get_user("admin").actor)
    assert web_services.app.active_demo_accounts() == ["admin"]


def test_the_users_commands(tmp_path):
    assert (
        run(
            "users",
            "add",
            "--username",
            "li",
            "--role",
            "operator",
            "--password-stdin",
            data_dir=tmp_path,
            stdin="12345678\n",
        ).returncode
        == 1
    )
    assert (
        run(
            "users",
            "add",
            "--username",
            "li",
            "--role",
            "operator",
            "--password-stdin",
            data_dir=tmp_path,
            stdin="a-long-pass-phrase-here\n",
        ).returncode
        == 0
    )
    assert run("users", "role", "li", "--role", "supervisor", data_dir=tmp_path).returncode == 0
    assert (
        run("users", "reset", "li", "--password-stdin", data_dir=tmp_path, stdin="another-long-phrase\n").returncode
        == 0
    )
    assert run("users", "deactivate", "li", data_dir=tmp_path).returncode == 0
    listed = run("users", "list", "--json", data_dir=tmp_path)
    assert (
        '"username": "li"' in listed.stdout
        and '"role": "supervisor"' in listed.stdout
        and '"active": false' in listed.stdout
    )
    assert run("users", "reactivate", "li", data_dir=tmp_path).returncode == 0
    again = run("users", "deactivate", "nobody", data_dir=tmp_path)
    assert again.returncode == 1 and "不存在" in again.stderr


def test_demo_accounts_only_on_an_empty_store_and_serve_refuses_them(tmp_path):
    real = tmp_path / "real"
    run(
        "users",
        "add",
        "--username",
        "li",
        "--role",
        "admin",
        "--password-stdin",
        data_dir=real,
        stdin="a-long-pass-phrase-here\n",
    )
    skipped = run("demo", "--cases", "3", data_dir=real)
    assert "跳过演示数据与演示账号" in skipped.stdout
    assert "operator" not in run("users", "list", data_dir=real).stdout
    demo = tmp_path / "demo"
    made = run("demo", "--cases", "3", data_dir=demo)
    assert made.returncode == 0 and "已创建演示账号" in made.stdout
    refused = run("serve", "--port", "1", data_dir=demo)
    assert refused.returncode == 1 and "演示账号" in refused.stderr and "--demo" in refused.stderr
    for username in ("operator", "hbj", "cgj", "supervisor", "kb", "admin"):
        run("users", "deactivate", username, data_dir=demo)
    listed = run("users", "list", "--json", data_dir=demo).stdout
    assert '"active": true' not in listed


def test_the_wsgi_entry_refuses_active_demo_accounts_as_serve_does(tmp_path):
    """gunicorn imports ``hotline.entrypoints.wsgi:app``: the same rule as ``hotline serve``."""
    import os
    import subprocess
    import sys

    from tests.support.cli import ISOLATED

    demo = tmp_path / "demo"
    assert run("demo", "--cases", "3", data_dir=demo).returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in ISOLATED} | {"HOTLINE_DATA_DIR": str(demo)}

    def load(**extra: str) -> subprocess.CompletedProcess:
        script = "import hotline.entrypoints.wsgi as w; print(type(w.app).__name__)"
        return subprocess.run(
            [sys.executable, "-c", script], env=env | extra, capture_output=True, text=True, timeout=120, check=False
        )

    refused = load()
    assert refused.returncode != 0 and "演示账号" in refused.stderr and "HOTLINE_DEMO=1" in refused.stderr
    assert load(HOTLINE_DEMO="1").stdout.strip() == "Flask"
    for username in ("operator", "hbj", "cgj", "supervisor", "kb", "admin"):
        run("users", "deactivate", username, data_dir=demo)
    assert load().stdout.strip() == "Flask"
