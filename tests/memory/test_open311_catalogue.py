"""The Open311 data files, attribute checks and the token bucket, without HTTP."""

from __future__ import annotations

import shutil

import pytest

from hotline.domain.errors import InvalidInput
from hotline.infra.rule_files import RulesFileError, load_open311
from hotline.web.open311.ratelimit import TokenBucketLimiter
from tests.support.paths import PROJECT_DIR


@pytest.fixture(scope="module")
def catalogue(rules):
    return rules.open311


def test_attributes_are_checked_by_datatype(catalogue):
    noise_source, period = catalogue.attributes["noise"]
    assert noise_source.check(["shop"]) == "商铺经营" and period.check([]) == ""
    vending = catalogue.attributes["street_vending"][0]
    assert vending.check(["food", "fruit", "food"]) == "餐饮小吃、水果蔬菜"
    amount = catalogue.attributes["consumer_rights"][1]
    assert amount.check(["12.5"]) == "12.5"
    since = catalogue.attributes["water_supply"][1]
    assert since.check(["2025-10-09T08:00:00Z"]) == "2025-10-09T08:00:00Z"
    for attribute, values in (
        (noise_source, ["shop", "vehicle"]),
        (amount, ["inf"]),
        (since, ["昨天"]),
        (catalogue.attributes["consumer_rights"][0], ["店" * 201]),
    ):
        with pytest.raises(InvalidInput):
            attribute.check(values)


def test_categories_default_per_service(catalogue):
    assert catalogue.category_for("social_security") == "consult"
    assert catalogue.category_for("noise") == "complaint"
    assert catalogue.category_for("noise", "举报") == "report"


@pytest.mark.parametrize(
    "line, message",
    [
        ("pothole,size,1,string,否,大小,,", "未知服务代码 pothole"),
        ("noise,size,1,colour,否,大小,,", "数据类型必须是"),
        ("noise,size,9,singlevaluelist,否,大小,,", "单选、多选要写选项"),
        ("noise,noise_period,9,string,否,大小,,", "字段代码或顺序重复"),
        ("noise,category,9,string,否,类别,,", "不能是 category"),
    ],
)
def test_a_mistake_in_the_attribute_file_names_the_line(rules, tmp_path, line, message):
    for name in ("service_attributes.csv", "open311_categories.csv"):
        shutil.copy(PROJECT_DIR / "rules" / name, tmp_path / name)
    with (tmp_path / "service_attributes.csv").open("a", encoding="utf-8") as file:
        file.write(line + "\n")
    with pytest.raises(RulesFileError, match=message) as error:
        load_open311(tmp_path / "service_attributes.csv", tmp_path / "open311_categories.csv", rules.services)
    assert "service_attributes.csv 第 24 行" in str(error.value)


def test_the_token_bucket_refills_with_time():
    now = [0.0]
    limiter = TokenBucketLimiter(capacity=2, per_minute=6, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a")] == [0, 0]
    assert limiter.take("a") == pytest.approx(10)  # 6 a minute: one every 10 seconds
    assert limiter.take("b") == 0  # buckets are per key
    now[0] = 10.0
    assert limiter.take("a") == 0 and limiter.take("a") > 0
