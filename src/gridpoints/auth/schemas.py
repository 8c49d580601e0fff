"""API shapes of sign-in, for every kind of account."""

from __future__ import annotations

from typing import Annotated

import msgspec


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: Annotated[str, msgspec.Meta(min_length=1, max_length=30, examples=["13800138000"])]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
