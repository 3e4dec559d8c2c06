"""One case: its state, its timeline, and the actions this user may take on it now."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from domain.actors import DEPARTMENT, OPERATOR, SUPERVISOR
from domain.application import now
from domain.case import (
    ANSWERED, CALLED_BACK, CLOSED, DISPATCHED, OPENED, REOPENED, REPLIED, RETURNED, SIGNED, Case,
)
from web import forms
from web.actions import Action, run_form
from web.auth import current_actor, roles_required, visible_case
from web.services import hotline, rules
from web.timeline import timeline
from web.views.supervision import escalation_form

bp = Blueprint("cases", __name__)


def _yes(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


ACTIONS: dict[str, Action] = {
    "answer": Action("直接答复", (OPERATOR,), (OPENED, REOPENED), forms.AnswerForm,
                     lambda app, t, a, f, v: app.answer_directly(t, a, f.answer.data, expected_version=v),
                     "已直接答复，工单办结"),
    "dispatch": Action("派单", (OPERATOR,), (OPENED, REOPENED, RETURNED, DISPATCHED), forms.DispatchForm,
                       lambda app, t, a, f, v: app.dispatch(t, a, department=f.department.data, note=f.note.data or "",
                                                            expected_version=v),
                       "已派单", primary=True),
    "sign": Action("签收", (DEPARTMENT,), (DISPATCHED,), forms.PlainActionForm,
                   lambda app, t, a, f, v: app.sign(t, a, expected_version=v), "已签收", primary=True),
    "return": Action("退单", (DEPARTMENT,), (DISPATCHED, SIGNED), forms.ReasonForm,
                     lambda app, t, a, f, v: app.return_case(t, a, f.reason.data, expected_version=v),
                     "已退单，等待派单中心改派"),
    "extend": Action("申请延期", (DEPARTMENT,), (SIGNED,), forms.ExtensionForm,
                     lambda app, t, a, f, v: app.request_extension(t, a, f.working_days.data, f.reason.data,
                                                                   expected_version=v),
                     "延期申请已提交", when=lambda case: case.pending_extension is None),
    "reply": Action("答复", (DEPARTMENT,), (SIGNED,), forms.ReplyForm,
                    lambda app, t, a, f, v: app.reply(t, a, f.result.data, _yes(f.resolved.data), expected_version=v),
                    "已答复，等待热线回访", primary=True),
    "approve_extension": Action("同意延期", (OPERATOR, SUPERVISOR), (SIGNED,), forms.PlainActionForm,
                                lambda app, t, a, f, v: app.approve_extension(t, a, expected_version=v),
                                "已同意延期", when=lambda case: case.pending_extension is not None),
    "reject_extension": Action("不同意延期", (OPERATOR, SUPERVISOR), (SIGNED,), forms.ReasonForm,
                               lambda app, t, a, f, v: app.reject_extension(t, a, f.reason.data, expected_version=v),
                               "已不同意延期", when=lambda case: case.pending_extension is not None),
    "urge": Action("催办", (OPERATOR, SUPERVISOR), (DISPATCHED, SIGNED), forms.NoteForm,
                   lambda app, t, a, f, v: app.urge(t, a, f.note.data or "", expected_version=v), "已催办"),
    "callback": Action("回访", (OPERATOR,), (REPLIED,), forms.CallbackForm,
                       lambda app, t, a, f, v: app.record_callback(
                           t, a, f.reached.data, (f.satisfaction.data or None) if f.reached.data else None,
                           _yes(f.resolved.data) if f.reached.data else None, f.note.data or "", expected_version=v),
                       "已记录回访", primary=True),
    "close": Action("办结", (OPERATOR,), (CALLED_BACK,), forms.NoteForm,
                    lambda app, t, a, f, v: app.close_case(t, a, f.note.data or "", expected_version=v), "工单已办结",
                    primary=True),
    "reopen": Action("重启", (OPERATOR,), (CALLED_BACK, CLOSED, ANSWERED), forms.ReasonForm,
                     lambda app, t, a, f, v: app.reopen(t, a, f.reason.data, expected_version=v), "工单已重启，请重新派单"),
    "merge": Action("并单", (OPERATOR,), (OPENED, DISPATCHED, REOPENED), forms.MergeForm,
                    lambda app, t, a, f, v: app.merge(t, a, f.target.data.strip(), expected_version=v), "已并单"),
}


def available_actions(case: Case) -> list[str]:
    return [name for name, action in ACTIONS.items() if action.offered(case, current_user.has_role)]


def _department_choices() -> list[tuple[str, str]]:
    return [(code, department.name) for code, department in rules().departments.items()]


def _build_form(name: str, case: Case | None = None, data=None) -> forms.ActionForm:
    form = ACTIONS[name].form(formdata=data, prefix=name)
    if isinstance(form, forms.DispatchForm):
        form.department.choices = _department_choices()
        if case is not None and data is None:
            suggested = rules().routing.route(case.service_code, case.district)
            form.department.data = suggested if case.status in (OPENED, REOPENED) else None
    if case is not None and data is None:
        form.version.data = str(case.version)
    return form


@bp.route("/cases/<ticket_no>")
@roles_required(OPERATOR, DEPARTMENT, SUPERVISOR)
def show(ticket_no: str):
    case = visible_case(ticket_no)
    names = available_actions(case)
    suggestion = rules().routing.route(case.service_code, case.district)
    escalation = escalation_form(case, now()) if current_user.has_role(SUPERVISOR) else None
    return render_template(
        "case.html",
        case=case,
        entries=timeline(hotline().case_events(ticket_no), rules()),
        actions={name: (ACTIONS[name], _build_form(name, case)) for name in names},
        suggestion=suggestion,
        escalation=escalation,
    )


@bp.route("/cases/<ticket_no>/<name>", methods=["POST"])
@roles_required(OPERATOR, DEPARTMENT, SUPERVISOR)
def act(ticket_no: str, name: str):
    action = ACTIONS.get(name)
    if action is None:
        abort(404)
    case = visible_case(ticket_no)
    if not current_user.has_role(*action.roles):
        abort(403)
    form = _build_form(name, data=request.form)
    done = run_form(
        form,
        lambda: action.run(hotline(), case.ticket_no, current_actor(), form, int(form.version.data)),
        f"工单 {ticket_no}：{action.done}",
    )
    if done and current_user.role == DEPARTMENT and name in ("reply", "return"):
        return redirect(url_for("department.inbox"))  # the case has left the department's hands
    return redirect(url_for("cases.show", ticket_no=ticket_no))
