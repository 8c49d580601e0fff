"""Every signed-in member reads the rules in force, with labels, conditions, points and caps."""

from __future__ import annotations

from tests.conftest import bearer


async def test_members_read_the_rules_in_force(client, world):
    anonymous = await client.get("/api/v1/rulesets")
    assert anonymous.status_code == 401
    answer = await client.get("/api/v1/rulesets", headers=bearer(client, world.member_a))
    assert answer.status_code == 200, answer.text
    (default,) = answer.json()
    assert default["id"] == "default" and default["in_force"] is True
    assert len(default["version"]) == 16
    rules = {rule["id"]: rule for rule in default["rules"]}
    assert rules["activity-hours"]["per_hour"] == 2
    assert rules["activity-hours"]["cap_per_quarter"] == 60
    assert rules["activity-hours"]["event_label"] == "参加志愿活动"
    assert rules["in-service-no-activity"]["fixed"] == -5
    assert rules["in-service-no-activity"]["member_categories"] == ["in_service"]
