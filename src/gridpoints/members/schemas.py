"""API shapes of members, roles and their dual registration (reports to a community)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from gridpoints.auth.roles import Role
from gridpoints.members.vocab import Category, MemberStatus
from gridpoints.partners.vocab import RecordState
from gridpoints.schemas import Day, Id, OrgName, Password, PersonName, PhoneText


class RoleOut(msgspec.Struct):
    id: int
    role: Role
    org_unit_id: int
    org_unit_name: str


class RegistrationOut(msgspec.Struct):
    id: int
    member_id: int
    community_id: int
    community_name: str
    partner_unit_id: int | None
    partner_unit_name: str | None
    reported_on: date
    ended_on: date | None
    state: RecordState


class MemberOut(msgspec.Struct):
    id: int
    name: str
    # Full number for callers who manage the member (and the member), else masked.
    phone: str
    phone_masked: bool
    category: Category
    org_unit_id: int
    org_unit_name: str
    status: MemberStatus
    employer: str | None
    partner_unit_id: int | None
    created_at: datetime
    updated_at: datetime


class MemberDetail(MemberOut, kw_only=True):
    roles: list[RoleOut]
    registration: RegistrationOut | None


class MemberCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: PersonName
    phone: PhoneText
    category: Category
    org_unit_id: Id
    employer: OrgName | None = None
    partner_unit_id: Id | None = None
    password: Password | None = None


class MemberPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: PersonName | msgspec.UnsetType = msgspec.UNSET
    phone: PhoneText | msgspec.UnsetType = msgspec.UNSET
    category: Category | msgspec.UnsetType = msgspec.UNSET
    org_unit_id: Id | msgspec.UnsetType = msgspec.UNSET
    status: MemberStatus | msgspec.UnsetType = msgspec.UNSET
    employer: OrgName | msgspec.UnsetType | None = msgspec.UNSET
    partner_unit_id: Id | msgspec.UnsetType | None = msgspec.UNSET


class PasswordSet(msgspec.Struct, forbid_unknown_fields=True):
    password: Password


class RoleGrantIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Role
    org_unit_id: Id


class RegistrationIn(msgspec.Struct, forbid_unknown_fields=True):
    reported_on: Day
    partner_unit_id: Id | None = None


class ImportStarted(msgspec.Struct):
    job_id: int


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
