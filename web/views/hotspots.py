"""热点与集中诉求: the supervisor's page of rising topics and clusters of callers about one matter,
and the one-step actions on a cluster: merge its cases into the first (并案), or register it as a
supervision item (提级督办)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms import DateField, SelectField
from wtforms.validators import InputRequired

from hotline.domain.actors import SUPERVISOR
from hotline.domain.errors import DomainError
from hotline.projections.hotspots import Hotspots
from hotline.web.auth import current_actor, roles_required
from hotline.web.forms import ChineseForm
from hotline.web.services import clock, fresh_read_models, hotline, rules

bp = Blueprint("hotspots", __name__)


class MergeClusterForm(ChineseForm):
    pass


class EscalateClusterForm(ChineseForm):
    lead_department = SelectField("牵头单位", validators=[InputRequired(message="请选择牵头单位")])
    due = DateField("办结期限", validators=[InputRequired(message="请填写办结期限")])


def _escalate_form(cluster=None) -> EscalateClusterForm:
    form = EscalateClusterForm(prefix="escalate")
    form.lead_department.choices = [("", "请选择"), *((c, d.name) for c, d in rules().departments.items())]
    if cluster is not None and request.method == "GET":
        first = next((c.department for c in cluster.cases if c.department), None)
        form.lead_department.data = first or rules().routing.route(cluster.service_code, cluster.district) or ""
    return form


@bp.route("/supervisor/hotspots")
@roles_required(SUPERVISOR)
def index():
    models = fresh_read_models()
    now = clock().now()
    found = Hotspots(models)
    return render_template(
        "reports/hotspots.html",
        clusters=found.clusters(now),
        day_topics=found.rising(now, days=1),
        week_topics=found.rising(now, days=7),
        rules=models.rules.analysis.hotspots,
        merge_form=MergeClusterForm(),
        escalate_form=_escalate_form(),
        due_default=(now + timedelta(days=7)).date(),
    )


def _cluster(key: str):
    models = fresh_read_models()
    cluster = Hotspots(models).cluster(key, clock().now())
    if cluster is None:
        flash(f"集中诉求 {key} 已不存在（可能已并案或超出统计时段）", "error")
    return cluster


@bp.route("/supervisor/clusters/<key>/merge", methods=["POST"])
@roles_required(SUPERVISOR)
def merge(key: str):
    if not MergeClusterForm().validate_on_submit():
        abort(400)
    cluster = _cluster(key)
    if cluster is not None:
        app, actor = hotline(), current_actor()
        open_tickets = [t for t in cluster.open_tickets if app.get_case(t).is_open]
        if not open_tickets:
            flash("该集中诉求的工单均已办结，无需并案", "error")
            return redirect(url_for("hotspots.index"))
        target, merged, kept = open_tickets[0], [], []
        for ticket in open_tickets[1:]:
            try:
                app.merge(ticket, actor, into=target)
                merged.append(ticket)
            except DomainError as error:
                kept.append(f"{ticket}（{error}）")
        flash(f"已将 {len(merged)} 件工单并入 {target}" + (f"；未并入：{'；'.join(kept)}" if kept else ""), "success")
    return redirect(url_for("hotspots.index"))


@bp.route("/supervisor/clusters/<key>/escalate", methods=["POST"])
@roles_required(SUPERVISOR)
def escalate(key: str):
    cluster = _cluster(key)
    if cluster is None:
        return redirect(url_for("hotspots.index"))
    form = _escalate_form()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("hotspots.index"))
    tickets = "、".join(c.ticket_no for c in cluster.cases)
    content = (
        f"集中诉求：{cluster.place}，{cluster.callers} 名来电人反映{rules().service_name(cluster.service_code)}"
        f"（{'、'.join(cluster.words)}）。{cluster.cases[0].description} 涉及工单：{tickets}"
    )
    try:
        item = hotline().register_instruction(
            f"集中诉求-{cluster.key}",
            current_actor(),
            leader=f"集中诉求提级督办（{cluster.callers} 名来电人）",
            content=content[:2000],
            lead_department=form.lead_department.data,
            due=form.due.data,
        )
    except DomainError as error:
        flash(str(error), "error")
    else:
        flash(f"已提级督办：{item.reference_no}", "success")
    return redirect(url_for("hotspots.index"))
