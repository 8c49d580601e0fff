"""The roles a member holds on an org unit, each with its Chinese label. What each role may
do is `auth.permissions`."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COMMITTEE_MEMBER = "committee_member"
    BRANCH_SECRETARY = "branch_secretary"
    GRID_LEADER = "grid_leader"
    BUILDING_HEAD = "building_head"
    UNIT_HEAD = "unit_head"
    BUILDING_STEWARD = "building_steward"
    VOLUNTEER = "volunteer"


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "管理员",
    Role.COMMITTEE_MEMBER: "评审委员",
    Role.BRANCH_SECRETARY: "支部书记",
    Role.GRID_LEADER: "网格长",
    Role.BUILDING_HEAD: "楼栋长",
    Role.UNIT_HEAD: "单元长",
    Role.BUILDING_STEWARD: "楼道管家",
    Role.VOLUNTEER: "志愿者",
}
