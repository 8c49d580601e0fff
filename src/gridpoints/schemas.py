"""Shapes shared by every API area: pages of results and constrained scalar types.

Request Structs build their fields from these, so one rule holds on every route: ids in
range, times with their UTC offset, names with at least one visible character and no control
characters. (A NUL byte anywhere, numbers sent as strings and dates outside 2000–2100 are
refused for every route by `web.input_guard`.)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Generic, TypeVar

import msgspec

T = TypeVar("T")

Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1, description="An object id")]

# The years a date or time of this platform may fall in; anything else is a typing slip.
FIRST_YEAR, LAST_YEAR = 2000, 2100

# A time the caller must give with its offset (`Z` or `+08:00`): a time without one would be
# read as UTC, eight hours off for a community in China.
AwareDatetime = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description=f"ISO 8601 with a UTC offset, years {FIRST_YEAR}–{LAST_YEAR}",
        examples=["2026-11-30T09:00:00+08:00"],
    ),
]
Day = Annotated[
    date,
    msgspec.Meta(description=f"ISO 8601 date, years {FIRST_YEAR}–{LAST_YEAR}"),
]

# Control characters (C0, DEL, C1) may stand nowhere in a name; at least one character must be
# visible (not a space of any kind, not a zero-width or direction mark).
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_INVISIBLE = (
    r"\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202f"
    r"\u205f-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
)
VISIBLE_TEXT_PATTERN = f"^[^{_CONTROL}]*[^{_CONTROL}{_INVISIBLE}][^{_CONTROL}]*$"
# Free text (descriptions, reasons) may hold line breaks and tabs, but no other control
# character.
PLAIN_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

# What each pattern means, for the person at the screen (see `web.problems`).
PATTERN_MEANINGS = {
    VISIBLE_TEXT_PATTERN: "须含可见文字，且不能含控制字符",
    PLAIN_TEXT_PATTERN: "不能含控制字符",
}


# Add to a `str` field's Annotated: `Annotated[str, VISIBLE, msgspec.Meta(max_length=50)]`.
VISIBLE = msgspec.Meta(pattern=VISIBLE_TEXT_PATTERN)
PLAIN = msgspec.Meta(pattern=PLAIN_TEXT_PATTERN)


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def both_or_neither(struct: msgspec.Struct, first: str, second: str, *, absent: object) -> None:
    """For a Struct's `__post_init__`: two fields that only make sense together (a latitude
    and its longitude) are given both or neither; msgspec reports the ValueError as a
    validation error, which `web.problems` turns into a problem naming the missing one."""
    given = [getattr(struct, name) is not absent for name in (first, second)]
    if given[0] != given[1]:
        missing, other = (second, first) if given[0] else (first, second)
        raise ValueError(f"field `{missing}`: 须与 {other} 同时给出（或两者都不给）")


# Names and phone numbers as forms send them. A phone is checked by `phones.normalise_phone`
# alone (full-width digits, `+86`, separators and invisible marks allowed; the reason for a
# refusal in Chinese), not by a pattern here.
PersonName = Annotated[str, VISIBLE, msgspec.Meta(min_length=1, max_length=50)]
PhoneText = Annotated[
    str,
    msgspec.Meta(
        description="A mobile number as typed: full-width digits, +86/0086, spaces, dashes, "
        "dots and brackets are accepted",
        examples=["13800138000", "+86 138-0013-8000"],
    ),
]
# Length and strength are checked by `auth.passwords.check_new_password`, in Chinese.
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
OrgName = Annotated[str, VISIBLE, msgspec.Meta(min_length=1, max_length=100)]


class EndIn(msgspec.Struct, forbid_unknown_fields=True):
    """Ending a record (a registration, a pairing) on a day."""

    ended_on: Day
