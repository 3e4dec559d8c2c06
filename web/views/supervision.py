"""督办台账 in the browser: the ledger, registering leader instructions, one item with its actions,
the Excel export, and the audit of an item's history."""

from __future__ import annotations

import io
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from wtforms import DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from hotline.application.failures import retrying
from hotline.domain.actors import DEPARTMENT, SUPERVISOR, Actor
from hotline.domain.case import Case
from hotline.domain.errors import DomainError
from hotline.domain.formats import MONTH, MONTH_EXAMPLE, is_month, month_bounds
from hotline.domain.supervision import SOURCES, STATUS_NAMES, ItemNotFound, SupervisionItem
from hotline.domain.workdays import as_china_time
from hotline.projections.ledger_export import write_ledger
from hotline.web import forms
from hotline.web.actions import Action, keep_typed, take_action
from hotline.web.auth import current_actor, roles_required
from hotline.web.pagination import page_of, requested_page
from hotline.web.services import clock, fresh_read_models, hotline, read_models, rules
from hotline.web.views.supervisor import requested_moment

bp = Blueprint("supervision", __name__)


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RegisterForm(forms.ChineseForm):
    reference_no = StringField("批示编号", validators=[DataRequired(message="请填写批示编号"), Length(max=64)])
    leader = StringField("批示领导", validators=[DataRequired(message="请填写批示领导"), Length(max=50)])
    content = forms.text("批示内容")
    lead_department = forms.SelectField("牵头单位", validators=[DataRequired(message="请选择牵头单位")])
    cooperating = MultiCheckbox("配合单位")
    due = DateField("办结期限", validators=[InputRequired(message="请选择办结期限（年-月-日）")])


class ProgressForm(forms.ActionForm):
    content = forms.text("本周落实进度")


class FeedbackForm(forms.ActionForm):
    month = StringField(
        "反馈月份",
        validators=[DataRequired(message="请填写月份"), Regexp(MONTH.pattern, message=f"月份格式应为 {MONTH_EXAMPLE}")],
    )
    content = forms.text("本月落实情况")


class CompletionForm(forms.ActionForm):
    summary = forms.text("完成情况")


class DueDateForm(forms.ActionForm):
    due = DateField("新的办结期限", validators=[InputRequired(message="请选择新的办结期限（年-月-日）")])
    reason = forms.text("调整理由", limit=1000)


class EscalateForm(forms.ActionForm):
    due = DateField("督办办结期限", validators=[InputRequired(message="请选择督办办结期限（年-月-日）")])
    content = forms.text("督办要求", limit=1000, required=False)


ITEM_ACTIONS: dict[str, Action] = {
    "progress": Action(
        "报送每周进度",
        ("progress",),
        ProgressForm,
        lambda app, r, a, f, v: app.report_progress(r, a, f.content.data, expected_version=v),
        "已报送进度",
    ),
    "feedback": Action(
        "反馈每月落实情况",
        ("feedback",),
        FeedbackForm,
        lambda app, r, a, f, v: app.submit_feedback(r, a, f.month.data, f.content.data, expected_version=v),
        "已反馈落实情况",
    ),
    "complete": Action(
        "报告完成",
        ("complete",),
        CompletionForm,
        lambda app, r, a, f, v: app.report_completion(r, a, f.summary.data, expected_version=v),
        "已报告完成，等待核验销号",
    ),
    "urge": Action(
        "催办",
        ("urge",),
        forms.NoteForm,
        lambda app, r, a, f, v: app.urge_item(r, a, f.note.data or "", expected_version=v),
        "已催办",
    ),
    "due": Action(
        "调整办结期限",
        ("change_due",),
        DueDateForm,
        lambda app, r, a, f, v: app.change_due_date(r, a, f.due.data, f.reason.data, expected_version=v),
        "已调整办结期限",
    ),
    "verify": Action(
        "核验销号",
        ("verify",),
        forms.NoteForm,
        lambda app, r, a, f, v: app.verify_item(r, a, f.note.data or "", expected_version=v),
        "已销号",
    ),
    "reopen": Action(
        "重新督办",
        ("reopen",),
        forms.ReasonForm,
        lambda app, r, a, f, v: app.reopen_item(r, a, f.reason.data, expected_version=v),
        "已重新督办",
    ),
}


def _department_choices() -> list[tuple[str, str]]:
    return [(code, d.name) for code, d in rules().departments.items()]


def visible_item(reference_no: str) -> SupervisionItem:
    """The item, if this user may see it: departments only the items they lead or cooperate on."""
    try:
        item = hotline().get_item(reference_no)
    except ItemNotFound:
        abort(404)
    if current_user.role == DEPARTMENT and current_user.department not in (
        item.lead_department,
        *item.cooperating_departments,
    ):
        abort(404)
    return item


def _item_form(name: str, item: SupervisionItem | None = None, data=None) -> forms.ActionForm:
    form = ITEM_ACTIONS[name].form(formdata=data, prefix=name)
    if item is not None and data is None:
        form.version.data = str(item.version)
        if isinstance(form, FeedbackForm):
            form.month.data = clock().now().strftime("%Y-%m")
    return form


