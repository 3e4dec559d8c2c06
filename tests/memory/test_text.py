"""The one check of free text (domain/text.py): what it refuses, with what message, and how text
stored before it is made safe for an export."""

from __future__ import annotations

import pytest

from hotline.domain.errors import InvalidInput
from hotline.domain.text import printable, text


@pytest.mark.parametrize(
    "character, name",
    [
        ("\x00", "空字符 NUL"),
        ("\x07", "控制字符"),
        ("\x0b", "垂直制表符"),
        ("\x0c", "换页符"),
        ("\r", "回车符"),
        ("\x1b", "转义符 ESC"),
        ("\x7f", "删除符 DEL"),
        ("\x85", "控制字符"),
        ("\x9f", "控制字符"),
        ("\u202e", "双向文字控制符"),
        ("\u2066", "双向文字控制符"),
    ],
)
def test_control_and_bidirectional_override_characters_are_refused_naming_where(character, name):
    with pytest.raises(InvalidInput) as refused:
        text(f"噪音{character}扰民", "诉求内容")
    assert str(refused.value).startswith(f"诉求内容第 3 个字是不可见的{name}（U+{ord(character):04X}）")


def test_tab_newline_and_ordinary_text_pass_and_a_windows_line_end_becomes_a_newline():
    assert text("第一行\r\n第二行\t（附表）", "办理结果") == "第一行\n第二行\t（附表）"
    assert text("  Ünïcode、emoji 🙂 与阿拉伯数字 ١٢٣  ", "备注") == "Ünïcode、emoji 🙂 与阿拉伯数字 ١٢٣"


def test_text_stored_before_the_check_is_made_printable():
    assert printable("已约谈\x0b商户\x00") == "已约谈\ufffd商户\ufffd"
    assert printable("正常文字\n") == "正常文字\n" and printable(12) == 12
