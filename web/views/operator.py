"""The operator's desk: log a call as a case."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from domain.actors import OPERATOR, Actor
from domain.case import Call
from domain.errors import DomainError
from web.forms import CallForm
from web.services import hotline, rules

bp = Blueprint("operator", __name__)


def current_actor() -> Actor:
    # The desk operator on duty; accounts and roles arrive with the login issue.
    return Actor("op-desk", OPERATOR)


def _service_choices() -> list[tuple[str, str]]:
    return [(code, f"{service.group} · {service.name}") for code, service in rules().services.items()]


@bp.route("/calls/new", methods=["GET", "POST"])
def new_call():
    form = CallForm()
    form.service_code.choices = _service_choices()
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
            )
            opening = hotline().open_case(call, current_actor())
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(f"已受理，工单编号 {opening.ticket_no}", "success")
            return redirect(url_for("cases.show", ticket_no=opening.ticket_no))
    return render_template("call_form.html", form=form), 200 if not form.errors else 400
