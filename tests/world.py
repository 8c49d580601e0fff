"""A small world for tests, built through the services as the platform itself would:

测试街道 R
└── 测试社区 C                  admin (admin on C), partner unit P (+ pairing with C)
    ├── 甲片区 A                leader_a (grid_leader), viewer_a (volunteer role)
    │   └── 甲一小区 A1 └── 1号楼 A1-B1 └── 1单元 A1-B1-U1   member_a (in-service, employer P)
    └── 乙片区 B                leader_b (grid_leader), partner unit PB registered at B
        └── 乙一小区 B1 └── 1号楼 B1-B1 └── 1单元 B1-B1-U1   member_b (resident)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gridpoints.auth.principal import Principal
from gridpoints.auth.roles import Role
from gridpoints.jobs.dispatch import RunByCaller, start_job
from gridpoints.members import registration, services
from gridpoints.members.schemas import MemberCreate, RoleGrantIn
from gridpoints.members.vocab import Category
from gridpoints.org.services import UnitSpec, create_root_unit, create_units_bulk
from gridpoints.partners import services as partners
from gridpoints.partners.schemas import PairingIn, PartnerUnitIn
from gridpoints.partners.vocab import PartnerKind
from gridpoints.settings import Settings

PASSWORD = "correct-horse-1"
SYSTEM = Principal.system("test")


@dataclass
class World:
    units: dict[str, int]
    admin: int
    leader_a: int
    leader_b: int
    viewer_a: int
    member_a: int
    member_b: int
    partner: int
    partner_b: int
    pairing: int
    registration_a: int
    role_b: int
    job_b: int
    phones: dict[str, str]


async def build_world(settings: Settings) -> World:
    units = {"R": await create_root_unit(SYSTEM, "测试街道", "R", "街道")}
    tree = [
        ("R", "测试社区", "C", "社区"),
        ("C", "甲片区", "A", "片区"),
        ("C", "乙片区", "B", "片区"),
        ("A", "甲一小区", "A1", "小区"),
        ("B", "乙一小区", "B1", "小区"),
        ("A1", "1号楼", "A1-B1", "楼栋"),
        ("B1", "1号楼", "B1-B1", "楼栋"),
        ("A1-B1", "1单元", "A1-B1-U1", "单元"),
        ("B1-B1", "1单元", "B1-B1-U1", "单元"),
    ]
    for parent, name, code, level_name in tree:
        units.update(
            await create_units_bulk(SYSTEM, [UnitSpec(units[parent], name, code, level_name)])
        )
    partner = await partners.create_partner(
        SYSTEM,
        PartnerUnitIn(name="测试供电公司党委", kind=PartnerKind.ENTERPRISE, org_unit_id=units["C"]),
    )
    partner_b = await partners.create_partner(
        SYSTEM, PartnerUnitIn(name="乙片区共建单位", kind=PartnerKind.OTHER, org_unit_id=units["B"])
    )
    pairing = await partners.create_pairing(
        SYSTEM,
        partner.id,
        PairingIn(community_id=units["C"], agreement="共建协议", signed_on=date(2026, 1, 1)),
        settings,
    )
    phones = {
        "admin": "13900000001",
        "leader_a": "13900000002",
        "leader_b": "13900000003",
        "viewer_a": "13900000004",
        "member_a": "13900000005",
        "member_b": "13900000006",
    }

    async def member(key: str, name: str, unit: str, category: Category, **extra: object) -> int:
        created = await services.create_member(
            SYSTEM,
            MemberCreate(
                name=name, phone=phones[key], category=category, org_unit_id=units[unit], **extra
            ),
            settings,
        )
        return created.id

    admin = await member("admin", "管理员甲", "A1-B1-U1", Category.RESIDENT, password=PASSWORD)
    leader_a = await member("leader_a", "网格长甲", "A1-B1-U1", Category.RETIRED, password=PASSWORD)
    leader_b = await member("leader_b", "网格长乙", "B1-B1-U1", Category.RETIRED, password=PASSWORD)
    viewer_a = await member("viewer_a", "志愿者甲", "A1-B1-U1", Category.VOLUNTEER)
    member_a = await member(
        "member_a",
        "在职甲",
        "A1-B1-U1",
        Category.IN_SERVICE,
        partner_unit_id=partner.id,
        employer="测试供电公司",
    )
    member_b = await member("member_b", "居民乙", "B1-B1-U1", Category.RESIDENT)
    for who, role, unit in [
        (admin, Role.ADMIN, "C"),
        (leader_a, Role.GRID_LEADER, "A"),
        (viewer_a, Role.VOLUNTEER, "A"),
    ]:
        await services.grant_role(SYSTEM, who, RoleGrantIn(role=role, org_unit_id=units[unit]))
    role_b = await services.grant_role(
        SYSTEM, leader_b, RoleGrantIn(role=Role.GRID_LEADER, org_unit_id=units["B"])
    )
    registration_a = (await registration.registrations_of(SYSTEM, member_a))[0]
    leader_b_actor = Principal(member_id=leader_b, name="网格长乙")
    job_b = await start_job(
        RunByCaller(settings),
        leader_b_actor,
        "members.import",
        {"org_unit_id": units["B"]},
        org_unit_id=units["B"],
    )
    return World(
        units=units,
        admin=admin,
        leader_a=leader_a,
        leader_b=leader_b,
        viewer_a=viewer_a,
        member_a=member_a,
        member_b=member_b,
        partner=partner.id,
        partner_b=partner_b.id,
        pairing=pairing.id,
        registration_a=registration_a.id,
        role_b=role_b.id,
        job_b=job_b,
        phones=phones,
    )
