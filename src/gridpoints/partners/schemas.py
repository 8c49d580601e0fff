"""API shapes of partner units' accounts and their sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from gridpoints.members.schemas import Password, PersonName, PhoneText


class PartnerAccountIn(msgspec.Struct, forbid_unknown_fields=True):
    name: PersonName
    phone: PhoneText
    password: Password


class PartnerAccountOut(msgspec.Struct):
    id: int
    partner_unit_id: int
    name: str
    phone: str
    status: str
    created_at: datetime


class PartnerSelf(msgspec.Struct):
    """The signed-in contact and the unit whose record they may read."""

    account_id: int
    name: str
    partner_unit_id: int
    partner_unit_name: str


class PartnerLoginOut(msgspec.Struct):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    account: PartnerSelf
    # The quarters the partner page offers (`2026Q3`): the current one on the community's
    # clock and those before it, newest first.
    recent_quarters: list[str]
