"""The phone and PC pages: plain files from `frontend_static/`, served at `/`."""

from __future__ import annotations

from typing import Any

from litestar.file_system import BaseLocalFileSystem
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from gridpoints.resources import resource_dir
from gridpoints.web.route_options import EXCLUDE_FROM_AUTH


class PageFiles(BaseLocalFileSystem):
    """The local files, where a name no file can have (a NUL byte: `/index.html%00.png`) is
    simply not found, instead of an error from the operating system."""

    async def info(self, path: Any, **kwargs: Any) -> Any:
        if "\x00" in str(path):
            raise FileNotFoundError(path)
        return await super().info(path, **kwargs)

    async def open(self, file: Any, mode: str, buffering: int = -1) -> Any:
        if "\x00" in str(file):
            raise FileNotFoundError(file)
        return await super().open(file, mode, buffering)


def static_pages() -> ControllerRouterHandler:
    return create_static_files_router(
        path="/",
        directories=[resource_dir("frontend_static")],
        file_system=PageFiles(),
        html_mode=True,
        include_in_schema=False,
        opt={EXCLUDE_FROM_AUTH: True},
        name="pages",
    )
