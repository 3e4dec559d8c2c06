"""Closing a month (月度结账), on both stores: the month's 三率 and ranking are frozen as an event
with the rule digest and the log position; later events never change a closed month; a
correction is an audited adjustment; an open month is shown as provisional."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from hotline.application import clocked
from hotline.domain.case import Call
from hotline.domain.errors import DomainError
from hotline.domain.month import MonthClose
from hotline.domain.workdays import CHINA_TZ
from hotline.entrypoints.cli import main as cli
from hotline.projections.months import month_figures
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department

OCTOBER = datetime(2026, 10, 12, 9, 0, tzinfo=CHINA_TZ)  # a Monday
NOVEMBER = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA_TZ)
HBJ = department("HBJ")


def noise() -> Call:
    return Call(channel="phone", category="complaint", service_code="noise", description="楼下商铺夜间音响扰民")


def handled(app, start: datetime, sign_after: timedelta, satisfaction: str) -> str:
    """A noise complaint dispatched to 市生态环境局, signed after ``sign_after``, replied, called back."""
    ticket = clocked(app, start).open_case(noise(), OPERATOR_ACTOR).ticket_no
    clocked(app, start + timedelta(minutes=5)).dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    clocked(app, start + sign_after).sign(ticket, HBJ)
    clocked(app, start + sign_after + timedelta(hours=2)).reply(ticket, HBJ, "已约谈商户", True)
    clocked(app, start + sign_after + timedelta(hours=4)).record_callback(
        ticket, OPERATOR_ACTOR, True, satisfaction, satisfaction != "dissatisfied", contacted_first=True
    )
    return ticket


@pytest.fixture
def october(services):
    """Two October cases of 市生态环境局: one signed at once and satisfied, one signed three days late
    and dissatisfied; the month is over on 11-02."""
    app = services.app
    handled(app, OCTOBER, timedelta(minutes=30), "satisfied")
    late = handled(app, OCTOBER + timedelta(hours=1), timedelta(days=3), "dissatisfied")
    clocked(app, NOVEMBER)
    return late


def figures_of(shown) -> str:
    return json.dumps([row.as_dict() for row in shown.rows], ensure_ascii=False, sort_keys=True)


def test_a_closed_month_keeps_its_figures_whatever_happens_later(services, october):
    app, models = services.app, services.read_models
    before = month_figures(app, models, "2026-10")
    assert before.provisional and before.rows[0].timely_signing_rate == 50.0  # the late signing counts

    closed = services.close_month("2026-10", SUPERVISOR_ACTOR)
    assert closed.log_position > 0 and ":" in closed.chain_head and len(closed.rules_digest) == 64
    frozen = month_figures(app, models, "2026-10")
    assert not frozen.provisional and figures_of(frozen) == figures_of(before)

    # In November the late case is reopened and handled again to the caller's satisfaction.
    clocked(app, NOVEMBER + timedelta(hours=1)).reopen(october, OPERATOR_ACTOR, "来电人反映问题仍未解决")
    models.catch_up()
    assert models.metrics("2026-10") != before.rows  # the live figures moved with the reopening
    assert figures_of(month_figures(app, models, "2026-10")) == figures_of(before)  # byte for byte

    with pytest.raises(DomainError, match="已结账"):
        services.close_month("2026-10", SUPERVISOR_ACTOR)
    with pytest.raises(DomainError, match="2026-11 尚未结束"):
        services.close_month("2026-11", SUPERVISOR_ACTOR)


def test_a_correction_is_an_adjustment_with_its_audit_trail(services, october):
    app, models = services.app, services.read_models
    services.close_month("2026-10", SUPERVISOR_ACTOR)
    clocked(app, NOVEMBER + timedelta(days=1))

    app.adjust_month(
        "2026-10",
        "appeal",
        "HBJ",
        {"satisfaction_rate": 100.0},
        requested_by="市生态环境局 王科长",
        reason="不满意评价经核实系来电人误选",
        actor=SUPERVISOR_ACTOR,
    )

    shown = month_figures(app, models, "2026-10")
    assert shown.rows[0].satisfaction_rate == 100.0 and shown.rows[0].timely_signing_rate == 50.0
    [adjustment] = shown.closed.adjustments
    assert adjustment["before"] == {"satisfaction_rate": 50.0} and adjustment["after"] == {"satisfaction_rate": 100.0}
    assert (adjustment["requested_by"], adjustment["approved_by"]) == ("市生态环境局 王科长", SUPERVISOR_ACTOR.id)
    events = list(app.events.get(shown.closed.id))
    assert [type(e).__name__ for e in events] == ["Closed", "Adjusted"]
    assert isinstance(events[0], MonthClose.Closed) and events[0].figures[0]["satisfaction_rate"] == 50.0
    with pytest.raises(DomainError, match="只能调整"):
        app.adjust_month("2026-10", "review", "HBJ", {"dispatched": 1}, "甄别", "试图改派单数", SUPERVISOR_ACTOR)


def test_the_command_line_shows_closed_months_frozen_and_open_ones_provisional(services, october, monkeypatch):
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(services.config.data_dir))
    if services.config.database_url:
        monkeypatch.setenv("HOTLINE_DATABASE_URL", services.config.database_url)
    runner = CliRunner()
    assert "未结账，暂定数据" in runner.invoke(cli, ["metrics", "--month", "2026-10"]).output
    result = runner.invoke(cli, ["month", "close", "2026-10"])
    assert result.exit_code == 0 and "已结账 2026-10：1 个承办单位" in result.output
    shown = runner.invoke(cli, ["metrics", "--month", "2026-10"]).output
    assert "已结账" in shown and "市生态环境局" in shown
    listed = json.loads(runner.invoke(cli, ["metrics", "--month", "2026-10", "--json"]).output)
    assert [row["provisional"] for row in listed] == [False]
    again = runner.invoke(cli, ["month", "close", "2026-10"])
    assert again.exit_code != 0 and "已结账" in again.output
