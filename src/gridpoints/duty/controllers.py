"""Routes of the dual-registration duty report and the partner unit's quarterly record."""

from __future__ import annotations

import asyncio
from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import QueryParameter

from gridpoints.auth.dependencies import Actor
from gridpoints.duty import services
from gridpoints.duty.export import partner_workbook
from gridpoints.duty.services import DutyReport
from gridpoints.periods import parse_quarter
from gridpoints.web.dependencies import AppSettings
from gridpoints.web.files import XLSX_MEDIA_TYPE, attachment
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdPath, PeriodQuery
from gridpoints.web.route_options import FOR_PARTNER_CONTACTS

IdRequired = Annotated[int, QueryParameter(ge=1, le=2**31 - 1)]


class DutyController(Controller):
    tags = ["dual registration"]

    @get(
        "/duty",
        operation_id="getDuty",
        summary="Dual-registered members' quarterly service, and who still owes it",
        responses=problems(400, 404),
    )
    async def get_duty(
        self, actor: Actor, org_unit_id: IdRequired, period: PeriodQuery, settings: AppSettings
    ) -> DutyReport:
        return await services.duty_report(actor, org_unit_id, parse_quarter(period), settings)

    @get(
        "/partner-units/{partner_id:int}/record.xlsx",
        operation_id="getPartnerRecord",
        summary="A partner unit's members' community record for a quarter (XLSX)",
        media_type=XLSX_MEDIA_TYPE,
        opt={FOR_PARTNER_CONTACTS: True},
        responses=problems(400, 404),
    )
    async def get_partner_record(
        self, actor: Actor, partner_id: IdPath, period: PeriodQuery, settings: AppSettings
    ) -> Response[bytes]:
        quarter = parse_quarter(period)
        name, report = await services.partner_report(actor, partner_id, quarter, settings)
        content = await asyncio.to_thread(partner_workbook, name, report)
        return attachment(content, f"record-{quarter.label}.xlsx", XLSX_MEDIA_TYPE)
