"""Sign-in, roles and department scope.

Roles: operator (话务员), department (承办单位, bound to one department), supervisor (督办员),
admin (管理员, may do everything). A department user asking for another department's case gets
404, the same answer as for a case that does not exist: the ticket's existence is not revealed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from hotline.domain.actors import ADMIN, DEPARTMENT, EDITOR, OPERATOR, SUPERVISOR, Actor
from hotline.domain.case import Case
from hotline.domain.errors import CaseNotFound
from hotline.domain.formats import is_ticket_no
from hotline.web.forms import LoginForm
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
    def __init__(self, username: str, role: str, department: str | None, display_name: str):
        self.id = username
        self.role = role
        self.department = department
        self.display_name = display_name

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.role, self.department)

    def has_role(self, *roles: str) -> bool:
        return self.role == ADMIN or self.role in roles


@login_manager.user_loader
def load_user(username: str) -> WebUser | None:
    user = hotline().get_user(username)
    if user is None or not user.active:
        return None
    return WebUser(user.username, user.role, user.department, user.display_name)


class LoginThrottle:
    """At most ``limit`` failed sign-ins per user name and per address in ``window`` seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0):
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] < now - self.window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(key, now)) >= self.limit for key in keys)

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def clear(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


throttle = LoginThrottle()


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        keys = (f"user:{username}", f"addr:{request.remote_addr}")
        user = hotline().get_user(username)
        if throttle.blocked(*keys):
            flash("登录失败次数过多，请 5 分钟后再试。", "error")
            status = 429
        elif (
            # Checked even for an unknown user name: the same time either way reveals no names.
            services().passwords.verify(user.password_hash if user else None, form.password.data)
            and user is not None
            and user.active
        ):
            throttle.clear(keys[0])
            session.clear()
            login_user(WebUser(user.username, user.role, user.department, user.display_name))
            log.info("sign-in: %s (%s)", user.username, user.role)
            target = request.args.get("next", "")
            # Only local paths: never bounce a user to another site after signing in.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("auth.home")
            return redirect(target)
        else:
            throttle.fail(*keys)
            log.info("failed sign-in for user name %r from %s", username[:32], request.remote_addr)
            flash("用户名或密码不正确。", "error")
            status = 401
    elif form.errors:
        status = 400
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
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
    if current_user.role == DEPARTMENT and case.department != current_user.department:
        abort(404)
    return case
