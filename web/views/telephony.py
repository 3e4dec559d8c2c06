"""The call centre (话务): 接通率, 15 秒接通率, average wait, the abandoned calls to call back (漏接回拨)
and each seat's counts, for a day, from the switch's feed (projections/telephony.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, render_template, request

from hotline.domain.actors import SUPERVISOR
from hotline.domain.workdays import CHINA_TZ
from hotline.web import charts
from hotline.web.auth import roles_required
from hotline.web.services import clock, read_models

bp = Blueprint("telephony", __name__)


@bp.route("/call-centre")
@roles_required(SUPERVISOR)
def index():
    now = clock().now()
    problem = None
    try:
        day = date.fromisoformat(request.args.get("date") or now.date().isoformat())
    except ValueError:
        problem, day = "日期格式应为 2026-11-30", now.date()
    start = datetime.combine(day, time(0), CHINA_TZ)
    figures = read_models().telephony.figures(start, start + timedelta(days=1), now)
    chart = charts.line(
        "每小时来电与放弃",
        [f"{hour}时" for hour, _, _ in figures.by_hour],
        {"来电": [n for _, n, _ in figures.by_hour], "放弃": [a for _, _, a in figures.by_hour]},
    )
    return render_template("reports/telephony.html", figures=figures, day=day, chart=chart, problem=problem)