@bp.route("/supervisor/ledger")
@roles_required(SUPERVISOR)
def ledger():
    number, offset = requested_page()
    month = request.args.get("month") or None
    month = month if is_month(month) else None
    source = request.args.get("source") if request.args.get("source") in SOURCES else None
    status = request.args.get("status") if request.args.get("status") in STATUS_NAMES else None
    models = fresh_read_models()
    rows, total = models.ledger(month=month, source=source, status=status, limit=30, offset=offset)
    return render_template(
        "supervision/ledger.html",
        rows=rows,
        page=page_of(number, total),
        month=month,
        source=source,
        status=status,
        sources=SOURCES,
        statuses=STATUS_NAMES,
        export_month=month or clock().now().strftime("%Y-%m"),
    )


@bp.route("/supervisor/ledger.xlsx")
@roles_required(SUPERVISOR)
def export():
    month = request.args.get("month", "")
    if not is_month(month):
        flash(f"请选择要导出的月份，格式为 {MONTH_EXAMPLE}。", "error")
        return redirect(url_for("supervision.ledger"))
    # The ledger as it stood at the month's end (or ?as_of=), from the event history: not today's state.
    end = month_bounds(month)[1] - timedelta(microseconds=1)
    try:
        as_of = datetime.fromisoformat(request.args["as_of"]) if request.args.get("as_of") else None
    except ValueError:
        as_of = None
    moment = as_china_time(as_of) if as_of and 2000 <= as_of.year <= 2100 else min(end, clock().now())
    rows = read_models().ledger_as_of(month, moment)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ledger.xlsx"
        title = f"{month} 督办台账（截至 {moment:%Y-%m-%d %H:%M}）"
        write_ledger(rows, path, title=title, department_name=rules().department_name)
        content = io.BytesIO(path.read_bytes())
    return send_file(
        content,
        as_attachment=True,
        download_name=f"督办台账-{month}.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.route("/supervisor/ledger/new", methods=["GET", "POST"])
@roles_required(SUPERVISOR)
def register():
    form = RegisterForm()
    form.lead_department.choices = _department_choices()
    form.cooperating.choices = _department_choices()
    if form.validate_on_submit():
        try:
            item = retrying(
                lambda: hotline().register_instruction(
                    form.reference_no.data.strip(),
                    current_actor(),
                    leader=form.leader.data,
                    content=form.content.data,
                    lead_department=form.lead_department.data,
                    cooperating_departments=[c for c in form.cooperating.data if c != form.lead_department.data],
                    due=form.due.data,
                )
            )
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(f"已登记督办事项 {item.reference_no}", "success")
            return redirect(url_for("supervision.item", reference_no=item.reference_no))
    return render_template("supervision/register.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/supervision/items/<path:reference_no>")
@roles_required(SUPERVISOR, DEPARTMENT)
def item(reference_no: str, kept: dict[str, forms.ActionForm] | None = None):
    """The item's page; ``kept``: a refused form, shown again with what the user typed."""
    found = visible_item(reference_no)
    actor, moment = current_actor(), clock().now()
    names = [name for name, action in ITEM_ACTIONS.items() if action.offered(found, actor, moment)]
    events = hotline().item_events(reference_no)
    return render_template(
        "supervision/item.html",
        item=found,
        actions={
            name: (ITEM_ACTIONS[name], form)
            for name, form in keep_typed({n: _item_form(n, found) for n in names}, kept, found.version).items()
        },
        entries=item_entries(events),
    )


@bp.route("/supervision/items/<path:reference_no>/do/<name>", methods=["POST"])
@roles_required(SUPERVISOR, DEPARTMENT)
def act(reference_no: str, name: str):
    found = visible_item(reference_no)
    done = take_action(ITEM_ACTIONS, name, found, found.reference_no, _item_form, f"督办事项 {found.reference_no}")
    if done is None and (refused := g.get("refused_form")) is not None:
        return item(found.reference_no, kept={name: refused}), 400  # nothing typed is lost
    return redirect(url_for("supervision.item", reference_no=found.reference_no))


def item_entries(events: list[SupervisionItem.Event]):
    from hotline.web.timeline import item_timeline

    return item_timeline(events, rules())


@bp.route("/audit/items/<path:reference_no>")
@roles_required(SUPERVISOR)
def audit_item(reference_no: str):
    try:
        events = hotline().item_events(reference_no)
    except ItemNotFound:
        abort(404)
    moment = requested_moment()
    as_of = None
    if moment:
        versions = [e.originator_version for e in events if e.timestamp <= moment]
        as_of = hotline().get_item(reference_no, version=versions[-1]) if versions else None
    return render_template(
        "supervision/audit_item.html",
        item=hotline().get_item(reference_no),
        events=events,
        entries=item_entries(events),
        moment=moment,
        bad_moment=bool(request.args.get("at")) and moment is None,
        as_of=as_of,
    )


def escalation_form(case: Case, actor: Actor, moment: datetime) -> EscalateForm | None:
    """The 转督办 form, shown on an overdue case to whoever the domain lets escalate it, never twice
    (the case records its 转督办; a case escalated before it did is found by its item)."""
    if not case.may("escalate", actor, moment):
        return None
    try:
        hotline().get_item(case.ticket_no)
        return None  # escalated before the case recorded it: the item has the ticket as its number
    except ItemNotFound:
        pass
    form = EscalateForm(prefix="escalate", formdata=None)
    form.version.data = str(case.version)
    return form
