"""What each role may do, and the one rank order of roles. A role is held on an org unit and
acts on that unit and everything below it; `Principal.can` joins the two, and
`auth.access` holds the rule that uses the rank."""

from __future__ import annotations

from enum import StrEnum

from gridpoints.auth.roles import Role


class Capability(StrEnum):
    VIEW = "view"  # see the unit, its members (phones masked) and its records
    MANAGE_MEMBERS = "manage_members"  # add and edit members, see their phone numbers
    MANAGE_ORG = "manage_org"  # add org units below the unit
    MANAGE_ROLES = "manage_roles"  # appoint and remove role holders
    MANAGE_PARTNERS = "manage_partners"  # partner units, pairings, registrations
    VIEW_AUDIT = "view_audit"
    VIEW_JOBS = "view_jobs"  # see background jobs others started on the unit
    MANAGE_ACTIVITIES = "manage_activities"  # organise activities, show their check-in code
    ADJUST_POINTS = "adjust_points"  # manual ledger adjustments, with a reason
    MANAGE_SCORING = "manage_scoring"  # dry-runs of changed rules, rescoring open quarters


_LEADER = {Capability.VIEW, Capability.MANAGE_MEMBERS, Capability.MANAGE_ACTIVITIES}

ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.COMMITTEE_MEMBER: frozenset(
        {
            *_LEADER,
            Capability.MANAGE_ROLES,
            Capability.MANAGE_PARTNERS,
            Capability.VIEW_AUDIT,
            Capability.VIEW_JOBS,
            Capability.ADJUST_POINTS,
            Capability.MANAGE_SCORING,
        }
    ),
    Role.BRANCH_SECRETARY: frozenset({*_LEADER, Capability.MANAGE_ROLES}),
    Role.GRID_LEADER: frozenset(_LEADER),
    Role.BUILDING_HEAD: frozenset(_LEADER),
    Role.UNIT_HEAD: frozenset(_LEADER),
    Role.BUILDING_STEWARD: frozenset({Capability.VIEW}),
    Role.VOLUNTEER: frozenset({Capability.VIEW}),
}


# The one rank order, highest first: where two roles sit on the same unit, only the higher
# one covers the other (`auth.access.covers_grant`).
ROLE_RANK: tuple[Role, ...] = (
    Role.ADMIN,
    Role.COMMITTEE_MEMBER,
    Role.BRANCH_SECRETARY,
    Role.GRID_LEADER,
    Role.BUILDING_HEAD,
    Role.UNIT_HEAD,
    Role.BUILDING_STEWARD,
    Role.VOLUNTEER,
)
_RANK_OF = {role: index for index, role in enumerate(ROLE_RANK)}


def outranks(role: Role, other: Role) -> bool:
    """True when `role` ranks strictly above `other`."""
    return _RANK_OF[role] < _RANK_OF[other]


# Appointing someone to these roles needs the appointer to hold the role's capabilities too.
def may_appoint(appointer_capabilities: frozenset[Capability], role: Role) -> bool:
    return ROLE_CAPABILITIES[role] <= appointer_capabilities
