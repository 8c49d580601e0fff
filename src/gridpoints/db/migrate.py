"""Bring a database up to date with Piccolo's migration runner (migrations/ folder)."""

from __future__ import annotations

from piccolo.engine.base import Engine

from gridpoints.db.engine import use_engine


async def migrate(engine: Engine) -> None:
    """Run every migration not yet recorded in the database; a second run changes nothing."""
    use_engine(engine)
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="gridpoints")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")
