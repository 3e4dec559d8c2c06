"""The password policy: at least 12 characters, and nothing a guesser tries first."""

import pytest

from hotline.infra.passwords import Passwords, WeakPassword, weakness


@pytest.mark.parametrize(
    "password",
    [
        "12345678",  # once accepted for an admin
        "hotline-adm",  # 11 characters
        "123456789012",
        "password1234",
        "P@ssw0rd2024!",
        "adminadminadmin",
        "qwertyuiop[]",
        "abcabcabcabc",
        "aaaaaaaaaaaaaa",
        "woaini1314520",
        "Welcome1!!!!",
    ],
)
def test_weak_passwords_are_refused_in_chinese(password):
    assert weakness(password)
    with pytest.raises(WeakPassword, match="密码"):
        Passwords().hash(password)


@pytest.mark.parametrize("password", ["correct horse battery", "港口晚霞里坐着七只小花猫", "tz8#Lq2!vR9m"])
def test_long_uncommon_passwords_are_accepted(password):
    assert weakness(password) is None
    passwords = Passwords()
    assert passwords.verify(passwords.hash(password), password)


def test_the_message_names_the_minimum_length():
    assert weakness("short") == "密码至少 12 位"


def test_the_check_for_an_unknown_name_is_made_when_a_web_app_starts_not_with_the_services():
    passwords = Passwords()
    assert "_dummy" not in vars(passwords)  # a rebuild's worker or a CLI command makes no hash
    passwords.ready()
    assert vars(passwords)["_dummy"].startswith("$argon2id$")
    assert not passwords.verify(None, "not-a-real-password")  # no such user: fails, at a hash's cost
