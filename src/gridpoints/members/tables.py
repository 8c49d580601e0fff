"""Members, the roles they hold on org units, partner units and the dual-registration
records that tie in-service members and their employers to a community."""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from gridpoints.org.tables import OrgUnit


class PartnerUnit(Table, tablename="partner_unit"):
    """An employer's Party organisation (报到单位/共建单位)."""

    name = Varchar(length=100, unique=True)
    kind = Varchar(length=20)
    contact_name = Varchar(length=50, null=True, default=None)
    contact_phone = Varchar(length=20, null=True, default=None)
    # The committee that registered the unit; it decides who may see and edit it.
    org_unit = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    created_at = Timestamptz()


class Member(Table, tablename="member"):
    name = Varchar(length=50)
    phone = Varchar(length=20, unique=True)
    category = Varchar(length=20, index=True)
    org_unit = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=20, default="active")
    password_hash = Varchar(length=255, null=True, default=None)
    # Set by a manager's reset: the temporary password must be changed at the next sign-in.
    must_change_password = Boolean(default=False)
    employer = Varchar(length=100, null=True, default=None)
    partner_unit = ForeignKey(
        PartnerUnit, null=True, default=None, on_delete=OnDelete.set_null, index=True
    )
    created_at = Timestamptz()
    updated_at = Timestamptz()


class RoleAssignment(Table, tablename="role_assignment"):
    """One role held by one member on one org unit (unique per triple)."""

    member = ForeignKey(Member, null=False, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=30)
    org_unit = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    granted_by = Integer(null=True, default=None)
    created_at = Timestamptz()


class UnitPairing(Table, tablename="unit_pairing"):
    """A partner unit pairs with a community under a co-building agreement (共建联建协议)."""

    partner_unit = ForeignKey(PartnerUnit, null=False, on_delete=OnDelete.restrict, index=True)
    community = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    agreement = Varchar(length=200)
    signed_on = Date()
    ends_on = Date(null=True, default=None)
    state = Varchar(length=20, default="active")
    created_at = Timestamptz()


class MemberRegistration(Table, tablename="member_registration"):
    """An in-service member reports (报到) to the community where they live."""

    member = ForeignKey(Member, null=False, on_delete=OnDelete.cascade, index=True)
    community = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict, index=True)
    partner_unit = ForeignKey(
        PartnerUnit, null=True, default=None, on_delete=OnDelete.set_null, index=True
    )
    reported_on = Date()
    ended_on = Date(null=True, default=None)
    state = Varchar(length=20, default="active")
    created_at = Timestamptz()
