"""Routes of the dual-registration duty report."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from gridpoints.duty import services
from gridpoints.duty.services import DutyReport
from gridpoints.periods import parse_quarter
from gridpoints.web.dependencies import Actor, AppSettings
from gridpoints.web.openapi import problems
from gridpoints.web.params import PeriodQuery

IdRequired = Annotated[int, QueryParameter(ge=1, le=2**31 - 1)]


class DutyController(Controller):
    tags = ["dual registration"]

    @get(
        "/api/v1/duty",
        operation_id="getDuty",
        summary="Dual-registered members' quarterly service, and who still owes it",
        responses=problems(400, 404),
    )
    async def get_duty(
        self, actor: Actor, org_unit_id: IdRequired, period: PeriodQuery, settings: AppSettings
    ) -> DutyReport:
        return await services.duty_report(actor, org_unit_id, parse_quarter(period), settings)
