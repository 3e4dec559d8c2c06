"""Messages out: channel adapters and the notifier, built from the configuration."""

from __future__ import annotations

from hotline.domain.notifications import EMAIL, SMS
from hotline.infra.config import Config
from hotline.infra.notify.channels import Channel, ChannelError, FileSink, HttpSmsGateway, Outgoing, SmtpMail
from hotline.infra.notify.notifier import Notifier, Round


def channels_for(config: Config) -> dict[str, Channel]:
    """The configured gateway for each channel; without one, the outbox folder."""
    sink = FileSink(config.outbox())
    sms: Channel = sink
    if config.sms_url:
        sms = (
            HttpSmsGateway(config.sms_url, config.sms_token, config.sms_body)
            if config.sms_body
            else HttpSmsGateway(config.sms_url, config.sms_token)
        )
    email: Channel = sink
    if config.smtp_host:
        email = SmtpMail(
            config.smtp_host,
            config.smtp_port,
            config.smtp_from,
            config.smtp_user,
            config.smtp_password,
            config.smtp_security,
        )
    return {SMS: sms, EMAIL: email}


def describe_channels(config: Config) -> str:
    sms = f"短信网关 {config.sms_url}" if config.sms_url else f"短信写入 {config.outbox() / 'sms'}"
    email = (
        f"邮件服务器 {config.smtp_host}:{config.smtp_port}"
        if config.smtp_host
        else f"邮件写入 {config.outbox() / 'email'}"
    )
    return f"{sms}；{email}"


__all__ = [
    "Channel",
    "ChannelError",
    "FileSink",
    "HttpSmsGateway",
    "Notifier",
    "Outgoing",
    "Round",
    "SmtpMail",
    "channels_for",
    "describe_channels",
]
