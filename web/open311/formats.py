"""The two formats of GeoReport v2. JSON mirrors the XML: the root element becomes an array (or an
object for single resources) and repeated child elements become arrays. XML carries no namespace."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from flask import Response

from hotline.domain.workdays import as_china_time

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}

# The element name of one item in each list, as the spec's examples name them.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}

# Characters XML 1.0 cannot carry at all; text from other channels is not guaranteed free of them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def w3c(moment: datetime | None) -> str | None:
    """W3C date-time with the +08:00 offset the city works in."""
    return as_china_time(moment).isoformat(timespec="seconds") if moment else None


def render(fmt: str, root: str, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        body = to_xml(root, data)
    return Response(body, status=status, content_type=FORMATS.get(fmt, FORMATS["xml"]), headers=headers)


def to_xml(root: str, data: Any) -> str:
    element = ElementTree.Element(root)
    _fill(element, root, data)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(element, encoding="unicode")


def _fill(element: ElementTree.Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        item_name = ITEM_NAMES.get(name, "item")
        for item in value:
            _fill(ElementTree.SubElement(element, item_name), item_name, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), key, item)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = _NOT_XML.sub("", str(value))
