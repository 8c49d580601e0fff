"""Sign-in and the signed-in member's own account."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from gridpoints.auth import services
from gridpoints.auth.guards import FOR_PARTNER_CONTACTS
from gridpoints.auth.schemas import LoginIn, LoginOut, MeOut, PasswordChange
from gridpoints.auth.tokens import ALLOWED_BEFORE_PASSWORD_CHANGE, EXCLUDE_FROM_AUTH
from gridpoints.web.dependencies import Actor, ClientAddress, Limiter, Tokens
from gridpoints.web.openapi import problems


class AuthController(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @post(
        "/auth/login",
        operation_id="login",
        summary="Sign in with phone and password",
        description="Wrong phone and wrong password get the same 401. Repeated failures per "
        "phone or per client address get 429 with Retry-After.",
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
    ) -> LoginOut:
        return await services.login(data, client_address, limiter, tokens, state.settings.timezone)

    @post(
        "/auth/logout",
        operation_id="logout",
        summary="End this sign-in (the token this request carries)",
        status_code=HTTP_204_NO_CONTENT,
        opt={ALLOWED_BEFORE_PASSWORD_CHANGE: True, FOR_PARTNER_CONTACTS: True},
        responses=problems(),
    )
    async def logout(self, actor: Actor) -> None:
        await services.logout(actor)

    @post(
        "/auth/logout-all",
        operation_id="logoutAll",
        summary="End every sign-in of the caller, on every device",
        status_code=HTTP_204_NO_CONTENT,
        opt={ALLOWED_BEFORE_PASSWORD_CHANGE: True, FOR_PARTNER_CONTACTS: True},
        responses=problems(),
    )
    async def logout_all(self, actor: Actor) -> None:
        await services.logout_all(actor)

    @get(
        "/me",
        operation_id="getMe",
        summary="The signed-in member with roles",
        opt={ALLOWED_BEFORE_PASSWORD_CHANGE: True},
        responses=problems(),
    )
    async def get_me(self, actor: Actor, state: State) -> MeOut:
        return await services.me(actor, state.settings.timezone)

    @post(
        "/me/password",
        operation_id="changeMyPassword",
        summary="Change one's own password (the current one is needed)",
        description="Ends every other sign-in of the member and clears a temporary password.",
        status_code=HTTP_204_NO_CONTENT,
        opt={ALLOWED_BEFORE_PASSWORD_CHANGE: True},
        responses=problems(400),
    )
    async def change_password(self, actor: Actor, data: JSONBody[PasswordChange]) -> None:
        await services.change_own_password(actor, data.current_password, data.new_password)
