"""Messages out in the browser: what is due, sent, cancelled, expired, and the failed list."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from hotline.domain.actors import SUPERVISOR
from hotline.projections.notifications import FAILED, STATUS_NAMES
from hotline.web import forms
from hotline.web.actions import run_form
from hotline.web.auth import current_actor, roles_required
from hotline.web.pagination import page_of, requested_page
from hotline.web.services import clock, fresh_read_models, hotline

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@roles_required(SUPERVISOR)
def index():
    number, offset = requested_page()
    status = request.args.get("status") if request.args.get("status") in STATUS_NAMES else FAILED
    models = fresh_read_models()
    moment = clock().now()
    rows, total = models.notifications.listed(moment, status=status, limit=30, offset=offset)
    return render_template(
        "notifications/index.html",
        rows=rows,
        page=page_of(number, total),
        status=status,
        statuses=STATUS_NAMES,
        counts=models.notifications.counts(moment),
        requeue_form=forms.NoteForm(prefix="requeue"),
    )


@bp.route("/notifications/<key>/requeue", methods=["POST"])
@roles_required(SUPERVISOR)
def requeue(key: str):
    message = hotline().get_message(key)
    if message is None:
        abort(404)
    form = forms.NoteForm(prefix="requeue")
    run_form(
        form,
        lambda: hotline().requeue_message(
            key, current_actor(), form.note.data or "", expected_version=int(form.version.data)
        ),
        f"通知 {key}：已重新排队发送",
    )
    return redirect(url_for("notifications.index", status=FAILED))
