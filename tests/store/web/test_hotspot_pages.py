"""The supervisor's 热点与集中诉求 page: the planted burst water main shows as one cluster of eight
callers, and one click merges it into its first case; another registers it for supervision."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hotline.domain.case import MERGED
from hotline.infra.demo import DemoLoader
from hotline.infra.demo.hotspots import plant_water_main


@pytest.fixture
def planted(web_services):
    DemoLoader(web_services.app, seed=3).load(80)
    now = web_services.clock.now()
    tickets = plant_water_main(web_services.app, now - timedelta(hours=3))
    web_services.app.clock.set(now)
    return web_services, tickets


def test_a_cluster_is_shown_and_merged_in_one_step(planted, signed_in):
    services, water = planted
    supervisor = signed_in("supervisor")
    page = supervisor.get("/supervisor/hotspots").text
    assert f'id="cluster-{water[0]}"' in page and "8 名来电人" in page
    assert "爆裂" in page  # a rising word, and the cluster's key word
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    done = supervisor.client.post(f"/supervisor/clusters/{water[0]}/merge", data={"csrf_token": token})
    assert done.status_code == 302
    assert "已将 7 件工单并入" in supervisor.get("/supervisor/hotspots").text
    statuses = {ticket: services.app.get_case(ticket).status for ticket in water}
    assert statuses[water[0]] != MERGED and all(statuses[t] == MERGED for t in water[1:])


def test_a_cluster_is_escalated_as_a_supervision_item(planted, signed_in):
    services, water = planted
    supervisor = signed_in("supervisor")
    page = supervisor.get("/supervisor/hotspots").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    due = (services.clock.now() + timedelta(days=5)).date().isoformat()
    data = {"csrf_token": token, "escalate-lead_department": "SWJ", "escalate-due": due}
    supervisor.client.post(f"/supervisor/clusters/{water[0]}/escalate", data=data)
    services.read_models.catch_up()
    item = services.read_models.ledger_item(f"集中诉求-{water[0]}")
    assert item is not None and item.lead_department == "SWJ" and water[-1] in item.content
    refused = supervisor.client.post(f"/supervisor/clusters/{water[0]}/escalate", data={"csrf_token": token})
    assert refused.status_code == 302
    assert "请选择牵头单位" in supervisor.get("/supervisor/hotspots").text


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"escalate-lead_department": "NOPE", "escalate-due": "2026-99-99"},
        {"escalate-lead_department": "SWJ", "escalate-due": "明天"},
        {"escalate-lead_department": "<script>" * 50, "escalate-due": "\x00"},
    ],
)
def test_the_cluster_forms_refuse_nonsense_with_a_message(planted, signed_in, data):
    services, water = planted
    supervisor = signed_in("supervisor")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', supervisor.get("/supervisor/hotspots").text).group(1)
    for key in (water[0], "no-such-cluster", "../../etc"):
        for action in ("escalate", "merge"):
            answer = supervisor.client.post(f"/supervisor/clusters/{key}/{action}", data={"csrf_token": token, **data})
            assert answer.status_code in (302, 404), (key, action, answer.status_code)
    services.read_models.catch_up()
    assert services.read_models.ledger_item(f"集中诉求-{water[0]}") is None  # nothing registered from nonsense
