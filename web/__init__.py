"""The web app: ``create_app(services)`` receives built services and adds nothing but HTTP."""

from __future__ import annotations

import logging

from eventsourcing.domain import OriginatorIDError, OriginatorVersionError
from eventsourcing.persistence import PersistenceError
from flask import Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from hotline.application.failures import BUSY, RETRY_AFTER_SECONDS, Transient
from hotline.domain.actors import ADMIN, SUPERVISOR
from hotline.projections.read_models import LogRolledBack
from hotline.web.limits import MemoryLimitStore, SignInLimits
from hotline.web.security import TrustedProxies, add_security_headers
from hotline.web.services import WebServices, remember_own_writes

csrf = CSRFProtect()
log = logging.getLogger(__name__)


def create_app(services: WebServices, testing: bool = False) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=services.secret_key,
        TESTING=testing,
        MAX_CONTENT_LENGTH=256 * 1024,  # a case is text; anything bigger is not a form we serve
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=services.cookie_secure,
        SESSION_COOKIE_NAME="hotline_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=services.cookie_secure,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_I18N_ENABLED=False,  # use WTForms' bundled Chinese messages, no Babel needed
    )
    app.extensions["hotline"] = services
    services.passwords.ready()  # the first unknown name's sign-in takes as long as any other
    app.extensions["hotline_sign_in"] = SignInLimits(
        store=services.limit_store or MemoryLimitStore(), now=lambda: services.clock.now().timestamp()
    )
    app.wsgi_app = TrustedProxies(app.wsgi_app, services.trusted_proxies)  # type: ignore[method-assign]
    csrf.init_app(app)
    add_security_headers(app)
    remember_own_writes(app)

    from hotline.web import auth, filters
    from hotline.web.views import (
        accounts,
        case_lists,
        cases,
        department,
        hotspots,
        knowledge,
        notifications,
        operator,
        reports,
        sms_replies,
        supervision,
        supervisor,
        telephony,
    )

    auth.login_manager.init_app(app)
    filters.register(app, services.rules, services.clock)

    @app.context_processor
    def integrity_alert():
        """A break the background check of the audit chain found, on every supervisor's page."""
        user = current_user  # None when a template is rendered outside a request (the daily report)
        if not getattr(user, "is_authenticated", False) or user.role not in (SUPERVISOR, ADMIN):
            return {}
        return {"integrity_alert": services.integrity_problem()}

    for blueprint in (
        auth.bp,
        operator.bp,
        case_lists.bp,
        cases.bp,
        department.bp,
        supervisor.bp,
        supervision.bp,
        knowledge.bp,
        notifications.bp,
        reports.bp,
        hotspots.bp,
        telephony.bp,
        accounts.bp,
    ):
        app.register_blueprint(blueprint)
    from hotline.web.open311 import bp as open311_api  # authenticated by api_key, not a session: no CSRF

    app.register_blueprint(open311_api)
    csrf.exempt(open311_api)
    app.register_blueprint(sms_replies.bp)  # the SMS gateway's callback: signed with a shared key, no session
    csrf.exempt(sms_replies.bp)

    def page(status: int, title: str, message: str):
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(400)
    def bad_request(error):
        return page(400, "请求有误", "提交的内容无法识别，请返回检查后重试。")

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return page(400, "页面已过期", "表单已过期，请刷新页面后重新提交。")

    @app.errorhandler(403)
    def forbidden(error):
        return page(403, "没有权限", "您的账号没有权限访问此页面。")

    @app.errorhandler(404)
    def not_found(error):
        return page(404, "页面不存在", "您要找的页面或工单不存在。")

    @app.errorhandler(405)
    def method_not_allowed(error):
        return page(405, "操作方式不正确", "请通过页面上的按钮进行操作。")

    @app.errorhandler(413)
    def too_large(error):
        return page(413, "内容过大", "提交的内容过大，请精简后重试。")

    @app.errorhandler(Transient)
    @app.errorhandler(PersistenceError)
    def busy(error):
        """Still failing after the retries inside the request (application/failures.py): 503, never
        a 4xx; what the user typed is shown again, ready to be sent once more."""
        log.warning("503 after retries: %s %s: %r", request.method, request.path, error)
        kept = [(name, value) for name, value in request.form.items(multi=True) if name != "csrf_token"]
        body = render_template(
            "busy.html", message=f"{BUSY}（约 {RETRY_AFTER_SECONDS} 秒后）。", kept=kept, action=request.path
        )
        return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    @app.errorhandler(OriginatorVersionError)
    @app.errorhandler(OriginatorIDError)
    def broken_history(error):
        """A case (or item) whose events do not follow one another: one was deleted or inserted
        behind the application's back. A clear page instead of a 500."""
        log.error("broken aggregate history at %s: %r", request.path, error)
        return page(
            409,
            "数据核验未通过：记录不完整",
            "该记录的历史事件不连续（有事件被删除或插入），为防止显示被篡改的数据，已停止显示。"
            "请联系管理员运行 hotline audit verify 查明被改动的事件。",
        )

    @app.errorhandler(LogRolledBack)
    def rolled_back(error):
        """The event log went backwards: the read models stopped (projections/read_models.py)."""
        log.error("event log rolled back: %s", error)
        return page(503, "数据核验未通过：事件日志发生回退", str(error))

    @app.errorhandler(500)
    def server_error(error):
        log.exception("unhandled error", exc_info=getattr(error, "original_exception", error))
        return page(500, "系统错误", "系统出现错误，已记录。请稍后重试；您刚才提交的内容如未显示成功，请重新提交。")

    return app
