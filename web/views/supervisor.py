"""The supervisor's desk: deadlines, the department ranking, and the audit of event history."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from hotline.domain.actors import OPERATOR, SUPERVISOR
from hotline.domain.errors import CaseNotFound, DomainError
from hotline.domain.formats import is_month, is_ticket_no, month_bounds
from hotline.domain.workdays import CHINA_TZ
from hotline.projections.months import month_figures
from hotline.projections.read_models import (
    CALLBACK,
    DEADLINE_KINDS,
    DISPATCHING,
    HANDOFF,
    INTERIM_FEEDBACK,
    MONTHLY_FEEDBACK,
    REPLYING,
    SIGNING,
    SUPERVISION_DUE,
    WEEKLY_PROGRESS,
)
from hotline.web.auth import current_actor, roles_required
from hotline.web.pagination import page_of, requested_page
from hotline.web.services import clock, fresh_read_models, hotline, read_models, rules, services
from hotline.web.timeline import timeline

bp = Blueprint("supervisor", __name__)
CASE_KINDS = (SIGNING, REPLYING, CALLBACK, HANDOFF, INTERIM_FEEDBACK, DISPATCHING)
ITEM_KINDS = (WEEKLY_PROGRESS, MONTHLY_FEEDBACK, SUPERVISION_DUE)


def requested_month() -> str:
    month = request.args.get("month", "")
    if is_month(month):
        return month
    return clock().now().strftime("%Y-%m")


@bp.route("/review")
@roles_required(OPERATOR, SUPERVISOR)
def review():
    """The review queues: returns waiting for the dispatch centre (退单审核), extensions waiting for
    the approvers rules/handling.toml names."""
    models = fresh_read_models()
    (return_total, returns), (extension_total, extensions) = models.awaiting_review(limit=100)
    return render_template(
        "supervisor/review.html",
        returns=returns,
        return_total=return_total,
        extensions=extensions,
        extension_total=extension_total,
        may_decide=hotline().may_decide_extension(current_actor()),
        return_days=rules().handling.return_days,
        moment=clock().now(),
    )


@bp.route("/supervisor/deadlines")
@roles_required(SUPERVISOR)
def deadlines():
    number, offset = requested_page()
    kind = request.args.get("kind") if request.args.get("kind") in DEADLINE_KINDS else None
    department = request.args.get("department") or None
    if department and department not in rules().departments:
        department = None
    models = fresh_read_models()
    moment = clock().now()
    rows, total = models.deadline_queue(
        moment, kinds=[kind] if kind else None, department=department, limit=30, offset=offset
    )
    emergencies, emergency_total = models.emergencies(department)
    return render_template(
        "supervisor/deadlines.html",
        emergencies=emergencies,
        emergency_total=emergency_total,
        rows=rows,
        page=page_of(number, total),
        moment=moment,
        kind=kind,
        department=department,
        kinds=DEADLINE_KINDS,
        case_kinds=CASE_KINDS,
        item_kinds=ITEM_KINDS,
        departments=[(code, d.name) for code, d in rules().departments.items()],
    )


@bp.route("/supervisor/ranking")
@roles_required(SUPERVISOR)
def ranking():
    month = requested_month()
    shown = month_figures(hotline(), read_models(), month)
    month_over = clock().now() >= month_bounds(month)[1]
    return render_template(
        "supervisor/ranking.html", rows=shown.rows, month=month, closed=shown.closed, month_over=month_over
    )


@bp.route("/supervisor/ranking/close", methods=["POST"])
@roles_required(SUPERVISOR)
def close_month():
    """月度结账: freeze the month's figures (only once, only after the month ended)."""
    month = request.form.get("month", "")
    if not is_month(month):
        flash("请选择要结账的月份。", "error")
        return redirect(url_for("supervisor.ranking"))
    try:
        closed = services().close_month(month, current_actor())
    except DomainError as error:
        flash(str(error), "error")
    else:
        flash(f"已结账 {month}：{len(closed.figures)} 个承办单位的三率和排名已冻结。", "success")
    return redirect(url_for("supervisor.ranking", month=month))


def requested_moment() -> datetime | None:
    text = request.args.get("at", "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.year < 2000 or moment.year > 2100:
        return None
    return moment.replace(tzinfo=CHINA_TZ) if moment.tzinfo is None else moment


@bp.route("/audit/cases/<ticket_no>")
@roles_required(SUPERVISOR)
def audit_case(ticket_no: str):
    if not is_ticket_no(ticket_no):
        abort(404)
    try:
        events = hotline().case_events(ticket_no)
    except CaseNotFound:
        abort(404)
    moment = requested_moment()
    bad_moment = bool(request.args.get("at")) and moment is None
    as_of = hotline().case_as_of(ticket_no, moment) if moment else None
    return render_template(
        "supervisor/audit_case.html",
        ticket_no=ticket_no,
        events=events,
        entries=timeline(events, rules()),
        moment=moment,
        bad_moment=bad_moment,
        as_of=as_of,
        current=hotline().get_case(ticket_no),
        today=clock().now().date(),
    )
