"""The 督办台账 of a month as it stood at a moment, computed from the event history, on both stores:
an item finished in November is still in progress in October's ledger as of 10-31."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from click.testing import CliRunner
from openpyxl import load_workbook

from hotline.application import clocked
from hotline.domain.workdays import CHINA_TZ
from hotline.entrypoints.cli import main as cli
from hotline.infra.demo import ensure_demo_users
from hotline.web import create_app
from tests.conftest import SUPERVISOR_ACTOR, department
from tests.store.web.conftest import Browser

REFERENCE = "督〔2026〕21号"
OCTOBER = datetime(2026, 10, 12, 9, 0, tzinfo=CHINA_TZ)
NOVEMBER = datetime(2026, 11, 5, 9, 0, tzinfo=CHINA_TZ)


def test_the_ledger_as_of_the_months_end_differs_from_today_when_an_item_changed_later(services, tmp_path, monkeypatch):
    app, hbj = services.app, department("HBJ")
    clocked(app, OCTOBER).register_instruction(
        REFERENCE,
        SUPERVISOR_ACTOR,
        leader="李市长",
        content="整治夜间噪声",
        lead_department="HBJ",
        due=date(2026, 12, 31),
    )
    clocked(app, OCTOBER + timedelta(days=8)).report_progress(REFERENCE, hbj, "已整改 5 家商户")
    clocked(app, NOVEMBER).report_completion(REFERENCE, hbj, "全部整改完成")
    clocked(app, NOVEMBER + timedelta(days=1)).verify_item(REFERENCE, SUPERVISOR_ACTOR, "核验通过")

    [october_end] = services.read_models.ledger_as_of("2026-10", datetime(2026, 10, 31, 23, 59, tzinfo=CHINA_TZ))
    [today] = services.read_models.ledger_as_of("2026-10", NOVEMBER + timedelta(days=2))
    assert (october_end.status_name, october_end.latest_progress) == ("落实中", "已整改 5 家商户")
    assert today.status == "verified" and today.verified_at == NOVEMBER + timedelta(days=1)
    services.read_models.catch_up()
    assert services.read_models.ledger(month="2026-10")[0][0].status == "verified"  # the live view: today

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(services.config.data_dir))
    if services.config.database_url:
        monkeypatch.setenv("HOTLINE_DATABASE_URL", services.config.database_url)
    runner = CliRunner()
    for as_of, expected in ((None, "落实中"), ("2026-11-10 09:00", "已销号")):
        out = tmp_path / f"ledger-{expected}.xlsx"
        arguments = ["ledger", "export", "--month", "2026-10", "--out", str(out)]
        result = runner.invoke(cli, arguments + (["--as-of", as_of] if as_of else []))
        assert result.exit_code == 0, result.output
        cells = [str(cell.value) for row in load_workbook(out).worksheets[0].iter_rows() for cell in row]
        assert expected in cells, (as_of, cells)
        assert any("截至 2026-1" in cell for cell in cells)


def test_the_supervisors_export_is_the_ledger_at_the_months_end_too(services):
    app, hbj = services.app, department("HBJ")
    due = date(2026, 12, 31)
    clocked(app, OCTOBER).register_instruction(
        REFERENCE, SUPERVISOR_ACTOR, leader="李市长", content="整治夜间噪声", lead_department="HBJ", due=due
    )
    clocked(app, NOVEMBER).report_completion(REFERENCE, hbj, "全部整改完成")
    clocked(app, NOVEMBER + timedelta(days=1)).verify_item(REFERENCE, SUPERVISOR_ACTOR, "核验通过")
    ensure_demo_users(app, services.passwords)
    web = create_app(services, testing=True)
    web.config["SESSION_COOKIE_SECURE"] = False
    supervisor = Browser(web)
    assert supervisor.login("supervisor").status_code == 302

    for query, expected in (("month=2026-10", "落实中"), ("month=2026-10&as_of=2026-11-10T09:00", "已销号")):
        export = supervisor.get(f"/supervisor/ledger.xlsx?{query}")
        assert export.status_code == 200, query
        book = load_workbook(io.BytesIO(export.data))
        cells = [str(cell.value) for row in book.worksheets[0].iter_rows() for cell in row]
        assert expected in cells, (query, cells)
