"""Routes of partner units' accounts and their sign-in."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import JSONBody

from gridpoints.auth.schemas import LoginIn
from gridpoints.auth.tokens import EXCLUDE_FROM_AUTH
from gridpoints.partners import services
from gridpoints.partners.schemas import PartnerAccountIn, PartnerAccountOut, PartnerLoginOut
from gridpoints.web.dependencies import Actor, ClientAddress, Limiter, Tokens
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdPath


class PartnerAccountController(Controller):
    path = "/api/v1"
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
        return await services.create_account(actor, partner_id, data)

    @get(
        "/partner-units/{partner_id:int}/accounts",
        operation_id="listPartnerAccounts",
        summary="A partner unit's accounts",
        responses=problems(403, 404),
    )
    async def list_accounts(self, actor: Actor, partner_id: IdPath) -> list[PartnerAccountOut]:
        return await services.list_accounts(actor, partner_id)

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
        return await services.set_account_status(actor, account_id, enabled=False)

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
        return await services.set_account_status(actor, account_id, enabled=True)

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
        state: State,
    ) -> PartnerLoginOut:
        return await services.login(data, client_address, limiter, tokens, state.settings.timezone)
