"""The operator's console: log a call quickly, see the caller's history, find cases."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from hotline.application.failures import BUSY, RETRY_AFTER_SECONDS, is_transient, retrying
from hotline.domain.actors import OPERATOR
from hotline.domain.case import AWAITING_CALLBACK, Call
from hotline.domain.errors import DomainError
from hotline.domain.formats import PHONE
from hotline.web.auth import current_actor, roles_required
from hotline.web.forms import CallForm
from hotline.web.pagination import page_of, requested_page
from hotline.web.services import clock, fresh_read_models, hotline, rules

bp = Blueprint("operator", __name__)


def _call_form() -> CallForm:
    """The call form with the city's catalogue and districts (rules/services.csv, districts.csv)."""
    form = CallForm()
    # A blank first: nothing is chosen until the operator picks, or the search finds, a service.
    choices = [(code, s.path) for code, s in rules().services.items()]
    form.service_code.choices = [("", "（请选择服务事项）"), *choices]
    form.district.choices = [("", "（不确定）"), *((name, name) for name in rules().districts)]
    return form


@bp.route("/operator")
@roles_required(OPERATOR)
def console():
    models = fresh_read_models()
    queue, queued = models.dispatch_queue(limit=10)
    callbacks, awaiting = models.cases.search(status=list(AWAITING_CALLBACK), limit=10)
    emergencies, emergency_total = models.emergencies()
    form = _call_form()
    return render_template(
        "operator/console.html",
        form=form,
        queue=queue,
        queued=queued,
        callbacks=callbacks,
        awaiting=awaiting,
        emergencies=emergencies,
        emergency_total=emergency_total,
        moment=clock().now(),
    )


@bp.route("/operator/dispatch")
@roles_required(OPERATOR)
def dispatch_queue():
    """Every case waiting for dispatch, urgent first, then the longest waiting, with 派单时限."""
    number, offset = requested_page()
    models = fresh_read_models()
    rows, total = models.dispatch_queue(limit=30, offset=offset)
    return render_template("operator/dispatch_queue.html", rows=rows, page=page_of(number, total), moment=clock().now())


@bp.route("/calls/new", methods=["GET", "POST"])
@roles_required(OPERATOR)
def new_call():
    form = _call_form()
    if form.validate_on_submit():
        try:
            call = Call(
                channel=form.channel.data,
                category=form.category.data,
                service_code=form.service_code.data,
                description=form.description.data,
                caller_name=form.caller_name.data or "",
                caller_phone=form.caller_phone.data or "",
                urgency=form.urgency.data,
                address=form.address.data or "",
                district=form.district.data or "",
                confidential={"yes": True, "no": False}.get(form.confidential.data or ""),
                call_id=f"desk:{form.submission.data}" if form.submission.data else None,
            )
            opening = retrying(lambda: hotline().open_case(call, current_actor()))
        except DomainError as error:
            flash(str(error), "error")
        except Exception as error:
            if not is_transient(error):
                raise
            # Still busy after the retries: the form comes back with everything typed, and a 503.
            flash(f"{BUSY}：来电尚未保存，内容已保留，请稍后再次提交。", "error")
            body = render_template("operator/call_form.html", form=form)
            return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
        else:
            article = (form.answer_article.data or "").strip()
            if not article:
                flash(f"已受理，工单编号 {opening.ticket_no}。请直接答复或派单。", "success")
                return redirect(url_for("cases.show", ticket_no=opening.ticket_no))
            try:
                retrying(lambda: hotline().answer_from_article(opening.ticket_no, current_actor(), article))
            except DomainError as error:
                flash(f"已受理，工单编号 {opening.ticket_no}，但未能引用知识库答复：{error}", "error")
            else:
                flash(f"已受理并按知识库条目 {article} 答复，工单 {opening.ticket_no} 已办结。", "success")
            return redirect(url_for("cases.show", ticket_no=opening.ticket_no))
    status = 400 if form.errors or request.method == "POST" else 200
    return render_template("operator/call_form.html", form=form), status


@bp.route("/operator/caller-history", methods=["POST"])
@roles_required(OPERATOR)
def caller_history():
    """A fragment for the call form: the caller's earlier cases and likely duplicates. Posted, so
    the number never sits in a URL (access logs, browser history, a proxy's records)."""
    phone = (request.form.get("phone") or "").strip()
    service_code = request.form.get("service_code") or None
    if not PHONE.match(phone):
        return render_template("operator/_caller_history.html", phone="", history=[], duplicates=[])
    models = fresh_read_models()
    history = models.caller_history(phone)
    duplicates = models.possible_duplicates(phone, service_code) if service_code else []
    return render_template("operator/_caller_history.html", phone=phone, history=history, duplicates=duplicates)


@bp.route("/operator/kb-suggestions", methods=["POST"])
@roles_required(OPERATOR)
def kb_suggestions():
    """A fragment for the call form: the published articles best matching the description so far
    (posted: the description may hold the caller's name or number)."""
    text = (request.form.get("q") or "")[:500]
    models = fresh_read_models()
    articles = models.suggest_articles(text) if text.strip() else []
    return render_template("knowledge/_suggestions.html", articles=articles, ticket_no=None, form=None)
