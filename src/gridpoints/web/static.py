"""The phone and PC pages: plain files from `frontend_static/`, served at `/`."""

from __future__ import annotations

from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from gridpoints.auth.tokens import EXCLUDE_FROM_AUTH
from gridpoints.paths import resource_dir


def static_pages() -> ControllerRouterHandler:
    return create_static_files_router(
        path="/",
        directories=[resource_dir("frontend_static")],
        html_mode=True,
        include_in_schema=False,
        opt={EXCLUDE_FROM_AUTH: True},
        name="pages",
    )
