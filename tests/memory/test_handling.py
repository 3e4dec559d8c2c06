"""rules/handling.toml on the in-memory application: returns under review, approvers of extensions,
whether a redispatch after a return restarts the reply deadline; and the file's mistakes."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta

import pytest

from hotline.application import HotlineApplication
from hotline.domain.case import Call
from hotline.domain.errors import NotPermitted
from hotline.infra.rule_files import RulesFileError, load_rules
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department
from tests.memory.conftest import MEMORY
from tests.support.paths import PROJECT_DIR

HBJ = department("HBJ")
NOISE = Call(channel="phone", category="complaint", service_code="noise", description="夜间噪声", district="城西区")


def dispatched(app) -> str:
    ticket = app.open_case(NOISE, OPERATOR_ACTOR).ticket_no
    app.dispatch(ticket, OPERATOR_ACTOR, department="HBJ")
    return ticket


def test_an_operator_cannot_decide_an_extension_unless_the_rules_say_so(app, rules, clock):
    ticket = dispatched(app)
    app.sign(ticket, HBJ)
    app.request_extension(ticket, HBJ, 3, "需要现场核查")
    assert not app.may_decide_extension(OPERATOR_ACTOR) and app.may_decide_extension(SUPERVISOR_ACTOR)
    with pytest.raises(NotPermitted, match="话务员不能审批延期（仅限督办员、管理员）"):
        app.approve_extension(ticket, OPERATOR_ACTOR)
    with pytest.raises(NotPermitted, match="话务员不能审批延期"):
        app.reject_extension(ticket, OPERATOR_ACTOR, "请按期办结")
    assert app.get_case(ticket).pending_extension is not None  # nothing stored
    lenient = dataclasses.replace(rules.handling, extension_approvers=("operator", "supervisor"))
    other = HotlineApplication(rules=dataclasses.replace(rules, handling=lenient), env=dict(MEMORY), clock=clock)
    ticket = dispatched(other)
    other.sign(ticket, HBJ)
    other.request_extension(ticket, HBJ, 3, "需要现场核查")
    assert other.approve_extension(ticket, OPERATOR_ACTOR).extension_days_granted == 3


@pytest.mark.parametrize("restart", [True, False])
def test_a_redispatch_after_a_return_restarts_the_reply_deadline_as_the_rule_says(rules, clock, restart):
    handling = dataclasses.replace(rules.handling, restart_deadlines=restart)
    app = HotlineApplication(rules=dataclasses.replace(rules, handling=handling), env=dict(MEMORY), clock=clock)
    ticket = dispatched(app)
    first = app.get_case(ticket).reply_by
    clock.advance(timedelta(days=1))
    app.return_case(ticket, HBJ, "属于城管职责", "权责清单")
    app.approve_return(ticket, OPERATOR_ACTOR)
    case = app.dispatch(ticket, OPERATOR_ACTOR, department="CGJ", note="经审核改派")
    assert (case.reply_by == first) is not restart
    assert case.sign_by > first - timedelta(days=30)  # signing always restarts for the new department


def test_handling_file_mistakes_name_the_file_and_line(tmp_path):
    city = tmp_path / "rules"
    shutil.copytree(PROJECT_DIR / "rules", city)
    path = city / "handling.toml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace('approvers = ["supervisor", "admin"]', 'approvers = ["department"]'), "utf-8")
    with pytest.raises(RulesFileError, match=r"handling\.toml：延期审批角色无效：department"):
        load_rules(city)
    path.write_text(original.replace("within_working_days = 2", 'within_working_days = "两天"'), "utf-8")
    line = next(n for n, text in enumerate(original.splitlines(), 1) if text.startswith("within_working_days"))
    with pytest.raises(RulesFileError, match=rf"handling\.toml 第 {line} 行：退单时限必须是整数个工作日"):
        load_rules(city)
