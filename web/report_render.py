"""A report as HTML (the page, or a standalone file), as PDF (weasyprint, from the same HTML), and
the charts it shows. Called inside an application context: the page, ``hotline report`` and the
daily scheduler all render through here, so the three agree."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from hotline.projections.reports import FLOW_NAMES, PERIOD_NAMES, Count, Report
from hotline.web import charts


def _items(counts: list[Count]) -> list[tuple[str, int]]:
    return [(c.name, c.count) for c in counts]


def report_charts(report: Report) -> dict[str, Markup]:
    return {
        "channel": charts.pie("受理渠道", _items(report.by_channel)),
        "category": charts.pie("诉求类别", _items(report.by_category)),
        "major": charts.bars("服务大类", _items(report.by_major)),
        "minor": charts.bars("服务小类（前 12）", _items(report.by_minor)),
        "service": charts.bars("服务事项（前 12）", _items(report.by_service)),
        "district": charts.bars("区县", _items(report.by_district)),
        "department": charts.bars("承办单位（前 12）", _items(report.by_department)),
    }


def context(report: Report) -> dict:
    return {
        "report": report,
        "charts": report_charts(report),
        "flow_names": FLOW_NAMES,
        "kinds": PERIOD_NAMES,
    }


def report_html(report: Report) -> str:
    """The standalone HTML file (styles inside, no link to anything)."""
    return render_template("reports/standalone.html", **context(report))


def report_pdf(report: Report) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=report_html(report)).write_pdf()
    return pdf
