"""The password policy every route that sets a password applies: at least 8 characters, not
the member's phone number, not a common or easily guessed password; a refusal names the field
and says in Chinese what is wrong."""

from __future__ import annotations

import pytest

from gridpoints.auth.passwords import check_new_password, hash_password, verify_password
from gridpoints.demo.builder import DEFAULT_PASSWORD
from gridpoints.errors import Invalid
from tests.world import PASSWORD as WORLD_PASSWORD

PHONE = "15937264810"
LONG = "walking-to-the-old-market-at-dawn-we-counted-37-red-lanterns-and-2-sleepy-cats-" + (
    "then-bought-hot-soy-milk-for-the-whole-grid-team!"
)


def _refusal(password: str, **context: str) -> Invalid:
    with pytest.raises(Invalid) as caught:
        check_new_password(password, **context)
    return caught.value


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("12345678", id="digits-run"),
        pytest.param("password", id="password"),
        pytest.param("Password1", id="capitalised-common"),
        pytest.param("PASSWORD123", id="upper-case-common"),
        pytest.param("qwertyuiop", id="keyboard-row"),
        pytest.param("iloveyou", id="common-phrase"),
        pytest.param("88888888", id="one-digit-repeated"),
        pytest.param("19900101", id="a-date"),
        pytest.param("abcd1234", id="sequences"),
        pytest.param("qq123456", id="common-chinese-leak"),
        pytest.param("147258369", id="keypad-columns"),
        pytest.param("31415926", id="pi"),
    ],
)
def test_common_and_easily_guessed_passwords_are_refused(password):
    refusal = _refusal(password, phone=PHONE)
    assert refusal.status == 400
    assert [p.field for p in refusal.problems] == ["password"]
    assert "密码" in refusal.problems[0].detail


@pytest.mark.parametrize(
    "password",
    [
        pytest.param(PHONE, id="the-phone-itself"),
        pytest.param("+86 " + PHONE, id="with-country-code"),
        pytest.param("Zq!" + PHONE, id="phone-inside"),
        pytest.param("Lp-37264810", id="last-8-digits"),
        pytest.param("15937264-Kite", id="first-8-digits"),
    ],
)
def test_the_phone_number_or_a_long_run_of_its_digits_is_refused(password):
    refusal = _refusal(password, phone=PHONE)
    assert [p.field for p in refusal.problems] == ["password"]
    assert "手机号" in refusal.problems[0].detail


def test_the_phone_is_recognised_however_it_was_written():
    refusal = _refusal(PHONE + "-Kite", phone="+86 159 3726 4810")
    assert "手机号" in refusal.problems[0].detail


def test_a_short_run_of_the_phone_digits_is_fine():
    # Seven digits of the phone in a strong passphrase: not the phone number.
    check_new_password("kite-9372648-river-lamp", phone=PHONE)


def test_seven_characters_are_too_few_and_the_message_says_eight():
    refusal = _refusal("Xq7#kLm", phone=PHONE)
    assert [p.field for p in refusal.problems] == ["password"]
    assert "8" in refusal.problems[0].detail


def test_the_name_counts_against_a_password_built_from_it():
    _refusal("zhangwei", name="zhangwei")
    _refusal("张伟张伟张伟张伟", name="张伟")


def test_the_refusal_names_the_field_it_was_given():
    refusal = _refusal("12345678", field="new_password")
    assert [p.field for p in refusal.problems] == ["new_password"]
    assert refusal.problems[0].pointer == "#/new_password"
    assert "新密码" in refusal.problems[0].detail


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("violet-harbour-tram-1987", id="passphrase"),
        pytest.param("z9Kp-2mQv#r", id="random"),
        pytest.param("我家门口有两棵枣树", id="chinese-sentence"),
        pytest.param(DEFAULT_PASSWORD, id="demo-password"),
        pytest.param(WORLD_PASSWORD, id="test-world-password"),
        pytest.param("partner-pass-123", id="partner-test-password"),
        pytest.param("new-password-123", id="reset-test-password"),
        pytest.param(LONG, id="128-characters"),
    ],
)
def test_strong_passwords_are_accepted(password):
    check_new_password(password, phone=PHONE, name="张伟")


def test_the_check_does_not_need_a_phone_or_name():
    check_new_password("violet-harbour-tram-1987")
    _refusal("password1")


def test_hashes_still_verify():
    stored = hash_password("violet-harbour-tram-1987")
    assert verify_password("violet-harbour-tram-1987", stored)
    assert not verify_password("violet-harbour-tram-1988", stored)
    assert not verify_password("anything-at-all", None)
