"""Case pages: the list of recent cases and one case with its state and event timeline."""

from __future__ import annotations

from itertools import islice

from flask import Blueprint, abort, render_template

from domain.case import TICKET_NO
from domain.errors import CaseNotFound
from web.services import hotline, rules
from web.timeline import timeline

bp = Blueprint("cases", __name__)


@bp.route("/")
def index():
    ids = list(hotline().case_ids())
    recent = [hotline().repository.get(case_id) for case_id in islice(reversed(ids), 50)]
    return render_template("index.html", cases=recent, total=len(ids))


@bp.route("/cases/<ticket_no>")
def show(ticket_no: str):
    if not TICKET_NO.match(ticket_no):
        abort(404)
    try:
        case = hotline().get_case(ticket_no)
        events = hotline().case_events(ticket_no)
    except CaseNotFound:
        abort(404)
    return render_template("case.html", case=case, entries=timeline(events, rules()))
