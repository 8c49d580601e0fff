"""Routes of partner units, their pairings and quarterly record, their contacts' accounts and
their sign-in."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from gridpoints.auth.dependencies import Actor, Limiter, Tokens
from gridpoints.auth.schemas import LoginIn
from gridpoints.partners import accounts, services
from gridpoints.partners.schemas import (
    PairingIn,
    PairingOut,
    PartnerAccountIn,
    PartnerAccountOut,
    PartnerLoginOut,
    PartnerUnitIn,
    PartnerUnitOut,
)
from gridpoints.schemas import EndIn, Page
from gridpoints.web.dependencies import AppSettings, ClientAddress
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdPath, Limit, Offset, TextQuery
from gridpoints.web.route_options import EXCLUDE_FROM_AUTH


class PartnerUnitController(Controller):
    path = "/partner-units"
    tags = ["dual registration"]

    @get(
        "",
        operation_id="listPartnerUnits",
        summary="Partner units the caller can see",
        responses=problems(400),
    )
    async def list_partners(
        self, actor: Actor, q: TextQuery = None, limit: Limit = 50, offset: Offset = 0
    ) -> Page[PartnerUnitOut]:
        return await services.list_partners(actor, q=q, limit=limit, offset=offset)

    @post(
        "",
        operation_id="createPartnerUnit",
        summary="Register a partner unit",
        responses=problems(400, 403, 404, 409),
    )
    async def create_partner(self, actor: Actor, data: JSONBody[PartnerUnitIn]) -> PartnerUnitOut:
        return await services.create_partner(actor, data)

    @get(
        "/{partner_id:int}",
        operation_id="getPartnerUnit",
        summary="One partner unit",
        responses=problems(404),
    )
    async def get_partner(self, actor: Actor, partner_id: IdPath) -> PartnerUnitOut:
        return await services.get_partner(actor, partner_id)

    @get(
        "/{partner_id:int}/pairings",
        operation_id="listPairings",
        summary="The unit's co-building agreements with communities",
        responses=problems(404),
    )
    async def list_pairings(self, actor: Actor, partner_id: IdPath) -> list[PairingOut]:
        return await services.list_pairings(actor, partner_id)

    @post(
        "/{partner_id:int}/pairings",
        operation_id="createPairing",
        summary="Pair the unit with a community",
        responses=problems(400, 403, 404, 409),
    )
    async def create_pairing(
        self, actor: Actor, partner_id: IdPath, data: JSONBody[PairingIn], settings: AppSettings
    ) -> PairingOut:
        return await services.create_pairing(actor, partner_id, data, settings)

    @post(
        "/{partner_id:int}/pairings/{pairing_id:int}/end",
        operation_id="endPairing",
        summary="End a pairing",
        status_code=200,
        responses=problems(400, 403, 404, 409),
    )
    async def end_pairing(
        self, actor: Actor, partner_id: IdPath, pairing_id: IdPath, data: JSONBody[EndIn]
    ) -> PairingOut:
        return await services.end_pairing(actor, partner_id, pairing_id, data.ended_on)


class PartnerAccountController(Controller):
    path = "/"
    tags = ["dual registration"]

    @post(
        "/partner-units/{partner_id:int}/accounts",
        operation_id="createPartnerAccount",
        summary="An account for a partner unit's contact (reads the unit's record only)",
        responses=problems(400, 403, 404, 409),
    )
    async def create_account(
        self, actor: Actor, partner_id: IdPath, data: JSONBody[PartnerAccountIn]
    ) -> PartnerAccountOut:
        return await accounts.create_account(actor, partner_id, data)

    @get(
        "/partner-units/{partner_id:int}/accounts",
        operation_id="listPartnerAccounts",
        summary="A partner unit's accounts",
        responses=problems(403, 404),
    )
    async def list_accounts(self, actor: Actor, partner_id: IdPath) -> list[PartnerAccountOut]:
        return await accounts.list_accounts(actor, partner_id)

    @post(
        "/partner-accounts/{account_id:int}/disable",
        operation_id="disablePartnerAccount",
        summary="Disable a partner contact's account",
        description="The contact can no longer sign in (the same 401 as a wrong password) and "
        "their tokens stop working at once; enabling the account later does not revive them. "
        "Disabling a disabled account changes nothing.",
        status_code=200,
        responses=problems(403, 404),
    )
    async def disable_account(self, actor: Actor, account_id: IdPath) -> PartnerAccountOut:
        return await accounts.set_account_status(actor, account_id, enabled=False)

    @post(
        "/partner-accounts/{account_id:int}/enable",
        operation_id="enablePartnerAccount",
        summary="Enable a disabled partner contact's account again",
        description="The contact may sign in again; tokens from before it was disabled stay "
        "ended. Enabling an active account changes nothing.",
        status_code=200,
        responses=problems(403, 404),
    )
    async def enable_account(self, actor: Actor, account_id: IdPath) -> PartnerAccountOut:
        return await accounts.set_account_status(actor, account_id, enabled=True)

    @post(
        "/auth/partner-login",
        operation_id="partnerLogin",
        summary="Sign in as a partner unit's contact",
        description="Like member sign-in: wrong phone and wrong password get the same 401; "
        "repeated failures get 429 with Retry-After.",
        opt={EXCLUDE_FROM_AUTH: True},
        security=[{}],
        status_code=200,
        responses=problems(400, 429),
    )
    async def login(
        self,
        data: JSONBody[LoginIn],
        client_address: ClientAddress,
        limiter: Limiter,
        tokens: Tokens,
        settings: AppSettings,
    ) -> PartnerLoginOut:
        return await accounts.login(data, client_address, limiter, tokens, settings.timezone)
