"""Reports: the day's, week's, month's or a range's figures with charts, and their downloads
(PDF, Excel, standalone HTML). For supervisors (and admins): leaders' reading."""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, redirect, render_template, request, send_file, url_for

from hotline.domain.actors import SUPERVISOR
from hotline.domain.errors import InvalidInput
from hotline.projections.report_export import write_report_xlsx
from hotline.projections.reports import Period, compile_report, date_range, day, month, week
from hotline.web.auth import roles_required
from hotline.web.report_render import context, report_html, report_pdf
from hotline.web.services import clock, fresh_read_models, rules

bp = Blueprint("reports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _date(name: str, default: date | None) -> date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"日期格式应为 2025-10-09，而不是 {text[:20]!r}") from None


def requested_period(today: date) -> Period:
    kind = request.args.get("kind") or "day"
    chosen = _date("date", None)
    if kind == "day":
        return day(chosen or today)
    if kind == "week":
        return week(chosen or today)
    if kind == "month":
        return month(f"{(chosen or today):%Y-%m}")
    if kind == "range":
        first = chosen or today
        return date_range(first, _date("to", None) or first)
    raise InvalidInput(f"未知报告类型：{kind[:20]}")


@bp.route("/reports")
@roles_required(SUPERVISOR)
def show():
    models = fresh_read_models()
    today = clock().now().date()
    problem = None
    try:
        period = requested_period(today)
    except InvalidInput as error:
        problem, period = str(error), day(today)
    report = compile_report(models, period)
    return render_template("reports/page.html", problem=problem, **context(report))  # a bad request: today's, said so


@bp.route("/reports/report.pdf", defaults={"fmt": "pdf"})
@bp.route("/reports/report.xlsx", defaults={"fmt": "xlsx"})
@bp.route("/reports/report.html", defaults={"fmt": "html"})
@roles_required(SUPERVISOR)
def export(fmt: str):
    models = fresh_read_models()
    try:
        period = requested_period(clock().now().date())
    except InvalidInput:
        return redirect(url_for("reports.show", **request.args.to_dict()))  # the page says what is wrong
    report = compile_report(models, period)
    name = f"report-{period.slug}"
    if fmt == "html":
        return send_file(io.BytesIO(report_html(report).encode()), mimetype="text/html", download_name=f"{name}.html")
    if fmt == "pdf":
        return send_file(io.BytesIO(report_pdf(report)), mimetype="application/pdf", download_name=f"{name}.pdf")
    out = io.BytesIO()
    write_report_xlsx(report, out, rules().department_name, rules().service_name)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"{name}.xlsx")
