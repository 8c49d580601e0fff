"""The few domain errors. Services raise these; `web.problems` maps them once to
`application/problem+json`. Messages (`detail`) are written for the person at the screen."""

from __future__ import annotations

import msgspec


class FieldProblem(msgspec.Struct, frozen=True):
    """One bad input field: its name, a JSON pointer to it, and what is wrong."""

    field: str
    detail: str
    pointer: str = ""

    def __post_init__(self) -> None:
        if not self.pointer:
            msgspec.structs.force_setattr(self, "pointer", "#/" + self.field.replace(".", "/"))


class DomainError(Exception):
    status: int = 400
    title: str = "Bad Request"
    code: str = "invalid"

    def __init__(
        self, detail: str, *, code: str | None = None, problems: list[FieldProblem] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = list(problems or [])
        self.headers: dict[str, str] = {}
        if code:
            self.code = code


class Unauthenticated(DomainError):
    """The token was good but its member can no longer sign in."""

    status = 401
    title = "Unauthorized"
    code = "unauthorized"

    def __init__(self) -> None:
        super().__init__("请先登录")
        self.headers = {"WWW-Authenticate": "Bearer"}


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    status = 404
    title = "Not Found"
    code = "not_found"

    def __init__(self, what: str = "对象") -> None:
        super().__init__(f"{what}不存在")


class Forbidden(DomainError):
    """The caller may see the object but not do this to it."""

    status = 403
    title = "Forbidden"
    code = "forbidden"


class Conflict(DomainError):
    """The request clashes with the object's current state."""

    status = 409
    title = "Conflict"
    code = "conflict"


class Invalid(DomainError):
    """Well-formed input that the domain refuses; names each bad field."""

    status = 400
    title = "Bad Request"
    code = "invalid"

    def __init__(self, *problems: FieldProblem, detail: str | None = None) -> None:
        super().__init__(
            detail or "；".join(f"{p.field}: {p.detail}" for p in problems), problems=list(problems)
        )

    @classmethod
    def field(cls, name: str, detail: str) -> Invalid:
        return cls(FieldProblem(field=name, detail=detail))
