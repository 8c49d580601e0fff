"""Reading rule sets from files: every problem named with its file, rule and field.

A rule set's version is the hash of its file's bytes, so any edit, even of a comment, makes
a new version, and a ledger entry names exactly the text that gave it.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

import msgspec

from gridpoints.points.rules import (
    Rule,
    RuleFileProblem,
    RuleSet,
    RuleSetFile,
    rule_problems,
    sets_problems,
)

VERSION_LENGTH = 16
_AT = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$", re.S)
_NAMED_FIELD = re.compile(r"field `(?P<name>[^`]+)`")
_RULE_PATH = re.compile(r"^\.rules\[(?P<index>\d+)\]\.?(?P<rest>.*)$")


class RuleSetsInvalid(Exception):
    """The rule sets cannot be used; `problems` says every reason."""

    def __init__(self, problems: list[RuleFileProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def rule_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.toml")) if path.is_dir() else [path]


def read_rulesets(
    path: Path, activity_categories: tuple[str, ...]
) -> tuple[list[RuleSet], list[RuleFileProblem]]:
    """The sets that could be read, and every problem found in any of them."""
    sets: list[RuleSet] = []
    problems: list[RuleFileProblem] = []
    files = rule_files(path)
    if not files or not all(f.is_file() for f in files):
        return [], [RuleFileProblem(str(path), None, "(文件)", "找不到规则文件（*.toml）")]
    for file in files:
        ruleset, found = read_ruleset(file.name, file.read_bytes(), activity_categories)
        problems += found
        if ruleset is not None:
            sets.append(ruleset)
    problems += sets_problems(sets)
    return sets, problems


def read_ruleset(
    source: str, data: bytes, activity_categories: tuple[str, ...]
) -> tuple[RuleSet | None, list[RuleFileProblem]]:
    """One set from a file's bytes (None when it has problems), and its problems."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, [RuleFileProblem(source, None, "(文件)", f"不是有效的 TOML：{exc}")]
    except RecursionError:
        # `a = [[[[...` or `{a = {a = ...` thousands deep: the reader gives up, and so do we.
        return None, [RuleFileProblem(source, None, "(文件)", "不是有效的 TOML：嵌套层次过深")]
    spec, found = _convert(source, raw)
    if spec is None:
        return None, found
    found += rule_problems(source, spec, activity_categories)
    if found:
        return None, found
    version = hashlib.sha256(data).hexdigest()[:VERSION_LENGTH]
    return RuleSet(source=source, version=version, spec=spec), []


def with_changed(
    rulesets: list[RuleSet], changed: RuleSet
) -> tuple[list[RuleSet], list[RuleFileProblem]]:
    """The sets with `changed` in place of the set of the same file name or id (as if that
    file had been edited), or added; and the problems between the sets."""
    sets = [s for s in rulesets if s.id != changed.id and s.source != changed.source]
    sets.append(changed)
    return sets, sets_problems(sets)


def load_rulesets(path: Path, activity_categories: tuple[str, ...]) -> list[RuleSet]:
    sets, problems = read_rulesets(path, activity_categories)
    if problems:
        raise RuleSetsInvalid(problems)
    return sets


def _convert(source: str, raw: dict[str, Any]) -> tuple[RuleSetFile | None, list[RuleFileProblem]]:
    """The set, and the problems of shape: each rule is read on its own, so one badly
    written rule does not hide the problems of the others."""
    problems: list[RuleFileProblem] = []
    listed = raw.get("rules")
    rules: list[Rule] = []
    if isinstance(listed, list):
        for index, item in enumerate(listed):
            try:
                rules.append(msgspec.convert(item, Rule))
            except msgspec.ValidationError as exc:
                problems.append(_shape_problem(source, raw, f"{exc}", index))
        head = {**raw, "rules": []}
    else:
        head = raw
    try:
        spec = msgspec.convert(head, RuleSetFile)
    except msgspec.ValidationError as exc:
        problems.append(_shape_problem(source, raw, str(exc)))
        return None, problems
    return msgspec.structs.replace(spec, rules=rules), problems


def _shape_problem(
    source: str, raw: dict[str, Any], error: str, rule_index: int | None = None
) -> RuleFileProblem:
    """msgspec's "Expected `int`, got `str` - at `$.rules[0].cap_per_event`" as a RuleFileProblem
    (for a rule read on its own, `$.cap_per_event` and the rule's index)."""
    match = _AT.match(error)
    message, path = (match["message"], match["path"]) if match else (error, "")
    if rule_index is not None:
        path = f".rules[{rule_index}]{path}"
    named = _NAMED_FIELD.search(message)
    rule = None
    field = path.lstrip(".") or "(文件)"
    in_rule = _RULE_PATH.match(path)
    if in_rule:
        index = int(in_rule["index"])
        rules = raw.get("rules") or []
        listed = rules[index] if index < len(rules) and isinstance(rules[index], dict) else {}
        rule = str(listed.get("id") or f"第 {index + 1} 条")
        field = in_rule["rest"] or "(规则)"
    if named:
        field = f"{field}.{named['name']}" if field not in ("(文件)", "(规则)") else named["name"]
    return RuleFileProblem(source, rule, field, f"格式不对：{message}")
