"""Starting a member import: check the upload at the edge, then hand it to the job (`job`).

An XLSX is refused here, before anything in it is parsed, when its zip directory says it is
not a workbook or unpacks beyond the limits (`reading.inspect_xlsx`); the job checks again."""

from __future__ import annotations

from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.errors import DomainError, Invalid
from gridpoints.jobs.dispatch import JobQueue, start_job
from gridpoints.members.roster_import.job import KIND
from gridpoints.members.roster_import.reading import (
    ImportFileError,
    ImportLimits,
    inspect_xlsx,
    is_xlsx,
)
from gridpoints.org.services import find_unit
from gridpoints.settings import Settings
from gridpoints.web.files import XLSX_MEDIA_TYPE

ACCEPTED_SUFFIXES = (".csv", ".xlsx")


class UploadTooLarge(DomainError):
    status = 413
    title = "Content Too Large"
    code = "too_large"


async def start_import(
    queue: JobQueue,
    actor: Principal,
    org_unit_id: int,
    filename: str,
    content: bytes,
    settings: Settings,
) -> int:
    unit = await find_unit(actor, org_unit_id, Capability.MANAGE_MEMBERS)
    if not filename.lower().endswith(ACCEPTED_SUFFIXES):
        raise Invalid.field("file", "请上传 .csv 或 .xlsx 文件")
    if not content:
        raise Invalid.field("file", "文件是空的")
    if len(content) > settings.upload_max_bytes:
        limit_mb = settings.upload_max_bytes // (1024 * 1024)
        raise UploadTooLarge(f"文件超过 {limit_mb} MB")
    if is_xlsx(filename, content):
        try:
            inspect_xlsx(content, ImportLimits.of(settings)).close()
        except ImportFileError as exc:
            raise Invalid.field("file", str(exc)) from exc
    content_type = "text/csv" if filename.lower().endswith(".csv") else XLSX_MEDIA_TYPE
    return await start_job(
        queue,
        actor,
        KIND,
        {"org_unit_id": unit["id"], "filename": filename},
        org_unit_id=unit["id"],
        input_file=(filename, content_type, content),
    )
