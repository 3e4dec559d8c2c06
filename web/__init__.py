"""The web app: ``create_app(services)`` receives built services and adds nothing but HTTP."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from infra.bootstrap import Services

csrf = CSRFProtect()


def create_app(services: Services, testing: bool = False) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=services.config.flask_secret_key(),
        TESTING=testing,
        MAX_CONTENT_LENGTH=256 * 1024,  # a case is text; anything bigger is not a form we serve
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        WTF_I18N_ENABLED=False,  # use WTForms' bundled Chinese messages, no Babel needed
    )
    app.extensions["hotline"] = services
    csrf.init_app(app)

    from web import filters
    from web.views import cases, operator

    filters.register(app, services.rules)
    app.register_blueprint(operator.bp)
    app.register_blueprint(cases.bp)

    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title="页面不存在", message="您要找的页面或工单不存在。"), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("error.html", title="页面已过期", message="表单已过期，请刷新页面后重新提交。"), 400

    @app.errorhandler(413)
    def too_large(error):
        return render_template("error.html", title="内容过大", message="提交的内容过大，请精简后重试。"), 413

    return app
