"""Members, the roles they hold on org units, and the dual-registration records of in-service
members' reports to the community where they live."""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from gridpoints.org.tables import OrgUnit
from gridpoints.partners.tables import PartnerUnit


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
