"""The report page (charts drawn on the server) and its downloads, for a supervisor; the CLI's
``hotline report`` files."""

from __future__ import annotations

import base64
import io

import pytest
from openpyxl import load_workbook

from hotline.infra.demo import DemoLoader
from tests.support.cli import hotline

CHART = "data:image/svg+xml;base64,"  # web/charts.py: each chart an image of its SVG


@pytest.fixture
def demo(web_services):
    DemoLoader(web_services.app, seed=11).load(120)
    return web_services


def test_the_daily_report_page_draws_its_charts_and_offers_downloads(demo, signed_in):
    supervisor = signed_in("supervisor")
    today = demo.clock.now().date()
    page = supervisor.get("/reports", query_string={"kind": "week", "date": today.isoformat()})
    assert page.status_code == 200
    text = page.text
    assert "周报" in text and text.count(CHART) >= 6 and "诉求总量" in text and "三率" in text
    first = text.split(CHART, 1)[1].split('"', 1)[0]
    svg = base64.b64decode(first).decode("utf-8")
    assert svg.startswith("<svg") and "pygal" in svg and "<script" not in svg
    assert "kozea.github.io" not in text and "cdn" not in text.lower()  # nothing loaded from the internet
    pdf = supervisor.get("/reports/report.pdf", query_string={"kind": "day", "date": today.isoformat()})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    book = supervisor.get("/reports/report.xlsx", query_string={"kind": "month", "date": today.isoformat()})
    sheets = load_workbook(io.BytesIO(book.data)).sheetnames
    assert sheets[:2] == ["概况", "分类统计"]


def test_a_bad_report_request_is_a_clear_message(demo, signed_in):
    supervisor = signed_in("supervisor")
    page = supervisor.get("/reports", query_string={"kind": "range", "date": "2026-11-30", "to": "2026-11-01"})
    assert page.status_code == 200 and "起始日期晚于截止日期" in page.text and 'role="alert"' in page.text
    assert "日期格式应为" in supervisor.get("/reports", query_string={"date": "30/11/2026"}).text


def test_hotline_report_writes_pdf_excel_and_html(tmp_path):
    env = {"HOTLINE_DATA_DIR": str(tmp_path)}
    hotline("demo", "--cases", "60", env=env)
    for fmt in ("pdf", "xlsx", "html"):
        out = tmp_path / f"daily.{fmt}"
        done = hotline("report", "daily", "--date", "2026-11-30", "--format", fmt, "--out", str(out), env=env)
        assert done.returncode == 0 and "每日要情" in done.stdout and out.stat().st_size > 1000
    assert (tmp_path / "daily.pdf").read_bytes().startswith(b"%PDF")
    assert CHART in (tmp_path / "daily.html").read_text(encoding="utf-8")
    refused = hotline("report", "range", "--from", "2026-11-30", "--to", "2026-11-01", "--out", "x.pdf", env=env)
    assert refused.returncode == 2 and "起始日期晚于截止日期" in refused.stderr


def test_the_call_centre_page_shows_the_feed(demo, signed_in):
    from hotline.infra.demo.telephony import encoded, telephony_day
    from hotline.intake.telephony import parse_telephony

    today = demo.clock.now().date()
    feed = [parse_telephony(value) for _, value in encoded(telephony_day(today, 300, seed=4))]
    demo.read_models.telephony.record(feed)
    supervisor = signed_in("supervisor")
    page = supervisor.get("/call-centre", query_string={"date": today.isoformat()}).text
    assert "15 秒接通率" in page and "漏接回拨" in page and "A01" in page and CHART in page
    report = supervisor.get("/reports", query_string={"kind": "day", "date": today.isoformat()}).text
    assert "15 秒接通率" in report
    assert "日期格式应为" in supervisor.get("/call-centre", query_string={"date": "昨天"}).text
