"""Case lists: the search page with its filters, and the same list exported to CSV or Excel.

The page and the exports read one ``CaseFilter`` (projections/case_lists.py): what is exported is
what the pages show. CSV streams line by line; Excel is written row by row to a temporary file and
sent from it, so neither holds the whole list in memory.
"""

from __future__ import annotations

import tempfile

from flask import Blueprint, Response, render_template, request, send_file
from flask_login import current_user

from hotline.domain.actors import DEPARTMENT, OPERATOR, SUPERVISOR
from hotline.domain.case import STATUS_NAMES
from hotline.domain.catalogue import catalogue_choices, codes_named
from hotline.domain.errors import InvalidInput
from hotline.domain.formats import is_ticket_no
from hotline.projections.case_lists import CaseFilter, csv_lines, every, page, write_xlsx
from hotline.web.auth import roles_required
from hotline.web.forms import SearchForm
from hotline.web.pagination import page_of, requested_page
from hotline.web.services import clock, fresh_read_models, rules

bp = Blueprint("case_lists", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _form() -> SearchForm:
    # Posted from the page (a caller's number never goes into a URL); links may still GET a filter.
    form = SearchForm(request.form if request.method == "POST" else request.args)
    form.status.choices = [("", "全部状态"), *STATUS_NAMES.items()]
    form.department.choices = [("", "全部单位"), *((c, d.name) for c, d in rules().departments.items())]
    # One list: each 大类, its 小类 and their 细项 (a level lists every 细项 under it).
    form.service.choices = [("", "全部服务事项"), *catalogue_choices(rules().services)]
    form.district.choices = [("", "全部区县"), *((name, name) for name in rules().districts)]
    return form


def _services(choice: str) -> tuple[str, ...]:
    """The 细项 a service filter names (one, or every one of a 大类 or 小类); none chosen: ()."""
    codes = codes_named(rules().services, choice) if choice else ()
    if choice and not codes:
        raise InvalidInput(f"未知服务事项：{choice}")
    return codes


def _filter(form: SearchForm) -> CaseFilter:
    ticket = (form.ticket.data or "").strip()
    chosen = CaseFilter(
        text=(form.q.data or "").strip() or None,
        ticket_no=ticket if is_ticket_no(ticket) else (ticket or None),
        phone=(form.phone.data or "").strip() or None,
        statuses=(form.status.data,) if form.status.data else (),
        category=form.category.data or None,
        service_codes=_services(form.service.data or ""),
        district=form.district.data or None,
        department=form.department.data or None,
        opened_from=form.opened_from.data,
        opened_to=form.opened_to.data,
        overdue=bool(form.overdue.data),
        urgent=bool(form.urgent.data),
        confidential=bool(form.confidential.data),
    )
    if current_user.role == DEPARTMENT:
        chosen = chosen.for_department(current_user.department)  # a department only ever lists its own cases
    return chosen


def _number_in_the_url(form: SearchForm) -> str | None:
    if request.method == "GET" and request.args.get("phone"):
        form.phone.data = ""
        return "来电号码不能放在网址中（网址会写进访问日志），请在查询框中输入后点“查询”"
    return None


@bp.route("/cases", methods=["GET", "POST"])
@roles_required(OPERATOR, SUPERVISOR, DEPARTMENT)
def search():
    form = _form()
    number, offset = requested_page(request.form if request.method == "POST" else None)
    rows, total = [], 0
    problem = _number_in_the_url(form)
    if problem is None and form.validate():
        try:
            chosen = _filter(form)
        except InvalidInput as error:
            problem = str(error)
        else:
            models = fresh_read_models()
            rows, total = page(models.cases, chosen, clock().now(), 30, offset)
    return render_template(
        "operator/search.html", form=form, rows=rows, page=page_of(number, total), problem=problem, total=total
    )


def _export_filter() -> tuple[SearchForm, CaseFilter | None, str | None]:
    form = _form()
    if problem := _number_in_the_url(form):
        return form, None, problem
    if not form.validate():
        return form, None, "；".join(f"{form[name].label.text}：{e}" for name, es in form.errors.items() for e in es)
    try:
        return form, _filter(form), None
    except InvalidInput as error:
        return form, None, str(error)


def _refused(form: SearchForm, problem: str):
    return render_template(
        "operator/search.html", form=form, rows=[], page=page_of(1, 0), problem=problem, total=0
    ), 400


@bp.route("/cases/export.csv", methods=["GET", "POST"])
@roles_required(OPERATOR, SUPERVISOR, DEPARTMENT)
def export_csv():
    form, chosen, problem = _export_filter()
    if chosen is None:
        return _refused(form, problem or "")
    models = fresh_read_models()
    now = clock().now()
    lines = csv_lines(every(models.cases, chosen, now), rules(), now)
    # Everything the lines need is already in hand: they are produced after the request context ends.
    response = Response(lines, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''cases-{now:%Y%m%d-%H%M}.csv"
    return response


@bp.route("/cases/export.xlsx", methods=["GET", "POST"])
@roles_required(OPERATOR, SUPERVISOR, DEPARTMENT)
def export_xlsx():
    form, chosen, problem = _export_filter()
    if chosen is None:
        return _refused(form, problem or "")
    models = fresh_read_models()
    now = clock().now()
    spool = tempfile.TemporaryFile()  # sent from the file, closed by send_file when the response ends
    write_xlsx(every(models.cases, chosen, now), spool, rules(), now, f"工单列表（导出于 {now:%Y-%m-%d %H:%M}）")
    spool.seek(0)
    return send_file(spool, as_attachment=True, download_name=f"cases-{now:%Y%m%d-%H%M}.xlsx", mimetype=XLSX)
