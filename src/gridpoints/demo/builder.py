"""`gridpoints demo`: builds the demo community once, then only reports its accounts.

The community is shaped like seed 002 (汉唐街北社区): grids of 1 / 6 / 29 / 175 / 497 units
under one community, under one sub-district; about 600 members of every category, most of
them in-service and dual-registered with one of six paired partner units; role holders at
every level; and a year of service up to today, scored (`demo.history`). Every run builds the
same names, phones and roles (a fixed random seed).
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import msgspec

from gridpoints.audit.services import Change, record_many
from gridpoints.auth.passwords import hash_password, verify_password
from gridpoints.auth.principal import Principal
from gridpoints.auth.roles import Role
from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.demo import names
from gridpoints.demo.history import score_history, write_history
from gridpoints.members.adding import NewMember, add_members
from gridpoints.members.tables import Member, RoleAssignment
from gridpoints.members.vocab import Category
from gridpoints.org.queries import unit_ids_within
from gridpoints.org.services import UnitSpec, create_root_unit, create_units_bulk
from gridpoints.org.tables import OrgUnit
from gridpoints.partners.tables import PartnerUnit, UnitPairing
from gridpoints.partners.vocab import RecordState
from gridpoints.points.rulefiles import load_rulesets
from gridpoints.settings import Settings

DEFAULT_PASSWORD = "gridpoints-demo"
ROOT_CODE = "HTJD"
COMMUNITY_CODE = "HTB"
SEED = 2026
# 片区 -> 小区 -> 楼栋 -> 单元 counts under the community (seed 002: 6 / 29 / 175 / 497).
AREA_COUNT, COMPOUND_COUNT, BUILDING_COUNT, STAIRWELL_COUNT = 6, 29, 175, 497
CATEGORY_COUNTS = {
    Category.IN_SERVICE: 330,
    Category.RESIDENT: 90,
    Category.RETIRED: 100,
    Category.UNEMPLOYED: 25,
    Category.MIGRANT: 20,
    Category.VOLUNTEER: 40,
}
# The accounts `gridpoints demo` prints, one per kind, with easy phone numbers.
FEATURED_PHONES = {
    Role.ADMIN: "13800000001",
    Role.COMMITTEE_MEMBER: "13800000002",
    Role.BRANCH_SECRETARY: "13800000003",
    Role.GRID_LEADER: "13800000004",
    Role.BUILDING_HEAD: "13800000005",
    Role.UNIT_HEAD: "13800000006",
    Role.BUILDING_STEWARD: "13800000007",
    Role.VOLUNTEER: "13800000008",
}
DEMO_ACTOR = Principal.system("demo")


class DemoAccount(msgspec.Struct):
    role: str
    phone: str
    org_unit_id: int
    name: str


class DemoReport(msgspec.Struct):
    created: bool
    password: str
    accounts: list[DemoAccount]


async def build_demo(settings: Settings, password: str | None = None) -> DemoReport:
    """Build the demo community unless it exists; make sure the accounts take `password`."""
    password = password or DEFAULT_PASSWORD
    created = not await OrgUnit.exists().where(OrgUnit.code == ROOT_CODE)
    if created:
        await _build(settings, hash_password(password))
    else:
        await _align_password(password)
    return DemoReport(created=created, password=password, accounts=await featured_accounts())


async def featured_accounts() -> list[DemoAccount]:
    rows = await RoleAssignment.select(
        RoleAssignment.role,
        RoleAssignment.org_unit,
        RoleAssignment.member._.phone.as_alias("phone"),
        RoleAssignment.member._.name.as_alias("name"),
    ).where(RoleAssignment.member._.phone.is_in(list(FEATURED_PHONES.values())))
    by_role = {
        row["role"]: row for row in rows if FEATURED_PHONES.get(Role(row["role"])) == row["phone"]
    }
    return [
        DemoAccount(
            role=role.value, phone=row["phone"], org_unit_id=row["org_unit"], name=row["name"]
        )
        for role in FEATURED_PHONES
        if (row := by_role.get(role.value))
    ]


async def _align_password(password: str) -> None:
    """GRIDPOINTS_DEMO_PASSWORD may change between runs: give every demo account the new one."""
    sample = (
        await Member.select(Member.password_hash)
        .where(Member.phone == FEATURED_PHONES[Role.ADMIN])
        .first()
    )
    if sample is None or verify_password(password, sample["password_hash"]):
        return
    async with writing():
        demo_members = Member.select(Member.id).where(
            Member.org_unit.is_in(unit_ids_within([await _root_path()]))
        )
        await Member.update({Member.password_hash: hash_password(password)}).where(
            Member.id.is_in(demo_members)
        )
        await record_many(
            DEMO_ACTOR,
            [Change("demo.password_set", "member", None, None, after={"password": "set"})],
        )


async def _root_path() -> str:
    row = await OrgUnit.select(OrgUnit.path).where(OrgUnit.code == ROOT_CODE).first()
    return row["path"] if row else "/"


async def _build(settings: Settings, password_hash: str) -> None:
    rng = random.Random(SEED)
    level = settings.level_name
    root_id = await create_root_unit(DEMO_ACTOR, "汉唐街道", ROOT_CODE, level(0))
    community = await create_units_bulk(
        DEMO_ACTOR, [UnitSpec(root_id, "汉唐街北社区", COMMUNITY_CODE, level(1))]
    )
    community_id = community[COMMUNITY_CODE]
    areas = await create_units_bulk(
        DEMO_ACTOR,
        [
            UnitSpec(community_id, names.AREA_NAMES[i], f"{COMMUNITY_CODE}-{i + 1:02d}", level(2))
            for i in range(AREA_COUNT)
        ],
    )
    compound_specs = []
    area_codes = list(areas)
    for i in range(COMPOUND_COUNT):
        area_code = area_codes[i % AREA_COUNT]
        name = (
            names.COMPOUND_PREFIXES[i] + names.COMPOUND_SUFFIXES[i % len(names.COMPOUND_SUFFIXES)]
        )
        compound_specs.append(
            UnitSpec(areas[area_code], name, f"{area_code}-{i + 1:02d}", level(3))
        )
    compounds = await create_units_bulk(DEMO_ACTOR, compound_specs)
    buildings = await create_units_bulk(
        DEMO_ACTOR, _spread(compounds, BUILDING_COUNT, "{n}号楼", "B", level(4))
    )
    stairwells = await create_units_bulk(
        DEMO_ACTOR, _spread(buildings, STAIRWELL_COUNT, "{n}单元", "U", level(5))
    )
    async with writing():
        partners = await _partner_units(rng, community_id)
        members = await _members(
            rng, password_hash, list(stairwells.values()), partners, community_id
        )
        await _roles(
            rng,
            members,
            root_id,
            community_id,
            list(areas.values()),
            list(compounds.values()),
            list(buildings.values()),
            stairwells,
        )
        made = await write_history(rng, list(areas.values()))
        await record_many(
            DEMO_ACTOR, [Change("demo.history", "demo", None, community_id, after=made)]
        )
    await score_history(
        settings, load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    )


def _spread(
    parents: dict[str, int], total: int, pattern: str, tag: str, level_name: str
) -> list[UnitSpec]:
    """`total` children over the parents as evenly as the counts allow, numbered from 1."""
    codes = list(parents)
    specs = []
    for index, parent_code in enumerate(codes):
        count = total // len(codes) + (1 if index < total % len(codes) else 0)
        for n in range(1, count + 1):
            specs.append(
                UnitSpec(
                    parents[parent_code], pattern.format(n=n), f"{parent_code}-{tag}{n}", level_name
                )
            )
    return specs


async def _partner_units(rng: random.Random, community_id: int) -> list[int]:
    now = utcnow()
    inserted = await PartnerUnit.insert(
        *[
            PartnerUnit(
                name=name,
                kind=kind,
                contact_name=_person_name(rng),
                contact_phone=f"1370000{index:04d}",
                org_unit=community_id,
                created_at=now,
            )
            for index, (name, kind) in enumerate(names.PARTNER_UNITS, start=1)
        ]
    ).returning(PartnerUnit.id, PartnerUnit.name)
    ids = [row["id"] for row in inserted]
    pairings = await UnitPairing.insert(
        *[
            UnitPairing(
                partner_unit=partner_id,
                community=community_id,
                agreement="共建联建协议（2026 年度）",
                signed_on=date(2026, 1, 5),
                state=RecordState.ACTIVE.value,
                created_at=now,
            )
            for partner_id in ids
        ]
    ).returning(UnitPairing.id, UnitPairing.partner_unit)
    await record_many(
        DEMO_ACTOR,
        [
            Change(
                "partner_unit.create",
                "partner_unit",
                row["id"],
                community_id,
                after={"name": row["name"]},
            )
            for row in inserted
        ]
        + [
            Change(
                "pairing.create",
                "unit_pairing",
                row["id"],
                community_id,
                after={"partner_unit": row["partner_unit"], "community": community_id},
            )
            for row in pairings
        ],
    )
    return ids


def _person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(names.GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(names.SURNAMES) + given


async def _members(
    rng: random.Random,
    password_hash: str,
    stairwell_ids: list[int],
    partners: list[int],
    community_id: int,
) -> list[dict[str, Any]]:
    """The members, those in service dual-registered with the community."""
    categories = [c for c, n in CATEGORY_COUNTS.items() for _ in range(n)]
    rng.shuffle(categories)
    new = []
    for index, category in enumerate(categories):
        employer, partner = None, None
        if category is Category.IN_SERVICE:
            if rng.random() < 0.85:
                partner = rng.choice(partners)
                employer = names.PARTNER_UNITS[partners.index(partner)][0]
            else:
                employer = rng.choice(names.OTHER_EMPLOYERS)
        new.append(
            NewMember(
                name=_person_name(rng),
                phone=f"1390000{index:04d}",
                category=category,
                org_unit=rng.choice(stairwell_ids),
                password_hash=password_hash,
                employer=employer,
                partner_unit=partner,
                community=community_id,
            )
        )
    added = await add_members(DEMO_ACTOR, new, reported_on=date(2026, 1, 10), source="demo")
    return [
        {
            "id": member_id,
            "category": m.category.value,
            "org_unit": m.org_unit,
            "partner_unit": m.partner_unit,
            "name": m.name,
            "phone": m.phone,
        }
        for m, member_id in zip(new, added.member_ids, strict=True)
    ]


async def _roles(
    rng: random.Random,
    members: list[dict[str, Any]],
    root_id: int,
    community_id: int,
    area_ids: list[int],
    compound_ids: list[int],
    building_ids: list[int],
    stairwells: dict[str, int],
) -> None:
    """Role holders at every level; the first of each kind gets a featured, easy phone."""
    pool = list(members)
    rng.shuffle(pool)
    picks = iter(pool)
    grants: list[tuple[Role, int, dict[str, Any]]] = [
        (Role.ADMIN, community_id, next(picks)),
        (Role.ADMIN, root_id, next(picks)),
    ]
    grants += [(Role.COMMITTEE_MEMBER, community_id, next(picks)) for _ in range(5)]
    grants += [(Role.BRANCH_SECRETARY, unit, next(picks)) for unit in area_ids]
    grants += [(Role.GRID_LEADER, unit, next(picks)) for unit in compound_ids]
    grants += [(Role.BUILDING_HEAD, unit, next(picks)) for unit in building_ids]
    # Unit heads for every third stairwell; the rest are led by their building head.
    grants += [(Role.UNIT_HEAD, unit, next(picks)) for unit in list(stairwells.values())[::3]]
    grants += [(Role.BUILDING_STEWARD, unit, next(picks)) for unit in building_ids[::6]]
    volunteers = [m for m in pool if m["category"] == Category.VOLUNTEER.value]
    grants += [
        (Role.VOLUNTEER, compound_ids[i % len(compound_ids)], m) for i, m in enumerate(volunteers)
    ]
    changes = await _feature_accounts(grants)
    now = utcnow()
    inserted = await RoleAssignment.insert(
        *[
            RoleAssignment(member=m["id"], role=role.value, org_unit=unit, created_at=now)
            for role, unit, m in grants
        ]
    ).returning(
        RoleAssignment.id, RoleAssignment.member, RoleAssignment.role, RoleAssignment.org_unit
    )
    await record_many(
        DEMO_ACTOR,
        changes
        + [
            Change(
                "role.grant",
                "role_assignment",
                row["id"],
                row["org_unit"],
                after={"member": row["member"], "role": row["role"], "org_unit": row["org_unit"]},
            )
            for row in inserted
        ],
    )


async def _feature_accounts(grants: list[tuple[Role, int, dict[str, Any]]]) -> list[Change]:
    """Give the first holder of each role (one role per person) an easy phone number."""
    changes: list[Change] = []
    featured_roles: set[Role] = set()
    featured_members: set[int] = set()
    for role, _unit, member in grants:
        if role in featured_roles or member["id"] in featured_members:
            continue
        featured_roles.add(role)
        featured_members.add(member["id"])
        before = member["phone"]
        member["phone"] = FEATURED_PHONES[role]
        await Member.update({Member.phone: member["phone"]}).where(Member.id == member["id"])
        changes.append(
            Change(
                "member.update",
                "member",
                member["id"],
                member["org_unit"],
                before={"phone": before},
                after={"phone": member["phone"]},
            )
        )
    return changes
