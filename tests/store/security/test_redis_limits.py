"""The sign-in slow-down and the Open311 rate limit shared through the local Redis server
(``HOTLINE_REDIS_URL``): what one web process counted, another one sees."""

from __future__ import annotations

import os
import re
import uuid

import pytest

from hotline.infra.config import Config, ConfigError
from hotline.infra.demo import ensure_demo_users
from hotline.infra.redis_limits import RedisLimitStore
from hotline.web import create_app
from hotline.web.limits import SignInLimits

REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def store():
    shared = RedisLimitStore(REDIS_URL, prefix=f"hotline-test:{uuid.uuid4().hex}:")
    try:
        shared.client.ping()
    except Exception as error:  # the test needs the server: say so, never skip quietly
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}. Start it (scripts/ensure-services) and retry.")
    yield shared
    for key in shared.client.scan_iter(f"{shared.prefix}*"):
        shared.client.delete(key)
    shared.close()


def test_two_processes_count_one_accounts_failures_together(store):
    now = [1_000.0]
    first, second = (SignInLimits(store, lambda: now[0]) for _ in range(2))
    first.failed("hbj", "10.0.0.1")
    second.failed("hbj", "10.0.0.2")
    first.failed("hbj", "10.0.0.1")
    assert second.wait("hbj", "10.0.0.9") == 1  # three failures, from two processes: the waits begin
    now[0] += 1
    second.failed("hbj", "10.0.0.2")
    assert first.wait("hbj", "10.0.0.1") == 2
    first.succeeded("hbj")
    assert second.wait("hbj", "10.0.0.2") == 0


def _login(client, username, password):
    page = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password})


def test_web_processes_share_the_slow_down_and_the_open311_limit(sqlite_services, store):
    from hotline.domain.actors import SYSTEM_ACTOR

    ensure_demo_users(sqlite_services.app, sqlite_services.passwords)
    sqlite_services.limit_store = store
    one, other = create_app(sqlite_services, testing=True), create_app(sqlite_services, testing=True)
    for app in (one, other):
        app.config["SESSION_COOKIE_SECURE"] = False
    for n in range(3):
        assert _login((one if n % 2 else other).test_client(), "supervisor", f"guess-guess-{n}").status_code == 401
    assert _login(one.test_client(), "supervisor", "guess-guess-4").status_code == 429
    assert _login(other.test_client(), "supervisor", "hotline-supervisor").status_code == 429  # the same wait

    for app in (one, other):  # one clock minute for the whole test
        app.extensions["open311"].limiter.clock = lambda: 6_000_000.0
    key = sqlite_services.app.issue_api_key("限流测试", SYSTEM_ACTOR).key
    form = {"service_code": "garbage", "address_string": "解放路 5 号", "description": "垃圾桶满了"}
    answers = [
        (one if n % 2 else other)
        .test_client()
        .post("/open311/v2/requests.json", data=form, headers={"X-API-Key": key})
        .status_code
        for n in range(32)
    ]
    assert answers == [200] * 30 + [429] * 2  # 30 a minute for the key, across both processes


def test_a_malformed_redis_url_stops_start_up():
    with pytest.raises(ConfigError, match="HOTLINE_REDIS_URL"):
        Config.from_env({"HOTLINE_REDIS_URL": "127.0.0.1:6379"})
    assert Config.from_env({"HOTLINE_REDIS_URL": "redis://127.0.0.1:6379/0"}).redis_url == "redis://127.0.0.1:6379/0"
