"""API shapes of partner units, their pairings with communities, their contacts' accounts
and their sign-in."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from gridpoints.partners.vocab import PartnerKind, RecordState
from gridpoints.schemas import VISIBLE, Day, Id, OrgName, Password, PersonName, PhoneText

Agreement = Annotated[str, VISIBLE, msgspec.Meta(min_length=1, max_length=200)]


class PartnerUnitIn(msgspec.Struct, forbid_unknown_fields=True):
    name: OrgName
    kind: PartnerKind
    org_unit_id: Id
    contact_name: PersonName | None = None
    contact_phone: PhoneText | None = None


class PartnerUnitOut(msgspec.Struct):
    id: int
    name: str
    kind: PartnerKind
    org_unit_id: int
    contact_name: str | None
    contact_phone: str | None
    member_count: int


class PairingIn(msgspec.Struct, forbid_unknown_fields=True):
    community_id: Id
    agreement: Agreement
    signed_on: Day
    ends_on: Day | None = None


class PairingOut(msgspec.Struct):
    id: int
    partner_unit_id: int
    community_id: int
    community_name: str
    agreement: str
    signed_on: date
    ends_on: date | None
    state: RecordState


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
