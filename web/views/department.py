"""The department's workbench: its own open cases with their deadlines."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template
from flask_login import current_user

from hotline.domain.actors import DEPARTMENT
from hotline.domain.deadlines import due_today, is_overdue
from hotline.domain.supervision import OPEN_STATUSES
from hotline.web.auth import roles_required
from hotline.web.forms import PlainActionForm
from hotline.web.pagination import page_of, requested_page
from hotline.web.services import clock, fresh_read_models

bp = Blueprint("department", __name__)


def urgency_class(due: datetime | None, moment: datetime) -> str:
    """overdue: red; due today: highlighted."""
    if is_overdue(due, moment):
        return "overdue"
    if due_today(due, moment):
        return "due-today"
    return ""


@bp.route("/department")
@roles_required(DEPARTMENT)
def inbox():
    number, offset = requested_page()
    models = fresh_read_models()
    code = current_user.department
    moment = clock().now()
    if code is None:  # an admin looking at the workbench: pick nothing rather than everything
        rows, total, items, stale, emergencies, emergency_total = [], 0, [], [], [], 0
        parts, parts_total = [], 0
    else:
        rows, total = models.inbox(code, limit=30, offset=offset)
        parts, parts_total = models.cooperation_inbox(code, limit=50)  # 协办工单
        items, _ = models.ledger(department=code, status=list(OPEN_STATUSES), limit=50)
        stale = models.knowledge.expired(code, moment.date())
        emergencies, emergency_total = models.emergencies(code)
    return render_template(
        "department/inbox.html",
        rows=rows,
        parts=parts,
        parts_total=parts_total,
        items=items,
        stale=stale,
        emergencies=emergencies,
        emergency_total=emergency_total,
        page=page_of(number, total),
        moment=moment,
        urgency_class=urgency_class,
        sign_form=PlainActionForm(prefix="sign"),
    )
