"""Routes of check-ins: scan receipt, scan, offline backlog, proxy, open check-ins,
check-out, and the leader's review."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, QueryParameter
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from gridpoints.auth.dependencies import Actor, ReceiptLimiter
from gridpoints.auth.principal import Caller
from gridpoints.checkins import services
from gridpoints.checkins.schemas import (
    BatchOut,
    CheckInBatch,
    CheckInIn,
    CheckInOut,
    CheckoutIn,
    ProxyCheckInIn,
    ReceiptIn,
    ReceiptOut,
    ReviewIn,
)
from gridpoints.clock import utcnow
from gridpoints.schemas import Page
from gridpoints.web.dependencies import AppSettings, ClientAddress
from gridpoints.web.openapi import problems, replayed
from gridpoints.web.params import IdPath, IdQuery, Limit, Offset
from gridpoints.web.route_options import EXCLUDE_FROM_AUTH, LOADS_OWN_PRINCIPAL

ReviewQuery = Annotated[
    Literal["accepted", "pending", "rejected"] | None, QueryParameter(required=False)
]


def _stored(checkin: CheckInOut, created: bool) -> Response[CheckInOut]:
    return Response(checkin, status_code=HTTP_201_CREATED if created else HTTP_200_OK)


class CheckInController(Controller):
    path = "/checkins"
    tags = ["check-ins"]

    @post(
        "/receipts",
        operation_id="scanReceipt",
        summary="A signed receipt that a code was live when scanned (no sign-in needed)",
        description="Taken by the check-in page the moment a code's link opens, before its "
        "member signs in; a check-in that carries it counts at `scanned_at`. 400 "
        "`token_expired` when the code is not live now; 429 past the per-address limit.",
        opt={EXCLUDE_FROM_AUTH: True},
        security=[{}],
        status_code=HTTP_201_CREATED,
        responses=problems(400, 409, 429),
    )
    async def scan_receipt(
        self,
        data: JSONBody[ReceiptIn],
        settings: AppSettings,
        client_address: ClientAddress,
        receipt_limiter: ReceiptLimiter,
    ) -> ReceiptOut:
        await services.limit_receipts(receipt_limiter, client_address)
        return await services.issue_receipt(data.activity_id, data.token, settings, utcnow())

    @post(
        "",
        operation_id="checkIn",
        summary="Check in with a scanned code",
        description="201 with the new check-in; a replay of the same client_id answers 200 "
        "with the stored one. Out-of-fence, out-of-window or late check-ins are kept, flagged. "
        "`at` is moved by the phone's clock offset (arrival − `sent_at`); a `receipt` makes "
        "the check-in count at the scan it witnessed.",
        status_code=HTTP_201_CREATED,
        responses={**problems(400, 403, 404, 409), **replayed(CheckInOut)},
        opt={LOADS_OWN_PRINCIPAL: True},
    )
    async def check_in(
        self,
        request: Request[Caller, Token, State],
        data: JSONBody[CheckInIn],
        settings: AppSettings,
    ) -> Response[CheckInOut]:
        return _stored(*await services.check_in(request.user, data, settings, utcnow()))

    @post(
        "/batch",
        operation_id="checkInBatch",
        summary="Send a phone's offline queue; one status per item",
        status_code=HTTP_200_OK,
        responses=problems(400),
        opt={LOADS_OWN_PRINCIPAL: True},
    )
    async def check_in_batch(
        self,
        request: Request[Caller, Token, State],
        data: JSONBody[CheckInBatch],
        settings: AppSettings,
    ) -> BatchOut:
        return await services.check_in_batch(request.user, data.items, data.sent_at, settings)

    @post(
        "/proxy",
        operation_id="proxyCheckIn",
        summary="A leader checks in a member without a smartphone (with a reason)",
        status_code=HTTP_201_CREATED,
        responses={**problems(400, 403, 404, 409), **replayed(CheckInOut)},
    )
    async def proxy_check_in(
        self, actor: Actor, data: JSONBody[ProxyCheckInIn], settings: AppSettings
    ) -> Response[CheckInOut]:
        return _stored(*await services.proxy_check_in(actor, data, settings, utcnow()))

    @get(
        "",
        operation_id="listCheckIns",
        summary="Check-ins of activities the caller organises, and the caller's own",
        responses=problems(400, 404),
    )
    async def list_checkins(
        self,
        actor: Actor,
        activity_id: IdQuery = None,
        review: ReviewQuery = None,
        member_id: IdQuery = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[CheckInOut]:
        return await services.list_checkins(
            actor,
            activity_id=activity_id,
            review=review,
            member_id=member_id,
            limit=limit,
            offset=offset,
        )

    @get(
        "/open",
        operation_id="listOpenCheckIns",
        summary="The caller's own check-ins not yet checked out",
        responses=problems(400),
    )
    async def list_open_checkins(
        self, actor: Actor, activity_id: IdQuery = None
    ) -> list[CheckInOut]:
        return await services.open_checkins(actor, activity_id)

    @get(
        "/{checkin_id:int}",
        operation_id="getCheckIn",
        summary="One check-in",
        responses=problems(404),
    )
    async def get_checkin(self, actor: Actor, checkin_id: IdPath) -> CheckInOut:
        return services.present(await services.find_checkin(actor, checkin_id))

    @post(
        "/{checkin_id:int}/checkout",
        operation_id="checkOut",
        summary="Close an open check-in",
        status_code=HTTP_200_OK,
        responses=problems(400, 403, 404),
    )
    async def check_out(
        self, actor: Actor, checkin_id: IdPath, data: JSONBody[CheckoutIn]
    ) -> CheckInOut:
        return await services.check_out(actor, checkin_id, data.at, utcnow(), sent_at=data.sent_at)

    @post(
        "/{checkin_id:int}/review",
        operation_id="reviewCheckIn",
        summary="Accept or reject a flagged check-in (a rejection names its reason)",
        status_code=HTTP_200_OK,
        responses=problems(400, 403, 404, 409),
    )
    async def review(
        self, actor: Actor, checkin_id: IdPath, data: JSONBody[ReviewIn]
    ) -> CheckInOut:
        return await services.review(actor, checkin_id, data)
