"""A message's id is derived from its key (domain/message.py): the same id on every rebuild and in
every notifier, and the same as the ids already stored (uuid5 in the URL namespace)."""

from uuid import NAMESPACE_URL, uuid5

from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.message import message_id, message_id_text


@given(st.text())
def test_the_id_of_any_key_is_its_uuid5(key):
    expected = uuid5(NAMESPACE_URL, f"hotline/message/{key}")
    assert message_id_text(key) == str(expected)
    assert message_id(key) == expected


def test_a_stored_message_keeps_its_id():
    # the id stores written before hold for this key (uuid5 then)
    assert message_id_text("20251009-000123-v3-sign_reminder-sms") == "7d715d07-2be5-5a5f-935c-8a2dbfe83ba9"
