"""API shapes of sign-in and the signed-in member."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from gridpoints.members.schemas import MemberDetail, Password


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: Annotated[str, msgspec.Meta(min_length=1, max_length=30, examples=["13800138000"])]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class MeOut(MemberDetail, kw_only=True):
    # Names from the top of the tree down to the member's home unit.
    org_unit_path: list[str]
    # Signed in with a temporary password: it must be changed before anything else.
    password_change_required: bool = False
    # The quarters the pages offer (`2026Q3`): the current one on the community's clock
    # (not the phone's) and those before it, newest first.
    recent_quarters: list[str]


class LoginOut(msgspec.Struct):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    member: MeOut
    password_change_required: bool = False


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    new_password: Password
