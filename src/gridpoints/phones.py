"""Phone numbers: one stored form per number, and the masked form shown to callers who do
not manage the member. Parsing and validity come from libphonenumber's metadata."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from gridpoints.errors import Invalid

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class BadPhone(ValueError):
    """Not a mobile number we can sign in with."""


def normalise_phone(raw: str, region: str = "CN") -> str:
    """Mainland mobiles as their 11 digits (`13800138000`), others in E.164 (`+85291234567`).

    Spaces, dashes and a `+86`/`0086` prefix are accepted; landlines and invalid numbers are
    refused with `BadPhone`.
    """
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise BadPhone("不是有效的手机号") from exc
    if not phonenumbers.is_valid_number(number):
        raise BadPhone("不是有效的手机号")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise BadPhone("请填写手机号，不是座机号")
    if number.country_code == 86:
        return str(number.national_number)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """`13800138000` -> `138****8000`: enough to recognise, not enough to call."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def parse_phone(text: str, field: str = "phone") -> str:
    try:
        return normalise_phone(text)
    except BadPhone as exc:
        raise Invalid.field(field, str(exc)) from exc
