"""A case's events as a timeline a person can read: what happened, who did it, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.domain.actors import ROLE_NAMES
from hotline.domain.case import EVENT_NAMES, Case
from hotline.domain.catalogue import CATEGORIES, SATISFACTION
from hotline.domain.emergency import HANDOFF_OUTCOMES
from hotline.domain.rules import Rules
from hotline.domain.supervision import EVENT_NAMES as ITEM_EVENT_NAMES
from hotline.domain.supervision import SOURCES, SupervisionItem
from hotline.web.filters import beijing


@dataclass(frozen=True)
class Entry:
    version: int
    what: str
    detail: str
    actor: str
    at: datetime  # recorded: the hotline's clock
    reported: datetime | None = None  # when the sender says it happened, where that differs
    links: tuple[tuple[str, str], ...] = ()  # ("case", ticket) or ("item", 督办编号): the other side of a link


def links_of(event: object) -> tuple[tuple[str, str], ...]:
    """The case or 督办 item an event points to, so each side's timeline leads to the other."""
    if isinstance(event, Case.Escalated):
        return (("item", event.reference_no),)
    if isinstance(event, Case.MergedInto):
        return (("case", event.target_ticket_no),)
    if isinstance(event, SupervisionItem.Registered) and event.ticket_no:
        return (("case", event.ticket_no),)
    return ()


def describe(event: Case.Event, rules: Rules) -> str:
    if isinstance(event, Case.Opened):
        return f"{rules.service_name(event.service_code)}：{event.description}"
    if isinstance(event, Case.HeldForClassification):
        return "；".join(event.reasons) + "。来电内容已按渠道所报全部保存，等待派单中心分类"
    if isinstance(event, Case.Classified):
        sent = f"{event.sent_service_code or '（未填写）'} / {event.sent_category or '（未填写）'}"
        text = (
            f"服务事项：{rules.service_name(event.service_code)}；诉求类别：{CATEGORIES[event.category]}"
            f"（渠道所报：{sent}）"
        )
        return text + (f"；{event.note}" if event.note else "")
    if isinstance(event, Case.Migrated):
        # 迁移数据: the previous system's times are reported (the entry shows 受理时间 as 报告发生于).
        finished = f"；原办结时间 {beijing(event.finished_at)}" if event.finished_at else ""
        department = f"；原承办单位 {rules.department_name(event.source_department)}" if event.source_department else ""
        result = f"；办理结果：{event.result}" if event.result else ""
        return (
            f"迁移数据：原工单编号 {event.source_no}，原状态“{event.source_status}”{finished}{department}{result}。"
            f"{rules.service_name(event.service_code)}：{event.description}"
        )
    if isinstance(event, (Case.Dispatched, Case.Redispatched)):
        mark = "（暂定）" if event.provisional else ""
        text = (
            f"承办单位：{rules.department_name(event.department)}；签收期限 {beijing(event.sign_by)}；"
            f"办理期限 {beijing(event.reply_by)}{mark}"
        )
        return text + (f"；{event.note}" if event.note else "")
    if isinstance(event, (Case.Returned, Case.ReturnApproved)):
        note = getattr(event, "note", "")
        return f"{rules.department_name(event.department)}退回：{event.reason}" + (
            f"；审核意见：{note}" if note else ""
        )
    if isinstance(event, Case.ReturnRequested):
        return f"{rules.department_name(event.department)}申请退单：{event.reason}；依据：{event.basis}"
    if isinstance(event, Case.ReturnRejected):
        return f"不同意退单，请继续办理：{event.reason}"
    if isinstance(event, Case.ExtensionRequested):
        return f"申请延期 {event.working_days} 个工作日：{event.reason}"
    if isinstance(event, Case.ExtensionApproved):
        return f"办理期限延至 {beijing(event.reply_by)}"
    if isinstance(event, (Case.ExtensionRejected, Case.Reopened)):
        return event.reason
    if isinstance(event, Case.Rehandled):
        return f"{rules.department_name(event.department)}办理后来电人不满意或认为未解决，重办：{event.reason}"
    if isinstance(event, Case.AnsweredDirectly):
        return event.answer
    if isinstance(event, Case.AnsweredFromArticle):
        return f"引用知识库条目 {event.article_no}（第 {event.revision} 版）：{event.answer}"
    if isinstance(event, Case.EmergencyFlagged):
        desks = "、".join(rules.emergency.desk_name(desk) for desk in event.desks)
        return f"紧急事项，须于 {beijing(event.handoff_by, '%H:%M')} 前转 {desks}"
    if isinstance(event, Case.HandedOff):
        outcome = HANDOFF_OUTCOMES.get(event.outcome, event.outcome)
        when = beijing(event.handed_off_at, "%H:%M:%S")
        detail = f"{rules.emergency.desk_name(event.desk)} · {event.receiver} · {outcome} · {when}"
        return detail + (f"；{event.note}" if event.note else "")
    if isinstance(event, Case.InterimFeedbackRequested):
        return f"紧急工单，须于 {beijing(event.interim_by)} 前阶段性反馈"
    if isinstance(event, Case.InterimFeedbackGiven):
        return event.content
    if isinstance(event, Case.MarkedConfidential):
        return "承办单位只见 王** / 139****5678，经热线联系来电人"
    if isinstance(event, Case.ContactRevealed):
        return f"{rules.department_name(event.department)}查看来电人联系方式，理由：{event.reason}"
    if isinstance(event, Case.PersonalDataErased):
        return f"来电人姓名、电话、诉求内容和地址已删除（密钥已销毁），理由：{event.reason}"
    if isinstance(event, Case.Replied):
        text = f"{'已解决' if event.resolved else '未解决'}：{event.result}"
        if event.callback_by is None:  # replied before the callback deadline was recorded
            return text
        mark = "（暂定）" if event.callback_by_provisional else ""
        return f"{text}；回访期限 {beijing(event.callback_by)}{mark}"
    if isinstance(event, (Case.CallbackRecorded, Case.CalledBack)):
        note = f"；{event.note}" if event.note else ""
        if not event.reached:
            unreachable = "，回访次数已满，可按无法联系办结" if getattr(event, "unreachable", False) else ""
            return f"未联系上来电人{unreachable}{note}"
        solved = "认为已解决" if event.resolved else "认为未解决"
        first = getattr(event, "contacted_first", None)
        contact = "" if first is None else ("承办单位先行联系过，" if first else "承办单位未先行联系，")
        return f"{contact}{SATISFACTION.get(event.satisfaction, '')}，{solved}{note}"
    if isinstance(event, Case.RehandlingWaived):
        return event.reason
    if isinstance(event, Case.SmsReplied):
        if not event.answer:
            return "来电人回复的内容不是评价选项，未计入满意度（原文未保存）"
        if event.satisfaction is None:
            return f"来电人回复“{event.answer}”，已超过计入时限，未计入满意度"
        return f"来电人短信评价：{SATISFACTION.get(event.satisfaction, '')}（回复“{event.answer}”）"
    if isinstance(event, Case.MergedInto):
        return f"并入工单 {event.target_ticket_no}"
    if isinstance(event, Case.CooperationAssigned):
        partners = "、".join(rules.department_name(code) for code in event.departments)
        return f"协办单位：{partners}" + (f"；{event.note}" if event.note else "")
    if isinstance(event, Case.PartSigned):
        return f"{rules.department_name(event.department)}签收协办任务"
    if isinstance(event, Case.PartReported):
        return f"{rules.department_name(event.department)}：{event.content}"
    if isinstance(event, Case.Escalated):
        return f"超期转督办，督办编号 {event.reference_no}"
    if isinstance(event, (Case.Urged, Case.Closed)):
        return event.note
    return ""


