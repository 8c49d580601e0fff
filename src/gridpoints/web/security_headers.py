"""Security headers on every response: the Content-Security-Policy the pages run under, no MIME
sniffing, no framing, a Referrer-Policy and a Permissions-Policy.

The policies are built with `secure` (PyPI), which writes and checks the header syntax. They
are put on responses by a Litestar `before_send` hook rather than by middleware: Litestar runs
middleware only for a route it has found, so 404 and 405 answers from the router would go out
bare; the hook sees every response the application sends.

The pages are plain files with ES modules and one stylesheet (`frontend_static/`), so their
policy allows the site's own scripts and styles and nothing inline. Pages draw the check-in QR
code inline as SVG, use `data:` for the empty favicon and `blob:` links for downloads.

The API docs page (`/schema`, Litestar's Scalar renderer) is the one exception: it loads its
renderer from cdn.jsdelivr.net and sets inline styles, so on that page alone scripts, styles,
fonts and images may also come from that origin (styles also inline). Scripts are still never
inline, and every other response, `/schema/openapi.json` included, gets the pages' policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from litestar import Litestar
from litestar.types import Message, Scope
from secure import (
    ContentSecurityPolicy,
    CrossOriginOpenerPolicy,
    CrossOriginResourcePolicy,
    PermissionsPolicy,
    ReferrerPolicy,
    Secure,
    XContentTypeOptions,
    XFrameOptions,
)

SELF = "'self'"
NONE = "'none'"
DOCS_CDN = "https://cdn.jsdelivr.net"


def _page_policy() -> ContentSecurityPolicy:
    return (
        ContentSecurityPolicy()
        .default_src(SELF)
        .script_src(SELF)
        .style_src(SELF)
        .img_src(SELF, "data:", "blob:")
        .font_src(SELF)
        .connect_src(SELF)
        .media_src(SELF)
        .worker_src(SELF)
        .manifest_src(SELF)
        .object_src(NONE)
        .frame_src(NONE)
        .base_uri(SELF)
        .form_action(SELF)
        .frame_ancestors(NONE)
    )


def _docs_policy() -> ContentSecurityPolicy:
    return (
        ContentSecurityPolicy()
        .default_src(SELF)
        .script_src(SELF, DOCS_CDN)
        .style_src(SELF, "'unsafe-inline'", DOCS_CDN)
        .img_src(SELF, "data:", "blob:", DOCS_CDN)
        .font_src(SELF, "data:", DOCS_CDN)
        .connect_src(SELF)
        .object_src(NONE)
        .frame_src(NONE)
        .base_uri(SELF)
        .form_action(SELF)
        .frame_ancestors(NONE)
    )


def _permissions() -> PermissionsPolicy:
    # Check-in reads the position and service records may take a photo: the site only.
    # Only features Chromium knows: an unknown one is an error in every page's console.
    return (
        PermissionsPolicy()
        .geolocation("self")
        .camera("self")
        .microphone()
        .payment()
        .usb()
        .accelerometer()
        .gyroscope()
        .magnetometer()
    )


def _headers(csp: ContentSecurityPolicy) -> Secure:
    return Secure(
        csp=csp,
        xcto=XContentTypeOptions().nosniff(),
        xfo=XFrameOptions().deny(),
        referrer=ReferrerPolicy().strict_origin_when_cross_origin(),
        permissions=_permissions(),
        coop=CrossOriginOpenerPolicy().same_origin(),
        corp=CrossOriginResourcePolicy().same_origin(),
    )


def _encoded(secure: Secure) -> tuple[tuple[bytes, bytes], ...]:
    return tuple(
        (name.lower().encode("ascii"), value.encode("latin-1"))
        for name, value in secure.headers.items()
    )


PAGE_HEADERS = _encoded(_headers(_page_policy()))
DOCS_HEADERS = _encoded(_headers(_docs_policy()))
_NAMES = frozenset(name for name, _ in PAGE_HEADERS)


@cache
def _docs_pages(app: Litestar) -> frozenset[str]:
    """The paths of the HTML docs renderers (`/schema`, `/schema/scalar`), not the documents."""
    config = app.openapi_config
    if config is None:
        return frozenset()
    base = config.path.rstrip("/")
    pages = {base, base + "/"}
    for plugin in config.render_plugins:
        pages.update(base + path for path in plugin.paths)
    return frozenset(pages)


def _replace(
    headers: Iterable[tuple[bytes, bytes]], ours: tuple[tuple[bytes, bytes], ...]
) -> list[tuple[bytes, bytes]]:
    # A route's own value for one of these headers is replaced, never sent twice.
    return [pair for pair in headers if pair[0].lower() not in _NAMES] + list(ours)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar `before_send` hook: put the headers on the start of every HTTP response."""
    if message["type"] != "http.response.start":
        return
    app = scope.get("litestar_app")
    docs = app is not None and scope["path"] in _docs_pages(app)
    message["headers"] = _replace(
        message.get("headers") or (), DOCS_HEADERS if docs else PAGE_HEADERS
    )
