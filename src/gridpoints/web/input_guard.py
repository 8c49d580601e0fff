"""One check of what a request carries, before any route reads it, for every route.

Run as Litestar middleware (after routing, so the route's body type is known):
- a NUL byte in a path parameter, a query parameter (name or value), a JSON string (key or
  value) or a form field (value or file name) is refused, naming the field: PostgreSQL cannot
  store one, and no person types one;
- JSON nested deeper than `MAX_JSON_DEPTH` is refused before it is converted;
- a JSON body is decoded strictly against the route's body type: `"radius_m": "100"` or
  `"capacity": true` is refused (Litestar itself converts leniently);
- every date and time in a body must fall in the years 2000–2100, and every time carry its
  UTC offset (the shared types in `gridpoints.schemas` say so too).
Each refusal is a 400 problem naming the field (`errors.Invalid`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from gridpoints.errors import FieldProblem, Invalid
from gridpoints.schemas import FIRST_YEAR, LAST_YEAR
from gridpoints.web.problems import NUL_DETAIL, TOO_DEEP_DETAIL, msgspec_problem

MAX_JSON_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class InputGuard(ASGIMiddleware):
    """Refuses odd input at the edge (see the module docstring). Add it to the app once:
    `Litestar(..., middleware=[InputGuard()])`."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        check_parameters(scope)
        method = scope.get("method", "GET")
        if method in _BODY_METHODS:
            request: Request[Any, Any, Any] = Request(scope, receive)
            media_type = request.content_type[0]
            if media_type == "application/json" or media_type.endswith("+json"):
                body = await request.body()
                if body.strip():
                    check_json(body, _body_type(scope))
            elif media_type in _FORM_TYPES:
                check_form(await request.form())
        await next_app(scope, receive, send)


def check_parameters(scope: Scope) -> None:
    """NUL in a path parameter (one the router matched: text and `path` parameters) or in
    a query parameter's name or value."""
    for name, value in (scope.get("path_params") or {}).items():
        if isinstance(value, str) and "\x00" in value:
            if _is_file_path(scope, name):
                raise NotFoundException()  # a page or file name: no such file
            raise Invalid.field(name, NUL_DETAIL)
    query = scope.get("query_string") or b""
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            # Decoded as latin-1 then re-read: a NUL is a NUL in any encoding.
            if "\x00" in name or "\x00" in value:
                raise Invalid.field(_text(name), NUL_DETAIL)


def _is_file_path(scope: Scope, name: str) -> bool:
    handler = scope.get("route_handler")
    return any(f"{{{name}:path}}" in path for path in getattr(handler, "paths", ()))


def check_json(body: bytes, body_type: Any) -> None:
    try:
        loose = msgspec.json.decode(body)
    except RecursionError:
        raise Invalid(FieldProblem("body", TOO_DEEP_DETAIL, "#"), detail=TOO_DEEP_DETAIL) from None
    except msgspec.DecodeError:
        return  # not JSON at all: the route's own decoding says so (a 400 naming the body)
    _check_loose(loose)
    if body_type is None:
        return
    try:
        typed = msgspec.json.decode(body, type=body_type, strict=True)
    except msgspec.ValidationError as exc:
        raise Invalid(msgspec_problem(str(exc))) from None
    _check_times(typed)


def check_form(form: Any) -> None:
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if "\x00" in (value.filename or ""):
                raise Invalid.field(name, "文件名" + NUL_DETAIL)
        elif isinstance(value, str) and "\x00" in value:
            raise Invalid.field(name, NUL_DETAIL)
        if "\x00" in name:
            raise Invalid.field(_text(name), NUL_DETAIL)


def _text(name: str) -> str:
    try:
        return name.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return name


def _body_type(scope: Scope) -> Any:
    """The type of the route's `data` parameter, or None when it takes no JSON body."""
    handler = scope.get("route_handler")
    signature = getattr(handler, "parsed_fn_signature", None)
    if signature is None or "data" not in signature.parameters:
        return None
    annotation = signature.parameters["data"].annotation
    try:
        msgspec.json.Decoder(annotation)
    except (TypeError, ValueError):
        return None  # not a type msgspec decodes (an upload): the route checks it itself
    return annotation


def _check_loose(value: Any) -> None:
    """NUL in any string or key, and nesting, walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise Invalid(FieldProblem("body", TOO_DEEP_DETAIL, "#"), detail=TOO_DEEP_DETAIL)
        if isinstance(item, str):
            if "\x00" in item:
                raise Invalid.field(path or "body", NUL_DETAIL)
        elif isinstance(item, dict):
            for key, inner in item.items():
                inner_path = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    raise Invalid.field(inner_path, "字段名" + NUL_DETAIL)
                stack.append((inner, inner_path, depth + 1))
        elif isinstance(item, list):
            for index, inner in enumerate(item):
                stack.append((inner, f"{path}.{index}" if path else str(index), depth + 1))


def _check_times(value: Any, path: str = "") -> None:
    """Every date and time of a decoded body in 2000–2100, every time with its offset."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise Invalid.field(path or "body", "时间须带时区（如 2026-11-30T09:00:00+08:00）")
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise Invalid.field(path or "body", f"须在 {FIRST_YEAR}–{LAST_YEAR} 年之间")
    elif isinstance(value, date):
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise Invalid.field(path or "body", f"须在 {FIRST_YEAR}–{LAST_YEAR} 年之间")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            _check_times(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            _check_times(inner, f"{path}.{index}" if path else str(index))
    elif isinstance(value, dict):
        for key, inner in value.items():
            _check_times(inner, f"{path}.{key}" if path else str(key))
