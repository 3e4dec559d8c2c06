"""Making reports outside a request: the file a command writes, and the daily report (每日要情)
made each morning at the time rules/analysis.toml names, into the outbox for its recipients. Run by
``hotline serve`` and ``hotline consume`` (a thread), or from cron with ``hotline report send-daily``."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

from hotline.infra.bootstrap import Services

log = logging.getLogger("hotline.reports")


def write_report(services: Services, period, fmt: str, out: Path) -> None:
    from hotline.projections.report_export import write_report_xlsx
    from hotline.projections.reports import compile_report
    from hotline.web import create_app
    from hotline.web.report_render import report_html, report_pdf

    models = services.read_models
    models.catch_up()
    report = compile_report(models, period)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        write_report_xlsx(report, out, services.rules.department_name, services.rules.service_name)
        return
    with create_app(services).test_request_context():  # no one signed in: the pages' context processors ask
        if fmt == "pdf":
            out.write_bytes(report_pdf(report))
        else:
            out.write_text(report_html(report), encoding="utf-8")


class DailyReports:
    """Makes yesterday's report once its time of day has come, and sends it to every recipient:
    the PDF and the HTML under ``<outbox>/reports/``, an e-mail per recipient (the configured SMTP
    server, or the outbox folder) with the summary and where the files are. A day already made is
    never made twice (its PDF is there)."""

    def __init__(self, services: Services):
        self.services = services
        self.folder = services.config.outbox() / "reports"

    def due(self, now: datetime) -> date | None:
        """The day whose report is due now and not made yet, if any."""
        at = self.services.rules.analysis.daily_report.at
        day = (now - timedelta(days=1)).date()
        if now.time() < at or (self.folder / f"daily-{day:%Y%m%d}.pdf").exists():
            return None
        return day

    def make(self, day: date) -> list[str]:
        from hotline.domain.notifications import EMAIL
        from hotline.infra.notify import channels_for
        from hotline.infra.notify.channels import Outgoing
        from hotline.projections.reports import compile_report, summary_lines
        from hotline.projections.reports import day as day_period

        period = day_period(day)
        html, pdf = self.folder / f"daily-{day:%Y%m%d}.html", self.folder / f"daily-{day:%Y%m%d}.pdf"
        write_report(self.services, period, "html", html)
        partial = pdf.with_suffix(".pdf.partial")
        write_report(self.services, period, "pdf", partial)
        report = compile_report(self.services.read_models, period)
        body = "\n".join([*summary_lines(report), "", f"完整报告（PDF）：{pdf}", f"网页版：{html}"])
        channel = channels_for(self.services.config)[EMAIL]
        receipts = []
        for number, recipient in enumerate(self.services.rules.analysis.daily_report.recipients):
            message = Outgoing(
                key=f"daily-report-{day:%Y%m%d}-{number}",
                channel=EMAIL,
                address=recipient.email,
                subject=f"【12345热线】{period.title}",
                body=f"{recipient.name}：\n\n{body}\n",
            )
            receipts.append(channel.send(message))
        partial.rename(pdf)  # last: a crash before this makes the day again (the outbox keeps one mail per key)
        return receipts

    def run_once(self) -> date | None:
        day = self.due(self.services.clock.now())
        if day is not None:
            self.make(day)
            log.info("每日要情 %s 已生成并发送", day)
        return day

    def run(self, stop: threading.Event, every_seconds: float = 60) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep the scheduler alive; the next minute tries again
                log.exception("每日要情生成失败")
            stop.wait(every_seconds)


def start_daily_reports(services: Services, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=DailyReports(services).run, args=(stop,), name="daily-reports", daemon=True)
    thread.start()
    return thread
