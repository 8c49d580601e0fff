"""Bearer tokens: HS256 JWTs with expiry and audience, checked by Litestar's JWT middleware.

The middleware accepts exactly one algorithm (so `alg: none` and any other algorithm fail),
requires our audience and issuer, verifies the signature and the expiry (`auth.jwt_check`),
then loads the principal from the database for every request, so a revoked role, a
deactivated member or an ended sign-in session (`auth.sessions`; the token's `jti` names its
session) takes effect at once. A member signed in with a temporary password may only
change it (routes marked `ALLOWED_BEFORE_PASSWORD_CHANGE`) until they do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from litestar.connection import ASGIConnection
from litestar.exceptions import ImproperlyConfiguredException, NotAuthorizedException
from litestar.security.jwt import JWTAuth, Token

from gridpoints.auth.jwt_check import BadToken, check_hs256
from gridpoints.auth.principal import Caller, Principal
from gridpoints.auth.services import load_principal
from gridpoints.auth.sessions import PasswordChangeRequired, session_of
from gridpoints.partners.accounts import load_partner_principal
from gridpoints.settings import Settings

ALGORITHM = "HS256"
ISSUER = "gridpoints"
EXCLUDE_FROM_AUTH = "exclude_from_auth"
# Route option: the token is checked as everywhere, but the route reads its member (and
# checks that they may still sign in) within its own first statement; `request.user` is a
# `Caller`. For the busiest route, where that saves a round trip to the database.
LOADS_OWN_PRINCIPAL = "loads_own_principal"
# Route option: open to a member who signed in with a temporary password and has not yet
# changed it (reading oneself, changing the password, signing out).
ALLOWED_BEFORE_PASSWORD_CHANGE = "allowed_before_password_change"
# A token's subject is a member's id, or `partner:<id>` for a partner unit's account.
PARTNER_SUBJECT = "partner"


class CheckedToken(Token):
    """Litestar's token, checked by `auth.jwt_check` (the one algorithm and claims we issue)."""

    @classmethod
    def decode(
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> Self:
        try:
            claims = check_hs256(
                encoded_token,
                secret.encode(),
                audiences=_names(audience),
                issuers=_names(issuer),
            )
            return cls(
                exp=datetime.fromtimestamp(claims.exp, UTC),
                sub=claims.sub,
                iat=datetime.fromtimestamp(claims.iat or 0, UTC),
                iss=claims.iss,
                aud=claims.aud,
                jti=claims.jti,
            )
        except (BadToken, ImproperlyConfiguredException) as exc:
            raise NotAuthorizedException("Invalid token") from exc


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


async def _retrieve_principal(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> Principal | Caller | None:
    kind, _, number = token.sub.rpartition(":")
    try:
        account_id = int(number)
    except ValueError:
        return None
    opt = connection.route_handler.opt
    loads_own = opt.get(LOADS_OWN_PRINCIPAL)
    session_id = session_of(token.jti)
    if session_id is None:
        return None  # a token that names no sign-in session
    if kind == PARTNER_SUBJECT and not loads_own:
        return await load_partner_principal(account_id, session_id)
    if kind:
        # Unknown kinds, and partner accounts on the scan routes (they do not check in).
        return None
    if loads_own:
        return Caller(account_id, session_id)
    principal = await load_principal(account_id, session_id)
    needs_change = principal is not None and principal.must_change_password
    if needs_change and not opt.get(ALLOWED_BEFORE_PASSWORD_CHANGE):
        raise PasswordChangeRequired()
    return principal


def build_jwt_auth(settings: Settings) -> JWTAuth[Principal | Caller, Token]:
    return JWTAuth[Principal | Caller, Token](
        retrieve_user_handler=_retrieve_principal,
        token_cls=CheckedToken,
        token_secret=settings.secret_key,
        algorithm=ALGORITHM,
        accepted_audiences=[settings.token_audience],
        accepted_issuers=[ISSUER],
        require_claims=["exp", "sub", "aud", "iss"],
        default_token_expiration=timedelta(seconds=settings.token_ttl_seconds),
        # Public: the OpenAPI document, and every handler marked with EXCLUDE_FROM_AUTH
        # (sign-in, health checks, the static pages).
        exclude=["^/schema(/|$)"],
        exclude_opt_key=EXCLUDE_FROM_AUTH,
    )


class TokenIssuer:
    """Makes the tokens that `build_jwt_auth`'s middleware accepts."""

    def __init__(self, jwt_auth: JWTAuth[Principal | Caller, Token], settings: Settings) -> None:
        self._jwt_auth = jwt_auth
        self.ttl_seconds = settings.token_ttl_seconds
        self.lifetime = timedelta(seconds=settings.token_ttl_seconds)
        self._audience = settings.token_audience

    def issue(self, member_id: int, session_id: int) -> str:
        """A member's token for the sign-in session `session_id` (its `jti`)."""
        return self._issue(str(member_id), str(session_id))

    def issue_partner(self, account_id: int, session_id: int) -> str:
        """A partner contact's token for the sign-in session `session_id`."""
        return self._issue(f"{PARTNER_SUBJECT}:{account_id}", str(session_id))

    def _issue(self, subject: str, jti: str) -> str:
        return self._jwt_auth.create_token(
            identifier=subject,
            token_expiration=timedelta(seconds=self.ttl_seconds),
            token_issuer=ISSUER,
            token_audience=self._audience,
            token_unique_jwt_id=jti,
        )
