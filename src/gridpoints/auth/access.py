"""The one check every object read and write goes through, and the rank rule for acting on
another member.

`check(actor, Target(...), capability)` decides from what an object offers: the org unit it
belongs to (its materialised path), the member who owns it, and whether members living below
its unit are invited to it. A caller who may not see the object gets "not found", exactly as
for an id that does not exist, so ids of other grids reveal nothing; a caller who may see it
but not do what they ask gets "forbidden". Domain modules load their row and call `check`
through a thin `find_<object>` function of their own; nothing else decides.

Acting on another member (password, phone, status, home unit, category, roles) needs more
than a role above the member's home: the caller's authority must strictly *cover* the
target's (`covers_member`). For the target's home unit, and for each role R the target
holds on a unit U, the caller holds a role R' with the capability on a unit U' such that U
lies in U''s subtree and either U' is strictly above U or R' ranks above R (the order is
`permissions.ROLE_RANK`). So a sub-district admin covers a community admin; a building head
does not cover the community admin who lives in his building (her role sits above his
unit); two leaders of equal rank on one unit do not cover each other; nobody covers
themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from gridpoints.auth.permissions import Capability, outranks
from gridpoints.auth.principal import Principal, RoleGrant
from gridpoints.errors import Forbidden, NotFound
from gridpoints.unit_paths import covers


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """What the access check needs to know of one object.

    - `path`: the org unit the object belongs to (None: there is no such object);
    - `owner`: the member the object is about (their own check-in, record, account): they
      always see it, and doing more still needs a role;
    - `invites_residents`: members whose home unit lies in `path`'s subtree may see it
      (activities they may join, wishes they may claim);
    - `seen_from_below`: callers who see any unit in its subtree see it too (a partner unit
      paired with a community is visible to the community's grid leaders);
    - `seen_with`: the capability by which others see it (`view`, or `view_jobs` for jobs);
    - `owner_partner_unit`: the partner unit whose contacts see it (that unit's own record).
    """

    path: str | None
    owner: int | None = None
    owner_partner_unit: int | None = None
    invites_residents: bool = False
    seen_from_below: bool = False
    seen_with: Capability = Capability.VIEW


def sees(actor: Principal, target: Target) -> bool:
    """Whether `actor` may see the object at all (False for no object)."""
    path = target.path
    if path is None:
        return False
    if target.owner is not None and actor.is_member(target.owner):
        return True
    if target.owner_partner_unit is not None and actor.partner_unit_id == target.owner_partner_unit:
        return True
    if target.invites_residents and actor.home is not None and covers(path, actor.home):
        return True
    if actor.can(target.seen_with, path):
        return True
    return target.seen_from_below and any(
        covers(path, scope) for scope in actor.scopes(target.seen_with)
    )


def check(
    actor: Principal, target: Target, capability: Capability = Capability.VIEW, *, what: str
) -> None:
    """Raise NotFound unless `actor` sees the object; Forbidden unless they may also do what
    `capability` names on it (seeing is enough for `view` and for `target.seen_with`)."""
    if not sees(actor, target):
        raise NotFound(what)
    assert target.path is not None
    if capability in (Capability.VIEW, target.seen_with):
        return
    if not actor.can(capability, target.path):
        raise Forbidden(f"您没有权限对该{what}执行此操作")


def covers_grant(actor: Principal, capability: Capability, held: RoleGrant) -> bool:
    """Whether `actor` strictly covers a role held on a unit: a role of theirs with
    `capability` on that unit or above, strictly above it or ranking above the role."""
    return any(
        capability in mine.capabilities
        and covers(mine.path, held.path)
        and (mine.path != held.path or outranks(mine.role, held.role))
        for mine in actor.grants
    )


def covers_member(
    actor: Principal,
    capability: Capability,
    *,
    member_id: int,
    home_path: str,
    grants: Iterable[RoleGrant],
) -> bool:
    """Whether `actor` may change the member (see the module's docstring): never
    themselves; their home unit within the caller's `capability`; every role strictly
    covered."""
    if actor.is_member(member_id) or not actor.can(capability, home_path):
        return False
    return all(covers_grant(actor, capability, grant) for grant in grants)


def check_member_change(
    actor: Principal,
    capability: Capability,
    *,
    member_id: int,
    home_path: str | None,
    grants: Iterable[RoleGrant],
    what: str,
) -> None:
    """NotFound for a member the caller cannot see, Forbidden for one whose authority the
    caller does not strictly cover (or for the caller themselves)."""
    check(actor, Target(path=home_path, owner=member_id), what=what)
    assert home_path is not None
    if actor.is_member(member_id):
        raise Forbidden("不能修改自己的账号、职务或归属，请由上级管理员办理")
    if not covers_member(
        actor, capability, member_id=member_id, home_path=home_path, grants=grants
    ):
        raise Forbidden(f"该{what}的职务或所在单位不在您的管理权限之内")


def require(actor: Principal, capability: Capability, path: str | None, what: str) -> None:
    """`check` for an object that is only its org unit (`path`; None: no such object)."""
    check(actor, Target(path=path), capability, what=what)


def forbid_self_dealing(actor: Principal, *parties: int | None, action: str) -> None:
    """Nobody rules on, scores or confirms what is their own or what they submitted: Forbidden
    when the caller is one of `parties` (the member concerned, who submitted it, who
    claimed it)."""
    if any(party is not None and actor.is_member(party) for party in parties):
        raise Forbidden(f"不能{action}自己的或由自己提交的记录，请由其他负责人办理")
