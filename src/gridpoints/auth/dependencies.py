"""What a controller may ask for by name of sign-in: the signed-in `actor`, the sign-in
limiter, the scan receipts' limiter and the token issuer (the last three set up once in
`create_app`)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from gridpoints.auth.principal import Principal
from gridpoints.auth.ratelimit import AddressLimiter, LoginLimiter
from gridpoints.auth.tokens import TokenIssuer


def provide_actor(request: Request[Principal, Any, Any]) -> Principal:
    # A route that loads its own principal gets a bare `Caller`; it must not take `actor`.
    if not isinstance(request.user, Principal):
        raise TypeError(f"{request.url.path} loads its own principal and has no actor")
    return request.user


def provide_limiter(state: State) -> LoginLimiter:
    return state.login_limiter


def provide_receipt_limiter(state: State) -> AddressLimiter:
    return state.receipt_limiter


def provide_tokens(state: State) -> TokenIssuer:
    return state.tokens


DEPENDENCIES = {
    "actor": Provide(provide_actor, sync_to_thread=False),
    "limiter": Provide(provide_limiter, sync_to_thread=False),
    "receipt_limiter": Provide(provide_receipt_limiter, sync_to_thread=False),
    "tokens": Provide(provide_tokens, sync_to_thread=False),
}

# Annotations for handler parameters that receive the values above by name.
Actor = NamedDependency[Principal]
Limiter = NamedDependency[LoginLimiter]
ReceiptLimiter = NamedDependency[AddressLimiter]
Tokens = NamedDependency[TokenIssuer]
