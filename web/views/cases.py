"""One case: its state, its timeline, and the actions this user may take on it now."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from hotline.domain.actors import DEPARTMENT, OPERATOR, SUPERVISOR
from hotline.domain.case import Case
from hotline.domain.catalogue import CATEGORIES
from hotline.domain.emergency import HANDOFF_OUTCOMES
from hotline.domain.errors import InvalidInput
from hotline.domain.workdays import CHINA_TZ
from hotline.web import forms
from hotline.web.actions import Action, keep_typed, run_form, take_action
from hotline.web.auth import current_actor, roles_required, visible_case
from hotline.web.filters import picker_catalogue
from hotline.web.services import clock, fresh_read_models, hotline, rules
from hotline.web.timeline import timeline
from hotline.web.views.supervision import EscalateForm, escalation_form

bp = Blueprint("cases", __name__)


def _yes(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


ACTIONS: dict[str, Action] = {
    "answer": Action(
        "直接答复",
        ("answer",),
        forms.AnswerForm,
        lambda app, t, a, f, v: app.answer_directly(t, a, f.answer.data, expected_version=v),
        "已直接答复，工单办结",
    ),
    "answer_article": Action(
        "引用知识库答复",
        ("answer",),
        forms.ArticleAnswerForm,
        lambda app, t, a, f, v: app.answer_from_article(t, a, f.article.data.strip(), expected_version=v),
        "已按知识库口径答复，工单办结",
    ),
    "reveal_contact": Action(
        "查看来电人联系方式",
        ("reveal_contact",),
        forms.RevealContactForm,
        lambda app, t, a, f, v: app.reveal_contact(t, a, f.reason.data, expected_version=v),
        "已记录查看理由，来电人联系方式已显示（此次查看记入审计）",
        when=lambda case: case.confidential,
    ),
    "hand_off": Action(
        "登记转警",
        ("hand_off",),
        forms.HandOffForm,
        lambda app, t, a, f, v: app.hand_off(
            t,
            a,
            f.desk.data,
            f.receiver.data,
            f.outcome.data,
            handed_off_at=typed_moment(f.handed_off_at.data, "转接时间"),
            note=f.note.data or "",
            expected_version=v,
        ),
        "已登记转警",
        primary=True,
    ),
    "interim_feedback": Action(
        "阶段性反馈",
        ("interim_feedback",),
        forms.InterimFeedbackForm,
        lambda app, t, a, f, v: app.give_interim_feedback(t, a, f.content.data, expected_version=v),
        "已提交阶段性反馈",
    ),
    "classify": Action(
        "分类",
        ("classify",),
        forms.ClassifyForm,
        lambda app, t, a, f, v: app.classify(
            t, a, f.service_code.data, f.category.data, f.note.data or "", expected_version=v
        ),
        "已分类（有派单规则的已按规则派单，否则请派单）",
        primary=True,
    ),
    "redispatch": Action(
        "改派",
        ("redispatch",),
        forms.RedispatchForm,
        lambda app, t, a, f, v: app.dispatch(t, a, department=f.department.data, note=f.note.data, expected_version=v),
        "已改派",
    ),
    "dispatch": Action(
        "派单",
        ("dispatch",),
        forms.DispatchForm,
        lambda app, t, a, f, v: app.dispatch(
            t, a, department=f.department.data, note=f.note.data or "", expected_version=v
        ),
        "已派单",
        primary=True,
    ),
    "assign_cooperation": Action(
        "指定协办单位",
        ("assign_cooperation",),
        forms.CooperationForm,
        lambda app, t, a, f, v: app.assign_cooperation(
            t, a, [f.department.data], f.note.data or "", expected_version=v
        ),
        "已指定协办单位，主办单位汇总协办情况后答复",
    ),
    "sign_part": Action(
        "协办签收",
        ("sign_part",),
        forms.PlainActionForm,
        lambda app, t, a, f, v: app.sign_part(t, a, expected_version=v),
        "已签收协办任务",
        primary=True,
    ),
    "report_part": Action(
        "报送协办情况",
        ("report_part",),
        forms.PartReportForm,
        lambda app, t, a, f, v: app.report_part(t, a, f.content.data, expected_version=v),
        "已报送协办情况，由主办单位汇总答复",
        primary=True,
    ),
    "sign": Action(
        "签收",
        ("sign",),
        forms.PlainActionForm,
        lambda app, t, a, f, v: app.sign(t, a, expected_version=v),
        "已签收",
        primary=True,
    ),
    "return": Action(
        "申请退单",
        ("return",),
        forms.ReturnForm,
        lambda app, t, a, f, v: app.return_case(t, a, f.reason.data, f.basis.data, expected_version=v),
        "退单申请已提交，等待派单中心审核",
    ),
    "approve_return": Action(
        "同意退单",
        ("review_return",),
        forms.NoteForm,
        lambda app, t, a, f, v: app.approve_return(t, a, f.note.data or "", expected_version=v),
        "已同意退单，工单回到待派单队列",
    ),
    "reject_return": Action(
        "不同意退单",
        ("review_return",),
        forms.ReasonForm,
        lambda app, t, a, f, v: app.reject_return(t, a, f.reason.data, expected_version=v),
        "已不同意退单，工单退回承办单位继续办理",
    ),
    "extend": Action(
        "申请延期",
        ("request_extension",),
        forms.ExtensionForm,
        lambda app, t, a, f, v: app.request_extension(t, a, f.working_days.data, f.reason.data, expected_version=v),
        "延期申请已提交",
    ),
    "reply": Action(
        "答复",
        ("reply",),
        forms.ReplyForm,
        lambda app, t, a, f, v: app.reply(t, a, f.result.data, _yes(f.resolved.data), expected_version=v),
        "已答复，等待热线回访",
        primary=True,
    ),
    "approve_extension": Action(
        "同意延期",
        ("approve_extension",),
        forms.PlainActionForm,
        lambda app, t, a, f, v: app.approve_extension(t, a, expected_version=v),
        "已同意延期",
        allowed=lambda app, actor: app.may_decide_extension(actor),
    ),
    "reject_extension": Action(
        "不同意延期",
        ("reject_extension",),
        forms.ReasonForm,
        lambda app, t, a, f, v: app.reject_extension(t, a, f.reason.data, expected_version=v),
        "已不同意延期",
        allowed=lambda app, actor: app.may_decide_extension(actor),
    ),
    "urge": Action(
        "催办",
        ("urge",),
        forms.NoteForm,
        lambda app, t, a, f, v: app.urge(t, a, f.note.data or "", expected_version=v),
        "已催办",
    ),
    "callback": Action(
        "回访",
        ("callback",),
        forms.CallbackForm,
        lambda app, t, a, f, v: app.record_callback(
            t,
            a,
            _yes(f.reached.data),
            (f.satisfaction.data or None) if _yes(f.reached.data) else None,
            _yes(f.resolved.data) if _yes(f.reached.data) else None,
            f.note.data or "",
            contacted_first=_yes(f.contacted_first.data) if _yes(f.reached.data) else None,
            reported_at=typed_moment(f.called_at.data, "回访时间"),
            expected_version=v,
        ),
        "已记录回访",
        primary=True,
    ),
    "close": Action(
        "办结",
        ("close",),
        forms.NoteForm,
        lambda app, t, a, f, v: app.close_case(t, a, f.note.data or "", expected_version=v),
        "工单已办结",
        primary=True,
    ),
    "rehandle": Action(
        "重办",
        ("reopen",),
        forms.ReasonForm,
        lambda app, t, a, f, v: app.reopen(t, a, f.reason.data, expected_version=v),
        "工单转重办，请重新派单（可派原单位或其他单位）",
        primary=True,
        when=lambda case: case.needs_rehandling,
    ),
    "waive_rehandling": Action(
        "不予重办",
        ("waive_rehandling",),
        forms.ReasonForm,
        lambda app, t, a, f, v: app.waive_rehandling(t, a, f.reason.data, expected_version=v),
        "已登记不予重办的理由，可以办结",
    ),
    "reopen": Action(
        "重启",
        ("reopen",),
        forms.ReasonForm,
        lambda app, t, a, f, v: app.reopen(t, a, f.reason.data, expected_version=v),
        "工单已重启，请重新派单",
        when=lambda case: not case.needs_rehandling,
    ),
    "merge": Action(
        "并单",
        ("merge",),
        forms.MergeForm,
        lambda app, t, a, f, v: app.merge(t, a, f.target.data.strip(), expected_version=v),
        "已并单",
    ),
}


def typed_moment(text: str | None, label: str) -> datetime | None:
    """A time as typed (when the hand-off or the callback was done): 14:05 (today) or
    2025-10-09 14:05; empty: now (None)."""
    text = (text or "").strip()
    if not text:
        return None
    now = clock().now()
    try:
        if len(text) <= 8:
            parsed = datetime.strptime(text, "%H:%M:%S" if text.count(":") == 2 else "%H:%M")
            return now.replace(hour=parsed.hour, minute=parsed.minute, second=parsed.second, microsecond=0)
        return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)
    except ValueError:
        raise InvalidInput(f"{label}格式不正确：{text}，请写成 14:05 或 2025-10-09 14:05") from None


def available_actions(case: Case) -> list[str]:
    actor, moment = current_actor(), clock().now()
    return [name for name, action in ACTIONS.items() if action.offered(case, actor, moment)]


def _department_choices() -> list[tuple[str, str]]:
    return [(code, department.name) for code, department in rules().departments.items()]


def _build_form(name: str, case: Case | None = None, data=None) -> forms.ActionForm:
    form = ACTIONS[name].form(formdata=data, prefix=name)
    if isinstance(form, (forms.DispatchForm, forms.RedispatchForm)):
        # A blank first: the form preselects the routing suggestion or nothing, never the first department.
        form.department.choices = [("", "（请选择承办单位）"), *_department_choices()]
        if case is not None and data is None:
            suggested = hotline().suggested_department(case)
            form.department.data = suggested if suggested and suggested != case.department else ""
    if isinstance(form, forms.ClassifyForm):
        catalogue = [(code, s.path) for code, s in rules().services.items()]
        form.service_code.choices = [("", "（请选择服务事项）"), *catalogue]
        # The search box over the catalogue (web/static/service_picker.js), as on the call form.
        form.service_code.render_kw = {
            "data-service-picker": "",
            "data-catalogue": json.dumps(picker_catalogue(rules()), ensure_ascii=False),
        }
        if case is not None and data is None:  # what the channel sent, where the catalogue knows it
            form.service_code.data = case.service_code if case.service_code in rules().services else ""
            form.category.data = case.category if case.category in CATEGORIES else ""
    if isinstance(form, forms.CooperationForm):
        lead = case.department if case is not None else None
        taken = set(case.cooperating) if case is not None else set()
        others = [(code, name) for code, name in _department_choices() if code != lead and code not in taken]
        form.department.choices = [("", "（请选择协办单位）"), *others]
    if isinstance(form, forms.HandOffForm):
        emergency = rules().emergency
        desks = emergency.desks_for(case.service_code) if case is not None else tuple(emergency.desks)
        ordered = [*desks, *(code for code in emergency.desks if code not in desks)]
        form.desk.choices = [(code, emergency.desk_name(code)) for code in ordered]
        form.outcome.choices = list(HANDOFF_OUTCOMES.items())
    if isinstance(form, forms.ExtensionForm) and case is not None:
        most, left = hotline().extension_limit(case), hotline().extension_left(case)
        form.working_days.description = (
            f"每次最长 {most} 个工作日，本工单还可延期 {left} 个工作日；须在办理期限届满前申请"
        )
    if isinstance(form, forms.ReturnForm) and case is not None:
        due, days = hotline().return_due(case), rules().handling.return_days
        if due is not None:
            form.reason.description = f"派单后 {days} 个工作日内可申请（截至 {due:%Y-%m-%d %H:%M}），由派单中心审核"
    if case is not None and data is None:
        form.version.data = str(case.version)
    return form


@bp.route("/cases/<ticket_no>")
@roles_required(OPERATOR, DEPARTMENT, SUPERVISOR)
def show(ticket_no: str, kept: dict[str, FlaskForm] | None = None):
    """The case page; ``kept``: a refused form, shown again with what the user typed."""
    case = visible_case(ticket_no)
    names = available_actions(case)
    fresh = {name: _build_form(name, case) for name in names if name != "answer_article"}
    built = keep_typed(fresh, kept, case.version)
    suggestion = hotline().suggested_department(case)
    offered = escalation_form(case, current_actor(), clock().now())
    escalation = keep_typed({"escalate": offered} if offered else {}, kept, case.version).get("escalate")
    models = fresh_read_models()
    articles = models.search_articles(case.description, limit=5) if "answer_article" in names else []
    rows, merged_total = models.cases.merged_into(case.ticket_no)
    merged = hotline().merged_calls(case, [row.ticket_no for row in rows])
    return render_template(
        "case.html",
        case=case,
        entries=timeline(hotline().case_events(ticket_no), rules()),
        actions={name: (ACTIONS[name], form) for name, form in built.items()},
        suggestion=suggestion,
        escalation=escalation,
        articles=articles,
        article_form=_build_form("answer_article", case) if "answer_article" in names else None,
        messages=models.notifications.for_case(str(case.id), clock().now()),
        merged=merged,
        merged_total=merged_total,
        desk_name=rules().emergency.desk_name,
        outcomes=HANDOFF_OUTCOMES,
    )


@bp.route("/cases/<ticket_no>/<name>", methods=["POST"])
@roles_required(OPERATOR, DEPARTMENT, SUPERVISOR)
def act(ticket_no: str, name: str):
    case = visible_case(ticket_no)
    done = take_action(ACTIONS, name, case, case.ticket_no, _build_form, f"工单 {ticket_no}")
    if done is None and (refused := g.get("refused_form")) is not None:
        # Refused: the page again, with the form as the user filled it (nothing typed is lost).
        return show(ticket_no, kept={name: refused}), 400
    if done and current_user.role == DEPARTMENT and name in ("reply", "return"):
        return redirect(url_for("department.inbox"))  # the case has left the department's hands
    return redirect(url_for("cases.show", ticket_no=ticket_no))


@bp.route("/cases/<ticket_no>/escalate", methods=["POST"])
@roles_required(SUPERVISOR)
def escalate(ticket_no: str):
    form = EscalateForm(formdata=request.form, prefix="escalate")
    item = run_form(
        form,
        lambda: hotline().escalate_case(
            ticket_no,
            current_actor(),
            due=form.due.data,
            content=form.content.data or "",
            expected_version=int(form.version.data),
        ),
        f"工单 {ticket_no} 已转为督办事项",
    )
    if item is None:
        return show(ticket_no, kept={"escalate": form}), 400  # refused: the case page with what was typed
    return redirect(url_for("supervision.item", reference_no=item.reference_no))
