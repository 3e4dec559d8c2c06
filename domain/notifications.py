"""Messages out (短信 / 电子邮件), as data: templates and settings in rules/notifications.toml, the
departments' liaisons and heads in rules/contacts.csv.

Each template belongs to one trigger (``TRIGGERS``): the notifications view
(``projections/notifications.py``) plans a message when the trigger's event arrives, at the moment
the trigger says; the notifier sends it when it is due. The texts are the city's, with
placeholders (``PLACEHOLDERS``) filled in when the message is prepared.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from hotline.domain.errors import InvalidInput
from hotline.domain.workdays import CHINA_TZ, as_china_time

CALLER = "caller"
LIAISON = "liaison"
HEAD = "head"
RECIPIENTS = {CALLER: "来电人", LIAISON: "承办单位联络人", HEAD: "承办单位负责人"}

SMS = "sms"
EMAIL = "email"
CHANNELS = {SMS: "短信", EMAIL: "电子邮件"}

RECEIPT = "receipt"
SIGN_REMINDER = "sign_reminder"
SIGN_OVERDUE = "sign_overdue"
URGE = "urge"
YELLOW_CARD = "yellow_card"
RED_CARD = "red_card"
SATISFACTION_REQUEST = "satisfaction_request"
TRIGGERS = {
    RECEIPT: "工单首次派单时",
    SIGN_REMINDER: "签收期限前 sign_reminder_hours 小时（未签收时）",
    SIGN_OVERDUE: "签收期限已过（未签收时）",
    URGE: "每次催办时",
    YELLOW_CARD: "办理期限已过 yellow_card_hours 小时（未答复时）",
    RED_CARD: "办理期限已过 red_card_hours 小时（未答复时）",
    SATISFACTION_REQUEST: "承办单位答复后",
}

PLACEHOLDERS = {
    "ticket_no": "工单编号",
    "service": "服务事项",
    "matter": "诉求摘要",
    "department": "承办单位",
    "sign_by": "签收期限",
    "reply_by": "办理期限",
    "note": "催办意见",
    "overdue_hours": "超期小时数",
}
# What a confidential caller's own messages never carry (the matter's details), and what stands in.
DETAILS = {"service": "您的诉求", "matter": "", "department": "承办单位"}


def is_confidential(case: Any) -> bool:
    """The caller asked for confidentiality (保密). This is the one place the messages ask: the case
    carries the flag as ``confidential`` where intake records it; a case without one is not."""
    return bool(getattr(case, "confidential", False))


@dataclass(frozen=True)
class Template:
    code: str  # one of TRIGGERS
    name: str
    recipient: str  # one of RECIPIENTS
    channels: tuple[str, ...]
    subject: str
    body: str

    def __post_init__(self) -> None:
        if self.code not in TRIGGERS:
            raise InvalidInput(f"未知通知模板代码 {self.code}，应为 {'、'.join(TRIGGERS)} 之一")
        if self.recipient not in RECIPIENTS:
            raise InvalidInput(f"模板 {self.code} 的收件人 {self.recipient} 无效，应为 {'、'.join(RECIPIENTS)} 之一")
        if not self.channels or any(channel not in CHANNELS for channel in self.channels):
            raise InvalidInput(f"模板 {self.code} 的渠道无效，应为 {'、'.join(CHANNELS)} 中的一个或几个")
        if self.recipient == CALLER and self.channels != (SMS,):
            raise InvalidInput(f"模板 {self.code}：来电人只能收短信（工单不记录来电人的邮箱）")
        if not self.name or not self.body.strip():
            raise InvalidInput(f"模板 {self.code} 的名称和正文不能为空")
        for text in (self.subject, self.body):
            for _, name, spec, conversion in string.Formatter().parse(text):
                if name is not None and (name not in PLACEHOLDERS or spec or conversion):
                    usable = "、".join("{" + p + "}" for p in PLACEHOLDERS)
                    raise InvalidInput(f"模板 {self.code} 中的占位符 {{{name}}} 无效，可用：{usable}")

    def render(self, values: dict[str, str], confidential: bool = False) -> tuple[str, str]:
        """(subject, body) with the placeholders filled; a confidential caller's text keeps no details."""
        filled = {name: str(values.get(name, "")) for name in PLACEHOLDERS}
        if confidential and self.recipient == CALLER:
            filled.update(DETAILS)
        return self.subject.format_map(filled), self.body.format_map(filled)


