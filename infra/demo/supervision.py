"""Demo supervision data: leader instructions, meetings and an escalated case in every state.

Relative to the demo's "now", so the deadline queue and the ledger always show something overdue
and something in time. Returns the number of events written.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hotline.application import HotlineApplication, clocked
from hotline.domain.actors import DEPARTMENT, SUPERVISOR, Actor
from hotline.domain.errors import DomainError
from hotline.domain.meeting import Decision

SUPERVISOR_ACTOR = Actor("sup-01", SUPERVISOR)


def _dept(code: str) -> Actor:
    return Actor(f"dept-{code.lower()}-01", DEPARTMENT, code)


INSTRUCTIONS = [
    # (reference suffix, leader, content, lead, cooperating, registered days ago, due in days, story)
    (
        "01",
        "李市长",
        "关于城东区老旧小区加装电梯推进缓慢问题，请市住建局牵头拿出加快推进方案。",
        "ZJJ",
        ["CDQ"],
        40,
        30,
        "progress",
    ),
    ("02", "王副市长", "请市城管局会同城西区集中整治学校周边流动摊贩占道经营问题。", "CGJ", ["CXQ"], 30, -3, "late"),
    (
        "03",
        "张秘书长",
        "关于夏季用电高峰居民小区频繁停电问题，请供电公司逐一排查并报告整改情况。",
        "GDGS",
        [],
        50,
        10,
        "completed",
    ),
    ("04", "李市长", "请市人社局督促清欠农民工工资，春节前确保动态清零。", "RSJ", ["ZJJ", "GAJ"], 60, -10, "verified"),
    (
        "05",
        "王副市长",
        "关于河道黑臭水体反复出现问题，请生态环境局会同水务局彻查污染源。",
        "HBJ",
        ["SWJ"],
        45,
        20,
        "reopened",
    ),
    ("06", "张秘书长", "请市交通运输局研究优化早高峰公交线路和班次。", "JTJ", [], 20, 15, "extended"),
]


def load_supervision_demo(app: HotlineApplication, now: datetime, open_tickets: list[str]) -> int:
    year = now.year
    events = 0
    for suffix, leader, content, lead, cooperating, ago, due_in, story in INSTRUCTIONS:
        reference = f"督〔{year}〕{suffix}号"
        at = now - timedelta(days=ago)
        try:
            clocked(app, at).register_instruction(
                reference,
                SUPERVISOR_ACTOR,
                leader=leader,
                content=content,
                lead_department=lead,
                cooperating_departments=cooperating,
                due=(now + timedelta(days=due_in)).date(),
            )
        except DomainError:
            continue  # already loaded (demo --force)
        events += 1 + _follow(app, reference, lead, at, now, story)
    events += _meetings(app, now)
    events += _escalate_one(app, now, open_tickets)
    return events


def _follow(app: HotlineApplication, reference: str, lead: str, at: datetime, now: datetime, story: str) -> int:
    """Walk one item through its story; each step a few days after the previous."""
    actor = _dept(lead)
    steps = 0

    def step(days: float) -> datetime:
        nonlocal at
        at = min(at + timedelta(days=days), now - timedelta(minutes=10))
        return at

    clocked(app, step(5)).report_progress(reference, actor, "已召开专题会部署，正在逐项排查梳理。")
    steps += 1
    if story == "late":
        clocked(app, step(9)).urge_item(reference, SUPERVISOR_ACTOR, "进度滞后，请本周内报送落实情况。")
        return steps + 1
    first_month = at.strftime("%Y-%m")
    clocked(app, step(2)).submit_feedback(reference, actor, first_month, "本月已完成摸底，制定了分阶段整改计划。")
    steps += 1
    if story == "progress":
        clocked(app, step(4)).report_progress(reference, actor, "已完成七成点位整改，剩余点位本月底前完成。")
        return steps + 1
    if story == "extended":
        clocked(app, step(1)).change_due_date(
            reference,
            SUPERVISOR_ACTOR,
            (now + timedelta(days=40)).date(),
            "需结合新学期开学调整线路，延期办理",
        )
        return steps + 1
    clocked(app, step(3)).report_completion(reference, actor, "问题已全部整改到位，建立了长效机制。")
    steps += 1
    if story in ("verified", "reopened"):
        clocked(app, step(2)).verify_item(reference, SUPERVISOR_ACTOR, "经现场核查，同意销号。")
        steps += 1
    if story == "reopened":
        clocked(app, step(3)).reopen_item(reference, SUPERVISOR_ACTOR, "群众再次反映问题反弹，重新督办。")
        steps += 1
    return steps


def _meetings(app: HotlineApplication, now: datetime) -> int:
    year = now.year
    meetings = [
        # (reference, title, days ago, finance, personnel, send minutes?, decisions)
        (
            f"会〔{year}〕15号",
            "市政府第15次常务会议",
            20,
            True,
            False,
            True,
            [
                ("安排专项资金支持老旧小区改造，市住建局牵头制定资金使用方案。", "ZJJ", ["CDQ", "CXQ"], 25),
                ("市医保局会同卫健委完善异地就医直接结算。", "YBJ", ["WJW"], 40),
            ],
        ),
        (
            f"会〔{year}〕18号",
            "市政府第18次常务会议",
            8,
            False,
            True,
            False,
            [
                ("调整市城管局执法大队领导班子，市人社局配合做好人员调配。", "CGJ", ["RSJ"], 15),
            ],
        ),
        (
            f"会〔{year}〕19号",
            "全市民生诉求专题协调会",
            7,
            False,
            False,
            False,
            [
                ("市教育局研究解决幼升小材料繁琐问题，推行一网通办。", "JYJ", [], 30),
                ("市公积金中心缩短提取到账时间至5个工作日。", "GJJ", [], -1),
            ],
        ),
    ]
    events = 0
    for reference, title, ago, finance, personnel, send, decisions in meetings:
        held = (now - timedelta(days=ago)).replace(hour=9, minute=30, second=0, microsecond=0)
        held = min(held, now - timedelta(hours=2))
        try:
            clocked(app, held + timedelta(hours=1)).hold_meeting(
                reference,
                SUPERVISOR_ACTOR,
                title=title,
                chaired_by="李市长",
                held_at=held,
                touches_finance=finance,
                touches_personnel=personnel,
                decisions=[
                    Decision(content, lead, (now + timedelta(days=due)).date(), tuple(coop))
                    for content, lead, coop, due in decisions
                ],
            )
        except DomainError:
            continue
        events += 1 + len(decisions)
        if send:
            clocked(app, held + timedelta(days=1)).send_minutes_for_signing(
                reference, SUPERVISOR_ACTOR, "纪要已送市长签发"
            )
            events += 1
    return events


def _escalate_one(app: HotlineApplication, now: datetime, open_tickets: list[str]) -> int:
    """Turn the first overdue open case into a supervision item (超期工单转督办)."""
    for ticket in open_tickets:
        try:
            clocked(app, now - timedelta(minutes=5)).escalate_case(
                ticket, SUPERVISOR_ACTOR, due=(now + timedelta(days=5)).date()
            )
        except DomainError:
            continue
        return 1
    return 0
