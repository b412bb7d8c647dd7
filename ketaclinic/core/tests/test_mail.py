import pytest
from django.core import mail

from ketaclinic.core.mail import message_id, send_once


def test_the_message_id_is_the_key_at_the_sending_domain(settings) -> None:
    settings.DEFAULT_FROM_EMAIL = "Clinic <no-reply@clinic.example.org>"
    assert message_id("appointment-12.reminder.email") == "<appointment-12.reminder.email@clinic.example.org>"


@pytest.mark.parametrize("key", ["", "Has Capitals", "a@b", "new\nline", "<x>"])
def test_a_key_that_would_break_the_header_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="A message key is"):
        message_id(key)


def test_sending_twice_sends_the_same_message_twice() -> None:
    for _ in range(2):
        send_once(
            key="appointment-3.reminder.email", subject="Reminder", body="Tomorrow.", to="p@example.org"
        )
    headers = [message.message()["Message-ID"] for message in mail.outbox]
    assert headers == ["<appointment-3.reminder.email@ketaclinic.invalid>"] * 2
    assert [message.to for message in mail.outbox] == [["p@example.org"], ["p@example.org"]]
