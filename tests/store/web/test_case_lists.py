"""Case lists: the search page's filters, and its exports (CSV, Excel) listing exactly what the
pages show, on the demo data in a real SQLite store."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from hotline.infra.demo import DemoLoader
from hotline.projections.case_lists import CaseFilter, every, page

TICKET = re.compile(r'href="/cases/(\d{8}-\d{6})"')


@pytest.fixture
def demo(web_services):
    DemoLoader(web_services.app, seed=7).load(150)
    web_services.read_models.catch_up()
    return web_services


def listed_on_pages(browser, args: dict) -> list[str]:
    """Every ticket the page lists for these filters, page after page."""
    tickets: list[str] = []
    number = 1
    while True:
        text = browser.get("/cases", query_string={**args, "page": number}).text
        found = list(dict.fromkeys(TICKET.findall(text)))
        if not found:
            return tickets
        tickets.extend(found)
        number += 1


def test_the_exports_list_exactly_what_the_pages_show(demo, signed_in):
    supervisor = signed_in("supervisor")
    args = {"category": "complaint", "opened_from": "2000-01-01"}
    shown = listed_on_pages(supervisor, args)
    expected, total = demo.read_models.cases.search(category="complaint", limit=1000)
    assert len(shown) == total > 30  # more than one page
    assert shown == [row.ticket_no for row in expected]

    exported = supervisor.get("/cases/export.csv", query_string=args)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0][0] == "工单编号" and [line[0] for line in lines[1:]] == shown
    assert {line[4] for line in lines[1:]} == {"投诉"}

    workbook = supervisor.get("/cases/export.xlsx", query_string=args)
    sheet = load_workbook(io.BytesIO(workbook.data), read_only=True).active
    values = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [row[0] for row in values] == shown


def test_a_department_only_ever_exports_its_own_cases(demo, signed_in):
    hbj = signed_in("hbj")
    exported = hbj.get("/cases/export.csv", query_string={"department": "CGJ"}).get_data(as_text=True)
    own, total = demo.read_models.cases.search(department="HBJ", limit=1000)
    lines = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))[1:]
    assert total > 0 and [line[0] for line in lines] == [row.ticket_no for row in own]
    assert {line[10] for line in lines} == {demo.rules.department_name("HBJ")}


def test_district_category_urgent_and_overdue_filters(demo):
    index, now = demo.read_models.cases, demo.clock.now()
    everything = list(every(index, CaseFilter(), now))
    district = everything[0].district
    chosen = CaseFilter(district=district, category="complaint")
    found, total = page(index, chosen, now, 1000, 0)
    assert total == sum(1 for r in everything if r.district == district and r.category == "complaint") > 0
    assert all(r.district == district and r.category == "complaint" for r in found)
    overdue = list(every(index, CaseFilter(overdue=True), now))
    assert overdue and all(r.next_deadline is not None and r.next_deadline < now for r in overdue)
    assert len(overdue) == sum(1 for r in everything if r.next_deadline is not None and r.next_deadline < now)
    secret = list(every(index, CaseFilter(confidential=True), now))
    assert [r.ticket_no for r in secret] == [r.ticket_no for r in everything if r.confidential]
    urgent = list(every(index, CaseFilter(urgent=True), now))
    assert urgent and len(urgent) == sum(1 for r in everything if r.urgency == "urgent")


def test_the_stream_reads_in_chunks_and_keeps_the_page_order(demo):
    index = demo.read_models.cases
    streamed = [row.ticket_no for row in index.stream(chunk=7)]
    listed, total = index.search(limit=1000)
    assert streamed == [row.ticket_no for row in listed] and total == 150


def test_a_bad_filter_is_a_clear_message_not_an_error_page(demo, signed_in):
    operator = signed_in("operator")
    page_text = operator.get("/cases", query_string={"opened_from": "2025-13-45"}).text
    assert "受理日期起" in page_text and 'role="alert"' in page_text
    refused = operator.get("/cases/export.csv", query_string={"opened_from": "2025-10-09", "opened_to": "2025-10-01"})
    assert refused.status_code == 400 and "起始日期晚于截止日期" in refused.text


def test_a_major_or_minor_category_lists_every_case_of_its_services(demo, signed_in):
    """The service filter offers each 大类 and 小类 of rules/services.csv beside the 细项."""
    supervisor = signed_in("supervisor")
    services = demo.rules.services
    everything = list(every(demo.read_models.cases, CaseFilter(), demo.clock.now()))
    for choice, belongs in (
        ("大类:城市管理", lambda s: s.major == "城市管理"),
        ("小类:市容环卫", lambda s: s.minor == "市容环卫"),
        ("garbage", lambda s: s.code == "garbage"),
    ):
        expected = [r.ticket_no for r in everything if r.service_code in services and belongs(services[r.service_code])]
        assert expected, choice
        assert listed_on_pages(supervisor, {"service": choice}) == expected, choice
    page_text = supervisor.get("/cases").text
    assert '<option value="大类:城市管理">城市管理（大类，全部）</option>' in page_text
    assert '<option value="garbage">城市管理 › 市容环卫 › 垃圾清运</option>' in page_text
    refused = supervisor.get("/cases/export.csv", query_string={"service": "大类:没有这个大类"})
    assert refused.status_code == 400 and 'role="alert"' in refused.text
