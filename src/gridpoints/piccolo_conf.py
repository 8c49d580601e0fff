"""Piccolo's configuration module (`PICCOLO_CONF=gridpoints.piccolo_conf`, set by the package).

Piccolo's migration runner reads `DB` and `APP_REGISTRY` from here. The platform's commands
set `DB` through `gridpoints.db.engine.use_engine`; Piccolo's own command line (used when
writing a new migration) gets an engine built from the settings on first access.
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(apps=["gridpoints.piccolo_app"])


def __getattr__(name: str) -> Any:
    if name != "DB":
        raise AttributeError(name)
    from gridpoints.db.engine import make_engine
    from gridpoints.settings import load_settings

    engine = make_engine(load_settings())
    globals()["DB"] = engine
    return engine
