"""The signed-in caller: who they are and which roles they hold where.

`Principal.can(capability, path)`: the caller holds a role with that capability on the
unit at `path` or on one above it. Object reads and writes go through `auth.access.check`,
which builds on it.
"""

from __future__ import annotations

import msgspec

from gridpoints.auth.permissions import ROLE_CAPABILITIES, Capability
from gridpoints.auth.roles import Role
from gridpoints.unit_paths import ROOT_SCOPE, covers, minimal_scopes


class RoleGrant(msgspec.Struct, frozen=True):
    role: Role
    org_unit_id: int
    path: str

    @property
    def capabilities(self) -> frozenset[Capability]:
        return ROLE_CAPABILITIES[self.role]


class Principal(msgspec.Struct, frozen=True):
    member_id: int | None
    name: str
    grants: tuple[RoleGrant, ...] = ()
    # The path of the member's own grid unit, when loaded with the principal.
    home: str | None = None
    # A partner unit's contact (no member, no roles): may read that unit's own record.
    partner_unit_id: int | None = None
    partner_account_id: int | None = None
    # The sign-in session the request's token names (None for the platform itself).
    session_id: int | None = None
    # A temporary password set by a manager: only changing it is allowed until then.
    must_change_password: bool = False

    @classmethod
    def system(cls, name: str = "system") -> Principal:
        """The command line and the platform itself: admin over the whole tree."""
        return cls(member_id=None, name=name, grants=(RoleGrant(Role.ADMIN, 0, ROOT_SCOPE),))

    @property
    def label(self) -> str:
        return self.name if self.member_id is None else f"{self.name}#{self.member_id}"

    def can(self, capability: Capability, path: str) -> bool:
        return any(
            capability in ROLE_CAPABILITIES[grant.role] and covers(grant.path, path)
            for grant in self.grants
        )

    def scopes(self, capability: Capability) -> list[str]:
        """The fewest paths that cover every unit where the caller has `capability`."""
        return minimal_scopes(
            [g.path for g in self.grants if capability in ROLE_CAPABILITIES[g.role]]
        )

    def capabilities_at(self, path: str) -> frozenset[Capability]:
        held: set[Capability] = set()
        for grant in self.grants:
            if covers(grant.path, path):
                held |= ROLE_CAPABILITIES[grant.role]
        return frozenset(held)

    def is_member(self, member_id: int) -> bool:
        return self.member_id is not None and self.member_id == member_id


class Caller(msgspec.Struct, frozen=True):
    """A valid token's member and session, on a route that loads the principal itself (see
    `auth.tokens.LOADS_OWN_PRINCIPAL`): not yet known to be active with the session
    standing, and holding no roles."""

    member_id: int
    session_id: int
