"""The words of the domain: member categories (五管 plus volunteers) and statuses,
each with its Chinese label. Imports and exports read and write the labels."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    RESIDENT = "resident"
    IN_SERVICE = "in_service"
    RETIRED = "retired"
    UNEMPLOYED = "unemployed"
    MIGRANT = "migrant"
    VOLUNTEER = "volunteer"


CATEGORY_LABELS: dict[Category, str] = {
    Category.RESIDENT: "居民党员",
    Category.IN_SERVICE: "在职党员",
    Category.RETIRED: "离退休党员",
    Category.UNEMPLOYED: "无职党员",
    Category.MIGRANT: "流动党员",
    Category.VOLUNTEER: "志愿者",
}

# What people write in a spreadsheet's 类别 column, besides the labels above.
CATEGORY_ALIASES: dict[str, Category] = {
    **{label: category for category, label in CATEGORY_LABELS.items()},
    **{category.value: category for category in Category},
    "居民": Category.RESIDENT,
    "直管": Category.RESIDENT,
    "在职": Category.IN_SERVICE,
    "共管": Category.IN_SERVICE,
    "离退休": Category.RETIRED,
    "退休": Category.RETIRED,
    "联管": Category.RETIRED,
    "无职": Category.UNEMPLOYED,
    "接管": Category.UNEMPLOYED,
    "流动": Category.MIGRANT,
    "协管": Category.MIGRANT,
    "非党员志愿者": Category.VOLUNTEER,
}


def parse_category(text: str) -> Category | None:
    return CATEGORY_ALIASES.get(text.strip())


class MemberStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    MOVED_OUT = "moved_out"


STATUS_LABELS: dict[MemberStatus, str] = {
    MemberStatus.ACTIVE: "在册",
    MemberStatus.INACTIVE: "停用",
    MemberStatus.MOVED_OUT: "已迁出",
}
