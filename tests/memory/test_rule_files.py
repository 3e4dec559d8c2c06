"""The city's rule files: one loader, every file required, errors that name the file and the line
an editor shows, and no database driver or aggregate needed to read them."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from hotline.infra.rule_files import DEFAULT_RULES_DIR, RULE_FILES, RulesFileError, load_rules
from tests.support.cli import hotline
from tests.support.paths import PROJECT_DIR, RULES_DIR


@pytest.fixture
def city_rules(tmp_path):
    """A copy of the default rules a test may spoil."""
    directory = tmp_path / "rules"
    shutil.copytree(RULES_DIR, directory)
    return directory


def test_the_package_ships_the_repository_rules():
    assert DEFAULT_RULES_DIR.resolve() == RULES_DIR.resolve()
    assert {path.name for path in RULES_DIR.iterdir()} >= {*RULE_FILES, "README.md"}


def test_an_error_names_the_physical_line_comments_included(city_rules):
    path = city_rules / "routing.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#") and lines[1].startswith("#")  # two comment lines, then the heading
    lines[4] = "street_vending,,NOSUCH"  # physical line 5
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RulesFileError, match=r"routing\.csv 第 5 行：未知承办单位代码 NOSUCH"):
        load_rules(city_rules)


def test_a_quoted_field_over_two_lines_keeps_the_count(city_rules):
    path = city_rules / "departments.csv"
    text = path.read_text(encoding="utf-8")
    text = text.replace("JYJ,市教育局", 'JYJ,"市教育局\n（市语言文字工作委员会）"', 1)
    text += "ZJJ,重复的单位\n"
    path.write_text(text, encoding="utf-8")
    number = text.splitlines().index("ZJJ,重复的单位") + 1
    with pytest.raises(RulesFileError, match=rf"departments\.csv 第 {number} 行：单位代码 ZJJ 重复"):
        load_rules(city_rules)


@pytest.mark.parametrize("name", RULE_FILES)
def test_every_file_is_required(city_rules, name):
    (city_rules / name).unlink()
    with pytest.raises(RulesFileError, match=f"找不到规则文件 .*{name}"):
        load_rules(city_rules)


def test_a_district_in_routing_must_be_in_the_districts_list(city_rules):
    path = city_rules / "districts.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("城东区,老城区\n", ""), encoding="utf-8")
    with pytest.raises(RulesFileError, match="未知区县 城东区"):
        load_rules(city_rules)


def test_a_metric_description_must_say_what_is_computed(city_rules):
    path = city_rules / "metrics.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("满意和基本满意数 ÷ 回访联系上数：", "（满意 + 基本满意 × 0.8）÷ 回访联系上的件数："),
        encoding="utf-8",
    )
    with pytest.raises(RulesFileError, match="满意率 的说明须以“满意和基本满意数 ÷ 回访联系上数”开头"):
        load_rules(city_rules)


def test_weights_must_add_up_to_100(city_rules):
    path = city_rules / "metrics.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("响应率,10,", "响应率,20,"), encoding="utf-8")
    with pytest.raises(RulesFileError, match="合计 100（现为 110）"):
        load_rules(city_rules)


def test_reading_the_rules_loads_no_database_driver_and_no_aggregate():
    probe = (
        "import sys\n"
        "from hotline.infra.rule_files import load_rules, DEFAULT_RULES_DIR\n"
        "load_rules(DEFAULT_RULES_DIR)\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('psycopg', 'sqlite3', 'eventsourcing')"
        " or m in ('hotline.domain.case', 'hotline.application')]\n"
        "print(','.join(sorted(loaded)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_rules_init_copies_the_defaults_for_a_city_and_check_reads_them(tmp_path):
    target = tmp_path / "city-rules"
    done = hotline("rules", "init", str(target))
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in target.iterdir()) == sorted((*RULE_FILES, "README.md"))
    again = hotline("rules", "init", str(target))
    assert again.returncode == 1 and "不是空目录" in again.stderr
    checked = hotline("rules", "check", env={"HOTLINE_RULES_DIR": str(target)})
    assert checked.returncode == 0 and "无误" in checked.stdout
    (target / "services.csv").write_text("服务代码,服务名称\n", encoding="utf-8")
    broken = hotline("rules", "check", env={"HOTLINE_RULES_DIR": str(target)})
    assert broken.returncode == 1 and "services.csv 第 1 行（列名）缺少列：大类、小类、说明、关键词" in broken.stderr


def test_a_rate_where_less_is_better_may_not_be_weighted(city_rules):
    path = city_rules / "metrics.csv"
    text = path.read_text(encoding="utf-8").replace("回退率,0,", "回退率,5,").replace("响应率,10,", "响应率,5,")
    path.write_text(text, encoding="utf-8")  # still 100 in all
    with pytest.raises(RulesFileError, match="回退率 越低越好，只列出、不计入综合得分：权重须为 0"):
        load_rules(city_rules)


def test_the_cooperation_figure_says_what_is_computed(city_rules):
    path = city_rules / "metrics.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("协办按时报送数 ÷ 协办应报送数：", "按时报送的协办件数 ÷ 协办件数："), encoding="utf-8"
    )
    with pytest.raises(RulesFileError, match="协办按时报送率 的说明须以“协办按时报送数 ÷ 协办应报送数”开头"):
        load_rules(city_rules)


def test_a_time_table_written_with_the_signing_limit_in_hours_is_still_read_as_hours(city_rules):
    """A city's table from before the signing limit had a unit: 签收时限(小时) 24 on the working clock."""
    path = city_rules / "time_limits.csv"
    old = [
        line.replace("签收时限,签收时限单位,", "签收时限(小时),")
        .replace(",1,工作日,工作时间,", ",24,工作时间,")
        .replace(",0.5,小时,自然时间,", ",0.5,自然时间,")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    path.write_text("\n".join(old) + "\n", encoding="utf-8")
    limits = {(limit.category, limit.urgency): limit for limit in load_rules(city_rules).time_limits}
    assert (limits["complaint", "normal"].sign_amount, limits["complaint", "normal"].sign_unit) == (24, "hours")
    assert (limits["complaint", "urgent"].sign_amount, limits["complaint", "urgent"].sign_clock) == (0.5, "natural")
    new = {(limit.category, limit.urgency): limit for limit in load_rules(RULES_DIR).time_limits}
    assert (new["complaint", "normal"].sign_amount, new["complaint", "normal"].sign_unit) == (1, "working_days")


def test_a_signing_limit_in_working_days_must_be_whole(city_rules):
    path = city_rules / "time_limits.csv"
    text = path.read_text(encoding="utf-8").replace("投诉,一般,1,工作日,", "投诉,一般,1.5,工作日,")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesFileError, match=r"time_limits\.csv 第 \d+ 行：以工作日计的时限必须是整数"):
        load_rules(city_rules)
