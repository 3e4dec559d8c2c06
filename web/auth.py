"""Sign-in, roles and department scope.

Roles: operator (话务员), department (承办单位, bound to one department), supervisor (督办员),
admin (管理员, may do everything). A department user asking for another department's case gets
404, the same answer as for a case that does not exist: the ticket's existence is not revealed.
"""

from __future__ import annotations

import logging
import math
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from hotline.domain.actors import ADMIN, DEPARTMENT, EDITOR, OPERATOR, SUPERVISOR, Actor
from hotline.domain.case import Case
from hotline.domain.errors import CaseNotFound
from hotline.domain.formats import is_ticket_no
from hotline.web.forms import LoginForm
from hotline.web.limits import SignInLimits
from hotline.web.services import hotline, services

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "error"
login_manager.session_protection = "strong"

HOME = {
    OPERATOR: "operator.console",
    DEPARTMENT: "department.inbox",
    SUPERVISOR: "supervisor.deadlines",
    ADMIN: "supervisor.deadlines",
    EDITOR: "knowledge.index",
}


class WebUser(UserMixin):
    def __init__(self, username: str, role: str, department: str | None, display_name: str, session_version: int = 0):
        self.id = username
        self.role = role
        self.department = department
        self.display_name = display_name
        self.session_version = session_version

    def get_id(self) -> str:
        # The session keeps the account's session version: signing out, a new password, a new
        # role and deactivation raise it, and every session holding an older one is over.
        return f"{self.id}:{self.session_version}"

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.role, self.department)

    def has_role(self, *roles: str) -> bool:
        return self.role == ADMIN or self.role in roles


@login_manager.user_loader
def load_user(session_id: str) -> WebUser | None:
    username, _, version = session_id.partition(":")
    user = hotline().get_user(username)
    if user is None or not user.active or version != str(user.session_version):
        return None
    return _web_user(user)


def _web_user(user) -> WebUser:
    return WebUser(user.username, user.role, user.department, user.display_name, user.session_version)


def sign_in_limits() -> SignInLimits:
    limits: SignInLimits = current_app.extensions["hotline_sign_in"]
    return limits


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site; None for anything a browser could read as another
    site (``//evil``, ``/\\evil``, ``/%09/evil`` once the tab is dropped) or a header could break on."""
    if not target or len(target) > 2048:
        return None
    if any(ch <= " " or ch in "\\\x7f" for ch in target):  # control characters, spaces, backslashes
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    status = 200
    headers: dict[str, str] = {}
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        address = request.remote_addr or ""
        limits = sign_in_limits()
        wait = limits.wait(username, address)
        user = hotline().get_user(username)
        if wait > 0:
            seconds = math.ceil(wait)
            flash(f"登录失败次数较多，为保护账号，请 {seconds} 秒后再试。", "error")
            status, headers = 429, {"Retry-After": str(seconds)}
        elif (
            # Checked even for an unknown user name: the same time either way reveals no names.
            services().passwords.verify(user.password_hash if user else None, form.password.data)
            and user is not None
            and user.active
        ):
            limits.succeeded(username)
            session.clear()
            login_user(_web_user(user))
            log.info("sign-in: %s (%s)", user.username, user.role)
            # Only paths on this site: never bounce a user to another site after signing in.
            return redirect(safe_next(request.args.get("next")) or url_for("auth.home"))
        else:
            limits.failed(username, address)
            log.info("failed sign-in for user name %r from %s", username[:32], address)
            flash("用户名或密码不正确。", "error")
            status = 401
    elif form.errors:
        status = 400
    return render_template("login.html", form=form), status, headers


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Ends every session of this account, on every device: a copied cookie is worth nothing now.
    hotline().sign_out_everywhere(current_user.id, current_actor())
    logout_user()
    session.clear()
    flash("已退出登录。", "success")
    return redirect(url_for("auth.login"))


@bp.route("/")
@login_required
def home():
    return redirect(url_for(HOME[current_user.role]))


def roles_required(*roles: str):
    """Only these roles (and admin). Anyone else signed in gets a 403 page in Chinese."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def current_actor() -> Actor:
    return current_user.actor


def visible_case(ticket_no: str) -> Case:
    """The case, if this user may see it; 404 otherwise (also for other departments' cases)."""
    if not is_ticket_no(ticket_no):
        abort(404)
    try:
        case = hotline().get_case(ticket_no)
    except CaseNotFound:
        abort(404)
    if current_user.role == DEPARTMENT and current_user.department not in (case.department, *case.cooperating):
        abort(404)  # the lead (主办) and the cooperating departments (协办) see it
    return case
