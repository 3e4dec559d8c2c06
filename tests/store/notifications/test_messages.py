"""Messages out on both stores, sent in-process: what a dispatch plans, the outbox files, the HTTP SMS
gateway (pytest-httpserver), e-mail through a real SMTP server (aiosmtpd), retries, quiet hours and
the failed list, and a confidential caller's text."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as clock_time

import pytest
from werkzeug import Response

from hotline.application import SimulatedClock
from hotline.domain.case import Call
from hotline.domain.notifications import CALLER, QuietHours, Template
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.bootstrap import bootstrap
from hotline.infra.notify import FileSink, HttpSmsGateway, Notifier, SmtpMail
from tests.conftest import OPERATOR_ACTOR, SUPERVISOR_ACTOR, department, make_config

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=CHINA_TZ)
CALL = Call(
    channel="phone",
    category="complaint",
    service_code="noise",
    description="楼下商铺每晚播放音乐到十二点",
    caller_name="王芳",
    caller_phone="13912345678",
    urgency="urgent",
)


@pytest.fixture
def clocked(store, tmp_path, request):
    clock = SimulatedClock(NOON)
    built = bootstrap(make_config(store, tmp_path, request), clock=clock)
    yield built, clock
    built.close()


def sent_by_template(notifier):
    notifier.read_models.catch_up()
    rows, _ = notifier.read_models.notifications.listed(notifier.app.now(), status="sent", limit=500)
    return sorted((row.ticket_no, row.template, row.channel) for row in rows)


def test_a_dispatch_sends_the_receipt_and_the_sign_reminder_and_signing_cancels_the_rest(clocked, tmp_path):
    services, clock = clocked
    outbox = FileSink(tmp_path / "outbox")
    notifier = Notifier(services.app, services.read_models, {"sms": outbox, "email": outbox})
    ticket = services.app.open_case(CALL, OPERATOR_ACTOR, route=True).ticket_no  # urgent: sign within 30 minutes
    assert notifier.run_once().sent == 3  # receipt to the caller, sign reminder to HBJ's liaison by SMS and e-mail
    assert sent_by_template(notifier) == [
        (ticket, "receipt", "sms"),
        (ticket, "sign_reminder", "email"),
        (ticket, "sign_reminder", "sms"),
    ]
    receipt = (tmp_path / "outbox" / "sms" / f"{ticket}-v2-receipt-sms.txt").read_text(encoding="utf-8")
    assert "13912345678" in receipt and ticket in receipt and "市生态环境局" in receipt
    assert "将于" in receipt and "前答复" in receipt
    assert notifier.run_once().sent == 0  # nothing twice
    services.app.sign(ticket, department("HBJ"))
    clock.advance(timedelta(hours=1))  # past the signing deadline: but it was signed, so no overdue notice
    assert notifier.run_once().sent == 0
    services.app.urge(ticket, SUPERVISOR_ACTOR, "请今天内到现场")
    assert notifier.run_once().sent == 2
    urge = (tmp_path / "outbox" / "sms").glob(f"{ticket}-v*-urge-sms.txt")
    assert "请今天内到现场" in next(urge).read_text(encoding="utf-8")
    listed = services.read_models.notifications.for_case(str(services.app.get_case(ticket).id), clock.now())
    assert {(m.template, m.status) for m in listed} >= {("sign_overdue", "cancelled"), ("urge", "sent")}


def test_steps_in_one_catch_up_cancel_stored_and_new_messages_and_the_first_reason_stays(clocked):
    services, _ = clocked
    models, hbj = services.read_models, department("HBJ")
    stored = services.app.open_case(CALL, OPERATOR_ACTOR, route=True).ticket_no
    models.catch_up()  # its reminders and cards are stored rows now
    services.app.sign(stored, hbj)  # cancels the signing messages: 已签收
    services.app.reply(stored, hbj, "已责令商铺整改", True)  # signing ones again (already gone), and the cards
    fresh = services.app.open_case(CALL, OPERATOR_ACTOR, route=True).ticket_no
    services.app.sign(fresh, hbj)  # planned and cancelled within the same catch-up
    models.catch_up()

    def cancelled(ticket):
        rows = models.notifications.for_case(str(services.app.get_case(ticket).id), services.app.now())
        return {(m.template, m.cancelled_reason) for m in rows if m.status == "cancelled"}

    assert {("sign_reminder", "已签收"), ("sign_overdue", "已签收"), ("yellow_card", "已答复")} <= cancelled(stored)
    assert {("sign_reminder", "已签收"), ("sign_overdue", "已签收")} <= cancelled(fresh)
    assert not {reason for template, reason in cancelled(fresh) if template.endswith("_card")}


def test_a_message_planned_and_sent_within_one_batch_is_sent_after_a_rebuild_too(clocked, tmp_path):
    services, _ = clocked
    models = services.read_models
    notifier = Notifier(services.app, models, {"sms": FileSink(tmp_path / "outbox"), "email": FileSink(tmp_path)})
    ticket = services.app.open_case(CALL, OPERATOR_ACTOR, route=True).ticket_no
    assert notifier.run_once().sent == 3  # the receipt and the sign reminder (SMS, e-mail)
    case_id = str(services.app.get_case(ticket).id)

    def statuses():
        return sorted(
            (m.template, m.channel, m.status) for m in models.notifications.for_case(case_id, services.app.now())
        )

    caught_up = statuses()
    assert ("receipt", "sms", "sent") in caught_up
    models.rebuild(["notifications"])  # one batch: the dispatch that planned them and the Message events
    assert statuses() == caught_up


def test_the_http_gateway_gets_each_message_once_with_its_idempotency_key(clocked, httpserver):
    services, _ = clocked
    seen: list[dict] = []

    def gateway(request):
        seen.append(
            {"key": request.headers["Idempotency-Key"], "auth": request.headers.get("Authorization"), **request.json}
        )
        return Response(json.dumps({"id": f"gw-{len(seen)}"}), content_type="application/json")

    httpserver.expect_request("/sms", method="POST").respond_with_handler(gateway)
    sms = HttpSmsGateway(httpserver.url_for("/sms"), token="s3cret")
    notifier = Notifier(services.app, services.read_models, {"sms": sms, "email": FileSink(services.config.outbox())})
    ticket = services.app.open_case(CALL, OPERATOR_ACTOR, route=True).ticket_no
    notifier.run_once()
    assert sorted(m["key"] for m in seen) == [f"{ticket}-v2-receipt-sms", f"{ticket}-v2-sign_reminder-sms"]
    assert all(m["auth"] == "Bearer s3cret" and m["id"] == m["key"] for m in seen)
    assert {m["to"] for m in seen} == {"13912345678", services.rules.notifications.contacts["HBJ"].liaison_phone}


def test_failures_are_retried_with_backoff_then_listed_as_failed(clocked, httpserver):
    services, clock = clocked
    httpserver.expect_request("/sms", method="POST").respond_with_data("busy", status=503)
    sms = HttpSmsGateway(httpserver.url_for("/sms"))
    notifier = Notifier(services.app, services.read_models, {"sms": sms, "email": FileSink(services.config.outbox())})
    settings = services.rules.notifications.settings
    # A normal case: only the receipt is due now (the sign reminder comes hours before tomorrow's deadline).
    services.app.open_case(replace(CALL, urgency="normal"), OPERATOR_ACTOR, route=True)
    attempts = 0
    for attempt in range(1, settings.max_attempts + 1):
        assert notifier.run_once().failed == 1, attempt
        attempts += 1
        clock.advance(settings.retry_after(attempt) - timedelta(seconds=1))
        assert notifier.run_once().failed == 0  # not yet
        clock.advance(timedelta(seconds=2))
    services.read_models.catch_up()
    failed, total = services.read_models.notifications.listed(clock.now(), status="failed")
    assert total == 1 and all(row.attempts == settings.max_attempts == attempts for row in failed)
    assert "HTTP 503" in failed[0].last_error
    # Fixed at the gateway, then requeued from the failed list: sent.
    httpserver.clear()
    httpserver.expect_request("/sms", method="POST").respond_with_data("ok")
    for row in failed:
        services.app.requeue_message(row.key, SUPERVISOR_ACTOR, "网关已恢复")
    assert notifier.run_once().sent == 1


def test_no_sms_to_callers_in_the_quiet_hours(clocked, tmp_path):
    services, clock = clocked
    clock.set(datetime(2026, 3, 10, 23, 30, tzinfo=CHINA_TZ))
    outbox = FileSink(tmp_path / "outbox")
    notifier = Notifier(services.app, services.read_models, {"sms": outbox, "email": outbox})
    assert services.rules.notifications.settings.quiet_hours.holds(clock.now())
    ticket = services.app.open_case(CALL, OPERATOR_ACTOR, route=True).ticket_no
    outcome = notifier.run_once()
    assert (outcome.sent, outcome.deferred) == (2, 1)  # the liaison's reminders go; the caller's receipt waits
    assert (ticket, "receipt", "sms") not in sent_by_template(notifier)
    clock.set(datetime(2026, 3, 11, 8, 0, tzinfo=CHINA_TZ))
    notifier.run_once()
    assert (ticket, "receipt", "sms") in sent_by_template(notifier)


def test_e_mail_reaches_a_real_smtp_server(clocked):
    from aiosmtpd.controller import Controller

    from tests.support.live import free_port

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        services, _ = clocked
        mail = SmtpMail("127.0.0.1", controller.port, sender="12345@hotline.example.cn")
        notifier = Notifier(
            services.app, services.read_models, {"sms": FileSink(services.config.outbox()), "email": mail}
        )
        ticket = services.app.open_case(CALL, OPERATOR_ACTOR, route=True).ticket_no
        notifier.run_once()
        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    (recipients, content), *_ = inbox.messages
    assert recipients == [services.rules.notifications.contacts["HBJ"].liaison_email]
    assert f"Message-ID: <{ticket}-v2-sign_reminder-email@hotline.12345>" in content
    assert sent_by_template(notifier) == [
        (ticket, "receipt", "sms"),
        (ticket, "sign_reminder", "email"),
        (ticket, "sign_reminder", "sms"),
    ]


def test_a_confidential_callers_text_keeps_no_details_of_the_matter(rules):
    template = rules.notifications.template("receipt")
    values = {
        "ticket_no": "20260310-000001",
        "service": "违法建设",
        "matter": "违法建设：邻居加盖",
        "department": "市城管局",
        "reply_by": "3月20日",
    }
    _, open_text = template.render(values)
    _, kept = template.render(values, confidential=True)
    assert "违法建设" in open_text and "市城管局" in open_text
    assert "违法建设" not in kept and "市城管局" not in kept and "20260310-000001" in kept
    department_text = replace(template, recipient="liaison").render(values, confidential=True)[1]
    assert "违法建设" in department_text  # the department needs the matter; only the caller's own text is kept bare
    assert isinstance(template, Template) and template.recipient == CALLER


def test_quiet_hours_over_midnight():
    quiet = QuietHours(clock_time(22, 0), clock_time(8, 0))
    assert quiet.holds(datetime(2026, 3, 10, 23, 0, tzinfo=CHINA_TZ))
    assert quiet.holds(datetime(2026, 3, 11, 7, 59, tzinfo=CHINA_TZ))
    assert not quiet.holds(datetime(2026, 3, 11, 8, 0, tzinfo=CHINA_TZ))
    assert quiet.next_allowed(datetime(2026, 3, 10, 23, 0, tzinfo=CHINA_TZ)) == datetime(
        2026, 3, 11, 8, 0, tzinfo=CHINA_TZ
    )


def test_the_supervisor_sees_the_messages_by_status(clocked, tmp_path):
    services, clock = clocked
    outbox = FileSink(tmp_path / "outbox")
    notifier = Notifier(services.app, services.read_models, {"sms": outbox, "email": outbox})
    services.app.open_case(CALL, OPERATOR_ACTOR, route=True)
    notifier.run_once()
    clock.advance(timedelta(days=7))  # the cards and the sign-overdue notice were due days ago: expired
    counts = services.read_models.notifications.counts(clock.now())
    assert counts["sent"] == 3 and counts["expired"] > 0 and counts["pending"] == 0
    expired, total = services.read_models.notifications.listed(clock.now(), status="expired")
    assert total == counts["expired"] and all(row.status_name == "已过期" for row in expired)
