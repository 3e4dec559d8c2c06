"""Accounts, for the admin: list, add, deactivate, reactivate, reset a password, change a role or
department. Each is an event of the ``User`` aggregate (who did it, when); the account's sessions
end on a new password, a new role, and deactivation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from hotline.domain.actors import ROLE_NAMES
from hotline.domain.errors import DomainError
from hotline.domain.users import ACCOUNT_ROLES
from hotline.web.auth import current_actor, roles_required
from hotline.web.services import hotline, rules, services

bp = Blueprint("accounts", __name__)
ACCOUNT_ACTIONS = ("deactivate", "reactivate", "reset", "role")


class AccountForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    username = StringField("用户名", validators=[DataRequired(message="请填写用户名"), Length(max=32)])
    display_name = StringField("显示名称", validators=[Optional(), Length(max=50)])
    role = SelectField("角色", choices=[(r, ROLE_NAMES[r]) for r in ACCOUNT_ROLES])
    department = SelectField("承办单位", validators=[Optional()])
    password = PasswordField("初始密码", validators=[DataRequired(message="请填写初始密码"), Length(max=256)])


class ChangeForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    role = SelectField("角色", validators=[Optional()], choices=[(r, ROLE_NAMES[r]) for r in ACCOUNT_ROLES])
    department = SelectField("承办单位", validators=[Optional()])
    password = PasswordField("新密码", validators=[Optional(), Length(max=256)])


def _departments() -> list[tuple[str, str]]:
    return [("", "（不绑定单位）"), *((code, d.name) for code, d in rules().departments.items())]


def _page(form: AccountForm, status: int = 200):
    change = ChangeForm(formdata=None)
    change.department.choices = _departments()
    return (
        render_template("admin/users.html", users=list(hotline().all_users()), form=form, change=change),
        status,
    )


@bp.route("/admin/users")
@roles_required()  # admin only
def index():
    form = AccountForm(formdata=None)
    form.department.choices = _departments()
    return _page(form)


@bp.route("/admin/users/new", methods=["POST"])
@roles_required()
def add():
    form = AccountForm()
    form.department.choices = _departments()
    if not form.validate():
        return _page(form, 400)  # what was typed stays in the form
    try:
        hotline().register_user(
            form.username.data.strip(),
            form.role.data,
            services().passwords.hash(form.password.data),
            current_actor(),
            department=form.department.data or None,
            display_name=form.display_name.data or "",
        )
    except (ValueError, DomainError) as error:  # a weak password (ValueError) or the account's rules
        form.password.errors = [*form.password.errors, str(error)] if "密码" in str(error) else form.password.errors
        flash(str(error), "error")
        return _page(form, 400)
    flash(f"已新增账号 {form.username.data.strip().lower()}", "success")
    return redirect(url_for("accounts.index"))


@bp.route("/admin/users/<username>/<name>", methods=["POST"])
@roles_required()
def change(username: str, name: str):
    if name not in ACCOUNT_ACTIONS:
        abort(404)
    form = ChangeForm()
    form.department.choices = _departments()
    app, actor = hotline(), current_actor()
    try:
        if app.get_user(username) is None:
            abort(404)
        if name == "deactivate":
            app.deactivate_user(username, actor)
            done = f"已停用账号 {username}，其全部会话已结束"
        elif name == "reactivate":
            app.reactivate_user(username, actor)
            done = f"已启用账号 {username}"
        elif name == "reset":
            app.change_password(username, services().passwords.hash(request.form.get("password", "")), actor)
            done = f"已重设账号 {username} 的密码，其全部会话已结束"
        else:
            if not form.validate() or not form.role.data:
                raise DomainError("请选择新的角色")
            app.change_role(username, form.role.data, actor, department=form.department.data or None)
            done = f"账号 {username} 的角色已改为 {ROLE_NAMES[form.role.data]}，其全部会话已结束"
    except (ValueError, DomainError) as error:
        flash(f"账号 {username}：{error}", "error")
    else:
        flash(done, "success")
    return redirect(url_for("accounts.index"))
