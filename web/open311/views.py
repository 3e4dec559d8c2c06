"""The GeoReport v2 resources. Every answer, errors included, is JSON or XML as the URL asks."""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import Response, current_app, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from hotline.application.failures import RETRY_AFTER_SECONDS, is_transient, retrying
from hotline.domain.actors import SYSTEM, Actor
from hotline.domain.api_keys import SCOPE_ALL, ApiKey, scope_department
from hotline.domain.case import FINISHED, Call
from hotline.domain.catalogue import CATEGORIES, code_for
from hotline.domain.errors import CaseNotFound, DomainError
from hotline.domain.formats import is_ticket_no
from hotline.domain.text import MAX_TEXT
from hotline.domain.workdays import as_china_time
from hotline.web.open311.blueprint import PREFIX, Open311State, bp
from hotline.web.open311.errors import Open311Error, bad_request, forbidden, not_found
from hotline.web.open311.formats import FORMATS, render
from hotline.web.open311.openapi import openapi_document
from hotline.web.open311.representation import RequestView, as_request, service_notice
from hotline.web.services import services

log = logging.getLogger(__name__)

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_DAYS = 90
MAX_RESULTS = 1000
MAX_FIELD = 500  # any single form value other than the description
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _state() -> Open311State:
    return current_app.extensions["open311"]


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise not_found(f"不支持的格式 .{fmt[:20]}，请用 .xml 或 .json")
    return fmt


def _requested_format() -> str:
    """The format to answer errors in: the URL's suffix when it names one, else XML (required)."""
    path = request.path.rstrip("/")
    return "json" if path.endswith(".json") else "xml"


# ---- errors: the spec's list, never a 500 ----------------------------------------------------


@bp.errorhandler(Open311Error)
def _open311_error(error: Open311Error) -> Response:
    return render(_requested_format(), "errors", error.as_list(), status=error.code, headers=error.headers)


# Code-specific handlers too: the web UI's HTML pages for these codes would win otherwise.
@bp.errorhandler(400)
@bp.errorhandler(404)
@bp.errorhandler(405)
@bp.errorhandler(413)
@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    messages = {
        404: "资源不存在",
        405: "不支持该请求方法",
        413: "提交的内容过大",
    }
    code = error.code or 400
    description = messages.get(code, "请求格式不正确")
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return _open311_error(Open311Error(code if code < 500 else 400, description, headers))


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    if is_transient(error):  # still failing after the retries: the server's fault, never a 4xx
        log.warning("Open311 503 after retries: %s %s: %r", request.method, request.path, error)
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return _open311_error(Open311Error(503, f"系统繁忙，请在 {RETRY_AFTER_SECONDS} 秒后重新提交", retry))
    # The spec's "general service error" (400); the trace goes to the log for the operators.
    log.exception("Open311 request failed: %s %s", request.method, request.path)
    return _open311_error(Open311Error(400, "一般服务错误，请稍后重试或联系 12345 热线"))


# ---- discovery and services --------------------------------------------------------------------


