"""The PyPI Open311 client ``georeport`` against a live server, in both formats: it works unchanged."""

from __future__ import annotations

import json
import re

import pytest
from georeport import GeoReport

from tests.conftest import OPERATOR_ACTOR, department
from tests.store.open311.conftest import http

W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def file_request(root, key, **form):
    status, _, body = http("POST", f"{root}/requests.json", {"api_key": key, **form})
    assert status == 200, body
    return json.loads(body)[0]["service_request_id"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_and_definitions(live_root, fmt):
    client = GeoReport(live_root, output_format=fmt)
    services = client.get_service_list()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["noise"]["service_name"] == "噪声扰民" and by_code["noise"]["group"] == "生态环境"
    assert str(by_code["noise"]["metadata"]).lower() == "true"
    assert str(by_code["other"]["metadata"]).lower() == "false"
    assert by_code["noise"]["type"] == "realtime"

    definition = client.get_service_definition("road_damage")
    assert definition["service_code"] == "road_damage"
    attributes = definition["attributes"]
    attribute = attributes[0] if fmt == "json" else attributes["attribute"][0]
    assert attribute["code"] == "damage_type" and attribute["datatype"] == "singlevaluelist"
    values = attribute["values"] if fmt == "json" else attribute["values"]["value"]
    assert {"key": "pothole", "name": "路面坑洼"} in values


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_follow_requests_through_their_life(live_root, api_key, services, fmt):
    client = GeoReport(live_root, output_format=fmt)
    routed = file_request(
        live_root,
        api_key,
        service_code="road_damage",
        lat="30.25",
        long="120.16",
        description="井盖缺失",
        **{"attribute[damage_type]": "manhole"},
    )
    manual = file_request(
        live_root,
        api_key,
        service_code="other",
        address_string="中山路 8 号",
        first_name="芳",
        last_name="李",
        phone="13700001111",
    )

    one = client.get_service_request(routed)
    assert one["service_request_id"] == routed and one["status"] == "open"
    assert one["agency_responsible"] == "市交通运输局" and one["service_name"] == "道路破损"
    assert all(W3C.match(one[k]) for k in ("requested_datetime", "updated_datetime", "expected_datetime"))

    # The department answers; the hotline calls back and closes the case.
    jtj = department("JTJ")
    services.app.sign(routed, jtj)
    services.app.reply(routed, jtj, "已补装井盖", resolved=True)
    services.app.record_callback(
        routed, OPERATOR_ACTOR, reached=True, satisfaction="satisfied", resolved=True, contacted_first=True
    )
    services.app.close_case(routed, OPERATOR_ACTOR)
    closed = client.get_service_request(routed)
    assert closed["status"] == "closed" and closed["status_notes"] == "已补装井盖"

    everything = client.get_service_requests()
    if fmt == "xml":
        everything = everything if isinstance(everything, list) else [everything]
    assert {r["service_request_id"] for r in everything} == {routed, manual}
    assert "李芳" not in json.dumps(everything, ensure_ascii=False)
    assert "13700001111" not in json.dumps(everything, ensure_ascii=False)

    as_list = lambda found: found if isinstance(found, list) else [found]  # noqa: E731 - xmltodict's one-or-many
    only_open = as_list(client.get_service_requests(status="open"))
    assert [r["service_request_id"] for r in only_open] == [manual]
    only_closed = as_list(client.get_service_requests(status="closed", service_code="road_damage,noise"))
    assert [r["service_request_id"] for r in only_closed] == [routed]
    by_id = as_list(client.get_service_requests(service_request_id=f"{manual},20000101-000001", status="closed"))
    assert [r["service_request_id"] for r in by_id] == [manual]  # ids override the other filters
    if fmt == "json":  # the client cannot read an empty XML list (it indexes into None)
        assert client.get_service_requests(start_date="2001-01-01T00:00:00Z", end_date="2001-02-01T00:00:00Z") == []


def test_date_filters_are_checked(live_root):
    for query, message in (
        ("start_date=yesterday", "start_date 必须是 W3C"),
        ("start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z", "不能超过 90 天"),
        ("start_date=2025-02-01T00:00:00Z&end_date=2025-01-01T00:00:00Z", "不能早于"),
        ("status=pending", "status 只能是"),
    ):
        status, _, body = http("GET", f"{live_root}/requests.json?{query}")
        assert status == 400 and message in json.loads(body)[0]["description"]