@dataclass(frozen=True)
class QuietHours:
    """No SMS to callers between ``start`` and ``end`` (Beijing time; may span midnight)."""

    start: time | None = None
    end: time | None = None

    def holds(self, moment: datetime) -> bool:
        if self.start is None or self.end is None:
            return False
        now = as_china_time(moment).time()
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """``moment`` itself, or the end of the quiet hours it falls in."""
        if not self.holds(moment) or self.end is None:
            return moment
        local = as_china_time(moment)
        end = datetime.combine(local.date(), self.end, CHINA_TZ)
        return end if end > local else end + timedelta(days=1)

    def __str__(self) -> str:
        if self.start is None or self.end is None:
            return "不限"
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True)
class NotificationSettings:
    sign_reminder_hours: float  # 签收提醒：签收期限前几小时
    yellow_card_hours: float  # 黄牌：办理期限过后几小时
    red_card_hours: float  # 红牌：办理期限过后几小时
    quiet_hours: QuietHours  # 不给来电人发短信的时段
    max_attempts: int  # 发送失败后最多尝试几次
    first_retry_seconds: float  # 第一次重试前等待的秒数，此后每次加倍
    sending_timeout_seconds: float  # 发送中断（进程退出）后多久由其他发送者接手重试
    expire_hours: float  # 到期后超过几小时仍未发出的消息不再发送（过期）

    def __post_init__(self) -> None:
        if not 0 < self.yellow_card_hours < self.red_card_hours:
            raise InvalidInput("黄牌时限必须为正数且小于红牌时限")
        if self.sign_reminder_hours <= 0 or self.expire_hours <= 0:
            raise InvalidInput("签收提醒提前量和过期时限必须为正数")
        if not 1 <= self.max_attempts <= 20 or self.first_retry_seconds <= 0 or self.sending_timeout_seconds <= 0:
            raise InvalidInput("最多尝试次数应在 1 到 20 之间，重试与超时秒数必须为正数")

    def retry_after(self, attempt: int) -> timedelta:
        """How long to wait after failed attempt number ``attempt`` (1, 2, …): doubling each time."""
        return timedelta(seconds=self.first_retry_seconds * 2 ** (attempt - 1))


@dataclass(frozen=True)
class Contact:
    """Who at a department gets the hotline's messages (rules/contacts.csv)."""

    department: str
    liaison: str
    liaison_phone: str
    liaison_email: str
    head: str
    head_phone: str
    head_email: str

    def address(self, recipient: str, channel: str) -> str:
        if recipient == LIAISON:
            return self.liaison_phone if channel == SMS else self.liaison_email
        if recipient == HEAD:
            return self.head_phone if channel == SMS else self.head_email
        return ""

    def name(self, recipient: str) -> str:
        return self.liaison if recipient == LIAISON else self.head if recipient == HEAD else ""


@dataclass(frozen=True)
class SmsReplyRules:
    """来电人回复满意度回访短信 (rules/notifications.toml ``[sms_reply]``): what a reply means."""

    answers: Mapping[str, str]  # the reply as typed (full-width folded, blanks dropped) -> satisfaction code
    window_hours: float  # a reply this long after the request still counts as the caller's evaluation
    signature_tolerance_seconds: float  # the gateway's signed time may differ from ours by this much

    def __post_init__(self) -> None:
        if not self.answers:
            raise InvalidInput("至少要有一种回复内容对应满意度")
        if self.window_hours <= 0 or self.signature_tolerance_seconds <= 0:
            raise InvalidInput("回复计入时限和签名时间误差必须为正数")

    def satisfaction(self, reply: str, sent_at: datetime | None, received_at: datetime) -> str | None:
        """The satisfaction the reply gives, or None: not one of the answers, or after the window."""
        if sent_at is None or received_at - sent_at > timedelta(hours=self.window_hours):
            return None
        return self.answers.get(reply_words(reply))


def reply_words(reply: str) -> str:
    """A reply as the rules list it: ``１`` is ``1``, blanks and a closing full stop do not count."""
    folded = unicodedata.normalize("NFKC", reply or "")
    return "".join(folded.split()).rstrip("。.!！")


@dataclass(frozen=True)
class NotificationRules:
    settings: NotificationSettings
    templates: dict[str, Template]  # by trigger code; a trigger without a template sends nothing
    contacts: dict[str, Contact]  # by department code
    sms_reply: SmsReplyRules

    def template(self, code: str) -> Template | None:
        return self.templates.get(code)


def phone_digits(phone: str) -> str:
    """A phone number as written by anyone (spaces, dashes, +86 or 0086 in front) down to its digits."""
    digits = (phone or "").replace(" ", "").replace("-", "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def is_mobile(phone: str) -> bool:
    """A mainland mobile number (11 digits from 1, perhaps with +86): a number an SMS reaches."""
    digits = phone_digits(phone)
    return len(digits) == 11 and digits.isdigit() and digits.startswith("1")


def masked(address: str) -> str:
    """An address as pages and logs show it: 138****8000, z***@example.cn."""
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    digits = address.replace(" ", "").replace("-", "")
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"
