"""Steps for features/migration.feature, run on both stores: the file is written as the previous
system would export it (CSV with Chinese headings) and imported as ``hotline import cases`` does."""

from __future__ import annotations

import csv
import re
from datetime import datetime

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from hotline.application import clocked
from hotline.domain.actors import ADMIN, Actor
from hotline.domain.case import STATUS_NAMES, Case
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.demo import DEMO_USERS, ensure_demo_users
from hotline.infra.migration import ImportReport, import_file
from hotline.web import create_app
from tests.conftest import department_code

scenarios("migration.feature")

IMPORTER = Actor("cli:import", ADMIN)
PASSWORDS = {username: password for username, password, *_ in DEMO_USERS}


class Story:
    def __init__(self, services, tmp_path):
        self.services = services
        self.file = tmp_path / "原系统导出.csv"
        self.at = datetime.now(CHINA_TZ)
        self.report = ImportReport()

    def run_import(self) -> ImportReport:
        self.report = import_file(clocked(self.services.app, self.at), self.file, IMPORTER)
        return self.report

    def case(self, source_no: str) -> Case | None:
        found, _ = self.services.read_models.cases.search(ticket_no=source_no)
        return self.services.app.get_case(found[0].ticket_no) if found else None


@pytest.fixture(autouse=True)  # autouse: so the scenarios are parametrized over both stores
def story(services, tmp_path):
    return Story(services, tmp_path)


@given(parsers.parse('管理员在"{moment}"拿到原系统导出的工单文件：'))
def export_file(story, moment, datatable):
    story.at = datetime.fromisoformat(moment).replace(tzinfo=CHINA_TZ)
    with story.file.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([[cell.strip() for cell in row] for row in datatable])


@given("管理员导入这份文件")
@when("管理员导入这份文件")
def import_once(story):
    story.run_import()
    story.services.read_models.catch_up()


@when("管理员再次导入这份文件")
def import_again(story):
    story.head = story.services.app.recorder.max_notification_id()
    story.run_import()


@then(parsers.parse("新导入 {count:d} 件工单"))
def created(story, count):
    assert len(story.report.created) == count


@then(parsers.parse('第 {line:d} 行被拒收，原因是"{reason}"'))
def refused(story, line, reason):
    assert [(r.place, r.reason) for r in story.report.refused] == [(line, reason)]


@then(parsers.parse('原工单"{source_no}"没有导入'))
def not_imported(story, source_no):
    assert story.case(source_no) is None


@then(parsers.parse('原工单"{source_no}"已办结，承办单位是"{name}"'))
def closed_there(story, rules, source_no, name):
    case = story.case(source_no)
    assert case.status_name == STATUS_NAMES["closed"] and case.department == department_code(rules, name)


@then(parsers.parse('它的记录时间是"{recorded}"，报告的受理时间是"{reported}"'))
def two_times(story, recorded, reported):
    case = story.case("JZ-2025-0001")
    event = story.services.app.case_events(case.ticket_no)[0]
    assert event.timestamp == datetime.fromisoformat(recorded).replace(tzinfo=CHINA_TZ)
    assert event.reported_at == datetime.fromisoformat(reported).replace(tzinfo=CHINA_TZ)


def page_of(story, path: str, username: str = "supervisor") -> str:
    """The page as a signed-in user of the web app sees it."""
    services = story.services
    if next(services.app.all_users(), None) is None:
        ensure_demo_users(services.app, services.passwords)
    app = create_app(services, testing=True)
    app.config["SESSION_COOKIE_SECURE"] = False  # the test client speaks plain HTTP
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text).group(1)
    credentials = {"csrf_token": token, "username": username, "password": PASSWORDS[username]}
    assert client.post("/login", data=credentials).status_code == 302
    page = client.get(path)
    assert page.status_code == 200
    return page.text


@then(parsers.parse('它的工单页面标注"{mark}"，显示原工单编号"{source_no}"'))
def case_page(story, mark, source_no):
    text = page_of(story, f"/cases/{story.case(source_no).ticket_no}")
    assert f'<span class="badge warn migrated">{mark}</span>' in text
    assert f"原工单编号 {source_no}" in text and "原受理时间 2025-03-03 09:12" in text


@then(parsers.parse('原工单"{source_no}"在派单中心待派单，标注"{mark}"'))
def waiting_for_dispatch(story, source_no, mark):
    rows, _ = story.services.read_models.dispatch_queue()
    (row,) = [row for row in rows if row.migrated_from == source_no]
    assert row.status == "opened" and row.department is None
    queue = page_of(story, "/operator/dispatch", "operator")
    assert f'{row.ticket_no}</a> <span class="badge warn migrated">{mark}</span>' in queue


@then(parsers.parse('"{name}"本月和 2025 年 3 月的考核都不计入这件工单'))
def not_counted(story, rules, name):
    code = department_code(rules, name)
    for month in (story.at.strftime("%Y-%m"), "2025-03"):
        assert code not in {row.department for row in story.services.read_models.metrics(month)}


@then(parsers.parse('没有新建任何工单，报告"{text}"'))
def nothing_new(story, text):
    assert story.report.created == []
    assert story.services.app.recorder.max_notification_id() == story.head
    assert text in story.report.summary()
