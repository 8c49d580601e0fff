"""The one phone normaliser: every way a number is typed on a phone or pasted from a chat gives
the same stored number; whatever is refused is refused in Chinese."""

from __future__ import annotations

import pytest

from gridpoints.phones import (
    BadPhone,
    mask_phone,
    normalise_phone,
    phone_digits,
    phone_fragment,
)

MOBILE = "13712340001"


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("13712340001", id="plain"),
        pytest.param("１３７１２３４０００１", id="full-width-digits"),
        pytest.param("＋８６　１３７－１２３４－０００１", id="full-width-plus-space-dash"),
        pytest.param("+86 137-1234-0001", id="plus-86"),
        pytest.param("+86137 1234 0001", id="plus-86-glued"),
        pytest.param("0086 13712340001", id="0086"),
        pytest.param("8613712340001", id="bare-86"),
        pytest.param("137.1234.0001", id="dots"),
        pytest.param("(137) 1234 0001", id="brackets"),
        pytest.param("（137）1234－0001", id="full-width-brackets"),
        pytest.param("137—1234—0001", id="em-dashes"),
        pytest.param("137\u00a01234\u00a00001", id="nbsp"),
        pytest.param("\u202a+86 137 1234 0001\u202c", id="embedding-marks"),
        pytest.param("\u200e13712340001\u200f", id="direction-marks"),
        pytest.param("\u2066137 1234 0001\u2069", id="isolates"),
        pytest.param("137\u200b1234\u200b0001", id="zero-width-spaces"),
        pytest.param("\ufeff 13712340001 \n", id="bom-and-newline"),
        pytest.param("١٣٧١٢٣٤٠٠٠١", id="arabic-indic-digits"),
    ],
)
def test_every_way_of_typing_a_mobile_gives_its_eleven_digits(typed):
    assert normalise_phone(typed) == MOBILE


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        pytest.param("", "手机号为空", id="empty"),
        pytest.param(" \u200b ", "手机号为空", id="only-invisible"),
        pytest.param("call me maybe", "手机号只能包含数字（可带 +86 区号）", id="letters"),
        pytest.param("手机13712340001", "手机号只能包含数字（可带 +86 区号）", id="words"),
        pytest.param("137+12340001", "手机号只能包含数字（可带 +86 区号）", id="inner-plus"),
        pytest.param("1371234000", "不是有效的手机号", id="ten-digits"),
        pytest.param("12345", "不是有效的手机号", id="too-short"),
        pytest.param("010 6512 3456", "请填写手机号，不是座机号", id="landline"),
        pytest.param("1" * 65, "手机号过长", id="too-long"),
    ],
)
def test_what_is_no_mobile_is_refused_with_a_chinese_reason(typed, reason):
    with pytest.raises(BadPhone) as refused:
        normalise_phone(typed)
    assert str(refused.value) == reason


def test_a_mobile_outside_the_mainland_is_kept_in_e164():
    assert normalise_phone("+852 9123 4567") == "+85291234567"
    assert normalise_phone("００８５２ ９１２３ ４５６７") == "+85291234567"


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("0005", "0005"),
        ("１３７ １２３４", "1371234"),
        ("+86 137", "137"),
        ("0086137", "137"),
        ("137-1234", "1371234"),
        ("古丽", None),
        ("137a", None),
        ("+", None),
        ("", None),
    ],
)
def test_a_search_for_part_of_a_number_takes_its_digits(typed, digits):
    assert phone_fragment(typed) == digits


def test_the_digits_compared_with_a_password_are_the_numbers_own():
    assert phone_digits("+86 137 1234 0001") == MOBILE
    assert phone_digits("１３７１２３４０００１") == MOBILE
    assert phone_digits("+852 9123 4567") == "85291234567"
    assert phone_digits("12-34") == "1234"
    assert phone_digits(None) == ""


def test_a_masked_number_shows_its_ends_only():
    assert mask_phone(MOBILE) == "137****0001"
