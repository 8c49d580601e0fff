"""The member import job: a CSV or XLSX file into members, all rows or none.

Reading and checking happen before any write and report progress; the writes (members, their
dual registrations, one audit row each) then commit in one transaction together with the job's
success, so a second delivery of the job finds it finished and writes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any, NoReturn

from gridpoints.auth.access import require
from gridpoints.auth.permissions import Capability
from gridpoints.clock import local_today
from gridpoints.errors import DomainError
from gridpoints.jobs.context import JobContext, JobFailed
from gridpoints.members.adding import NewMember, add_members
from gridpoints.members.roster_import.checking import (
    MAX_LISTED_ROWS,
    CheckedRow,
    CheckOutcome,
    GridIndex,
    RowProblem,
    check_rows,
    first_listed,
    taken_phone_problems,
)
from gridpoints.members.roster_import.reading import ImportFileError, ImportLimits, read_table
from gridpoints.members.tables import Member
from gridpoints.org.queries import within
from gridpoints.org.services import unit_row
from gridpoints.org.tables import OrgUnit
from gridpoints.partners.tables import PartnerUnit
from gridpoints.unit_paths import ancestor_ids

KIND = "members.import"
_CHUNK = 500


async def import_members(ctx: JobContext) -> dict[str, Any]:
    base = await unit_row(int(ctx.params["org_unit_id"]))
    try:
        require(ctx.actor, Capability.MANAGE_MEMBERS, base["path"] if base else None, "网格单位")
    except DomainError as exc:
        raise JobFailed(exc.detail, _failure([])) from exc
    assert base is not None
    scopes = [base["path"]]
    units = await OrgUnit.select(
        OrgUnit.id, OrgUnit.parent, OrgUnit.name, OrgUnit.code, OrgUnit.path, OrgUnit.level
    ).where(
        within(OrgUnit.path, scopes)
        & within(OrgUnit.path, ctx.actor.scopes(Capability.MANAGE_MEMBERS))
    )
    partner_ids = {
        row["name"]: row["id"] for row in await PartnerUnit.select(PartnerUnit.id, PartnerUnit.name)
    }
    filename, data = await ctx.input_file()
    await ctx.progress(5, "读取并检查文件")
    limits = ImportLimits.of(ctx.settings)
    grids = GridIndex(units)
    try:
        # Rows are read as a stream and checked as they come: only good rows and the first
        # bad rows' problems are kept, so memory is bounded whatever the file holds.
        checked = await asyncio.to_thread(
            _read_and_check, filename, data, limits, grids, partner_ids
        )
    except ImportFileError as exc:
        raise JobFailed(str(exc), _failure([])) from exc
    del data
    if not checked.good and not checked.bad_rows:
        raise JobFailed("文件中没有数据行", _failure([]))
    good = checked.good
    await ctx.progress(60, "核对已登记的手机号")
    taken = await _taken_phones([row.phone for row in good], ctx, start=60, end=85)
    late = taken_phone_problems(good, taken)
    bad_rows = checked.bad_rows + len({p.row for p in late})
    if bad_rows:
        _refuse(bad_rows, [*checked.problems, *late])
    await ctx.progress(85, "写入")
    communities = await _communities({row.org_unit_id for row in good}, units, ctx)

    async def write() -> dict[str, Any]:
        # Checked again inside the transaction: someone may have registered a phone meanwhile.
        late = taken_phone_problems(good, await _taken_phones([r.phone for r in good]))
        if late:
            _refuse(len({p.row for p in late}), late, "的手机号刚被登记")
        return await _write(ctx, good, partner_ids, communities)

    return await ctx.complete(write)


def _read_and_check(
    filename: str, data: bytes, limits: ImportLimits, grids: GridIndex, partners: dict[str, int]
) -> CheckOutcome:
    return check_rows(read_table(filename, data, limits), grids, partners)


def _failure(problems: list[RowProblem], bad_rows: int = 0) -> dict[str, Any]:
    """A failed import's result: the problems of the first bad rows (at most
    `MAX_LISTED_ROWS`, each value cut short) and how many rows were bad in all; its size is
    bounded whatever the file held."""
    return {"imported": 0, "registered": 0, "bad_rows": bad_rows, "errors": problems}


def _refuse(bad_rows: int, problems: list[RowProblem], why: str = "有误") -> NoReturn:
    listed = first_listed(problems)
    shown = f"（列出前 {MAX_LISTED_ROWS} 行）" if bad_rows > MAX_LISTED_ROWS else ""
    raise JobFailed(f"{bad_rows} 行{why}，未导入任何数据{shown}", _failure(listed, bad_rows))


async def _taken_phones(
    phones: list[str], ctx: JobContext | None = None, *, start: int = 0, end: int = 0
) -> set[str]:
    taken: set[str] = set()
    for offset in range(0, len(phones), _CHUNK):
        chunk = phones[offset : offset + _CHUNK]
        rows = await Member.select(Member.phone).where(Member.phone.is_in(chunk))
        taken.update(row["phone"] for row in rows)
        if ctx is not None:
            await ctx.progress(start + (end - start) * (offset + len(chunk)) // len(phones))
    return taken


async def _communities(
    unit_ids: set[int], units: list[dict[str, Any]], ctx: JobContext
) -> dict[int, int]:
    """unit id -> id of the community above it (for in-service members' registrations)."""
    paths = {u["id"]: u["path"] for u in units if u["id"] in unit_ids}
    wanted = {a for path in paths.values() for a in ancestor_ids(path)}
    if not wanted:
        return {}
    community_ids = {
        row["id"]
        for row in await OrgUnit.select(OrgUnit.id).where(
            OrgUnit.id.is_in(sorted(wanted)) & (OrgUnit.level == ctx.settings.community_level)
        )
    }
    found: dict[int, int] = {}
    for unit_id, path in paths.items():
        above = [a for a in ancestor_ids(path) if a in community_ids]
        if above:
            found[unit_id] = above[-1]
    return found


async def _write(
    ctx: JobContext,
    rows: list[CheckedRow],
    partner_ids: dict[str, int],
    communities: dict[int, int],
) -> dict[str, Any]:
    added = await add_members(
        ctx.actor,
        [
            NewMember(
                name=row.name,
                phone=row.phone,
                category=row.category,
                org_unit=row.org_unit_id,
                employer=row.employer,
                partner_unit=partner_ids.get(row.employer or ""),
                community=communities.get(row.org_unit_id),
            )
            for row in rows
        ],
        reported_on=local_today(ctx.settings.timezone),
        source=f"job:{ctx.job_id}",
    )
    return {"imported": len(rows), "registered": added.registered, "errors": []}
