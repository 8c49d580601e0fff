"""Every error leaves as `application/problem+json` (RFC 9457): `status`, `title`, `detail`,
a machine `code`, and for bad input `errors`, one entry naming each bad field."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from gridpoints.errors import DomainError, FieldProblem
from gridpoints.schemas import PATTERN_MEANINGS

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
NUL_DETAIL = "不能含空字符（NUL）"
TOO_DEEP_DETAIL = "请求内容嵌套层次过深"

_STATUS_CODES = {
    400: ("Bad Request", "invalid", "请求有误"),
    401: ("Unauthorized", "unauthorized", "请先登录"),
    403: ("Forbidden", "forbidden", "没有权限"),
    404: ("Not Found", "not_found", "对象不存在"),
    405: ("Method Not Allowed", "method_not_allowed", "不支持此操作"),
    409: ("Conflict", "conflict", "与当前状态冲突"),
    413: ("Content Too Large", "too_large", "上传内容过大"),
    415: ("Unsupported Media Type", "unsupported_media_type", "不支持的内容类型"),
    429: ("Too Many Requests", "rate_limited", "尝试次数过多，请稍后再试"),
    500: ("Internal Server Error", "internal", "服务器内部错误，请稍后再试"),
    503: ("Service Unavailable", "unavailable", "服务暂不可用"),
}


class ProblemDetails(msgspec.Struct, omit_defaults=True):
    """An error response body."""

    status: int
    title: str
    detail: str
    code: str
    type: str = "about:blank"
    instance: str | None = None
    errors: list[FieldProblem] = msgspec.field(default_factory=list)


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str | None = None,
    *,
    code: str | None = None,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    title, default_code, default_detail = _STATUS_CODES.get(status, ("Error", "error", "请求失败"))
    body = ProblemDetails(
        status=status,
        title=title,
        detail=detail or default_detail,
        code=code or default_code,
        instance=request.url.path,
        errors=errors or [],
    )
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    return problem(
        request, exc.status, exc.detail, code=exc.code, errors=exc.problems, headers=exc.headers
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        errors = _validation_problems(exc.extra)
        missing = _MISSING_PARAMETER.search(str(exc.detail))
        if not errors and missing:
            errors = [FieldProblem(field=missing.group("name"), detail="缺少此参数")]
        detail = "；".join(f"{p.field}: {p.detail}" for p in errors) or "请求参数有误"
        return problem(request, 400, detail, code="invalid", errors=errors)
    if exc.status_code == 404 and (name := _nul_path_parameter(request)):
        nul = FieldProblem(field=name, detail=NUL_DETAIL, pointer=f"#/{name}")
        return problem(request, 400, f"{name}: {NUL_DETAIL}", errors=[nul])
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
        return problem(request, 401, headers=headers)
    if exc.status_code >= 500:
        log.error("server error on %s: %s", request.url.path, exc.detail, exc_info=exc)
        return problem(request, exc.status_code, headers=headers)
    if exc.status_code == 400:
        # Litestar's own 400s are about the request body (malformed JSON, bad multipart).
        problem_text = (
            "请求内容格式有误（应为 JSON）" if "JSON" in str(exc.detail) else "请求内容有误"
        )
        body_problem = FieldProblem(field="body", detail=problem_text, pointer="#")
        return problem(request, 400, problem_text, errors=[body_problem], headers=headers)
    known = exc.status_code in _STATUS_CODES
    detail = None if known else exc.detail
    return problem(request, exc.status_code, detail, headers=headers)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if _caused_by(exc, RecursionError):
        # A body nested past what the decoder follows (`[[[[...`): bad input, not a crash.
        nested = FieldProblem(field="body", detail=TOO_DEEP_DETAIL, pointer="#")
        return problem(request, 400, TOO_DEEP_DETAIL, errors=[nested])
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, HTTP_500_INTERNAL_SERVER_ERROR)


_MISSING_PARAMETER = re.compile(r"[Mm]issing required \w+ parameter '(?P<name>[^']+)'")
_MISSING = re.compile(r"(?:missing required|unknown) field `(?P<name>[^`]+)`")
_AT_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
# A Struct's own check (`__post_init__`) names the field it is about: "field `lng`: ...".
_NAMED = re.compile(r"^field `(?P<name>[^`]+)`: (?P<detail>.*)$", re.S)
_EXPECTED = re.compile(r"^Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`$")
_ENUM = re.compile(r"^Invalid enum value (?P<got>.+)$")
_KINDS = {
    "int": "整数",
    "float": "数字",
    "str": "文本",
    "bool": "true 或 false",
    "null": "null",
    "object": "对象",
    "array": "数组",
    "datetime": "带时区的时间",
    "date": "日期",
    "uuid": "UUID",
}


def _meaning(message: str) -> str:
    """msgspec's English for the commoner mistakes, said in Chinese (the rest as it is)."""
    if "with a timezone component" in message:
        return "时间须带时区（如 2026-11-30T09:00:00+08:00 或以 Z 结尾）"
    if "matching regex" in message:
        for pattern, meaning in PATTERN_MEANINGS.items():
            if repr(pattern) in message:
                return meaning
        return "格式不对"
    enum = _ENUM.match(message)
    if enum:
        return f"{enum['got']} 不是可选的值"
    expected = _EXPECTED.match(message)
    if expected:
        want = " | ".join(_KINDS.get(k.strip(), k.strip()) for k in expected["want"].split("|"))
        got = _KINDS.get(expected["got"], expected["got"])
        return f"应为{want}，收到的是{got}"
    return message


def msgspec_problem(message: str, key: str = "") -> FieldProblem:
    """One field's problem from a msgspec validation message, which ends with the JSON path
    of the bad value (`... - at `$.items[1].at``); `key` names it when there is no path."""
    field = key
    match = _AT_PATH.search(message)
    parent = ""
    if match:
        message = message[: match.start()]
        path = match.group("path").lstrip(".")
        parent = re.sub(r"\[(\d+)\]", r".\1", path)
        field = parent or field or "body"
    named = _NAMED.match(message) or _MISSING.search(message)
    if named:
        # msgspec names a missing field in the message and points (if at all) at its parent.
        field = (parent + "." if parent else "") + named.group("name")
        if _NAMED.match(message):
            message = named.group("detail")
    return FieldProblem(field=field or "body", detail=_meaning(message))


def _validation_problems(extra: Any) -> list[FieldProblem]:
    """Litestar reports each bad parameter as {message, key, source}; msgspec adds the JSON
    path of a bad body field to its message (`... - at `$.phone``)."""
    problems: list[FieldProblem] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        problems.append(msgspec_problem(message, str(item.get("key") or "")))
    return problems


def _nul_path_parameter(request: Request[Any, Any, Any]) -> str | None:
    """The path parameter of an API route whose value holds a NUL byte (the router finds no
    route for `/api/v1/members/5%00`), or None."""
    segments = request.url.path.split("/")
    if not any("\x00" in s for s in segments):
        return None
    for route in request.app.routes:
        template = route.path.split("/")
        if len(template) != len(segments):
            continue
        named: list[str] = []
        for part, value in zip(template, segments, strict=True):
            if part.startswith("{") and part.endswith("}"):
                name, _, kind = part[1:-1].partition(":")
                if kind == "path":
                    break
                if "\x00" in value:
                    named.append(name)
            elif part != value:
                break
        else:
            if named:
                return named[0]
    return None


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
