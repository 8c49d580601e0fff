"""The `gridpoints` command as an operator runs it, in a fresh folder.

On the embedded default: migrate (twice), demo, import-members, audit verify (intact, then
after a row is altered behind the platform's back), and serve with a demo sign-in. On
PostgreSQL: migrate, demo --json and audit verify through DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL, service_missing
from tests.live_server import gridpoints_command, run_live_server

PASSWORD = "cli-test-pass-1"
OUTSIDE = (
    "DATABASE_URL",
    "REDIS_URL",
    "GRIDPOINTS_VAR_DIR",
    "SECRET_KEY",
    "GRIDPOINTS_AUDIT_KEY",
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OUTSIDE}
    env.update(GRIDPOINTS_DEMO_PASSWORD=PASSWORD, PYTHONUNBUFFERED="1", **extra)
    return env


def gridpoints(folder: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [*gridpoints_command(), *args],
        cwd=folder,
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _accounts(stdout: str) -> dict[str, dict]:
    report = json.loads(stdout.strip().splitlines()[-1])
    return {account["role"]: account for account in report["accounts"]}


def test_help_lists_every_command(tmp_path):
    done = gridpoints(tmp_path, "--help")
    assert done.returncode == 0
    for command in ("serve", "worker", "migrate", "demo", "import-members", "audit", "up"):
        assert command in done.stdout
    audit = gridpoints(tmp_path, "audit", "--help")
    assert "verify" in audit.stdout


def test_a_fresh_folder_gets_a_working_embedded_platform(tmp_path):
    first = gridpoints(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    database = tmp_path / "var" / "gridpoints.sqlite3"
    secret = tmp_path / "var" / "secret_key"
    assert database.is_file() and secret.is_file()
    assert secret.stat().st_mode & 0o777 == 0o600
    kept_secret = secret.read_text()
    assert gridpoints(tmp_path, "migrate").returncode == 0, "a second migrate must be harmless"
    assert secret.read_text() == kept_secret, "the secret is generated once and kept"

    demo = gridpoints(tmp_path, "demo", "--json")
    assert demo.returncode == 0, demo.stderr
    accounts = _accounts(demo.stdout)
    assert {"admin", "committee_member", "grid_leader", "volunteer"} <= set(accounts)
    again = gridpoints(tmp_path, "demo", "--json")
    assert _accounts(again.stdout) == accounts, "the demo is built once and is deterministic"

    community_grid = accounts["grid_leader"]["org_unit_id"]
    good = tmp_path / "good.csv"
    good.write_text(
        "姓名,手机号,类别,所在网格,工作单位\n新成员甲,13311110001,居民党员,"
        f"{_unit_code(database, community_grid)},\n",
        encoding="utf-8",
    )
    imported = gridpoints(tmp_path, "import-members", str(good), "--org-unit", str(community_grid))
    assert imported.returncode == 0, imported.stderr
    assert "导入成功" in imported.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,手机号,类别,所在网格\n坏人,12,居民党员,没有这个网格\n", encoding="utf-8")
    refused = gridpoints(tmp_path, "import-members", str(bad), "--org-unit", str(community_grid))
    assert refused.returncode == 1
    assert "第 2 行" in refused.stderr and "未知网格" in refused.stderr

    intact = gridpoints(tmp_path, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout
    with sqlite3.connect(database) as connection:
        target = connection.execute(
            "SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 10"
        ).fetchone()[0]
        connection.execute("UPDATE audit_log SET actor_label = 'someone' WHERE id = ?", (target,))
    broken = gridpoints(tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert f"row {target}" in broken.stderr


def test_a_quarter_is_rescored_by_the_rules_in_the_files(tmp_path):
    assert gridpoints(tmp_path, "migrate").returncode == 0
    assert gridpoints(tmp_path, "demo").returncode == 0
    # The platform's quarters run on the community's clock (Asia/Shanghai by default).
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    period = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    same = gridpoints(tmp_path, "points", "rescore", period)
    assert same.returncode == 0, same.stderr
    assert "撤销 0 条" in same.stdout and "积分共变化 0 分" in same.stdout

    # An edited rule file: activities earn 3 points an hour instead of 2.
    rules = tmp_path / "rules"
    rules.mkdir()
    default = Path(__file__).parents[1] / "scoring_rules" / "default.toml"
    text = default.read_text(encoding="utf-8")
    richer = text.replace('per_hour = 2, rounding = "down"', 'per_hour = 3, rounding = "down"')
    (rules / "default.toml").write_text(richer, encoding="utf-8")
    edited = _env(GRIDPOINTS_SCORING_RULES_DIR=str(rules))
    changed = gridpoints(tmp_path, "points", "rescore", period, env=edited)
    assert changed.returncode == 0, changed.stderr
    assert "撤销 0 条" not in changed.stdout and "积分共变化 0 分" not in changed.stdout

    future = gridpoints(tmp_path, "points", "rescore", f"{today.year + 1}Q1")
    assert future.returncode == 2 and "还没有开始" in future.stderr


def _unit_code(database: Path, unit_id: int) -> str:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT code FROM org_unit WHERE id = ?", (unit_id,)).fetchone()[
            0
        ]


def test_migrate_demo_and_serve_answer_a_demo_sign_in(tmp_path):
    with run_live_server(tmp_path, PASSWORD) as server:
        signed_in = server.sign_in(server.phones["volunteer"])
        assert signed_in["member"]["id"] > 0
        assert (server.folder / "var" / "gridpoints.sqlite3").is_file()


def test_the_same_commands_run_on_postgresql(tmp_path):
    name = f"gridpoints_cli_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing("PostgreSQL", str(exc))
    env = _env(DATABASE_URL=POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    keyless = gridpoints(tmp_path, "migrate", env=env)
    assert keyless.returncode != 0
    assert "SECRET_KEY" in keyless.stderr, "PostgreSQL without SECRET_KEY names the variable"
    env.update(SECRET_KEY="cli-secret-" + "k" * 32, GRIDPOINTS_AUDIT_KEY="cli-audit-" + "a" * 32)
    try:
        assert gridpoints(tmp_path, "migrate", env=env).returncode == 0
        assert gridpoints(tmp_path, "migrate", env=env).returncode == 0
        demo = gridpoints(tmp_path, "demo", "--json", env=env)
        assert demo.returncode == 0, demo.stderr
        assert "admin" in _accounts(demo.stdout)
        verified = gridpoints(tmp_path, "audit", "verify", env=env)
        assert verified.returncode == 0, verified.stderr
        assert not (tmp_path / "var" / "gridpoints.sqlite3").exists()
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.parametrize("variable", ["GRIDPOINTS_TOKEN_TTL_SECONDS", "DATABASE_URL"])
def test_a_bad_setting_stops_a_command_naming_the_variable(tmp_path, variable):
    done = gridpoints(tmp_path, "migrate", env=_env(**{variable: "mysql://nope"}))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert variable in done.stderr


def test_bootstrap_starts_a_real_deployment_once(tmp_path):
    assert gridpoints(tmp_path, "migrate").returncode == 0
    args = [
        "bootstrap",
        "--top-name",
        "青山街道",
        "--community-name",
        "青山社区",
        "--admin-name",
        "王管理",
        "--admin-phone",
        "13812345678",
    ]
    env = _env(GRIDPOINTS_ADMIN_PASSWORD="first-admin-pass")
    first = gridpoints(tmp_path, *args, env=env)
    assert first.returncode == 0, first.stderr
    assert "已初始化" in first.stdout
    second = gridpoints(tmp_path, *args, env=env)
    assert second.returncode == 1
    assert "已有网格数据" in second.stderr
    short = gridpoints(tmp_path, *args, env=_env(GRIDPOINTS_ADMIN_PASSWORD="x"))
    assert short.returncode == 1 and "Traceback" not in short.stderr
