"""Route guards: the checks that do not depend on the object a route acts on.

Object checks (which unit, whose record) are `auth.access.check`; what a kind of caller may
reach at all is decided here, once for every route, before the handler runs.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from gridpoints.auth.principal import Principal
from gridpoints.errors import Forbidden
from gridpoints.web.route_options import FOR_PARTNER_CONTACTS


class PartnerContactRefused(Forbidden):
    code = "members_only"

    def __init__(self) -> None:
        super().__init__("共建单位账号只能下载本单位的记录")


async def partner_contacts_only_where_opened(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Refuse a partner contact's token on every route not marked `FOR_PARTNER_CONTACTS`.
    A coroutine: Litestar runs a plain function guard in a worker thread, which cost the
    check-in route a third of its throughput."""
    caller = connection.scope.get("user")
    if (
        isinstance(caller, Principal)
        and caller.partner_unit_id is not None
        and not handler.opt.get(FOR_PARTNER_CONTACTS)
    ):
        raise PartnerContactRefused()
