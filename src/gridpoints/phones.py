"""Phone numbers: one stored form per number, and the masked form shown to callers who do
not manage the member. Parsing and validity come from libphonenumber's metadata.

Every place a phone number comes in (member create and update, the member import, sign-in
of members and partner contacts, partner contact numbers, the member search) goes through
`normalise_phone` (or `phone_fragment` for a part of a number), so a number typed on a phone
with full-width digits, a `+86`/`0086` prefix, spaces, dashes, dots, brackets or invisible
marks pasted from a chat is the same number everywhere.
"""

from __future__ import annotations

import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from gridpoints.errors import Invalid

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}

# Longest text taken as a phone number at all (a number with every separator and mark).
MAX_PHONE_TEXT = 64

# Marks that show nothing: zero-width spaces and joiners, direction marks, embeddings and
# isolates (U+200E/U+200F, U+202A–U+202E, U+2066–U+2069), word joiner, BOM, soft hyphen.
_INVISIBLE = frozenset(
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
# What people write between the digits (after NFKC, so full-width forms are already ASCII):
# spaces of every kind, dashes, dots and brackets.
_SEPARATORS = frozenset(" .-()[]/\u2010\u2011\u2012\u2013\u2014\u2015\u2212")

EMPTY = "手机号为空"
NOT_DIGITS = "手机号只能包含数字（可带 +86 区号）"
INVALID = "不是有效的手机号"
LANDLINE = "请填写手机号，不是座机号"
TOO_LONG = "手机号过长"


class BadPhone(ValueError):
    """Not a mobile number we can sign in with (the message says why, in Chinese)."""


def _plain(raw: str) -> str:
    """The number's characters only: NFKC (full-width digits, `＋`, NBSP and U+3000 become
    ASCII), every decimal digit of any script as ASCII, invisible marks, spaces, dashes, dots
    and brackets gone. Anything else stays, for the caller to refuse."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFKC", raw[:MAX_PHONE_TEXT]):
        if char in _INVISIBLE or char in _SEPARATORS or char.isspace():
            continue
        digit = unicodedata.decimal(char, None)
        kept.append(str(digit) if digit is not None else char)
    return "".join(kept)


def _international(text: str) -> str:
    """`0086…` as `+86…`; a bare `86` before an 11-digit mainland mobile as `+86`."""
    if text.startswith("00"):
        return "+" + text[2:]
    if text.startswith("86") and len(text) == 13 and text[2] == "1":
        return "+" + text
    return text


def normalise_phone(raw: str, region: str = "CN") -> str:
    """Mainland mobiles as their 11 digits (`13800138000`), others in E.164 (`+85291234567`).

    Full-width digits, a `+86`/`0086` prefix, spaces (NBSP and the ideographic space too),
    dashes, dots, brackets and invisible marks are accepted; anything else, landlines and
    invalid numbers are refused with `BadPhone`.
    """
    if len(raw) > MAX_PHONE_TEXT:
        raise BadPhone(TOO_LONG)
    text = _plain(raw)
    if not text:
        raise BadPhone(EMPTY)
    if not (text.lstrip("+").isascii() and text.lstrip("+").isdigit()) or "+" in text[1:]:
        raise BadPhone(NOT_DIGITS)
    text = _international(text)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise BadPhone(INVALID) from exc
    if not phonenumbers.is_valid_number(number):
        raise BadPhone(INVALID)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise BadPhone(LANDLINE)
    if number.country_code == 86:
        return str(number.national_number)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_fragment(raw: str) -> str | None:
    """The digits of a part of a phone number as a search types it (`0005`, `138 0013`,
    `＋86 138`), without a leading `+86`/`0086`; None when the text is not digits."""
    text = _plain(raw)
    if not text:
        return None
    had_plus = text.startswith("+")
    text = text[1:] if had_plus else text
    if not (text.isascii() and text.isdigit()):
        return None
    if had_plus and text.startswith("86"):
        text = text[2:]
    elif text.startswith("0086"):
        text = text[4:]
    return text or None


def phone_digits(phone: str | None) -> str:
    """A number's own digits (no country code for a mainland mobile), for comparing with
    what someone typed elsewhere (a password); the plain digits when it is no valid mobile."""
    if not phone:
        return ""
    try:
        return normalise_phone(phone).lstrip("+")
    except BadPhone:
        return "".join(c for c in _plain(phone) if c.isascii() and c.isdigit())


def mask_phone(phone: str) -> str:
    """`13800138000` -> `138****8000`: enough to recognise, not enough to call."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def parse_phone(text: str, field: str = "phone") -> str:
    """`normalise_phone` for a request field: a bad number is an `Invalid` naming the field,
    with the reason in Chinese."""
    try:
        return normalise_phone(text)
    except BadPhone as exc:
        raise Invalid.field(field, str(exc)) from exc
