"""Random histories of cases, through the application's own commands (refusals skipped as the UI
would refuse them): after each, the set-based rebuild of the case index gives exactly the rows the
incremental run holds, on both stores. The store grows from example to example."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.application import clocked
from hotline.domain.actors import ADMIN, DEPARTMENT, OPERATOR, SUPERVISOR, Actor
from hotline.domain.case import Call
from hotline.domain.errors import DomainError
from hotline.domain.workdays import CHINA_TZ

START = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)
OPERATOR_ACTOR = Actor("op-1001", OPERATOR)
SUPERVISOR_ACTOR = Actor("sup-01", SUPERVISOR)
ADMIN_ACTOR = Actor("cli:admin", ADMIN)
DEPARTMENTS = ("HBJ", "CGJ")
COUNTER = itertools.count(1)


def department(app, ticket):
    return Actor(
        f"dept-{(app.get_case(ticket).department or 'hbj').lower()}", DEPARTMENT, app.get_case(ticket).department
    )


STEPS = {
    "dispatch": lambda app, t, pick: app.dispatch(t, OPERATOR_ACTOR, department=DEPARTMENTS[pick % 2], note="改派"),
    "sign": lambda app, t, pick: app.sign(t, department(app, t)),
    "return": lambda app, t, pick: app.return_case(t, department(app, t), "不属于本单位职责", "权责清单未列此项"),
    "approve_return": lambda app, t, pick: app.approve_return(t, OPERATOR_ACTOR, "同意"),
    "reject_return": lambda app, t, pick: app.reject_return(t, OPERATOR_ACTOR, "请继续办理"),
    "extend": lambda app, t, pick: app.request_extension(t, department(app, t), 2 + pick % 5, "需现场核查"),
    "approve_extension": lambda app, t, pick: app.approve_extension(t, SUPERVISOR_ACTOR),
    "reject_extension": lambda app, t, pick: app.reject_extension(t, SUPERVISOR_ACTOR, "请按期办结"),
    "urge": lambda app, t, pick: app.urge(t, SUPERVISOR_ACTOR, "请加快"),
    "interim": lambda app, t, pick: app.give_interim_feedback(t, department(app, t), "处置中"),
    "reply": lambda app, t, pick: app.reply(t, department(app, t), f"已联系张伟，处理完毕（{pick}）", pick % 3 > 0),
    "callback": lambda app, t, pick: app.record_callback(
        t,
        OPERATOR_ACTOR,
        reached=pick % 4 > 0,
        satisfaction=("satisfied", "basically_satisfied", "dissatisfied")[pick % 3] if pick % 4 else None,
        resolved=pick % 2 == 0 if pick % 4 else None,
        contacted_first=True if pick % 4 else None,
        note="回访",
    ),
    "close": lambda app, t, pick: app.close_case(t, OPERATOR_ACTOR),
    "reopen": lambda app, t, pick: app.reopen(t, OPERATOR_ACTOR, "重办"),
    "answer": lambda app, t, pick: app.answer_directly(t, OPERATOR_ACTOR, "已当场解答张伟的问题"),
    "cooperate": lambda app, t, pick: app.assign_cooperation(t, OPERATOR_ACTOR, ["CGJ"], note="协办"),
    "erase": lambda app, t, pick: app.erase_personal_data(t, ADMIN_ACTOR, "来电人申请删除"),
}
# What may come next in each state (a step the case refuses all the same is skipped).
NEXT = {
    "opened": ("dispatch", "dispatch", "dispatch", "answer"),
    "dispatched": ("sign", "sign", "sign", "dispatch", "urge"),
    "signed": (
        "reply",
        "reply",
        "extend",
        "approve_extension",
        "reject_extension",
        "return",
        "approve_return",
        "reject_return",
        "urge",
        "interim",
        "cooperate",
    ),
    "returned": ("dispatch",),
    "replied": ("callback", "callback", "urge"),
    "called_back": ("close", "reopen"),
    "closed": ("erase", "reopen"),
    "reopened": ("dispatch",),
    "answered": ("erase",),
}
histories = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 59)), min_size=8, max_size=40)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories, urgent=st.booleans())
def test_any_history_rebuilds_set_based_to_the_incremental_rows(services, history, urgent):
    app, read_models = services.app, services.read_models
    at = START + timedelta(days=next(COUNTER))
    tickets = []
    for n in range(3):
        call = Call(
            channel="phone",
            category="complaint",
            service_code="noise",
            description=f"我叫张伟，楼下商铺噪声扰民，电话 1380013800{n}",
            caller_name="张伟",
            caller_phone=f"1380013800{n}",
            address=f"城东区解放路{n}号",
            district="城东区",
            urgency="urgent" if urgent and n == 0 else "normal",
        )
        tickets.append(clocked(app, at).open_case(call, OPERATOR_ACTOR).ticket_no)
    for number, (case, pick) in enumerate(history, start=1):
        choices = NEXT.get(app.get_case(tickets[case]).status, ("erase",))
        step = choices[pick % len(choices)]
        try:
            STEPS[step](clocked(app, at + timedelta(minutes=7 * number)), tickets[case], pick)
        except DomainError:
            pass  # refused, as the page would refuse it
    read_models.catch_up()
    followed = read_models.dump("cases")
    read_models.rebuild(["cases"])
    assert read_models.dump("cases") == followed