@bp.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    fmt = _format(fmt)
    endpoint = {
        "specification": SPEC_URL,
        "url": request.host_url.rstrip("/") + PREFIX,
        "changeset": "2025-10-01T00:00:00+08:00",
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    data = {
        "changeset": "2025-10-01T00:00:00+08:00",
        "contact": "12345 政务服务便民热线：拨打 12345",
        "key_service": "接口密钥（api_key）由热线管理员签发，请联系 12345 热线办公室",
        "endpoints": [endpoint],
    }
    return render(fmt, "discovery", data)


@bp.get("/services.<fmt>")
def service_list(fmt: str) -> Response:
    fmt = _format(fmt)
    catalogue = services().rules.open311
    data = [
        {
            "service_code": service.code,
            "service_name": service.name,
            "description": service.description,
            "metadata": catalogue.has_metadata(service.code),
            "type": "realtime",
            "keywords": ", ".join(service.keywords),
            "group": service.major,
        }
        for service in services().rules.services.values()
    ]
    return render(fmt, "services", data)


@bp.get("/services/<service_code>.<fmt>")
def service_definition(service_code: str, fmt: str) -> Response:
    fmt = _format(fmt)
    attributes = services().rules.open311.attributes.get(service_code)
    if service_code not in services().rules.services:
        raise not_found(f"服务代码 {service_code[:64]} 不存在")
    if not attributes:
        raise not_found(f"服务 {service_code} 没有附加字段（metadata 为 false），无需服务定义")
    data = {"service_code": service_code, "attributes": [a.as_spec() for a in attributes]}
    return render(fmt, "service_definition", data)


# ---- filing a request ------------------------------------------------------------------------


def _field(name: str, limit: int = MAX_FIELD) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > limit:
        raise bad_request(f"{name} 不能超过 {limit} 个字")
    return value


def _coordinate(name: str, bound: float) -> float | None:
    text = _field(name, 50)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not -bound <= value <= bound:
        raise bad_request(f"{name} 必须是 -{bound:g} 到 {bound:g} 之间的数字（WGS84）")
    return value


def _flag(name: str) -> bool | None:
    text = _field(name, 10).lower()
    if not text:
        return None
    if text in ("true", "1", "yes", "是"):
        return True
    if text in ("false", "0", "no", "否"):
        return False
    raise bad_request(f"{name} 只能是 true 或 false")


def _caller_name() -> str:
    first, last = _field("first_name", 50), _field("last_name", 50)
    if _CJK.search(first + last):
        return f"{last}{first}"  # Chinese names put the family name first
    return " ".join(part for part in (first, last) if part)


def _attributes() -> dict[str, list[str]]:
    submitted: dict[str, list[str]] = {}
    for key in request.form:
        match = _ATTRIBUTE.match(key)
        if match:
            values = request.form.getlist(key)
            if any(len(value) > MAX_FIELD for value in values):
                raise bad_request(f"{key} 不能超过 {MAX_FIELD} 个字")
            submitted.setdefault(match.group(1), []).extend(values)
    return submitted


API_KEY_HEADER = "X-API-Key"


@bp.before_request
def _no_key_in_the_url() -> None:
    # A URL is written into access logs, proxies' records and browser history: a key there is spent.
    if "api_key" in request.args:
        raise bad_request(
            f"api_key 不能放在网址（查询字符串）中，请放在请求体或 {API_KEY_HEADER} 请求头中；"
            "此密钥已可能泄露，请联系热线更换"
        )


def _reader() -> ApiKey | None:
    """The key a read comes with (X-API-Key), or None: an anonymous reader, who sees the public view."""
    key = request.headers.get(API_KEY_HEADER)
    if key is None:
        return None
    api_key = services().app.authenticate_api_key(key)
    if api_key is None:
        raise forbidden()
    return api_key


def _readable(reader: ApiKey | None) -> dict[str, object]:
    """The case-index filters of what ``reader`` may read (rules/privacy.toml for the public)."""
    if reader is None:
        policy = services().rules.privacy
        return {
            "categories": sorted(policy.public_categories),
            "excluded_services": sorted(policy.withheld_services),
            "confidential": False,  # a 保密 caller's case is never public
        }
    if reader.scope == SCOPE_ALL:
        return {}
    department = scope_department(reader.scope)
    if department is not None:
        return {"department": department}
    return {"call_id_prefix": f"open311:{reader.id}:"}


def _may_read(reader: ApiKey | None, view: RequestView) -> bool:
    if reader is None:
        return not view.confidential and services().rules.privacy.is_public(view.category, view.service_code)
    if reader.scope == SCOPE_ALL:
        return True
    department = scope_department(reader.scope)
    if department is not None:
        return view.department == department
    return view.call_id.startswith(f"open311:{reader.id}:")


def _authenticate():
    key = request.form.get("api_key") or request.headers.get(API_KEY_HEADER)
    api_key = services().app.authenticate_api_key(key)
    if api_key is None:
        raise forbidden()
    wait = _state().limiter.take(str(api_key.id))
    if wait:
        raise Open311Error(429, f"提交过于频繁，请 {math.ceil(wait)} 秒后重试", {"Retry-After": str(math.ceil(wait))})
    return api_key


@bp.post("/requests.<fmt>")
def create_request(fmt: str) -> Response:
    fmt = _format(fmt)
    api_key = _authenticate()
    hotline = services()
    service_code = _field("service_code", 64)
    if not service_code:
        raise bad_request("缺少 service_code")
    # A code the catalogue lacks is no 400: the request is created and waits, 待分类, for the
    # dispatch centre to classify it (the code kept as sent).
    service = hotline.rules.services.get(service_code)
    description = request.form.get("description", "").strip()
    if len(description) > MAX_TEXT:
        raise bad_request(f"description 不能超过 {MAX_TEXT} 个字")
    lat, long = _coordinate("lat", 90), _coordinate("long", 180)
    if (lat is None) != (long is None):
        raise bad_request("lat 和 long 必须同时提供")
    address, address_id = _field("address_string", 200), _field("address_id", 100)
    if lat is None and not address and not address_id:
        raise bad_request("须提供位置：lat 和 long，或 address_string，或 address_id")

    catalogue = services().rules.open311
    submitted = _attributes()
    details = []
    try:
        requested = "".join(submitted.pop("category", [])).strip()
        # An unknown category is kept as sent, like an unknown service: the case opens 待分类.
        category = requested if requested and code_for(CATEGORIES, requested) is None else ""
        category = category or catalogue.category_for(service_code, requested)
        for attribute in catalogue.attributes.get(service_code, ()):
            value = attribute.check(submitted.get(attribute.code, []))
            if value:
                details.append(f"{attribute.description}：{value}")
    except DomainError as error:
        raise bad_request(str(error)) from None
    media_url = _field("media_url")
    if media_url:
        details.append(f"图片链接：{media_url}")
    if address_id and not address:
        address = f"地址编号 {address_id}"
    named = service.name if service else f"服务代码 {service_code} 的"
    text = description or f"（通过 Open311 接口提交的{named}诉求，未填写描述）"
    if details:
        text += "\n\n【附加信息】\n" + "\n".join(details)
    if len(text) > MAX_TEXT:
        raise bad_request(f"description 与附加信息合计不能超过 {MAX_TEXT} 个字")

    idempotency = request.headers.get("Idempotency-Key", "").strip()
    if len(idempotency) > 80:
        raise bad_request("Idempotency-Key 不能超过 80 个字符")
    actor = Actor(id=f"open311:{api_key.name}", role=SYSTEM)
    try:
        call = Call(
            channel="open311",
            category=category,
            service_code=service_code,
            description=text,
            caller_name=_caller_name(),
            caller_phone=_field("phone", 20),
            address=address,
            lat=lat,
            long=long,
            call_id=f"open311:{api_key.id}:{idempotency or uuid.uuid4()}",
            confidential=_flag("confidential"),
        )
        # Routed by the rules in the same save that opens it; no rule: the dispatch centre's queue.
        # A lost race or a store blip is tried again (the call id makes a retry harmless).
        opening = retrying(lambda: hotline.app.open_case(call, actor, route=True))
    except DomainError as error:
        raise bad_request(str(error)) from None
    view = RequestView.from_case(hotline.app.get_case(opening.ticket_no))
    data = [
        {
            "service_request_id": opening.ticket_no,
            "service_notice": service_notice(view, hotline.rules),
            "account_id": None,
        }
    ]
    location = url_for("open311.single_request", service_request_id=opening.ticket_no, fmt=fmt)
    return render(fmt, "service_requests", data, headers={"Location": location})


# ---- following requests ----------------------------------------------------------------------


def _moment(name: str) -> datetime | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return as_china_time(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))
    except (ValueError, OverflowError):
        raise bad_request(f"{name} 必须是 W3C 日期时间，如 2025-10-01T00:00:00+08:00") from None


