"""Signing out (signing in is each kind of account's own: `members.account`, `partners`)."""

from __future__ import annotations

from litestar import Controller, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from gridpoints.auth import services
from gridpoints.auth.dependencies import Actor
from gridpoints.web.openapi import problems
from gridpoints.web.route_options import (
    ALLOWED_BEFORE_PASSWORD_CHANGE,
    FOR_PARTNER_CONTACTS,
)


class AuthController(Controller):
    path = "/"
    tags = ["auth"]

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
