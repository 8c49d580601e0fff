"""Passwords: the policy for a new one, and their hashes (argon2id, the library's current
parameters).

The policy (`check_new_password`), applied wherever a password is set:
- at least 8 characters;
- not the phone number, nor any run of 8 of its digits (a phone's last 8 digits are as
  easy to find out as the whole number; shorter runs are left alone, they are too often
  part of a date or a year by chance);
- not one of the 30,000 most common passwords that zxcvbn ships (case-insensitive), and not
  easily guessed by zxcvbn's estimate (score below 2: fewer than about a million guesses),
  with the phone and the name given to it as words the guesser knows. The list catches the
  plain cases with a clear message; the estimate catches what the list cannot enumerate:
  dates (`19900101`), repeats (`88888888`), keyboard runs and sequences (`abcd1234`), common
  words with digits (`woaini1314`), and the member's own name.
The estimate runs on the first `_ESTIMATED_LENGTH` characters only: its time grows with the
length, and a password whose beginning is hard to guess is not weakened by what follows.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from gridpoints.errors import Invalid
from gridpoints.phones import phone_digits as phone_digits_of

_hasher = PasswordHasher()

MIN_LENGTH = 8
# A run of this many of the phone's digits counts as the phone number.
_PHONE_RUN = 8
# zxcvbn's score: 0 and 1 fall to an online attacker within about a million guesses.
_MIN_SCORE = 2
_ESTIMATED_LENGTH = 64
_LABELS = {"password": "密码", "new_password": "新密码", "admin_password": "管理员密码"}


def check_new_password(
    password: str, *, phone: str | None = None, name: str | None = None, field: str = "password"
) -> None:
    """Refuse a password that breaks the policy above: `Invalid` naming `field`, with a
    Chinese message that names it by its label."""
    label = _LABELS.get(field, "密码")
    if len(password) < MIN_LENGTH:
        raise Invalid.field(field, f"{label}至少需要 {MIN_LENGTH} 个字符")
    phone_digits = phone_digits_of(phone)
    if phone_digits and _holds_run_of(password, phone_digits):
        raise Invalid.field(
            field, f"{label}不能是手机号，也不能包含手机号中连续 {_PHONE_RUN} 位数字"
        )
    if password.lower() in _common_passwords():
        raise Invalid.field(field, f"{label}过于常见，很容易被猜到，请换一个")
    user_inputs = [value for value in (phone_digits, name and name.strip()) if value]
    estimate = zxcvbn(
        password[:_ESTIMATED_LENGTH], user_inputs=user_inputs, max_length=_ESTIMATED_LENGTH
    )
    if estimate["score"] < _MIN_SCORE:
        raise Invalid.field(
            field,
            f"{label}太容易被猜到（如生日、重复或连续的字符、姓名），请用更长的、不易猜到的组合",
        )


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def _holds_run_of(password: str, phone_digits: str) -> bool:
    if len(phone_digits) < _PHONE_RUN:
        return False  # not a phone number anyone could look up
    runs = {phone_digits[i : i + _PHONE_RUN] for i in range(len(phone_digits) - _PHONE_RUN + 1)}
    return any(run in password for run in runs)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return _hasher.hash("gridpoints-decoy-password")


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when `password` matches. A member without a password still costs one argon2
    verification, so timing does not tell which phones have accounts."""
    try:
        return _hasher.verify(password_hash or _decoy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
