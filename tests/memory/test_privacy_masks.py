"""How a caller is shown to someone who may not see them in full, and what the scrubber removes."""

import pytest

from hotline.domain.privacy import ERASED, mask_name, mask_phone, scrub


@pytest.mark.parametrize(
    ("name", "shown"), [("王小明", "王**"), ("欧阳娜娜", "欧***"), ("李四", "李**"), ("王", "**"), ("", "")]
)
def test_a_name_keeps_only_its_first_character(name, shown):
    assert mask_name(name) == shown


@pytest.mark.parametrize(
    ("phone", "shown"),
    [("13912345678", "139****5678"), ("+86 139-1234-5678", "861****5678"), ("12345", "****"), ("", "")],
)
def test_a_phone_keeps_its_first_three_and_last_four_digits(phone, shown):
    assert mask_phone(phone) == shown


def test_the_scrubber_takes_out_numbers_ids_mails_and_names():
    text = "我叫张三，电话13912345678，座机0571-87654321，身份证33010219800101123X，邮箱zs@example.com，李四也知道"
    scrubbed = scrub(text, names=("李四",))
    for secret in ("张三", "13912345678", "87654321", "33010219800101123X", "zs@example.com", "李四"):
        assert secret not in scrubbed
    assert scrubbed.startswith("我叫＊＊") and "也知道" in scrubbed


def test_the_scrubber_leaves_ordinary_text_alone():
    text = "解放路 12 号附近的路灯 3 天不亮了，老百姓反映多次，2025年10月9日"
    assert scrub(text) == text


def test_an_erased_text_stays_as_it_reads():
    assert scrub(ERASED, (ERASED,)) == ERASED
