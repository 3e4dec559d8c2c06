"""The OpenAPI 3 description of the API, served at /open311/v2/openapi.json. Property-based tests
generate requests from it, so it describes every parameter the server reads."""

from __future__ import annotations

from typing import Any

FORMAT = {
    "name": "format",
    "in": "path",
    "required": True,
    "description": "响应格式",
    "schema": {"type": "string", "enum": ["json", "xml"]},
}
JURISDICTION = {
    "name": "jurisdiction_id",
    "in": "query",
    "required": False,
    "description": "本接口只服务一个辖区，可省略",
    "schema": {"type": "string"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answers(schema: dict[str, Any], *errors: int) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "成功",
            "content": {"application/json": {"schema": schema}, "text/xml": {"schema": {"type": "string"}}},
        }
    }
    descriptions = {
        400: "参数错误",
        403: "api_key 缺失、无效或已吊销",
        404: "资源不存在",
        413: "提交内容过大",
        429: "提交过于频繁",
    }
    for code in errors:
        responses[str(code)] = {
            "description": descriptions[code],
            "content": {"application/json": {"schema": _ref("Errors")}, "text/xml": {"schema": {"type": "string"}}},
        }
    return responses


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


NULLABLE_TEXT = {"type": "string", "nullable": True}
NULLABLE_NUMBER = {"type": "number", "nullable": True}

SCHEMAS: dict[str, Any] = {
    "Errors": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["code", "description"],
            "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        },
    },
    "Service": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": {"type": "string"},
            "service_name": {"type": "string"},
            "description": {"type": "string"},
            "metadata": {"type": "boolean"},
            "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
            "keywords": {"type": "string"},
            "group": {"type": "string"},
        },
    },
    "ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {
            "service_code": {"type": "string"},
            "attributes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["variable", "code", "datatype", "required", "order", "description"],
                    "properties": {
                        "variable": {"type": "boolean"},
                        "code": {"type": "string"},
                        "datatype": {
                            "type": "string",
                            "enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"],
                        },
                        "required": {"type": "boolean"},
                        "datatype_description": NULLABLE_TEXT,
                        "order": {"type": "integer", "minimum": 1},
                        "description": {"type": "string"},
                        "values": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        },
    },
    "Created": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["service_request_id"],
            "properties": {
                "service_request_id": {"type": "string"},
                "service_notice": NULLABLE_TEXT,
                "account_id": NULLABLE_TEXT,
            },
        },
    },
    "ServiceRequest": {
        "type": "object",
        "required": ["service_request_id", "status", "service_code", "requested_datetime"],
        "properties": {
            "service_request_id": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": NULLABLE_TEXT,
            "service_name": {"type": "string"},
            "service_code": {"type": "string"},
            "description": {"type": "string"},
            "agency_responsible": {"type": "string"},
            "service_notice": NULLABLE_TEXT,
            "requested_datetime": {"type": "string", "format": "date-time"},
            "updated_datetime": {"type": "string", "format": "date-time", "nullable": True},
            "expected_datetime": {"type": "string", "format": "date-time", "nullable": True},
            "address": NULLABLE_TEXT,
            "address_id": NULLABLE_TEXT,
            "zipcode": NULLABLE_TEXT,
            "lat": NULLABLE_NUMBER,
            "long": NULLABLE_NUMBER,
            "media_url": NULLABLE_TEXT,
        },
    },
    "ServiceRequests": {"type": "array", "items": _ref("ServiceRequest")},
    "NewRequest": {
        "type": "object",
        "required": ["api_key", "service_code"],
        "properties": {
            "api_key": {"type": "string", "description": "也可放在 X-API-Key 请求头中；不可放在网址中"},
            "jurisdiction_id": {"type": "string"},
            "service_code": {"type": "string"},
            "lat": {"type": "string", "description": "WGS84 纬度"},
            "long": {"type": "string", "description": "WGS84 经度"},
            "address_string": {"type": "string"},
            "address_id": {"type": "string"},
            "email": {"type": "string", "description": "不保存"},
            "device_id": {"type": "string"},
            "account_id": {"type": "string"},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "phone": {"type": "string"},
            "description": {"type": "string", "maxLength": 4000},
            "media_url": {"type": "string"},
            "attribute[category]": {"type": "string", "description": "诉求类别，可省略"},
        },
        "additionalProperties": {"type": "string"},
    },
}


def openapi_document(server_url: str, service_codes: list[str]) -> dict[str, Any]:
    request_id = {
        "name": "service_request_id",
        "in": "path",
        "required": True,
        "description": "工单编号",
        "schema": {"type": "string"},
    }
    service_code = {"name": "service_code", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "12345 热线 Open311 GeoReport v2 接口",
            "version": "2",
            "description": "GeoReport v2：查询服务目录、提交诉求、查询工单进度。格式见 docs/open311.md。",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/discovery.{format}": {
                "get": {
                    "operationId": "discovery",
                    "parameters": [FORMAT],
                    "responses": _answers({"type": "object"}, 404),
                }
            },
            "/services.{format}": {
                "get": {
                    "operationId": "serviceList",
                    "parameters": [FORMAT, JURISDICTION],
                    "responses": _answers({"type": "array", "items": _ref("Service")}, 404),
                }
            },
            "/services/{service_code}.{format}": {
                "get": {
                    "operationId": "serviceDefinition",
                    "parameters": [service_code, FORMAT, JURISDICTION],
                    "responses": _answers(_ref("ServiceDefinition"), 404),
                }
            },
            "/requests.{format}": {
                "get": {
                    "operationId": "serviceRequests",
                    "parameters": [
                        FORMAT,
                        JURISDICTION,
                        _query("service_request_id", "工单编号，逗号分隔；给出时忽略其他条件"),
                        _query("service_code", "服务代码，逗号分隔"),
                        _query("start_date", "受理时间下限（W3C）", format="date-time"),
                        _query("end_date", "受理时间上限（W3C），与 start_date 相隔不超过 90 天", format="date-time"),
                        _query("status", "open、closed，逗号分隔"),
                    ],
                    "responses": _answers(_ref("ServiceRequests"), 400, 404),
                },
                "post": {
                    "operationId": "createServiceRequest",
                    "parameters": [FORMAT],
                    "requestBody": {
                        "required": True,
                        "content": {"application/x-www-form-urlencoded": {"schema": _ref("NewRequest")}},
                    },
                    "responses": _answers(_ref("Created"), 400, 403, 404, 413, 429),
                },
            },
            "/requests/{service_request_id}.{format}": {
                "get": {
                    "operationId": "serviceRequest",
                    "parameters": [request_id, FORMAT, JURISDICTION],
                    "responses": _answers(_ref("ServiceRequests"), 404),
                }
            },
        },
        "components": {"schemas": _with_service_codes(service_codes)},
    }


def _with_service_codes(service_codes: list[str]) -> dict[str, Any]:
    """The schemas, with the POST's service_code listing the codes the city serves today."""
    new_request = dict(SCHEMAS["NewRequest"])
    new_request["properties"] = {**new_request["properties"], "service_code": {"type": "string", "enum": service_codes}}
    return {**SCHEMAS, "NewRequest": new_request}
