"""A case as GeoReport v2 presents a service request. Caller name, phone and e-mail are never
part of it: the view below has no field for them, so no response can carry them. What an anonymous
reader gets is narrower still (rules/privacy.toml, ``public=True``): the description and the reply
scrubbed of numbers, e-mails and names, the address coarsened, the coordinates rounded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.domain.case import FINISHED, STATUS_NAMES, UNCLASSIFIED, Case
from hotline.domain.catalogue import DISPATCH_CENTRE
from hotline.domain.privacy import scrub
from hotline.domain.rules import Rules
from hotline.web.open311.formats import w3c


@dataclass(frozen=True)
class RequestView:
    ticket_no: str
    status: str
    department: str | None
    service_code: str
    description: str
    address: str
    lat: float | None
    long: float | None
    opened_at: datetime
    updated_at: datetime | None
    reply_by: datetime | None
    reply_result: str
    category: str = ""
    district: str = ""
    public_description: str = ""
    public_reply: str = ""
    call_id: str = ""
    confidential: bool = False
    migrated_from: str = ""  # 迁移数据: the previous system's 工单编号

    @classmethod
    def from_case(cls, case: Case) -> RequestView:
        return cls(
            ticket_no=case.ticket_no,
            status=case.status,
            department=case.department,
            service_code=case.service_code,
            description=case.description,
            address=case.address,
            lat=case.lat,
            long=case.long,
            opened_at=case.created_on,
            updated_at=case.modified_on,
            reply_by=case.reply_by,
            reply_result=case.reply_result or case.answer,
            category=case.category,
            district=case.district or "",
            public_description=scrub(case.description, (case.caller_name,)),
            public_reply=scrub(case.reply_result or case.answer, (case.caller_name,)),
            call_id=case.call_id or "",
            confidential=case.confidential,
            migrated_from=case.migrated_from or "",
        )

    @classmethod
    def from_row(cls, row: Any) -> RequestView:
        """From the case index read model's row."""
        return cls(
            ticket_no=row.ticket_no,
            status=row.status,
            department=row.department,
            service_code=row.service_code,
            description=row.description,
            address=row.address or "",
            lat=row.lat,
            long=row.long,
            opened_at=row.opened_at,
            updated_at=row.updated_at,
            reply_by=row.reply_by,
            reply_result=row.reply_result or "",
            category=row.category or "",
            district=row.district or "",
            # Rows written before the column was added: the scrubber without the caller's name.
            public_description=row.public_description or scrub(row.description or ""),
            public_reply=row.public_reply or scrub(row.reply_result or ""),
            call_id=row.call_id or "",
            confidential=bool(row.confidential),
            migrated_from=row.migrated_from or "",
        )

    @property
    def is_closed(self) -> bool:
        return self.status in FINISHED


def agency(view: RequestView, rules: Rules) -> str:
    return rules.department_name(view.department or DISPATCH_CENTRE)


def service_notice(view: RequestView, rules: Rules) -> str:
    return migration_notice(view) + _progress_notice(view, rules)


def migration_notice(view: RequestView) -> str:
    """迁移数据 says so on every request it is shown in (docs/import.md)."""
    return f"【迁移数据】自原 12345 系统导入，原工单编号 {view.migrated_from}。" if view.migrated_from else ""


def _progress_notice(view: RequestView, rules: Rules) -> str:
    if view.is_closed:
        return f"工单 {view.ticket_no} {STATUS_NAMES.get(view.status, '')}。"
    if view.status == UNCLASSIFIED:
        return f"工单 {view.ticket_no} 已受理（待分类）：所报服务或类别不在目录中，由 12345 热线派单中心分类后派单。"
    if not view.department or view.department == DISPATCH_CENTRE:
        return f"工单 {view.ticket_no} 已受理，正由 12345 热线派单中心确定承办单位。"
    deadline = f"，答复期限 {w3c(view.reply_by)}" if view.reply_by else ""
    return f"工单 {view.ticket_no} 已转{agency(view, rules)}办理{deadline}。"


def as_request(view: RequestView, rules: Rules, public: bool = True) -> dict[str, object]:
    """The request as GeoReport shows it; ``public``: as rules/privacy.toml lets anyone see it."""
    status_name = STATUS_NAMES.get(view.status, view.status)
    policy = rules.privacy
    if public:
        description, notes = view.public_description, view.public_reply or status_name
        address, lat, long = (
            policy.public_address(view.address, view.district),
            policy.public_coordinate(view.lat),
            policy.public_coordinate(view.long),
        )
    else:
        description, notes = view.description, view.reply_result or status_name
        address, lat, long = view.address, view.lat, view.long
    return {
        "service_request_id": view.ticket_no,
        "status": "closed" if view.is_closed else "open",
        "status_notes": notes,
        "service_name": rules.service_name(view.service_code),
        "service_code": view.service_code,
        "description": description,
        "agency_responsible": agency(view, rules),
        "service_notice": service_notice(view, rules),
        "requested_datetime": w3c(view.opened_at),
        "updated_datetime": w3c(view.updated_at or view.opened_at),
        "expected_datetime": w3c(view.reply_by),
        "address": address or None,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": long,
        "media_url": None,
    }
