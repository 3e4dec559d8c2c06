"""API keys: only a hash is stored, revoked keys stop working, the CLI prints a key once."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from hotline.domain.actors import SYSTEM_ACTOR
from hotline.domain.api_keys import ApiKey, hash_key
from hotline.domain.errors import InvalidInput, InvalidTransition, NotPermitted
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from tests.conftest import OPERATOR_ACTOR
from tests.support.cli import hotline as run


def test_issue_authenticate_and_revoke_on_both_stores(services):
    app = services.app
    issued = app.issue_api_key("  区政府小程序  ", SYSTEM_ACTOR)
    other = app.issue_api_key("另一个客户端", SYSTEM_ACTOR)
    assert issued.name == "区政府小程序" and len(issued.key) >= 43
    found = app.authenticate_api_key(issued.key)
    assert found.id == issued.id and found.key_hash == hash_key(issued.key)
    assert not hasattr(found, "key")
    for wrong in (None, "", issued.key[:-1], "x" * 5000):
        assert app.authenticate_api_key(wrong) is None
    app.revoke_api_key(str(issued.id)[:8], SYSTEM_ACTOR)
    assert app.authenticate_api_key(issued.key) is None
    assert app.authenticate_api_key(other.key).name == "另一个客户端"
    assert [(k.name, k.revoked) for k in app.api_keys()] == [("区政府小程序", True), ("另一个客户端", False)]


def test_rules_of_the_aggregate():
    with pytest.raises(NotPermitted):
        ApiKey.issue("客户端", hash_key("k"), OPERATOR_ACTOR)
    with pytest.raises(InvalidInput, match="名称不能为空"):
        ApiKey.issue(" ", hash_key("k"), SYSTEM_ACTOR)
    with pytest.raises(InvalidInput, match="摘要"):
        ApiKey.issue("客户端", "plain-text-key", SYSTEM_ACTOR)
    key = ApiKey.issue("客户端", hash_key("k"), SYSTEM_ACTOR)
    key.revoke(SYSTEM_ACTOR)
    with pytest.raises(InvalidTransition, match="已被吊销"):
        key.revoke(SYSTEM_ACTOR)
    assert [e.actor_id for e in key.collect_events()] == ["system", "system"]


def test_finding_a_key_needs_a_real_prefix(sqlite_services):
    app = sqlite_services.app
    with pytest.raises(InvalidInput, match="至少前 8 位"):
        app.find_api_key("abc")
    with pytest.raises(InvalidInput, match="找不到"):
        app.find_api_key("00000000")


def hotline(*args, data_dir):
    return run("apikey", *args, data_dir=data_dir)


def test_the_cli_prints_the_key_once_and_stores_only_its_hash(tmp_path):
    created = hotline("create", "--name", "市民通 App", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    listed = hotline("list", "--json", data_dir=tmp_path)
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["name"] == "市民通 App" and row["revoked"] is False and key not in listed.stdout
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("hotline.sqlite3*"))
    assert key.encode() not in stored
    services = bootstrap(Config(data_dir=tmp_path))
    try:
        [issued] = services.app.events.get(UUID(row["id"]))
    finally:
        services.close()
    assert issued.key_hash == hash_key(key) and key not in repr(vars(issued))

    revoked = hotline("revoke", row["id"][:8], data_dir=tmp_path)
    assert revoked.returncode == 0 and "已吊销" in revoked.stdout
    again = hotline("revoke", row["id"], data_dir=tmp_path)
    assert again.returncode == 1 and "已被吊销" in again.stderr
    assert "已吊销" in hotline("list", data_dir=tmp_path).stdout


def test_a_key_in_the_url_is_refused_and_one_in_a_header_is_taken(sqlite_services):
    from hotline.web import create_app

    key = sqlite_services.app.issue_api_key("对接方", SYSTEM_ACTOR).key
    client = create_app(sqlite_services, testing=True).test_client()
    form = {"service_code": "garbage", "address_string": "解放路 3 号"}
    refused = client.post(f"/open311/v2/requests.json?api_key={key}", data=form)
    assert refused.status_code == 400
    assert "api_key 不能放在网址" in refused.json[0]["description"]
    assert client.get(f"/open311/v2/requests.json?api_key={key}").status_code == 400  # reads too
    taken = client.post("/open311/v2/requests.json", data=form, headers={"X-API-Key": key})
    assert taken.status_code == 200 and taken.json[0]["service_request_id"]
    assert client.post("/open311/v2/requests.json", data={**form, "api_key": key}).status_code == 200
    assert next(sqlite_services.app.all_cases()).description.startswith("（通过 Open311")
