"""The phone and PC pages: plain files from `frontend_static/`, served at `/`, and the service
worker (`/sw.js`) built from them at start-up (`web.assets`).

Every static answer carries validators (a weak ETag, Last-Modified) and `Cache-Control:
no-cache`: the browser keeps the file and asks whether it changed, and an unchanged file is
answered `304 Not Modified` with no body. The service worker's versioned cache makes repeat
visits need no request at all for the pages it keeps.
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

from litestar import Response, get
from litestar.datastructures import CacheControlHeader, MutableScopeHeaders
from litestar.file_system import BaseLocalFileSystem
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, ControllerRouterHandler, Message, Receive, Scope, Send

from gridpoints.resources import resource_dir
from gridpoints.web import assets
from gridpoints.web.route_options import EXCLUDE_FROM_AUTH

REVALIDATE = CacheControlHeader(no_cache=True)


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


def _weak(tag: bytes) -> bytes:
    # The body may go out compressed (gzip, br): byte-for-byte equality is not promised.
    return tag if tag.startswith(b"W/") else b"W/" + tag


def _matches(if_none_match: bytes, tag: bytes) -> bool:
    """RFC 9110 13.1.2: weak comparison against a list of tags, or `*`."""
    wanted = if_none_match.strip()
    if wanted == b"*":
        return True
    bare = tag.removeprefix(b"W/")
    return any(part.strip().removeprefix(b"W/") == bare for part in wanted.split(b","))


def revalidation(app: ASGIApp) -> ASGIApp:
    """Middleware: weak ETags on the answers of `app`, and `304 Not Modified` (no body) for a
    GET or HEAD whose `If-None-Match` names the current one."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await app(scope, receive, send)
            return
        if_none_match = next(
            (value for name, value in scope["headers"] if name == b"if-none-match"), None
        )
        await app(scope, receive, partial(_revalidated, send, if_none_match, {}))

    return middleware


async def _revalidated(
    send: Send, if_none_match: bytes | None, state: dict[str, bool], message: Message
) -> None:
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders(message)
        tag = headers.get("etag")
        if tag is not None:
            weak = _weak(tag.encode("latin-1"))
            headers["etag"] = weak.decode("latin-1")
            if (
                message["status"] == 200
                and if_none_match is not None
                and _matches(if_none_match, weak)
            ):
                state["not_modified"] = True
                del headers["content-length"]
                del headers["content-type"]
                message["status"] = 304
        await send(message)
        if state.get("not_modified"):
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if state.get("not_modified"):
        return  # the body stays home
    await send(message)


def static_pages() -> list[ControllerRouterHandler]:
    root = resource_dir("frontend_static")
    worker = assets.service_worker(root)
    worker_tag = '"' + hashlib.sha256(worker).hexdigest()[:32] + '"'

    @get(
        "/sw.js",
        include_in_schema=False,
        opt={EXCLUDE_FROM_AUTH: True},
        cache_control=REVALIDATE,
        middleware=[revalidation],
        name="service-worker",
        sync_to_thread=False,
    )
    def service_worker() -> Response[bytes]:
        return Response(
            worker,
            media_type="text/javascript; charset=utf-8",
            headers={"ETag": worker_tag, "Service-Worker-Allowed": "/"},
        )

    return [
        service_worker,
        create_static_files_router(
            path="/",
            directories=[root],
            file_system=PageFiles(),
            html_mode=True,
            include_in_schema=False,
            opt={EXCLUDE_FROM_AUTH: True},
            cache_control=REVALIDATE,
            middleware=[revalidation],
            name="pages",
        ),
    ]
