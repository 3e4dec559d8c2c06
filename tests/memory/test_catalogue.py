"""The three-level dispatch catalogue (rules/services.csv: 大类 › 小类 › 细项) and its routing
(rules/routing.csv): every 细项 has a city-wide rule naming a known department (or the dispatch
centre, written down), every code another rule file or the demo names is in the catalogue, the codes
stored cases carry are all still there, and a mistake in the files names the file and its line."""

from __future__ import annotations

import shutil

import pytest

from hotline.domain.catalogue import DISPATCH_CENTRE, catalogue_choices, codes_named
from hotline.infra.demo.cases import EMERGENCY_CALLS
from hotline.infra.demo.knowledge import ARTICLES
from hotline.infra.demo.vocabulary import CATEGORY_BY_SERVICE, DESCRIPTIONS
from hotline.infra.rule_files import RulesFileError, load_rules
from tests.support.paths import RULES_DIR

# The service codes of the catalogue before it had three levels: stored events carry them, forever.
CODES_CASES_CARRY = [
    "noise",
    "construction_noise",
    "street_vending",
    "illegal_building",
    "garbage",
    "property_mgmt",
    "water_supply",
    "power_outage",
    "road_damage",
    "bus_route",
    "food_safety",
    "consumer_rights",
    "unpaid_wages",
    "social_security",
    "medical_insurance",
    "school_enrollment",
    "medical_service",
    "household_registration",
    "housing_fund",
    "pollution",
    "other",
    "gas_leak",
    "fire",
    "drowning",
    "traffic_injury",
    "personal_safety",
]


@pytest.fixture(scope="module")
def rules():
    return load_rules(RULES_DIR)


@pytest.fixture
def city_rules(tmp_path):
    directory = tmp_path / "rules"
    shutil.copytree(RULES_DIR, directory)
    return directory


def test_the_catalogue_has_three_levels_and_what_a_12345_line_commonly_receives(rules):
    services = rules.services.values()
    assert len(rules.services) >= 60
    assert len({s.major for s in services}) >= 10
    assert all(s.major and s.minor and s.name for s in services)
    named = " ".join(f"{s.path} {' '.join(s.keywords)}" for s in services)
    for matter in [
        "油烟",
        "燃气",
        "路灯",
        "宠物",
        "出租车",
        "房屋租赁",
        "供暖",
        "物业",
        "噪声",
        "占道",
        "拖欠工资",
        "医保",
        "社保",
        "公积金",
        "户籍",
        "入学",
        "公交",
        "污染",
        "市场监管",
        "消费",
        "供水",
        "供电",
        "电梯",
        "低保",
        "养老",
    ]:
        assert matter in named, matter
    assert rules.services["cooking_fumes"].path == "生态环境 › 大气污染 › 餐饮油烟"


def test_a_minor_category_belongs_to_one_major_category(rules):
    majors: dict[str, set[str]] = {}
    for service in rules.services.values():
        majors.setdefault(service.minor, set()).add(service.major)
    assert {minor: found for minor, found in majors.items() if len(found) > 1} == {}


def test_the_codes_stored_cases_carry_are_all_still_in_the_catalogue(rules):
    assert [code for code in CODES_CASES_CARRY if code not in rules.services] == []


def test_every_service_has_a_city_wide_route_to_a_known_department_or_the_dispatch_centre(rules):
    city_wide = {rule.service_code: rule.department for rule in rules.routing.rules if not rule.district}
    assert set(city_wide) == set(rules.services)
    for rule in rules.routing.rules:
        assert rule.service_code in rules.services
        assert rule.department in rules.departments or rule.department == DISPATCH_CENTRE, rule
        assert not rule.district or rule.district in rules.districts
    # Left to a person on purpose, and only these: the emergencies handed to 119 and 其他事项.
    assert sorted(code for code, department in city_wide.items() if department == DISPATCH_CENTRE) == [
        "drowning",
        "fire",
        "other",
    ]
    assert rules.routing.route("other") is None  # DISPATCH: the manual queue
    assert rules.routing.route("cooking_fumes") == "CGJ" and rules.routing.route("cooking_fumes", "城东区") == "CDQ"
    assert rules.routing.route("heating_cold") == "RLGS" and rules.department_name("RLGS") == "市热力集团有限公司"


def test_every_department_has_its_contacts(rules):
    assert set(rules.notifications.contacts) == set(rules.departments)