def _comma_list(name: str, limit: int = MAX_RESULTS) -> list[str]:
    values = list(dict.fromkeys(v.strip() for v in request.args.get(name, "").split(",") if v.strip()))
    if len(values) > limit:
        raise bad_request(f"{name} 一次最多 {limit} 个")
    return values


def _statuses() -> set[str]:
    statuses = set(_comma_list("status"))
    unknown = statuses - {"open", "closed"}
    if unknown:
        raise bad_request("status 只能是 open、closed（可用逗号分隔）")
    return statuses


def _date_range() -> tuple[datetime, datetime]:
    start, end = _moment("start_date"), _moment("end_date")
    span = timedelta(days=DEFAULT_DAYS)
    if start and end:
        if end < start:
            raise bad_request("end_date 不能早于 start_date")
        if end - start > span:
            raise bad_request(f"start_date 与 end_date 相隔不能超过 {DEFAULT_DAYS} 天")
        return start, end
    if start:
        return start, start + span
    if end:
        return end - span, end
    end = services().clock.now()
    return end - span, end


@bp.get("/requests.<fmt>")
def request_list(fmt: str) -> Response:
    fmt = _format(fmt)
    ids = _comma_list("service_request_id")
    codes = _comma_list("service_code")
    statuses = _statuses()
    start, end = _date_range()
    reader = _reader()
    rows = _search(ids, codes, statuses, start, end, _readable(reader))
    rules = services().rules
    public = reader is None
    return render(fmt, "service_requests", [as_request(RequestView.from_row(row), rules, public) for row in rows])


def _search(
    ids: list[str], codes: list[str], statuses: set[str], start: datetime, end: datetime, readable: dict[str, Any]
) -> list:
    """Rows of the case index read model the reader may read, newest first, at most MAX_RESULTS."""
    models = services().read_models
    models.catch_up()
    if ids:
        rows, _ = models.cases.search(ticket_nos=ids, limit=MAX_RESULTS, **readable)
        return rows
    rows, _ = models.cases.search(
        **readable,
        service_codes=codes or None,
        opened_from=start,
        opened_to=end,
        status=list(FINISHED) if statuses == {"closed"} else None,
        open_only=statuses == {"open"},
        limit=MAX_RESULTS,
    )
    return rows


@bp.get("/requests/<service_request_id>.<fmt>")
def single_request(service_request_id: str, fmt: str) -> Response:
    fmt = _format(fmt)
    if not is_ticket_no(service_request_id):
        raise not_found(f"服务请求 {service_request_id[:64]} 不存在")
    reader = _reader()
    try:
        view = RequestView.from_case(services().app.get_case(service_request_id))
    except CaseNotFound:
        view = None
    if view is None or not _may_read(reader, view):  # the same answer: a number's existence is not told
        raise not_found(f"服务请求 {service_request_id} 不存在")
    return render(fmt, "service_requests", [as_request(view, services().rules, reader is None)])


# ---- the description and everything else ------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    return current_app.response_class(
        json.dumps(
            openapi_document(request.host_url.rstrip("/") + PREFIX, list(services().rules.services)),
            ensure_ascii=False,
        ),
        content_type=FORMATS["json"],
    )


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    """Anything under the prefix no route serves: 405 if the path exists for another method."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST"):
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "open311.unknown":
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound()
