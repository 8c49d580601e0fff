"""Typed path and query parameters, with their limits, for every controller."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

_MAX_ID = 2**31 - 1

IdPath = Annotated[int, PathParameter(ge=1, le=_MAX_ID)]
IdQuery = Annotated[int | None, QueryParameter(ge=1, le=_MAX_ID)]
LevelQuery = Annotated[int | None, QueryParameter(ge=0, le=50)]
TextQuery = Annotated[str | None, QueryParameter(max_length=100)]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000)]
PeriodQuery = Annotated[str, QueryParameter(min_length=6, max_length=6, description="如 2026Q3")]
