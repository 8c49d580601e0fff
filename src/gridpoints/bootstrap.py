"""The first steps of a real deployment: the top of the grid tree and its first admin.

Everything else (the rest of the tree, members, roles) is done by that admin through the API
or `gridpoints import-members`. Bootstrapping is all or nothing, and only into an empty tree.
"""

from __future__ import annotations

import msgspec

from gridpoints.auth.passwords import check_new_password
from gridpoints.auth.principal import Principal
from gridpoints.auth.roles import Role
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict, Invalid
from gridpoints.members import services as members
from gridpoints.members.schemas import MemberCreate, RoleGrantIn
from gridpoints.members.vocab import Category
from gridpoints.org.services import UnitSpec, create_root_unit, create_units_bulk
from gridpoints.org.tables import OrgUnit
from gridpoints.settings import Settings


class BootstrapIn(msgspec.Struct, frozen=True, kw_only=True):
    top_name: str
    community_name: str
    admin_name: str
    admin_phone: str
    admin_password: str


class BootstrapOut(msgspec.Struct, frozen=True):
    top_id: int
    community_id: int
    admin_id: int


async def bootstrap(settings: Settings, data: BootstrapIn) -> BootstrapOut:
    """Create the top unit, one community under it, and an admin of that community."""
    actor = Principal.system("bootstrap")
    # Validated the way the API validates it, before anything is written.
    try:
        admin = msgspec.convert(
            {
                "name": data.admin_name,
                "phone": data.admin_phone,
                "category": Category.RESIDENT.value,
                "org_unit_id": 1,
                "password": data.admin_password,
            },
            MemberCreate,
        )
    except msgspec.ValidationError as exc:
        raise Invalid.field("admin", str(exc)) from exc
    check_new_password(
        data.admin_password, phone=admin.phone, name=admin.name, field="admin_password"
    )
    top_level, community_level = settings.org_level_names[0], settings.community_level_name
    async with writing():
        if await OrgUnit.exists():
            raise Conflict("已有网格数据，不能再次初始化", code="already_bootstrapped")
        top_id = await create_root_unit(actor, data.top_name, "top", top_level)
        codes = await create_units_bulk(
            actor, [UnitSpec(top_id, data.community_name, "community", community_level)]
        )
        community_id = codes["community"]
        created = await members.create_member(
            actor, msgspec.structs.replace(admin, org_unit_id=community_id), settings
        )
        await members.grant_role(
            actor, created.id, RoleGrantIn(role=Role.ADMIN, org_unit_id=community_id)
        )
    return BootstrapOut(top_id=top_id, community_id=community_id, admin_id=created.id)
