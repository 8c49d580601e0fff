"""Materialised paths of org units in the grid tree (`/1/7/42/`: the ids from the root down,
each followed by a slash). A unit lies below another when its path starts with the other's path."""

from __future__ import annotations

ROOT_SCOPE = "/"


def child_path(parent_path: str | None, unit_id: int) -> str:
    return f"{parent_path or ROOT_SCOPE}{unit_id}/"


def covers(scope_path: str, path: str) -> bool:
    """True when `path` is the unit at `scope_path` or lies below it."""
    return path.startswith(scope_path)


def subtree_bounds(path: str) -> tuple[str, str]:
    """The half-open range `[low, high)` of paths in the subtree at `path`.

    Paths hold digits and slashes only, compared byte by byte (collation "C" on PostgreSQL);
    `0` is the byte after `/`, so every path that starts with `/1/7/` sorts before `/1/70`.
    """
    return path, path[:-1] + "0"


def ancestor_ids(path: str) -> list[int]:
    """The ids on the path from the root down to the unit itself."""
    return [int(part) for part in path.strip("/").split("/") if part]


def minimal_scopes(paths: list[str]) -> list[str]:
    """Drop every path that another path in the list already covers; the rest in order."""
    kept: list[str] = []
    # Shorter first, so a covering path is kept before the paths it covers.
    for path in sorted(set(paths), key=lambda p: (len(p), p)):
        if not any(covers(scope, path) for scope in kept):
            kept.append(path)
    return sorted(kept)
