"""The OpenAPI document (`/schema/openapi.json`) and the error responses each route declares."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin

from gridpoints.web.problems import PROBLEM_MEDIA_TYPE, ProblemDetails

_DESCRIPTIONS = {
    400: "Bad input; `errors` names each bad field",
    401: "Not signed in, or the token is invalid or expired",
    403: "Signed in, but not allowed to do this",
    404: "No such object, or not within the caller's grids",
    409: "Clashes with the object's current state",
    413: "Upload too large",
    429: "Too many attempts; see Retry-After",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """Declare the problem+json responses a route may give (401 is always possible)."""
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_MEDIA_TYPE,
        )
        for status in sorted({401, *statuses})
    }


def replayed(data: type, description: str = "重放：已存在的同一记录") -> dict[int, ResponseSpec]:
    """A 200 beside a route's 201: the same client_id again answers with the stored record."""
    return {200: ResponseSpec(data_container=data, description=description)}


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Gridpoints API",
        version="1",
        description=(
            "Volunteer points and evaluation for community Party-building grids. "
            "Sign in at `POST /api/v1/auth/login` and send the token as `Authorization: Bearer`."
        ),
        path="/schema",
        render_plugins=[ScalarRenderPlugin()],
    )
