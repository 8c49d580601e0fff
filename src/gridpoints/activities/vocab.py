"""Activity categories: the eight duties of a grid worker (八大员) by default.

The list in force is `Settings.activity_categories`; a code outside this table is allowed
there and shows as itself.
"""

from __future__ import annotations

DEFAULT_CATEGORY_LABELS: dict[str, str] = {
    "corridor_facilities": "楼道设施",
    "emergency_response": "应急处突",
    "policy_publicity": "政策宣传",
    "resident_service": "居民服务",
    "dispute_mediation": "矛盾调解",
    "volunteer_liaison": "志愿联络",
    "hygiene_epidemic": "卫生防疫",
    "civility_campaign": "文明创建",
}


def category_label(code: str) -> str:
    return DEFAULT_CATEGORY_LABELS.get(code, code)
