"""Routes of a member's own account: signing in, the "me" page, changing one's password."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from gridpoints.auth.dependencies import Actor, Limiter, Tokens
from gridpoints.auth.schemas import LoginIn
from gridpoints.members import account
from gridpoints.members.schemas import LoginOut, MeOut, PasswordChange
from gridpoints.web.dependencies import AppSettings, ClientAddress
from gridpoints.web.openapi import problems
from gridpoints.web.route_options import ALLOWED_BEFORE_PASSWORD_CHANGE, EXCLUDE_FROM_AUTH


class MemberAccountController(Controller):
    path = "/"
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
        settings: AppSettings,
    ) -> LoginOut:
        return await account.login(data, client_address, limiter, tokens, settings.timezone)

    @get(
        "/me",
        operation_id="getMe",
        summary="The signed-in member with roles",
        opt={ALLOWED_BEFORE_PASSWORD_CHANGE: True},
        responses=problems(),
    )
    async def get_me(self, actor: Actor, settings: AppSettings) -> MeOut:
        return await account.me(actor, settings.timezone)

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
        await account.change_own_password(actor, data.current_password, data.new_password)
