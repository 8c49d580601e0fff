"""Shapes shared by every API area: pages of results and constrained scalar types."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec

T = TypeVar("T")

Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1, description="An object id")]
Limit = Annotated[int, msgspec.Meta(ge=1, le=500)]
Offset = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