def test_every_service_code_other_files_and_the_demo_name_is_in_the_catalogue(rules):
    named = {
        "service_attributes.csv": set(rules.open311.attributes),
        "open311_categories.csv": set(rules.open311.categories) - {"*"},
        "emergency.csv": set(rules.emergency.services),
        "privacy.toml": set(rules.privacy.withheld_services),
        "demo cases": {code for code, *_ in EMERGENCY_CALLS} | set(DESCRIPTIONS) | set(CATEGORY_BY_SERVICE),
        "demo articles": {code for article in ARTICLES for code in article.services},
    }
    assert {where: codes - set(rules.services) for where, codes in named.items()} == {where: set() for where in named}


def test_no_keyword_could_select_two_services(rules):
    """A keyword belongs to one 细项 and is no other 细项's name: typed exactly, it finds one."""
    owner: dict[str, str] = {}
    for code, service in rules.services.items():
        for word in service.keywords:
            assert word not in owner, f"{word}: {owner.get(word)} and {code}"
            owner[word] = code
    names = {service.name: code for code, service in rules.services.items()}
    assert {word: code for word, code in owner.items() if word in names and names[word] != code} == {}


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text.replace(old, new, 1).splitlines()


def test_a_minor_category_under_two_major_categories_is_refused_with_both_lines(city_rules):
    lines = _edit(city_rules / "services.csv", "water_bill,公用事业,供水,", "water_bill,城市管理,供水,")
    first = next(n for n, line in enumerate(lines, 1) if line.startswith("water_supply,"))
    second = next(n for n, line in enumerate(lines, 1) if line.startswith("water_bill,"))
    with pytest.raises(
        RulesFileError,
        match=rf"services\.csv 第 {second} 行：小类 供水 在第 {first} 行属于大类 公用事业，这里又写作属于 城市管理",
    ):
        load_rules(city_rules)


def test_a_service_without_its_levels_is_refused_on_its_line(city_rules):
    lines = _edit(city_rules / "services.csv", "taxi,交通出行,出租车与网约车,", "taxi,交通出行,,")
    number = next(n for n, line in enumerate(lines, 1) if line.startswith("taxi,"))
    with pytest.raises(RulesFileError, match=rf"services\.csv 第 {number} 行：taxi 的大类和小类都不能为空"):
        load_rules(city_rules)


def test_a_service_without_a_route_is_refused_naming_its_line(city_rules):
    _edit(city_rules / "routing.csv", "taxi,,JTJ\n", "")
    number = next(
        n
        for n, line in enumerate((city_rules / "services.csv").read_text(encoding="utf-8").splitlines(), 1)
        if line.startswith("taxi,")
    )
    with pytest.raises(
        RulesFileError, match=rf"routing\.csv：细项 taxi 出租车服务（services\.csv 第 {number} 行）没有全市派单规则"
    ):
        load_rules(city_rules)


def test_a_route_to_an_unknown_department_is_refused_on_its_line(city_rules):
    lines = _edit(city_rules / "routing.csv", "heating_cold,,RLGS", "heating_cold,,RLJ")
    number = lines.index("heating_cold,,RLJ") + 1
    with pytest.raises(RulesFileError, match=rf"routing\.csv 第 {number} 行：未知承办单位代码 RLJ"):
        load_rules(city_rules)


def test_a_copy_with_the_old_single_group_column_is_told_what_changed(city_rules):
    path = city_rules / "services.csv"
    path.write_text("# 旧的目录\n服务代码,服务名称,分组,说明,关键词\nnoise,噪声扰民,生态环境,,噪音\n", encoding="utf-8")
    with pytest.raises(
        RulesFileError, match=r"services\.csv 第 2 行（列名）缺少列：大类、小类.*“分组”一列已分为“大类”“小类”两列"
    ):
        load_rules(city_rules)


def test_a_list_filter_names_one_service_or_every_service_of_a_level(rules):
    services = rules.services
    assert codes_named(services, "cooking_fumes") == ("cooking_fumes",)
    assert codes_named(services, "小类:供热") == codes_named(services, "供热") == ("heating_cold", "heating_fee")
    majors = codes_named(services, "大类:公用事业")
    assert majors == codes_named(services, "公用事业") and set(majors) >= {"water_supply", "gas_leak", "heating_fee"}
    assert all(services[code].major == "公用事业" for code in majors)
    assert codes_named(services, "大类:供热") == () and codes_named(services, "没有这一类") == ()
    choices = catalogue_choices(services)
    assert [value for value, _ in choices if value in services] == list(services)  # every 细项, in order
    first = [label for _, label in choices[:3]]
    assert first == [
        "城乡建设与住房（大类，全部）",
        "城乡建设与住房 › 物业管理（小类，全部）",
        "城乡建设与住房 › 物业管理 › 物业管理",
    ]
