"""API shapes of sign-in, for every kind of account."""

from __future__ import annotations

from typing import Annotated

import msgspec

from gridpoints.schemas import PhoneText


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: PhoneText
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