def entries(events: list, names: dict, describe_event, rules: Rules) -> list[Entry]:
    return [
        Entry(
            version=event.originator_version,
            what=names.get(type(event), type(event).__name__),
            detail=describe_event(event, rules),
            actor=f"{ROLE_NAMES.get(event.actor_role, event.actor_role)} {event.actor_id}",
            at=event.timestamp,
            reported=reported if (reported := getattr(event, "reported_at", None)) != event.timestamp else None,
            links=links_of(event),
        )
        for event in events
    ]


def timeline(events: list[Case.Event], rules: Rules) -> list[Entry]:
    return entries(events, EVENT_NAMES, describe, rules)


def describe_item_event(event: SupervisionItem.Event, rules: Rules) -> str:
    if isinstance(event, SupervisionItem.Registered):
        partners = "、".join(rules.department_name(c) for c in event.cooperating_departments)
        lead = rules.department_name(event.lead_department)
        case = f"（工单 {event.ticket_no}）" if event.ticket_no else ""
        return (
            f"{SOURCES.get(event.source, event.source)}{case}：{event.content}；牵头单位 {lead}"
            f"{'；配合单位 ' + partners if partners else ''}；办结期限 {beijing(event.due_at, '%Y-%m-%d')}"
        )
    if isinstance(event, SupervisionItem.ProgressReported):
        return f"{event.content}（下次进度 {beijing(event.next_progress_due)} 前报送）"
    if isinstance(event, SupervisionItem.FeedbackSubmitted):
        return f"{event.month}：{event.content}"
    if isinstance(event, SupervisionItem.DueDateChanged):
        return f"办结期限改为 {beijing(event.due_at, '%Y-%m-%d')}：{event.reason}"
    if isinstance(event, SupervisionItem.CompletionReported):
        return event.summary
    if isinstance(event, SupervisionItem.Reopened):
        return event.reason
    return getattr(event, "note", "") or ""


def item_timeline(events: list, rules: Rules) -> list[Entry]:
    return entries(events, ITEM_EVENT_NAMES, describe_item_event, rules)
