"""Save the main pages as PNG under docs/screenshots/ (``make screenshots``).

Runs the real server on a fresh demo data set and drives Debian's chromium, so the pictures show
exactly what users see, Chinese fonts included.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline.infra.demo import DEMO_USERS  # noqa: E402
from tests.support.live import chromium, hotline, live_server, sign_in  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PASSWORD = {username: password for username, password, *_ in DEMO_USERS}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def shoot(page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"  {name}.png  {page.url}")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        hotline(data, "demo", "--cases", "400")
        with live_server(data) as url, chromium() as browser:
            anonymous = browser.new_context(locale="zh-CN", **DESKTOP).new_page()
            anonymous.goto(url + "/login")
            shoot(anonymous, "01-login")

            operator = sign_in(browser, url, "operator", PASSWORD["operator"], **DESKTOP)
            operator.goto(url + "/operator")
            rows = operator.locator("aside a[href^='/cases/']")
            repeat_phone = _repeat_caller_phone(operator, url)
            operator.fill("input[name=caller_phone]", repeat_phone)
            operator.wait_for_selector("#caller-history .history")
            shoot(operator, "02-operator-console")
            if rows.count():
                rows.first.click()
                operator.wait_for_load_state()
                shoot(operator, "03-case-dispatch")
            operator.goto(url + "/cases?status=closed")
            operator.locator("table a").first.click()
            operator.wait_for_load_state()
            shoot(operator, "04-case-timeline")
            ticket = operator.url.rsplit("/", 1)[1]

            department = sign_in(browser, url, "hbj", PASSWORD["hbj"], **DESKTOP)
            department.goto(url + "/department")
            shoot(department, "05-department-inbox")
            phone = sign_in(browser, url, "hbj", PASSWORD["hbj"], **PHONE)
            phone.goto(url + "/department")
            shoot(phone, "06-department-inbox-phone")

            supervisor = sign_in(browser, url, "supervisor", PASSWORD["supervisor"], **DESKTOP)
            for path, name in [
                ("/supervisor/deadlines", "07-deadline-queue"),
                ("/supervisor/ledger", "08-ledger"),
                ("/supervisor/ranking", "09-ranking"),
                ("/reports?kind=day", "11-daily-report"),
                ("/supervisor/hotspots", "12-hotspots"),
                ("/call-centre", "13-call-centre"),
            ]:
                supervisor.goto(url + path)
                shoot(supervisor, name)
            supervisor.goto(f"{url}/audit/cases/{ticket}")
            moment = supervisor.locator("ol.timeline .when").nth(2).inner_text().split(" · ")[0]
            supervisor.goto(f"{url}/audit/cases/{ticket}?at={moment.replace(' ', 'T')}")
            shoot(supervisor, "10-audit-time-travel")


def _repeat_caller_phone(page, url: str) -> str:
    """A phone number that has called before, so the console shows a caller history."""
    page.goto(url + "/cases")
    first = page.locator("table a").first
    first.click()
    page.wait_for_load_state()
    phone = page.locator("dt:has-text('来电人') + dd").inner_text().split()[-1]
    page.goto(url + "/operator")
    return phone


if __name__ == "__main__":
    main()
