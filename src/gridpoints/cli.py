"""The `gridpoints` command. Every subcommand reads the same settings (see README)."""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gridpoints.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _with_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` with the engine bound and (on PostgreSQL) a pool open."""
    from gridpoints.db import engine as db_engine

    async def run() -> T:
        engine = db_engine.use_engine(db_engine.make_engine(settings))
        await db_engine.start(engine, settings)
        try:
            return await work()
        finally:
            await db_engine.stop(engine)

    return asyncio.run(run())


@click.group()
def main() -> None:
    """Gridpoints: volunteer points and evaluation for community grids."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@main.command()
def migrate() -> None:
    """Bring the database up to date (a second run changes nothing)."""
    settings = _settings()
    _migrate(settings)


def _migrate(settings: Settings) -> None:
    from gridpoints.db import engine as db_engine
    from gridpoints.db.migrate import migrate as run_migrations

    click.echo(f"Migrating {db_engine.describe(settings)}")
    asyncio.run(run_migrations(db_engine.make_engine(settings)))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the demo accounts as JSON.")
def demo(as_json: bool) -> None:
    """Build the demo community (once) and print its sign-in accounts."""
    settings = _settings()
    report = _demo(settings)
    if as_json:
        click.echo(
            json.dumps({"accounts": [_account(a) for a in report.accounts]}, ensure_ascii=False)
        )
    else:
        _print_accounts(report)


def _demo(settings: Settings) -> Any:
    import os

    from gridpoints.demo.builder import build_demo

    password = os.environ.get("GRIDPOINTS_DEMO_PASSWORD") or None
    return _with_database(settings, lambda: build_demo(settings, password))


def _account(account: Any) -> dict[str, Any]:
    return {"role": account.role, "phone": account.phone, "org_unit_id": account.org_unit_id}


def _print_accounts(report: Any) -> None:
    click.echo("演示社区已建好" if report.created else "演示社区已存在")
    click.echo(f"Demo password for every account: {report.password}")
    for account in report.accounts:
        click.echo(f"  {account.role:<18} {account.phone}  {account.name}")


@main.command()
@click.option("--top-name", required=True, help="The top of the tree, e.g. a sub-district.")
@click.option("--community-name", required=True, help="The first community under it.")
@click.option("--admin-name", required=True)
@click.option("--admin-phone", required=True)
@click.password_option(
    "--admin-password",
    envvar="GRIDPOINTS_ADMIN_PASSWORD",
    help="Asked for when not given (or set GRIDPOINTS_ADMIN_PASSWORD).",
)
def bootstrap(
    top_name: str, community_name: str, admin_name: str, admin_phone: str, admin_password: str
) -> None:
    """Start a real deployment: the top unit, one community and its first admin."""
    from gridpoints.bootstrap import BootstrapIn
    from gridpoints.bootstrap import bootstrap as run_bootstrap
    from gridpoints.errors import DomainError

    settings = _settings()
    data = BootstrapIn(
        top_name=top_name,
        community_name=community_name,
        admin_name=admin_name,
        admin_phone=admin_phone,
        admin_password=admin_password,
    )
    try:
        done = _with_database(settings, lambda: run_bootstrap(settings, data))
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(
        f"已初始化：{top_name} (#{done.top_id}) / {community_name} (#{done.community_id})，"
        f"管理员 #{done.admin_id} 可用手机号登录"
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="API processes.")
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="A line per request (leave it to the reverse proxy in front, if it keeps one).",
)
def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve the API and the pages."""
    _serve(host, port, workers, access_log=access_log)


def _serve(host: str, port: int, workers: int, *, access_log: bool = True) -> None:
    import uvicorn

    settings = _settings()
    from gridpoints.db import engine as db_engine

    _require_good_rules(settings)
    jobs = "arq workers via Redis" if settings.redis_url else "inside this process"
    click.echo(f"Database: {db_engine.describe(settings)}; jobs run {jobs}")
    click.echo(f"Open http://{host}:{port}/")
    uvicorn.run(
        "gridpoints.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Forwarded headers are believed from GRIDPOINTS_TRUSTED_PROXIES only (uvicorn's own
        # default would believe 127.0.0.1): the client's address (web/dependencies.py reads
        # it the same way) and the scheme, so check-in links behind a TLS proxy are https.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies) or None,
        log_level="info",
        access_log=access_log,
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def up(host: str, port: int) -> None:
    """Migrate, build the demo community if missing, print its login, and serve."""
    settings = _settings()
    _migrate(settings)
    _print_accounts(_demo(settings))
    _serve(host, port, 1)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """Run background jobs from Redis (needs REDIS_URL)."""
    from gridpoints.jobs.worker import build_worker
    from gridpoints.wiring import open_runtime, periodic_work, wire

    settings = _settings()
    wire()
    try:
        job_worker = build_worker(settings, periodic_work(settings), open_runtime, burst=burst)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    job_worker.run()


@main.command("import-members")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--org-unit",
    "org_unit",
    required=True,
    help="Id or code of the grid whose subtree the rows go into.",
)
def import_members(file: Path, org_unit: str) -> None:
    """Import members from a CSV or XLSX file (all rows or none)."""
    settings = _settings()
    content = file.read_bytes()

    async def work() -> Any:
        from gridpoints.auth.principal import Principal
        from gridpoints.jobs.dispatch import run_here
        from gridpoints.wiring import wire

        wire()  # only the commands that run a job load every job kind
        from gridpoints.jobs.services import get_job
        from gridpoints.members.roster_import.job import KIND

        unit = await _find_unit(org_unit)
        actor = Principal.system("cli")
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        job_id = await run_here(
            actor,
            KIND,
            {"org_unit_id": unit["id"], "filename": file.name},
            settings,
            org_unit_id=unit["id"],
            input_file=(file.name, content_type, content),
            listener=_print_progress,
        )
        return await get_job(actor, job_id)

    job = _with_database(settings, work)
    click.echo("")
    result = job.result or {}
    if job.status == "succeeded":
        click.echo(
            f"导入成功：{result.get('imported', 0)} 人，报到记录 {result.get('registered', 0)} 条"
        )
        return
    click.echo(f"导入失败：{job.error}", err=True)
    for problem in result.get("errors", []):
        where = f"第 {problem['row']} 行 [{problem['column']}] {problem['value']!r}"
        click.echo(f"  {where}: {problem['reason']}", err=True)
    sys.exit(1)


async def _find_unit(org_unit: str | None) -> dict[str, Any]:
    """The org unit with this id or code; with none given, the top of the tree."""
    from gridpoints.org.tables import OrgUnit

    query = OrgUnit.select(OrgUnit.id, OrgUnit.path)
    if org_unit is None:
        unit = await query.where(OrgUnit.parent.is_null()).order_by(OrgUnit.id).first()
    else:
        number = int(org_unit) if org_unit.isdigit() else -1
        unit = await query.where((OrgUnit.code == org_unit) | (OrgUnit.id == number)).first()
    if unit is None:
        raise click.ClickException(f"no org unit with id or code {org_unit!r}")
    return unit


def _print_progress(percent: int, note: str) -> None:
    click.echo(f"\r{percent:3d}% {note:<20}", nl=False)


def _require_good_rules(settings: Settings) -> None:
    from gridpoints.points.rulefiles import read_rulesets

    _, problems = read_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    if problems:
        listed = "\n".join(f"  {p}" for p in problems)
        raise click.ClickException(
            f"积分规则有 {len(problems)} 个问题，平台不启动（{settings.scoring_rules_dir}）：\n"
            f"{listed}\n运行 `gridpoints rules check` 检查修改后的文件"
        )


@main.group()
def rules() -> None:
    """Scoring rule sets (scoring_rules/)."""


@rules.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def rules_check(path: Path | None) -> None:
    """Check rule set files (the folder in use, or PATH); print every problem."""
    from gridpoints.points.rulefiles import read_rulesets

    settings = _settings()
    where = path or settings.scoring_rules_dir
    sets, problems = read_rulesets(where, settings.activity_categories)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"{len(problems)} 个问题，规则未通过检查（{where}）", err=True)
        sys.exit(1)
    for ruleset in sets:
        spec = ruleset.spec
        until = spec.effective_to or "长期"
        click.echo(
            f"{ruleset.source}: {spec.id} 版本 {ruleset.version}，{len(spec.rules)} 条规则，"
            f"{spec.effective_from} 至 {until}，范围 {spec.scope or '全部'}"
        )
    click.echo("规则检查通过")


@main.group()
def points() -> None:
    """The points ledger."""


@points.command("score")
def points_score() -> None:
    """Score every verified event not scored yet."""
    from gridpoints.points.rulefiles import load_rulesets
    from gridpoints.points.scoring import score_pending

    settings = _settings()
    _require_good_rules(settings)
    rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    scored = _with_database(settings, lambda: score_pending(rulesets, settings))
    click.echo(f"已计分事件 {scored} 个")


@points.command("close-quarter")
@click.argument("period")
def points_close_quarter(period: str) -> None:
    """Apply the period-end rules to PERIOD (2026Q3), once per member and rule."""
    from gridpoints.errors import Invalid
    from gridpoints.periods import parse_quarter
    from gridpoints.points.period_end import close_quarter
    from gridpoints.points.rulefiles import load_rulesets
    from gridpoints.points.scoring import score_pending

    try:
        quarter = parse_quarter(period)
    except Invalid as exc:
        raise click.BadParameter(exc.detail, param_hint="PERIOD") from exc
    settings = _settings()
    _require_good_rules(settings)
    rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)

    async def work() -> int:
        await score_pending(rulesets, settings)
        return await close_quarter(rulesets, quarter, settings)

    written = _with_database(settings, work)
    click.echo(f"{quarter.label} 季度结算：新写入 {written} 条积分记录")


@points.command("rescore")
@click.argument("period")
@click.option(
    "--org-unit", "org_unit", default=None, help="Id or code of the unit (default: the top)."
)
def points_rescore(period: str, org_unit: str | None) -> None:
    """Rescore PERIOD (2026Q4), still open, by the rule sets now in the files."""
    from gridpoints.errors import DomainError
    from gridpoints.periods import started_quarter

    settings = _settings()
    try:
        quarter = started_quarter(period, settings.timezone)
    except DomainError as exc:
        raise click.BadParameter(exc.detail, param_hint="PERIOD") from exc
    _require_good_rules(settings)

    async def work() -> Any:
        from gridpoints.auth.principal import Principal
        from gridpoints.jobs.dispatch import run_here
        from gridpoints.wiring import wire

        wire()  # only the commands that run a job load every job kind
        from gridpoints.jobs.services import get_job
        from gridpoints.points.locks import refuse_if_locked
        from gridpoints.points.rescore import KIND

        unit = await _find_unit(org_unit)
        try:
            await refuse_if_locked(quarter, unit["path"])
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc
        actor = Principal.system("cli")
        params = {"period": quarter.label, "org_unit_id": unit["id"]}
        job_id = await run_here(
            actor, KIND, params, settings, org_unit_id=unit["id"], listener=_print_progress
        )
        return await get_job(actor, job_id)

    job = _with_database(settings, work)
    click.echo("")
    if job.status != "succeeded":
        click.echo(f"重算失败：{job.error}", err=True)
        sys.exit(1)
    result = job.result or {}
    click.echo(
        f"{quarter.label} 已按现行规则重算：撤销 {result['reversed_entries']} 条，"
        f"新记 {result['new_entries'] + result['period_end_entries']} 条，"
        f"积分共变化 {result['net_change']} 分"
    )


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the whole chain under the audit key; name the first row that does not hold, a
    checkpoint line not signed with the key, or rows missing below the latest checkpoint."""
    from gridpoints.audit.services import verify

    settings = _settings()
    report = _with_database(settings, lambda: verify(settings=settings))
    if report.intact:
        click.echo(
            f"audit chain intact: {report.checked} rows, "
            f"{report.checkpoints} checkpoints in {settings.audit_checkpoint_file}"
        )
        return
    if report.first_broken_id is None or report.missing:
        click.echo(f"audit chain BROKEN: {report.reason}", err=True)
        sys.exit(1)
    click.echo(
        f"audit chain BROKEN at row {report.first_broken_id}: {report.reason} "
        f"({report.checked} rows before it hold)",
        err=True,
    )
    sys.exit(1)


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head with the audit key and append it to the checkpoint file."""
    from gridpoints.audit.checkpoints import write_checkpoint

    settings = _settings()
    written = _with_database(settings, lambda: write_checkpoint(settings))
    click.echo(
        f"audit checkpoint: row {written.row_id} ({written.hash[:16]}…) at {written.at}, "
        f"appended to {settings.audit_checkpoint_file}"
    )
