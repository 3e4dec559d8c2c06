"""Planted matters for the hotspot analysis: a 集中诉求 (eight callers about one broken water main)
and a rising topic (shared bikes piling up), each labelled, beside the ordinary demo cases: the
labelled sample on which docs/reports.md measures the clusters' precision. ``hotline demo`` plants
both in the hours before now (``plant_hotspots``), so that ``make run`` shows them on the hotspots
page and in the reports."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hotline.application import HotlineApplication, clocked
from hotline.domain.actors import OPERATOR, Actor
from hotline.domain.case import Call

OPERATOR_ACTOR = Actor("op-demo-hotspots", OPERATOR)
WATER_MAIN = (
    "解放路与中山路交叉口自来水管爆裂，路面大量积水",
    "解放路口水管爆裂，水漫到人行道上，车辆无法通行",
    "中山路解放路路口地下水管爆裂冒水，积水很深",
    "解放路交叉口水管破裂，大量自来水外涌，路面积水",
    "解放路中山路口自来水管爆裂，周边小区停水",
    "解放路这边水管爆了，路面积水越来越多",
    "路口水管爆裂，解放路积水严重，请尽快抢修",
    "解放路中山路交叉口水管爆裂，积水已经漫进商铺",
)
BIKES = (
    "地铁站出口共享单车乱停放，堵住盲道",
    "小区门口共享单车堆积如山，行人无法通过",
    "共享单车占满人行道，轮椅推不过去",
    "公交站台被共享单车堵死，乘客上下车困难",
    "商场门口共享单车乱停乱放，无人清理",
    "共享单车倒了一地，影响通行",
)


def plant_water_main(app: HotlineApplication, at: datetime, seed: int = 8) -> list[str]:
    """Eight different callers within two hours about one burst main at 解放路 × 中山路 (城东区)."""
    rng = random.Random(seed)
    tickets = []
    for number, text in enumerate(WATER_MAIN):
        moment = at + timedelta(minutes=15 * number + rng.randint(0, 10))
        call = Call(
            channel="phone",
            category="help",
            service_code="water_supply",
            description=text,
            caller_phone=f"1390000{number:04d}",
            address=f"城东区解放路{rng.randint(100, 130)}号",
            district="城东区",
            lat=30.2701 + rng.uniform(-0.001, 0.001),
            long=120.2102 + rng.uniform(-0.001, 0.001),
            call_id=f"demo-water-main-{number}",
        )
        tickets.append(clocked(app, moment).open_case(call, OPERATOR_ACTOR).ticket_no)
    return tickets


def plant_rising_topic(app: HotlineApplication, at: datetime, count: int = 12, seed: int = 9) -> list[str]:
    """A topic none of the ordinary calls use (共享单车), called about ``count`` times in a day."""
    rng = random.Random(seed)
    tickets = []
    for number in range(count):
        district = ("城东区", "城西区", "高新区")[number % 3]  # all over the city: a topic, not one matter
        place = ("地铁站", "商场", "公交站", "学校", "医院", "公园")[number % 6]
        call = Call(
            channel=rng.choice(["phone", "wechat"]),
            category="complaint",
            service_code="other",
            description=BIKES[number % len(BIKES)],
            caller_phone=f"1370000{number:04d}",
            address=f"{district}{place}",
            district=district,
            call_id=f"demo-bikes-{number}",
        )
        moment = at + timedelta(minutes=40 * number)
        tickets.append(clocked(app, moment).open_case(call, OPERATOR_ACTOR).ticket_no)
    return tickets


def plant_hotspots(app: HotlineApplication, now: datetime) -> tuple[list[str], list[str]]:
    """The water main three hours before ``now`` and the rising topic over the eight hours before it
    (the demo's own cases replayed first); the application is on its own clock again afterwards."""
    own_clock = app.clock
    try:
        water = plant_water_main(app, now - timedelta(hours=3))
        bikes = plant_rising_topic(app, now - timedelta(hours=8, minutes=20))
    finally:
        app.clock = own_clock
    return water, bikes
