"""Where messages go: an HTTP SMS gateway, SMTP e-mail, or files under var/outbox/ (the default).

Every channel receives the message's idempotency key with it. The HTTP gateway gets it as the
``Idempotency-Key`` header and in the body (``{key}``), so a gateway that keeps keys accepts a
repeat of a message it already took as a duplicate rather than a new message; SMTP carries it in
the ``Message-ID``; the file sink names the file after it and never writes a key twice.
"""

from __future__ import annotations

import json
import os
import smtplib
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

from hotline.domain.notifications import EMAIL, SMS


class ChannelError(Exception):
    """The channel did not take the message; the notifier retries it later."""


@dataclass(frozen=True)
class Outgoing:
    key: str
    channel: str
    address: str
    subject: str
    body: str


class Channel(Protocol):
    def send(self, message: Outgoing) -> str:
        """Deliver ``message``; returns the channel's receipt, raises ChannelError."""
        ...


class FileSink:
    """One file per message: ``<directory>/sms/<key>.txt`` or ``<directory>/email/<key>.eml``."""

    def __init__(self, directory: Path):
        self.directory = directory

    def path_for(self, message: Outgoing) -> Path:
        folder, suffix = ("email", ".eml") if message.channel == EMAIL else ("sms", ".txt")
        return self.directory / folder / f"{message.key}{suffix}"

    def send(self, message: Outgoing) -> str:
        path = self.path_for(message)
        if path.exists():
            return f"file:{path.name}（已存在）"
        content = (
            _email(message).as_string()
            if message.channel == EMAIL
            else f"收件人：{message.address}\n幂等键：{message.key}\n\n{message.body}\n"
        )
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # messages hold phones and names
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".sending-")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(content)
            try:
                os.link(temporary, path)  # fails if another notifier wrote it meanwhile: one file per key
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
        except OSError as error:
            raise ChannelError(f"写入发件箱失败：{error}") from None
        return f"file:{path.name}"


@dataclass(frozen=True)
class HttpSmsGateway:
    """POST one JSON body per message; ``body_template`` is JSON with the placeholders ``{to}``,
    ``{text}`` and ``{key}`` (filled JSON-escaped). A 2xx answer, or 409 (a key it already has), is
    accepted; anything else is a failure to retry."""

    url: str
    token: str = ""
    body_template: str = '{"to": "{to}", "text": "{text}", "id": "{key}"}'
    timeout: float = 10.0

    def body(self, message: Outgoing) -> bytes:
        values = {
            name: json.dumps(value, ensure_ascii=False)[1:-1]
            for name, value in (("to", message.address), ("text", message.body), ("key", message.key))
        }
        text = self.body_template
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return text.encode("utf-8")

    def send(self, message: Outgoing) -> str:
        if message.channel != SMS:
            raise ChannelError("短信网关只能发送短信")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=self.body(message), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read(2000).decode("utf-8", "replace")
                return f"HTTP {response.status} {answer}".strip()
        except urllib.error.HTTPError as error:
            if error.code == 409:
                return "HTTP 409 重复（网关已收到该幂等键）"
            raise ChannelError(f"短信网关返回 HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            raise ChannelError(f"无法连接短信网关：{getattr(error, 'reason', error)}") from None


@dataclass(frozen=True)
class SmtpMail:
    host: str
    port: int = 25
    sender: str = "12345-hotline@localhost"
    user: str = ""
    password: str = ""
    security: str = "none"  # none, starttls, ssl
    timeout: float = 15.0

    def send(self, message: Outgoing) -> str:
        if message.channel != EMAIL:
            raise ChannelError("邮件通道只能发送电子邮件")
        mail = _email(message, self.sender)
        try:
            connect = smtplib.SMTP_SSL if self.security == "ssl" else smtplib.SMTP
            with connect(self.host, self.port, timeout=self.timeout) as smtp:
                if self.security == "starttls":
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                refused = smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as error:
            raise ChannelError(f"邮件发送失败：{error}") from None
        if refused:
            raise ChannelError(f"邮件服务器拒收：{', '.join(refused)}")
        return f"SMTP {self.host}:{self.port} 已接收"


def _email(message: Outgoing, sender: str = "12345-hotline@localhost") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.address
    mail["Subject"] = message.subject or "12345 热线通知"
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = f"<{message.key}@hotline.12345>"
    mail.set_content(message.body)
    return mail
