"""Rule sets as files: the shipped set passes, every problem of a bad one is named with its
file, rule and field, the version is the hash of the content, and points round as written."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from gridpoints.app import create_app
from gridpoints.points.rulefiles import RuleSetsInvalid, read_rulesets
from gridpoints.points.rules import Points, Rule
from gridpoints.resources import resource_dir
from gridpoints.settings import DEFAULT_ACTIVITY_CATEGORIES, load_settings
from tests.test_cli import _env, gridpoints

CATEGORIES = tuple(DEFAULT_ACTIVITY_CATEGORIES)
SHIPPED = resource_dir("scoring_rules")

GOOD_HEAD = 'id = "{id}"\nlabel = "测试规则"\neffective_from = {start}\n{end}{scope}'
GOOD_RULE = '[[rules]]\nid = "r1"\nlabel = "活动"\nevent = "checkin"\npoints = { fixed = 1 }\n'


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _set(id_: str = "s", start: str = "2026-01-01", end: str = "", scope: str = "") -> str:
    end_line = f"effective_to = {end}\n" if end else ""
    scope_line = f'scope = "{scope}"\n' if scope else ""
    return GOOD_HEAD.format(id=id_, start=start, end=end_line, scope=scope_line) + "\n"


def _problems(path: Path) -> set[tuple[str, str | None, str]]:
    _, problems = read_rulesets(path, CATEGORIES)
    return {(p.source, p.rule, p.field) for p in problems}


def test_the_shipped_rule_set_passes_and_its_version_is_the_hash_of_its_file():
    sets, problems = read_rulesets(SHIPPED, CATEGORIES)
    assert problems == []
    (default,) = sets
    data = (SHIPPED / default.source).read_bytes()
    assert default.version == hashlib.sha256(data).hexdigest()[:16]
    kinds = {rule.event for rule in default.spec.rules}
    assert kinds == {"checkin", "service", "wish", "period_end"}


def test_an_edited_comment_makes_a_new_version(tmp_path):
    shutil.copy(SHIPPED / "default.toml", tmp_path / "default.toml")
    (before,), _ = read_rulesets(tmp_path, CATEGORIES)
    with (tmp_path / "default.toml").open("a", encoding="utf-8") as file:
        file.write("\n# 修改说明\n")
    (after,), _ = read_rulesets(tmp_path, CATEGORIES)
    assert before.version != after.version


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        pytest.param('categories = ["juggling"]', "categories", id="unknown-category"),
        pytest.param('member_categories = ["king"]', "member_categories", id="unknown-member"),
        pytest.param('roles = ["emperor"]', "roles", id="unknown-role"),
        pytest.param("cap_per_quarter = -3", "cap_per_quarter", id="negative-cap"),
        pytest.param('cap_per_event = "ten"', "cap_per_event", id="cap-not-a-number"),
        pytest.param("min_hours = -1", "min_hours", id="negative-hours"),
        pytest.param('when = "no_activity"', "when", id="when-outside-period-end"),
        pytest.param("colour = 3", "colour", id="unknown-field"),
    ],
)
def test_each_bad_rule_is_named_with_file_rule_and_field(tmp_path, rule, field):
    text = _set() + GOOD_RULE.replace("points =", rule + "\npoints =")
    _write(tmp_path, "bad.toml", text)
    assert ("bad.toml", "r1", field) in _problems(tmp_path)


def test_points_have_at_most_two_decimals(tmp_path):
    _write(tmp_path, "bad.toml", _set() + GOOD_RULE.replace("fixed = 1", "per_hour = 1.125"))
    assert _problems(tmp_path) == {("bad.toml", "r1", "points.per_hour")}


def test_every_problem_of_a_file_is_reported_not_just_the_first(tmp_path):
    text = (
        _set(end="2025-06-30")
        + '[[rules]]\nid = "a"\nlabel = "甲"\nevent = "checkin"\npoints = { per_hour = "x" }\n'
        + '[[rules]]\nid = "b"\nlabel = "乙"\nevent = "party"\npoints = { fixed = 1 }\n'
        + '[[rules]]\nid = "b"\nlabel = "丙"\nevent = "period_end"\npoints = { fixed = 1 }\n'
    )
    _write(tmp_path, "many.toml", text)
    assert _problems(tmp_path) == {
        ("many.toml", "a", "points.per_hour"),
        ("many.toml", "b", "event"),
        ("many.toml", "b", "id"),
        ("many.toml", "b", "when"),
        ("many.toml", None, "effective_to"),
    }


def test_overlapping_sets_of_one_scope_are_refused_and_other_scopes_may_overlap(tmp_path):
    _write(tmp_path, "a.toml", _set("a", "2026-01-01", "2026-06-30") + GOOD_RULE)
    _write(tmp_path, "b.toml", _set("b", "2026-06-01") + GOOD_RULE)
    _write(tmp_path, "c.toml", _set("c", "2026-01-01", scope="C1") + GOOD_RULE)
    assert _problems(tmp_path) == {("b.toml", None, "effective_from")}
    (tmp_path / "b.toml").write_text(_set("b", "2026-07-01") + GOOD_RULE, encoding="utf-8")
    assert _problems(tmp_path) == set()


def test_a_file_that_is_not_toml_is_named(tmp_path):
    _write(tmp_path, "broken.toml", "id = \n[[rules")
    assert _problems(tmp_path) == {("broken.toml", None, "(文件)")}


@pytest.mark.parametrize(
    ("points", "minutes", "expected"),
    [
        (Points(per_hour=2, rounding="down"), 95, 3),
        (Points(per_hour=2, rounding="up"), 95, 4),
        (Points(per_hour=2, rounding="half_up"), 45, 2),
        (Points(per_hour=2, rounding="half_up"), 44, 1),
        (Points(fixed=1, per_hour=1, multiplier=1.5), 60, 3),
        (Points(per_hour=2), 600, 8),
        (Points(fixed=-20), 0, -8),
    ],
)
def test_points_are_rounded_as_written_and_capped_per_event(points, minutes, expected):
    rule = Rule(id="r", label="规则", event="checkin", points=points, cap_per_event=8)
    assert rule.amount(minutes) == expected


def test_the_platform_does_not_start_with_a_broken_rule_set(tmp_path):
    bad = _write(tmp_path / "rules", "bad.toml", _set() + GOOD_RULE.replace("checkin", "party"))
    settings = load_settings(
        environ={}, var_dir=tmp_path / "var", scoring_rules_dir_setting=str(bad.parent)
    )
    with pytest.raises(RuleSetsInvalid) as refused:
        create_app(settings)
    assert "bad.toml" in str(refused.value) and "event" in str(refused.value)
    env = {**_env(), "GRIDPOINTS_SCORING_RULES_DIR": str(bad.parent)}
    served = gridpoints(tmp_path, "serve", "--port", "0", env=env)
    assert served.returncode != 0 and "bad.toml 规则 r1 字段 event" in served.stderr


def test_rules_check_prints_every_problem_and_fails_or_passes(tmp_path):
    bad = _write(tmp_path, "bad.toml", _set() + GOOD_RULE.replace("fixed = 1", "fixed = 0"))
    checked = gridpoints(tmp_path, "rules", "check", str(bad))
    assert checked.returncode == 1
    assert "bad.toml 规则 r1 字段 points" in checked.stderr
    shipped = gridpoints(tmp_path, "rules", "check")
    assert shipped.returncode == 0, shipped.stderr
    assert "default" in shipped.stdout and "规则检查通过" in shipped.stdout
