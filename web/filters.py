"""Jinja filters: Chinese names for codes, Beijing time for moments."""

from __future__ import annotations

import time
from datetime import datetime

from flask import Flask

from hotline.application import Clock
from hotline.domain.actors import ROLE_NAMES
from hotline.domain.case import STATUS_NAMES
from hotline.domain.catalogue import CATEGORIES, CHANNELS, SATISFACTION, URGENCIES
from hotline.domain.privacy import mask_name, mask_phone
from hotline.domain.rules import Rules
from hotline.domain.workdays import as_china_time
from hotline.web.pagination import page_url


def beijing(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return as_china_time(moment).strftime(fmt)


def percent(value: float | None) -> str:
    """A rate already in percent (0–100); no cases to rate: a dash, not 0%."""
    return "—" if value is None else f"{value:.1f}%"


def picker_catalogue(rules: Rules) -> dict[str, dict]:
    """What the service picker searches (web/static/service_picker.js): each 细项's name and keywords
    first, then its 小类 and 大类 names, then its description: 社保 finds 社保业务, not 欠薪讨薪 of
    the same 大类."""
    return {
        code: {
            "name": s.name,
            "keywords": list(s.keywords),
            "minor": s.minor,
            "major": s.major,
            "description": s.description,
        }
        for code, s in rules.services.items()
    }


def register(app: Flask, rules: Rules, clock: Clock) -> None:
    app.add_template_filter(percent)
    app.add_template_filter(mask_name)
    app.add_template_filter(mask_phone)
    catalogue = picker_catalogue(rules)

    @app.context_processor
    def shared():
        # endpoints: so that a page links to another area only where that area is installed;
        # now: the clock's, for the domain's own "is it overdue" questions in the templates
        return {
            "service_catalogue": catalogue,
            "endpoints": app.view_functions,
            "now": clock.now(),
            "demo_accounts": demo_accounts(),
        }

    seen: dict[str, tuple[float, list[str]]] = {}

    def demo_accounts() -> list[str]:
        """The demo accounts still active (the 演示数据 banner), asked at most every 10 seconds."""
        moment = time.monotonic()
        if "demo" not in seen or moment - seen["demo"][0] > 10:
            seen["demo"] = (moment, app.extensions["hotline"].app.active_demo_accounts())
        return seen["demo"][1]

    app.jinja_env.globals["page_url"] = page_url  # a global, so imported macros see it too

    app.add_template_filter(beijing)
    app.add_template_filter(lambda code: CATEGORIES.get(code, code), "category")
    app.add_template_filter(lambda code: CHANNELS.get(code, code), "channel")
    app.add_template_filter(lambda code: URGENCIES.get(code, code), "urgency")
    app.add_template_filter(lambda code: SATISFACTION.get(code, code or ""), "satisfaction")
    app.add_template_filter(lambda code: STATUS_NAMES.get(code, code), "status")
    app.add_template_filter(rules.department_name, "department")
    app.add_template_filter(lambda code: ROLE_NAMES.get(code, code), "role_name")
    app.add_template_filter(rules.service_name, "service")
    app.add_template_filter(rules.service_path, "service_path")
    app.add_template_filter(
        lambda code: template.name if (template := rules.notifications.template(code)) else code, "template_name"
    )
