"""Values every controller may ask for by name: the signed-in `actor`, the `settings`, the
job queue, the sign-in limiter, the token issuer (all set up once in `create_app`) and the
client's address."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from gridpoints.auth.principal import Principal
from gridpoints.auth.ratelimit import LoginLimiter
from gridpoints.auth.tokens import TokenIssuer
from gridpoints.jobs.dispatch import JobQueue
from gridpoints.settings import Settings


def provide_actor(request: Request[Principal, Any, Any]) -> Principal:
    # A route that loads its own principal gets a bare `Caller`; it must not take `actor`.
    if not isinstance(request.user, Principal):
        raise TypeError(f"{request.url.path} loads its own principal and has no actor")
    return request.user


def provide_settings(state: State) -> Settings:
    return state.settings


def provide_job_queue(state: State) -> JobQueue:
    return state.job_queue


def provide_limiter(state: State) -> LoginLimiter:
    return state.login_limiter


def provide_tokens(state: State) -> TokenIssuer:
    return state.tokens


def provide_client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


DEPENDENCIES = {
    "actor": Provide(provide_actor, sync_to_thread=False),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "job_queue": Provide(provide_job_queue, sync_to_thread=False),
    "limiter": Provide(provide_limiter, sync_to_thread=False),
    "tokens": Provide(provide_tokens, sync_to_thread=False),
    "client_address": Provide(provide_client_address, sync_to_thread=False),
}

# Annotations for handler parameters that receive the values above by name.
Actor = NamedDependency[Principal]
AppSettings = NamedDependency[Settings]
Queue = NamedDependency[JobQueue]
Limiter = NamedDependency[LoginLimiter]
Tokens = NamedDependency[TokenIssuer]
ClientAddress = NamedDependency[str]
