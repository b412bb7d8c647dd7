"""The kernel's one-place helpers: tokens, reasons and field errors (no database)."""

import hashlib

import pytest
from django import forms

from ketaclinic.core.errors import DomainError, ErrorCode
from ketaclinic.core.forms import field_error
from ketaclinic.core.inputs import REASON_MAX_CHARS, clean_reason
from ketaclinic.core.tokens import hash_token, new_token


def test_hash_token_is_the_sha256_hex_digest() -> None:
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()


def test_new_tokens_differ_and_are_url_safe() -> None:
    first, second = new_token(), new_token()
    assert first != second
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_clean_reason_strips() -> None:
    assert clean_reason("  pump alarm  ") == "pump alarm"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", ErrorCode.REASON_REQUIRED),
        ("   ", ErrorCode.REASON_REQUIRED),
        ("x" * (REASON_MAX_CHARS + 1), ErrorCode.INVALID),
        ("bad\x00byte", ErrorCode.INVALID),
    ],
)
def test_clean_reason_refuses_empty_long_or_control_text(raw: str, code: ErrorCode) -> None:
    with pytest.raises(DomainError) as caught:
        clean_reason(raw, field="why")
    assert caught.value.code == code
    assert caught.value.field == "why"


class _Form(forms.Form):
    reason = forms.CharField()


def test_field_error_lands_on_the_field_or_the_form() -> None:
    form = _Form(data={"reason": "x"})
    assert form.is_valid()
    field_error(form, DomainError("invalid", "Too vague.", field="reason"))
    field_error(form, DomainError("invalid", "Not now.", field="elsewhere"))
    assert form.errors == {"reason": ["Too vague."], "__all__": ["Not now."]}
